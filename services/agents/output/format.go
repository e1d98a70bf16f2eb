package output

import "strings"

// Format renders an output in the contract's format: its documents, its files, then the
// handoff. For any valid output (one Parse returned), Parse(Format(o)) gives o back.
func Format(o Output) string {
	var b strings.Builder
	for _, d := range o.Documents {
		b.WriteString(`<document type="`)
		b.WriteString(escape(d.Type))
		b.WriteString(`" title="`)
		b.WriteString(escape(d.Title))
		b.WriteString("\">\n")
		b.WriteString(d.Content)
		b.WriteString("\n" + docClose + "\n\n")
	}
	for _, f := range o.Files {
		b.WriteString(`<file path="`)
		b.WriteString(escape(f.Path))
		b.WriteString("\">\n")
		b.WriteString(f.Content)
		if f.Content != "" && !strings.HasSuffix(f.Content, "\n") {
			// Not an output Parse returns (a file's lines each end with a break): the closing
			// tag still gets its own line.
			b.WriteString("\n")
		}
		b.WriteString(fileClose + "\n\n")
	}
	b.WriteString(handoffOpen + "\n")
	b.WriteString(formatHandoff(o.Handoff))
	b.WriteString(handoffClose + "\n")
	return b.String()
}
