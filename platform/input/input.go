// Package input holds the rules every service applies to request input before it reaches a
// store: what an id from a request may look like, and what counts as acceptable text. The rules
// are shared so that every service answers the same bad input with the same 4xx.
package input

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// IDMaxLen is the longest id a request may name.
const IDMaxLen = 128

// ValidID reports whether an id from a request can name anything: ids are at most IDMaxLen
// characters of valid UTF-8 without control characters (UUIDs in practice). Anything else names
// nothing, and must not reach a database (PostgreSQL refuses NUL in text with a server error).
func ValidID(id string) bool {
	return id != "" && len(id) <= IDMaxLen && utf8.ValidString(id) && !strings.ContainsFunc(id, unicode.IsControl)
}

// CheckText adds a violation unless value is valid UTF-8 text of at most max characters
// (non-empty if required) without control characters other than line breaks and tabs.
func CheckText(v *apperr.Violations, field, value string, required bool, max int) {
	n := utf8.RuneCountInString(value)
	switch {
	case required && strings.TrimSpace(value) == "":
		v.Add(field, "is required")
	case n > max:
		v.Add(field, fmt.Sprintf("must be at most %d characters long", max))
	case !utf8.ValidString(value):
		v.Add(field, "must be valid UTF-8")
	case strings.ContainsFunc(value, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		v.Add(field, "must not contain control characters")
	}
}

// CheckLine is CheckText for one line of text (a title, a name, an identifier): no control
// characters at all, line breaks and tabs included, since such values end up in headers, file
// names and single-line displays.
func CheckLine(v *apperr.Violations, field, value string, required bool, max int) {
	if strings.ContainsFunc(value, unicode.IsControl) && utf8.ValidString(value) {
		v.Add(field, "must be one line without control characters")
		return
	}
	CheckText(v, field, value, required, max)
}

// Clean makes text pass CheckText with the given max: invalid UTF-8 and control characters other
// than line breaks and tabs become spaces, and text over max characters is cut (on a character
// boundary) and ends with "…". For text a service composes from others' words (a provider's
// error message in a block reason) rather than a request's.
func Clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	return string(runes[:max-1]) + "…"
}

// OptionalTime converts an optional timestamp field: the zero time when it is unset, an
// INVALID_ARGUMENT naming the field when it is out of range.
func OptionalTime(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, apperr.InvalidField(field, "must be a time from 0001-01-01 to 9999-12-31, with nanos below a second")
	}
	return ts.AsTime(), nil
}
