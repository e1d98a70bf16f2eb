package auth

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

// Sessions keeps one record per login session in Redis, with the id (jti) of the only refresh
// token currently valid for it:
//
//	<prefix>:auth:session:<sid>       hash {uid, jti}, expires with the refresh token
//	<prefix>:auth:user-sessions:<uid> set of the user's session ids (for logout-all without KEYS)
//
// Rotation is one Lua script, so two refreshes racing with the same token cannot both win.
type Sessions struct {
	Redis *redis.Client
	Keys  redisx.Keyspace
	TTL   time.Duration
}

// Outcomes of a rotation.
var (
	// ErrSessionEnded: the session does not exist (logged out, expired, or revoked).
	ErrSessionEnded = errors.New("session ended")
	// ErrRefreshReused: the presented refresh token was already rotated — it was copied, so the
	// session has been revoked.
	ErrRefreshReused = errors.New("refresh token reused")
)

func (s *Sessions) sessionKey(sid string) string { return s.Keys.Key("auth", "session", sid) }
func (s *Sessions) userKey(uid string) string    { return s.Keys.Key("auth", "user-sessions", uid) }

// Create records a new session whose current refresh token is jti.
func (s *Sessions) Create(ctx context.Context, uid, sid, jti string) error {
	_, err := s.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.sessionKey(sid), "uid", uid, "jti", jti)
		p.Expire(ctx, s.sessionKey(sid), s.TTL)
		p.SAdd(ctx, s.userKey(uid), sid)
		p.Expire(ctx, s.userKey(uid), s.TTL)
		return nil
	})
	return err
}

// rotateScript: KEYS[1] session, KEYS[2] user set; ARGV presented jti, new jti, ttl seconds, sid.
// Returns 1 rotated, 0 no such session, -1 reuse detected (session deleted).
var rotateScript = redis.NewScript(`
local current = redis.call('HGET', KEYS[1], 'jti')
if not current then return 0 end
if current ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[4])
  return -1
end
redis.call('HSET', KEYS[1], 'jti', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
`)

// Rotate makes newJTI the session's current refresh token if presentedJTI is the current one.
func (s *Sessions) Rotate(ctx context.Context, uid, sid, presentedJTI, newJTI string) error {
	res, err := rotateScript.Run(ctx, s.Redis, []string{s.sessionKey(sid), s.userKey(uid)},
		presentedJTI, newJTI, int64(s.TTL/time.Second), sid).Int()
	switch {
	case err != nil:
		return err
	case res == 0:
		return ErrSessionEnded
	case res < 0:
		return ErrRefreshReused
	}
	return nil
}

// End deletes one session.
func (s *Sessions) End(ctx context.Context, uid, sid string) error {
	_, err := s.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.sessionKey(sid))
		p.SRem(ctx, s.userKey(uid), sid)
		return nil
	})
	return err
}

// EndAll deletes every session of the user and returns their ids.
func (s *Sessions) EndAll(ctx context.Context, uid string) ([]string, error) {
	sids, err := s.Redis.SMembers(ctx, s.userKey(uid)).Result()
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(sids)+1)
	for _, sid := range sids {
		keys = append(keys, s.sessionKey(sid))
	}
	keys = append(keys, s.userKey(uid))
	return sids, s.Redis.Del(ctx, keys...).Err()
}

// Alive reports whether the session exists.
func (s *Sessions) Alive(ctx context.Context, sid string) (bool, error) {
	n, err := s.Redis.Exists(ctx, s.sessionKey(sid)).Result()
	return n > 0, err
}
