package agents

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// TestOwnerMessages: what a run's owner reads of each kind of failure: what happened and what to
// do, never an address or an error chain; and which failures are outages (waited out) rather
// than refusals, internal failures (a service's bug: INTERNAL, UNKNOWN, or the agents' own) or the
// provider's.
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
		{"auth down", fromService("auth", fmt.Errorf("service token for user u1: %w", dialFailure)), true,
			waitingNote, []string{"FuzzyLlama's auth service was unavailable", "no attempt is spent"}},
		{"projects overloaded", fromService("projects", apperr.ResourceExhausted(time.Second, "too many requests")), true,
			waitingNote, []string{"FuzzyLlama's projects service was overloaded"}},
		{"documents stopping", fromService("documents", status.Error(codes.Canceled, "context canceled")), true,
			waitingNote, []string{"FuzzyLlama's documents service was unavailable"}},
		// A steady bug in a service is no outage: waiting does not mend it.
		{"auth failing", fromService("auth", fmt.Errorf("service token for user u1: %w", status.Error(codes.Internal, "internal error"))), false,
			serviceFailure, []string{"FuzzyLlama's auth service failed on the run's request with an internal error", "run it again",
				"not at fault"}},
		{"documents unknown", fromService("documents", status.Error(codes.Unknown, "panic: runtime error at 10.0.0.7:5432")), false,
			serviceFailure, []string{"FuzzyLlama's documents service failed on the run's request"}},
		{"own store bug", fmt.Errorf("scan run: %w", errors.New("sql: Scan error on column index 3")), false,
			serviceFailure, []string{"FuzzyLlama's agents service failed on the run's request"}},
		// The agents' own database and Redis: what database.IsUnavailable and redisx.IsUnavailable recognise.
		{"own database shutting down", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true,
			waitingNote, []string{"one of FuzzyLlama's own services was unavailable"}},
		{"own database connection lost", fmt.Errorf("save output: %w", io.ErrUnexpectedEOF), true, waitingNote,
			[]string{"one of FuzzyLlama's own services was unavailable"}},
		{"own redis loading", fmt.Errorf("publish: %w", redis.ErrPoolTimeout), true, waitingNote,
			[]string{"one of FuzzyLlama's own services was unavailable"}},
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
			wantBroken := map[string]bool{"auth failing": true, "documents unknown": true, "own store bug": true}[c.name]
			if got := !c.outage && broken(c.err); got != wantBroken {
				t.Errorf("broken = %v, want %v", got, wantBroken)
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
