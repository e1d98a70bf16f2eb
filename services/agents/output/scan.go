package output

import (
	"strconv"
	"strings"
)

// block is one <document>, <file> or <handoff> block as found in the answer, before validation.
type block struct {
	line    int // line of the opening tag, 1-based
	attrs   attrs
	broken  bool // the opening tag is malformed (already reported)
	content string
}

// scanned is the block structure of an answer.
type scanned struct {
	docs     []block
	files    []block
	handoffs []block
	// hidden says a handoff may be there but was not recognised (and a problem says why): a
	// block runs to the end of the answer, or a <handoff> tag is malformed.
	hidden bool
}

// A content block is a <document> or a <file>: the two differ in their tag and in where their
// content ends.
type blockKind struct {
	open, close string
	// keepLastBreak: a file's content is its lines, each with its line break (a source file
	// ends with one); a document's content stops before the break that precedes its closing tag.
	keepLastBreak bool
	name          string // for messages
}

var (
	documentKind = &blockKind{open: docOpen, close: docClose, name: "document"}
	fileKind     = &blockKind{open: fileOpen, close: fileClose, keepLastBreak: true, name: "file"}
)

// scan splits an answer into its blocks in one pass over the lines. Inside a block only its
// closing tag is recognised, so content may hold anything else verbatim (even tag-like lines).
func scan(text string, p *problems) scanned {
	var (
		s            scanned
		in           *blockKind // the open content block's kind, nil when none is open
		inHandoff    bool
		open         block
		contentStart int
		nestedLine   int // first tag-like line inside the open block, for the hint
	)
	line := 0
	for pos := 0; pos <= len(text); {
		end := strings.IndexByte(text[pos:], '\n')
		next := len(text) + 1
		if end < 0 {
			end = len(text)
		} else {
			end += pos
			next = end + 1
		}
		line++
		t := tagLine(text[pos:end])
		switch {
		case in != nil:
			switch {
			case t == in.close:
				if in.keepLastBreak {
					open.content = text[contentStart:pos]
				} else {
					open.content = between(text, contentStart, pos)
				}
				if in == fileKind {
					s.files = append(s.files, open)
				} else {
					s.docs = append(s.docs, open)
				}
				in = nil
			case nestedLine == 0 && (t == handoffOpen || isOpen(t, docOpen) || isOpen(t, fileOpen)):
				nestedLine = line
			}
		case inHandoff:
			if t == handoffClose {
				open.content = between(text, contentStart, pos)
				s.handoffs = append(s.handoffs, open)
				inHandoff = false
			}
		default:
			switch {
			case isOpen(t, docOpen) || isOpen(t, fileOpen):
				in = documentKind
				if isOpen(t, fileOpen) {
					in = fileKind
				}
				a, problem := parseTag(t, in.open)
				if problem != "" {
					p.add("line %d: %s", line, problem)
				}
				open, nestedLine = block{line: line, attrs: a, broken: problem != ""}, 0
				contentStart = min(next, len(text))
			case t == handoffOpen:
				open, inHandoff = block{line: line}, true
				contentStart = min(next, len(text))
			case t == docClose || t == fileClose || t == handoffClose:
				p.add("line %d: %s without an opening tag", line, t)
			case isHandoffTag(t):
				p.add("line %d: the <handoff> tag must stand alone on its line, with the JSON on the lines after it", line)
				s.hidden = true
			}
		}
		pos = next
	}
	switch {
	case in != nil:
		hint := ""
		if nestedLine > 0 {
			hint = " (so the tag at line " + strconv.Itoa(nestedLine) + " is taken as part of its content)"
		}
		name := open.attrs.title
		if in == fileKind {
			name = open.attrs.path
		}
		p.add("%s %s (line %d) is never closed with %s%s", in.name, quote(name), open.line, in.close, hint)
		s.hidden = true
	case inHandoff:
		p.add("the <handoff> block (line %d) is never closed with %s", open.line, handoffClose)
		s.hidden = true
	}
	return s
}

// between is the content from start to the line starting at closeLine, without the line break
// that ends the last content line.
func between(text string, start, closeLine int) string {
	if closeLine <= start {
		return ""
	}
	return text[start : closeLine-1]
}
