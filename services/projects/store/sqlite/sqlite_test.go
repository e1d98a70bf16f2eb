package sqlite_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/sqlite"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/storetest"
)

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dbtest.NewSQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// SQLite, unlike PostgreSQL, keeps a transaction going after a failed statement: a failed
// CreateTasks inside InTx must undo its own inserts and nothing else.
func TestCreateTasksInTxUndoesOnlyTheBatch(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	p := store.Project{ID: "p", OwnerID: "ada", Status: store.StatusActive, CreatedAt: at, UpdatedAt: at}
	task := func(id string, deps ...string) store.Task {
		return store.Task{ID: id, ProjectID: p.ID, Gate: 1, Status: "todo", DependsOn: deps, CreatedAt: at, UpdatedAt: at}
	}
	err := s.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateProject(ctx, p); err != nil {
			return err
		}
		if err := q.CreateTasks(ctx, []store.Task{task("kept")}); err != nil {
			return err
		}
		// The tasks insert succeeds, the dependencies insert fails.
		if err := q.CreateTasks(ctx, []store.Task{task("undone", "kept"), task("bad", "missing")}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CreateTasks with a missing dependency: err = %v, want ErrNotFound", err)
		}
		return q.CreateTasks(ctx, []store.Task{task("after", "kept")})
	})
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := s.Tasks(ctx, p.ID, store.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, t := range tasks {
		ids = append(ids, t.ID)
	}
	if !slices.Equal(ids, []string{"kept", "after"}) {
		t.Errorf("tasks committed: %v, want [kept after]", ids)
	}
}
