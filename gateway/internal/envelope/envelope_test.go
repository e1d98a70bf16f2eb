package envelope

import (
	"encoding/json"
	"testing"
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
