package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

func TestSecretsAreRedactedAndRequestIDAdded(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelDebug, "test")
	ctx := requestid.NewContext(context.Background(), "req-123")
	log.InfoContext(ctx, "login", "email", "a@example.com", "password", "hunter2-secret",
		slog.Group("req", "refresh_token", "eyJhbGciOi", "Authorization", "Bearer abc"))

	out := buf.String()
	for _, leaked := range []string{"hunter2-secret", "eyJhbGciOi", "Bearer abc"} {
		if strings.Contains(out, leaked) {
			t.Errorf("log line leaks %q: %s", leaked, out)
		}
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %v: %s", err, out)
	}
	if line["request_id"] != "req-123" || line["email"] != "a@example.com" || line["component"] != "test" {
		t.Errorf("missing attributes: %s", out)
	}
}
