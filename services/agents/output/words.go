package output

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/protoenum"
)

// docType returns the canonical document type word for w (case and surrounding space do not
// matter) and whether it is one.
func docType(w string) (string, bool) {
	v := protoenum.Value[commonv1.DocumentType](strings.TrimSpace(w), commonv1.DocumentType_value, "DOCUMENT_TYPE_")
	if v == 0 {
		return "", false
	}
	// Word, not the input lower-cased: ToUpper maps a few non-ASCII letters to ASCII ones.
	return protoenum.Word(v, commonv1.DocumentType_name, "DOCUMENT_TYPE_"), true
}

// role returns the canonical agent role word for w and whether it is one.
func role(w string) (string, bool) {
	v := protoenum.Value[commonv1.AgentRole](strings.TrimSpace(w), commonv1.AgentRole_value, "AGENT_ROLE_")
	if v == 0 {
		return "", false
	}
	return protoenum.Word(v, commonv1.AgentRole_name, "AGENT_ROLE_"), true
}

// priority returns the canonical priority for w ("" is medium) and whether it is one.
func priority(w string) (string, bool) {
	switch p := strings.ToLower(strings.TrimSpace(w)); p {
	case "":
		return PriorityMedium, true
	case PriorityLow, PriorityMedium, PriorityHigh, PriorityCritical:
		return p, true
	}
	return "", false
}

// titleKey is what makes two titles of one type the same document: the documents service's rule.
func titleKey(title string) string { return strings.ToLower(title) }

// quote renders a value from the answer for a problem message, shortened: a message must stay
// readable however long the value.
func quote(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return strconv.Quote(s)
}

// lineProblem says what is wrong with a one-line value (a title, a key), or "".
func lineProblem(s string, max int) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "must be one line without control characters"
	case utf8.RuneCountInString(s) > max:
		return "is " + strconv.Itoa(utf8.RuneCountInString(s)) + " characters long; at most " + strconv.Itoa(max) + " are allowed"
	}
	return ""
}

// textProblem says what is wrong with a free-text value (notes, a description), or "".
func textProblem(s string, max int) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		return "contains control characters"
	case utf8.RuneCountInString(s) > max:
		return "is " + strconv.Itoa(utf8.RuneCountInString(s)) + " characters long; at most " + strconv.Itoa(max) + " are allowed"
	}
	return ""
}

// docTypeList lists the document type words for messages, in enum order.
var docTypeList = enumWords(commonv1.DocumentType_name, "DOCUMENT_TYPE_")

func enumWords(names map[int32]string, prefix string) string {
	words := make([]string, 0, len(names))
	for v := int32(1); int(v) < len(names); v++ {
		if _, ok := names[v]; ok {
			words = append(words, protoenum.Word(v, names, prefix))
		}
	}
	return strings.Join(words, ", ")
}
