import { describe, expect, it } from "vitest";
import { sanitize, sanitizeDocument } from "./SafeHtml";

describe("sanitize", () => {
  it("removes scripts, handlers, javascript: links and inline styles", () => {
    const out = sanitize(
      '<p style="color:red" onclick="x()">hi</p><script>x()</script><a href="javascript:x()">l</a><img src=x onerror="x()">',
    );
    expect(out).not.toMatch(/script|onclick|onerror|javascript:|style=/);
    expect(out).toContain("<p>hi</p>");
  });
});

describe("sanitizeDocument", () => {
  it("moves the document's headings under the page's and makes code blocks focusable", () => {
    const out = sanitizeDocument('<h1 id="a">A</h1><h2>B</h2><h6>C</h6><pre><code>x</code></pre>', 3);
    expect(out).toBe('<h3 id="a">A</h3><h4>B</h4><h6>C</h6><pre tabindex="0"><code>x</code></pre>');
  });
});
