// Command fanout measures the live fan-out side by side with its floor (docs/PERFORMANCE.md,
// scripts/bench-fanout.sh): the real gateway/live hub and the bare fan-out of
// bench/barefanout, in this process, on the same Redis, each serving the same number of
// WebSocket clients that are also in this process. Each round
// publishes events one at a time on the Redis bus, the hubs taking turns event by event, and
// waits until every socket has read the event, recording per socket the time from the publish
// to the read. Both hubs deliver
// byte-identical messages (the live "event" message); every message read is checked, so a hub
// that loses, reorders or garbles one fails the run (exit status 1).
//
// It prints one JSON line per hub and round, then the medians and the ratios real/bare.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/bench/barefanout"
	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
)

const project = "bench-project"

func main() {
	clients := flag.Int("clients", 1000, "sockets per hub")
	events := flag.Int("events", 200, "events per hub per round")
	rounds := flag.Int("rounds", 3, "rounds (each measures both hubs, event by event in turn)")
	redisURL := flag.String("redis", envOr("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL")
	heartbeat := flag.Duration("heartbeat", 20*time.Second, "the real hub's ping interval (the gateway's LIVE_HEARTBEAT default)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the real hub's measured events to this file")
	flag.Parse()
	if *clients < 1 || *events < 1 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "usage: fanout [-clients 1000] [-events 50] [-rounds 3] [-redis URL] [-cpuprofile file]")
		os.Exit(2)
	}
	if err := run(*redisURL, *clients, *events, *rounds, *heartbeat, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// result is one hub's round.
type result struct {
	Name    string  `json:"name"`
	Round   int     `json:"round"`
	Clients int     `json:"clients"`
	Events  int     `json:"events"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	Maxms   float64 `json:"max_ms"`
	// CPUus is the process's CPU time (hub and clients, user and system) per message
	// delivered: less disturbed by the machine's other load than the latencies.
	CPUus float64 `json:"cpu_us_per_msg"`
}

func run(redisURL string, clients, events, rounds int, heartbeat time.Duration, cpuprofile string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rdb, err := redisx.Open(ctx, redisURL)
	if err != nil {
		return fmt.Errorf("needs Redis: %w", err)
	}
	defer rdb.Close()
	defer cancel() // before closing the client: the revocation watch ends quietly
	keys := redisx.Keyspace("fanout-bench:" + strconv.FormatInt(time.Now().UnixNano(), 36))

	real, err := startReal(ctx, rdb, keys, clients, heartbeat)
	if err != nil {
		return fmt.Errorf("real hub: %w", err)
	}
	defer real.close()
	bare, err := startBare(ctx, rdb, keys, clients)
	if err != nil {
		return fmt.Errorf("bare hub: %w", err)
	}
	defer bare.close()

	// Warm up both (connections, buffers, the scheduler), unmeasured.
	sides := []*side{bare, real}
	for range 5 {
		for _, s := range sides {
			if _, err := s.measure(ctx); err != nil {
				return fmt.Errorf("%s, warming up: %w", s.name, err)
			}
		}
	}
	// The hubs take turns event by event (the first one alternating), so that the machine's
	// other load falls on both alike.
	var results []result
	enc := json.NewEncoder(os.Stdout)
	for r := 1; r <= rounds; r++ {
		stopProfile := func() {}
		if cpuprofile != "" && r == rounds {
			if stopProfile, err = startProfile(cpuprofile); err != nil {
				return err
			}
		}
		lat := map[*side][]time.Duration{}
		cpu := map[*side]time.Duration{}
		for e := range events {
			for i := range sides {
				s := sides[(i+e)%len(sides)]
				before := cpuTime()
				l, err := s.measure(ctx)
				if err != nil {
					stopProfile()
					return fmt.Errorf("%s, round %d: %w", s.name, r, err)
				}
				cpu[s] += cpuTime() - before
				lat[s] = append(lat[s], l...)
			}
		}
		stopProfile()
		for _, s := range sides {
			l := lat[s]
			slices.Sort(l)
			res := result{Name: s.name, Round: r, Clients: clients, Events: events,
				P50ms: ms(percentile(l, 0.50)), P99ms: ms(percentile(l, 0.99)), Maxms: ms(l[len(l)-1]),
				CPUus: float64(cpu[s].Nanoseconds()) / 1000 / float64(len(l))}
			results = append(results, res)
			_ = enc.Encode(res)
		}
	}
	summarize(os.Stderr, results)
	return nil
}

// cpuTime is the CPU time the process has used so far.
func cpuTime() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// summarize prints, per round, the real hub's p50 and p99 as multiples of the bare one's, then
// the medians over the rounds of the latencies and of those ratios.
func summarize(w io.Writer, results []result) {
	var bare, real []result
	for _, r := range results {
		if r.Name == "bare" {
			bare = append(bare, r)
		} else {
			real = append(real, r)
		}
	}
	var bp50, bp99, rp50, rp99, x50, x99, bcpu, rcpu []float64
	for i := range bare {
		bp50, bp99, bcpu = append(bp50, bare[i].P50ms), append(bp99, bare[i].P99ms), append(bcpu, bare[i].CPUus)
		rp50, rp99, rcpu = append(rp50, real[i].P50ms), append(rp99, real[i].P99ms), append(rcpu, real[i].CPUus)
		x50, x99 = append(x50, real[i].P50ms/bare[i].P50ms), append(x99, real[i].P99ms/bare[i].P99ms)
		fmt.Fprintf(w, "round %d: real/bare p50 %.2fx, p99 %.2fx, CPU per message %.2fx\n", i+1, x50[i], x99[i], real[i].CPUus/bare[i].CPUus)
	}
	fmt.Fprintf(w, "median of %d rounds: bare p50 %.1f ms, p99 %.1f ms, %.1f µs CPU per message; real p50 %.1f ms, p99 %.1f ms, %.1f µs; real/bare p50 %.2fx, p99 %.2fx (target p99 <= 1.3x)\n",
		len(bare), median(bp50), median(bp99), median(bcpu), median(rp50), median(rp99), median(rcpu), median(x50), median(x99))
}

func median(v []float64) float64 {
	v = slices.Sorted(slices.Values(v))
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[int(p*float64(len(sorted)-1))]
}

// side is one hub under test, its clients and how to publish to it.
type side struct {
	name    string
	clients []*reader
	// publish sends event id on the bus; want is the message every client must then read.
	publish func(ctx context.Context, id int64) error
	want    func(id int64) []byte
	nextID  int64
	close   func()
}

// measure publishes one event and returns every socket's latency.
func (s *side) measure(ctx context.Context) ([]time.Duration, error) {
	s.nextID++
	want := s.want(s.nextID)
	for _, c := range s.clients {
		c.expect <- want
	}
	start := time.Now()
	if err := s.publish(ctx, s.nextID); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, len(s.clients))
	timeout := time.After(10 * time.Second)
	for i, c := range s.clients {
		select {
		case got := <-c.got:
			if got.err != nil {
				return nil, fmt.Errorf("client %d: %w", i, got.err)
			}
			lat[i] = got.at.Sub(start)
		case <-timeout:
			return nil, fmt.Errorf("event %d: client %d had nothing after 10 s", s.nextID, i)
		}
	}
	return lat, nil
}

// reader is one client socket: it reads continuously and reports when each expected message
// arrived, or what was wrong with it.
type reader struct {
	conn   *websocket.Conn
	expect chan []byte
	got    chan receipt
}

type receipt struct {
	at  time.Time
	err error
}

func newReader(conn *websocket.Conn) *reader {
	r := &reader{conn: conn, expect: make(chan []byte, 1), got: make(chan receipt, 1)}
	go r.loop()
	return r
}

func (r *reader) loop() {
	for want := range r.expect {
		_, b, err := r.conn.Read(context.Background())
		at := time.Now()
		if err == nil && string(b) != string(want) {
			err = fmt.Errorf("got %q, want %q", b, want)
		}
		r.got <- receipt{at: at, err: err}
		if err != nil {
			return
		}
	}
}

// labelled runs f with the profiler label hub=name: the goroutines it starts inherit it, so
// that a profile (-cpuprofile) tells the hubs' work apart (go tool pprof -tagfocus hub=real).
func labelled(name string, f func()) {
	pprof.Do(context.Background(), pprof.Labels("hub", name), func(context.Context) { f() })
}

// serve runs h on a loopback port and returns its WebSocket URL.
func serve(name string, h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	labelled(name, func() { go func() { _ = srv.Serve(ln) }() })
	return "ws://" + ln.Addr().String() + "/", func() { _ = srv.Close() }, nil
}

// dialAll opens n sockets, 50 at a time; ready finishes each one (e.g. subscribes).
func dialAll(ctx context.Context, n int, dial func(ctx context.Context, i int) (*websocket.Conn, error)) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(50)
	for i := range n {
		g.Go(func() error {
			dctx, cancel := context.WithTimeout(gctx, 10*time.Second)
			defer cancel()
			c, err := dial(dctx, i)
			conns[i] = c
			return err
		})
	}
	if err := g.Wait(); err != nil {
		for _, c := range conns {
			if c != nil {
				_ = c.CloseNow()
			}
		}
		return nil, err
	}
	return conns, nil
}

func readers(name string, conns []*websocket.Conn) []*reader {
	out := make([]*reader, len(conns))
	labelled(name+"-clients", func() {
		for i, c := range conns {
			out[i] = newReader(c)
		}
	})
	return out
}

func closeAll(conns []*websocket.Conn, rs []*reader) {
	for i, c := range conns {
		close(rs[i].expect)
		_ = c.CloseNow()
	}
}

// event is the timeline event both hubs carry: a gate change, as the projects service
// publishes it (the public Event's protojson).
func event(id int64) []byte {
	b, _ := edge.JSON.Marshal(&projectsv1.Event{Id: id, ProjectId: project, Payload: &projectsv1.Event_GateChanged{GateChanged: &projectsv1.GateChanged{
		Gate: 3, To: projectsv1.GateState_GATE_STATE_IN_REVIEW}}})
	return b
}

// delivered is the message a client of the real hub reads for the event; the bare hub is
// given it whole, so both write the same bytes.
func delivered(id int64) []byte {
	b, _ := json.Marshal(live.ServerMessage{Type: live.EventMessage, ProjectID: project, Event: event(id)})
	return b
}

// startReal runs gateway/live as the gateway does (its production limits, a verifier with the
// in-memory revocation list) with every project readable, and subscribes n clients, each its
// own user, to the project.
func startReal(ctx context.Context, rdb *redis.Client, keys redisx.Keyspace, n int, heartbeat time.Duration) (*side, error) {
	seed := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(seed)
	key, err := authn.NewKey(seed)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// An empty revocation list, kept in memory as in the gateway: every write still checks it.
	revocations := &authn.Revocations{Redis: rdb, Keys: keys, Source: func(context.Context) ([]authn.Revoked, error) { return nil, nil }}
	if err := revocations.Load(ctx); err != nil {
		return nil, err
	}
	go revocations.Watch(ctx, log)
	verifier := authn.NewVerifier(authn.NewStaticKeys(key), revocations)
	bus := &eventbus.Bus{Redis: rdb, Keys: keys}
	hub := live.New(live.Config{MaxConnsPerUser: 10, SendBuffer: 256, MaxSubscriptions: 50, MaxWatches: 10,
		Heartbeat: heartbeat, WriteTimeout: 10 * time.Second}, verifier, live.Backends{Projects: readable{}}, bus, log)
	hubCtx, stopHub := context.WithCancel(ctx)
	labelled("real", func() { go hub.Run(hubCtx) })
	url, stopServer, err := serve("real", hub)
	if err != nil {
		stopHub()
		return nil, err
	}
	signer := authn.Signer{Key: key, Issuer: authn.Issuer, Audience: authn.Audience}
	subscribe, _ := json.Marshal(live.ClientRequest{Type: live.Subscribe, ProjectID: project})
	conns, err := dialAll(ctx, n, func(ctx context.Context, i int) (*websocket.Conn, error) {
		user := "user-" + strconv.Itoa(i)
		token, err := signer.Sign(authn.TypeAccess, user, "session-"+user, "token-"+user, time.Now(), time.Hour)
		if err != nil {
			return nil, err
		}
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{live.Subprotocol, live.BearerSubprotocolPrefix + token}})
		if err != nil {
			return nil, err
		}
		if err := c.Write(ctx, websocket.MessageText, subscribe); err != nil {
			return c, err
		}
		_, b, err := c.Read(ctx)
		var m live.ServerMessage
		if err == nil && (json.Unmarshal(b, &m) != nil || m.Type != live.Subscribed) {
			err = fmt.Errorf("subscribing: got %s", b)
		}
		return c, err
	})
	if err != nil {
		stopServer()
		stopHub()
		return nil, err
	}
	rs := readers("real", conns)
	return &side{name: "real", clients: rs, want: delivered,
		publish: func(ctx context.Context, id int64) error {
			return bus.Publish(ctx, eventbus.ProjectTopic(project), event(id))
		},
		close: func() { closeAll(conns, rs); stopServer(); stopHub() }}, nil
}

// readable is a projects service where every user may read every project and nothing was
// recorded before the subscription (no replay is asked for).
type readable struct{}

func (readable) Authorize(context.Context, *projectsv1.AuthorizeRequest, ...grpc.CallOption) (*projectsv1.AuthorizeResponse, error) {
	return &projectsv1.AuthorizeResponse{Role: projectsv1.Role_ROLE_VIEWER}, nil
}

func (readable) ListEvents(context.Context, *projectsv1.ListEventsRequest, ...grpc.CallOption) (*projectsv1.ListEventsResponse, error) {
	return nil, status.Error(codes.Unimplemented, "the benchmark does not replay")
}

func (readable) ListNotifications(context.Context, *projectsv1.ListNotificationsRequest, ...grpc.CallOption) (*projectsv1.ListNotificationsResponse, error) {
	return nil, status.Error(codes.Unimplemented, "the benchmark does not replay")
}

// startBare runs the bare fan-out on its own channel of the same Redis and connects n clients.
func startBare(ctx context.Context, rdb *redis.Client, keys redisx.Keyspace, n int) (*side, error) {
	channel := keys.Key("bare")
	hub := barefanout.New(256, 10*time.Second)
	hubCtx, stopHub := context.WithCancel(ctx)
	var err error
	labelled("bare", func() { err = hub.Run(hubCtx, rdb, channel) })
	if err != nil {
		stopHub()
		return nil, err
	}
	url, stopServer, err := serve("bare", hub)
	if err != nil {
		stopHub()
		return nil, err
	}
	conns, err := dialAll(ctx, n, func(ctx context.Context, _ int) (*websocket.Conn, error) {
		c, _, err := websocket.Dial(ctx, url, nil)
		return c, err
	})
	if err == nil {
		// The hub registers a socket just after accepting it.
		for deadline := time.Now().Add(5 * time.Second); hub.Len() < n && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if hub.Len() < n {
			err = errors.New("not every socket was registered")
		}
	}
	if err != nil {
		stopServer()
		stopHub()
		return nil, err
	}
	rs := readers("bare", conns)
	return &side{name: "bare", clients: rs, want: delivered,
		publish: func(ctx context.Context, id int64) error {
			return rdb.Publish(ctx, channel, delivered(id)).Err()
		},
		close: func() { closeAll(conns, rs); stopServer(); stopHub() }}, nil
}
