package auth

import (
	"net/mail"
	"strings"
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

// checkEmail adds a violation unless email (already normalised) is one plain address.
func checkEmail(v *apperr.Violations, email string) {
	switch {
	case email == "":
		v.Add("email", "is required")
	case len(email) > emailMaxLen:
		v.Add("email", "must be at most 254 characters long")
	default:
		addr, err := mail.ParseAddress(email)
		// ParseAddress also accepts "Name <a@b>"; an account email is the bare address only.
		if err != nil || addr.Address != email || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
			v.Add("email", "must be a valid email address such as name@example.com")
		}
	}
}

// checkName adds a violation unless name (already trimmed) is 1 to 100 printable characters.
func checkName(v *apperr.Violations, name string) {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		v.Add("name", "is required")
	case n > nameMaxLen:
		v.Add("name", "must be at most 100 characters long")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		v.Add("name", "must not contain control characters")
	}
}
