package offline

import (
	"context"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/specvalidate"
)

// Every API specification the offline provider writes passes the same OpenAPI validation as a
// model's (kin-openapi), so G3's spec_validation proof passes in offline mode too.
func TestAPISpecsPassSpecValidation(t *testing.T) {
	cases := []struct {
		description, feedback string
		revision              int
	}{
		{recipes, "", 0},
		{"Support agents can search past tickets and suggest answers using an LLM.", "Rename tickets to cases.", 3},
		{hostile, hostile, 1},
		{"", "", 0},
	}
	for _, pt := range catalog.ProjectTypes() {
		for _, c := range cases {
			for _, res := range workflow(t, pt, c.description, c.revision, c.feedback) {
				for _, d := range res.out.Documents {
					if d.Type != "api_spec" {
						continue
					}
					if r := specvalidate.OpenAPI(context.Background(), []byte(d.Content)); !r.Pass {
						t.Errorf("%s, revision %d: %s\n%s", pt, c.revision, r.Summary, d.Content)
					}
				}
			}
		}
	}
}
