import { useCallback, useState } from "react";

/**
 * Whether an element has come near the viewport yet (and stays true after): rows load their
 * details only once someone could see them. Without IntersectionObserver, everything counts as seen.
 */
export function useSeen<T extends Element>(): [(element: T | null) => (() => void) | undefined, boolean] {
  const [seen, setSeen] = useState(() => typeof IntersectionObserver === "undefined");
  const ref = useCallback(
    (element: T | null) => {
      if (!element || seen) return undefined;
      const observer = new IntersectionObserver(
        (entries) => {
          if (entries.some((e) => e.isIntersecting)) {
            setSeen(true);
            observer.disconnect();
          }
        },
        { rootMargin: "200px" },
      );
      observer.observe(element);
      return () => observer.disconnect();
    },
    [seen],
  );
  return [ref, seen];
}
