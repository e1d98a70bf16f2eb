package offline

import (
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// project is what the documents are built from: the brief, cleaned, and the facts derived from
// the description and the earlier documents. Later documents read earlier ones first (the
// requirements' FR list, the API's paths), so that an edit a reviewer made to an approved
// document carries forward instead of being re-derived away.
type project struct {
	brief       provider.Brief
	name        string
	typ         string
	description string
	summary     string
	features    []feature
	resources   []resource
	feedback    string
}

// Bounds on quoted user text, so that a document stays well under the content limit.
const (
	maxQuoted       = 6000
	maxNameLen      = 80
	defaultResource = "item"
)

func newProject(b provider.Brief) *project {
	p := &project{
		brief:       b,
		name:        oneLine(clean(b.ProjectName), maxNameLen),
		typ:         b.ProjectType,
		description: strings.TrimSpace(clean(b.Description)),
		feedback:    strings.TrimSpace(clean(b.Feedback)),
	}
	if p.name == "" {
		p.name = "Untitled project"
	}
	if ss := sentences(p.description); len(ss) > 0 {
		p.summary = strings.TrimRight(oneLine(ss[0], 300), ".…") + "."
	} else {
		p.summary = p.name + " (the project has no description yet)"
	}
	p.features = p.readFeatures()
	if spec, ok := p.doc("api_spec"); ok {
		p.resources = resourcesFromSpec(spec.Content, p.features)
	}
	if len(p.resources) == 0 {
		p.resources = resourcesFromFeatures(p.features)
	}
	if len(p.resources) == 0 {
		p.resources = []resource{{words: []string{defaultResource}, feature: -1}}
	}
	return p
}

// readFeatures prefers the approved requirements, then the intake, then the description.
func (p *project) readFeatures() []feature {
	if d, ok := p.doc("requirements"); ok {
		if fs := featuresFromRequirements(clean(d.Content)); len(fs) > 0 {
			return fs
		}
	}
	if d, ok := p.doc("intake"); ok {
		if fs := featuresFromSection(clean(d.Content), "capabilit"); len(fs) > 0 {
			return fs
		}
	}
	if fs := parseFeatures(p.description); len(fs) > 0 {
		return fs
	}
	return []feature{{action: "manage " + plural(defaultResource), phrase: true}}
}

// doc returns the latest earlier document of a type (the first the caller listed).
func (p *project) doc(docType string) (provider.ContextDocument, bool) {
	for _, d := range p.brief.Documents {
		if d.Type == docType {
			return d, true
		}
	}
	return provider.ContextDocument{}, false
}

// ai reports whether the project has models to build and run.
func (p *project) ai() bool { return p.typ == catalog.AIML || p.typ == catalog.Hybrid }

// typeLabel describes the project type in words.
func (p *project) typeLabel() string {
	switch p.typ {
	case catalog.Traditional:
		return "traditional software"
	case catalog.AIML:
		return "AI/ML"
	case catalog.Hybrid:
		return "hybrid software and AI/ML"
	case catalog.Enhancement:
		return "enhancement"
	}
	return "unspecified type"
}

// slug names the project in code: lower-case ASCII words joined by hyphens.
func (p *project) slug() string {
	var ws []string
	for _, w := range words(p.name) {
		for _, part := range strings.Split(w, "-") {
			if asciiAlnum(part) {
				ws = append(ws, part)
			}
		}
	}
	if len(ws) == 0 || ws[0][0] < 'a' {
		ws = append([]string{"app"}, ws...)
	}
	return strings.Join(ws[:min(len(ws), 4)], "-")
}

// personas are the distinct actors of the features, "user" first when nobody is named.
func (p *project) personas() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range p.features {
		if who := f.persona(); !seen[who] {
			seen[who] = true
			out = append(out, who)
		}
	}
	return out
}

// resourceOf returns the resource a feature acts on: the one read from it, or else the first
// the feature's action names ("rate other people's recipes" acts on recipes).
func (p *project) resourceOf(featureIndex int) (resource, bool) {
	for _, r := range p.resources {
		if r.feature == featureIndex {
			return r, true
		}
	}
	if featureIndex < 0 || featureIndex >= len(p.features) {
		return resource{}, false
	}
	action := " " + strings.Join(words(p.features[featureIndex].action), " ") + " "
	for _, r := range p.resources {
		if strings.Contains(action, " "+r.labelPlural()+" ") || strings.Contains(action, " "+r.label()+" ") {
			return r, true
		}
	}
	return resource{}, false
}

// featureOf returns the feature a resource comes from, if any.
func (p *project) featureOf(r resource) (feature, int, bool) {
	if r.feature < 0 || r.feature >= len(p.features) {
		return feature{}, -1, false
	}
	return p.features[r.feature], r.feature, true
}

// resourceLabels lists the resources in words.
func (p *project) resourceLabels() []string {
	out := make([]string, len(p.resources))
	for i, r := range p.resources {
		out[i] = r.labelPlural()
	}
	return out
}

// feedbackPoints splits the reviewer's feedback into its points.
func (p *project) feedbackPoints() []string {
	var out []string
	for _, s := range points(p.feedback) {
		if len(out) == 20 {
			break
		}
		out = append(out, oneLine(s, 300))
	}
	return out
}

// earlier lists the earlier documents the run was given, for "derived from" notes.
func (p *project) earlier() []string {
	var out []string
	for _, d := range p.brief.Documents {
		out = append(out, oneLine(clean(d.Title), 100)+" v"+itoa(d.Version))
	}
	return out
}
