// Placeholder: replaced by the screen's implementation.
export function Component() {
  return <h1>Documents</h1>;
}
