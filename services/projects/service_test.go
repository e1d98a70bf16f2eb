package projects_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/sqlite"
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
	dir := directory{"ed@example.com": {ID: "u-ed", Email: "ed@example.com", Name: "Ed"}}
	return &projects.Service{Store: st, Directory: dir, Bus: bus, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, bus
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
			var e store.Event
			if err := json.Unmarshal(msg, &e); err != nil {
				t.Fatal(err)
			}
			stored, err := svc.ListEvents(ctx, owner, p.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			last := stored[len(stored)-1]
			if e.Type != projects.EventGateChanged || e.ID != last.ID || e.ProjectID != p.ID {
				t.Fatalf("published %+v, stored last %+v", e, last)
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
		})
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 {
			t.Fatalf("cycle: %v", err)
		}
		first, err := svc.CreateTasks(ctx, owner, p.ID, []projects.NewTask{
			{Key: "design", Gate: 1, Title: "Design"},
			{Key: "build", Gate: 1, Title: "Build", DependsOn: []string{"design"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		second, err := svc.CreateTasks(ctx, owner, p.ID, []projects.NewTask{{Key: "ship", Gate: 2, Title: "Ship", DependsOn: []string{first[1].ID}}})
		if err != nil {
			t.Fatal(err)
		}
		ready := func() []string {
			ts, err := svc.ListTasks(ctx, owner, p.ID, store.TaskFilter{ReadyOnly: true})
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
		if _, err := svc.CreateTasks(ctx, owner, p.ID, []projects.NewTask{{Key: "x", Gate: 1, Title: "X", DependsOn: []string{"no-such-task"}}}); !apperr.IsKind(err, apperr.KindInvalid) {
			t.Fatalf("unknown dependency: %v", err)
		}
	})
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
				_, err := svc.RecordDeliverable(ctx, owner, store.Deliverable{ProjectID: p.ID, Gate: 1, DocumentType: "intake",
					DocumentID: "d", Version: 1, ContentHash: "h", Complete: true})
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

func mustDo(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}
