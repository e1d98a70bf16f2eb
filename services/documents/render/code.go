package render

import (
	"bytes"
	"html"
	"strings"
)

// maxLanguageLen bounds the language name put into the class attribute; real
// names and extensions are far shorter, so a longer hint is not a language.
const maxLanguageLen = 32

// Code renders source code as a <pre><code class="language-xxx"> block (HTML-escaped), language from the hint (e.g. a file extension "go", ".py" or a language name); unknown/empty hint -> no class.
//
// The hint is a file extension ("go", ".go"), a file name ("main.go": the part
// after the last dot is used) or a language name ("python", "c++"). It is
// lower-cased, "#" is spelled "sharp" ("c#" gives "csharp") and every other
// character outside [a-z0-9_+-] is dropped, so the hint can never break out of
// the class attribute. A hint that is empty after that,
// or longer than 32 characters, gives no class. This is the same
// class="language-…" form that fenced code blocks get from Markdown, so one
// client-side highlighter serves both.
//
// Like Markdown, Code accepts any bytes: invalid UTF-8 and NUL become U+FFFD.
func Code(src []byte, languageHint string) []byte {
	text := strings.ToValidUTF8(string(src), "\uFFFD")
	text = strings.ReplaceAll(text, "\x00", "\uFFFD")

	var out bytes.Buffer
	out.Grow(len(text) + len(text)/8 + 64)
	out.WriteString("<pre><code")
	if lang := language(languageHint); lang != "" {
		out.WriteString(` class="language-`)
		out.WriteString(lang)
		out.WriteString(`"`)
	}
	out.WriteString(">")
	out.WriteString(html.EscapeString(text))
	out.WriteString("</code></pre>\n")
	return out.Bytes()
}

// language turns a hint into the part of a class name after "language-", or
// "" when the hint names no language.
func language(hint string) string {
	if i := strings.LastIndexByte(hint, '.'); i >= 0 {
		hint = hint[i+1:]
	}
	// "c#" and "f#" are spelled the way highlighters name them; without this
	// the '#' would be dropped and C# highlighted as C.
	hint = strings.ReplaceAll(hint, "#", "sharp")
	lang := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '_', r == '+', r == '-':
			return r
		case 'A' <= r && r <= 'Z':
			return r + ('a' - 'A')
		}
		return -1
	}, hint)
	if len(lang) > maxLanguageLen {
		return ""
	}
	return lang
}
