package authn

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

// Revocations is the list of ended sessions, shared in Redis. The auth service writes it when a
// session ends (logout, logout-all, refresh-token reuse, password reset); every verifier of
// access tokens reads it, so an access token stops working the moment its session ends instead
// of living on until it expires. An entry only needs to outlive the access tokens of its
// session, so it expires after the access-token lifetime plus leeway: the list stays small.
type Revocations struct {
	Redis *redis.Client
	Keys  redisx.Keyspace
	// TTL is how long an entry is kept: the access-token lifetime plus clock leeway.
	TTL time.Duration
}

func (r *Revocations) key(sessionID string) string {
	return r.Keys.Key("authn", "revoked-session", sessionID)
}

// RevokeSessions records that the sessions ended.
func (r *Revocations) RevokeSessions(ctx context.Context, sessionIDs ...string) error {
	if len(sessionIDs) == 0 {
		return nil
	}
	_, err := r.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, sid := range sessionIDs {
			p.Set(ctx, r.key(sid), 1, r.TTL)
		}
		return nil
	})
	return err
}

// IsRevoked reports whether the session was ended.
func (r *Revocations) IsRevoked(ctx context.Context, sessionID string) (bool, error) {
	n, err := r.Redis.Exists(ctx, r.key(sessionID)).Result()
	return n > 0, err
}
