package offline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// writers produce a document of each type from the project and its title.
var writers = map[string]func(p *project, title string) string{
	"intake":           (*project).intake,
	"requirements":     (*project).requirements,
	"user_story":       (*project).userStories,
	"architecture":     (*project).architecture,
	"api_spec":         func(p *project, _ string) string { return p.apiSpec() },
	"database_schema":  (*project).databaseSchema,
	"design":           (*project).design,
	"test_plan":        (*project).testPlan,
	"security_audit":   (*project).securityAudit,
	"deployment_guide": (*project).deploymentGuide,
	"runbook":          (*project).runbook,
	"other":            (*project).projectPlan,
}

// answer writes the whole answer of a brief in the output contract's format, and checks it the
// way an answer from a model is checked, so the offline provider never hands over anything the
// platform would refuse.
func answer(b provider.Brief) (string, error) {
	p := newProject(b)
	var o output.Output
	required := make([]provider.DocSpec, len(b.Required))
	for i, spec := range b.Required {
		required[i] = spec
		if spec.Files {
			o.Files = append(o.Files, p.sourceTree()...)
			o.Handoff.Deliverables = appendNew(o.Handoff.Deliverables, spec.Type)
			continue
		}
		write, ok := writers[spec.Type]
		if !ok {
			return "", fmt.Errorf("cannot write a document of type %q", spec.Type)
		}
		spec.Title = cmpOr(oneLine(clean(spec.Title), output.MaxTitleLen), defaultTitle(spec.Type))
		required[i] = spec
		o.Documents = append(o.Documents, output.Document{Type: spec.Type, Title: spec.Title, Content: write(p, spec.Title)})
		o.Handoff.Deliverables = appendNew(o.Handoff.Deliverables, spec.Type)
	}
	if b.Role == catalog.Architect && b.Gate == 3 {
		o.Files = append(o.Files, p.manifest()) // how the tree is built and previewed
	}
	o.Handoff.NextRoles = slices.Clone(b.NextRoles)
	o.Handoff.Notes = p.notes(o)
	if b.Role == catalog.ProductManager && b.Gate == 1 {
		o.Handoff.Tasks = p.decomposition()
	}
	text := output.Format(o)
	parsed, err := output.Parse(text)
	if err == nil {
		err = parsed.Check(required)
	}
	if err != nil {
		return "", fmt.Errorf("the answer does not pass the output contract: %w", err)
	}
	return text, nil
}

// appendNew appends w to list unless it is there already.
func appendNew(list []string, w string) []string {
	if slices.Contains(list, w) {
		return list
	}
	return append(list, w)
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// defaultTitle is the catalog's canonical title of a document type, for a spec without one.
func defaultTitle(docType string) string {
	for _, r := range catalog.All() {
		for g := 1; g <= catalog.GateCount; g++ {
			for _, d := range r.OutputsFor(g) {
				if d.Type == docType {
					return d.Title
				}
			}
		}
	}
	return upperFirst(strings.ReplaceAll(docType, "_", " "))
}

// notes is the handoff's notes: what was produced from what, and what it is.
func (p *project) notes(o output.Output) string {
	b := p.brief
	who := cmpOr(oneLine(clean(b.RoleName), 60), b.Role)
	var titles []string
	for _, d := range o.Documents {
		titles = append(titles, fmt.Sprintf("%q", d.Title))
	}
	if n := len(o.Files); n > 0 {
		titles = append(titles, fmt.Sprintf("%d source files under %s/", n, strings.Split(o.Files[0].Path, "/")[0]))
	}
	s := fmt.Sprintf("Offline provider run of the %s at G%d %s", who, b.Gate, cmpOr(oneLine(clean(b.GateName), 40), catalog.GateName(b.Gate)))
	if b.Revision > 0 {
		s += fmt.Sprintf(", revision %d", b.Revision)
	}
	if len(titles) > 0 {
		s += ": produced " + list(titles)
	}
	s += ". Built from the project description"
	if e := p.earlier(); len(e) > 0 {
		s += " and " + list(e[:min(len(e), 12)])
	}
	s += fmt.Sprintf(". Features found: %d; resources: %s. This is deterministic scaffolding from fixed templates, not a model's judgement: review and edit it, or configure a language-model provider for project-specific depth.",
		len(p.features), list(p.resourceLabels()))
	return oneLine(s, output.MaxNotesLen)
}
