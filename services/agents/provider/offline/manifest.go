package offline

import (
	"encoding/json"

	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
)

// previewPort is where the preview serves the built frontend (Vite's preview server).
const previewPort = 4173

// manifest is the architect's fuzzyllama.json: the components are found from their go.mod and
// package.json, and the preview serves the frontend's production build (built by G5's build
// step) so that verification can probe it and take a screenshot of its first page.
func (p *project) manifest() output.File {
	m := map[string]any{
		"preview": map[string]any{
			"dir":        "frontend",
			"command":    []string{"npx", "vite", "preview", "--host", "127.0.0.1", "--port", itoa(previewPort), "--strictPort"},
			"port":       previewPort,
			"healthPath": "/",
			"page":       "/",
		},
	}
	b, _ := json.MarshalIndent(m, "", "  ") // a map of strings and numbers always marshals
	return output.File{Path: "fuzzyllama.json", Content: string(b) + "\n"}
}
