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

/**
 * Sanitizes a rendered document for a page: its headings start at headingsFrom (a document's h1
 * under the page's h1 and h2), and code blocks that may scroll sideways can take the keyboard's
 * focus, so they scroll without a mouse.
 */
export function sanitizeDocument(html: string, headingsFrom: number): string {
  const fragment = DOMPurify.sanitize(html, { ...options, RETURN_DOM_FRAGMENT: true });
  for (const heading of fragment.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const level = Math.min(6, Number(heading.tagName[1]) + headingsFrom - 1);
    const renamed = heading.ownerDocument.createElement(`h${level}`);
    for (const attr of heading.attributes) renamed.setAttribute(attr.name, attr.value);
    renamed.append(...heading.childNodes);
    heading.replaceWith(renamed);
  }
  for (const pre of fragment.querySelectorAll("pre")) pre.setAttribute("tabindex", "0");
  const holder = document.createElement("div");
  holder.append(fragment);
  return holder.innerHTML;
}

interface Props {
  html: string;
  className?: string;
  /** A document in a page: the level its h1 becomes (see sanitizeDocument). */
  headingsFrom?: number;
}

/** HTML from the server, sanitized, in a div with the given class. */
export const SafeHtml = memo(function SafeHtml({ html, className, headingsFrom }: Props) {
  const clean = useMemo(
    () => (headingsFrom ? sanitizeDocument(html, headingsFrom) : sanitize(html)),
    [html, headingsFrom],
  );
  return <div className={className} dangerouslySetInnerHTML={{ __html: clean }} />;
});
