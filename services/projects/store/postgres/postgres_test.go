package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/storetest"
)

func open(tb testing.TB) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dbtest.NewPostgres(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// openPool returns a store on a pool configured by configure, in the projects schema as in
// production, and the pool.
func openPool(tb testing.TB, configure func(*pgxpool.Config)) (*postgres.Store, *pgxpool.Pool) {
	tb.Helper()
	pool := dbtest.NewPool(tb, postgres.Schema, configure)
	s, err := postgres.New(context.Background(), pool)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s, pool
}

// openTraced returns a store on a pool of one connection, traced by the returned tracer.
func openTraced(t *testing.T) (*postgres.Store, *dbtest.Tracer, *pgxpool.Pool) {
	t.Helper()
	pool, tr := dbtest.TracedPool(t, postgres.Schema)
	s, err := postgres.New(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, tr, pool
}

var base = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func createProject(t testing.TB, s store.Queries) store.Project {
	t.Helper()
	p := store.Project{ID: uuid.NewString(), Name: "p", Type: "traditional", OwnerID: "ada", Status: store.StatusActive,
		CurrentGate: 1, CreatedAt: base, UpdatedAt: base}
	if err := s.CreateProject(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// chain returns n new tasks of the project, each depending on the one before.
func chain(projectID string, n int) []store.Task {
	tasks := make([]store.Task, n)
	for i := range tasks {
		tasks[i] = store.Task{ID: uuid.NewString(), ProjectID: projectID, Gate: 1 + i%9, Title: fmt.Sprint("task ", i),
			Status: "todo", Priority: "medium", CreatedAt: base, UpdatedAt: base}
		if i > 0 {
			tasks[i].DependsOn = []string{tasks[i-1].ID}
		}
	}
	return tasks
}

func TestCreateTasksIsOneStatement(t *testing.T) {
	s, tr, _ := openTraced(t)
	ctx := t.Context()
	p := createProject(t, s)
	// Warm the connection's statement cache: pgx prepares a statement the first time it runs it.
	if err := s.CreateTasks(ctx, chain(p.ID, 2)); err != nil {
		t.Fatal(err)
	}

	// 50 tasks and 60 dependencies: a chain of 49, and 11 more on the first task.
	tasks := chain(p.ID, 50)
	existing := chain(p.ID, 1)
	if err := s.CreateTasks(ctx, existing); err != nil {
		t.Fatal(err)
	}
	for i := range 11 {
		tasks[i].DependsOn = append(tasks[i].DependsOn, existing[0].ID)
	}
	var err error
	statements, prepares := tr.Record(func() { err = s.CreateTasks(ctx, tasks) })
	if err != nil {
		t.Fatal(err)
	}
	if len(statements) != 1 || prepares != 0 {
		t.Errorf("CreateTasks of 50 tasks ran %d statements and %d preparations, want 1 and 0: %v", len(statements), prepares, statements)
	}
	got, err := s.Tasks(ctx, p.ID, store.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	deps := 0
	for _, task := range got {
		deps += len(task.DependsOn)
	}
	if len(got) != 53 || deps != 1+60 {
		t.Errorf("stored %d tasks with %d dependencies, want 53 with 61", len(got), deps)
	}

	// Failing costs no more: the foreign key is checked within the statement.
	bad := chain(p.ID, 50)
	bad[49].DependsOn = []string{uuid.NewString()}
	statements, _ = tr.Record(func() { err = s.CreateTasks(ctx, bad) })
	if !errors.Is(err, store.ErrNotFound) || len(statements) != 1 {
		t.Errorf("CreateTasks with a missing dependency: err %v after %d statements, want ErrNotFound after 1", err, len(statements))
	}
}

// seed fills the tables with enough rows, of realistic shape, for the planner to prefer indexes
// where they pay, and returns ids to query: a user in few projects, one in most, and a project.
func seed(tb testing.TB, pool *pgxpool.Pool) (fewUser, busyUser, projectID string) {
	tb.Helper()
	for _, sql := range []string{
		`INSERT INTO projects (id, name, description, type, repository_url, owner_id, status, current_gate, created_at, updated_at)
		 SELECT 'p' || i, 'name', '', 'traditional', '', 'owner' || i % 1000, 'active', 1,
		        timestamptz '2025-01-01' + i * interval '1 minute', timestamptz '2025-01-01'
		 FROM generate_series(1, 5000) i`,
		// Each project has its owner and two other members; "few" is in 10 projects, "busy" in 4500.
		`INSERT INTO members (project_id, user_id, role, created_at)
		 SELECT 'p' || i, u, 'editor', timestamptz '2025-01-01' + i * interval '1 minute'
		 FROM generate_series(1, 5000) i,
		      LATERAL (VALUES ('owner' || i % 1000), ('user' || i % 777), ('user' || (i + 1) % 3001)) AS m(u)`,
		`INSERT INTO members (project_id, user_id, role, created_at)
		 SELECT 'p' || i, 'few', 'viewer', now() FROM generate_series(1, 5000, 500) i`,
		`INSERT INTO members (project_id, user_id, role, created_at)
		 SELECT 'p' || i, 'busy', 'viewer', now() FROM generate_series(1, 5000) i WHERE i % 10 <> 0`,
		// 200 tasks in each of 100 projects, spread over the 9 gates.
		`INSERT INTO tasks (project_id, id, gate, title, description, owner_role, status, priority, created_at, updated_at)
		 SELECT 'p' || p, 't' || t, 1 + t % 9, 'title', '', '', 'todo', 'medium', now(), now()
		 FROM generate_series(1, 100) p, generate_series(1, 200) t`,
		`INSERT INTO task_dependencies (project_id, task_id, depends_on_id)
		 SELECT 'p' || p, 't' || t, 't' || (t - 1) FROM generate_series(1, 100) p, generate_series(2, 200) t`,
		// 500 events in each of 40 projects, appended in turns as projects are worked on together,
		// after 50 in each of 2000 others: a project has a small share of the timeline table.
		`INSERT INTO events (project_id, actor_id, type, payload, created_at)
		 SELECT 'p' || (100 + p), 'ada', 'x', '{}', now() FROM generate_series(1, 50) e, generate_series(1, 2000) p ORDER BY e, p`,
		`INSERT INTO events (project_id, actor_id, type, payload, created_at)
		 SELECT 'p' || p, 'ada', 'x', '{}', now() FROM generate_series(1, 500) e, generate_series(1, 40) p ORDER BY e, p`,
		// 100 notifications for each of 1000 users, interleaved, nine in ten of them read.
		`INSERT INTO notifications (user_id, project_id, project_name, kind, message, gate, event_id, created_at, read_at)
		 SELECT 'user' || u, 'p' || (1 + u % 5000), 'name', 'gate_blocked', 'message', 1, n, now(),
		        CASE WHEN n % 10 <> 0 THEN now() END
		 FROM generate_series(1, 100) n, generate_series(1, 1000) u ORDER BY n, u`,
		`ANALYZE`,
	} {
		if _, err := pool.Exec(context.Background(), sql); err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
	}
	return "few", "busy", "p7"
}

func TestQueryPlansUseIndexes(t *testing.T) {
	s, tr, pool := openTraced(t)
	ctx := t.Context()
	fewUser, busyUser, projectID := seed(t, pool)
	cursor := &store.ProjectCursor{CreatedAt: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC), ID: "p9999"}
	taskPage := tasksAfter(t, s, projectID, 50, 21)
	eventPage2, eventPage4 := newestEventsBefore(t, s, projectID, 100, 101), newestEventsBefore(t, s, projectID, 300, 101)

	for _, tc := range []struct {
		name    string
		call    func() error
		indexes []string
	}{
		// Few memberships: find them, then sort.
		{"ProjectsForMember(few)", func() error { _, err := s.ProjectsForMember(ctx, fewUser, nil, 20); return err }, []string{"members_user_id_idx"}},
		// Many: walk the projects newest first, probing membership, until the page is full.
		{"ProjectsForMember(busy)", func() error { _, err := s.ProjectsForMember(ctx, busyUser, nil, 20); return err }, []string{"projects_created_at_id_idx"}},
		{"ProjectsForMember(busy, after)", func() error { _, err := s.ProjectsForMember(ctx, busyUser, cursor, 20); return err }, []string{"projects_created_at_id_idx"}},
		{"Members", func() error { _, err := s.Members(ctx, projectID); return err }, []string{"members_pkey"}},
		{"Events", func() error { _, err := s.Events(ctx, projectID, store.EventFilter{After: 100, Limit: 50}); return err }, []string{"events_project_id_id_idx"}},
		// Newest first: the same index, read backwards from the end, or from the oldest event of
		// the page before, however far back.
		{"Events(newest)", func() error {
			_, err := s.Events(ctx, projectID, store.EventFilter{NewestFirst: true, Limit: 101})
			return err
		}, []string{"events_project_id_id_idx"}},
		{"Events(newest, page 2)", func() error { _, err := s.Events(ctx, projectID, eventPage2); return err }, []string{"events_project_id_id_idx"}},
		{"Events(newest, page 4)", func() error { _, err := s.Events(ctx, projectID, eventPage4); return err }, []string{"events_project_id_id_idx"}},
		{"Notifications", func() error {
			_, err := s.Notifications(ctx, "user7", store.NotificationFilter{Limit: 50})
			return err
		}, []string{"notifications_user_id_id_idx"}},
		{"Notifications(before)", func() error {
			_, err := s.Notifications(ctx, "user7", store.NotificationFilter{Before: 50000, Limit: 50})
			return err
		}, []string{"notifications_user_id_id_idx"}},
		{"Notifications(after)", func() error {
			_, err := s.Notifications(ctx, "user7", store.NotificationFilter{OldestFirst: true, After: 50000, Limit: 50})
			return err
		}, []string{"notifications_user_id_id_idx"}},
		{"Notifications(unread)", func() error {
			_, err := s.Notifications(ctx, "user7", store.NotificationFilter{UnreadOnly: true, Limit: 50})
			return err
		}, []string{"notifications_unread_idx"}},
		{"UnreadNotifications", func() error { _, err := s.UnreadNotifications(ctx, "user7"); return err }, []string{"notifications_unread_idx"}},
		{"MarkNotificationsRead", func() error { return s.MarkNotificationsRead(ctx, "user7", 50000, base) }, []string{"notifications_unread_idx"}},
		{"Tasks(gate)", func() error { _, err := s.Tasks(ctx, projectID, store.TaskFilter{Gate: 3}); return err }, []string{"tasks_project_id_gate_idx", "task_dependencies_pkey"}},
		{"Tasks(ready)", func() error { _, err := s.Tasks(ctx, projectID, store.TaskFilter{ReadyOnly: true}); return err }, nil},
		// Pages walk the tasks in insertion order and stop when full.
		{"Tasks(page)", func() error { _, err := s.Tasks(ctx, projectID, taskPage); return err }, []string{"tasks_project_id_seq_idx"}},
		{"Tasks(gate, page)", func() error {
			f := taskPage
			f.Gate = 3
			_, err := s.Tasks(ctx, projectID, f)
			return err
		}, []string{"tasks_project_id_gate_idx"}},
		{"Tasks(ready, page)", func() error {
			f := taskPage
			f.ReadyOnly = true
			_, err := s.Tasks(ctx, projectID, f)
			return err
		}, []string{"tasks_project_id_seq_idx"}},
		// An agent run's tasks: one gate's, found through its index (the statuses match none here,
		// so the seed stays as it is for the other cases).
		{"SetTasksStatus", func() error {
			_, err := s.SetTasksStatus(ctx, projectID, store.TaskSelection{Gate: 3, OwnerRole: "architect", Keys: []string{"k"},
				From: []string{"none"}}, "done", base)
			return err
		}, []string{"tasks_project_id_gate_idx"}},
		{"CountTasks", func() error { _, err := s.CountTasks(ctx, projectID); return err }, nil},
	} {
		var err error
		statements, _ := tr.Record(func() { err = tc.call() })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(statements) != 1 {
			t.Fatalf("%s ran %d statements, want 1", tc.name, len(statements))
		}
		plan := dbtest.Explain(t, pool, statements[0])
		t.Logf("%s:\n%s", tc.name, plan)
		if strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s reads a whole table:\n%s", tc.name, plan)
		}
		for _, index := range tc.indexes {
			scan := regexp.MustCompile(`(Index|Index Only|Bitmap Index) Scan( Backward)? (using|on) ` + regexp.QuoteMeta(index) + `\b`)
			if !scan.MatchString(plan) {
				t.Errorf("%s does not scan %s:\n%s", tc.name, index, plan)
			}
		}
	}
}

// tasksAfter returns the filter of the page of limit tasks after the project's nth.
func tasksAfter(t *testing.T, s store.Queries, projectID string, n, limit int) store.TaskFilter {
	t.Helper()
	tasks, err := s.Tasks(t.Context(), projectID, store.TaskFilter{Limit: n})
	if err != nil || len(tasks) != n {
		t.Fatalf("Tasks(first %d): %d tasks, err %v", n, len(tasks), err)
	}
	return store.TaskFilter{After: tasks[n-1].Position, Limit: limit}
}

// newestEventsBefore returns the filter of ListEvents' newest-first page of limit rows after
// the project's n newest events (the second page, for a first page of n).
func newestEventsBefore(t *testing.T, s store.Queries, projectID string, n, limit int) store.EventFilter {
	t.Helper()
	events, err := s.Events(t.Context(), projectID, store.EventFilter{NewestFirst: true, Limit: n})
	if err != nil || len(events) != n {
		t.Fatalf("Events(newest %d): %d events, err %v", n, len(events), err)
	}
	return store.EventFilter{NewestFirst: true, Before: events[n-1].ID, Limit: limit}
}

func TestGateLocksInTx(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	p := createProject(t, s)
	if err := s.CreateGate(ctx, store.Gate{ProjectID: p.ID, Number: 1, State: "pending", CreatedAt: base, UpdatedAt: base}); err != nil {
		t.Fatal(err)
	}

	locked, release, first := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		first <- s.InTx(ctx, func(q store.Queries) error {
			_, err := q.Gate(ctx, p.ID, 1)
			close(locked)
			<-release
			return err
		})
	}()
	<-locked
	second := make(chan error, 1)
	go func() {
		second <- s.InTx(ctx, func(q store.Queries) error { _, err := q.Gate(ctx, p.ID, 1); return err })
	}()
	waited := true
	select {
	case err := <-second:
		waited = false
		t.Errorf("Gate in a transaction read a gate another transaction had read, before it ended (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	// Outside a transaction, Gate does not lock, nor wait.
	if _, err := s.Gate(ctx, p.ID, 1); err != nil {
		t.Error(err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Error(err)
	}
	if waited {
		if err := <-second; err != nil {
			t.Error(err)
		}
	}
}

func TestAppendEventsCommitInIDOrder(t *testing.T) {
	s := open(t)
	p, other := createProject(t, s), createProject(t, s)
	commitsInIDOrder(t, s, "AppendEvents", p.ID, other.ID, func(ctx context.Context, q store.Queries, projectID string) (int64, error) {
		events, err := q.AppendEvents(ctx, []store.Event{{ProjectID: projectID, ActorID: "ada", Type: "x", Payload: []byte(`{}`)}})
		if err != nil {
			return 0, err
		}
		return events[0].ID, nil
	})
}

func TestAddNotificationsCommitInIDOrder(t *testing.T) {
	s := open(t)
	p := createProject(t, s)
	commitsInIDOrder(t, s, "AddNotifications", "ada", "bob", func(ctx context.Context, q store.Queries, userID string) (int64, error) {
		ns, err := q.AddNotifications(ctx, []store.Notification{{UserID: userID, ProjectID: p.ID, Kind: "x", CreatedAt: base}})
		if err != nil {
			return 0, err
		}
		return ns[0].ID, nil
	})
}

// commitsInIDOrder checks that add, which appends one row to the list of key (a project's
// timeline, a user's notifications) and returns its id, waits for an open transaction that
// appended to the same list — else a reader could page past its id before it commits — but not
// for one that appended to otherKey's.
func commitsInIDOrder(t *testing.T, s *postgres.Store, name, key, otherKey string, add func(ctx context.Context, q store.Queries, key string) (int64, error)) {
	t.Helper()
	ctx := t.Context()
	appended, release, first := make(chan int64, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		first <- s.InTx(ctx, func(q store.Queries) error {
			id, err := add(ctx, q, key)
			if err != nil {
				close(appended)
				return err
			}
			appended <- id
			<-release
			return nil
		})
	}()
	firstID, ok := <-appended
	if !ok {
		t.Fatal(<-first)
	}
	second := make(chan int64, 1)
	go func() {
		id, err := add(ctx, s, key)
		if err != nil {
			t.Error(err)
		}
		second <- id
	}()
	var (
		secondID int64
		received bool
	)
	select {
	case secondID = <-second:
		received = true
		t.Errorf("%s did not wait for an open transaction that appended to the same list: "+
			"a reader could page past its id before it commits", name)
	case <-time.After(200 * time.Millisecond):
	}
	// Other lists are not held up.
	otherCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := add(otherCtx, s, otherKey); err != nil {
		t.Errorf("%s to another list: %v", name, err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if !received {
		secondID = <-second
	}
	if secondID != 0 && secondID <= firstID {
		t.Errorf("second id %d, want more than %d", secondID, firstID)
	}
}

// The benchmarks store 20 tasks per operation, each depending on the one before, in a database
// already holding 20,000 tasks and analyzed. On an empty table, PostgreSQL would plan the foreign
// key checks as sequential scans and keep those plans for the session (until the table is next
// analyzed): the time per operation would grow with the number of iterations.

func openSeeded(b *testing.B) (*postgres.Store, store.Project) {
	s, pool := openPool(b, func(*pgxpool.Config) {})
	seed(b, pool)
	return s, createProject(b, s)
}

func BenchmarkCreateTasksBatch(b *testing.B) {
	s, p := openSeeded(b)
	for b.Loop() {
		if err := s.CreateTasks(b.Context(), chain(p.ID, 20)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateTasksOneByOne(b *testing.B) {
	s, p := openSeeded(b)
	for b.Loop() {
		for _, task := range chain(p.ID, 20) {
			if err := s.CreateTasks(b.Context(), []store.Task{task}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
