package live

import "testing"

// TestFreshSendsEachIDOnce: a subscription sends an item once, whether it comes in order, late
// (after a newer one) or twice; nothing at or before the id the client resumed after; and it
// remembers the last recentIDs ids sent, the oldest forgotten first.
func TestFreshSendsEachIDOnce(t *testing.T) {
	s := &subscription{start: 10, last: 10}
	for _, c := range []struct {
		id   int64
		want bool
	}{
		{9, false}, {10, false}, // the client has them
		{11, true}, {13, true}, {11, false}, {13, false},
		{12, true}, {12, false}, // published late: sent once
	} {
		if got := s.fresh(c.id); got != c.want {
			t.Fatalf("fresh(%d) = %v, want %v", c.id, got, c.want)
		}
	}
	// 11, 12 and 13 were sent; after recentIDs newer ones, the ring has forgotten them, oldest
	// first, and remembers every newer one.
	for id := int64(100); id < 100+recentIDs; id++ {
		if !s.fresh(id) {
			t.Fatalf("fresh(%d) = false, want true", id)
		}
	}
	if s.fresh(100) || s.fresh(99+recentIDs) {
		t.Fatal("an id sent among the last recentIDs was sent again")
	}
	if !s.fresh(11) {
		t.Fatal("id 11, sent recentIDs ids ago, is still remembered: the ring does not forget the oldest")
	}
	if !s.fresh(13) || !s.fresh(12) {
		t.Fatal("ids 12 and 13, older than the last recentIDs sent, are still remembered")
	}
}
