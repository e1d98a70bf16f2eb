package live

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	agentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
)

// label marks a message with what it is about.
func (t topic) label(m message) message {
	if t.user != "" {
		m.Notifications = true
	} else {
		m.ProjectID = t.project
	}
	return m
}

// wrap is the message that carries one item of the topic's record (a timeline event, a
// notification) to the client.
func (t topic) wrap(item []byte) message {
	if t.user != "" {
		return message{Type: "notification", Notification: item}
	}
	return message{Type: "event", ProjectID: t.project, Event: item}
}

// subscription is one topic a client follows. Until its replay is done, live messages wait:
// items of the record (with ids) in pending, others (run and document snapshots) in held; last
// is the id of the newest item sent, so nothing is sent twice.
type subscription struct {
	replaying bool
	pending   [][]byte
	pendingID []int64
	held      [][]byte
	last      int64
	start     int64 // the id the client gave: it has everything up to it
	// recent are the ids sent lately: an item published late (its commit raced another's) is
	// still sent once, even after a newer one.
	recent map[int64]bool
	order  []int64
}

// recentIDs bounds how many sent ids a subscription remembers.
const recentIDs = 1024

// maxPending bounds the live messages a subscription holds back during its replay.
const maxPending = 4096

// fresh reports whether the item is one the client does not have — after its start and not
// sent yet — and notes it as sent. c.mu is held.
func (s *subscription) fresh(id int64) bool {
	if id <= s.start || s.recent[id] {
		return false
	}
	if s.recent == nil {
		s.recent = map[int64]bool{}
	}
	s.recent[id] = true
	s.order = append(s.order, id)
	if len(s.order) > recentIDs {
		delete(s.recent, s.order[0])
		s.order = s.order[1:]
	}
	s.last = max(s.last, id)
	return true
}

// target is what a subscribe or unsubscribe request names.
func (c *client) target(req request) (topic, error) {
	if req.Notifications {
		return notificationsTopic(c.who.UserID), nil
	}
	if !input.ValidID(req.ProjectID) {
		return topic{}, status.Error(codes.InvalidArgument, "projectId: is required (or notifications: true)")
	}
	return projectTopic(req.ProjectID), nil
}

// resumeFrom reads the id a subscribe request resumes after, if any.
func resumeFrom(t topic, req request) (after int64, resume bool, err error) {
	field, value := "afterEventId", req.AfterEventID
	if t.user != "" {
		field, value = "afterNotificationId", req.AfterNotificationID
	}
	if value == "" {
		return 0, false, nil
	}
	n, perr := strconv.ParseInt(value, 10, 64)
	if perr != nil || n < 0 {
		return 0, false, status.Errorf(codes.InvalidArgument, "%s: must be an id the server sent", field)
	}
	return n, true, nil
}

func (c *client) subscribe(ctx context.Context, req request) {
	t, err := c.target(req)
	if err != nil {
		c.fail(topic{project: req.ProjectID}, err)
		return
	}
	after, resume, err := resumeFrom(t, req)
	if err != nil {
		c.fail(t, err)
		return
	}
	c.mu.Lock()
	_, dup := c.subs[t]
	full := len(c.subs) >= c.hub.cfg.MaxSubscriptions
	c.mu.Unlock()
	if dup {
		c.fail(t, status.Error(codes.AlreadyExists, "already subscribed"))
		return
	}
	if full {
		c.fail(t, status.Errorf(codes.ResourceExhausted, "at most %d subscriptions per connection", c.hub.cfg.MaxSubscriptions))
		return
	}
	uctx := authn.NewContext(ctx, c.who)
	if t.project != "" {
		if _, err := c.hub.backends.Projects.Authorize(uctx, &projectsv1.AuthorizeRequest{ProjectId: t.project, Action: projectsv1.Action_ACTION_READ}); err != nil {
			c.fail(t, err)
			return
		}
	}
	// Join first, holding live messages back, then replay: an item committed meanwhile is either
	// replayed or held, and sent once. Without an id to resume after there is nothing to replay.
	s := &subscription{replaying: resume, last: after, start: after}
	c.mu.Lock()
	if c.subs == nil || c.subs[t] != nil { // closing, or a racing duplicate
		c.mu.Unlock()
		return
	}
	c.subs[t] = s
	c.mu.Unlock()
	c.hub.join(t, c)
	c.queue(t.label(message{Type: "subscribed"}))
	if !resume {
		return
	}
	if err := c.replay(uctx, t, s, after); err != nil {
		st := status.Convert(err)
		c.fail(t, status.Error(st.Code(), "replay failed: "+st.Message()))
		c.remove(t)
	}
}

// replay sends the record after the given id — and, for a project, the runs and documents that
// changed since —, then what arrived live meanwhile.
func (c *client) replay(ctx context.Context, t topic, s *subscription, after int64) error {
	if t.project != "" {
		// The time of the last event the client saw bounds what else it may have missed.
		since, err := c.eventTime(ctx, t.project, after)
		if err != nil {
			return err
		}
		if err := c.replayRecord(ctx, t, s, after, c.timelinePage); err != nil {
			return err
		}
		if err := c.catchUp(ctx, t.project, since); err != nil {
			return err
		}
	} else if err := c.replayRecord(ctx, t, s, after, c.notificationsPage); err != nil {
		return err
	}
	// Then what arrived live meanwhile (items in id order, snapshots in arrival order), with
	// the same paced sends; the subscription goes live once nothing is held back.
	for {
		c.mu.Lock()
		if len(s.pending) == 0 && len(s.held) == 0 {
			s.replaying = false
			c.mu.Unlock()
			return nil
		}
		items, ids, held := s.pending, s.pendingID, s.held
		s.pending, s.pendingID, s.held = nil, nil, nil
		c.mu.Unlock()
		order := make([]int, len(items))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ids[a], ids[b]) })
		for _, i := range order {
			if err := c.sendItemPaced(ctx, t, s, ids[i], items[i]); err != nil {
				return err
			}
		}
		for _, b := range held {
			select {
			case c.send <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// replayPageSize is how many items a replay reads at a time.
const replayPageSize = 200

// pageFunc reads a page of a topic's record after an id: the items' ids and JSON.
type pageFunc func(ctx context.Context, t topic, after int64) ([]int64, [][]byte, error)

// replayRecord sends the topic's record after the given id, a page at a time.
func (c *client) replayRecord(ctx context.Context, t topic, s *subscription, after int64, page pageFunc) error {
	for {
		ids, items, err := page(ctx, t, after)
		if err != nil {
			return err
		}
		for i, item := range items {
			if err := c.sendItemPaced(ctx, t, s, ids[i], item); err != nil {
				return err
			}
			after = ids[i]
		}
		if len(items) < replayPageSize {
			return nil
		}
	}
}

func (c *client) timelinePage(ctx context.Context, t topic, after int64) ([]int64, [][]byte, error) {
	page, err := c.hub.backends.Projects.ListEvents(ctx, &projectsv1.ListEventsRequest{ProjectId: t.project, After: after, PageSize: replayPageSize})
	if err != nil {
		return nil, nil, err
	}
	return encodeAll(page.GetEvents(), (*projectsv1.Event).GetId)
}

func (c *client) notificationsPage(ctx context.Context, _ topic, after int64) ([]int64, [][]byte, error) {
	page, err := c.hub.backends.Projects.ListNotifications(ctx, &projectsv1.ListNotificationsRequest{AfterId: after, OldestFirst: true, PageSize: replayPageSize})
	if err != nil {
		return nil, nil, err
	}
	return encodeAll(page.GetNotifications(), (*projectsv1.Notification).GetId)
}

// encodeAll is the ids and public JSON of a page of messages.
func encodeAll[M interface{ ProtoReflect() protoreflect.Message }](page []M, id func(M) int64) ([]int64, [][]byte, error) {
	ids, items := make([]int64, len(page)), make([][]byte, len(page))
	for i, m := range page {
		b, err := protojson.Marshal(m)
		if err != nil {
			return nil, nil, err
		}
		ids[i], items[i] = id(m), b
	}
	return ids, items, nil
}

// eventTime is when the project's event with this id was recorded, or the zero time if there
// is no such event (then everything counts as changed since).
func (c *client) eventTime(ctx context.Context, projectID string, id int64) (time.Time, error) {
	if id <= 0 {
		return time.Time{}, nil
	}
	page, err := c.hub.backends.Projects.ListEvents(ctx, &projectsv1.ListEventsRequest{ProjectId: projectID, After: id - 1, PageSize: 1})
	if err != nil {
		return time.Time{}, err
	}
	if e := page.GetEvents(); len(e) == 1 && e[0].GetId() == id {
		return e[0].GetCreateTime().AsTime(), nil
	}
	return time.Time{}, nil
}

// Catching up on runs and documents.
const (
	// clockSkew widens the window: runs and documents are timed by other services' clocks.
	clockSkew = time.Minute
	// catchUpLimit bounds the runs, and the documents, one catch-up sends; a client that
	// missed more lists them.
	catchUpLimit = 500
)

// catchUp sends the current state of the project's runs and documents that changed since the
// given time (every one if it is zero), as the live "run" and "document" messages.
func (c *client) catchUp(ctx context.Context, projectID string, since time.Time) error {
	var changedSince *timestamppb.Timestamp
	if !since.IsZero() {
		changedSince = timestamppb.New(since.Add(-clockSkew))
	}
	if runs := c.hub.backends.Runs; runs != nil {
		err := pages(ctx, func(ctx context.Context, token string) (string, error) {
			page, err := runs.ListRuns(ctx, &agentsv1.ListRunsRequest{ProjectId: projectID, ChangedSince: changedSince, PageSize: 100, PageToken: token})
			for _, r := range page.GetRuns() {
				b, _ := protojson.Marshal(r)
				if err := c.sendPaced(ctx, message{Type: "run", ProjectID: projectID, Run: b}); err != nil {
					return "", err
				}
			}
			return page.GetNextPageToken(), err
		})
		if err != nil {
			return err
		}
	}
	if docs := c.hub.backends.Documents; docs != nil {
		return pages(ctx, func(ctx context.Context, token string) (string, error) {
			page, err := docs.ListDocuments(ctx, &documentsv1.ListDocumentsRequest{ProjectId: projectID, ChangedSince: changedSince, PageSize: 100, PageToken: token})
			for _, d := range page.GetDocuments() {
				outcome := documentsv1.SaveOutcome_SAVE_OUTCOME_NEW_VERSION
				if d.GetVersion() == 1 {
					outcome = documentsv1.SaveOutcome_SAVE_OUTCOME_CREATED
				}
				b, _ := protojson.Marshal(&documentsv1.SavedDocument{Document: d, Outcome: outcome})
				if err := c.sendPaced(ctx, message{Type: "document", ProjectID: projectID, Document: b}); err != nil {
					return "", err
				}
			}
			return page.GetNextPageToken(), err
		})
	}
	return nil
}

// pages calls list with each next page token until there is none, up to catchUpLimit/100
// pages.
func pages(ctx context.Context, list func(ctx context.Context, token string) (string, error)) error {
	token := ""
	for range catchUpLimit / 100 {
		next, err := list(ctx, token)
		if err != nil || next == "" {
			return err
		}
		token = next
	}
	return nil
}

// sendItemPaced sends an item of the record not sent yet, waiting for room in the send queue.
func (c *client) sendItemPaced(ctx context.Context, t topic, s *subscription, id int64, item []byte) error {
	c.mu.Lock()
	fresh := s.fresh(id)
	c.mu.Unlock()
	if !fresh {
		return nil
	}
	return c.sendPaced(ctx, t.wrap(item))
}

// deliver hands the client a live item of a topic it follows.
func (c *client) deliver(t topic, id int64, item []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[t]
	if s == nil || c.holding(s, func() { s.pending, s.pendingID = append(s.pending, item), append(s.pendingID, id) }) {
		return
	}
	if s.fresh(id) {
		c.queue(t.wrap(item))
	}
}

// deliverSnapshot hands the client a message outside the record (a run's state, a document's
// save), if it follows the topic; during a replay it waits, so that it comes after the
// catch-up's older snapshots.
func (c *client) deliverSnapshot(t topic, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[t]
	if s == nil || c.holding(s, func() { s.held = append(s.held, b) }) {
		return
	}
	c.enqueue(b)
}

// holding reports whether s is replaying; if so, keep holds a live message back for after the
// replay, unless too many are held already: then the client is too slow. c.mu is held.
func (c *client) holding(s *subscription, keep func()) bool {
	if !s.replaying {
		return false
	}
	if len(s.pending)+len(s.held) >= maxPending {
		c.tooSlow()
	} else {
		keep()
	}
	return true
}

func (c *client) unsubscribe(req request) {
	t, err := c.target(req)
	if err != nil {
		c.fail(topic{}, err)
		return
	}
	if c.remove(t) {
		c.queue(t.label(message{Type: "unsubscribed"}))
	}
}

// drop ends a subscription, and the watches of its project's runs, with an error saying why.
func (c *client) drop(t topic, err error) {
	c.unwatchProject(t.project)
	if c.remove(t) {
		st := status.Convert(err)
		c.fail(t, status.Error(st.Code(), "no longer subscribed: "+st.Message()))
	}
}

// remove ends a subscription and reports whether there was one.
func (c *client) remove(t topic) bool {
	c.mu.Lock()
	_, ok := c.subs[t]
	delete(c.subs, t)
	c.mu.Unlock()
	if ok {
		c.hub.leave(t, c)
	}
	return ok
}
