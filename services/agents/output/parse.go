package output

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Parse reads an answer. It returns every problem it finds (bounded) as an *Error, each naming
// its line or field, so the model can be told exactly what to fix. On success the Output is
// normalised: canonical type, role and priority words, trimmed titles and keys, and nil for
// empty lists. The work is linear in the size of the answer.
func Parse(text string) (Output, error) {
	var p problems
	s := scan(text, &p)
	docs := documents(s.docs, &p)
	var h Handoff
	switch {
	case len(s.handoffs) == 0 && !s.hidden:
		p.add("no <handoff> block: the answer must end with one")
	case len(s.handoffs) > 0:
		for _, extra := range s.handoffs[1:] {
			p.add("line %d: a second <handoff> block (the first is at line %d); an answer has exactly one", extra.line, s.handoffs[0].line)
		}
		var ok bool
		if h, ok = decodeHandoff(s.handoffs[0], &p); ok {
			h = validHandoff(h, docs, &p)
		}
	}
	if err := p.err(); err != nil {
		return Output{}, err
	}
	return Output{Documents: docs, Handoff: h}, nil
}

// documents validates the document blocks and returns them normalised.
func documents(blocks []block, p *problems) []Document {
	if len(blocks) > MaxDocuments {
		p.add("the answer has %d documents; at most %d are allowed", len(blocks), MaxDocuments)
	}
	var docs []Document
	firstLine := make(map[string]int, len(blocks)) // type and title key -> line
	for _, b := range blocks {
		d := Document{Title: strings.TrimSpace(b.attrs.title), Content: b.content}
		name := fmt.Sprintf("document %s (line %d)", quote(d.Title), b.line)
		switch typ, ok := docType(b.attrs.typ); {
		case !b.attrs.hasType && b.broken:
		case !b.attrs.hasType:
			p.add("line %d: <document> has no type attribute", b.line)
		case !ok:
			p.add("line %d: document type %s is not one of %s", b.line, quote(b.attrs.typ), docTypeList)
		default:
			d.Type = typ
		}
		switch {
		case !b.attrs.hasTitle && b.broken:
		case !b.attrs.hasTitle:
			p.add("line %d: <document> has no title attribute", b.line)
		case d.Title == "":
			p.add("line %d: <document> has an empty title", b.line)
		default:
			if problem := lineProblem(d.Title, MaxTitleLen); problem != "" {
				p.add("line %d: document title %s %s", b.line, quote(d.Title), problem)
			}
		}
		switch {
		case len(d.Content) > MaxContentBytes:
			p.add("%s is %d bytes long; at most %d KiB are allowed", name, len(d.Content), MaxContentBytes>>10)
		case strings.TrimSpace(d.Content) == "":
			p.add("%s is empty", name)
		case !utf8.ValidString(d.Content):
			p.add("%s is not valid UTF-8", name)
		}
		if d.Type != "" && d.Title != "" {
			k := d.Type + "\x00" + titleKey(d.Title)
			if first, dup := firstLine[k]; dup {
				p.add("%s repeats the type and title of the document at line %d", name, first)
			} else {
				firstLine[k] = b.line
			}
		}
		docs = append(docs, d)
	}
	return docs
}
