import DOMPurify from "dompurify";
import { memo, useMemo } from "react";

// The server sanitizes the documents it renders; this is the second line. Inline styles are
// dropped too: the CSP (default-src 'self') would refuse them anyway, and report each one.
const options = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select"],
  FORBID_ATTR: ["style"],
};

/** Sanitizes html. */
export function sanitize(html: string): string {
  return DOMPurify.sanitize(html, options);
}

/** HTML from the server, sanitized, in a div with the given class. */
export const SafeHtml = memo(function SafeHtml({ html, className }: { html: string; className?: string }) {
  const clean = useMemo(() => sanitize(html), [html]);
  return <div className={className} dangerouslySetInnerHTML={{ __html: clean }} />;
});
