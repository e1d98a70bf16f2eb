package live

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	agentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
)

// label marks a message with what it is about.
func (t topic) label(m ServerMessage) ServerMessage {
	if t.user != "" {
		m.Notifications = true
	} else {
		m.ProjectID = t.project
	}
	return m
}

// wrap is the message that carries one item of the topic's record (a timeline event, a
// notification) to the client.
func (t topic) wrap(item []byte) ServerMessage {
	if t.user != "" {
		return ServerMessage{Type: NotificationMessage, Notification: item}
	}
	return ServerMessage{Type: EventMessage, ProjectID: t.project, Event: item}
}

// subscription is one topic a client follows. Until its replay is done, live messages wait:
// items of the record (with ids) in pending, others (run and document snapshots) in held; last
// is the id of the newest item sent, so nothing is sent twice.
type subscription struct {
	// cancel ends the subscription's replay when it is removed.
	cancel    context.CancelFunc
	replaying bool
	pending   [][]byte
	pendingID []int64
	held      [][]byte
	last      int64
	start     int64 // the id the client gave: it has everything up to it
	// sent are the ids sent lately, a ring of at most recentIDs (next is the oldest once it is
	// full): an item published late (its commit raced another's) is still sent once, even after
	// a newer one. The usual item is newer than every id sent and needs no look-up.
	sent []int64
	next int
}

// recentIDs bounds how many sent ids a subscription remembers.
const recentIDs = 1024

// maxPending bounds the live messages a subscription holds back during its replay.
const maxPending = 4096

// fresh reports whether the item is one the client does not have — after its start and not
// sent yet — and notes it as sent. c.mu is held.
func (s *subscription) fresh(id int64) bool {
	if id <= s.start || (id <= s.last && slices.Contains(s.sent, id)) {
		return false
	}
	if len(s.sent) < recentIDs {
		s.sent = append(s.sent, id)
	} else {
		s.sent[s.next] = id
		s.next = (s.next + 1) % recentIDs
	}
	s.last = max(s.last, id)
	return true
}

// target is what a subscribe or unsubscribe request of the client names.
func (c *client) target(req ClientRequest) (topic, error) {
	if req.Notifications {
		return notificationsTopic(c.who.UserID), nil
	}
	if !input.ValidID(req.ProjectID) {
		return topic{}, status.Error(codes.InvalidArgument, "projectId: is required (or notifications: true)")
	}
	return projectTopic(req.ProjectID), nil
}

// resumeFrom reads the id a subscribe request resumes after, if any.
func resumeFrom(t topic, req ClientRequest) (after int64, resume bool, err error) {
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

// admitted is a subscription registered and authorised, whose replay has not started.
type admitted struct {
	t      topic
	s      *subscription
	ctx    context.Context // the subscription's, as the user: ends when it is removed
	after  int64
	resume bool
	since  time.Time // for a project that resumes: the time of the event resumed after
}

// errDropped: the subscription ended while it was admitted — the user was removed (and told
// so), or the connection is closing.
var errDropped = errors.New("dropped while subscribing")

// subscribe handles a subscribe request on the control loop; the replay runs on its own.
func (c *client) subscribe(req ClientRequest) {
	a, err := c.admit(req)
	switch {
	case errors.Is(err, errDropped):
	case err != nil:
		c.fail(a.t, err)
	default:
		c.start(a)
	}
}

// admit checks a subscribe request, registers the subscription and authorises it. It joins
// first, holding live messages back until the subscription is authorised and its replay done:
// a removal from the project committed after the check is then seen (and drops the
// subscription), one committed before it fails the check; an item committed meanwhile is
// either replayed or held, and sent once. On an error nothing stays registered; a.t says what
// the request was about.
func (c *client) admit(req ClientRequest) (a admitted, err error) {
	if a.t, err = c.target(req); err != nil {
		a.t = topic{project: req.ProjectID}
		return a, err
	}
	if a.after, a.resume, err = resumeFrom(a.t, req); err != nil {
		return a, err
	}
	ctx, cancel := context.WithCancel(c.work)
	a.s = &subscription{cancel: cancel, replaying: true, last: a.after, start: a.after}
	c.mu.Lock()
	switch {
	case c.subs == nil: // closing
		err = errDropped
	case c.subs[a.t] != nil:
		err = status.Error(codes.AlreadyExists, "already subscribed")
	case len(c.subs) >= c.hub.cfg.MaxSubscriptions:
		err = status.Errorf(codes.ResourceExhausted, "at most %d subscriptions per connection", c.hub.cfg.MaxSubscriptions)
	default:
		c.subs[a.t] = a.s
	}
	c.mu.Unlock()
	if err != nil {
		cancel()
		return a, err
	}
	c.hub.join(a.t, c)
	a.ctx = authn.NewContext(ctx, c.who)
	if a.t.project != "" {
		_, err = c.hub.backends.Projects.Authorize(a.ctx, &projectsv1.AuthorizeRequest{ProjectId: a.t.project, Action: projectsv1.Action_ACTION_READ})
		if err == nil && a.resume {
			// The time of the last event the client saw bounds what else it may have missed.
			a.since, err = c.eventTime(a.ctx, a.t.project, a.after)
		}
	}
	switch {
	case err != nil:
		if !c.removeIf(a.t, a.s) {
			return a, errDropped
		}
		return a, err
	case !c.following(a.t):
		return a, errDropped
	}
	return a, nil
}

// start says the subscription is made and runs its replay.
func (c *client) start(a admitted) {
	c.queue(a.t.label(ServerMessage{Type: Subscribed}))
	c.tasks.Add(1)
	go func() {
		defer c.tasks.Done()
		err := c.replay(a.ctx, a.t, a.s, a.after, a.resume, a.since)
		switch {
		case errors.Is(err, errRemoved):
			c.drop(a.t, a.s, status.Error(codes.PermissionDenied, "you were removed from the project"))
		case err != nil && a.ctx.Err() == nil:
			st := status.Convert(err)
			c.drop(a.t, a.s, status.Error(st.Code(), "replay failed: "+st.Message()))
		}
	}()
}

// errRemoved ends a replay that reached the user's removal from the project.
var errRemoved = errors.New("removed from the project")

// replay sends, when resuming, the record after the given id — and, for a project, the runs
// and documents that changed since —, then what arrived live meanwhile; then the subscription
// is live.
func (c *client) replay(ctx context.Context, t topic, s *subscription, after int64, resume bool, since time.Time) error {
	if resume && t.project != "" {
		if err := c.replayRecord(ctx, t, s, after, c.timelinePage); err != nil {
			return err
		}
		if err := c.catchUp(ctx, t.project, since); err != nil {
			return err
		}
	} else if resume {
		if err := c.replayRecord(ctx, t, s, after, c.notificationsPage); err != nil {
			return err
		}
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
			if err := c.handPaced(ctx, b); err != nil {
				return err
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
			if t.project != "" && removedMember(item) == c.who.UserID {
				return errRemoved // as live: the removal itself is not sent
			}
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
		b, err := edge.JSON.Marshal(m)
		if err != nil {
			return nil, nil, err
		}
		ids[i], items[i] = id(m), b
	}
	return ids, items, nil
}

// eventTime is when the project's event with this id was recorded: the zero time for 0 (then
// everything counts as changed since); an id the project does not have is refused.
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
	return time.Time{}, status.Errorf(codes.InvalidArgument, "afterEventId: the project has no event %d", id)
}

// Catching up on runs and documents.
const (
	// clockSkew widens the window: runs and documents are timed by other services' clocks.
	clockSkew = time.Minute
	// catchUpLimit bounds the runs, and the documents, one catch-up sends; a client that
	// missed more lists them.
	catchUpLimit    = 500
	catchUpPageSize = 100
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
			page, err := runs.ListRuns(ctx, &agentsv1.ListRunsRequest{ProjectId: projectID, ChangedSince: changedSince, PageSize: catchUpPageSize, PageToken: token})
			for _, r := range page.GetRuns() {
				b, _ := edge.JSON.Marshal(r)
				if err := c.sendPaced(ctx, ServerMessage{Type: RunMessage, ProjectID: projectID, Run: b}); err != nil {
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
			page, err := docs.ListDocuments(ctx, &documentsv1.ListDocumentsRequest{ProjectId: projectID, ChangedSince: changedSince, PageSize: catchUpPageSize, PageToken: token})
			for _, d := range page.GetDocuments() {
				outcome := documentsv1.SaveOutcome_SAVE_OUTCOME_NEW_VERSION
				if d.GetVersion() == 1 {
					outcome = documentsv1.SaveOutcome_SAVE_OUTCOME_CREATED
				}
				b, _ := edge.JSON.Marshal(&documentsv1.SavedDocument{Document: d, Outcome: outcome})
				if err := c.sendPaced(ctx, ServerMessage{Type: DocumentMessage, ProjectID: projectID, Document: b}); err != nil {
					return "", err
				}
			}
			return page.GetNextPageToken(), err
		})
	}
	return nil
}

// pages calls list with each next page token until there is none, up to catchUpLimit items.
func pages(ctx context.Context, list func(ctx context.Context, token string) (string, error)) error {
	token := ""
	for range catchUpLimit / catchUpPageSize {
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

// liveItem is an item of a topic's record (a timeline event, a notification) arriving live: its
// id, its JSON (what a replaying subscription holds back), and the message that carries it,
// encoded once for all the topic's subscribers rather than once per socket.
type liveItem struct {
	id   int64
	item []byte
	msg  []byte
}

func (t topic) liveItem(id int64, item []byte) (liveItem, error) {
	msg, err := json.Marshal(t.wrap(item))
	return liveItem{id: id, item: item, msg: msg}, err
}

// deliver hands the client a live item of a topic it follows.
func (c *client) deliver(t topic, it liveItem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[t]
	if s == nil || c.holding(s, func() { s.pending, s.pendingID = append(s.pending, it.item), append(s.pendingID, it.id) }) {
		return
	}
	if s.fresh(it.id) {
		c.enqueue(it.msg)
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

func (c *client) unsubscribe(req ClientRequest) {
	t, err := c.target(req)
	if err != nil {
		c.fail(topic{}, err)
		return
	}
	c.mu.Lock()
	s := c.subs[t]
	c.mu.Unlock()
	if s == nil || !c.removeIf(t, s) {
		c.fail(t, status.Error(codes.NotFound, "not subscribed"))
		return
	}
	c.queue(t.label(ServerMessage{Type: Unsubscribed}))
}

// drop ends a subscription, if s is still the one, and the watches of its project's runs,
// telling the client why.
func (c *client) drop(t topic, s *subscription, err error) {
	if t.project != "" && status.Code(err) == codes.PermissionDenied {
		c.unwatchProject(t.project)
	}
	if s == nil {
		c.mu.Lock()
		s = c.subs[t]
		c.mu.Unlock()
	}
	if s != nil && c.removeIf(t, s) {
		st := status.Convert(err)
		err := status.Error(st.Code(), "no longer subscribed: "+st.Message())
		if c.lost == nil {
			c.fail(t, err)
			return
		}
		// An event stream ends with its subscription: the error must reach the client before
		// the stream's close event, so it is written directly rather than queued behind it (off
		// this goroutine, which may be dispatching to every client).
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), c.hub.cfg.WriteTimeout)
			defer cancel()
			b, _ := json.Marshal(t.failure(err))
			_ = c.out.write(ctx, b)
			c.lost()
		}()
	}
}

// removeIf ends the subscription to t if it is s (not one made since), stopping its replay, and
// reports whether it did.
func (c *client) removeIf(t topic, s *subscription) bool {
	c.mu.Lock()
	ok := c.subs[t] == s
	if ok {
		delete(c.subs, t)
	}
	c.mu.Unlock()
	if ok {
		s.cancel()
		c.hub.leave(t, c)
	}
	return ok
}
