package middleware

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

// limited returns cfg's RateLimit around a handler that counts its calls, using the test
// Redis when cfg has no client. Requests name their user in X-Test-User.
func limited(t testing.TB, cfg RateLimitConfig) (http.Handler, *int) {
	t.Helper()
	if cfg.Redis == nil {
		cfg.Redis, cfg.Prefix = redistest.New(t)
	}
	cfg.UserID = func(r *http.Request) (string, bool) {
		id := r.Header.Get("X-Test-User")
		return id, id != ""
	}
	calls := new(int)
	return RateLimit(cfg)(countingHandler(calls)), calls
}

// call sends method path from the client at ip, as user if not "".
func call(h http.Handler, method, path, ip, user string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(ip), 40000).String()
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// wantRateHeaders checks the RateLimit-* headers. The tests run in well under a second, so
// seconds rounded up are exact.
func wantRateHeaders(t *testing.T, rec *httptest.ResponseRecorder, limit, remaining, reset int) {
	t.Helper()
	h := rec.Header()
	if got := h.Get("RateLimit-Limit"); got != strconv.Itoa(limit) {
		t.Errorf("RateLimit-Limit = %q, want %d", got, limit)
	}
	if got := h.Get("RateLimit-Remaining"); got != strconv.Itoa(remaining) {
		t.Errorf("RateLimit-Remaining = %q, want %d", got, remaining)
	}
	if got, err := strconv.Atoi(h.Get("RateLimit-Reset")); err != nil || got != reset {
		t.Errorf("RateLimit-Reset = %q, want %d", h.Get("RateLimit-Reset"), reset)
	}
}

func TestRateLimitRefusesTheRequestOverTheLimit(t *testing.T) {
	h, calls := limited(t, RateLimitConfig{PerIP: redis_rate.PerMinute(3)})
	for i := range 3 {
		rec := call(h, http.MethodGet, "/api/v1/projects", "192.0.2.1", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, rec.Code)
		}
		wantRateHeaders(t, rec, 3, 2-i, 20*(i+1)) // each request takes 20s to earn back
	}

	rec := call(h, http.MethodGet, "/api/v1/projects", "192.0.2.1", "")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("4th request: status %d, want 429", rec.Code)
	}
	if *calls != 3 {
		t.Errorf("handler called %d times, want 3", *calls)
	}
	wantRateHeaders(t, rec, 3, 0, 60)
	// The first request is earned back 20s after it was made.
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || retry != 20 {
		t.Errorf("Retry-After = %q, want 20", rec.Header().Get("Retry-After"))
	}
	e := decodeError(t, rec)
	if e.Code != "RESOURCE_EXHAUSTED" || e.Details == nil || e.Details.RetryAfterSeconds != int64(retry) {
		t.Errorf("error = %+v, want RESOURCE_EXHAUSTED with retryAfterSeconds %d", e, retry)
	}
	wantMsg := "rate limit exceeded: 3 requests per minute per client address; retry in " + strconv.Itoa(retry) + "s"
	if e.Message != wantMsg {
		t.Errorf("message = %q, want %q", e.Message, wantMsg)
	}
}

func TestRateLimitRouteRules(t *testing.T) {
	rules := []Rule{
		{Name: "login", Method: http.MethodPost, Path: "/api/v1/auth/login", Limit: redis_rate.PerMinute(2)},
		{Name: "auth", Path: "/api/v1/auth/*", Limit: redis_rate.PerMinute(4)},
		{Name: "health", Path: "/healthz"}, // zero Limit: exempt
	}
	tests := []struct {
		method, path string
		wantLimit    string // RateLimit-Limit; "" = not limited
	}{
		{http.MethodPost, "/api/v1/auth/login", "2"},
		{http.MethodGet, "/api/v1/auth/login", "4"}, // other method: next rule
		{http.MethodPost, "/api/v1/auth/login/x", "4"},
		{http.MethodPost, "/api/v1/auth/", "4"},
		{http.MethodPost, "/api/v1/authz", "10"}, // not under /api/v1/auth/
		{http.MethodGet, "/api/v1/projects", "10"},
		{http.MethodGet, "/healthz", ""},
	}
	h, _ := limited(t, RateLimitConfig{PerIP: redis_rate.PerMinute(10), Routes: rules})
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			if got := call(h, tt.method, tt.path, "192.0.2.99", "").Header().Get("RateLimit-Limit"); got != tt.wantLimit {
				t.Errorf("RateLimit-Limit = %q, want %q", got, tt.wantLimit)
			}
		})
	}
}

// A rule may choose its requests with a function; it then decides alone (its Method and Path
// are ignored), and its refusals name the rule.
func TestRateLimitRuleWithAMatchFunction(t *testing.T) {
	static := func(r *http.Request) bool {
		return (r.Method == http.MethodGet || r.Method == http.MethodHead) && !strings.HasPrefix(r.URL.Path, "/api/")
	}
	h, calls := limited(t, RateLimitConfig{PerIP: redis_rate.PerMinute(2), Routes: []Rule{
		{Name: "console", Method: http.MethodPost, Path: "/never", Match: static}, // zero Limit: exempt
		{Name: "strict", Match: func(r *http.Request) bool { return r.URL.Path == "/api/strict" }, Limit: redis_rate.PerMinute(1)},
	}})
	for i := range 20 {
		for _, c := range []struct{ method, path string }{{http.MethodGet, "/"}, {http.MethodHead, "/assets/app.js"}, {http.MethodGet, "/projects/" + strconv.Itoa(i)}} {
			if rec := call(h, c.method, c.path, "192.0.2.7", ""); rec.Code != http.StatusOK || rec.Header().Get("RateLimit-Limit") != "" {
				t.Fatalf("%s %s (request %d): %d, RateLimit-Limit %q", c.method, c.path, i, rec.Code, rec.Header().Get("RateLimit-Limit"))
			}
		}
	}
	if *calls != 60 {
		t.Errorf("handler called %d times, want 60", *calls)
	}
	if rec := call(h, http.MethodPost, "/never", "192.0.2.7", ""); rec.Header().Get("RateLimit-Limit") != "2" {
		t.Errorf("the Method and Path of a rule with Match applied: %v", rec.Header())
	}
	call(h, http.MethodGet, "/api/strict", "192.0.2.7", "")
	rec := call(h, http.MethodGet, "/api/strict", "192.0.2.7", "")
	if e := decodeError(t, rec); rec.Code != http.StatusTooManyRequests || !strings.Contains(e.Message, "per client address for strict;") {
		t.Errorf("over the rule's limit: %d %+v", rec.Code, e)
	}
}

func TestRateLimitRouteRuleIsStricterThanTheGlobalLimit(t *testing.T) {
	h, _ := limited(t, RateLimitConfig{
		PerIP:  redis_rate.PerMinute(5),
		Routes: []Rule{{Name: "auth", Method: http.MethodPost, Path: "/api/v1/auth/*", Limit: redis_rate.PerMinute(2)}},
	})
	for range 2 {
		if rec := call(h, http.MethodPost, "/api/v1/auth/login", "192.0.2.1", ""); rec.Code != http.StatusOK {
			t.Fatalf("status %d, want 200", rec.Code)
		}
	}
	rec := call(h, http.MethodPost, "/api/v1/auth/register", "192.0.2.1", "")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("3rd auth request: status %d, want 429", rec.Code)
	}
	if msg := decodeError(t, rec).Message; !strings.HasPrefix(msg,
		"rate limit exceeded: 2 requests per minute per client address for POST /api/v1/auth/*; retry in ") {
		t.Errorf("message = %q, want it to name the auth limit", msg)
	}
	// The auth requests were not counted against the global budget.
	rec = call(h, http.MethodGet, "/api/v1/projects", "192.0.2.1", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("other route: status %d, want 200", rec.Code)
	}
	wantRateHeaders(t, rec, 5, 4, 12)
}

func TestRateLimitClientsHaveSeparateBudgets(t *testing.T) {
	redisClient, prefix := redistest.New(t)
	calls := 0
	// Clients behind our proxy at 10.0.0.2, as the gateway is deployed.
	h := ClientIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})(
		RateLimit(RateLimitConfig{Redis: redisClient, Prefix: prefix, PerIP: redis_rate.PerMinute(1)})(countingHandler(&calls)))
	send := func(xff string) int {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/projects", nil)
		req.RemoteAddr = "10.0.0.2:443"
		req.Header.Set("X-Forwarded-For", xff)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	steps := []struct {
		client string
		want   int
	}{
		{"198.51.100.1", http.StatusOK},
		{"198.51.100.1", http.StatusTooManyRequests},
		{"198.51.100.2", http.StatusOK},
		{"6.6.6.6, 198.51.100.1", http.StatusTooManyRequests}, // a forged hop does not buy a new budget
		{"2001:db8:1:1::1", http.StatusOK},
		{"2001:db8:1:1::2", http.StatusTooManyRequests}, // same /64
		{"2001:db8:1:2::1", http.StatusOK},
	}
	for _, s := range steps {
		if got := send(s.client); got != s.want {
			t.Errorf("X-Forwarded-For %s: status %d, want %d", s.client, got, s.want)
		}
	}

	// The budgets live under the prefix, where a flush of the prefix finds them.
	key := prefix.Key("rl", "ip", "global", "198.51.100.1")
	if n, err := redisClient.Exists(context.Background(), key).Result(); err != nil || n != 1 {
		t.Errorf("key %s exists = %d, %v; want 1", key, n, err)
	}
}

func TestRateLimitPerUserAcrossAddresses(t *testing.T) {
	h, _ := limited(t, RateLimitConfig{PerIP: redis_rate.PerMinute(100), PerUser: redis_rate.PerMinute(2)})

	rec := call(h, http.MethodGet, "/api/v1/projects", "192.0.2.1", "alice")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	wantRateHeaders(t, rec, 2, 1, 30) // the user's budget is the tighter one
	if rec := call(h, http.MethodGet, "/api/v1/projects", "192.0.2.2", "alice"); rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	rec = call(h, http.MethodGet, "/api/v1/projects", "192.0.2.3", "alice")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("alice's 3rd request from a new address: status %d, want 429", rec.Code)
	}
	if msg := decodeError(t, rec).Message; !strings.HasPrefix(msg, "rate limit exceeded: 2 requests per minute per user; retry in ") {
		t.Errorf("message = %q, want it to name the per-user limit", msg)
	}
	for _, user := range []string{"bob", ""} {
		if rec := call(h, http.MethodGet, "/api/v1/projects", "192.0.2.3", user); rec.Code != http.StatusOK {
			t.Errorf("user %q from the same address: status %d, want 200", user, rec.Code)
		}
	}
}

// TestRateLimitIdentifiedUsersAreLimitedPerUser: an identified user has a budget of their own,
// not shared with everyone behind the same address; anonymous callers are limited per address;
// route rules apply per address to everyone.
func TestRateLimitIdentifiedUsersAreLimitedPerUser(t *testing.T) {
	h, _ := limited(t, RateLimitConfig{PerIP: redis_rate.PerMinute(1), PerUser: redis_rate.PerMinute(3),
		Routes: []Rule{{Name: "login", Method: http.MethodPost, Path: "/login", Limit: redis_rate.PerMinute(1)}}})
	steps := []struct {
		method, path, ip, user string
		want                   int
	}{
		{"GET", "/", "192.0.2.1", "alice", http.StatusOK},
		{"GET", "/", "192.0.2.1", "alice", http.StatusOK}, // past the address limit: not applied to her
		{"GET", "/", "192.0.2.1", "alice", http.StatusOK},
		{"GET", "/", "192.0.2.9", "alice", http.StatusTooManyRequests}, // her 4th, from anywhere
		{"GET", "/", "192.0.2.1", "", http.StatusOK},                   // anonymous: the address budget
		{"GET", "/", "192.0.2.1", "", http.StatusTooManyRequests},
		{"POST", "/login", "192.0.2.5", "bob", http.StatusOK}, // a route rule counts the address
		{"POST", "/login", "192.0.2.5", "carol", http.StatusTooManyRequests},
	}
	for i, s := range steps {
		if rec := call(h, s.method, s.path, s.ip, s.user); rec.Code != s.want {
			t.Errorf("request %d (%s %s from %s as %q): status %d, want %d", i+1, s.method, s.path, s.ip, s.user, rec.Code, s.want)
		}
	}
}

func TestRateLimitFailsOpenWhenRedisIsDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().String()
	l.Close()
	down := redis.NewClient(&redis.Options{Addr: closedPort})
	t.Cleanup(func() { down.Close() })
	var logs bytes.Buffer
	h, calls := limited(t, RateLimitConfig{
		Redis:   down,
		PerIP:   redis_rate.PerMinute(1),
		PerUser: redis_rate.PerMinute(1),
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
	})

	start := time.Now()
	for range 3 {
		rec := call(h, http.MethodGet, "/api/v1/projects", "192.0.2.1", "alice")
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d, want 200", rec.Code)
		}
		if got := rec.Header().Get("RateLimit-Limit"); got != "" {
			t.Errorf("RateLimit-Limit = %q without Redis", got)
		}
	}
	if *calls != 3 {
		t.Errorf("handler called %d times, want 3", *calls)
	}
	if took := time.Since(start); took > 2*redisBudget {
		t.Errorf("3 requests took %v with Redis down, want at most %v", took, 2*redisBudget)
	}
	if lines := strings.Count(logs.String(), "\n"); lines != 1 || !strings.Contains(logs.String(), "level=WARN") ||
		!strings.Contains(logs.String(), "error=") {
		t.Errorf("want one warning with the error, got %d lines:\n%s", lines, logs.String())
	}
}

func TestRateLimitResumesWhenRedisIsBack(t *testing.T) {
	_, prefix := redistest.New(t) // for the prefix and its cleanup
	opts, err := redis.ParseURL(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if down.Load() {
			return nil, errors.New("redis unreachable (test)")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	flaky := redis.NewClient(opts)
	t.Cleanup(func() { flaky.Close() })
	var logs bytes.Buffer
	h, _ := limited(t, RateLimitConfig{
		Redis: flaky, Prefix: prefix, PerIP: redis_rate.PerMinute(1),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})

	for i := range 2 {
		if i > 0 {
			time.Sleep(redisPause) // Redis is asked again, and fails again: still the same outage
		}
		if rec := call(h, http.MethodGet, "/", "192.0.2.1", ""); rec.Code != http.StatusOK {
			t.Fatalf("Redis down: status %d, want 200", rec.Code)
		}
	}
	down.Store(false)
	time.Sleep(redisPause)
	want := []int{http.StatusOK, http.StatusTooManyRequests}
	for i, w := range want {
		if rec := call(h, http.MethodGet, "/", "192.0.2.1", ""); rec.Code != w {
			t.Errorf("Redis back, request %d: status %d, want %d", i+1, rec.Code, w)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[1], "level=INFO") ||
		!strings.Contains(lines[1], "failures=2") {
		t.Errorf("want one WARN for the outage and one INFO (2 failures) for its end, got:\n%s", logs.String())
	}
}

func TestRateLimitClientHangingUpIsNotARedisFailure(t *testing.T) {
	var logs bytes.Buffer
	h, _ := limited(t, RateLimitConfig{PerIP: redis_rate.PerMinute(1), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	req.RemoteAddr = "192.0.2.1:40000"
	h.ServeHTTP(httptest.NewRecorder(), req)

	if rec := call(h, http.MethodGet, "/", "192.0.2.1", ""); rec.Code != http.StatusTooManyRequests {
		t.Errorf("request after one that hung up: status %d, want 429 (the first one counts)", rec.Code)
	}
	if logs.Len() > 0 {
		t.Errorf("logged %s", logs.String())
	}
}

func TestRateLimitRejectsRulesThatWouldShareBudgets(t *testing.T) {
	redisClient, prefix := redistest.New(t)
	limit := redis_rate.PerMinute(1)
	for _, rules := range [][]Rule{
		{{Path: "/a", Limit: limit}},
		{{Name: "global", Path: "/a", Limit: limit}},
		{{Name: "a", Path: "/a", Limit: limit}, {Name: "a", Path: "/b", Limit: limit}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RateLimit accepted rules %+v", rules)
				}
			}()
			RateLimit(RateLimitConfig{Redis: redisClient, Prefix: prefix, PerIP: limit, Routes: rules})
		}()
	}
}

func BenchmarkRateLimit(b *testing.B) {
	unlimited := redis_rate.Limit{Rate: 1 << 30, Burst: 1 << 30, Period: time.Second}
	h, _ := limited(b, RateLimitConfig{PerIP: unlimited})
	for b.Loop() {
		if rec := call(h, http.MethodGet, "/api/v1/projects", "192.0.2.1", ""); rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// countCommands counts the commands c sends to Redis.
type countCommands struct{ n atomic.Int64 }

func (c *countCommands) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *countCommands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *countCommands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestRateLimitLeasesCutRedisTripsButNeverExceedTheLimit: a client sending fast is served from
// leases (far fewer Redis calls than requests), yet never gets more than its budget; a slow
// client is counted exactly.
func TestRateLimitLeasesCutRedisTripsButNeverExceedTheLimit(t *testing.T) {
	rdb, prefix := redistest.New(t)
	counter := &countCommands{}
	rdb.AddHook(counter)
	h, calls := limited(t, RateLimitConfig{Redis: rdb, Prefix: prefix, PerUser: redis_rate.PerMinute(200), PerIP: redis_rate.PerMinute(1)})
	for range 300 {
		rec := call(h, "GET", "/", "192.0.2.1", "fast")
		if rec.Code == http.StatusOK {
			if rem, _ := strconv.Atoi(rec.Header().Get("RateLimit-Remaining")); rem < 0 || rem >= 200 {
				t.Fatalf("RateLimit-Remaining = %d", rem)
			}
		}
	}
	if *calls > 200 || *calls < 200-leaseSize(redis_rate.PerMinute(200)) {
		t.Fatalf("%d of 300 fast requests served with a budget of 200", *calls)
	}
	if n := counter.n.Load(); n > 300/3 {
		t.Fatalf("%d Redis commands for 300 requests: leases are not used", n)
	}

	// A budget too small to lease is counted exactly, however fast the client.
	h2, calls2 := limited(t, RateLimitConfig{PerUser: redis_rate.PerMinute(10), PerIP: redis_rate.PerMinute(1)})
	for range 30 {
		call(h2, "GET", "/", "192.0.2.2", "strict")
	}
	if *calls2 != 10 {
		t.Fatalf("%d of 30 requests served with a budget of 10", *calls2)
	}
}
