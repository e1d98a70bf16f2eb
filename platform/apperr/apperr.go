// Package apperr is the one error model of every FuzzyLlama service. Domain code returns *Error
// values built with the constructors below; the gRPC server turns them into a status with
// details (see ToStatus) and the gateway turns that status into the HTTP envelope. Any other
// error reaching the edge of a service is an internal error: it is logged and masked.
package apperr

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies an error the way a caller must react to it. Each kind maps to one gRPC code.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalid
	KindNotFound
	KindAlreadyExists
	KindUnauthenticated
	KindPermissionDenied
	KindFailedPrecondition
	KindAborted
	KindResourceExhausted
	KindUnavailable
)

// FieldViolation names one offending request field and what is wrong with it.
type FieldViolation struct {
	Field       string
	Description string
}

// Error is a domain error that is safe to show to the caller.
type Error struct {
	Kind    Kind
	Message string
	// Fields lists the offending fields of a KindInvalid error.
	Fields []FieldViolation
	// RetryAfter tells a KindResourceExhausted caller when to try again.
	RetryAfter time.Duration
	// Reason is a stable machine-readable reason (e.g. "REFRESH_TOKEN_REVOKED").
	Reason string
	// Metadata adds machine-readable facts to the reason (e.g. "currentVersion": "5"); it
	// travels only with a reason.
	Metadata map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Description
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsKind reports whether err carries an *Error of the given kind.
func IsKind(err error, k Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == k
}

func newf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing resource, or one the caller may not know exists.
func NotFound(format string, args ...any) *Error { return newf(KindNotFound, format, args...) }

// AlreadyExists reports a conflict with an existing resource.
func AlreadyExists(format string, args ...any) *Error {
	return newf(KindAlreadyExists, format, args...)
}

// Unauthenticated reports a missing, invalid or revoked credential.
func Unauthenticated(format string, args ...any) *Error {
	return newf(KindUnauthenticated, format, args...)
}

// PermissionDenied reports an identified caller that may not do this.
func PermissionDenied(format string, args ...any) *Error {
	return newf(KindPermissionDenied, format, args...)
}

// FailedPrecondition reports a request that is valid but not in the current state.
func FailedPrecondition(format string, args ...any) *Error {
	return newf(KindFailedPrecondition, format, args...)
}

// Aborted reports a concurrency conflict (a stale version, a lost race).
func Aborted(format string, args ...any) *Error { return newf(KindAborted, format, args...) }

// Unavailable reports a dependency that cannot be reached right now.
func Unavailable(format string, args ...any) *Error {
	return newf(KindUnavailable, format, args...)
}

// ResourceExhausted reports a limit that was reached; retryAfter may be zero.
func ResourceExhausted(retryAfter time.Duration, format string, args ...any) *Error {
	e := newf(KindResourceExhausted, format, args...)
	e.RetryAfter = retryAfter
	return e
}

// WithReason sets a stable machine-readable reason and returns e.
func (e *Error) WithReason(reason string) *Error {
	e.Reason = reason
	return e
}

// WithMetadata adds a fact to the error's reason and returns e.
func (e *Error) WithMetadata(key, value string) *Error {
	if e.Metadata == nil {
		e.Metadata = map[string]string{}
	}
	e.Metadata[key] = value
	return e
}

// Violations collects field violations; its Err is nil when nothing was added.
type Violations []FieldViolation

// Add records that field is wrong, with a description a person can act on.
func (v *Violations) Add(field, description string) {
	*v = append(*v, FieldViolation{Field: field, Description: description})
}

// Err returns an InvalidArgument error listing every violation, or nil.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	fields := make([]string, 0, len(v))
	seen := map[string]bool{}
	for _, f := range v {
		if !seen[f.Field] {
			seen[f.Field] = true
			fields = append(fields, f.Field)
		}
	}
	return &Error{
		Kind:    KindInvalid,
		Message: "invalid request: check " + strings.Join(fields, ", "),
		Fields:  v,
	}
}

// InvalidField is an InvalidArgument error naming one request field.
func InvalidField(field, description string) error {
	var v Violations
	v.Add(field, description)
	return v.Err()
}
