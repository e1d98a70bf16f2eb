// Placeholder: replaced by the bell's implementation.
export function NotificationBell() {
  return null;
}
