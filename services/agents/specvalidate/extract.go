package specvalidate

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// keys says which of the top-level keys that identify an API description a document has.
type keys struct{ openapi, swagger bool }

// extract finds the document to validate. Models often answer with markdown around the
// specification, so when content has fenced code blocks the first yaml, yml, json, openapi or
// untagged block with a top-level "openapi" or "swagger" key is the document. Failing that,
// the first yaml/json/openapi block is (it may be a specification missing its "openapi" line,
// which the parser then reports); with no such block the content is taken as the document.
//
// Content that has the key outside any block is a raw specification, whose descriptions may
// well hold fenced examples of their own.
func extract(content []byte) ([]byte, keys) {
	blocks, outside := fencedBlocks(content)
	if k := sniff(outside); k.openapi || k.swagger {
		return content, sniff(content)
	}
	var firstTagged []byte
	for _, b := range blocks {
		if !specLanguages[b.lang] {
			continue
		}
		if k := sniff(b.body); k.openapi || k.swagger {
			return b.body, k
		}
		if firstTagged == nil && b.lang != "" {
			firstTagged = b.body
		}
	}
	if firstTagged != nil {
		return firstTagged, sniff(firstTagged)
	}
	return content, sniff(content)
}

var specLanguages = map[string]bool{"yaml": true, "yml": true, "json": true, "openapi": true, "": true}

type block struct {
	lang string // first word of the info string, lower case
	body []byte
}

// fencedBlocks returns the fenced code blocks of a markdown document, following CommonMark:
// a fence is three or more backticks or tildes indented at most three spaces; the block ends
// at a fence of the same character at least as long, or at the end of the document; the
// opening fence's indentation is removed from the lines inside. outside is the content with
// the blocks, fences included, left out.
func fencedBlocks(content []byte) (blocks []block, outside []byte) {
	var out bytes.Buffer
	var open *block
	var fenceChar byte
	var fenceLen, fenceIndent int
	var body bytes.Buffer
	for line := range bytes.Lines(content) {
		text := strings.TrimRight(string(line), "\r\n")
		indent, char, n, info := fence(text)
		if open == nil {
			// A backtick fence's info string may not contain a backtick (that is inline code).
			if n == 0 || (char == '`' && strings.Contains(info, "`")) {
				out.Write(line)
				continue
			}
			open = &block{}
			if words := strings.Fields(info); len(words) > 0 {
				open.lang = strings.ToLower(words[0])
			}
			fenceChar, fenceLen, fenceIndent = char, n, indent
			body.Reset()
			continue
		}
		if char == fenceChar && n >= fenceLen && strings.TrimSpace(info) == "" {
			open.body = bytes.Clone(body.Bytes())
			blocks = append(blocks, *open)
			open = nil
			continue
		}
		body.WriteString(trimIndent(text, fenceIndent))
		body.WriteByte('\n')
	}
	if open != nil {
		open.body = bytes.Clone(body.Bytes())
		blocks = append(blocks, *open)
	}
	return blocks, out.Bytes()
}

// fence reports whether line is a code fence: its indentation, fence character and length,
// and the info string after it. n is 0 when the line is not a fence.
func fence(line string) (indent int, char byte, n int, info string) {
	for indent < len(line) && line[indent] == ' ' {
		indent++
	}
	if indent > 3 || indent == len(line) || (line[indent] != '`' && line[indent] != '~') {
		return 0, 0, 0, ""
	}
	char = line[indent]
	for indent+n < len(line) && line[indent+n] == char {
		n++
	}
	if n < 3 {
		return 0, 0, 0, ""
	}
	return indent, char, n, strings.TrimSpace(line[indent+n:])
}

// trimIndent removes up to n leading spaces.
func trimIndent(line string, n int) string {
	for i := 0; i < n && strings.HasPrefix(line, " "); i++ {
		line = line[1:]
	}
	return line
}

// yamlTopKey matches a top-level mapping key in block-style YAML, which starts in column 0.
var yamlTopKey = regexp.MustCompile(`(?m)^["']?(openapi|swagger)["']?[ \t]*:`)

// anyKey matches the key anywhere, for JSON that does not parse (or YAML in flow style).
var anyKey = regexp.MustCompile(`["']?\b(openapi|swagger)["']?[ \t\r\n]*:`)

// sniff reports which identifying top-level keys doc has, without a full parse. It only picks
// the document and recognises Swagger 2.0; the parser has the last word on everything else.
func sniff(doc []byte) keys {
	trimmed := bytes.TrimSpace(doc)
	if bytes.HasPrefix(trimmed, []byte("{")) {
		var top map[string]json.RawMessage
		if json.Unmarshal(trimmed, &top) == nil {
			_, openapi := top["openapi"]
			_, swagger := top["swagger"]
			return keys{openapi: openapi, swagger: swagger}
		}
		return matches(anyKey, trimmed)
	}
	return matches(yamlTopKey, doc)
}

func matches(re *regexp.Regexp, doc []byte) keys {
	var k keys
	for _, m := range re.FindAllSubmatch(doc, -1) {
		switch string(m[1]) {
		case "openapi":
			k.openapi = true
		case "swagger":
			k.swagger = true
		}
	}
	return k
}
