package agents

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// TestOwnerMessages: what a run's owner reads of each kind of failure: what happened and what to
// do, never an address or an error chain; and which failures are outages (waited out) rather
// than refusals or the provider's.
func TestOwnerMessages(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		outage bool
		render func(error) string
		want   []string
	}{
		{"projects down", fromService("projects", dialFailure), true, func(err error) string { return outageFailure(err, 15*time.Minute) },
			[]string{"FuzzyLlama's projects service was unavailable for longer than the run may wait (15m0s", "run it again"}},
		{"auth failing", fromService("auth", fmt.Errorf("service token for user u1: %w", status.Error(codes.Internal, "internal error"))), true,
			waitingNote, []string{"FuzzyLlama's auth service kept failing", "no attempt is spent"}},
		{"database down", &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 5432}, Err: syscall.ECONNREFUSED},
			true, waitingNote,
			[]string{"one of FuzzyLlama's own services was unavailable"}},
		{"documents refused", fromService("documents", apperr.PermissionDenied("you are not a member of this project")), false, refusal,
			[]string{"FuzzyLlama's documents service refused the run's request: you are not a member of this project."}},
		{"refusal with an address", fromService("projects", status.Error(codes.NotFound, "no route to 10.1.2.3:9092")), false, refusal,
			[]string{"FuzzyLlama's projects service refused the run's request. Check the project"}},
		{"bad key", &provider.Error{Provider: "anthropic", Kind: provider.Permanent, Status: 401, Type: "authentication_error", Message: "invalid x-api-key"},
			false, func(err error) string {
				var pe *provider.Error
				errors.As(err, &pe)
				return providerProblem(pe) + ". " + providerAdvice(pe)
			}, []string{"the model provider (Anthropic) answered HTTP 401 authentication_error: invalid x-api-key", "Check the provider's API key"}},
		{"vendor unreachable", &provider.Error{Provider: "openai", Kind: provider.Transient,
			Message: `request failed: Post "http://127.0.0.1:11434/v1/chat/completions": dial tcp 127.0.0.1:11434: connect: connection refused`},
			false, func(err error) string {
				var pe *provider.Error
				errors.As(err, &pe)
				return providerProblem(pe)
			}, []string{"could not reach the model provider (the OpenAI-compatible provider)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := outage(c.err); got != c.outage {
				t.Errorf("outage = %v, want %v", got, c.outage)
			}
			msg := c.render(c.err)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q: %s", w, msg)
				}
			}
			noInternals(t, "the message", msg)
			for _, bad := range []string{"10.", "5432", "11434", "9092"} {
				if strings.Contains(msg, bad) {
					t.Errorf("the message shows %q: %s", bad, msg)
				}
			}
		})
	}
}
