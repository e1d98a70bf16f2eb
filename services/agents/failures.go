package agents

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// A run's work fails in three ways, and only two of them end it:
//   - the model provider fails: a transient failure spends one of the run's attempts
//     (AGENT_MAX_ATTEMPTS) and is retried with backoff; a permanent one ends the run;
//   - one of FuzzyLlama's own services (projects, documents, auth, the database) is down or
//     overloaded: an outage, which the run waits out without spending an attempt, for up to
//     AGENT_OUTAGE_WAIT; a service that refuses the request (not found, permission denied, ...)
//     or fails it with an internal error (a bug, which waiting does not mend) ends the run;
//   - the run's own limits: its budget, a cancellation, an answer that breaks the contract.
//
// What the owner reads (the run's error, a blocked gate's reason) says what happened and what to
// do, never how: no addresses, host names or Go error chains. The logs keep the detail.

// serviceError is a failed call to one of FuzzyLlama's own services.
type serviceError struct {
	service string // "projects", "documents", "auth"
	err     error
}

func (e *serviceError) Error() string { return e.service + " service: " + e.err.Error() }
func (e *serviceError) Unwrap() error { return e.err }

// fromService marks err as the answer of a call to the named service (nil stays nil).
func fromService(service string, err error) error {
	var se *serviceError
	if err == nil || errors.As(err, &se) {
		return err
	}
	return &serviceError{service: service, err: err}
}

// runFailed ends the run for its own reasons, with a message for the owner.
type runFailed struct{ reason string }

func (e *runFailed) Error() string { return e.reason }

// outage reports whether err is one of FuzzyLlama's services, or the agents' own database or
// Redis under it, failing for now rather than refusing the request or being broken: a service
// answering UNAVAILABLE (every service answers it when its own database or Redis is out:
// platform/grpcx), DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED or CANCELED, or an error of the
// agents' own store that database.IsUnavailable, redisx.IsUnavailable or net.Error recognise.
//
// CANCELED is one: settle handles the worker's own cancellation (its context) before it asks, so
// a CANCELED that reaches here was the other side's: a service stopping cancels the calls it is
// serving (grpc.Server.Stop), and the call may end CANCELED rather than UNAVAILABLE.
//
// INTERNAL and UNKNOWN are not: a service answers them for a bug, which waiting does not mend
// (see broken). The model provider's failures are never outages.
func outage(err error) bool {
	var pe *provider.Error
	if err == nil || errors.As(err, &pe) {
		return false
	}
	var netErr net.Error
	if database.IsUnavailable(err) || redisx.IsUnavailable(err) || errors.As(err, &netErr) {
		return true
	}
	switch apperr.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted, codes.Canceled:
		return true
	}
	return false
}

// broken reports whether err, which is no outage, is a fault rather than a refusal: a service
// answering INTERNAL, UNKNOWN, DATA_LOSS or UNIMPLEMENTED, or an error of the agents' own (which
// apperr takes for an internal one). The model provider's failures are never broken.
func broken(err error) bool {
	var pe *provider.Error
	if err == nil || errors.As(err, &pe) {
		return false
	}
	switch apperr.Code(err) {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unimplemented:
		return true
	}
	return false
}

// serviceName names the service err came from, for the owner.
func serviceName(err error) string {
	var se *serviceError
	if errors.As(err, &se) {
		return "FuzzyLlama's " + se.service + " service"
	}
	return "one of FuzzyLlama's own services"
}

// outageWord says what the service did: was unavailable, or was overloaded.
func outageWord(err error) string {
	var netErr net.Error
	if errors.As(err, &netErr) {
		return "was unavailable" // a network error under a service: its database, say
	}
	switch apperr.Code(err) {
	case codes.ResourceExhausted, codes.Aborted:
		return "was overloaded"
	}
	return "was unavailable"
}

// waitingNote is the run's note while it waits out an outage.
func waitingNote(err error) string {
	return fmt.Sprintf("waiting: %s %s; the run goes on by itself when it is back (the model provider is not at fault, "+
		"and no attempt is spent).", serviceName(err), outageWord(err))
}

// outageFailure is the reason of a run that waited for a service longer than it may.
func outageFailure(err error, waited time.Duration) string {
	return fmt.Sprintf("%s %s for longer than the run may wait (%s, AGENT_OUTAGE_WAIT). The model provider is not at fault; "+
		"run it again once FuzzyLlama is back.", capitalize(serviceName(err)), outageWord(err), waited.Round(time.Second))
}

// serviceFailure is the reason of a run that one of FuzzyLlama's services failed with an error
// of its own (broken): nothing the owner or the model did, and nothing waiting mends. The
// service's message is not shown (an internal error's is not for the owner; the log has it).
func serviceFailure(err error) string {
	name := "FuzzyLlama's agents service" // an error of its own store, say
	var se *serviceError
	if errors.As(err, &se) {
		name = serviceName(err)
	}
	return capitalize(name) + " failed on the run's request with an internal error. The model provider is not at fault; " +
		"run it again, and if it fails the same way, ask FuzzyLlama's operators to look at that service's logs."
}

// refusal is the reason of a run one of FuzzyLlama's services refused: its status message, which
// our services write for people.
func refusal(err error) string {
	msg := ""
	if e, ok := apperr.As(err); ok {
		msg = e.Message
	} else if st, ok := status.FromError(err); ok {
		msg = st.Message()
	}
	reason := capitalize(serviceName(err)) + " refused the run's request"
	if msg = ownerText(msg); msg != "" {
		reason += ": " + strings.TrimSuffix(msg, ".")
	}
	return reason + ". Check the project (its gate, your access), then run it again."
}

// providerName is how the owner knows the provider.
func providerName(p string) string {
	switch p {
	case "anthropic":
		return "Anthropic"
	case "openai":
		return "the OpenAI-compatible provider"
	case "offline":
		return "the offline provider"
	}
	return p
}

// providerProblem says what the model provider did, for the owner.
func providerProblem(pe *provider.Error) string {
	if pe.Provider == "agents" || pe.Provider == "config" {
		return ownerText(pe.Message) // the service's own words: an answer too long, a model without a key
	}
	who := "the model provider (" + providerName(pe.Provider) + ")"
	msg := ownerText(pe.Message)
	switch {
	case pe.Status != 0:
		detail := strings.TrimSpace(fmt.Sprintf("HTTP %d %s", pe.Status, pe.Type))
		if msg != "" {
			detail += ": " + msg
		}
		return who + " answered " + detail
	case strings.HasPrefix(pe.Message, "request failed"):
		return "could not reach " + who
	case strings.HasPrefix(pe.Message, "stream dropped"):
		return who + " broke off its answer"
	case msg != "":
		return who + ": " + msg
	}
	return who + " failed"
}

// providerAdvice says what to do about a permanent provider failure.
func providerAdvice(pe *provider.Error) string {
	switch {
	case pe.Provider == "config":
		return "Configure the provider, then run it again."
	case pe.Status == http.StatusUnauthorized || pe.Status == http.StatusForbidden:
		return "Check the provider's API key and account, then run it again."
	case pe.Status == http.StatusPaymentRequired || pe.Type == "insufficient_quota":
		return "Check the provider account's credit, then run it again."
	}
	return "Run it again; if it fails the same way, change the instructions or the model."
}

// addressLike finds what must not reach the owner: network addresses, URLs, dial errors.
var addressLike = regexp.MustCompile(`(?i)(\b\d{1,3}(\.\d{1,3}){3}\b|\[[0-9a-f:]+\]|[a-z0-9.-]+:\d{2,5}\b|[a-z][a-z0-9+.-]*://|\bdial (tcp|udp|unix)\b|\blookup \S+)`)

// ownerText is a message fit for the owner: cleaned, bounded, and empty when it would reveal an
// address or a network error's innards (the log has those).
func ownerText(s string) string {
	s = input.Clean(strings.TrimSpace(s), 500)
	if addressLike.MatchString(s) {
		return ""
	}
	return s
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
