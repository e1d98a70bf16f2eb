package dbtest

import (
	"maps"
	"slices"
	"testing"
)

// RunSuite runs every test of a store conformance suite, by name in sorted order, as a parallel
// subtest on a fresh store from open, which must return an empty store of its own for each call
// and close it when the test ends.
func RunSuite[S any](t *testing.T, open func(t *testing.T) S, tests map[string]func(t *testing.T, s S)) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		test := tests[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, open(t))
		})
	}
}
