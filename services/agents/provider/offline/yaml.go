package offline

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// ymap is a YAML mapping with its keys in order (so the output is deterministic and reads in the
// order OpenAPI documents are written); ylist is a sequence. Scalars are string, int and bool.
type (
	ymap []ykv
	ykv  struct {
		key   string
		value any
	}
	ylist []any
)

// obj builds a ymap from alternating keys and values.
func obj(kv ...any) ymap {
	m := make(ymap, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m = append(m, ykv{kv[i].(string), kv[i+1]})
	}
	return m
}

// yamlDoc renders a YAML document in block style, after comment lines. Every string value is
// double-quoted, so no value can be misread as a number, boolean, null or structure.
func yamlDoc(comments []string, root ymap) string {
	var b strings.Builder
	for _, c := range comments {
		b.WriteString("# " + oneLine(c, 200) + "\n")
	}
	writeMap(&b, root, 0, "")
	return b.String()
}

// writeMap writes a mapping at indent; first, if not "", replaces the first key's indentation
// (a mapping that is a sequence item starts on the "- " line).
func writeMap(b *strings.Builder, m ymap, indent int, first string) {
	pad := strings.Repeat(" ", indent)
	for i, kv := range m {
		if i == 0 && first != "" {
			b.WriteString(first)
		} else {
			b.WriteString(pad)
		}
		b.WriteString(yamlKey(kv.key) + ":")
		writeValue(b, kv.value, indent)
	}
}

// writeValue writes the value of a key (after the colon) whose key is at indent.
func writeValue(b *strings.Builder, v any, indent int) {
	switch v := v.(type) {
	case ymap:
		if len(v) == 0 {
			b.WriteString(" {}\n")
			return
		}
		b.WriteString("\n")
		writeMap(b, v, indent+2, "")
	case ylist:
		if len(v) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n")
		writeList(b, v, indent+2)
	default:
		b.WriteString(" " + yamlScalar(v) + "\n")
	}
}

func writeList(b *strings.Builder, l ylist, indent int) {
	pad := strings.Repeat(" ", indent)
	for _, item := range l {
		switch item := item.(type) {
		case ymap:
			if len(item) == 0 {
				b.WriteString(pad + "- {}\n")
				continue
			}
			writeMap(b, item, indent+2, pad+"- ")
		case ylist:
			b.WriteString(pad + "-\n")
			writeList(b, item, indent+2)
		default:
			b.WriteString(pad + "- " + yamlScalar(item) + "\n")
		}
	}
}

func yamlScalar(v any) string {
	switch v := v.(type) {
	case string:
		return yamlString(v)
	case int:
		return itoa(v)
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	panic("offline: unsupported YAML value")
}

// plainKey is a key that needs no quotes in any YAML version.
var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// yamlKey quotes a key unless it is a plain identifier that no YAML version reads as anything
// but a string (YAML 1.1 reads yes, no, on, off, y and n as booleans).
func yamlKey(k string) string {
	switch strings.ToLower(k) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		return yamlString(k)
	}
	if plainKey.MatchString(k) {
		return k
	}
	return yamlString(k)
}

// yamlString is a double-quoted YAML scalar. Characters YAML does not allow raw in a document
// (C0 and C1 controls other than tab, DEL, the BOM, non-characters) are escaped.
func yamlString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case yamlPrintable(r):
			b.WriteRune(r)
		case r <= 0xFFFF:
			b.WriteString(`\u` + hex4(r))
		default:
			b.WriteString(`\U` + hex4(r>>16) + hex4(r&0xFFFF))
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlPrintable is YAML 1.2's printable set, minus the BOM and the line and paragraph separators
// that some parsers treat as line breaks.
func yamlPrintable(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7E:
		return true
	case r == 0x85, r == 0xFEFF, r == 0x2028, r == 0x2029:
		return false
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD:
		return true
	}
	return r >= 0x10000 && r <= utf8.MaxRune
}

func hex4(r rune) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[r>>12&0xF], digits[r>>8&0xF], digits[r>>4&0xF], digits[r&0xF]})
}
