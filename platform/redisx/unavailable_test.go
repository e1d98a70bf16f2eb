package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
)

// TestIsUnavailable: a Redis killed under a client, and one not there at all, are unavailable;
// a missing key, a wrong command and the caller's own cancellation are not.
func TestIsUnavailable(t *testing.T) {
	r := redistest.NewPrivate(t)
	ctx := context.Background()
	c, err := redisx.Open(ctx, r.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for name, err := range map[string]error{
		"missing key":   c.Get(ctx, "nothing").Err(),
		"wrong command": c.Do(ctx, "NOSUCHCOMMAND").Err(),
		"wrong type":    errors.Join(c.Set(ctx, "s", "x", 0).Err(), c.LPush(ctx, "s", "y").Err()),
		"canceled":      c.Get(canceled, "s").Err(),
		"no error":      nil,
	} {
		if redisx.IsUnavailable(err) {
			t.Errorf("%s: IsUnavailable(%v) = true while Redis is up", name, err)
		}
	}

	r.Stop()
	for name, err := range map[string]error{
		"open client": fmt.Errorf("check session: %w", c.Get(ctx, "s").Err()),
		"new client":  openErr(ctx, r.URL),
		"publish":     c.Publish(ctx, "ch", "m").Err(),
	} {
		if !redisx.IsUnavailable(err) {
			t.Errorf("%s: IsUnavailable(%v) = false while Redis is down", name, err)
		}
	}

	r.Start()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("the client did not reconnect once Redis was back: %v", err)
	}
	if redisx.IsUnavailable(redis.Nil) {
		t.Error("redis.Nil is not an outage")
	}
}

func openErr(ctx context.Context, url string) error {
	c, err := redisx.Open(ctx, url)
	if err == nil {
		_ = c.Close()
	}
	return err
}
