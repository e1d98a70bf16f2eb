// Package redisx opens the Redis client every service shares and names keys under one prefix,
// so that several deployments (or test runs) can share a Redis without colliding.
package redisx

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
)

// Open connects to the Redis at url (redis://[user:pass@]host:port/db) and checks it answers.
func Open(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	c := redis.NewClient(opts)
	// A span per command, in the trace of the request it serves.
	if err := redisotel.InstrumentTracing(c); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis tracing: %w", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis at %s: %w", opts.Addr, err)
	}
	return c, nil
}

// Keyspace builds keys under one prefix.
type Keyspace string

// Key joins the prefix and parts with ':'.
func (k Keyspace) Key(parts ...string) string {
	if k == "" {
		return strings.Join(parts, ":")
	}
	return string(k) + ":" + strings.Join(parts, ":")
}
