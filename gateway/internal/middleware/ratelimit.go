package middleware

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
	"github.com/fuzzyllama/fuzzyllama/platform/outage"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

// Rule is a per-IP limit for some routes that replaces the global one, e.g. a stricter limit
// for the auth routes.
type Rule struct {
	// Name identifies the rule's budget in Redis keys; it must be unique and not "global".
	Name string
	// Method is the HTTP method the rule applies to; "" means any.
	Method string
	// Path is an exact URL path, or a prefix when it ends in "*" ("/api/v1/auth/*"). All paths
	// matched by one rule share one budget per client.
	Path string
	// Match, when set, decides alone which requests the rule applies to (Method and Path are
	// then ignored): for a set of routes no method and path describe, such as every GET outside
	// the API. It must be cheap and must not read the body.
	Match func(*http.Request) bool
	// Limit is the rule's limit; a zero Limit exempts the matched routes from per-IP limiting.
	Limit redis_rate.Limit
}

// matches reports whether the rule applies to r.
func (rule Rule) matches(r *http.Request) bool {
	if rule.Match != nil {
		return rule.Match(r)
	}
	if rule.Method != "" && rule.Method != r.Method {
		return false
	}
	if prefix, ok := strings.CutSuffix(rule.Path, "*"); ok {
		return strings.HasPrefix(r.URL.Path, prefix)
	}
	return r.URL.Path == rule.Path
}

// describe names the routes of the rule for people: "POST /api/v1/auth/login", or the rule's
// name when a Match function chooses them.
func (rule Rule) describe() string {
	if rule.Match != nil {
		return rule.Name
	}
	return strings.TrimSpace(rule.Method + " " + rule.Path)
}

// RateLimitConfig configures RateLimit.
type RateLimitConfig struct {
	// Redis holds the limiter state, shared by every gateway instance. Required.
	Redis *redis.Client
	// Prefix is the keyspace every key lives under.
	Prefix redisx.Keyspace
	// PerIP is the default limit per client address, e.g. redis_rate.PerMinute(100).
	PerIP redis_rate.Limit
	// Routes override PerIP for the routes they match; the first match wins.
	Routes []Rule
	// PerUser is the limit per authenticated user, whatever address they call from.
	PerUser redis_rate.Limit
	// UserID reports who is calling, as established by the authentication middleware that
	// runs earlier. May be nil, for no per-user limit.
	UserID func(*http.Request) (string, bool)
	// Logger receives one warning when Redis starts failing and one info line when it answers
	// again (an outage's length and the failures it caused); slog.Default() if nil.
	Logger *slog.Logger
}

// Failing open must be quick to be worth anything. A healthy Redis answers in a millisecond or
// two, but a down one would make each request wait out the client's dial retries (about 1.7s
// with the default options). So the limiter gives Redis redisBudget per request, and after a
// failure it leaves Redis alone for redisPause: one request a second pays for finding out
// whether Redis is back. The outage is logged once when it starts and once when it ends, not
// once per request.
const (
	redisBudget = 250 * time.Millisecond
	redisPause  = time.Second
)

// check is one limit to apply to one request.
type check struct {
	key   string
	limit redis_rate.Limit
	scope string // whose budget, for the message of a 429: "per client address", "per user", ...
}

// RateLimit limits requests with GCRA in Redis (github.com/go-redis/redis_rate), so that all
// gateway instances share the budgets. A zero Limit disables its check.
//
// Each request is checked against one limit: the first Rule that matches its route, per client
// address; else, when cfg.UserID reports a user, cfg.PerUser for that user; else cfg.PerIP per
// client address. One check means one Redis round trip per request. The address comes from
// ClientIPFromContext, so ClientIP must run earlier (without it, the TCP peer is used). IPv6
// clients are limited per /64, since anyone with an IPv6 address controls at least that many;
// a per-address budget would be no limit at all.
//
// Responses carry the draft-IETF RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset
// headers (seconds, rounded up) of the limit checked. A request over a limit
// gets 429 RESOURCE_EXHAUSTED naming the limit, with Retry-After, and the next handler is not
// called.
//
// If Redis fails, or does not answer within 250ms, the request is let through without
// rate-limit headers and Redis is left alone for a second, during which requests are let
// through unchecked; the outage is logged once, at WARN, and its end at INFO. The gateway fails open on purpose: an unavailable Redis
// must not take the whole API down, and the credential guessing this limit also slows is
// stopped in any case by the auth service's own brute-force lock.
//
// RateLimit panics if cfg.Redis is nil or a Rule's Name is empty, "global" or repeated: such
// a configuration would silently share budgets.
func RateLimit(cfg RateLimitConfig) func(http.Handler) http.Handler {
	if cfg.Redis == nil {
		panic("middleware.RateLimit: RateLimitConfig.Redis is nil")
	}
	names := map[string]bool{"global": true}
	for _, rule := range cfg.Routes {
		if names[rule.Name] || rule.Name == "" {
			panic(fmt.Sprintf("middleware.RateLimit: rule name %q is empty, reserved or repeated", rule.Name))
		}
		names[rule.Name] = true
	}
	rl := &rateLimiter{
		cfg:     cfg,
		limiter: redis_rate.NewLimiter(unprefixedClient{cfg.Redis}),
		redis:   &outage.Log{Dependency: "redis for rate limiting", Logger: cmp.Or(cfg.Logger, slog.Default())},
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rl.allow(w, r) {
				next.ServeHTTP(w, r)
			}
		})
	}
}

type rateLimiter struct {
	cfg     RateLimitConfig
	limiter *redis_rate.Limiter
	redis   *outage.Log
	// skipUntil (unix nanoseconds) is when to try Redis again after it failed.
	skipUntil atomic.Int64

	mu     sync.Mutex
	leases map[string]*lease
}

// A lease is a few requests of one budget, taken from Redis in one call and spent locally:
// a client sending fast costs one Redis round trip per lease instead of one per request. The
// budget is only ever charged early, never late, so a limit is never exceeded across gateway
// instances; at worst the unused rest of a lease (under 5% of the burst) expires with it.
// Leases are taken only for clients that asked again within leaseWindow and only on budgets
// large enough (leaseSize), so strict limits (10 a minute on login) stay exact.
type lease struct {
	mu      sync.Mutex
	unused  int       // requests already charged in Redis and not yet served
	expires time.Time // when unused requests are forfeited
	asked   time.Time // when Redis was last asked for this budget
	// refusedUntil: Redis refused and said when to retry; until then the answer stays no,
	// without asking again (nothing can refill a GCRA budget earlier).
	refusedUntil time.Time
	last         redis_rate.Result
}

const (
	leaseMax    = 100
	leaseTTL    = 250 * time.Millisecond
	leaseWindow = 100 * time.Millisecond
	// leaseSweepAt: past this many budgets tracked, forget the idle ones.
	leaseSweepAt = 10000
)

// leaseSize is how many requests to charge at once on limit l: a twentieth of its burst, at
// most leaseMax, and 1 (no lease) on budgets under 40. Larger leases on large budgets mean
// fewer refills, during which the client's other requests wait.
func leaseSize(l redis_rate.Limit) int { return min(max(l.Burst/20, 1), leaseMax) }

func (rl *rateLimiter) leaseFor(key string, now time.Time) *lease {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.leases == nil {
		rl.leases = map[string]*lease{}
	}
	l, ok := rl.leases[key]
	if !ok {
		if len(rl.leases) >= leaseSweepAt {
			for k, old := range rl.leases {
				if now.Sub(old.asked) > time.Minute {
					delete(rl.leases, k)
				}
			}
		}
		l = &lease{}
		rl.leases[key] = l
	}
	return l
}

// allow checks r against its limit and sets the RateLimit-* headers. When r is over the limit
// it answers 429 and returns false.
func (rl *rateLimiter) allow(w http.ResponseWriter, r *http.Request) bool {
	if time.Now().UnixNano() < rl.skipUntil.Load() {
		return true
	}
	c, ok := rl.cfg.check(r)
	if !ok {
		return true // no limit applies
	}
	res, err := rl.take(r.Context(), c)
	if err != nil {
		rl.skipUntil.Store(time.Now().Add(redisPause).UnixNano())
		rl.redis.Down(r.Context(), fmt.Errorf("letting requests through unchecked: %w", err))
		return true
	}
	// Burst, not Rate: it is the most requests a full budget allows, which is what Remaining
	// counts down from. The redis_rate.PerX constructors set both alike.
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(res.Limit.Burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(res.Remaining))
	h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(res.ResetAfter), 10))
	if res.Allowed > 0 {
		return true
	}
	retry := max(ceilSeconds(res.RetryAfter), 1)
	envelope.WriteError(w, r, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED",
		fmt.Sprintf("rate limit exceeded: %s %s; retry in %ds", describeLimit(c.limit), c.scope, retry),
		&envelope.Details{RetryAfterSeconds: retry})
	return false
}

// take spends one request of c's budget: from the lease when one is running, else from Redis.
func (rl *rateLimiter) take(rctx context.Context, c check) (redis_rate.Result, error) {
	now := time.Now()
	l := rl.leaseFor(c.key, now)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unused > 0 && now.Before(l.expires) {
		l.unused--
		res := l.last
		res.Remaining += l.unused // what is still paid for is still the client's
		return res, nil
	}
	if now.Before(l.refusedUntil) {
		res := l.last
		res.RetryAfter, res.ResetAfter = l.refusedUntil.Sub(now), res.ResetAfter-now.Sub(l.asked)
		return res, nil
	}
	// Not bounded by r's own context: a client hanging up must not pass for a Redis failure,
	// which would switch limiting off for everyone for redisPause.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(rctx), redisBudget)
	defer cancel()
	n := 1
	if now.Sub(l.asked) < leaseWindow {
		n = leaseSize(c.limit)
	}
	l.asked = now
	res, err := rl.limiter.AllowN(ctx, c.key, c.limit, n)
	if err == nil && n > 1 && res.Allowed == 0 { // near the limit: charge exactly one
		n = 1
		res, err = rl.limiter.AllowN(ctx, c.key, c.limit, 1)
	}
	if err != nil {
		return redis_rate.Result{}, fmt.Errorf("check %s: %w", c.key, err)
	}
	rl.redis.Up(rctx)
	l.unused, l.last = 0, *res
	switch {
	case res.Allowed == 0:
		l.refusedUntil = now.Add(res.RetryAfter)
	case n > 1:
		l.unused, l.expires = n-1, now.Add(leaseTTL)
		res.Remaining += l.unused
	}
	return *res, nil
}

// check returns the limit that applies to r, if any. A route rule always applies per client
// address (credential routes are what brute force targets, whoever sends them). Otherwise an
// identified user is limited per user — wherever they call from, and without sharing a budget
// with everyone behind the same NAT — and an anonymous caller per client address.
func (cfg *RateLimitConfig) check(r *http.Request) (check, bool) {
	for _, rule := range cfg.Routes {
		if rule.matches(r) {
			return check{key: cfg.Prefix.Key("rl", "ip", rule.Name, clientKey(r)), limit: rule.Limit,
				scope: "per client address for " + rule.describe()}, !rule.Limit.IsZero()
		}
	}
	if cfg.UserID != nil && !cfg.PerUser.IsZero() {
		if id, ok := cfg.UserID(r); ok && id != "" {
			return check{key: cfg.Prefix.Key("rl", "user", id), limit: cfg.PerUser, scope: "per user"}, true
		}
	}
	return check{key: cfg.Prefix.Key("rl", "ip", "global", clientKey(r)), limit: cfg.PerIP, scope: "per client address"},
		!cfg.PerIP.IsZero()
}

// clientKey names the budget of the client of r: its IPv4 address, or its IPv6 /64.
func clientKey(r *http.Request) string {
	a, ok := ClientIPFromContext(r.Context())
	if !ok {
		if a, ok = peerAddr(r); !ok {
			return "unknown" // not a TCP peer (e.g. a unix socket): one shared budget
		}
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// ceilSeconds returns d in whole seconds, rounded up; never negative.
func ceilSeconds(d time.Duration) int64 {
	return max(int64((d+time.Second-1)/time.Second), 0)
}

// describeLimit renders l for people: "10 requests per minute".
func describeLimit(l redis_rate.Limit) string {
	var period string
	switch l.Period {
	case time.Second:
		period = "second"
	case time.Minute:
		period = "minute"
	case time.Hour:
		period = "hour"
	default:
		period = l.Period.String()
	}
	noun := "requests"
	if l.Rate == 1 {
		noun = "request"
	}
	return fmt.Sprintf("%d %s per %s", l.Rate, noun, period)
}

// unprefixedClient keeps redis_rate's keys under our prefix. The library prepends "rate:" to
// every key, which would put them outside RateLimitConfig.Prefix, where a flush of the
// prefix (redistest's cleanup, or retiring a deployment) would not find them; this takes it
// off again. Only the methods that take keys are wrapped.
type unprefixedClient struct{ *redis.Client }

const redisRatePrefix = "rate:"

func unprefixed(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, redisRatePrefix)
	}
	return out
}

func (c unprefixedClient) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.Client.Eval(ctx, script, unprefixed(keys), args...)
}

func (c unprefixedClient) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.Client.EvalSha(ctx, sha1, unprefixed(keys), args...)
}

func (c unprefixedClient) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.Client.EvalRO(ctx, script, unprefixed(keys), args...)
}

func (c unprefixedClient) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.Client.EvalShaRO(ctx, sha1, unprefixed(keys), args...)
}

func (c unprefixedClient) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return c.Client.Del(ctx, unprefixed(keys)...)
}
