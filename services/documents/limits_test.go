package documents

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

func TestLargeDiffsAreTruncatedButCounted(t *testing.T) {
	lines := func(f string) []byte {
		var b strings.Builder
		for i := range 15000 {
			fmt.Fprintf(&b, f, i)
		}
		return []byte(b.String())
	}
	d := diffVersions("doc", store.Version{Number: 1, Content: lines("old %d\n")}, store.Version{Number: 2, Content: lines("new %d\n")})
	shown := 0
	for _, h := range d.Hunks {
		shown += len(h.Lines)
		if len(h.Lines) == 0 || h.FromCount+h.ToCount == 0 {
			t.Errorf("empty hunk %+v", h)
		}
	}
	if !d.Truncated || shown != maxDiffLines || d.Added != 15000 || d.Removed != 15000 {
		t.Errorf("truncated %v, %d lines shown, +%d -%d; want truncated, %d shown, +15000 -15000", d.Truncated, shown, d.Added, d.Removed, maxDiffLines)
	}
	if n := strings.Count(d.Unified, "\n"); n > maxDiffLines+10 || !strings.HasPrefix(d.Unified, "--- doc (version 1)") {
		t.Errorf("unified diff of %d lines:\n%.200s", n, d.Unified)
	}
	// Below the bound nothing is cut.
	small := diffVersions("doc", store.Version{Number: 1, Content: []byte("a\nb\n")}, store.Version{Number: 2, Content: []byte("a\nc\n")})
	if small.Truncated || small.Added != 1 || small.Removed != 1 {
		t.Errorf("small diff: %+v", small)
	}
}

func TestSlotsTurnAwayCallersWhenFull(t *testing.T) {
	var s slots
	ctx := context.Background()
	var releases []func()
	for range 2 {
		release, err := s.acquire(ctx, 2, "exports")
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	_, err := s.acquire(ctx, 2, "exports")
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindResourceExhausted || e.RetryAfter == 0 || !strings.Contains(e.Message, "exports") {
		t.Fatalf("third of two slots: %v", err)
	}
	releases[0]()
	release, err := s.acquire(ctx, 2, "exports")
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	release()
	releases[1]()
}
