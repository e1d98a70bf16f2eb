package render

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// xssCorpus is Markdown an attacker might store in a document. Each entry
// must come out of Markdown without anything that runs script.
var xssCorpus = []string{
	// Raw HTML: goldmark must omit it, bluemonday must drop it.
	`<script>alert(1)</script>`,
	`<SCRIPT SRC=//evil.example/x.js></SCRIPT>`,
	`<scr<script>ipt>alert(1)</scr</script>ipt>`,
	`<img src=x onerror=alert(1)>`,
	`<img src="javascript:alert(1)">`,
	`<svg onload=alert(1)>`,
	`<svg><script>alert(1)</script></svg>`,
	`<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
	`<object data="javascript:alert(1)"></object>`,
	`<embed src="javascript:alert(1)">`,
	`<style>body{background:url(javascript:alert(1))}</style>`,
	`<form action="javascript:alert(1)"><button>go</button></form>`,
	`<button formaction="javascript:alert(1)">x</button>`,
	`<isindex action=javascript:alert(1) type=image>`,
	`<a href="javascript:alert(1)">x</a>`,
	`<a href=" javascript:alert(1)">x</a>`,
	`<a href="jav&#x09;ascript:alert(1)">x</a>`,
	`<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)">x</a>`,
	`<a href="data:text/html,<script>alert(1)</script>">x</a>`,
	`<details open ontoggle=alert(1)>x</details>`,
	`<body onload=alert(1)>`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<base href="javascript:alert(1)//">`,
	`<link rel=import href="//evil.example/x.html">`,
	`<video><source onerror=alert(1)></video>`,
	`<audio src=x onerror=alert(1)>`,
	`<marquee onstart=alert(1)>x</marquee>`,
	`<input onfocus=alert(1) autofocus>`,
	`<div style="background:url(javascript:alert(1))">x</div>`,
	`<p style="width:expression(alert(1))">x</p>`,
	`<h1 id="location">DOM clobbering</h1>`,
	`<img name="cookie" src="https://example.com/a.png">`,
	// Raw HTML split across lines, hidden in comments, or relying on how
	// parsers disagree (mXSS).
	"<img\nsrc=x\nonerror=alert(1)>",
	"text <a\nhref=\"javascript:alert(1)\"\nonclick=alert(1)>x</a> text",
	`<!--<script>alert(1)</script>-->`,
	`<!--><script>alert(1)</script>-->`,
	`<!-- --!><script>alert(1)</script> -->`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	`<textarea></textarea><img src=x onerror=alert(1)>`,
	`<xmp><img src=x onerror=alert(1)></xmp>`,
	`<template><script>alert(1)</script></template>`,
	// Markdown links and images with script URLs.
	`[x](javascript:alert(1))`,
	`[x](JaVaScRiPt:alert(1))`,
	`[x](java&#x09;script:alert(1))`,
	`[x](&#106;avascript:alert(1))`,
	`[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))`,
	`[x](javascript&colon;alert(1))`,
	`[x](javascript://%0Aalert(1))`,
	`[x](<javascript:alert(1)>)`,
	"[x](\njavascript:alert(1))",
	`[x]( javascript:alert(1) "title")`,
	"[x](java\x00script:alert(1))",
	`[x](vbscript:msgbox(1))`,
	`[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
	`[x](file:///etc/passwd)`,
	`![x](javascript:alert(1))`,
	`![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`,
	`![x](data:image/png;base64,iVBORw0KGgo=)`,
	`<javascript:alert(1)>`,
	`<JAVASCRIPT:alert(1)>`,
	`<vbscript:msgbox(1)>`,
	"[x][evil]\n\n[evil]: javascript:alert(1)",
	"[evil]\n\n[evil]: <javascript:alert(1)> \"t\"",
	"[Evil][]\n\n[evil]: JAVASCRIPT:alert(1)",
	"![x][img]\n\n[img]: javascript:alert(1)",
	// Breaking out of attributes goldmark does write.
	`[x](https://example.com "\" onmouseover=\"alert(1)")`,
	`![x" onerror="alert(1)](https://example.com/a.png)`,
	`[<img src=x onerror=alert(1)>](https://example.com)`,
	`<https://example.com/" onmouseover="alert(1)>`,
	`www.example.com/"onmouseover="alert(1)`,
	"```\"><script>alert(1)</script>\ncode\n```",
	"```js onclick=alert(1)\ncode\n```",
	"~~~ \" onmouseover=\"alert(1)\ncode\n~~~",
	// Task lists and heading attributes.
	"- [ ] <input type=checkbox onclick=alert(1)> task",
	"- [x] <img src=x onerror=alert(1)>",
	"- [ ]{onclick=alert(1)} task",
	"# Heading {#id onclick=alert(1)}",
	"# Heading {onclick=alert(1) style=color:red}",
	"Heading {#x onclick=alert(1)}\n===",
	// Payloads inside tables and other blocks.
	"| a |\n|---|\n| <script>alert(1)</script> |",
	"| <img src=x onerror=alert(1)> |\n|:-:|\n| [x](javascript:alert(1)) |",
	"> <script>alert(1)</script>",
	"* <svg/onload=alert(1)>",
	"    <script>alert(1)</script>",
}

// urlAttributes are the attributes a browser resolves as URLs.
var urlAttributes = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "background": true,
	"poster": true, "srcset": true, "cite": true, "data": true, "codebase": true,
	"ping": true, "dynsrc": true, "lowsrc": true,
}

// forbiddenElements can run script, load active content, or change how the
// rest of the page is parsed or submitted.
var forbiddenElements = map[string]bool{
	"script": true, "iframe": true, "frame": true, "frameset": true, "object": true,
	"embed": true, "applet": true, "style": true, "form": true, "base": true,
	"meta": true, "link": true, "svg": true, "math": true, "template": true,
	"noscript": true, "textarea": true, "select": true, "button": true, "xmp": true,
	"noembed": true, "plaintext": true, "title": true, "audio": true, "video": true,
	"source": true, "marquee": true, "details": true, "body": true,
}

// unsafeParts parses out the way a browser would parse it when inserted into a
// <div>, and describes everything in it that could run script or clobber the
// page's DOM. Empty means safe.
func unsafeParts(out []byte) []string {
	context := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(bytes.NewReader(out), context)
	if err != nil {
		return []string{"output does not parse: " + err.Error()}
	}
	var problems []string
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if forbiddenElements[n.Data] {
				problems = append(problems, fmt.Sprintf("<%s> element", n.Data))
			}
			for _, a := range n.Attr {
				name := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(name, "on"):
					problems = append(problems, fmt.Sprintf("event handler %s on <%s>", a.Key, n.Data))
				case name == "style":
					problems = append(problems, fmt.Sprintf("style attribute on <%s>", n.Data))
				case name == "srcdoc" || name == "name":
					problems = append(problems, fmt.Sprintf("%s attribute on <%s>", a.Key, n.Data))
				case name == "id" && !strings.HasPrefix(a.Val, headingIDPrefix):
					problems = append(problems, fmt.Sprintf("unprefixed id %q on <%s>", a.Val, n.Data))
				case urlAttributes[name]:
					if p := unsafeURL(a.Val); p != "" {
						problems = append(problems, fmt.Sprintf("%s=%q on <%s>: %s", a.Key, a.Val, n.Data, p))
					}
				}
			}
			if n.Data == "input" && attr(n, "type") != "checkbox" {
				problems = append(problems, fmt.Sprintf("<input type=%q>", attr(n, "type")))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	for _, n := range nodes {
		visit(n)
	}
	return problems
}

// unsafeURL describes what is wrong with a URL attribute value, or returns "".
// It looks at the value as a browser does: entities already decoded by the
// parser, surrounding space ignored, tabs and newlines inside the scheme
// ignored, scheme case-insensitive.
func unsafeURL(value string) string {
	v := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, value)
	for _, scheme := range []string{"javascript:", "vbscript:", "data:"} {
		if strings.HasPrefix(v, scheme) {
			return scheme + " URL"
		}
	}
	// Stricter than the above: anything with a scheme must be one the policy
	// allows.
	if i := strings.IndexAny(v, ":/?#"); i > 0 && v[i] == ':' {
		switch v[:i] {
		case "http", "https", "mailto":
		default:
			return v[:i] + ": URL"
		}
	}
	return ""
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// xssContexts put a payload where Markdown gives it a different parse.
var xssContexts = []string{
	"%s",
	"> %s",
	"- %s",
	"1. %s",
	"# %s",
	"*%s*",
	"[%s](https://example.com)",
	"| h |\n|---|\n| %s |",
	"para\n%s\n\npara",
}

func TestMarkdownNeutralisesXSSCorpus(t *testing.T) {
	if len(xssCorpus) < 40 {
		t.Fatalf("corpus has %d payloads, want at least 40", len(xssCorpus))
	}
	for _, payload := range xssCorpus {
		for _, context := range xssContexts {
			src := fmt.Sprintf(context, payload)
			out := Markdown([]byte(src))
			for _, p := range unsafeParts(out) {
				t.Errorf("Markdown(%q): %s\noutput: %s", src, p, out)
			}
		}
	}
}

// The sanitizer is a line of defence of its own: fed the corpus as HTML, as
// if goldmark had passed it through unchanged, it must still remove
// everything dangerous.
func TestPolicyAloneNeutralisesXSSCorpus(t *testing.T) {
	for _, payload := range xssCorpus {
		out := policy.SanitizeBytes([]byte(payload))
		for _, p := range unsafeParts(out) {
			t.Errorf("policy.SanitizeBytes(%q): %s\noutput: %s", payload, p, out)
		}
	}
}

// The checker itself must catch what it is meant to catch; otherwise the
// corpus tests could not fail.
func TestUnsafePartsDetectsDangerousHTML(t *testing.T) {
	for _, dangerous := range []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`<a href=" JaVa&#x09;Script:alert(1)">x</a>`,
		`<img src="data:image/png;base64,AAAA">`,
		`<a href="vbscript:x">x</a>`,
		`<a href="file:///etc/passwd">x</a>`,
		`<p style="color:red">x</p>`,
		`<svg></svg>`,
		`<math></math>`,
		`<h1 id="location">x</h1>`,
		`<img name="cookie">`,
		`<input type="text">`,
		`<iframe srcdoc="x"></iframe>`,
	} {
		if len(unsafeParts([]byte(dangerous))) == 0 {
			t.Errorf("unsafeParts(%q) found nothing", dangerous)
		}
	}
	for _, safe := range []string{
		`<p><a href="https://example.com/a?b=c" rel="nofollow">x</a> <a href="#user-content-x">y</a> <a href="mailto:a@example.com">z</a></p>`,
		`<h2 id="user-content-x">x</h2><input checked="" disabled="" type="checkbox"> <img src="/a.png" alt="a">`,
	} {
		if p := unsafeParts([]byte(safe)); len(p) != 0 {
			t.Errorf("unsafeParts(%q) = %q, want nothing", safe, p)
		}
	}
}

// parse returns the body of out parsed as a browser would.
func parse(t *testing.T, out []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, out)
	}
	var body *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "body" {
			body = n
		}
		for c := n.FirstChild; c != nil && body == nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	return body
}

// elements returns every element named name under n, in document order.
func elements(n *html.Node, name string) []*html.Node {
	var found []*html.Node
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == name {
			found = append(found, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(n)
	return found
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(n)
	return b.String()
}

func TestMarkdownRendersTableWithAlignment(t *testing.T) {
	out := Markdown([]byte("| Name | Count | Price |\n|:-----|:-----:|------:|\n| apple | 3 | 1.50 |\n| pear | 10 | 0.99 |\n"))
	body := parse(t, out)
	if len(elements(body, "table")) != 1 || len(elements(body, "thead")) != 1 || len(elements(body, "tbody")) != 1 {
		t.Fatalf("want one table with thead and tbody:\n%s", out)
	}
	wantAlign := []string{"left", "center", "right"}
	ths := elements(body, "th")
	if len(ths) != 3 {
		t.Fatalf("got %d header cells, want 3:\n%s", len(ths), out)
	}
	for i, want := range []string{"Name", "Count", "Price"} {
		if textOf(ths[i]) != want || attr(ths[i], "align") != wantAlign[i] {
			t.Errorf("header cell %d = %q align=%q, want %q align=%q", i, textOf(ths[i]), attr(ths[i], "align"), want, wantAlign[i])
		}
	}
	tds := elements(body, "td")
	if len(tds) != 6 {
		t.Fatalf("got %d body cells, want 6:\n%s", len(tds), out)
	}
	for i, want := range []string{"apple", "3", "1.50", "pear", "10", "0.99"} {
		if textOf(tds[i]) != want || attr(tds[i], "align") != wantAlign[i%3] {
			t.Errorf("cell %d = %q align=%q, want %q align=%q", i, textOf(tds[i]), attr(tds[i], "align"), want, wantAlign[i%3])
		}
	}
}

func TestMarkdownRendersFencedCodeEscaped(t *testing.T) {
	code := "if a < b && c > d {\n\tfmt.Println(\"<b>\")\n}\n"
	out := Markdown([]byte("```go\n" + code + "```\n"))
	if !bytes.Contains(out, []byte(`<pre><code class="language-go">if a &lt; b &amp;&amp; c &gt; d {`)) {
		t.Errorf("want an escaped go code block:\n%s", out)
	}
	codes := elements(parse(t, out), "code")
	if len(codes) != 1 || textOf(codes[0]) != code {
		t.Errorf("code block text is not the source:\n%s", out)
	}
	if len(elements(parse(t, out), "b")) != 0 {
		t.Errorf("markup inside the code block was rendered:\n%s", out)
	}
}

func TestMarkdownKeepsOnlyWellFormedLanguageClasses(t *testing.T) {
	for info, want := range map[string]string{
		"go":          "language-go",
		"c++":         "language-c++",
		"objective-c": "language-objective-c",
		"py {.x}":     "language-py",
		`"><b>`:       "",
		"c#":          "", // '#' is outside the allowed characters: no class rather than a wrong one
	} {
		codes := elements(parse(t, Markdown([]byte("```"+info+"\nx\n```\n"))), "code")
		if len(codes) != 1 || attr(codes[0], "class") != want {
			t.Errorf("info string %q: got %d code elements, class %q; want class %q", info, len(codes), attr(codes[0], "class"), want)
		}
	}
}

func TestMarkdownRendersInlineFormatting(t *testing.T) {
	out := Markdown([]byte("Use `a<b` here, ~~not~~ **bold** and *em*."))
	for _, want := range []string{"<code>a&lt;b</code>", "<del>not</del>", "<strong>bold</strong>", "<em>em</em>"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("want %s in:\n%s", want, out)
		}
	}
}

func TestMarkdownLinks(t *testing.T) {
	body := parse(t, Markdown([]byte("[site](https://example.com/a?b=1&c=2 \"The site\") [local](/docs/x) <https://example.org> www.example.net a@example.com")))
	links := elements(body, "a")
	if len(links) != 5 {
		t.Fatalf("got %d links, want 5", len(links))
	}
	for _, tc := range []struct {
		href, title string
		external    bool
	}{
		{"https://example.com/a?b=1&c=2", "The site", true},
		{"/docs/x", "", false},
		{"https://example.org", "", true},
		{"http://www.example.net", "", true},
		{"mailto:a@example.com", "", false},
	} {
		a := links[0]
		links = links[1:]
		if attr(a, "href") != tc.href || attr(a, "title") != tc.title {
			t.Errorf("link href=%q title=%q, want href=%q title=%q", attr(a, "href"), attr(a, "title"), tc.href, tc.title)
		}
		rel := strings.Fields(attr(a, "rel"))
		want := []string{"nofollow"}
		if tc.external {
			want = append(want, "noopener", "noreferrer")
			if attr(a, "target") != "_blank" {
				t.Errorf("external link %s: target=%q, want _blank", tc.href, attr(a, "target"))
			}
		} else if attr(a, "target") != "" {
			t.Errorf("local link %s: target=%q, want none", tc.href, attr(a, "target"))
		}
		for _, w := range want {
			if !slices.Contains(rel, w) {
				t.Errorf("link %s: rel=%q lacks %s", tc.href, attr(a, "rel"), w)
			}
		}
	}
}

func TestMarkdownImages(t *testing.T) {
	imgs := elements(parse(t, Markdown([]byte(`![A cat](https://example.com/cat.png "Cat: 1") ![inline](data:image/png;base64,iVBORw0KGgo=)`))), "img")
	if len(imgs) != 2 {
		t.Fatalf("got %d images, want 2", len(imgs))
	}
	if attr(imgs[0], "src") != "https://example.com/cat.png" || attr(imgs[0], "alt") != "A cat" || attr(imgs[0], "title") != "Cat: 1" {
		t.Errorf("https image lost attributes: %v", imgs[0].Attr)
	}
	if attr(imgs[1], "src") != "" {
		t.Errorf("data: image kept src %q", attr(imgs[1], "src"))
	}
}

func TestMarkdownTaskList(t *testing.T) {
	body := parse(t, Markdown([]byte("- [x] done\n- [ ] todo\n")))
	inputs := elements(body, "input")
	if len(inputs) != 2 {
		t.Fatalf("got %d checkboxes, want 2", len(inputs))
	}
	for i, checked := range []bool{true, false} {
		in := inputs[i]
		wantAttrs := 2 // type, disabled
		if checked {
			wantAttrs++
		}
		if attr(in, "type") != "checkbox" || !hasAttr(in, "disabled") || hasAttr(in, "checked") != checked || len(in.Attr) != wantAttrs {
			t.Errorf("checkbox %d: attributes %v, want a disabled checkbox, checked=%v", i, in.Attr, checked)
		}
	}
}

func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}

func TestMarkdownHeadingIDsArePrefixed(t *testing.T) {
	body := parse(t, Markdown([]byte("# Getting Started\n\n## location\n\n## Getting Started\n\nSetext\n------\n")))
	var ids []string
	for _, h := range append(elements(body, "h1"), elements(body, "h2")...) {
		ids = append(ids, attr(h, "id"))
	}
	want := []string{"user-content-getting-started", "user-content-location", "user-content-getting-started-1", "user-content-setext"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("heading ids %q, want %q", ids, want)
	}
}

func TestMarkdownInDocumentLinksReachPrefixedHeadings(t *testing.T) {
	body := parse(t, Markdown([]byte("See [install](#getting-started), and [again](#user-content-getting-started).\n\n# Getting Started\n")))
	links := elements(body, "a")
	if len(links) != 2 {
		t.Fatalf("got %d links, want 2", len(links))
	}
	id := attr(elements(body, "h1")[0], "id")
	for i, want := range []string{"#" + id, "#" + id} {
		if got := attr(links[i], "href"); got != want {
			t.Errorf("link %d: href %q, want %q", i, got, want)
		}
	}
}

func TestMarkdownHeadingAttributeSyntaxIsText(t *testing.T) {
	body := parse(t, Markdown([]byte("# Title {#main onclick=alert(1)}")))
	hs := elements(body, "h1")
	if len(hs) != 1 || textOf(hs[0]) != "Title {#main onclick=alert(1)}" || len(hs[0].Attr) != 1 || !strings.HasPrefix(attr(hs[0], "id"), headingIDPrefix) {
		t.Errorf("want the attribute block as heading text and only a prefixed id, got %s", Markdown([]byte("# Title {#main onclick=alert(1)}")))
	}
}

// Raw HTML is not rendered, even elements the sanitizer would let through:
// that is goldmark's layer (no html.WithUnsafe), tested on its own here.
func TestMarkdownOmitsRawHTML(t *testing.T) {
	out := Markdown([]byte("Some <strong>bold</strong>, <a href=\"https://example.com\">a link</a> and <img src=\"https://example.com/a.png\">.\n\n" +
		"<table><tr><td>cell</td></tr></table>\n\n<h1>raw heading</h1>\n"))
	body := parse(t, out)
	for _, el := range []string{"strong", "a", "img", "table", "td", "h1"} {
		if len(elements(body, el)) != 0 {
			t.Errorf("raw <%s> was rendered:\n%s", el, out)
		}
	}
	if !strings.Contains(textOf(body), "bold") || !strings.Contains(textOf(body), "a link") {
		t.Errorf("text between inline raw tags was lost:\n%s", out)
	}
}

func TestMarkdownOrderedListStart(t *testing.T) {
	ols := elements(parse(t, Markdown([]byte("3. three\n4. four\n"))), "ol")
	if len(ols) != 1 || attr(ols[0], "start") != "3" {
		t.Errorf("ordered list lost its start number")
	}
}

func TestCode(t *testing.T) {
	// The leading newline matters: a browser drops one straight after <pre>.
	src := "\n</code></pre><script>alert(1)</script>\n<b>x</b> & \"q\"\n"
	for hint, class := range map[string]string{
		"go":                    "language-go",
		".go":                   "language-go",
		"main.go":               "language-go",
		"archive.tar.GZ":        "language-gz",
		".PY":                   "language-py",
		"Python":                "language-python",
		"c++":                   "language-c++",
		"objective-c":           "language-objective-c",
		"":                      "",
		"   ":                   "",
		"main.":                 "",
		`go"><b>`:               "language-gob", // characters outside [a-z0-9_+-] are dropped
		"C#":                    "language-csharp",
		"ünïcödé":               "language-ncd",
		strings.Repeat("x", 33): "",
	} {
		out := Code([]byte(src), hint)
		if p := unsafeParts(out); len(p) != 0 {
			t.Errorf("Code(hint %q): %q\n%s", hint, p, out)
		}
		body := parse(t, out)
		pres, codes := elements(body, "pre"), elements(body, "code")
		if len(pres) != 1 || len(codes) != 1 || codes[0].Parent != pres[0] {
			t.Fatalf("Code(hint %q) is not one <pre><code>:\n%s", hint, out)
		}
		if got := textOf(codes[0]); got != src {
			t.Errorf("Code(hint %q) text = %q, want the source %q", hint, got, src)
		}
		if got := attr(codes[0], "class"); got != class {
			t.Errorf("Code(hint %q) class = %q, want %q", hint, got, class)
		}
		if class == "" && len(codes[0].Attr) != 0 {
			t.Errorf("Code(hint %q) has attributes %v, want none", hint, codes[0].Attr)
		}
	}
}

func TestInvalidUTF8AndNUL(t *testing.T) {
	inputs := []string{
		"a\xffb",
		"\xc3",
		"\xed\xa0\x80 surrogate",
		"a\x00b",
		"# head\xffing\x00\n",
		"```\xff\x00\ncode\x00\xfe\n```\n",
		"[li\xffnk](https://example.com/\xff\x00)",
		"| a\xff |\n|---|\n| \x00 |\n",
		"`\x00`",
		"<\x00script>alert(1)</script>",
		"java\x00script:alert(1)",
		"\x00\x00\x00",
		"\xff\xfe\xfd",
	}
	for _, in := range inputs {
		for name, out := range map[string][]byte{
			"Markdown": Markdown([]byte(in)),
			"Code":     Code([]byte(in), "go\xff"),
		} {
			if !utf8.Valid(out) {
				t.Errorf("%s(%q) is not valid UTF-8: %q", name, in, out)
			}
			if bytes.IndexByte(out, 0) >= 0 {
				t.Errorf("%s(%q) contains NUL: %q", name, in, out)
			}
			if p := unsafeParts(out); len(p) != 0 {
				t.Errorf("%s(%q): %q", name, in, p)
			}
		}
	}
	if out := Markdown([]byte("a\xffb\x00c")); !bytes.Contains(out, []byte("a\uFFFDb\uFFFDc")) {
		t.Errorf("invalid byte and NUL should show as U+FFFD, got %q", out)
	}
}

func TestMarkdownDoesNotModifyInput(t *testing.T) {
	src := []byte("a\x00b\xff # x")
	orig := bytes.Clone(src)
	Markdown(src)
	Code(src, "go")
	if !bytes.Equal(src, orig) {
		t.Errorf("input changed from %q to %q", orig, src)
	}
}

// The caps in limits.go: content beyond them is text, content within them
// renders as usual, and the counts start again in every block.

func TestMarkdownNestingIsCapped(t *testing.T) {
	out := Markdown([]byte(strings.Repeat(">", 100) + " deep"))
	if got := len(elements(parse(t, out), "blockquote")); got != maxNesting {
		t.Errorf("got %d nested blockquotes, want %d", got, maxNesting)
	}
	if !bytes.Contains(out, []byte(strings.Repeat("&gt;", 100-maxNesting)+" deep")) {
		t.Errorf("markers beyond the cap should be text:\n%s", out)
	}
	out = Markdown([]byte(strings.Repeat("- ", 100) + "deep"))
	if got := len(elements(parse(t, out), "ul")); got != maxNesting {
		t.Errorf("got %d nested lists, want %d", got, maxNesting)
	}
	out = Markdown([]byte("> - > 1. > text"))
	if len(elements(parse(t, out), "blockquote")) != 3 || len(elements(parse(t, out), "ul")) != 1 || len(elements(parse(t, out), "ol")) != 1 {
		t.Errorf("shallow mixed nesting changed:\n%s", out)
	}
}

// Found by FuzzMarkdown (testdata/fuzz/FuzzMarkdown/3ee693b0c2bc0f27): one
// long "_" run nested <strong> over 512 deep, which HTML parsers refuse or
// flatten.
func TestMarkdownNestingStaysParseable(t *testing.T) {
	quotes := strings.Repeat("> ", 40)
	for name, src := range map[string]string{
		"underscore run": strings.Repeat("_", 2000) + "x" + strings.Repeat("_", 2000),
		"star run":       "a " + strings.Repeat("*", 2000) + "x" + strings.Repeat("*", 2000),
		"tilde runs":     "a " + strings.Repeat("~~ ", 1000) + "x" + strings.Repeat(" ~~", 1000),
		"many runs":      strings.Repeat("**a ", 1000) + "x" + strings.Repeat(" a**", 1000),
		"in quotes":      quotes + strings.Repeat("- ", 40) + strings.Repeat("*a ", 400) + "x" + strings.Repeat(" a*", 400),
		"in a table":     quotes + "| h |\n" + quotes + "|---|\n" + quotes + "| " + strings.Repeat("_a ", 400) + "x" + strings.Repeat(" a_", 400) + " |",
	} {
		out := Markdown([]byte(src))
		doc, err := html.Parse(bytes.NewReader(out))
		if err != nil {
			t.Errorf("%s: output does not parse: %v", name, err)
			continue
		}
		if !strings.Contains(textOf(doc), "x") {
			t.Errorf("%s: text lost", name)
		}
	}
}

func TestMarkdownTableCellsAreBudgeted(t *testing.T) {
	wide := strings.Repeat("|a", 1000) + "|\n" + strings.Repeat("|-", 1000) + "|\n" + strings.Repeat("|\n", 10000)
	out := Markdown([]byte(wide))
	if bytes.Contains(out, []byte("<table>")) {
		t.Errorf("a table padded to 10 million cells was rendered")
	}
	if len(out) > 4*len(wide) {
		t.Errorf("%d bytes of input rendered to %d bytes", len(wide), len(out))
	}
	// Real tables, including one whose rows leave out trailing cells.
	big := "| a | b | c | d | e |\n|---|---|---|---|---|\n" + strings.Repeat("| 1 | 2 | 3 | 4 | 5 |\n", 2000)
	sparse := "| a | b | c | d | e |\n|---|---|---|---|---|\n" + strings.Repeat("| 1 |\n", 200)
	for name, src := range map[string]string{"big": big, "sparse": sparse} {
		body := parse(t, Markdown([]byte(src)))
		rows := strings.Count(src, "\n") - 1
		if got := len(elements(body, "tr")); got != rows {
			t.Errorf("%s table: got %d rows, want %d", name, got, rows)
		}
	}
}

func TestMarkdownInlineOpenersArePerBlock(t *testing.T) {
	links := strings.Repeat("[x](/a) ", maxLinksPerBlock+100)
	emphasis := strings.Repeat("*x* ", maxDelimitersPerBlock/2+100)
	for _, tc := range []struct {
		name, para, el string
		want           int
	}{
		{"links", links, "a", maxLinksPerBlock},
		{"emphasis", emphasis, "em", maxDelimitersPerBlock / 2},
	} {
		body := parse(t, Markdown([]byte(tc.para+"\n\n"+tc.para+"\n\n# "+tc.para)))
		for i, block := range append(elements(body, "p"), elements(body, "h1")...) {
			if got := len(elements(block, tc.el)); got != tc.want {
				t.Errorf("%s: block %d has %d <%s>, want %d", tc.name, i, got, tc.el, tc.want)
			}
		}
	}
}

func TestMarkdownReferenceDefinitionsAreBudgeted(t *testing.T) {
	var src strings.Builder
	for i := range maxReferenceLines {
		fmt.Fprintf(&src, "[r%d]: /r%d\n", i, i)
	}
	src.WriteString("[late]: /late\n\n[r0] [r999] [late]\n")
	body := parse(t, Markdown([]byte(src.String())))
	links := elements(body, "a")
	if len(links) != 2 || attr(links[0], "href") != "/r0" || attr(links[1], "href") != "/r999" {
		t.Errorf("want links to the first %d definitions only, got %d links", maxReferenceLines, len(links))
	}
	if ps := elements(body, "p"); len(ps) != 2 || textOf(ps[0]) != "[late]: /late" {
		t.Errorf("the definition past the cap should stay as paragraph text")
	}
}

// The converter and policy are shared by every request; run under -race this
// shows they keep no state between conversions.
func TestMarkdownConcurrentUse(t *testing.T) {
	doc := realisticDocument(8 << 10)
	want := Markdown(doc)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if got := Markdown(doc); !bytes.Equal(got, want) {
					t.Error("concurrent render differs from a sequential one")
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzMarkdown(f *testing.F) {
	for _, payload := range xssCorpus {
		f.Add([]byte(payload))
	}
	f.Add([]byte("# T\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n- [x] t\n\n```go\nx\n```\n"))
	f.Add([]byte("a\xff\x00b"))
	f.Fuzz(func(t *testing.T, src []byte) {
		out := Markdown(src)
		if !utf8.Valid(out) {
			t.Fatalf("output is not valid UTF-8: %q", out)
		}
		if bytes.IndexByte(out, 0) >= 0 {
			t.Fatalf("output contains NUL: %q", out)
		}
		if p := unsafeParts(out); len(p) != 0 {
			t.Fatalf("%q\noutput: %s", p, out)
		}
	})
}

// realisticDocument is about size bytes of the kind of Markdown people write:
// headings, paragraphs with inline markup and links, lists, task lists,
// tables, code blocks and quotes.
func realisticDocument(size int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "## Section %d\n\n", i)
		b.WriteString("This paragraph has **bold**, *emphasis*, `inline code`, ~~struck~~ text and a [link](https://example.com/docs/page?id=1).\n")
		b.WriteString("It wraps onto a second line, mentions www.example.org and ends with an image ![logo](https://example.com/logo.png).\n\n")
		b.WriteString("- first item\n- second item with `code`\n  - nested item\n- [x] done task\n- [ ] open task\n\n")
		b.WriteString("| Column | Value | Notes |\n|:-------|------:|:-----:|\n| alpha | 1 | ok |\n| beta | 22 | *fine* |\n| gamma | 333 | `x` |\n\n")
		b.WriteString("```go\nfunc main() {\n\tif a < b && c > d {\n\t\tfmt.Println(\"hello\")\n\t}\n}\n```\n\n")
		b.WriteString("> A quote with a [reference link][ref].\n\n[ref]: https://example.com/ref\n\n")
	}
	return []byte(b.String())
}

func BenchmarkMarkdown(b *testing.B) {
	const big = 512 << 10
	repeat := func(s string, size int) []byte { return []byte(strings.Repeat(s, size/len(s))) }
	for _, bc := range []struct {
		name string
		src  []byte
	}{
		{"realistic-50KiB", realisticDocument(50 << 10)},
		{"realistic-512KiB", realisticDocument(big)},
		// The pathological inputs limits.go is for, at the largest size a
		// document may have.
		{"nested-quotes-512KiB", repeat(">", big)},
		{"nested-lists-512KiB", repeat("- ", big)},
		{"open-brackets-100k", repeat("[", 100_000)},
		{"unclosed-links-512KiB", repeat("[a](", big)},
		{"mixed-emphasis-512KiB", repeat("*_a", big)},
		{"reference-definitions-512KiB", repeat("[a]: b\n", big)},
		{"wide-table-512KiB", []byte(strings.Repeat("|a", 2000) + "\n" + strings.Repeat("|-", 2000) + "\n" + strings.Repeat("|\n", big/2))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.src)))
			b.ReportAllocs()
			for b.Loop() {
				Markdown(bc.src)
			}
		})
	}
}

func BenchmarkCode(b *testing.B) {
	src := []byte(strings.Repeat("func main() {\n\tif a < b && c > d {\n\t\tfmt.Println(\"<hello>\")\n\t}\n}\n", 50<<10/64))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		Code(src, "main.go")
	}
}
