package agents

import (
	"context"
	"encoding/json"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// runEvent is what the bus carries on a run's topic: a chunk of output, or news that the run
// changed (watchers read the run itself from the store).
type runEvent struct {
	Type    string `json:"type"` // "chunk" or "run"
	RunID   string `json:"runId"`
	State   string `json:"state,omitempty"`
	Attempt int    `json:"attempt"`
	Seq     int64  `json:"seq,omitempty"`
	Text    string `json:"text,omitempty"`
}

func (s *Service) publish(ctx context.Context, e runEvent) {
	if s.Bus == nil {
		return
	}
	msg, _ := json.Marshal(e)
	s.busPublish(ctx, eventbus.RunTopic(e.RunID), msg) // watchers catch up from the store (they poll it too)
}

func (s *Service) publishRun(ctx context.Context, r store.Run) {
	s.publish(ctx, runEvent{Type: "run", RunID: r.ID, State: r.State, Attempt: r.Attempt})
	if s.Bus == nil || s.EncodeRun == nil {
		return
	}
	// For the project's live clients: the run as the API shows it, without its output.
	r.Output = ""
	msg, err := s.EncodeRun(r)
	if err != nil {
		s.Logger.WarnContext(ctx, "cannot encode a run's state for its project", "run_id", r.ID, "error", err.Error())
		return
	}
	s.busPublish(ctx, eventbus.ProjectRunsTopic(r.ProjectID), msg)
}

// Publishing is best effort: a run never fails, and never waits long, because Redis is out. One
// publish waits at most busPublishTimeout; after a failure nothing is published for
// busRetryAfter (counted as dropped), so an outage costs a run at most one short wait per
// interval rather than one per chunk, and is logged once when it starts and once when it ends.
const (
	busPublishTimeout = 500 * time.Millisecond
	busRetryAfter     = 2 * time.Second
)

func (s *Service) busPublish(ctx context.Context, topic string, msg []byte) {
	if time.Now().UnixNano() < s.busPausedUntil.Load() {
		s.Metrics.droppedEvent()
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), busPublishTimeout)
	defer cancel()
	if err := s.Bus.Publish(pctx, topic, msg); err != nil {
		s.Metrics.droppedEvent()
		s.busPausedUntil.Store(time.Now().Add(busRetryAfter).UnixNano())
		if !s.busDown.Swap(true) {
			s.Logger.WarnContext(ctx, "event bus unavailable: run events are dropped until it is back (watchers read the store)",
				"error", err.Error())
		}
		return
	}
	if s.busDown.Swap(false) {
		s.Logger.InfoContext(ctx, "event bus is back: run events are published again")
	}
}

// announce publishes a run queued, once: called by whoever created it (after the commit) and
// by the worker before it starts the run, whichever comes first. It holds the run while it
// publishes, so the worker publishes it running only afterwards: live clients see queued,
// running, then its end, in that order.
func (s *Service) announce(ctx context.Context, runID string) {
	if s.Bus == nil {
		return
	}
	ctx = context.WithoutCancel(ctx) // the run exists: the caller going away must not hide it
	if _, err := s.Store.AnnounceQueued(ctx, runID, func(q store.Run) { s.publishRun(ctx, q) }); err != nil {
		s.Logger.WarnContext(ctx, "cannot publish a queued run", "run_id", runID, "error", err.Error())
	}
}

// runEnded tells watchers and the metrics that a run ended.
func (s *Service) runEnded(ctx context.Context, r store.Run) {
	s.Metrics.ended(r)
	s.publishRun(ctx, r)
}

func (s *Service) publishChunk(ctx context.Context, runID string, c store.Chunk) {
	s.publish(ctx, runEvent{Type: "chunk", RunID: runID, Attempt: c.Attempt, Seq: c.Seq, Text: c.Text})
}

// Watched is one message of WatchRun: a run, or a chunk of its output.
type Watched struct {
	Run   *store.Run
	Chunk *store.Chunk
}

// watchPoll is how often a watcher re-reads the run, in case the bus lost an event.
const watchPoll = 2 * time.Second

// WatchRun sends the run, then its output so far, then its output as it arrives and the run
// whenever it changes, until the run has finished (or ctx ends).
func (s *Service) WatchRun(ctx context.Context, projectID, runID string, send func(Watched) error) error {
	if !input.ValidID(runID) {
		return apperr.InvalidField("runId", "is required: the id of a run")
	}
	if _, err := s.Projects.Authorize(ctx, projectID, false); err != nil {
		return err
	}
	if _, err := s.projectRun(ctx, projectID, runID); err != nil {
		return err
	}
	// Subscribe before reading, so that nothing published after the read is missed.
	sub, err := s.Bus.Subscribe(ctx, eventbus.RunTopic(runID))
	if err != nil {
		return apperr.Unavailable("cannot follow the run right now")
	}
	defer func() { _ = sub.Close() }()
	w := &watcher{s: s, runID: runID, send: send}
	if done, err := w.refresh(ctx); done || err != nil {
		return err
	}
	tick := time.NewTicker(watchPoll)
	defer tick.Stop()
	for {
		var done bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			done, err = w.refresh(ctx)
		case msg, ok := <-sub.C:
			if !ok {
				return apperr.Unavailable("lost the run's event stream; watch it again to resume")
			}
			done, err = w.handle(ctx, msg)
		}
		if done || err != nil {
			return err
		}
	}
}

// watcher tracks what one WatchRun has sent: the attempt it follows and how much of its output.
type watcher struct {
	s     *Service
	runID string
	send  func(Watched) error

	started bool
	state   string
	attempt int
	seq     int64
	sent    int // bytes of the attempt's output sent
}

func (w *watcher) sendRun(r store.Run) error {
	w.state, w.started = r.State, true
	r.Output = "" // the output goes in chunks
	return w.send(Watched{Run: &r})
}

// handle forwards a bus event: the next chunk directly; anything else (a gap, another attempt, a
// state change) by reading the store.
func (w *watcher) handle(ctx context.Context, msg []byte) (bool, error) {
	var e runEvent
	if json.Unmarshal(msg, &e) != nil {
		return false, nil
	}
	if e.Type == "chunk" && e.Attempt == w.attempt && e.Seq == w.seq+1 {
		return false, w.chunk(store.Chunk{Attempt: e.Attempt, Seq: e.Seq, Text: e.Text})
	}
	if e.Type == "chunk" && e.Attempt == w.attempt && e.Seq <= w.seq {
		return false, nil // already sent from the store
	}
	return w.refresh(ctx)
}

func (w *watcher) chunk(c store.Chunk) error {
	w.seq, w.sent = c.Seq, w.sent+len(c.Text)
	return w.send(Watched{Chunk: &c})
}

// refresh reads the run and sends what the watcher has not seen: the run if it changed, the
// chunks stored since, and — once the run has finished — the rest of its output. It reports
// whether the run has finished.
func (w *watcher) refresh(ctx context.Context) (bool, error) {
	r, err := w.s.Store.Run(ctx, w.runID)
	if err != nil {
		return false, err
	}
	changed := !w.started || r.State != w.state || r.Attempt != w.attempt
	if r.Attempt != w.attempt {
		w.attempt, w.seq, w.sent = r.Attempt, 0, 0
	}
	if !r.Active() {
		// The rest of the output first, so that the finished run is the last message.
		if len(r.Output) > w.sent && w.started {
			if err := w.chunk(store.Chunk{Attempt: r.Attempt, Seq: w.seq + 1, Text: r.Output[w.sent:]}); err != nil {
				return false, err
			}
		}
		if changed {
			if err := w.sendRun(r); err != nil {
				return false, err
			}
		}
		if len(r.Output) > w.sent { // a watch that began after the end: the run, then its output
			return true, w.chunk(store.Chunk{Attempt: r.Attempt, Seq: w.seq + 1, Text: r.Output[w.sent:]})
		}
		return true, nil
	}
	if changed {
		if err := w.sendRun(r); err != nil {
			return false, err
		}
	}
	chunks, err := w.s.Store.Chunks(ctx, w.runID, w.attempt, w.seq)
	if err != nil {
		return false, err
	}
	for _, c := range chunks {
		if err := w.chunk(c); err != nil {
			return false, err
		}
	}
	return false, nil
}
