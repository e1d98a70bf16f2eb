package offline

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean makes user-supplied text safe to build documents from: valid UTF-8, no NUL or other
// control characters except line breaks and tabs (the services refuse those), CRLF as LF.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		if r == '\r' {
			return '\n'
		}
		return -1
	}, s)
}

// oneLine collapses text to a single line of single spaces, cut to at most max characters at a
// word boundary: for headings, titles, table cells and code comments.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max-1]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:") + "…"
}

// truncate cuts multi-line text to at most max characters.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "\n… (truncated)"
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(oneLine(s, 160), "|", `\|`) }

// comment makes text safe inside a line comment of any language of the code documents.
func comment(s string) string {
	return strings.NewReplacer("*/", "* /", "`", "'").Replace(oneLine(s, 120))
}

// upperFirst capitalises the first letter.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// lowerFirst lower-cases the first letter unless the first word looks like an acronym or a name
// written in capitals (API, CSV).
func lowerFirst(s string) string {
	word, _, _ := strings.Cut(s, " ")
	if len(word) > 1 && strings.ToUpper(word) == word {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// sentences splits prose into sentences and list items: at . ! ? ; followed by a space or the
// end, and at line breaks; list markers and the terminators are dropped.
func sentences(text string) []string { return split(text, ".!?;", false) }

// points splits feedback into its points: sentences and lines, each keeping its punctuation.
func points(text string) []string { return split(text, ".!?", true) }

var listMarker = regexp.MustCompile(`^(?:[-*•]|\d{1,3}[.)])\s+`)

func split(text, terminators string, keep bool) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = listMarker.ReplaceAllString(strings.TrimSpace(line), "")
		start := 0
		for i := 0; i < len(line); i++ {
			if strings.IndexByte(terminators, line[i]) < 0 {
				continue
			}
			if i+1 < len(line) && line[i+1] != ' ' {
				continue // 3.5, e.g., example.com
			}
			end := i
			if keep {
				end = i + 1
			}
			out = appendSentence(out, line[start:end])
			start = i + 1
		}
		out = appendSentence(out, line[start:])
	}
	return out
}

func appendSentence(out []string, s string) []string {
	s = strings.Trim(strings.TrimSpace(s), `"'“”`)
	if len(strings.Fields(s)) == 0 {
		return out
	}
	return append(out, s)
}

// words splits text into lower-case words of letters (with the apostrophes and hyphens inside
// words: "people's", "two-factor").
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '’' && r != '-'
	})
}

// isASCIIWord reports whether w is a lower-case ASCII word usable in identifiers.
func isASCIIWord(w string) bool {
	if len(w) < 3 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// asciiAlnum reports whether w is a non-empty run of lower-case ASCII letters and digits.
func asciiAlnum(w string) bool {
	for i := 0; i < len(w); i++ {
		if (w[i] < 'a' || w[i] > 'z') && (w[i] < '0' || w[i] > '9') {
			return false
		}
	}
	return w != ""
}

var itoa = strconv.Itoa

// singular is a good-enough English singular for identifiers.
func singular(w string) string {
	switch {
	case invariant[w]:
		return w
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ches"),
		strings.HasSuffix(w, "shes"), strings.HasSuffix(w, "zes"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w
	case strings.HasSuffix(w, "s") && len(w) > 3:
		return w[:len(w)-1]
	}
	return w
}

// plural is the English plural of a singular identifier word.
func plural(w string) string {
	switch {
	case invariant[w]:
		return w
	case strings.HasSuffix(w, "y") && len(w) > 1 && !strings.ContainsRune("aeiou", rune(w[len(w)-2])):
		return w[:len(w)-1] + "ies"
	case strings.HasSuffix(w, "s"), strings.HasSuffix(w, "x"), strings.HasSuffix(w, "z"),
		strings.HasSuffix(w, "ch"), strings.HasSuffix(w, "sh"):
		return w + "es"
	}
	return w + "s"
}

var invariant = set("news", "series", "species", "data", "media", "status", "analysis", "feedback", "equipment",
	"information", "software", "staff", "inventory")

// article is "a" or "an" for a noun phrase.
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiouAEIOU", rune(s[0])) {
		return "an"
	}
	return "a"
}

// list joins items as English: "a", "a and b", "a, b and c".
func list(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// fnv32 is the FNV-1a hash, for deterministic choices derived from the project (the palette).
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// when is s if ok, "" otherwise: for optional parts of a sentence.
func when(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

// titleKey is what makes two titles the same document: the documents service's rule.
func titleKey(title string) string { return strings.ToLower(strings.TrimSpace(title)) }
