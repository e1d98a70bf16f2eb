package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

// Sessions keeps one record per login session in Redis, with the id (jti) of the only refresh
// token currently valid for it:
//
//	<prefix>:auth:session:<sid>                 hash {uid, jti, gen, prev, prev_until}, expires with the refresh token
//	<prefix>:auth:user-session-index:<uid>      sorted set of the user's session ids, scored by expiry (Unix ms)
//	<prefix>:auth:session-generation:<uid>      counter, bumped each time all the user's sessions end
//
// Every change is one Lua script, so that concurrent logins, refreshes and logout-alls cannot
// interleave: two refreshes with one token cannot both rotate it, and a session created during
// a logout-all is either ended by it or refused. The index is pruned of expired sessions in the
// scripts, so it stays as small as the user's live sessions. Times come from Redis (TIME), the
// one clock every instance shares.
//
// The generation closes the race between a login and a logout-all or password reset: a login
// reads it before checking the password and Create refuses if it has changed since, so a login
// that checked the old password cannot start a session after the reset ended them all.
//
// EndAll deletes session keys it builds from the index, so these scripts assume one Redis node,
// not Redis Cluster.
type Sessions struct {
	Redis *redis.Client
	Keys  redisx.Keyspace
	TTL   time.Duration
	// ReuseGrace is how long the refresh token just rotated out may still be presented: it gets
	// the token that replaced it instead of revoking the session. Zero disables it.
	ReuseGrace time.Duration
}

// Outcomes of Create and Rotate.
var (
	// ErrSessionEnded: the session does not exist (logged out, expired, or revoked).
	ErrSessionEnded = errors.New("session ended")
	// ErrRefreshReused: the presented refresh token was already rotated — it was copied, so the
	// session has been revoked.
	ErrRefreshReused = errors.New("refresh token reused")
	// ErrGenerationChanged: every session of the user was ended after the caller read the
	// generation, so the new session is refused.
	ErrGenerationChanged = errors.New("sessions ended meanwhile")
)

func (s *Sessions) sessionKey(sid string) string { return s.Keys.Key("auth", "session", sid) }
func (s *Sessions) indexKey(uid string) string   { return s.Keys.Key("auth", "user-session-index", uid) }
func (s *Sessions) genKey(uid string) string     { return s.Keys.Key("auth", "session-generation", uid) }

// userKeys are the per-user keys every script takes: the index and the generation.
func (s *Sessions) userKeys(uid string) []string { return []string{s.indexKey(uid), s.genKey(uid)} }

// luaNow sets now to the Redis clock in Unix ms.
const luaNow = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// createScript: KEYS index, generation, session; ARGV uid, jti, generation read by the caller,
// ttl ms, sid. Returns 0 if the generation has changed, else 1. The generation key is created
// (0) if missing and its expiry renewed with the session's, so it outlives every session that
// records it, and tells that the user has had a session (Started).
var createScript = redis.NewScript(luaNow + `
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[3]) then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('HSET', KEYS[3], 'uid', ARGV[1], 'jti', ARGV[2], 'gen', ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[1], now + ARGV[4], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[3], 'NX')
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
`)

// Ping checks that Redis answers, so that sessions can be created.
func (s *Sessions) Ping(ctx context.Context) error { return s.Redis.Ping(ctx).Err() }

// Started reports whether the user has had a session within the session TTL (Create leaves the
// generation key, which only expires a refresh-token lifetime after the last session began).
func (s *Sessions) Started(ctx context.Context, uid string) (bool, error) {
	n, err := s.Redis.Exists(ctx, s.indexKey(uid), s.genKey(uid)).Result()
	return n > 0, err
}

// Generation returns the user's session generation, to pass to Create. Read it before checking
// the password that justifies the session.
func (s *Sessions) Generation(ctx context.Context, uid string) (int64, error) {
	n, err := s.Redis.Get(ctx, s.genKey(uid)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}

// Create records a new session whose current refresh token is jti, unless the user's sessions
// were all ended since gen was read (ErrGenerationChanged).
func (s *Sessions) Create(ctx context.Context, uid, sid, jti string, gen int64) error {
	ok, err := createScript.Run(ctx, s.Redis, append(s.userKeys(uid), s.sessionKey(sid)),
		uid, jti, gen, s.TTL.Milliseconds(), sid).Int()
	if err == nil && ok == 0 {
		err = ErrGenerationChanged
	}
	return err
}

// rotateScript: KEYS index, generation, session; ARGV presented jti, new jti, ttl ms, sid,
// grace ms. Returns {1, jti now current} on success, {0} if there is no such session, {-1} on
// reuse (the session is deleted). A session recorded under an older generation is ended: it
// should not exist, since EndAll deletes them all at once, and must not be renewed if it does.
var rotateScript = redis.NewScript(luaNow + `
local s = redis.call('HMGET', KEYS[3], 'jti', 'gen', 'prev', 'prev_until')
if not s[1] then return {0} end
if tonumber(s[2] or '0') ~= tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[1], ARGV[4])
  return {0}
end
if s[1] == ARGV[1] then
  redis.call('HSET', KEYS[3], 'jti', ARGV[2], 'prev', ARGV[1], 'prev_until', now + ARGV[5])
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  redis.call('ZADD', KEYS[1], now + ARGV[3], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return {1, ARGV[2]}
end
if s[3] == ARGV[1] and now < tonumber(s[4]) then return {1, s[1]} end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[1], ARGV[4])
return {-1}
`)

// Rotate makes newJTI the session's current refresh token if presentedJTI is the current one,
// and returns the jti to issue. Within ReuseGrace of a rotation, the token it replaced gets the
// current jti instead: two tabs refreshing at once, or a client retrying a refresh whose answer
// it lost, must not log the user out.
func (s *Sessions) Rotate(ctx context.Context, uid, sid, presentedJTI, newJTI string) (string, error) {
	res, err := rotateScript.Run(ctx, s.Redis, append(s.userKeys(uid), s.sessionKey(sid)),
		presentedJTI, newJTI, s.TTL.Milliseconds(), sid, s.ReuseGrace.Milliseconds()).Slice()
	if err != nil {
		return "", err
	}
	switch code, _ := res[0].(int64); {
	case code == 0:
		return "", ErrSessionEnded
	case code < 0:
		return "", ErrRefreshReused
	case len(res) == 2:
		if jti, ok := res[1].(string); ok {
			return jti, nil
		}
	}
	return "", fmt.Errorf("rotate session: unexpected reply %v", res)
}

// End deletes one session.
func (s *Sessions) End(ctx context.Context, uid, sid string) error {
	_, err := s.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.sessionKey(sid))
		p.ZRem(ctx, s.indexKey(uid), sid)
		return nil
	})
	return err
}

// endAllScript: KEYS index, generation; ARGV session key prefix, ttl ms. Deletes
// every listed session, bumps the generation and returns the ids of the sessions it ended that
// had not expired (by their score, so the count is right even where key expiry lags).
var endAllScript = redis.NewScript(luaNow + `
local ended = {}
local indexed = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #indexed, 2 do
  if redis.call('DEL', ARGV[1] .. indexed[i]) == 1 and tonumber(indexed[i + 1]) > now then
    table.insert(ended, indexed[i])
  end
end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return ended
`)

// EndAll deletes every session of the user, refuses the sessions of logins already under way
// (see Generation), and returns the ids of the sessions it ended.
func (s *Sessions) EndAll(ctx context.Context, uid string) ([]string, error) {
	return endAllScript.Run(ctx, s.Redis, s.userKeys(uid), s.sessionKey(""), s.TTL.Milliseconds()).StringSlice()
}
