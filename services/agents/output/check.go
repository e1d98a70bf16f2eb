package output

import (
	"slices"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// Check reports whether the output delivers what a run was asked for: each required document
// type present with its canonical title (when the spec names one; a different title would
// create a second document instead of a new version), at least one file block for a spec of
// files (a code document does not do: the code is a source tree), and each required type
// listed in the handoff's deliverables.
func (o Output) Check(required []provider.DocSpec) error {
	var p problems
	reported := map[string]bool{}
	for _, spec := range required {
		if spec.Files {
			if len(o.Files) == 0 {
				p.add("missing the source files: write each file of the code as a <file path=\"…\"> block")
			}
		} else {
			o.checkDocument(spec, &p)
		}
		if !reported[spec.Type] && !slices.Contains(o.Handoff.Deliverables, spec.Type) {
			p.add("handoff: deliverables does not list %s", quote(spec.Type))
			reported[spec.Type] = true
		}
	}
	return p.err()
}

// checkDocument reports a required document that is missing or mistitled.
func (o Output) checkDocument(spec provider.DocSpec, p *problems) {
	var titles []string
	for _, d := range o.Documents {
		if d.Type != spec.Type {
			continue
		}
		if spec.Title == "" || titleKey(d.Title) == titleKey(spec.Title) {
			return
		}
		titles = append(titles, d.Title)
	}
	switch {
	case len(titles) > 0:
		p.add("the %s document must be titled %s (the answer has %s)", spec.Type, quote(spec.Title), quote(titles[0]))
	case spec.Title == "":
		p.add("missing a document of type %s", quote(spec.Type))
	default:
		p.add("missing document %s of type %s", quote(spec.Title), quote(spec.Type))
	}
}
