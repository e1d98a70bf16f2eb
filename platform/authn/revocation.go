package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/outage"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

// Revoked is one entry of the list of ended sessions: one session, or every session of a user
// that started at or before EndedAt (logout-all, password reset).
type Revoked struct {
	UserID string
	// SessionID is the ended session; "" means every session of UserID that started at or
	// before EndedAt (see SessionStart).
	SessionID string
	EndedAt   time.Time
	// Expires is when the entry stops mattering: every access token it refuses has expired.
	Expires time.Time
}

// Revocations is a process's list of ended sessions. The auth service records each one in its
// database when a session ends (logout, logout-all, refresh-token reuse, password reset): that
// is the truth, and no restart of Redis or of a process can make a revoked token valid again.
// Every verifier of access tokens checks the list, so an access token stops working when its
// session ends instead of living on until it expires.
//
// Each process keeps the whole (small: entries last as long as an access token) list in memory
// and answers from it, without a round trip:
//   - Source loads it from the durable list (the auth store in the auth process, the auth
//     service's ListRevokedSessions elsewhere) at start, on every (re)subscription to the Redis
//     channel (messages sent while unsubscribed are lost), every minute while subscribed (a
//     safety net) and every ReloadEvery while the subscription is down;
//   - the Redis channel pushes each new entry to every process at once (Announce publishes it);
//   - the process that records a revocation knows it at once (Announce).
//
// Loads add to the list, never remove from it (entries only expire), and a Redis failure never
// clears it. Until the first load succeeds IsRevoked answers ErrListNotLoaded: the process
// fails closed (503 with Retry-After) rather than let a revoked token through.
type Revocations struct {
	Redis *redis.Client
	Keys  redisx.Keyspace
	// Source loads the durable list; it must be set before Watch.
	Source func(ctx context.Context) ([]Revoked, error)
	// ReloadEvery is how often the list is reloaded while the Redis subscription is down; zero
	// means DefaultReloadEvery.
	ReloadEvery time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu       sync.RWMutex
	loaded   bool
	sessions map[userSession]time.Time // ended session -> when the entry expires
	users    map[string]userEntry      // user id -> the latest "every session until" entry
	onRevoke []func([]Revoked)
	push     *outage.Log // publishing failures (Announce)
}

type userEntry struct{ endedAt, expires time.Time }

// userSession keys a session entry: a session id is only ever the session of its own user,
// so an entry can end nothing of another user's (delegated tokens share "svc:<service>").
type userSession struct{ userID, sessionID string }

// DefaultReloadEvery: while the revocation channel is down, another process's revocations
// reach this one within this long.
const DefaultReloadEvery = 2 * time.Second

// reloadWhileLive is the safety-net reload while the channel is up (a publish that failed on a
// blip the subscribers did not see).
const reloadWhileLive = time.Minute

// ErrListNotLoaded: the process has not loaded the revocation list yet, so it cannot tell a
// revoked token from a valid one.
var ErrListNotLoaded = errors.New("the revocation list is not loaded yet")

func (r *Revocations) channel() string { return r.Keys.Key("authn", "revocations") }

func (r *Revocations) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SessionStart is when a session started, read from its id (a UUIDv7, whose first 48 bits are
// its creation time in Unix milliseconds). ok is false for an id that carries no time.
func SessionStart(sessionID string) (start time.Time, ok bool) {
	id, err := uuid.Parse(sessionID)
	if err != nil || id.Version() != 7 {
		return time.Time{}, false
	}
	sec, nsec := id.Time().UnixTime()
	return time.Unix(sec, nsec), true
}

// NewSessionID returns the id of a new session: a UUIDv7, so that its start can be compared
// with a user's "every session until" entry (SessionStart).
func NewSessionID() string { return uuid.Must(uuid.NewV7()).String() }

// IsRevoked reports whether the session of userID was ended. A delegated token's session
// ("svc:…") is ended only by its own entry: a user's logout-all must not stop the background
// work done for them.
func (r *Revocations) IsRevoked(userID, sessionID string) (bool, error) {
	now := r.now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if !r.loaded {
		return false, ErrListNotLoaded
	}
	if exp, ok := r.sessions[userSession{userID, sessionID}]; ok && now.Before(exp) {
		return true, nil
	}
	u, ok := r.users[userID]
	if !ok || !now.Before(u.expires) || strings.HasPrefix(sessionID, ServiceSessionPrefix) {
		return false, nil
	}
	start, known := SessionStart(sessionID)
	// A session whose start is unknown (ids from before UUIDv7) began before the entry.
	return !known || !start.After(u.endedAt), nil
}

// OnRevoke registers f, called with the entries this process learns of: announced here, pushed
// by the channel, or found by a reload. f runs on the goroutine that learned them and must not
// block; an entry may be reported more than once.
func (r *Revocations) OnRevoke(f func([]Revoked)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onRevoke = append(r.onRevoke, f)
}

// Announce makes entries known: at once in this process, and to every other process through
// the Redis channel. Call it once they are recorded durably; a publish that fails is not an
// error (the others reload the durable list), so it is only logged, once per outage (one WARN
// when publishing first fails, one INFO when it works again) with log.
func (r *Revocations) Announce(ctx context.Context, log *slog.Logger, entries ...Revoked) {
	if len(entries) == 0 {
		return
	}
	r.remember(entries, false)
	err := r.Redis.Publish(ctx, r.channel(), encodeRevoked(entries)).Err()
	if log == nil {
		return
	}
	if err != nil {
		r.pushOutage(log).Down(ctx, err)
	} else if p := r.pushOutage(nil); p != nil {
		p.Up(ctx)
	}
}

// pushOutage is the outage log of publishing revocations, made with log on first need (nil
// log: nil until then).
func (r *Revocations) pushOutage(log *slog.Logger) *outage.Log {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.push == nil && log != nil {
		r.push = &outage.Log{Dependency: "redis for pushing revocations (other processes learn them at their next reload)", Logger: log}
	}
	return r.push
}

// remember adds entries to the list and reports the new ones to the OnRevoke callbacks. With
// loaded it also marks the list complete (a load from the durable source).
func (r *Revocations) remember(entries []Revoked, loaded bool) {
	now := r.now()
	var fresh []Revoked
	r.mu.Lock()
	if r.sessions == nil {
		r.sessions, r.users = map[userSession]time.Time{}, map[string]userEntry{}
	}
	for _, e := range entries {
		if !now.Before(e.Expires) {
			continue
		}
		if e.SessionID != "" {
			key := userSession{e.UserID, e.SessionID}
			if exp, ok := r.sessions[key]; !ok || exp.Before(e.Expires) {
				r.sessions[key] = e.Expires
				if !ok {
					fresh = append(fresh, e)
				}
			}
			continue
		}
		u := r.users[e.UserID]
		if e.EndedAt.After(u.endedAt) {
			u.endedAt = e.EndedAt
			fresh = append(fresh, e)
		}
		if e.Expires.After(u.expires) {
			u.expires = e.Expires
		}
		r.users[e.UserID] = u
	}
	if loaded {
		r.loaded = true
	}
	callbacks := r.onRevoke
	r.mu.Unlock()
	if len(fresh) > 0 {
		for _, f := range callbacks {
			f(fresh)
		}
	}
}

// Load adds the durable list to the in-memory one and marks it complete.
func (r *Revocations) Load(ctx context.Context) error {
	entries, err := r.Source(ctx)
	if err != nil {
		return err
	}
	r.remember(entries, true)
	r.prune()
	return nil
}

// Loaded reports whether the list has been loaded from the durable source.
func (r *Revocations) Loaded() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.loaded
}

// Watch keeps the in-memory list current until ctx ends: subscribed to the Redis channel
// (loading on each subscription), and while it cannot be, reloading every ReloadEvery. Trouble
// is logged once at WARN when it starts and once at INFO when it is over, not at each retry.
func (r *Revocations) Watch(ctx context.Context, log *slog.Logger) {
	every := r.ReloadEvery
	if every <= 0 {
		every = DefaultReloadEvery
	}
	troubled := false
	report := func(err error) {
		switch {
		case err == nil && troubled:
			log.InfoContext(ctx, "revocation list current again: loaded and following its channel")
		case err != nil && !troubled:
			log.WarnContext(ctx, "revocation list: its channel or its durable source failed; reloading it every "+every.String()+" until both answer",
				"error", err.Error())
		}
		troubled = err != nil
	}
	for ctx.Err() == nil {
		err := r.watch(ctx, log, report)
		if ctx.Err() != nil {
			return
		}
		report(err)
		_ = r.Load(ctx) // a failure is the trouble reported above, or is reported by the next watch
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
	}
}

// watch follows the channel until it fails; it reports success once subscribed and loaded.
func (r *Revocations) watch(ctx context.Context, log *slog.Logger, report func(error)) error {
	ps := r.Redis.Subscribe(ctx, r.channel())
	defer ps.Close()
	// A blocked receive does not watch ctx: closing the subscription ends it.
	defer context.AfterFunc(ctx, func() { _ = ps.Close() })()
	lastLoad := time.Now()
	for {
		msg, err := ps.ReceiveTimeout(ctx, 30*time.Second)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if err := ps.Ping(ctx); err != nil { // a silent connection may be dead
				return err
			}
		} else if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			// (Re)subscribed: messages sent while unsubscribed are lost, so load the durable
			// list. Subscribing before loading means nothing falls between the two.
			if err := r.Load(ctx); err != nil {
				return fmt.Errorf("load the revocation list: %w", err)
			}
			report(nil)
			lastLoad = time.Now()
		case *redis.Message:
			if entries, ok := decodeRevoked(m.Payload); ok {
				r.remember(entries, false)
			}
		}
		if time.Since(lastLoad) > reloadWhileLive {
			if err := r.Load(ctx); err != nil {
				log.WarnContext(ctx, "cannot reload the revocation list", "error", err.Error())
			}
			lastLoad = time.Now()
		}
	}
}

func (r *Revocations) prune() {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, exp := range r.sessions {
		if !now.Before(exp) {
			delete(r.sessions, key)
		}
	}
	for uid, u := range r.users {
		if !now.Before(u.expires) {
			delete(r.users, uid)
		}
	}
}

// wireRevoked is an entry on the channel, times in Unix ms.
type wireRevoked struct {
	UserID    string `json:"u"`
	SessionID string `json:"s,omitempty"`
	EndedAt   int64  `json:"e"`
	Expires   int64  `json:"x"`
}

func encodeRevoked(entries []Revoked) string {
	wire := make([]wireRevoked, len(entries))
	for i, e := range entries {
		wire[i] = wireRevoked{UserID: e.UserID, SessionID: e.SessionID, EndedAt: e.EndedAt.UnixMilli(), Expires: e.Expires.UnixMilli()}
	}
	b, _ := json.Marshal(wire)
	return string(b)
}

func decodeRevoked(payload string) ([]Revoked, bool) {
	var wire []wireRevoked
	if err := json.Unmarshal([]byte(payload), &wire); err != nil {
		return nil, false // not ours; the list is still complete
	}
	entries := make([]Revoked, 0, len(wire))
	for _, w := range wire {
		if w.UserID == "" {
			continue
		}
		entries = append(entries, Revoked{UserID: w.UserID, SessionID: w.SessionID,
			EndedAt: time.UnixMilli(w.EndedAt), Expires: time.UnixMilli(w.Expires)})
	}
	return entries, true
}
