package authn

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

// Revocations is the list of ended sessions, shared in Redis. The auth service writes it when a
// session ends (logout, logout-all, refresh-token reuse, password reset); every verifier of
// access tokens reads it, so an access token stops working when its session ends instead of
// living on until it expires. An entry only needs to outlive the access tokens of its session,
// so it expires after the access-token lifetime plus leeway: the list stays small.
//
// Reading Redis on every request would cost every hop a round trip, so a verifier process runs
// Watch: it keeps the whole (small) list in memory, loaded when its subscription to the
// revocation channel starts and updated by each message. While the subscription is down,
// IsRevoked asks Redis directly, so nothing is missed; a revocation reaches other processes
// as fast as a pub/sub message (well under a millisecond on one host), and the process that
// wrote it at once.
type Revocations struct {
	Redis *redis.Client
	Keys  redisx.Keyspace
	// TTL is how long an entry is kept: the access-token lifetime plus clock leeway.
	TTL time.Duration

	live  atomic.Bool // the in-memory list is complete and kept current
	mu    sync.RWMutex
	local map[string]time.Time // session id -> when the entry expires
}

func (r *Revocations) key(sessionID string) string {
	return r.Keys.Key("authn", "revoked-session", sessionID)
}

func (r *Revocations) channel() string { return r.Keys.Key("authn", "revocations") }

// RevokeSessions records that the sessions ended and tells every watching process.
func (r *Revocations) RevokeSessions(ctx context.Context, sessionIDs ...string) error {
	if len(sessionIDs) == 0 {
		return nil
	}
	exp := time.Now().Add(r.TTL)
	_, err := r.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, sid := range sessionIDs {
			p.Set(ctx, r.key(sid), 1, r.TTL)
		}
		// "<expiry in unix ms>:<sid>,<sid>...": readers need not know the TTL.
		p.Publish(ctx, r.channel(), strconv.FormatInt(exp.UnixMilli(), 10)+":"+strings.Join(sessionIDs, ","))
		return nil
	})
	if err == nil {
		r.remember(exp, sessionIDs...)
	}
	return err
}

// IsRevoked reports whether the session was ended.
func (r *Revocations) IsRevoked(ctx context.Context, sessionID string) (bool, error) {
	if r.live.Load() {
		r.mu.RLock()
		exp, ok := r.local[sessionID]
		r.mu.RUnlock()
		return ok && time.Now().Before(exp), nil
	}
	n, err := r.Redis.Exists(ctx, r.key(sessionID)).Result()
	return n > 0, err
}

func (r *Revocations) remember(exp time.Time, sessionIDs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.local == nil {
		r.local = map[string]time.Time{}
	}
	for _, sid := range sessionIDs {
		r.local[sid] = exp
	}
}

// Watch keeps the in-memory list current until ctx ends, resubscribing after failures.
func (r *Revocations) Watch(ctx context.Context, log *slog.Logger) {
	for ctx.Err() == nil {
		err := r.watch(ctx)
		r.live.Store(false)
		if ctx.Err() == nil {
			log.WarnContext(ctx, "revocation watch interrupted; checking Redis directly until it resumes", "error", err.Error())
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (r *Revocations) watch(ctx context.Context) error {
	ps := r.Redis.Subscribe(ctx, r.channel())
	defer ps.Close()
	lastPrune := time.Now()
	for {
		if time.Since(lastPrune) > time.Minute {
			r.prune()
			lastPrune = time.Now()
		}
		msg, err := ps.ReceiveTimeout(ctx, 30*time.Second)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if err := ps.Ping(ctx); err != nil { // a silent connection may be dead
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			// (Re)subscribed: messages sent while unsubscribed are lost, so reload the list.
			// Subscribing before loading means nothing falls between the two.
			r.live.Store(false)
			if err := r.load(ctx); err != nil {
				return err
			}
			r.live.Store(true)
		case *redis.Message:
			ms, sids, ok := strings.Cut(m.Payload, ":")
			expMs, err := strconv.ParseInt(ms, 10, 64)
			if !ok || err != nil {
				continue // not ours; the list is still complete
			}
			r.remember(time.UnixMilli(expMs), strings.Split(sids, ",")...)
		}
	}
}

// load replaces the in-memory list with the entries in Redis.
func (r *Revocations) load(ctx context.Context) error {
	prefix := r.key("")
	fresh := map[string]time.Time{}
	iter := r.Redis.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	ttls := make([]*redis.DurationCmd, len(keys))
	if _, err := r.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			ttls[i] = p.PTTL(ctx, k)
		}
		return nil
	}); err != nil && err != redis.Nil {
		return err
	}
	now := time.Now()
	for i, k := range keys {
		if ttl := ttls[i].Val(); ttl > 0 {
			fresh[strings.TrimPrefix(k, prefix)] = now.Add(ttl)
		}
	}
	r.mu.Lock()
	r.local = fresh
	r.mu.Unlock()
	return nil
}

func (r *Revocations) prune() {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for sid, exp := range r.local {
		if now.After(exp) {
			delete(r.local, sid)
		}
	}
}
