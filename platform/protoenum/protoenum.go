// Package protoenum maps protobuf enums to the words the domain uses. The domain names
// enumerations with lower-case words ("in_review"); the protos with prefixed upper-case names
// (GATE_STATE_IN_REVIEW). These two functions are the whole mapping, for every enum of every
// service: the proto name is the prefix plus the domain word in upper case.
package protoenum

import (
	"strconv"
	"strings"
)

// Word returns the domain word of a proto enum value: "" for the zero value (not set), and for
// a number the enum does not define a word no domain check accepts, so the request is refused
// naming the field instead of being taken as "not set".
func Word[E ~int32](v E, names map[int32]string, prefix string) string {
	if v == 0 {
		return ""
	}
	name, ok := names[int32(v)]
	if !ok {
		return "undefined-" + strconv.Itoa(int(v))
	}
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}

// Value returns the proto enum value of a domain word (the zero value if unknown).
func Value[E ~int32](word string, values map[string]int32, prefix string) E {
	return E(values[prefix+strings.ToUpper(word)])
}
