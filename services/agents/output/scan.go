package output

import (
	"strconv"
	"strings"
)

// block is one <document> or <handoff> block as found in the answer, before validation.
type block struct {
	line    int // line of the opening tag, 1-based
	attrs   docAttrs
	broken  bool // the opening tag is malformed (already reported)
	content string
}

// scanned is the block structure of an answer.
type scanned struct {
	docs     []block
	handoffs []block
	// hidden says a handoff may be there but was not recognised (and a problem says why): a
	// block runs to the end of the answer, or a <handoff> tag is malformed.
	hidden bool
}

// scan splits an answer into its blocks in one pass over the lines. Inside a block only its
// closing tag is recognised, so content may hold anything else verbatim (even tag-like lines).
func scan(text string, p *problems) scanned {
	const (
		outside = iota
		inDocument
		inHandoff
	)
	var (
		s            scanned
		state        = outside
		open         block
		contentStart int
		nestedLine   int // first <handoff> or <document> line inside the open document, for the hint
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
		switch state {
		case outside:
			switch {
			case isDocOpen(t):
				attrs, problem := parseDocTag(t)
				if problem != "" {
					p.add("line %d: %s", line, problem)
				}
				open, state, nestedLine = block{line: line, attrs: attrs, broken: problem != ""}, inDocument, 0
				contentStart = min(next, len(text))
			case t == handoffOpen:
				open, state = block{line: line}, inHandoff
				contentStart = min(next, len(text))
			case t == docClose || t == handoffClose:
				p.add("line %d: %s without an opening tag", line, t)
			case isHandoffTag(t):
				p.add("line %d: the <handoff> tag must stand alone on its line, with the JSON on the lines after it", line)
				s.hidden = true
			}
		case inDocument:
			switch {
			case t == docClose:
				open.content = between(text, contentStart, pos)
				s.docs = append(s.docs, open)
				state = outside
			case nestedLine == 0 && (t == handoffOpen || isDocOpen(t)):
				nestedLine = line
			}
		case inHandoff:
			if t == handoffClose {
				open.content = between(text, contentStart, pos)
				s.handoffs = append(s.handoffs, open)
				state = outside
			}
		}
		pos = next
	}
	switch state {
	case inDocument:
		hint := ""
		if nestedLine > 0 {
			hint = " (so the tag at line " + strconv.Itoa(nestedLine) + " is taken as part of its content)"
		}
		p.add("document %s (line %d) is never closed with %s%s", quote(open.attrs.title), open.line, docClose, hint)
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
