package offline

import (
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// FuzzAnswer checks that whatever the user typed, every role's answer passes the output
// contract and the API specification stays valid YAML/OpenAPI: the offline provider must never
// be the reason a run fails.
func FuzzAnswer(f *testing.F) {
	f.Add("Recipe Box", recipes, "", 0)
	short := hostile[:400] // the whole of it makes each execution slow, and the fuzzer mutates length anyway
	f.Add("R&D \"Ops\" <tool>", short, short, 2)
	f.Add("", "", "", 1)
	f.Add("Ünïcødé 🍰", "Köche können Rezepte teilen. 料理人はレシピを共有できます。", "Mehr Farbe!\r\nBitte.", 1)
	roles := catalog.All()
	f.Fuzz(func(t *testing.T, name, description, feedback string, revision int) {
		var docs []provider.ContextDocument
		for _, r := range roles {
			for _, g := range r.Gates {
				b := provider.Brief{Role: r.ID, RoleName: r.Name, Gate: g, GateName: catalog.GateName(g), Revision: revision,
					ProjectName: name, ProjectType: r.ProjectTypes[len(r.ProjectTypes)-1], Description: description,
					Feedback: feedback, Instructions: feedback, Required: r.OutputsFor(g), Documents: docs, OpenTasks: []string{name}}
				text, err := answer(b)
				if err != nil {
					t.Fatalf("%s G%d: %v", r.ID, g, err)
				}
				o, _ := output.Parse(text)
				for _, d := range o.Documents {
					if d.Type == "api_spec" {
						checkOpenAPI(t, d.Content)
					}
					docs = append(docs, provider.ContextDocument{Type: d.Type, Title: d.Title, Version: 1, Content: d.Content})
				}
			}
		}
	})
}
