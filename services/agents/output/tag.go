package output

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	docOpen      = "<document"
	docClose     = "</document>"
	fileOpen     = "<file"
	fileClose    = "</file>"
	handoffOpen  = "<handoff>"
	handoffClose = "</handoff>"
)

// tagLine is a line as tags are matched: without the spaces around it (and a CR of a CRLF).
func tagLine(line string) string { return strings.Trim(line, " \t\r") }

// isOpen reports whether a trimmed line is an opening tag named by open ("<document",
// "<file"), well-formed or not.
func isOpen(t, open string) bool {
	if !strings.HasPrefix(t, open) {
		return false
	}
	if len(t) == len(open) {
		return true
	}
	switch t[len(open)] {
	case ' ', '\t', '>', '/':
		return true
	}
	return false
}

// isHandoffTag reports whether a trimmed line starts like a <handoff> tag, to catch a handoff
// written on the tag's line.
func isHandoffTag(t string) bool {
	return strings.HasPrefix(t, "<handoff") && len(t) > len("<handoff") &&
		strings.ContainsRune(" \t>", rune(t[len("<handoff")]))
}

// attrs are the attributes of a <document> or <file> tag that the contract knows: type and
// title of a document, path of a file.
type attrs struct {
	typ, title, path           string
	hasType, hasTitle, hasPath bool
}

// parseTag reads the attributes of an opening tag line (open is "<document" or "<file").
// Attributes may be in any order and quoted with " or '; unknown attributes are ignored. It
// returns what it could read and the first problem, "" if none.
func parseTag(t, open string) (attrs, string) {
	var a attrs
	tag := open + ">"
	closing := "</" + open[1:] + ">"
	rest := t[len(open):]
	for {
		rest = strings.TrimLeft(rest, " \t")
		switch {
		case rest == "":
			return a, "the " + tag + " tag is not closed with >"
		case strings.HasPrefix(rest, "/>"):
			return a, "a " + tag + " tag cannot be self-closing; the content goes between it and " + closing
		case rest[0] == '>':
			if strings.TrimSpace(rest[1:]) != "" {
				return a, "text follows the " + tag + " tag; the tag must stand alone on its line"
			}
			return a, ""
		}
		n := 0
		for n < len(rest) && isNameByte(rest[n]) {
			n++
		}
		if n == 0 {
			return a, "malformed " + tag + " tag near " + quote(rest)
		}
		name := strings.ToLower(rest[:n])
		rest = strings.TrimLeft(rest[n:], " \t")
		if !strings.HasPrefix(rest, "=") {
			return a, tag + " attribute " + name + " has no value (write " + name + "=\"…\")"
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
			return a, tag + " attribute " + name + " must be quoted"
		}
		end := strings.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return a, tag + " attribute " + name + " has no closing quote"
		}
		value := unescape(rest[1 : 1+end])
		rest = rest[end+2:]
		var field *string
		var has *bool
		switch {
		case open == docOpen && name == "type":
			field, has = &a.typ, &a.hasType
		case open == docOpen && name == "title":
			field, has = &a.title, &a.hasTitle
		case open == fileOpen && name == "path":
			field, has = &a.path, &a.hasPath
		default:
			continue
		}
		if *has {
			return a, tag + " has two " + name + " attributes"
		}
		*field, *has = value, true
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ':'
}

// escape makes a value safe inside a double-quoted attribute. Every & is escaped, so unescape
// gives back exactly the value whatever entities it contains.
func escape(s string) string {
	return attrEscaper.Replace(s)
}

var attrEscaper = strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;")

var namedEntities = map[string]rune{"amp": '&', "quot": '"', "apos": '\'', "lt": '<', "gt": '>'}

// unescape decodes the XML entities of an attribute value: the five named ones and numeric
// ones. Anything else, such as a bare & in "R&D", is kept as written (models do write that).
func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		// An entity is short: looking at most this far keeps the work linear.
		semi := strings.IndexByte(s[:min(len(s), 12)], ';')
		if r, ok := entity(s[1:max(semi, 1)]); semi > 0 && ok {
			b.WriteRune(r)
			s = s[semi+1:]
			continue
		}
		b.WriteByte('&')
		s = s[1:]
	}
}

func entity(name string) (rune, bool) {
	if r, ok := namedEntities[name]; ok {
		return r, true
	}
	if !strings.HasPrefix(name, "#") || len(name) < 2 {
		return 0, false
	}
	digits, base := name[1:], 10
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || n == 0 || !utf8.ValidRune(rune(n)) {
		return 0, false
	}
	return rune(n), true
}
