package live_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
)

// BenchmarkEventLatency1000Clients: 1,000 sockets follow one project; each iteration publishes
// one event on the bus and waits until every socket has it. It reports the per-socket latency
// from publish to receipt at the 50th and 99th percentiles. The comparison with a bare fan-out,
// side by side, is scripts/bench-fanout.sh (bench/cmd/fanout); this one is for profiling the hub
// in its package (-cpuprofile, -benchmem).
func BenchmarkEventLatency1000Clients(b *testing.B) {
	const clients = 1000
	f := newFixture(b, live.Config{})
	t := b
	tok := f.token(t, "ann", time.Hour)
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		c, _, err := f.dial(t, tok)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		send(t, c, map[string]string{"type": "subscribe", "projectId": "p1"})
		if m := recv(t, c); m.Type != "subscribed" {
			b.Fatalf("subscribe: %+v", m)
		}
		conns[i] = c
	}
	var latencies []time.Duration
	b.ResetTimer()
	for i := range b.N {
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := time.Now()
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if _, _, err := c.Read(ctx); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(start)
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}()
		}
		f.publish(t, event("p1", int64(i+1), 1))
		wg.Wait()
	}
	b.StopTimer()
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	}
}
