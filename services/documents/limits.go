package documents

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// slots bounds how many of an expensive operation (a diff of large versions, a git export)
// run at once in this process, so that a burst of them cannot exhaust its CPU or memory. A
// caller waits a moment for a slot, then is told to come back.
type slots struct {
	once sync.Once
	ch   chan struct{}
}

// slotWait is how long a caller waits for a slot before getting ResourceExhausted.
const slotWait = 2 * time.Second

// acquire takes one of n slots (0: GOMAXPROCS; n must be the same at every call) for what the
// caller names in plural ("diffs"); release gives it back.
func (s *slots) acquire(ctx context.Context, n int, what string) (release func(), err error) {
	s.once.Do(func() {
		if n == 0 {
			n = runtime.GOMAXPROCS(0)
		}
		s.ch = make(chan struct{}, n)
	})
	wait := time.NewTimer(slotWait)
	defer wait.Stop()
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch }, nil
	case <-wait.C:
		return nil, apperr.ResourceExhausted(5*time.Second, "too many %s are running right now: try again in a few seconds", what)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
