package projects_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/sqlite"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

type directory map[string]projects.User // by email

func (d directory) UserByEmail(_ context.Context, email string) (projects.User, bool, error) {
	u, ok := d[email]
	return u, ok, nil
}

func (d directory) UsersByID(_ context.Context, ids []string) (map[string]projects.User, error) {
	out := map[string]projects.User{}
	for _, u := range d {
		out[u.ID] = u
	}
	return out, nil
}

// stores are the two databases every service test runs on: SQLite serialises transactions,
// PostgreSQL runs them concurrently, so races only show on the latter.
var stores = map[string]func(t *testing.T) (store.Store, error){
	"sqlite": func(t *testing.T) (store.Store, error) {
		return sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "projects.db"))
	},
	"postgres": func(t *testing.T) (store.Store, error) {
		return postgres.Open(context.Background(), dbtest.NewPostgres(t))
	},
}

// eachStore runs f once per database.
func eachStore(t *testing.T, f func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus))) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			f(t, func(t *testing.T) (*projects.Service, *eventbus.Bus) { return newService(t, open) })
		})
	}
}

func newService(t *testing.T, open func(t *testing.T) (store.Store, error)) (*projects.Service, *eventbus.Bus) {
	t.Helper()
	st, err := open(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rdb, prefix := redistest.New(t)
	bus := &eventbus.Bus{Redis: rdb, Keys: prefix}
	dir := directory{
		"ed@example.com": {ID: "u-ed", Email: "ed@example.com", Name: "Ed"},
		"vi@example.com": {ID: "u-vi", Email: "vi@example.com", Name: "Vi"},
	}
	return &projects.Service{Store: st, Directory: dir, Bus: bus, EncodeEvent: projects.PublicEvent,
		EncodeNotification: projects.PublicNotification, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, bus
}

// TestChangesArePublishedAfterCommit: what the timeline records is also published live, with
// the same event id, so a client can switch between the two without gaps or duplicates.
func TestChangesArePublishedAfterCommit(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, bus := open(t)
		ctx := context.Background()
		owner := authn.Identity{UserID: "u-owner"}
		p, err := svc.CreateProject(ctx, owner, "Live", "", "traditional", "")
		if err != nil {
			t.Fatal(err)
		}
		sub, err := bus.Subscribe(ctx, eventbus.ProjectTopic(p.ID))
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		if _, err := svc.StartGate(ctx, owner, p.ID, 1); err != nil {
			t.Fatal(err)
		}
		select {
		case msg := <-sub.C:
			// The bus carries the public Event, as ListEvents answers with it.
			var e pb.Event
			if err := protojson.Unmarshal(msg, &e); err != nil {
				t.Fatalf("%v: %s", err, msg)
			}
			stored, err := svc.ListEvents(ctx, owner, p.ID, projects.EventQuery{})
			if err != nil {
				t.Fatal(err)
			}
			last := stored.Events[len(stored.Events)-1]
			if e.GetGateChanged().GetTo() != pb.GateState_GATE_STATE_IN_PROGRESS || e.GetId() != last.ID || e.GetProjectId() != p.ID {
				t.Fatalf("published %s, stored last %+v", msg, last)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("nothing published")
		}
		// A failed change publishes nothing.
		if _, err := svc.SubmitGate(ctx, authn.Identity{UserID: "stranger"}, p.ID, 1); !apperr.IsKind(err, apperr.KindNotFound) {
			t.Fatalf("stranger: %v", err)
		}
		select {
		case msg := <-sub.C:
			t.Fatalf("published after a refused change: %s", msg)
		case <-time.After(100 * time.Millisecond):
		}
	})
}

// TestAuthorize is what the documents and agents services rely on.
func TestAuthorize(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		owner := authn.Identity{UserID: "u-owner"}
		p, err := svc.CreateProject(ctx, owner, "Authz", "", "hybrid", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddMember(ctx, owner, p.ID, "ed@example.com", store.RoleViewer); err != nil {
			t.Fatal(err)
		}
		ed := authn.Identity{UserID: "u-ed"}
		if got, err := svc.Authorize(ctx, ed, p.ID, projects.ActRead); err != nil || got.Role != store.RoleViewer || got.Type != "hybrid" {
			t.Fatalf("viewer read: %+v %v", got, err)
		}
		if _, err := svc.Authorize(ctx, ed, p.ID, projects.ActWrite); !apperr.IsKind(err, apperr.KindPermissionDenied) {
			t.Fatalf("viewer write: %v", err)
		}
		if _, err := svc.Authorize(ctx, authn.Identity{UserID: "nobody"}, p.ID, projects.ActRead); !apperr.IsKind(err, apperr.KindNotFound) {
			t.Fatalf("stranger: %v", err)
		}
		if _, err := svc.Authorize(ctx, owner, "no-such-project", projects.ActRead); !apperr.IsKind(err, apperr.KindNotFound) {
			t.Fatalf("missing project: %v", err)
		}
	})
}

// TestTaskDecomposition: a cycle is refused with the tasks named; dependencies on existing
// tasks work; readiness follows the dependencies.
func TestTaskDecomposition(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		owner := authn.Identity{UserID: "u-owner"}
		p, err := svc.CreateProject(ctx, owner, "Tasks", "", "traditional", "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.CreateTasks(ctx, owner, p.ID, []projects.NewTask{
			{Key: "a", Gate: 1, Title: "A", DependsOn: []string{"b"}},
			{Key: "b", Gate: 1, Title: "B", DependsOn: []string{"a"}},
		}, "")
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 {
			t.Fatalf("cycle: %v", err)
		}
		first, err := svc.CreateTasks(ctx, owner, p.ID, []projects.NewTask{
			{Key: "design", Gate: 1, Title: "Design"},
			{Key: "build", Gate: 1, Title: "Build", DependsOn: []string{"design"}},
		}, "run-1")
		if err != nil {
			t.Fatal(err)
		}
		// A replay with the same key (an agent run's output stored again after a crash)
		// returns the same tasks and creates none.
		again, err := svc.CreateTasks(ctx, owner, p.ID, []projects.NewTask{
			{Key: "design", Gate: 1, Title: "Design"},
			{Key: "build", Gate: 1, Title: "Build", DependsOn: []string{"design"}},
		}, "run-1")
		if err != nil || len(again) != 2 || again[0].ID != first[0].ID || again[1].ID != first[1].ID || again[1].DependsOn[0] != first[0].ID {
			t.Fatalf("replay: %v %+v", err, again)
		}
		if all, _, err := svc.ListTasks(ctx, owner, p.ID, store.TaskFilter{}, 0, ""); err != nil || len(all) != 2 {
			t.Fatalf("after the replay the project has %d tasks (%v), want 2", len(all), err)
		}
		second, err := svc.CreateTasks(ctx, owner, p.ID, []projects.NewTask{{Key: "ship", Gate: 2, Title: "Ship", DependsOn: []string{first[1].ID}}}, "")
		if err != nil {
			t.Fatal(err)
		}
		ready := func() []string {
			ts, _, err := svc.ListTasks(ctx, owner, p.ID, store.TaskFilter{ReadyOnly: true}, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, t := range ts {
				titles = append(titles, t.Title)
			}
			return titles
		}
		if got := ready(); len(got) != 1 || got[0] != "Design" {
			t.Fatalf("ready: %v", got)
		}
		for _, id := range []string{first[0].ID, first[1].ID} {
			if _, err := svc.UpdateTask(ctx, owner, p.ID, id, projects.TaskDone); err != nil {
				t.Fatal(err)
			}
		}
		if got := ready(); len(got) != 1 || got[0] != "Ship" || second[0].DependsOn[0] != first[1].ID {
			t.Fatalf("ready after done: %v", got)
		}
		if _, err := svc.CreateTasks(ctx, owner, p.ID, []projects.NewTask{{Key: "x", Gate: 1, Title: "X", DependsOn: []string{"no-such-task"}}}, ""); !apperr.IsKind(err, apperr.KindInvalid) {
			t.Fatalf("unknown dependency: %v", err)
		}
	})
}

// TestListTasksPages: pages follow each other in creation order (tasks created together in the
// order given), whatever the filter, without duplicates or gaps, and the last page has no token.
func TestListTasksPages(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		owner := authn.Identity{UserID: "u-owner"}
		p, err := svc.CreateProject(ctx, owner, "Pages", "", "traditional", "")
		if err != nil {
			t.Fatal(err)
		}
		other, err := svc.CreateProject(ctx, owner, "Other", "", "traditional", "")
		if err != nil {
			t.Fatal(err)
		}
		var all []string // titles in creation order
		create := func(projectID string, gates ...int) {
			t.Helper()
			in := make([]projects.NewTask, len(gates))
			for i, gate := range gates {
				in[i] = projects.NewTask{Key: fmt.Sprint(i), Gate: gate, Title: fmt.Sprintf("%s-%d", projectID[:4], len(all)+i)}
			}
			if _, err := svc.CreateTasks(ctx, owner, projectID, in, ""); err != nil {
				t.Fatal(err)
			}
			if projectID == p.ID {
				for _, task := range in {
					all = append(all, task.Title)
				}
			}
		}
		create(p.ID, 1, 2, 1, 1)
		create(other.ID, 1)
		create(p.ID, 2, 1, 1)

		// list pages through the tasks; tokens[i] is the token returned with page i.
		list := func(f store.TaskFilter, size int) (titles []string, tokens []string) {
			t.Helper()
			token := ""
			for range 20 {
				ts, next, err := svc.ListTasks(ctx, owner, p.ID, f, size, token)
				if err != nil {
					t.Fatalf("ListTasks(%+v, %d, %q): %v", f, size, token, err)
				}
				if size > 0 && len(ts) > size {
					t.Fatalf("ListTasks(%+v, %d): %d tasks", f, size, len(ts))
				}
				for _, task := range ts {
					titles = append(titles, task.Title)
				}
				tokens = append(tokens, next)
				if next == "" {
					return titles, tokens
				}
				token = next
			}
			t.Fatalf("ListTasks(%+v, %d): no last page", f, size)
			return nil, nil
		}
		pick := func(is ...int) []string {
			out := make([]string, len(is))
			for i, j := range is {
				out[i] = all[j]
			}
			return out
		}
		for _, tc := range []struct {
			filter store.TaskFilter
			size   int
			want   []string
			pages  int
		}{
			{store.TaskFilter{}, 3, all, 3},
			{store.TaskFilter{}, 0, all, 1}, // the default page holds them all
			{store.TaskFilter{}, 7, all, 1}, // a full last page: the extra row tells it is the last
			{store.TaskFilter{}, 1, all, 7},
			{store.TaskFilter{Gate: 1}, 3, pick(0, 2, 3, 5, 6), 2},
			{store.TaskFilter{Gate: 2}, 2, pick(1, 4), 1},
			{store.TaskFilter{ReadyOnly: true}, 3, all, 3},
			{store.TaskFilter{Gate: 3}, 3, nil, 1},
		} {
			got, tokens := list(tc.filter, tc.size)
			if !slices.Equal(got, tc.want) || len(tokens) != tc.pages {
				t.Errorf("ListTasks(%+v) in pages of %d: %v in %d pages, want %v in %d", tc.filter, tc.size, got, len(tokens), tc.want, tc.pages)
			}
		}

		// A page token resumes after its task even with another filter; tasks done since do not
		// shift the pages.
		ts, next, err := svc.ListTasks(ctx, owner, p.ID, store.TaskFilter{}, 2, "")
		if err != nil || len(ts) != 2 || next == "" {
			t.Fatalf("first page: %d tasks, token %q, err %v", len(ts), next, err)
		}
		if _, err := svc.UpdateTask(ctx, owner, p.ID, ts[0].ID, projects.TaskDone); err != nil {
			t.Fatal(err)
		}
		ts, _, err = svc.ListTasks(ctx, owner, p.ID, store.TaskFilter{Gate: 1, ReadyOnly: true}, 2, next)
		if titles := taskTitles(ts); err != nil || !slices.Equal(titles, pick(2, 3)) {
			t.Errorf("ListTasks(gate 1, ready, after the 2nd): %v, err %v, want %v", titles, err, pick(2, 3))
		}

		for _, tc := range []struct {
			name  string
			size  int
			token string
			field string
		}{
			{"page too large", 501, "", "pageSize"},
			{"negative page size", -1, "", "pageSize"},
			{"garbage token", 0, "not a token!", "pageToken"},
			{"token of no base64", 0, "bm90LWEtdG9rZW4", "pageToken"},
			{"position 0", 0, "MA", "pageToken"},
			{"negative position", 0, "LTE", "pageToken"},
			{"leading zero", 0, "MDE", "pageToken"},
		} {
			_, _, err := svc.ListTasks(ctx, owner, p.ID, store.TaskFilter{}, tc.size, tc.token)
			if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
				t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
			}
		}
		// A token of ListProjects is not one of ListTasks.
		_, projectsToken, err := svc.ListProjects(ctx, owner, 1, "")
		if err != nil || projectsToken == "" {
			t.Fatalf("ListProjects: token %q, err %v", projectsToken, err)
		}
		if _, _, err := svc.ListTasks(ctx, owner, p.ID, store.TaskFilter{}, 0, projectsToken); !apperr.IsKind(err, apperr.KindInvalid) {
			t.Errorf("a ListProjects token: %v, want invalid", err)
		}
		// Strangers learn nothing, valid token or not.
		if _, _, err := svc.ListTasks(ctx, authn.Identity{UserID: "stranger"}, p.ID, store.TaskFilter{}, 2, next); !apperr.IsKind(err, apperr.KindNotFound) {
			t.Errorf("stranger: %v, want not found", err)
		}
	})
}

func taskTitles(ts []store.Task) []string {
	titles := make([]string, len(ts))
	for i, t := range ts {
		titles[i] = t.Title
	}
	return titles
}

// TestConcurrentChangesAreNotLost: an approval racing renames must leave the project at the next
// gate (no write of the project row undoes another), and a member removed while their change is
// in flight cannot write after the removal.
func TestConcurrentChangesAreNotLost(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		owner := authn.Identity{UserID: "u-owner"}
		for round := range 5 {
			p, err := svc.CreateProject(ctx, owner, fmt.Sprintf("Race %d", round), "", "traditional", "")
			if err != nil {
				t.Fatal(err)
			}
			mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, p.ID, 1); return err })
			mustDo(t, func() error {
				_, err := svc.RecordDeliverable(ctx, documentsSvc, store.Deliverable{ProjectID: p.ID, Gate: 1, DocumentType: "intake",
					DocumentID: "d", Version: 1, ContentHash: contentHash("intake"), Complete: true})
				return err
			})
			mustDo(t, func() error { _, err := svc.SubmitGate(ctx, owner, p.ID, 1); return err })
			var wg sync.WaitGroup
			for i := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					name := fmt.Sprintf("renamed %d", i)
					_, _ = svc.UpdateProject(ctx, owner, p.ID, projects.ProjectUpdate{Name: &name})
				}()
			}
			mustDo(t, func() error { _, err := svc.ApproveGate(ctx, owner, p.ID, 1, ""); return err })
			wg.Wait()
			got, err := svc.GetProject(ctx, owner, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.CurrentGate != 2 {
				t.Fatalf("round %d: a rename undid the approval: project at G%d", round, got.CurrentGate)
			}
		}
	})
}

// teamProject is a traditional project of the owner with an editor (ed@example.com) and a viewer
// (vi@example.com).
func teamProject(t *testing.T, svc *projects.Service, name string) store.ProjectWithRole {
	t.Helper()
	ctx := context.Background()
	p, err := svc.CreateProject(ctx, owner, name, "", workflow.Traditional, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ email, role string }{{"ed@example.com", store.RoleEditor}, {"vi@example.com", store.RoleViewer}} {
		mustDo(t, func() error { _, err := svc.AddMember(ctx, owner, p.ID, m.email, m.role); return err })
	}
	return p
}

func mustDo(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}
