import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { useApi } from "../../api/ApiProvider";
import { unwrap } from "../../api/client";
import { queryKeys } from "../../api/queryKeys";
import { useFollowNotifications } from "../../live/LiveProvider";

/** The unread count (live): one small request, refreshed whenever a notification arrives or is read. */
export function useUnreadCount(): number | undefined {
  const api = useApi();
  const query = useQuery({
    queryKey: queryKeys.notifications,
    queryFn: () =>
      unwrap(api.GET("/api/v1/notifications", { params: { query: { unreadOnly: true, pageSize: 1 } } })),
    select: (d) => d.unreadCount,
  });
  return query.data;
}

/** The header's bell: a link to the notifications, its name saying how many are unread. */
export function NotificationBell() {
  useFollowNotifications();
  const unread = useUnreadCount() ?? 0;
  const label = unread > 0 ? `Notifications, ${unread} unread` : "Notifications, none unread";
  return (
    <Link
      to="/notifications"
      className={unread > 0 ? "bell unread" : "bell"}
      aria-label={label}
      title={label}
    >
      <svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24">
        <path
          fill="currentColor"
          d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
        />
      </svg>
      {unread > 0 ? (
        <span className="bell-count" aria-hidden="true">
          {unread > 99 ? "99+" : unread}
        </span>
      ) : null}
    </Link>
  );
}
