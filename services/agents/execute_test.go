package agents

import (
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// TestBackoff: exponential within its bounds, at least what the provider asked for, but a
// server answering "Retry-After: 999999999" does not park a run for 31 years.
func TestBackoff(t *testing.T) {
	for attempt := 1; attempt <= 30; attempt++ {
		if d := backoff(2*time.Second, 2*time.Minute, attempt, 0); d < time.Second || d > 2*time.Minute {
			t.Errorf("attempt %d: %s", attempt, d)
		}
	}
	if d := backoff(10*time.Millisecond, 50*time.Millisecond, 1, 3*time.Second); d != 3*time.Second {
		t.Errorf("Retry-After 3s: %s", d)
	}
	if d := backoff(2*time.Second, 2*time.Minute, 1, provider.ParseRetryAfter("999999999", time.Now())); d != maxRetryAfter {
		t.Errorf("Retry-After of 31 years: %s", d)
	}
}
