package output

import (
	"slices"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// Check reports whether the output delivers the documents a run was asked for: each required
// type present with its canonical title (when the spec names one; a different title would
// create a second document instead of a new version) and listed in the handoff's deliverables.
func (o Output) Check(required []provider.DocSpec) error {
	var p problems
	reported := map[string]bool{}
	for _, spec := range required {
		var titles []string
		found := false
		for _, d := range o.Documents {
			if d.Type != spec.Type {
				continue
			}
			titles = append(titles, d.Title)
			found = found || spec.Title == "" || titleKey(d.Title) == titleKey(spec.Title)
		}
		switch {
		case len(titles) == 0 && spec.Title == "":
			p.add("missing a document of type %s", quote(spec.Type))
		case len(titles) == 0:
			p.add("missing document %s of type %s", quote(spec.Title), quote(spec.Type))
		case !found:
			p.add("the %s document must be titled %s (the answer has %s)", spec.Type, quote(spec.Title), quote(titles[0]))
		}
		if !reported[spec.Type] && !slices.Contains(o.Handoff.Deliverables, spec.Type) {
			p.add("handoff: deliverables does not list %s", quote(spec.Type))
			reported[spec.Type] = true
		}
	}
	return p.err()
}
