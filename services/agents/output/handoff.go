package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// decodeHandoff reads the JSON object of the handoff block, which may be wrapped in a ``` fence.
func decodeHandoff(b block, p *problems) (Handoff, bool) {
	start, end := unfence(b.content)
	js := b.content[start:end]
	// lineAt is the answer's line of an offset into js, for messages.
	lineAt := func(off int64) int {
		return b.line + 1 + strings.Count(b.content[:start+int(min(off, int64(len(js))))], "\n")
	}
	trimmed := strings.TrimLeft(js, " \t\r\n")
	switch {
	case trimmed == "":
		p.add("handoff (line %d) is empty: it must hold one JSON object", b.line)
		return Handoff{}, false
	case trimmed[0] != '{':
		p.add("handoff (line %d) must be one JSON object, starting with {", b.line)
		return Handoff{}, false
	}
	var h Handoff
	dec := json.NewDecoder(strings.NewReader(js))
	err := dec.Decode(&h)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			off := dec.InputOffset()
			p.add("handoff: unexpected text after the JSON object at offset %d (line %d)", off, lineAt(off))
			return Handoff{}, false
		}
		return h, true
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		p.add("handoff: invalid JSON at offset %d (line %d): %v", syntax.Offset, lineAt(syntax.Offset), err)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the value"
		}
		p.add("handoff: %s must be %s, not a JSON %s (offset %d, line %d)", field, jsonKind(typ.Type.Kind().String()),
			typ.Value, typ.Offset, lineAt(typ.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		p.add("handoff: the JSON object is cut short (line %d)", lineAt(int64(len(js))))
	default:
		p.add("handoff: invalid JSON: %v", err)
	}
	return Handoff{}, false
}

// jsonKind names a Go kind the way the contract describes JSON values.
func jsonKind(kind string) string {
	switch kind {
	case "slice":
		return "an array"
	case "struct":
		return "an object"
	case "string":
		return "a string"
	}
	return "a " + kind
}

// unfence returns the bounds of the JSON inside an optional ``` fence (```json … ```).
func unfence(content string) (start, end int) {
	end = len(content)
	lead := len(content) - len(strings.TrimLeft(content, " \t\r\n"))
	if !strings.HasPrefix(content[lead:], "```") {
		return 0, end
	}
	nl := strings.IndexByte(content[lead:], '\n')
	if nl < 0 {
		return end, end // only the fence line: nothing inside
	}
	start = lead + nl + 1
	body := strings.TrimRight(content[start:], " \t\r\n")
	if strings.HasSuffix(body, "```") {
		end = start + len(body) - len("```")
	}
	return start, end
}

// formatHandoff renders a handoff as indented JSON, with empty lists as [] so that a model
// reading an example sees every field.
func formatHandoff(h Handoff) string {
	h.Deliverables = orEmpty(h.Deliverables)
	h.NextRoles = orEmpty(h.NextRoles)
	tasks := make([]Task, len(h.Tasks))
	for i, t := range h.Tasks {
		t.DependsOn = orEmpty(t.DependsOn)
		tasks[i] = t
	}
	h.Tasks = tasks
	if h.DoneTasks != nil && *h.DoneTasks == nil {
		h.DoneTasks = &[]string{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(h); err != nil {
		// Only unsupported types fail to encode, and Handoff has none.
		panic(fmt.Sprintf("output: encoding a handoff: %v", err))
	}
	return b.String()
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
