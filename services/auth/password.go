package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane). They are encoded
// in every hash, so raising them later only affects new hashes.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length bounds, in characters. The upper bound keeps hashing cost bounded.
const (
	passwordMinLen = 10
	passwordMaxLen = 128
)

// hashPassword returns the PHC-format argon2id hash of password.
func hashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// hashLimiter bounds concurrent argon2id computations. Each holds 19 MiB for about 50 ms, so an
// unbounded burst exhausts memory (300 parallel resets reached 4.7 GB); past the bound a caller
// waits up to wait, then is refused.
//
// The refusal is a 429 with Retry-After rather than a 503: the instance is healthy, only
// saturated; clients already handle 429 for rate limits and lockouts, while gRPC clients and
// proxies retry UNAVAILABLE on their own, which would add to the very load being shed.
type hashLimiter struct {
	slots chan struct{}
	wait  time.Duration
}

func newHashLimiter(n int, wait time.Duration) *hashLimiter {
	return &hashLimiter{slots: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot; the caller must release it.
func (l *hashLimiter) acquire(ctx context.Context) error {
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-t.C:
		return apperr.ResourceExhausted(time.Second, "the server is busy; try again in a moment")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *hashLimiter) release() { <-l.slots }

var errBadHash = errors.New("malformed password hash")

// verifyPassword reports whether password matches the PHC-format argon2id hash, in constant time
// with respect to the password.
func verifyPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil {
		return false, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// checkPasswordPolicy adds one violation per broken rule to v, under field. Length matters more
// than composition (NIST SP 800-63B), so the composition rules are deliberately mild.
func checkPasswordPolicy(v *apperr.Violations, field, password, email string) {
	n := utf8.RuneCountInString(password)
	if n < passwordMinLen {
		v.Add(field, fmt.Sprintf("must be at least %d characters long", passwordMinLen))
	}
	if n > passwordMaxLen {
		v.Add(field, fmt.Sprintf("must be at most %d characters long", passwordMaxLen))
	}
	var letter, other bool
	for _, r := range password {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r):
			other = true
		}
	}
	if !letter {
		v.Add(field, "must contain at least one letter")
	}
	if !other {
		v.Add(field, "must contain at least one digit, space or symbol")
	}
	checkPasswordNotEmail(v, field, password, email)
}

// checkPasswordNotEmail adds a violation if password contains the local part of email (when it
// is long enough to matter). Empty email: nothing to check yet.
func checkPasswordNotEmail(v *apperr.Violations, field, password, email string) {
	if local, _, ok := strings.Cut(email, "@"); ok && len(local) >= 3 && strings.Contains(strings.ToLower(password), local) {
		v.Add(field, "must not contain your email address")
	}
}
