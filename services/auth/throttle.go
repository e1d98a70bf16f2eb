package auth

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

// LoginThrottle limits failed logins per account and per client IP within a window: password
// guessing against one account, and spraying from one address, both end in a 429 until the
// window passes. A successful login clears the account's count.
type LoginThrottle struct {
	Redis         *redis.Client
	Keys          redisx.Keyspace
	Window        time.Duration
	MaxPerAccount int64
	MaxPerIP      int64
}

func (t *LoginThrottle) accountKey(email string) string {
	return t.Keys.Key("auth", "login-failures", "account", email)
}
func (t *LoginThrottle) ipKey(ip string) string {
	return t.Keys.Key("auth", "login-failures", "ip", ip)
}

// counters returns the failure counters that apply and their limits; the IP may be unknown.
func (t *LoginThrottle) counters(email, ip string) (keys []string, limits []int64) {
	keys, limits = []string{t.accountKey(email)}, []int64{t.MaxPerAccount}
	if ip != "" {
		keys, limits = append(keys, t.ipKey(ip)), append(limits, t.MaxPerIP)
	}
	return keys, limits
}

// Blocked reports how long the account or IP is locked out, or zero.
func (t *LoginThrottle) Blocked(ctx context.Context, email, ip string) (time.Duration, error) {
	keys, limits := t.counters(email, ip)
	var counts []*redis.StringCmd
	var ttls []*redis.DurationCmd
	if _, err := t.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			counts = append(counts, p.Get(ctx, k))
			ttls = append(ttls, p.PTTL(ctx, k))
		}
		return nil
	}); err != nil && err != redis.Nil {
		return 0, err
	}
	var wait time.Duration
	for i := range keys {
		n, _ := counts[i].Int64()
		if n >= limits[i] {
			wait = max(wait, ttls[i].Val(), time.Second)
		}
	}
	return wait, nil
}

// Failed counts one failed login for the account and IP.
func (t *LoginThrottle) Failed(ctx context.Context, email, ip string) error {
	keys, _ := t.counters(email, ip)
	_, err := t.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Incr(ctx, k)
			p.ExpireNX(ctx, k, t.Window) // the window starts at the first failure
		}
		return nil
	})
	return err
}

// Succeeded clears the account's failures.
func (t *LoginThrottle) Succeeded(ctx context.Context, email string) error {
	return t.Redis.Del(ctx, t.accountKey(email)).Err()
}
