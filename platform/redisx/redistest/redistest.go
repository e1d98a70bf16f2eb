// Package redistest gives each test a real Redis client and a key prefix of its own, and removes
// the test's keys when it ends. The Redis is TEST_REDIS_URL, by default the local one.
package redistest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

// DefaultURL is the Redis used when TEST_REDIS_URL is not set.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL returns the Redis URL tests use.
func URL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// New returns a client of the test Redis and a fresh key prefix; every key under the prefix is
// deleted when the test ends. The test fails at once, with a clear message, if Redis is not
// reachable.
func New(t testing.TB) (*redis.Client, redisx.Keyspace) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := redisx.Open(ctx, URL())
	if err != nil {
		t.Fatalf("tests need Redis (set TEST_REDIS_URL or start one on 127.0.0.1:6379): %v", err)
	}
	prefix := redisx.Keyspace("test:" + requestid.New()[:12])
	t.Cleanup(func() {
		Flush(context.Background(), c, prefix)
		_ = c.Close()
	})
	return c, prefix
}

// Flush deletes every key under prefix, without KEYS.
func Flush(ctx context.Context, c *redis.Client, prefix redisx.Keyspace) {
	iter := c.Scan(ctx, 0, string(prefix)+":*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			c.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Del(ctx, batch...)
	}
}
