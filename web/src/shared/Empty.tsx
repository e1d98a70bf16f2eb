import type { ReactNode } from "react";

/** An empty list, saying why it is empty and what fills it. */
export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}
