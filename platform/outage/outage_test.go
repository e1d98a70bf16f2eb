package outage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type logLine struct {
	Level      string `json:"level"`
	Msg        string `json:"msg"`
	Dependency string `json:"dependency"`
	Error      string `json:"error"`
	DownFor    string `json:"down_for"`
	Failures   int    `json:"failures"`
}

func lines(t *testing.T, buf *bytes.Buffer) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var ll logLine
		if err := json.Unmarshal([]byte(l), &ll); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, ll)
	}
	return out
}

// TestOneWarningPerOutage: however many failures an outage has, it is one WARN when it starts
// and one INFO, with the count, when it ends; the owner hears of each change once.
func TestOneWarningPerOutage(t *testing.T) {
	var buf bytes.Buffer
	var changes []bool
	l := &Log{Dependency: "projects database", Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
		OnChange: func(up bool) { changes = append(changes, up) }}
	ctx := context.Background()

	if l.Up(ctx) {
		t.Error("Up without an outage reported a recovery")
	}
	if !l.Down(ctx, errors.New("connection refused")) {
		t.Error("the first failure did not start an outage")
	}
	for range 99 {
		if l.Down(ctx, errors.New("connection refused")) {
			t.Fatal("a later failure started another outage")
		}
	}
	if !l.IsDown() {
		t.Error("IsDown = false during the outage")
	}
	if !l.Up(ctx) || l.Up(ctx) {
		t.Error("Up did not end the outage exactly once")
	}
	l.Down(ctx, errors.New("again"))

	got := lines(t, &buf)
	if len(got) != 3 {
		t.Fatalf("want 3 log lines (warn, info, warn), got %d: %+v", len(got), got)
	}
	if got[0].Level != "WARN" || got[0].Msg != "projects database unavailable" || got[0].Error != "connection refused" {
		t.Errorf("first line = %+v", got[0])
	}
	if got[1].Level != "INFO" || got[1].Msg != "projects database available again" || got[1].Failures != 100 || got[1].DownFor == "" {
		t.Errorf("recovery line = %+v", got[1])
	}
	if got[2].Level != "WARN" {
		t.Errorf("a new outage is not warned again: %+v", got[2])
	}
	if want := []bool{false, true, false}; !slices.Equal(changes, want) {
		t.Errorf("OnChange calls = %v, want %v", changes, want)
	}
}

// TestProbeNoticesOutageAndRecovery: with no request coming by, the probe alone notices the
// dependency going down and coming back.
func TestProbeNoticesOutageAndRecovery(t *testing.T) {
	var failing atomic.Bool
	changed := make(chan bool, 4)
	l := &Log{Dependency: "redis", Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
		OnChange: func(up bool) { changed <- up }}
	p := &Probe{Log: l, Interval: time.Millisecond, Timeout: time.Second, Check: func(ctx context.Context) error {
		if failing.Load() {
			return errors.New("dial tcp: connection refused")
		}
		return ctx.Err()
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)

	failing.Store(true)
	if up := <-changed; up {
		t.Fatal("first change was a recovery")
	}
	failing.Store(false)
	if up := <-changed; !up {
		t.Fatal("second change was not the recovery")
	}
	if l.IsDown() {
		t.Error("the log still reports an outage")
	}
}
