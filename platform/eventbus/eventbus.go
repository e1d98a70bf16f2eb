// Package eventbus carries live events between processes over Redis pub/sub: a service
// publishes what it has just committed (the durable record stays in its own database), and any
// number of gateway replicas subscribe to forward them to clients. In the embedded default the
// Redis is the in-process one, so the bus never leaves the process.
//
// Delivery is at most once: a subscriber that is not connected misses messages, which is why
// every consumer resumes from the durable timeline (e.g. ListEvents after the last id it saw).
//
// Losing Redis pauses live events; it does not fail the writes that publish them. Publish gives
// Redis publishBudget and, once Redis has failed, returns ErrUnavailable at once for
// publishPause, so a write costs at most that budget during an outage; subscriptions reconnect
// and resubscribe on their own when Redis is back (go-redis), and what was published meanwhile
// is read from the timeline as always.
package eventbus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/outage"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

// Bus publishes and subscribes to topics.
type Bus struct {
	Redis *redis.Client
	Keys  redisx.Keyspace
	// Logger receives one WARN when publishing first fails in a Redis outage and one INFO when
	// it works again (slog.Default() if nil).
	Logger *slog.Logger

	outageOnce sync.Once
	outage     *outage.Log
	skipUntil  atomic.Int64 // unix nanoseconds: until then, Redis is taken to be down
}

// ErrUnavailable is Publish's error while Redis is unavailable: the message is dropped (live
// clients catch up from the durable record) and the outage has been logged once for all.
var ErrUnavailable = errors.New("eventbus: redis unavailable; live message dropped")

const (
	// publishBudget bounds one publish (a healthy Redis answers in well under a millisecond), so
	// that a Redis that does not answer delays a write by no more than this.
	publishBudget = 250 * time.Millisecond
	// publishPause is how long Publish leaves a failed Redis alone: during an outage one publish
	// a second pays for finding out whether Redis is back.
	publishPause = time.Second
)

// ProjectTopic is the topic of one project's events; ProjectTopic("*") matches every project's
// (see SubscribePattern).
func ProjectTopic(projectID string) string { return "project:" + projectID }

// RunTopic is the topic of one agent run's output and state changes.
func RunTopic(runID string) string { return "run:" + runID }

// ProjectRunsTopic is the topic of the state changes of a project's agent runs (the public Run
// message, without its output); ProjectRunsTopic("*") matches every project's.
func ProjectRunsTopic(projectID string) string { return "runs:" + projectID }

// ProjectDocumentsTopic is the topic of the saves of a project's documents (the public
// SavedDocument message: created or new version); ProjectDocumentsTopic("*") matches every
// project's.
func ProjectDocumentsTopic(projectID string) string { return "documents:" + projectID }

// UserTopic is the topic of one user's notifications (the public Notification message);
// UserTopic("*") matches every user's.
func UserTopic(userID string) string { return "user:" + userID }

func (b *Bus) channel(topic string) string { return b.Keys.Key("events", topic) }

// Publish sends msg to the subscribers of topic. While Redis is unavailable it returns an error
// matching ErrUnavailable, within publishBudget; the caller has nothing to log.
func (b *Bus) Publish(ctx context.Context, topic string, msg []byte) error {
	if time.Now().UnixNano() < b.skipUntil.Load() {
		return ErrUnavailable
	}
	pctx, cancel := context.WithTimeout(ctx, publishBudget)
	defer cancel()
	err := b.Redis.Publish(pctx, b.channel(topic), msg).Err()
	switch {
	case err == nil:
		b.outageLog().Up(ctx)
		return nil
	case ctx.Err() != nil: // the caller gave up: says nothing about Redis
		return err
	case redisx.IsUnavailable(err) || errors.Is(err, context.DeadlineExceeded): // down, or over budget
		b.skipUntil.Store(time.Now().Add(publishPause).UnixNano())
		b.outageLog().Down(ctx, err)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func (b *Bus) outageLog() *outage.Log {
	b.outageOnce.Do(func() {
		b.outage = &outage.Log{Dependency: "redis for live events", Logger: cmp.Or(b.Logger, slog.Default())}
	})
	return b.outage
}

// Subscription receives the messages of some topics until closed.
type Subscription struct {
	ps      *redis.PubSub
	C       <-chan []byte
	done    chan struct{}
	closing sync.Once
}

// Subscribe starts receiving the topics' messages; the subscription is active when it returns.
// Messages arrive on C until Close. A receiver that stays behind go-redis's buffer (100
// messages) for over a minute loses messages; consumers resume from the durable timeline.
func (b *Bus) Subscribe(ctx context.Context, topics ...string) (*Subscription, error) {
	channels := make([]string, len(topics))
	for i, t := range topics {
		channels[i] = b.channel(t)
	}
	return subscribe(ctx, b.Redis.Subscribe(ctx, channels...))
}

// SubscribePattern is Subscribe to every topic matching a glob pattern (Redis PSUBSCRIBE), e.g.
// ProjectTopic("*").
func (b *Bus) SubscribePattern(ctx context.Context, pattern string) (*Subscription, error) {
	return subscribe(ctx, b.Redis.PSubscribe(ctx, b.channel(pattern)))
}

func subscribe(ctx context.Context, ps *redis.PubSub) (*Subscription, error) {
	if _, err := ps.Receive(ctx); err != nil { // wait for the subscription to be confirmed
		_ = ps.Close()
		return nil, err
	}
	out := make(chan []byte, 64)
	done := make(chan struct{})
	go func() {
		defer close(out)
		in := ps.Channel()
		for m := range in {
			select {
			case out <- []byte(m.Payload):
			case <-done:
				// Closed while its receiver had stopped reading: drop the rest, so that go-redis's
				// reader (blocked on a full channel) finishes too; it closes in once closed.
				for range in {
				}
				return
			}
		}
	}()
	return &Subscription{ps: ps, C: out, done: done}, nil
}

// Close ends the subscription and, once what was buffered is read or abandoned, closes C. It may
// be called more than once.
func (s *Subscription) Close() error {
	s.closing.Do(func() { close(s.done) })
	return s.ps.Close()
}
