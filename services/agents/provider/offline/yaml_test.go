package offline

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// yamlReader is a minimal YAML reader for the block style yamlDoc writes (mappings, sequences,
// double-quoted and plain scalars, {} and []). It is written independently of the emitter, so
// that the tests check the emitted text, not the emitter's idea of it.
type yamlReader struct {
	lines []string
	i     int
}

func readYAML(text string) (any, error) {
	r := &yamlReader{}
	for _, l := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			r.lines = append(r.lines, l)
		}
	}
	if len(r.lines) == 0 {
		return nil, fmt.Errorf("empty document")
	}
	v, err := r.block(0)
	if err == nil && r.i < len(r.lines) {
		err = fmt.Errorf("line %q: unexpected indentation", r.lines[r.i])
	}
	return v, err
}

func indentOf(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }

func (r *yamlReader) block(indent int) (any, error) {
	if strings.HasPrefix(r.lines[r.i][indent:], "- ") {
		return r.sequence(indent)
	}
	return r.mapping(indent)
}

func (r *yamlReader) mapping(indent int) (map[string]any, error) {
	m := map[string]any{}
	for r.i < len(r.lines) && indentOf(r.lines[r.i]) == indent && !strings.HasPrefix(r.lines[r.i][indent:], "- ") {
		line := r.lines[r.i][indent:]
		key, rest, err := splitKey(line)
		if err != nil {
			return nil, err
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		r.i++
		if rest == "" {
			if r.i >= len(r.lines) || indentOf(r.lines[r.i]) <= indent {
				return nil, fmt.Errorf("key %q has no value", key)
			}
			if m[key], err = r.block(indentOf(r.lines[r.i])); err != nil {
				return nil, err
			}
			continue
		}
		if m[key], err = scalar(rest); err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
	}
	return m, nil
}

func (r *yamlReader) sequence(indent int) ([]any, error) {
	var out []any
	for r.i < len(r.lines) && indentOf(r.lines[r.i]) == indent && strings.HasPrefix(r.lines[r.i][indent:], "- ") {
		rest := r.lines[r.i][indent+2:]
		if _, _, err := splitKey(rest); err == nil && !strings.HasPrefix(rest, "{") && !strings.HasPrefix(rest, "[") {
			// A mapping item: read it as if its first key were on its own line.
			r.lines[r.i] = strings.Repeat(" ", indent+2) + rest
			m, err := r.mapping(indent + 2)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
			continue
		}
		v, err := scalar(rest)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		r.i++
	}
	return out, nil
}

// splitKey splits "key: rest" where key is plain or double-quoted.
func splitKey(line string) (string, string, error) {
	if strings.HasPrefix(line, `"`) {
		key, n, err := quoted(line)
		if err != nil {
			return "", "", err
		}
		if !strings.HasPrefix(line[n:], ":") {
			return "", "", fmt.Errorf("%q: no colon after the key", line)
		}
		return key, strings.TrimSpace(line[n+1:]), nil
	}
	key, rest, ok := strings.Cut(line, ":")
	if !ok || strings.ContainsAny(key, ` "{}[]`) || key == "" {
		return "", "", fmt.Errorf("%q: not a key", line)
	}
	return key, strings.TrimSpace(rest), nil
}

func scalar(s string) (any, error) {
	switch {
	case s == "{}":
		return map[string]any{}, nil
	case s == "[]":
		return []any{}, nil
	case s == "true", s == "false":
		return s == "true", nil
	case strings.HasPrefix(s, `"`):
		v, n, err := quoted(s)
		if err == nil && n != len(s) {
			err = fmt.Errorf("%q: text after the string", s)
		}
		return v, err
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	return nil, fmt.Errorf("%q: unquoted string (every string must be quoted)", s)
}

// quoted reads a double-quoted scalar at the start of s, returning it and its length in s.
func quoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(s):
			esc := s[i+1]
			i += 2
			switch esc {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '"', '\\', '/':
				b.WriteByte(esc)
			case 'u', 'U':
				n := 4
				if esc == 'U' {
					n = 8
				}
				if i+n > len(s) {
					return "", 0, fmt.Errorf("short escape")
				}
				v, err := strconv.ParseUint(s[i:i+n], 16, 32)
				if err != nil {
					return "", 0, err
				}
				b.WriteRune(rune(v))
				i += n
			default:
				return "", 0, fmt.Errorf("unknown escape \\%c", esc)
			}
		case c < 0x20 || c == 0x7F:
			return "", 0, fmt.Errorf("raw control character %#x in a quoted string", c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if !yamlPrintable(r) && r != '\t' {
				return "", 0, fmt.Errorf("non-printable %U in a quoted string", r)
			}
			b.WriteRune(r)
			i += n
		}
	}
	return "", 0, fmt.Errorf("%q: unterminated string", s)
}

// checkOpenAPI checks the structure an OpenAPI 3.0 document must have: version, info, paths
// with operations that have responses, unique operation ids, declared path parameters, and
// $refs that resolve inside the document.
func checkOpenAPI(t *testing.T, text string) {
	t.Helper()
	v, err := readYAML(text)
	if err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	doc := v.(map[string]any)
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if s, _ := info["title"].(string); s == "" {
		t.Error("info.title missing")
	}
	if s, _ := info["version"].(string); s == "" {
		t.Error("info.version missing")
	}
	paths, _ := doc["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatal("no paths")
	}
	ids := map[string]bool{}
	for path, item := range paths {
		if !strings.HasPrefix(path, "/") {
			t.Errorf("path %q does not start with /", path)
		}
		item := item.(map[string]any)
		declared := map[string]bool{}
		params, _ := item["parameters"].([]any)
		for _, p := range params {
			if p := p.(map[string]any); p["in"] == "path" && p["required"] == true {
				declared[p["name"].(string)] = true
			}
		}
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, "{") && !declared[strings.Trim(seg, "{}")] {
				t.Errorf("%s: path parameter %s not declared", path, seg)
			}
		}
		ops := 0
		for method, op := range item {
			if method == "parameters" {
				continue
			}
			ops++
			op := op.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s %s: operationId %q missing or repeated", method, path, id)
			}
			ids[id] = true
			responses, _ := op["responses"].(map[string]any)
			if len(responses) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
			for code, resp := range responses {
				resp := resp.(map[string]any)
				if _, ok := resp["description"].(string); !ok && resp["$ref"] == nil {
					t.Errorf("%s %s %s: response without description", method, path, code)
				}
			}
		}
		if ops == 0 {
			t.Errorf("%s: no operations", path)
		}
	}
	var refs func(v any)
	refs = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "$ref" {
					if !resolves(doc, x.(string)) {
						t.Errorf("$ref %q does not resolve", x)
					}
					continue
				}
				refs(x)
			}
		case []any:
			for _, x := range v {
				refs(x)
			}
		}
	}
	refs(doc)
}

func resolves(doc map[string]any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func TestYAMLStringRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "line\nbreak\ttab", "yes", "3.0.3", "# not a comment",
		"key: value", "\x00\x01\x7f\u0085\u2028\ufeff\uffff", "emoji 🍰 and é", "{braces} [brackets] &anchor *alias", "\xff invalid"} {
		got, n, err := quoted(yamlString(s))
		want := strings.ToValidUTF8(s, "\uFFFD")
		if err != nil || got != want || n != len(yamlString(s)) {
			t.Errorf("yamlString(%q) = %s read back as %q, %v", s, yamlString(s), got, err)
		}
	}
	for _, k := range []string{"yes", "No", "on", "200", "/path", "$ref", "application/json", "a b"} {
		if !strings.HasPrefix(yamlKey(k), `"`) {
			t.Errorf("key %q is not quoted", k)
		}
	}
	if yamlKey("operationId") != "operationId" || yamlKey("x-generated-by") != "x-generated-by" {
		t.Error("plain keys should stay plain")
	}
}

func FuzzYAMLString(f *testing.F) {
	f.Add("text \"quoted\" \n\t\x00 é 🍰")
	f.Fuzz(func(t *testing.T, s string) {
		got, _, err := quoted(yamlString(s))
		if err != nil || got != strings.ToValidUTF8(s, "\uFFFD") {
			t.Fatalf("%q: got %q, %v", s, got, err)
		}
	})
}
