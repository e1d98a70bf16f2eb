package output

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
)

// Parse reads an answer. It returns every problem it finds (bounded) as an *Error, each naming
// its line or field, so the model can be told exactly what to fix. On success the Output is
// normalised: canonical type, role and priority words, trimmed titles and keys, and nil for
// empty lists. The work is linear in the size of the answer.
func Parse(text string) (Output, error) {
	var p problems
	s := scan(text, &p)
	docs := documents(s.docs, &p)
	files := files(s.files, docs, &p)
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
			h = validHandoff(h, docs, files, &p)
		}
	}
	if err := p.err(); err != nil {
		return Output{}, err
	}
	return Output{Documents: docs, Files: files, Handoff: h}, nil
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

// files validates the file blocks and returns them. A path names one file whatever its case
// (some file systems fold case), and no path may be both a file and a directory, so that the
// tree can be written out anywhere; nor may a file share its title with a code document of the
// answer, since both would be the same document.
func files(blocks []block, docs []Document, p *problems) []File {
	if len(blocks) > MaxFiles {
		p.add("the answer has %d files; at most %d are allowed", len(blocks), MaxFiles)
	}
	var out []File
	firstLine := make(map[string]int, len(blocks)) // lower-case path -> line
	for _, d := range docs {
		if d.Type == CodeType {
			firstLine[titleKey(d.Title)] = 0
		}
	}
	total := 0
	for _, b := range blocks {
		f := File{Path: strings.TrimSpace(b.attrs.path), Content: b.content}
		name := fmt.Sprintf("file %s (line %d)", quote(f.Path), b.line)
		pathOK := false
		switch {
		case !b.attrs.hasPath && b.broken:
		case !b.attrs.hasPath:
			p.add("line %d: <file> has no path attribute", b.line)
		default:
			if err := sourcetree.CheckPath(f.Path); err != nil {
				p.add("line %d: <file> path: %v", b.line, err)
			} else {
				pathOK = true
			}
		}
		total += len(f.Content)
		switch {
		case len(f.Content) > MaxFileBytes:
			p.add("%s is %d bytes long; at most %d KiB are allowed", name, len(f.Content), MaxFileBytes>>10)
		case !utf8.ValidString(f.Content):
			p.add("%s is not valid UTF-8 (binary files cannot be written)", name)
		case strings.IndexByte(f.Content, 0) >= 0:
			p.add("%s contains a NUL character (binary files cannot be written)", name)
		}
		if pathOK {
			k := strings.ToLower(f.Path)
			switch first, dup := firstLine[k]; {
			case dup && first == 0:
				p.add("%s has the path of a code document of this answer; write the file once", name)
			case dup:
				p.add("%s repeats the path of the file at line %d (paths differing only in case are the same file)", name, first)
			default:
				firstLine[k] = b.line
			}
		}
		out = append(out, f)
	}
	if total > MaxFilesBytes {
		p.add("the answer's files hold %d bytes; at most %d MiB are allowed in all", total, MaxFilesBytes>>20)
	}
	for i, f := range out {
		// A directory of this file that is also a file of the answer.
		for dir := f.Path; sourcetree.IsPath(f.Path); {
			j := strings.LastIndexByte(dir, '/')
			if j < 0 {
				break
			}
			dir = dir[:j]
			if line, isFile := firstLine[strings.ToLower(dir)]; isFile && line > 0 {
				p.add("file %s (line %d) is inside %s, which is also a file (line %d)", quote(f.Path), blocks[i].line, quote(dir), line)
				break
			}
		}
	}
	return out
}
