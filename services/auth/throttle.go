package auth

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

// LoginThrottle limits login attempts per account and per client IP within a window: password
// guessing against one account, and spraying from one address, both end in a 429 until the
// window passes.
//
// An attempt is counted before its password is checked, in the same script that enforces the
// limit, so a burst of parallel guesses cannot all pass a check made before any of them is
// counted. Attempts that succeed give their count back (and clear the account's failures), so
// in the end only failures count.
type LoginThrottle struct {
	Redis         *redis.Client
	Keys          redisx.Keyspace
	Window        time.Duration
	MaxPerAccount int64
	MaxPerIP      int64
}

// throttleTimeout bounds each counter update. The updates run detached from the request, so a
// client that hangs up cannot avoid being counted (nor leave an attempt counted that never
// tested a password).
const throttleTimeout = 2 * time.Second

func (t *LoginThrottle) accountKey(email string) string {
	return t.Keys.Key("auth", "login-failures", "account", email)
}
func (t *LoginThrottle) ipKey(ip string) string {
	return t.Keys.Key("auth", "login-failures", "ip", ip)
}

// counters returns the counters that apply, account first, and their limits; the IP may be
// unknown.
func (t *LoginThrottle) counters(email, ip string) (keys []string, limits []any) {
	keys, limits = []string{t.accountKey(email)}, []any{t.MaxPerAccount}
	if ip != "" {
		keys, limits = append(keys, t.ipKey(ip)), append(limits, t.MaxPerIP)
	}
	return keys, limits
}

// attemptScript: KEYS the counters; ARGV[1] the window in ms, ARGV[1+i] the limit of KEYS[i].
// If a counter is at its limit it counts nothing and returns the ms until that counter expires;
// otherwise it counts the attempt on every counter and returns 0. A counter's window starts at
// its first attempt; a counter found without an expiry (left by a crash or an older version)
// gets one, so that nothing locks forever.
var attemptScript = redis.NewScript(`
local wait = 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, ARGV[1])
      ttl = tonumber(ARGV[1])
    end
    wait = math.max(wait, ttl, 1)
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return 0
`)

// Attempt counts one login attempt, or refuses it with a 429 (reason LOGIN_TEMPORARILY_LOCKED)
// when the account or the IP is at its limit.
func (t *LoginThrottle) Attempt(ctx context.Context, email, ip string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), throttleTimeout)
	defer cancel()
	keys, limits := t.counters(email, ip)
	ms, err := attemptScript.Run(ctx, t.Redis, keys, append([]any{t.Window.Milliseconds()}, limits...)...).Int64()
	if err != nil {
		return err
	}
	if ms == 0 {
		return nil
	}
	wait := max(time.Duration(ms)*time.Millisecond, time.Second)
	return apperr.ResourceExhausted(wait, "too many failed login attempts; try again in %s",
		wait.Round(time.Second)).WithReason(ReasonLoginLocked)
}

// settleScript: KEYS the counters, account first. ARGV[1] is 1 to delete the account's
// counter (its failures are forgiven); every other counter only gives one attempt back, so a
// success from an address does not wipe its failures against other accounts.
var settleScript = redis.NewScript(`
for i, key in ipairs(KEYS) do
  if i == 1 and ARGV[1] == '1' then
    redis.call('DEL', key)
  elseif tonumber(redis.call('GET', key) or '0') > 0 then
    redis.call('DECR', key)
  end
end
return 0
`)

func (t *LoginThrottle) settle(ctx context.Context, keys []string, clearAccount bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), throttleTimeout)
	defer cancel()
	return settleScript.Run(ctx, t.Redis, keys, clearAccount).Err()
}

// Succeeded records that the attempt found the right password: the account's failures are
// cleared and the IP gets this attempt back.
func (t *LoginThrottle) Succeeded(ctx context.Context, email, ip string) error {
	keys, _ := t.counters(email, ip)
	return t.settle(ctx, keys, true)
}

// Released gives a counted attempt back to the account and the IP because it never tested a
// password (the store or the hasher failed first): it told the caller nothing.
func (t *LoginThrottle) Released(ctx context.Context, email, ip string) error {
	keys, _ := t.counters(email, ip)
	return t.settle(ctx, keys, false)
}

// Clear forgets the account's failures (after a password reset).
func (t *LoginThrottle) Clear(ctx context.Context, email string) error {
	return t.settle(ctx, []string{t.accountKey(email)}, true)
}

// resetMailEvery is how often an account can be sent a password-reset mail.
const resetMailEvery = time.Minute

// ResetMailAllowed reports whether the account may be sent a reset mail now, and if so starts
// its cooldown: whoever knows an address must not be able to flood its inbox.
func (t *LoginThrottle) ResetMailAllowed(ctx context.Context, userID string) (bool, error) {
	return t.Redis.SetNX(ctx, t.Keys.Key("auth", "reset-mail", userID), 1, resetMailEvery).Result()
}

// ResetMailFailed gives the cooldown back when the mail could not be sent, so that asking
// again works at once.
func (t *LoginThrottle) ResetMailFailed(ctx context.Context, userID string) error {
	return t.Redis.Del(ctx, t.Keys.Key("auth", "reset-mail", userID)).Err()
}
