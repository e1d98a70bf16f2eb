package projects

import (
	"strconv"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// The domain names enumerations with lower-case words ("in_review"); the protos with prefixed
// upper-case names (GATE_STATE_IN_REVIEW). These two helpers are the whole mapping, for every
// enum: the proto name is the prefix plus the domain word in upper case.

// fromProto returns the domain word of a proto enum value: "" for the zero value (not set),
// and for a number the enum does not define a word no domain check accepts, so the request is
// refused naming the field instead of being taken as "not set".
func fromProto[E ~int32](v E, names map[int32]string, prefix string) string {
	if v == 0 {
		return ""
	}
	name, ok := names[int32(v)]
	if !ok {
		return "undefined-" + strconv.Itoa(int(v))
	}
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}

// toProto returns the proto enum value of a domain word (the zero value if unknown).
func toProto[E ~int32](word string, values map[string]int32, prefix string) E {
	return E(values[prefix+strings.ToUpper(word)])
}

// mapSlice converts each element.
func mapSlice[A, B any](in []A, f func(A) B) []B {
	out := make([]B, len(in))
	for i, a := range in {
		out[i] = f(a)
	}
	return out
}

// invalidField is a validation error on one request field, for checks the handler makes.
func invalidField(field, description string) error {
	var v apperr.Violations
	v.Add(field, description)
	return v.Err()
}
