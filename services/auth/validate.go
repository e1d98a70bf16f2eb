package auth

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

const (
	emailMaxLen = 254 // RFC 5321 path limit
	nameMaxLen  = 100
)

// normalizeEmail trims and lower-cases an address; the result is the account key.
func normalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// hasControl reports whether s contains a control character, NUL included. None belongs in an
// email, a name or an id, and PostgreSQL cannot even store NUL in text: the query fails.
func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

// checkEmailShape adds a violation unless email (already normalised) is present, at most 254
// bytes and free of control characters — what any email must be before it reaches the store or
// a Redis key. It reports whether email passed.
func checkEmailShape(v *apperr.Violations, email string) bool {
	switch {
	case email == "":
		v.Add("email", "is required")
	case len(email) > emailMaxLen:
		v.Add("email", "must be at most 254 characters long")
	case hasControl(email):
		v.Add("email", "must not contain control characters")
	default:
		return true
	}
	return false
}

// checkEmail adds a violation unless email (already normalised) is one plain address.
func checkEmail(v *apperr.Violations, email string) {
	if !checkEmailShape(v, email) {
		return
	}
	addr, err := mail.ParseAddress(email)
	// ParseAddress also accepts "Name <a@b>"; an account email is the bare address only.
	if err != nil || addr.Address != email || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		v.Add("email", "must be a valid email address such as name@example.com")
	}
}

// checkName adds a violation unless name (already trimmed) is 1 to 100 printable characters.
func checkName(v *apperr.Violations, name string) {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		v.Add("name", "is required")
	case n > nameMaxLen:
		v.Add("name", "must be at most 100 characters long")
	case hasControl(name):
		v.Add("name", "must not contain control characters")
	}
}
