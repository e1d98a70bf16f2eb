// Package envelope writes the one JSON shape every gateway response has:
//
//	{"success": true,  "data": {...},                                  "meta": {"timestamp": ..., "requestId": ...}}
//	{"success": false, "error": {"code", "message", "details"},        "meta": {...}}
//
// Error codes are the google.rpc.Code names (INVALID_ARGUMENT, UNAUTHENTICATED, ...), so a client
// sees the same vocabulary over REST and gRPC.
package envelope

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

// Envelope is the body of every JSON response of the gateway.
type Envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data,omitempty"`
	Error   *Error          `json:"error,omitempty"`
	Meta    Meta            `json:"meta"`
}

// Error describes why a request failed.
type Error struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details *Details `json:"details,omitempty"`
}

// Details carries the structured parts of an error; every part is optional.
type Details struct {
	// Fields lists the offending request fields of a validation error.
	Fields []Field `json:"fields,omitempty"`
	// Reason is a stable machine-readable reason, e.g. REFRESH_TOKEN_REVOKED.
	Reason string `json:"reason,omitempty"`
	// Metadata adds machine-readable facts to the reason, e.g. {"currentVersion": "5"}.
	Metadata map[string]string `json:"metadata,omitempty"`
	// RetryAfterSeconds tells a rate-limited client when to retry (also in Retry-After).
	RetryAfterSeconds int64 `json:"retryAfterSeconds,omitempty"`
}

// Field is one offending request field.
type Field struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// Meta identifies the response.
type Meta struct {
	Timestamp string `json:"timestamp"`
	RequestID string `json:"requestId,omitempty"`
}

// Now is the clock used for meta.timestamp; tests may replace it.
var Now = time.Now

// NewMeta returns the meta block for a response to the request carried by ctx.
func NewMeta(ctx context.Context) Meta {
	return Meta{Timestamp: Now().UTC().Format(time.RFC3339Nano), RequestID: requestid.FromContext(ctx)}
}

// AppendSuccess appends a success envelope around data, which must be valid JSON, built by
// hand: the hot path of every successful API call should not re-encode (and re-validate) data
// that protojson just produced. The meta strings need no escaping: timestamps are RFC 3339 and
// request ids are restricted to requestid.Valid's alphabet (or generated).
func AppendSuccess(dst []byte, data []byte, m Meta) []byte {
	dst = append(dst, `{"success":true,"data":`...)
	dst = append(dst, data...)
	dst = append(dst, `,"meta":{"timestamp":"`...)
	dst = append(dst, m.Timestamp...)
	dst = append(dst, '"')
	if m.RequestID != "" {
		dst = append(dst, `,"requestId":"`...)
		dst = append(dst, m.RequestID...)
		dst = append(dst, '"')
	}
	return append(dst, "}}"...)
}

// WriteError writes an error envelope with the given HTTP status. A positive
// details.RetryAfterSeconds also sets the Retry-After header. An overlong value in the message
// or a field's description (a 100 KB path id echoed by a service) is clipped (ClipWords).
func WriteError(w http.ResponseWriter, r *http.Request, httpStatus int, code, message string, details *Details) {
	message = ClipWords(message)
	if details != nil {
		for i := range details.Fields {
			details.Fields[i].Field = Clip(details.Fields[i].Field)
			details.Fields[i].Description = ClipWords(details.Fields[i].Description)
		}
	}
	if details != nil && details.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(details.RetryAfterSeconds, 10))
	}
	write(w, httpStatus, Envelope{
		Error: &Error{Code: code, Message: message, Details: details},
		Meta:  NewMeta(r.Context()),
	})
}

// WriteData writes a success envelope around data, which must be valid JSON.
func WriteData(w http.ResponseWriter, r *http.Request, httpStatus int, data json.RawMessage) {
	write(w, httpStatus, Envelope{Success: true, Data: data, Meta: NewMeta(r.Context())})
}

func write(w http.ResponseWriter, httpStatus int, e Envelope) {
	body, err := json.Marshal(e)
	if err != nil { // only possible with invalid RawMessage data: a bug, not bad input
		httpStatus = http.StatusInternalServerError
		body = []byte(`{"success":false,"error":{"code":"INTERNAL","message":"internal error"},"meta":{}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}

// MaxEcho is how many bytes of one client-sent value (a path, an id) a message or a log line
// repeats: enough to recognise it, never the whole of a 100 KB path.
const MaxEcho = 256

// Clip returns s cut to at most MaxEcho bytes, at a rune boundary, with an ellipsis when cut.
func Clip(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	cut := MaxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// ClipWords clips every run of non-space characters longer than MaxEcho (see Clip), so a
// message keeps all its words and loses only the length of an overlong value in it.
func ClipWords(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexAny(s, " \t\n")
		if i < 0 {
			b.WriteString(Clip(s))
			break
		}
		b.WriteString(Clip(s[:i]))
		b.WriteByte(s[i])
		s = s[i+1:]
	}
	return b.String()
}
