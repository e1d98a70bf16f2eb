package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// GateRef is the gate a task names: 1-9, or 0 when it names none. In JSON it is a number; a
// string naming the gate ("G5", "5") is taken too, since models write gates as they read them.
type GateRef int

// UnmarshalJSON implements json.Unmarshaler.
func (g *GateRef) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*g = 0
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*g = GateRef(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("gate must be a gate number such as 5, not %s", b)
	}
	w := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "G")
	n, err := strconv.Atoi(w)
	if err != nil || w != strconv.Itoa(n) {
		return fmt.Errorf("gate must be a gate number such as 5, not %q", s)
	}
	*g = GateRef(n)
	return nil
}
