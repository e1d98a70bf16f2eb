package streamcall

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxMessage = 500 // bytes of a vendor message worth showing
	maxType    = 100
)

// VendorError is the error object both vendors send, in error responses and in streams:
// Anthropic {"type":"error","error":{"type","message"}}, OpenAI {"error":{"message","type","code"}}.
type VendorError struct {
	Type    string
	Message string
	Code    string // OpenAI's code, e.g. "insufficient_quota"; "" when absent or not a string
}

// ParseError reads a vendor error body. Besides the two vendors' shapes it accepts what
// OpenAI-compatible servers send: {"error":"text"} and a top-level {"message","type"}.
// Anything else yields a zero VendorError.
func ParseError(raw []byte) VendorError {
	var doc struct {
		errorObject
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return VendorError{}
	}
	var obj errorObject
	switch {
	case IsNull(doc.Error):
		obj = doc.errorObject
		if obj.Type == "error" { // Anthropic's envelope type, not an error type
			obj.Type = ""
		}
	case json.Unmarshal(doc.Error, &obj) == nil:
	default:
		_ = json.Unmarshal(doc.Error, &obj.Message)
	}
	var code string
	_ = json.Unmarshal(obj.Code, &code) // numeric codes (vLLM sends the status) say nothing new
	typ := obj.Type
	if typ == "" {
		typ = code
	}
	return VendorError{Type: typ, Message: obj.Message, Code: code}
}

// IsNull reports whether a JSON value is absent or null.
func IsNull(v json.RawMessage) bool {
	return len(v) == 0 || string(v) == "null"
}

type errorObject struct {
	Type    string          `json:"type"`
	Message string          `json:"message"`
	Code    json.RawMessage `json:"code"`
}

// clean makes server-supplied text safe to show: the secret removed (before truncating, so no
// fragment of it survives), control characters dropped, and at most max bytes kept.
func clean(s, secret string, max int) string {
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
