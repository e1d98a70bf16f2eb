package output

import "strings"

// Format renders an output in the contract's format: its documents, then the handoff. For any
// valid output (one Parse returned), Parse(Format(o)) gives o back.
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
	b.WriteString(handoffOpen + "\n")
	b.WriteString(formatHandoff(o.Handoff))
	b.WriteString(handoffClose + "\n")
	return b.String()
}
