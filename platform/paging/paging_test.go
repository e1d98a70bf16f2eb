package paging

import (
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

func TestPositionTokensRoundTripAndRefuseForgeries(t *testing.T) {
	for _, p := range []int64{1, 42, 1 << 40} {
		if got, ok := ParsePositionToken(PositionToken(p)); !ok || got != p {
			t.Errorf("position %d: parsed back %d, %v", p, got, ok)
		}
	}
	// Tokens this package never returns: not base64, not a number, zero, negative, leading zeros.
	for _, bad := range []string{"", "!!", PositionToken(0), "LTE", "MDc", "MQ=="} {
		if p, ok := ParsePositionToken(bad); ok {
			t.Errorf("token %q accepted as position %d", bad, p)
		}
	}
}

func TestSizeAndCut(t *testing.T) {
	var v apperr.Violations
	if got := Size(&v, 0, 20, 100); got != 20 || v.Err() != nil {
		t.Errorf("Size(0) = %d, %v; want the default", got, v.Err())
	}
	Size(&v, 101, 20, 100)
	if v.Err() == nil {
		t.Error("Size(101) of at most 100 accepted")
	}
	rows := []int64{1, 2, 3}
	page, next := Cut(rows, 2, PositionToken)
	if len(page) != 2 || next != PositionToken(2) {
		t.Errorf("Cut(3 rows, 2) = %v, %q", page, next)
	}
	if page, next := Cut(rows, 3, PositionToken); len(page) != 3 || next != "" {
		t.Errorf("last page = %v, %q; want every row and no token", page, next)
	}
}
