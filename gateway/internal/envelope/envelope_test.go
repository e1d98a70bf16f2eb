package envelope

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestAppendSuccessIsTheEnvelope: the hand-built success body decodes to the same envelope the
// encoder would produce.
func TestAppendSuccessIsTheEnvelope(t *testing.T) {
	for _, m := range []Meta{{Timestamp: "2026-01-02T03:04:05.123Z", RequestID: "abc-123"}, {Timestamp: "2026-01-02T03:04:05Z"}} {
		body := AppendSuccess(nil, []byte(`{"project":{"id":"p1","tags":["a","b"]}}`), m)
		var got Envelope
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("not JSON: %v: %s", err, body)
		}
		want, _ := json.Marshal(Envelope{Success: true, Data: json.RawMessage(`{"project":{"id":"p1","tags":["a","b"]}}`), Meta: m})
		if string(body) != string(want) {
			t.Fatalf("\n got %s\nwant %s", body, want)
		}
	}
}

func TestClip(t *testing.T) {
	short := strings.Repeat("a", MaxEcho)
	if Clip(short) != short || ClipWords("a b c") != "a b c" {
		t.Error("short values are kept whole")
	}
	long := strings.Repeat("é", MaxEcho) // 2 bytes a rune: the cut must not split one
	got := Clip(long)
	if !strings.HasSuffix(got, "…") || len(got) > MaxEcho+len("…") || !utf8.ValidString(got) {
		t.Errorf("Clip: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	msg := ClipWords("project " + strings.Repeat("x", 5000) + " not found")
	if !strings.HasPrefix(msg, "project xxx") || !strings.HasSuffix(msg, "… not found") || len(msg) > 300 {
		t.Errorf("ClipWords: %.300q", msg)
	}
}
