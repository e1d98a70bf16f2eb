package auth

import (
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := hashPassword("correct horse 42")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("not a PHC argon2id hash: %s", h)
	}
	if ok, err := verifyPassword(h, "correct horse 42"); !ok || err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if ok, _ := verifyPassword(h, "correct horse 43"); ok {
		t.Fatal("wrong password accepted")
	}
	if h2, _ := hashPassword("correct horse 42"); h2 == h {
		t.Fatal("salt not random")
	}
	if _, err := verifyPassword("$2a$10$bcrypt", "x"); err == nil {
		t.Fatal("foreign hash format accepted")
	}
}

func TestPasswordPolicyNamesEachRule(t *testing.T) {
	cases := map[string]int{
		"correct horse 42":       0,
		"short1":                 1, // length
		"abcdefghijkl":           1, // no digit/symbol
		"1234567890123":          1, // no letter
		"!!!":                    2, // length and letter
		strings.Repeat("a1", 65): 1, // too long
		"annsmith-password-1":    1, // contains the email's local part
	}
	for pw, want := range cases {
		var v apperr.Violations
		checkPasswordPolicy(&v, "password", pw, "annsmith@example.com")
		if len(v) != want {
			t.Errorf("%q: %d violations %v, want %d", pw, len(v), v, want)
		}
	}
}
