package live

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	agentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
)

// watch is one run whose output a client follows, through the agents service's WatchRun: the
// run, the output of its current attempt from the start, then chunks as they come and the run
// whenever it changes, until it has finished. Watching again after a reconnect replays the
// attempt's output from its start, so nothing is lost.
type watch struct {
	projectID string
	cancel    context.CancelFunc
}

// runLabel marks a message as about a run.
func runLabel(projectID, runID string, m ServerMessage) ServerMessage {
	m.ProjectID, m.RunID = projectID, runID
	return m
}

func (c *client) watchRun(req ClientRequest) {
	fail := func(err error) {
		st := status.Convert(err)
		c.queue(runLabel(req.ProjectID, req.RunID, ServerMessage{Type: ErrorMessage, Code: st.Code().String(), Message: st.Message()}))
	}
	switch {
	case !input.ValidID(req.ProjectID):
		fail(status.Error(codes.InvalidArgument, "projectId: is required: the run's project"))
		return
	case !input.ValidID(req.RunID):
		fail(status.Error(codes.InvalidArgument, "runId: is required"))
		return
	case c.hub.backends.Runs == nil:
		fail(status.Error(codes.Unavailable, "runs cannot be watched on this gateway"))
		return
	}
	c.mu.Lock()
	switch {
	case c.watches == nil: // closing
		c.mu.Unlock()
		return
	case c.watches[req.RunID] != nil:
		c.mu.Unlock()
		fail(status.Error(codes.AlreadyExists, "already watching the run"))
		return
	case len(c.watches) >= c.hub.cfg.MaxWatches:
		c.mu.Unlock()
		fail(status.Errorf(codes.ResourceExhausted, "at most %d runs watched at once per connection", c.hub.cfg.MaxWatches))
		return
	}
	ctx, cancel := context.WithCancel(c.work)
	w := &watch{projectID: req.ProjectID, cancel: cancel}
	c.watches[req.RunID] = w
	c.mu.Unlock()
	c.tasks.Add(1)
	go func() {
		defer c.tasks.Done()
		err := c.follow(ctx, req.ProjectID, req.RunID)
		ended := ctx.Err() == nil // not unwatched, the socket not closing
		// Forgotten before the client hears of the end, so that it may watch the run again.
		c.forget(req.RunID, w)
		switch {
		case !ended:
		case err != nil:
			fail(err)
		default:
			_ = c.sendPaced(c.work, runLabel(req.ProjectID, req.RunID, ServerMessage{Type: Unwatched}))
		}
	}()
}

// follow forwards the run's stream until it ends (the run finished) or ctx does (unwatched, or
// the socket closing).
func (c *client) follow(ctx context.Context, projectID, runID string) error {
	stream, err := c.hub.backends.Runs.WatchRun(authn.NewContext(ctx, c.who), &agentsv1.WatchRunRequest{ProjectId: projectID, RunId: runID})
	if err != nil {
		return err
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var m ServerMessage
		if run := msg.GetRun(); run != nil {
			m.Type = RunMessage
			m.Run, err = edge.JSON.Marshal(run)
		} else {
			m.Type = ChunkMessage
			m.Chunk, err = edge.JSON.Marshal(msg.GetChunk())
		}
		if err != nil {
			return err
		}
		if err := c.sendPaced(ctx, runLabel(projectID, runID, m)); err != nil {
			return err
		}
	}
}

// forget removes a watch that ended, unless another has replaced it.
func (c *client) forget(runID string, w *watch) {
	w.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watches[runID] == w {
		delete(c.watches, runID)
	}
}

func (c *client) unwatchRun(runID string) {
	if !input.ValidID(runID) {
		c.queue(ServerMessage{Type: ErrorMessage, Code: codes.InvalidArgument.String(), Message: "runId: is required"})
		return
	}
	c.mu.Lock()
	w := c.watches[runID]
	delete(c.watches, runID)
	c.mu.Unlock()
	if w == nil {
		c.queue(runLabel("", runID, ServerMessage{Type: ErrorMessage, Code: codes.NotFound.String(), Message: "runId: not watched on this connection"}))
		return
	}
	w.cancel()
	c.queue(runLabel(w.projectID, runID, ServerMessage{Type: Unwatched}))
}

// unwatchProject ends the watches of a project's runs (its member was removed), telling the
// client of each.
func (c *client) unwatchProject(projectID string) {
	c.mu.Lock()
	var ended []string
	for runID, w := range c.watches {
		if w.projectID == projectID {
			w.cancel()
			delete(c.watches, runID)
			ended = append(ended, runID)
		}
	}
	c.mu.Unlock()
	for _, runID := range ended {
		c.queue(runLabel(projectID, runID, ServerMessage{Type: ErrorMessage, Code: codes.PermissionDenied.String(),
			Message: "no longer watched: you were removed from the project"}))
	}
}
