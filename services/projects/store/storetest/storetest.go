// Package storetest is the conformance suite of store.Store: every implementation runs Run, so
// they behave alike down to error values and time precision.
package storetest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
)

// Run runs the suite. open must return an empty store of its own for each call (subtests run in
// parallel) and close it when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	dbtest.RunSuite(t, open, map[string]func(*testing.T, store.Store){
		"ProjectRoundTrip":             testProjectRoundTrip,
		"ProjectForMemberNotFound":     testProjectForMemberNotFound,
		"ProjectsForMemberPages":       testProjectsForMemberPages,
		"Members":                      testMembers,
		"DeleteProjectCascades":        testDeleteProjectCascades,
		"Gates":                        testGates,
		"UpdateGate":                   testUpdateGate,
		"UpdateGateConcurrently":       testUpdateGateConcurrently,
		"Deliverables":                 testDeliverables,
		"Proofs":                       testProofs,
		"Reviews":                      testReviews,
		"CreateTasks":                  testCreateTasks,
		"CreateTasksMissingDependency": testCreateTasksMissingDependency,
		"TaskFilter":                   testTaskFilter,
		"TaskPages":                    testTaskPages,
		"SetTasksStatus":               testSetTasksStatus,
		"CountTasks":                   testCountTasks,
		"Events":                       testEvents,
		"Notifications":                testNotifications,
		"MarkNotificationsRead":        testMarkNotificationsRead,
		"InTx":                         testInTx,
		"InTxRollback":                 testInTxRollback,
		"Ping":                         testPing,
	})
}

// base is a time with nanoseconds in a zone other than UTC: stores must return it in UTC,
// truncated to microseconds.
var base = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("UTC+1", 3600))

// stored is t as a store returns it.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func newProject(owner string, created time.Time) store.Project {
	return store.Project{
		ID:            uuid.NewString(),
		Name:          "Llama farm",
		Description:   "Herding, at scale",
		Type:          "traditional",
		RepositoryURL: "https://example.com/llama.git",
		OwnerID:       owner,
		Status:        store.StatusActive,
		CurrentGate:   1,
		CreatedAt:     created,
		UpdatedAt:     created.Add(time.Minute),
	}
}

// createProject stores p with its owner as a member and returns it as stored.
func createProject(t *testing.T, s store.Queries, p store.Project) store.Project {
	t.Helper()
	must(t, s.CreateProject(t.Context(), p))
	addMember(t, s, p.ID, p.OwnerID, store.RoleOwner, p.CreatedAt)
	p.CreatedAt, p.UpdatedAt = stored(p.CreatedAt), stored(p.UpdatedAt)
	return p
}

// addMember stores a membership and returns it as stored.
func addMember(t *testing.T, s store.Queries, projectID, userID, role string, created time.Time) store.Member {
	t.Helper()
	m := store.Member{ProjectID: projectID, UserID: userID, Role: role, CreatedAt: created}
	must(t, s.AddMember(t.Context(), m))
	m.CreatedAt = stored(created)
	return m
}

// createGate stores gate number of the project, pending, and returns it as stored.
func createGate(t *testing.T, s store.Queries, projectID string, number int) store.Gate {
	t.Helper()
	g := store.Gate{ProjectID: projectID, Number: number, State: "pending", CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateGate(t.Context(), g))
	g.CreatedAt, g.UpdatedAt = stored(base), stored(base)
	return g
}

func newTask(projectID string, gate int, created time.Time, dependsOn ...string) store.Task {
	id := uuid.NewString()
	return store.Task{
		ID:          id,
		ProjectID:   projectID,
		Key:         "k-" + id[:8],
		Gate:        gate,
		Title:       "Task " + id[:8],
		Description: "Do " + id[:8],
		OwnerRole:   "developer",
		Status:      "todo",
		Priority:    "medium",
		DependsOn:   dependsOn,
		CreatedAt:   created,
		UpdatedAt:   created.Add(time.Second),
	}
}

// storedTask is t as a store returns it: times normalised, dependencies in no particular order
// (sorted here), none being nil, and its position (set by the store) left out.
func storedTask(t store.Task) store.Task {
	t.Position = 0
	t.CreatedAt, t.UpdatedAt = stored(t.CreatedAt), stored(t.UpdatedAt)
	t.DependsOn = slices.Sorted(slices.Values(t.DependsOn))
	if len(t.DependsOn) == 0 {
		t.DependsOn = nil
	}
	return t
}

func createTasks(t *testing.T, s store.Queries, tasks ...store.Task) []store.Task {
	t.Helper()
	must(t, s.CreateTasks(t.Context(), tasks))
	out := make([]store.Task, len(tasks))
	for i, task := range tasks {
		out[i] = storedTask(task)
	}
	return out
}

func taskIDs(tasks []store.Task) []string {
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
	}
	return ids
}

// wantTasks fails the test unless Tasks(projectID, f) lists want, in order.
func wantTasks(t *testing.T, s store.Queries, projectID string, f store.TaskFilter, want []store.Task) {
	t.Helper()
	got, err := s.Tasks(t.Context(), projectID, f)
	if err != nil {
		t.Fatalf("Tasks(%+v): %v", f, err)
	}
	for i := range got {
		if got[i].Position <= 0 || i > 0 && got[i].Position <= got[i-1].Position {
			t.Errorf("Tasks(%+v): positions %v, want positive and increasing", f, positions(got))
			break
		}
	}
	for i := range got {
		got[i] = storedTask(got[i]) // sorts dependencies
	}
	if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("Tasks(%+v):\n got %v\nwant %v", f, taskIDs(got), taskIDs(want))
		if slices.Equal(taskIDs(got), taskIDs(want)) {
			t.Errorf("same tasks, different fields:\n got %+v\nwant %+v", got, want)
		}
	}
}

func positions(tasks []store.Task) []int64 {
	ps := make([]int64, len(tasks))
	for i, t := range tasks {
		ps[i] = t.Position
	}
	return ps
}

func countTasks(t *testing.T, s store.Queries, projectID string) int {
	t.Helper()
	tasks, err := s.Tasks(t.Context(), projectID, store.TaskFilter{})
	must(t, err)
	return len(tasks)
}

func testProjectRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	createProject(t, s, newProject("ada", base))

	got, err := s.ProjectForMember(ctx, p.ID, "ada")
	must(t, err)
	if want := (store.ProjectWithRole{Project: p, Role: store.RoleOwner}); got != want {
		t.Errorf("ProjectForMember:\n got %+v\nwant %+v", got, want)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
	}

	dup := newProject("mallory", base)
	dup.ID = p.ID
	wantErr(t, "CreateProject with a taken id", s.CreateProject(ctx, dup), store.ErrAlreadyExists)

	// Only the mutable fields change.
	upd := p
	upd.Name, upd.Description, upd.RepositoryURL = "Alpaca farm", "Smaller", "https://example.com/alpaca.git"
	upd.Status, upd.CurrentGate, upd.UpdatedAt = store.StatusCompleted, 3, base.Add(2*time.Hour)
	changedImmutables := upd
	changedImmutables.Type, changedImmutables.OwnerID, changedImmutables.CreatedAt = "hybrid", "bob", base.Add(time.Hour)
	must(t, s.UpdateProject(ctx, changedImmutables))
	upd.UpdatedAt = stored(upd.UpdatedAt)
	got, err = s.ProjectForMember(ctx, p.ID, "ada")
	must(t, err)
	if got.Project != upd {
		t.Errorf("after UpdateProject:\n got %+v\nwant %+v", got.Project, upd)
	}

	missing := newProject("ada", base)
	wantErr(t, "UpdateProject(unknown)", s.UpdateProject(ctx, missing), store.ErrNotFound)
	wantErr(t, "DeleteProject(unknown)", s.DeleteProject(ctx, missing.ID), store.ErrNotFound)
}

func testProjectForMemberNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	other := createProject(t, s, newProject("bob", base))

	_, err := s.ProjectForMember(ctx, uuid.NewString(), "ada")
	wantErr(t, "ProjectForMember(unknown project)", err, store.ErrNotFound)
	_, err = s.ProjectForMember(ctx, p.ID, "bob") // bob is a member of another project only
	wantErr(t, "ProjectForMember(non-member)", err, store.ErrNotFound)
	_, err = s.ProjectForMember(ctx, other.ID, "ada")
	wantErr(t, "ProjectForMember(member of another project)", err, store.ErrNotFound)
}

func testProjectsForMemberPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []store.ProjectWithRole
	for i := range 7 {
		// Pairs of projects created at the same time: the id breaks ties.
		p := createProject(t, s, newProject("owner", base.Add(time.Duration(i/2)*time.Hour)))
		role := []string{store.RoleEditor, store.RoleViewer}[i%2]
		addMember(t, s, p.ID, "ada", role, base)
		want = append(want, store.ProjectWithRole{Project: p, Role: role})
	}
	// Not ada's: interleaved with hers, and newer than all.
	createProject(t, s, newProject("owner", base.Add(time.Hour)))
	createProject(t, s, newProject("owner", base.Add(24*time.Hour)))
	mine := createProject(t, s, newProject("ada", base.Add(-time.Hour))) // the oldest
	want = append(want, store.ProjectWithRole{Project: mine, Role: store.RoleOwner})
	slices.SortFunc(want, func(a, b store.ProjectWithRole) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	})

	var (
		got   []store.ProjectWithRole
		sizes []int
		after *store.ProjectCursor
	)
	for len(sizes) <= len(want) {
		page, err := s.ProjectsForMember(ctx, "ada", after, 3)
		must(t, err)
		sizes = append(sizes, len(page))
		got = append(got, page...)
		if len(page) == 0 {
			break
		}
		last := page[len(page)-1]
		after = &store.ProjectCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if !slices.Equal(sizes, []int{3, 3, 2, 0}) {
		t.Errorf("page sizes = %v, want [3 3 2 0]", sizes)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages:\n got %+v\nwant %+v", got, want)
	}

	all, err := s.ProjectsForMember(ctx, "ada", nil, 100)
	must(t, err)
	if !slices.Equal(all, want) {
		t.Errorf("one page:\n got %+v\nwant %+v", all, want)
	}
	if none, err := s.ProjectsForMember(ctx, "nobody", nil, 10); err != nil || len(none) != 0 {
		t.Errorf("ProjectsForMember(non-member) = %v, %v; want none", none, err)
	}
}

func testMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	owner := store.Member{ProjectID: p.ID, UserID: "ada", Role: store.RoleOwner, CreatedAt: p.CreatedAt}
	viewer := addMember(t, s, p.ID, "cat", store.RoleViewer, base.Add(2*time.Minute))
	editor := addMember(t, s, p.ID, "bob", store.RoleEditor, base.Add(time.Minute))

	wantMembers := func(want ...store.Member) {
		t.Helper()
		got, err := s.Members(ctx, p.ID)
		must(t, err)
		if !slices.Equal(got, want) {
			t.Errorf("Members:\n got %+v\nwant %+v", got, want)
		}
	}
	wantMembers(owner, editor, viewer) // oldest first

	dup := store.Member{ProjectID: p.ID, UserID: "bob", Role: store.RoleOwner, CreatedAt: base}
	wantErr(t, "AddMember(member)", s.AddMember(ctx, dup), store.ErrAlreadyExists)
	orphan := store.Member{ProjectID: uuid.NewString(), UserID: "bob", Role: store.RoleViewer, CreatedAt: base}
	wantErr(t, "AddMember(unknown project)", s.AddMember(ctx, orphan), store.ErrNotFound)

	must(t, s.SetMemberRole(ctx, p.ID, "bob", store.RoleViewer))
	editor.Role = store.RoleViewer
	wantMembers(owner, editor, viewer)
	if got, err := s.ProjectForMember(ctx, p.ID, "bob"); err != nil || got.Role != store.RoleViewer {
		t.Errorf("ProjectForMember after SetMemberRole: role %q, err %v; want viewer", got.Role, err)
	}
	wantErr(t, "SetMemberRole(non-member)", s.SetMemberRole(ctx, p.ID, "dan", store.RoleEditor), store.ErrNotFound)

	must(t, s.RemoveMember(ctx, p.ID, "cat"))
	wantMembers(owner, editor)
	wantErr(t, "RemoveMember(removed)", s.RemoveMember(ctx, p.ID, "cat"), store.ErrNotFound)
	_, err := s.ProjectForMember(ctx, p.ID, "cat")
	wantErr(t, "ProjectForMember(removed member)", err, store.ErrNotFound)
}

// project is everything a project can own, as stored.
type project struct {
	store.Project
	members       []store.Member
	gates         []store.Gate
	deliverables  []store.Deliverable
	proofs        []store.Proof
	reviews       int
	tasks         []store.Task
	events        []store.Event
	notifications []store.Notification // ada's
}

// populate creates a project owning one of everything.
func populate(t *testing.T, s store.Store) project {
	t.Helper()
	ctx := t.Context()
	p := project{Project: createProject(t, s, newProject("ada", base))}
	p.members = []store.Member{
		{ProjectID: p.ID, UserID: "ada", Role: store.RoleOwner, CreatedAt: p.CreatedAt},
		addMember(t, s, p.ID, "bob", store.RoleEditor, base.Add(time.Minute)),
	}
	p.gates = []store.Gate{createGate(t, s, p.ID, 1), createGate(t, s, p.ID, 2)}
	d := store.Deliverable{ProjectID: p.ID, Gate: 1, DocumentType: "prd", DocumentID: "doc", Version: 1, UpdatedAt: stored(base)}
	must(t, s.PutDeliverable(ctx, d))
	p.deliverables = []store.Deliverable{d}
	proof := store.Proof{ID: uuid.NewString(), ProjectID: p.ID, Gate: 1, Type: "tests", Result: "pass", CreatedAt: stored(base)}
	must(t, s.AddProof(ctx, proof))
	p.proofs = []store.Proof{proof}
	must(t, s.AddReview(ctx, store.Review{ID: uuid.NewString(), ProjectID: p.ID, Gate: 1, Decision: "approved",
		Deliverables: p.deliverables, Proofs: p.proofs, CreatedAt: base}))
	p.reviews = 1
	t1 := newTask(p.ID, 1, base)
	p.tasks = createTasks(t, s, t1, newTask(p.ID, 1, base, t1.ID))
	events, err := s.AppendEvents(ctx, []store.Event{{ProjectID: p.ID, ActorID: "ada", Type: "created", Payload: []byte(`{}`), CreatedAt: base}})
	must(t, err)
	p.events = events
	p.notifications, err = s.AddNotifications(ctx, []store.Notification{newNotification("ada", p.ID, 0)})
	must(t, err)
	return p
}

// wantProject fails the test unless the project owns exactly what p lists.
func wantProject(t *testing.T, s store.Store, p project) {
	t.Helper()
	ctx := t.Context()
	members, err := s.Members(ctx, p.ID)
	wantList(t, "Members", members, err, p.members)
	gates, err := s.Gates(ctx, p.ID)
	wantList(t, "Gates", gates, err, p.gates)
	deliverables, err := s.Deliverables(ctx, p.ID, 1)
	wantList(t, "Deliverables", deliverables, err, p.deliverables)
	proofs, err := s.Proofs(ctx, p.ID, 1)
	wantList(t, "Proofs", proofs, err, p.proofs)
	events, err := s.Events(ctx, p.ID, store.EventFilter{Limit: 100})
	wantList(t, "Events", events, err, p.events)
	if reviews, err := s.Reviews(ctx, p.ID, 1); err != nil || len(reviews) != p.reviews {
		t.Errorf("Reviews: %d, err %v; want %d", len(reviews), err, p.reviews)
	}
	wantTasks(t, s, p.ID, store.TaskFilter{}, p.tasks)
	notifications, err := s.Notifications(ctx, "ada", store.NotificationFilter{Limit: 100})
	notifications = slices.DeleteFunc(notifications, func(n store.Notification) bool { return n.ProjectID != p.ID })
	wantList(t, "Notifications", notifications, err, p.notifications)
}

// wantList fails the test unless a listing (got, err) is want; nil and empty are alike.
func wantList[T any](t *testing.T, what string, got []T, err error, want []T) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
	} else if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testDeleteProjectCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	doomed, kept := populate(t, s), populate(t, s)

	must(t, s.DeleteProject(ctx, doomed.ID))
	wantErr(t, "DeleteProject(deleted)", s.DeleteProject(ctx, doomed.ID), store.ErrNotFound)
	_, err := s.ProjectForMember(ctx, doomed.ID, "ada")
	wantErr(t, "ProjectForMember(deleted)", err, store.ErrNotFound)
	wantProject(t, s, project{Project: doomed.Project})
	wantProject(t, s, kept)

	// Nothing was left behind: the same ids are free again, and what comes back is only new.
	createProject(t, s, doomed.Project)
	for _, task := range doomed.tasks {
		task.DependsOn = nil
		createTasks(t, s, task)
	}
	createGate(t, s, doomed.ID, 1)
	for _, task := range doomed.tasks {
		if got, err := s.Task(ctx, doomed.ID, task.ID); err != nil || len(got.DependsOn) != 0 {
			t.Errorf("recreated task: dependencies %v, err %v; want none", got.DependsOn, err)
		}
	}
	if got, err := s.Deliverables(ctx, doomed.ID, 1); err != nil || len(got) != 0 {
		t.Errorf("recreated gate: deliverables %v, err %v; want none", got, err)
	}
}

func testGates(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	g3, g1, g2 := createGate(t, s, p.ID, 3), createGate(t, s, p.ID, 1), createGate(t, s, p.ID, 2)
	createGate(t, s, createProject(t, s, newProject("ada", base)).ID, 4) // another project's

	gates, err := s.Gates(ctx, p.ID)
	must(t, err)
	if want := []store.Gate{g1, g2, g3}; !slices.Equal(gates, want) {
		t.Errorf("Gates:\n got %+v\nwant %+v", gates, want)
	}
	got, err := s.Gate(ctx, p.ID, 2)
	must(t, err)
	if got != g2 {
		t.Errorf("Gate(2):\n got %+v\nwant %+v", got, g2)
	}

	dup := g1
	dup.State = "approved"
	wantErr(t, "CreateGate(existing)", s.CreateGate(ctx, dup), store.ErrAlreadyExists)
	orphan := store.Gate{ProjectID: uuid.NewString(), Number: 1, State: "pending", CreatedAt: base, UpdatedAt: base}
	wantErr(t, "CreateGate(unknown project)", s.CreateGate(ctx, orphan), store.ErrNotFound)
	_, err = s.Gate(ctx, p.ID, 4)
	wantErr(t, "Gate(not created)", err, store.ErrNotFound)
	_, err = s.Gate(ctx, uuid.NewString(), 1)
	wantErr(t, "Gate(unknown project)", err, store.ErrNotFound)
}

func testUpdateGate(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	g := createGate(t, s, p.ID, 1)

	// Only state, blocked reason and origin, revision and updated time change.
	want := g
	want.State, want.BlockedReason, want.BlockedFrom, want.Revision = "blocked", "waiting on legal", "pending", 2
	want.UpdatedAt = base.Add(time.Hour)
	upd := want
	upd.CreatedAt = base.Add(time.Hour)
	must(t, s.UpdateGate(ctx, upd, "pending"))
	want.UpdatedAt = stored(want.UpdatedAt)
	wantGate := func(what string) {
		t.Helper()
		got, err := s.Gate(ctx, p.ID, 1)
		must(t, err)
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
		}
	}
	wantGate("after UpdateGate")

	stale := want
	stale.State, stale.BlockedReason, stale.BlockedFrom = "in_progress", "", ""
	wantErr(t, "UpdateGate from a stale state", s.UpdateGate(ctx, stale, "pending"), store.ErrConflict)
	wantGate("after a conflicting UpdateGate")

	missing := g
	missing.Number = 7
	wantErr(t, "UpdateGate(not created)", s.UpdateGate(ctx, missing, "pending"), store.ErrNotFound)
}

func testUpdateGateConcurrently(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	createGate(t, s, p.ID, 1)

	const n = 8
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		winners    []int
		unexpected []error
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			err := s.InTx(ctx, func(q store.Queries) error {
				g, err := q.Gate(ctx, p.ID, 1)
				if err != nil {
					return err
				}
				g.State, g.Revision, g.UpdatedAt = "in_progress", i, base.Add(time.Hour)
				return q.UpdateGate(ctx, g, "pending")
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, i)
			case !errors.Is(err, store.ErrConflict):
				unexpected = append(unexpected, err)
			}
		})
	}
	close(start)
	wg.Wait()

	for _, err := range unexpected {
		t.Errorf("transition: %v", err)
	}
	if len(winners) != 1 {
		t.Fatalf("%d of %d concurrent transitions from one state succeeded, want exactly 1", len(winners), n)
	}
	g, err := s.Gate(ctx, p.ID, 1)
	must(t, err)
	if g.State != "in_progress" || g.Revision != winners[0] {
		t.Errorf("gate after the race: state %q, revision %d; want in_progress, %d", g.State, g.Revision, winners[0])
	}
}

func testDeliverables(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	createGate(t, s, p.ID, 1)
	createGate(t, s, p.ID, 2)

	put := func(gate int, docType, docID string, version, revision int, complete bool) store.Deliverable {
		t.Helper()
		d := store.Deliverable{
			ProjectID: p.ID, Gate: gate, DocumentType: docType, DocumentID: docID,
			Version: version, ContentHash: fmt.Sprintf("sha256:%d", version), Complete: complete, RecordedBy: "bob",
			UpdatedAt: base.Add(time.Duration(version) * time.Minute), Revision: revision,
		}
		must(t, s.PutDeliverable(ctx, d))
		d.UpdatedAt = stored(d.UpdatedAt)
		return d
	}
	put(1, "prd", "prd-doc", 1, 0, false)
	architecture := put(1, "architecture", "arch-doc", 1, 0, false)
	prd := put(1, "prd", "prd-doc", 2, 1, true) // the same document again: replaces its version 1
	// One deliverable per producing document: two documents of one type are two deliverables.
	backend := put(1, "code", "z-backend", 1, 1, true)
	frontend := put(1, "code", "a-frontend", 3, 1, true)
	put(2, "prd", "prd-doc", 1, 0, false)

	got, err := s.Deliverables(ctx, p.ID, 1)
	must(t, err)
	if want := []store.Deliverable{architecture, frontend, backend, prd}; !slices.Equal(got, want) {
		t.Errorf("Deliverables:\n got %+v\nwant %+v", got, want)
	}
	orphan := store.Deliverable{ProjectID: p.ID, Gate: 5, DocumentType: "prd", DocumentID: "prd-doc", UpdatedAt: base}
	wantErr(t, "PutDeliverable(gate not created)", s.PutDeliverable(ctx, orphan), store.ErrNotFound)
}

func testProofs(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	createGate(t, s, p.ID, 1)
	createGate(t, s, p.ID, 2)

	add := func(gate int, created time.Time, attested bool, run *store.ProofRun) store.Proof {
		t.Helper()
		proof := store.Proof{
			ID: uuid.NewString(), ProjectID: p.ID, Gate: gate, Type: "unit_tests", Result: "pass",
			Summary: "142 passed", ProducedBy: "ci", Attested: attested, CreatedAt: created,
			Revision: gate + 1, DeliverablesHash: fmt.Sprintf("sha256:%d", created.Unix()), Run: run,
		}
		must(t, s.AddProof(ctx, proof))
		proof.CreatedAt = stored(created)
		return proof
	}
	// Insertion order, not time order: the second proof comes from a clock that is behind.
	later := add(1, base.Add(time.Minute), false, sampleRun())
	earlier := add(1, base, true, nil)
	ranNothing := add(1, base, false, &store.ProofRun{TreeHash: "sha256:t", Command: "true", ExitCode: -1, Runner: "local"})
	add(2, base, false, nil)

	got, err := s.Proofs(ctx, p.ID, 1)
	must(t, err)
	if want := []store.Proof{later, earlier, ranNothing}; !reflect.DeepEqual(got, want) {
		t.Errorf("Proofs:\n got %+v\nwant %+v", got, want)
	}
	if got[0].Run == nil || got[1].Run != nil || got[2].Run == nil || got[2].Run.Artifacts != nil {
		t.Errorf("runs: %+v, %+v, %+v; want the run, none, and a run without artifacts", got[0].Run, got[1].Run, got[2].Run)
	}
	wantErr(t, "AddProof(taken id)", s.AddProof(ctx, later), store.ErrAlreadyExists)
	orphan := later
	orphan.ID, orphan.Gate = uuid.NewString(), 5
	wantErr(t, "AddProof(gate not created)", s.AddProof(ctx, orphan), store.ErrNotFound)
}

// sampleRun is a run of a proof with everything set.
func sampleRun() *store.ProofRun {
	return &store.ProofRun{TreeHash: "sha256:0f1e", Command: "cd backend && go test ./...\ngo vet ./...", ExitCode: 2,
		DurationMS: 12_345, Runner: "local", Artifacts: []store.ProofArtifact{
			{ID: "a1", Kind: "log", MediaType: "text/plain; charset=utf-8", SizeBytes: 65_536},
			{ID: "a2", Kind: "screenshot", MediaType: "image/png", SizeBytes: 1 << 40},
		}}
}

func testReviews(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	createGate(t, s, p.ID, 1)
	createGate(t, s, p.ID, 2)

	snapshot := store.Review{
		ID: uuid.NewString(), ProjectID: p.ID, Gate: 1, Decision: "changes_requested", ReviewerID: "ada",
		Notes: "Needs a threat model.\nAnd tests.",
		Deliverables: []store.Deliverable{
			{ProjectID: p.ID, Gate: 1, DocumentType: "prd", DocumentID: "d1", Version: 3, ContentHash: "h", Complete: true, RecordedBy: "bob", UpdatedAt: base},
			{ProjectID: p.ID, Gate: 1, DocumentType: "architecture", DocumentID: "d2", Version: 1, UpdatedAt: base.Add(time.Second), Revision: 2},
		},
		Proofs: []store.Proof{
			{ID: "p1", ProjectID: p.ID, Gate: 1, Type: "lint", Result: "warning", Summary: "2 warnings", ProducedBy: "ci", CreatedAt: base,
				Run: sampleRun()},
			{ID: "p2", ProjectID: p.ID, Gate: 1, Type: "security_review", Result: "pass", ProducedBy: "ada", Attested: true, CreatedAt: base,
				Revision: 2, DeliverablesHash: "sha256:abc"},
		},
		CreatedAt: base.Add(time.Hour),
		Revision:  2,
	}
	empty := store.Review{ID: uuid.NewString(), ProjectID: p.ID, Gate: 1, Decision: "approved", ReviewerID: "ada", CreatedAt: base.Add(2 * time.Hour)}
	other := store.Review{ID: uuid.NewString(), ProjectID: p.ID, Gate: 2, Decision: "approved", CreatedAt: base}
	for _, r := range []store.Review{empty, snapshot, other} {
		must(t, s.AddReview(ctx, r))
	}

	// As stored: the snapshot's times too.
	norm := func(r store.Review) store.Review {
		r.CreatedAt = stored(r.CreatedAt)
		r.Deliverables, r.Proofs = slices.Clone(r.Deliverables), slices.Clone(r.Proofs)
		for i := range r.Deliverables {
			r.Deliverables[i].UpdatedAt = stored(r.Deliverables[i].UpdatedAt)
		}
		for i := range r.Proofs {
			r.Proofs[i].CreatedAt = stored(r.Proofs[i].CreatedAt)
		}
		if len(r.Deliverables) == 0 {
			r.Deliverables = nil
		}
		if len(r.Proofs) == 0 {
			r.Proofs = nil
		}
		return r
	}
	got, err := s.Reviews(ctx, p.ID, 1)
	must(t, err)
	for i := range got {
		got[i] = norm(got[i])
	}
	// Insertion order, whatever the times say.
	if want := []store.Review{norm(empty), norm(snapshot)}; !reflect.DeepEqual(got, want) {
		t.Errorf("Reviews:\n got %+v\nwant %+v", got, want)
	}
	wantErr(t, "AddReview(taken id)", s.AddReview(ctx, empty), store.ErrAlreadyExists)
	orphan := empty
	orphan.ID, orphan.Gate = uuid.NewString(), 5
	wantErr(t, "AddReview(gate not created)", s.AddReview(ctx, orphan), store.ErrNotFound)
}

func testCreateTasks(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	other := createProject(t, s, newProject("ada", base))

	// One batch created at one time, depending on each other: listed in the order given.
	t1 := newTask(p.ID, 1, base)
	t2 := newTask(p.ID, 1, base, t1.ID)
	t3 := newTask(p.ID, 2, base, t2.ID, t1.ID)
	batch1 := createTasks(t, s, t3, t1, t2)
	// A later batch depending on stored tasks and, before it is created, on a task of its own;
	// a dependency named twice counts once.
	t5 := newTask(p.ID, 2, base.Add(time.Hour))
	t4 := newTask(p.ID, 2, base.Add(time.Hour), t3.ID, t5.ID, t1.ID, t5.ID)
	batch2 := createTasks(t, s, t4, t5)
	batch2[0].DependsOn = slices.Compact(batch2[0].DependsOn)
	createTasks(t, s, newTask(other.ID, 1, base))

	wantTasks(t, s, p.ID, store.TaskFilter{}, slices.Concat(batch1, batch2))
	got, err := s.Task(ctx, p.ID, t4.ID)
	must(t, err)
	if got, want := storedTask(got), batch2[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("Task:\n got %+v\nwant %+v", got, want)
	}

	// A taken id fails the whole batch.
	t6 := newTask(p.ID, 1, base)
	wantErr(t, "CreateTasks with a taken id", s.CreateTasks(ctx, []store.Task{t6, t1}), store.ErrAlreadyExists)
	_, err = s.Task(ctx, p.ID, t6.ID)
	wantErr(t, "Task(of a failed batch)", err, store.ErrNotFound)

	_, err = s.Task(ctx, p.ID, uuid.NewString())
	wantErr(t, "Task(unknown)", err, store.ErrNotFound)
	_, err = s.Task(ctx, other.ID, t1.ID)
	wantErr(t, "Task(of another project)", err, store.ErrNotFound)
	wantErr(t, "CreateTasks(unknown project)", s.CreateTasks(ctx, []store.Task{newTask(uuid.NewString(), 1, base)}), store.ErrNotFound)
	must(t, s.CreateTasks(ctx, nil))
}

func testCreateTasksMissingDependency(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	other := createProject(t, s, newProject("ada", base))
	existing := createTasks(t, s, newTask(p.ID, 1, base))[0]
	foreign := createTasks(t, s, newTask(other.ID, 1, base))[0]
	before := countTasks(t, s, p.ID)

	for name, deps := range map[string][]string{
		"a missing task":            {uuid.NewString()},
		"a task of another project": {foreign.ID},
	} {
		ok := newTask(p.ID, 1, base, existing.ID)
		bad := newTask(p.ID, 1, base, ok.ID)
		bad.DependsOn = append(bad.DependsOn, deps...)
		wantErr(t, "CreateTasks depending on "+name, s.CreateTasks(ctx, []store.Task{ok, bad}), store.ErrNotFound)

		// In a transaction, it is the transaction that fails.
		err := s.InTx(ctx, func(q store.Queries) error { return q.CreateTasks(ctx, []store.Task{ok, bad}) })
		wantErr(t, "InTx(CreateTasks depending on "+name+")", err, store.ErrNotFound)
	}
	if after := countTasks(t, s, p.ID); after != before {
		t.Errorf("%d tasks stored by failed batches", after-before)
	}
}

func testTaskFilter(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	a := newTask(p.ID, 1, base)
	b := newTask(p.ID, 1, base, a.ID)
	c := newTask(p.ID, 1, base)
	c.Status = "done"
	d := newTask(p.ID, 1, base, c.ID)
	e := newTask(p.ID, 1, base, a.ID, c.ID)
	e.Status = "in_progress"
	f := newTask(p.ID, 2, base)
	tasks := createTasks(t, s, a, b, c, d, e, f)
	A, B, C, D, E, F := tasks[0], tasks[1], tasks[2], tasks[3], tasks[4], tasks[5]

	wantTasks(t, s, p.ID, store.TaskFilter{Gate: 1}, []store.Task{A, B, C, D, E})
	wantTasks(t, s, p.ID, store.TaskFilter{Gate: 2}, []store.Task{F})
	wantTasks(t, s, p.ID, store.TaskFilter{Gate: 3}, nil)
	// b and e wait for a; c is done.
	wantTasks(t, s, p.ID, store.TaskFilter{ReadyOnly: true}, []store.Task{A, D, F})
	wantTasks(t, s, p.ID, store.TaskFilter{Gate: 1, ReadyOnly: true}, []store.Task{A, D})

	doneAt := base.Add(time.Hour)
	must(t, s.SetTaskStatus(ctx, p.ID, a.ID, "done", doneAt))
	A.Status, A.UpdatedAt = "done", stored(doneAt)
	wantTasks(t, s, p.ID, store.TaskFilter{}, []store.Task{A, B, C, D, E, F})
	wantTasks(t, s, p.ID, store.TaskFilter{ReadyOnly: true}, []store.Task{B, D, E, F})
	// A blocked task is not ready, whatever its dependencies.
	must(t, s.SetTaskStatus(ctx, p.ID, f.ID, "blocked", doneAt))
	wantTasks(t, s, p.ID, store.TaskFilter{ReadyOnly: true}, []store.Task{B, D, E})
	wantErr(t, "SetTaskStatus(unknown)", s.SetTaskStatus(ctx, p.ID, uuid.NewString(), "done", doneAt), store.ErrNotFound)
}

func testSetTasksStatus(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	other := createProject(t, s, newProject("ada", base))
	task := func(projectID string, gate int, owner, status, key string) store.Task {
		x := newTask(projectID, gate, base)
		x.OwnerRole, x.Status = owner, status
		if key != "" {
			x.Key = key
		}
		return x
	}
	tasks := createTasks(t, s,
		task(p.ID, 5, "backend_developer", "todo", "api"),       // 0
		task(p.ID, 5, "frontend_developer", "todo", ""),         // 1
		task(p.ID, 5, "backend_developer", "done", ""),          // 2
		task(p.ID, 5, "backend_developer", "blocked", ""),       // 3
		task(p.ID, 6, "backend_developer", "todo", ""),          // 4
		task(p.ID, 5, "backend_developer", "in_progress", "db"), // 5
		task(p.ID, 5, "", "todo", ""),                           // 6
		task(p.ID, 5, "backend_developer", "todo", "api"),       // 7: keys are unique per batch only
		task(other.ID, 5, "backend_developer", "todo", ""),      // 8
	)
	set := func(sel store.TaskSelection, status string, at time.Time, want ...int) {
		t.Helper()
		ids, err := s.SetTasksStatus(ctx, p.ID, sel, status, at)
		must(t, err)
		var wantIDs []string
		for _, i := range want {
			wantIDs = append(wantIDs, tasks[i].ID)
			tasks[i].Status, tasks[i].UpdatedAt = status, stored(at)
		}
		if !slices.Equal(ids, wantIDs) && !(len(ids) == 0 && len(wantIDs) == 0) {
			t.Errorf("SetTasksStatus(%+v, %s) changed %v, want %v", sel, status, ids, wantIDs)
		}
	}
	t1, t2, t3 := base.Add(time.Hour), base.Add(2*time.Hour), base.Add(3*time.Hour)
	// The backend developer starts at G5: its tasks to do, only those.
	set(store.TaskSelection{Gate: 5, OwnerRole: "backend_developer", From: []string{"todo"}}, "in_progress", t1, 0, 7)
	// Again: nothing left to change.
	set(store.TaskSelection{Gate: 5, OwnerRole: "backend_developer", From: []string{"todo"}}, "in_progress", t1)
	// It succeeds, naming the key "api": both tasks with that key, not "db".
	set(store.TaskSelection{Gate: 5, OwnerRole: "backend_developer", Keys: []string{"api", "nope"}, From: []string{"todo", "in_progress", "blocked"}},
		"done", t2, 0, 7)
	// An empty key list selects nothing; no key list selects every key.
	set(store.TaskSelection{Gate: 5, OwnerRole: "backend_developer", Keys: []string{}, From: []string{"in_progress"}}, "done", t2)
	set(store.TaskSelection{Gate: 5, OwnerRole: "backend_developer", From: []string{"in_progress", "blocked"}}, "done", t2, 3, 5)
	// The gate is sent back: every role's tasks at G5 done or in progress are to do again.
	set(store.TaskSelection{Gate: 5, From: []string{"done", "in_progress"}}, "todo", t3, 0, 2, 3, 5, 7)
	wantTasks(t, s, p.ID, store.TaskFilter{}, tasks[:8])
	wantTasks(t, s, other.ID, store.TaskFilter{}, tasks[8:])

	// In a transaction, with a nil list of statuses (none).
	err := s.InTx(ctx, func(q store.Queries) error {
		ids, err := q.SetTasksStatus(ctx, p.ID, store.TaskSelection{Gate: 5}, "done", t3)
		if len(ids) != 0 {
			t.Errorf("no status selected, changed %v", ids)
		}
		return err
	})
	must(t, err)
	ids, err := s.SetTasksStatus(ctx, uuid.NewString(), store.TaskSelection{Gate: 5, From: []string{"todo"}}, "done", t3)
	if err != nil || len(ids) != 0 {
		t.Errorf("SetTasksStatus(unknown project) = %v, %v", ids, err)
	}
}

func testCountTasks(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	other := createProject(t, s, newProject("ada", base))
	c, err := s.CountTasks(ctx, p.ID)
	if err != nil || c != (store.TaskCounts{}) {
		t.Fatalf("CountTasks(no tasks) = %+v, %v", c, err)
	}
	a, b, d := newTask(p.ID, 1, base), newTask(p.ID, 2, base), newTask(p.ID, 2, base)
	b.Status, d.Status = "done", "in_progress"
	createTasks(t, s, a, b, d, newTask(other.ID, 1, base))
	if c, err := s.CountTasks(ctx, p.ID); err != nil || c != (store.TaskCounts{Total: 3, Done: 1}) {
		t.Errorf("CountTasks = %+v, %v; want 3 tasks, 1 done", c, err)
	}
	must(t, s.InTx(ctx, func(q store.Queries) error {
		c, err := q.CountTasks(ctx, other.ID)
		if c != (store.TaskCounts{Total: 1}) {
			t.Errorf("CountTasks(other) in a transaction = %+v", c)
		}
		return err
	}))
}

func testTaskPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	other := createProject(t, s, newProject("ada", base))

	// 7 tasks in two batches, the second created earlier by the clock, with another project's
	// tasks stored in between: listed in insertion order all the same.
	a := newTask(p.ID, 1, base)
	b := newTask(p.ID, 2, base, a.ID)
	c := newTask(p.ID, 1, base)
	c.Status = "done"
	d := newTask(p.ID, 1, base, a.ID)
	batch1 := createTasks(t, s, a, b, c, d)
	createTasks(t, s, newTask(other.ID, 1, base), newTask(other.ID, 1, base))
	e := newTask(p.ID, 1, base.Add(-time.Hour), c.ID)
	f := newTask(p.ID, 2, base.Add(-time.Hour))
	g := newTask(p.ID, 1, base.Add(-time.Hour), d.ID)
	batch2 := createTasks(t, s, e, f, g)
	all := slices.Concat(batch1, batch2)
	A, B, C, D, E, F, G := all[0], all[1], all[2], all[3], all[4], all[5], all[6]

	for _, tc := range []struct {
		filter store.TaskFilter
		want   []store.Task
	}{
		{store.TaskFilter{}, all},
		{store.TaskFilter{Gate: 1}, []store.Task{A, C, D, E, G}},
		{store.TaskFilter{Gate: 2}, []store.Task{B, F}},
		// b, d and g wait for a, a for nothing, c is done.
		{store.TaskFilter{ReadyOnly: true}, []store.Task{A, E, F}},
		{store.TaskFilter{Gate: 1, ReadyOnly: true}, []store.Task{A, E}},
	} {
		for _, limit := range []int{1, 3, 7, 100} {
			f := tc.filter
			f.Limit = limit
			var listed []store.Task
			for pages := 0; ; pages++ {
				if pages > len(all) {
					t.Fatalf("Tasks(%+v): more pages than tasks", f)
				}
				page, err := s.Tasks(ctx, p.ID, f)
				must(t, err)
				if len(page) > limit {
					t.Fatalf("Tasks(%+v) returned %d tasks", f, len(page))
				}
				for _, task := range page {
					// The position listed is the task's own.
					if one, err := s.Task(ctx, p.ID, task.ID); err != nil || one.Position != task.Position {
						t.Errorf("Task(%s): position %d (err %v), listed at %d", task.ID, one.Position, err, task.Position)
					}
				}
				listed = append(listed, page...)
				if len(page) < limit {
					break
				}
				f.After = page[len(page)-1].Position
			}
			for i := range listed {
				if i > 0 && listed[i].Position <= listed[i-1].Position {
					t.Errorf("Tasks(%+v) in pages: positions %v, want increasing", tc.filter, positions(listed))
					break
				}
				listed[i] = storedTask(listed[i])
			}
			if !reflect.DeepEqual(listed, tc.want) && !(len(listed) == 0 && len(tc.want) == 0) {
				t.Errorf("Tasks(%+v) in pages of %d:\n got %v\nwant %v", tc.filter, limit, taskIDs(listed), taskIDs(tc.want))
			}
		}
	}

	// After may be the position of a task the filter leaves out.
	got, err := s.Tasks(ctx, p.ID, store.TaskFilter{})
	must(t, err)
	wantTasks(t, s, p.ID, store.TaskFilter{Gate: 1, After: got[1].Position}, []store.Task{C, D, E, G}) // after b
	wantTasks(t, s, p.ID, store.TaskFilter{After: got[6].Position}, nil)
	wantTasks(t, s, other.ID, store.TaskFilter{After: got[6].Position}, nil)
	wantTasks(t, s, p.ID, store.TaskFilter{Gate: 2, After: got[0].Position, Limit: 1}, []store.Task{B})
}

func testEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	other := createProject(t, s, newProject("ada", base))

	// The payload is kept byte for byte: key order, spacing and all.
	payload := []byte(`{"to": "in_review",  "from":"in_progress", "n": [1, 2.50]}`)
	before := time.Now()
	first, err := s.AppendEvents(ctx, []store.Event{
		{ProjectID: p.ID, ActorID: "ada", Type: "gate_changed", Payload: payload, CreatedAt: base},
		{ProjectID: other.ID, ActorID: "bob", Type: "project_changed", Payload: []byte(`{}`), CreatedAt: base},
		{ProjectID: p.ID, ActorID: "ada", ActorService: "agents", Type: "tasks_changed", Payload: []byte(`[]`)}, // stamped by the store
	})
	must(t, err)
	second, err := s.AppendEvents(ctx, []store.Event{
		{ProjectID: p.ID, ActorID: "bob", Type: "member_changed", Payload: []byte(`{"role":"viewer"}`), CreatedAt: base.Add(time.Hour)},
		{ProjectID: p.ID, ActorID: "bob", ActorService: "documents", Type: "deliverable_recorded", Payload: []byte(`null`), CreatedAt: base.Add(time.Hour)},
	})
	must(t, err)
	appended := slices.Concat(first, second)

	for i, e := range appended {
		if i > 0 && e.ID <= appended[i-1].ID {
			t.Errorf("event %d: id %d after %d, want increasing ids", i, e.ID, appended[i-1].ID)
		}
	}
	if !bytes.Equal(first[0].Payload, payload) || first[0].CreatedAt != stored(base) {
		t.Errorf("AppendEvents returned %+v, want the event as given", first[0])
	}
	if at := first[2].CreatedAt; at != stored(at) || at.Before(before.Add(-time.Minute)) || at.After(time.Now().Add(time.Minute)) {
		t.Errorf("event without a time stamped %v, want about %v, UTC, in microseconds", at, before)
	}

	var mine []store.Event
	for _, e := range appended {
		if e.ProjectID == p.ID {
			mine = append(mine, e)
		}
	}
	all, err := s.Events(ctx, p.ID, store.EventFilter{Limit: 100})
	must(t, err)
	if !reflect.DeepEqual(all, mine) {
		t.Errorf("Events:\n got %+v\nwant %+v", all, mine)
	}
	var paged []store.Event
	for after, pages := int64(0), 0; pages <= len(mine); pages++ {
		page, err := s.Events(ctx, p.ID, store.EventFilter{After: after, Limit: 2})
		must(t, err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].ID
	}
	if !reflect.DeepEqual(paged, mine) {
		t.Errorf("Events in pages of 2:\n got %+v\nwant %+v", paged, mine)
	}
	// Newest first, in pages of 2 going back, each before the oldest of the page before.
	newest := slices.Clone(mine)
	slices.Reverse(newest)
	paged = nil
	for before, pages := int64(0), 0; pages <= len(mine); pages++ {
		page, err := s.Events(ctx, p.ID, store.EventFilter{NewestFirst: true, Before: before, Limit: 2})
		must(t, err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		before = page[len(page)-1].ID
	}
	if !reflect.DeepEqual(paged, newest) {
		t.Errorf("Events newest first in pages of 2:\n got %+v\nwant %+v", paged, newest)
	}
	// Both bounds: the events between two ids, either way.
	between := store.EventFilter{After: mine[0].ID, Before: mine[3].ID, Limit: 10}
	if got, err := s.Events(ctx, p.ID, between); err != nil || !reflect.DeepEqual(got, mine[1:3]) {
		t.Errorf("Events(between) = %+v, %v; want %+v", got, err, mine[1:3])
	}
	between.NewestFirst = true
	if got, err := s.Events(ctx, p.ID, between); err != nil || len(got) != 2 || got[0].ID != mine[2].ID || got[1].ID != mine[1].ID {
		t.Errorf("Events(between, newest first) = %+v, %v; want %d then %d", got, err, mine[2].ID, mine[1].ID)
	}
	if got, err := s.Events(ctx, p.ID, store.EventFilter{NewestFirst: true}); err != nil || len(got) != 0 {
		t.Errorf("Events(limit 0) = %+v, %v; want none", got, err)
	}
	if got, err := s.Events(ctx, other.ID, store.EventFilter{Limit: 100}); err != nil || len(got) != 1 || got[0].ID != first[1].ID {
		t.Errorf("Events(other project) = %+v, %v; want its one event", got, err)
	}

	_, err = s.AppendEvents(ctx, []store.Event{{ProjectID: uuid.NewString(), Type: "x", Payload: []byte(`{}`), CreatedAt: base}})
	wantErr(t, "AppendEvents(unknown project)", err, store.ErrNotFound)
	if none, err := s.AppendEvents(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("AppendEvents(nil) = %v, %v", none, err)
	}
}

// newNotification is the ith notification of a test for the user about the project.
func newNotification(userID, projectID string, i int) store.Notification {
	return store.Notification{UserID: userID, ProjectID: projectID, ProjectName: "Llama farm", Kind: "gate_blocked",
		Message: fmt.Sprintf("G%d of \"Llama farm\" is blocked: reason %d", i%9+1, i), Gate: i%9 + 1,
		EventID: int64(1000 + i), CreatedAt: base.Add(time.Duration(i) * time.Minute)}
}

// wantNotifications fails the test unless Notifications(userID, f) lists want, in order.
func wantNotifications(t *testing.T, s store.Queries, userID string, f store.NotificationFilter, want ...store.Notification) {
	t.Helper()
	got, err := s.Notifications(t.Context(), userID, f)
	wantList(t, fmt.Sprintf("Notifications(%s, %+v)", userID, f), got, err, want)
}

func testNotifications(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	other := createProject(t, s, newProject("bob", base))

	// Two batches, the users' notifications interleaved: ids increase in the order given, across
	// users, and what is returned is what is stored.
	first, err := s.AddNotifications(ctx, []store.Notification{
		newNotification("ada", p.ID, 0), newNotification("bob", other.ID, 1), newNotification("ada", other.ID, 2),
	})
	must(t, err)
	second, err := s.AddNotifications(ctx, []store.Notification{
		newNotification("ada", p.ID, 3), newNotification("ada", p.ID, 4), newNotification("bob", p.ID, 5),
	})
	must(t, err)
	all := slices.Concat(first, second)
	for i, n := range all {
		want := newNotification(n.UserID, n.ProjectID, i)
		want.ID, want.CreatedAt = n.ID, stored(want.CreatedAt)
		if n != want {
			t.Errorf("AddNotifications returned\n %+v\nwant %+v", n, want)
		}
		if i > 0 && n.ID <= all[i-1].ID {
			t.Errorf("notification %d: id %d after %d, want increasing ids", i, n.ID, all[i-1].ID)
		}
	}
	a0, b1, a2, a3, a4, b5 := all[0], all[1], all[2], all[3], all[4], all[5]

	// Newest first, a page at a time before an id; oldest first, after an id.
	wantNotifications(t, s, "ada", store.NotificationFilter{Limit: 10}, a4, a3, a2, a0)
	wantNotifications(t, s, "ada", store.NotificationFilter{Limit: 3}, a4, a3, a2)
	wantNotifications(t, s, "ada", store.NotificationFilter{Before: a2.ID, Limit: 3}, a0)
	wantNotifications(t, s, "ada", store.NotificationFilter{Before: b5.ID, Limit: 2}, a4, a3)
	wantNotifications(t, s, "ada", store.NotificationFilter{Before: a0.ID, Limit: 10})
	wantNotifications(t, s, "ada", store.NotificationFilter{OldestFirst: true, Limit: 3}, a0, a2, a3)
	wantNotifications(t, s, "ada", store.NotificationFilter{OldestFirst: true, After: a0.ID, Limit: 10}, a2, a3, a4)
	wantNotifications(t, s, "ada", store.NotificationFilter{OldestFirst: true, After: b1.ID, Limit: 2}, a2, a3)
	wantNotifications(t, s, "ada", store.NotificationFilter{OldestFirst: true, After: a4.ID, Limit: 10})
	// Both bounds, either way.
	wantNotifications(t, s, "ada", store.NotificationFilter{After: a0.ID, Before: a4.ID, Limit: 10}, a3, a2)
	wantNotifications(t, s, "ada", store.NotificationFilter{OldestFirst: true, After: a0.ID, Before: a4.ID, Limit: 10}, a2, a3)
	wantNotifications(t, s, "ada", store.NotificationFilter{})
	// Only one's own.
	wantNotifications(t, s, "bob", store.NotificationFilter{Limit: 10}, b5, b1)
	wantNotifications(t, s, "nobody", store.NotificationFilter{Limit: 10})
	wantNotifications(t, s, "ada", store.NotificationFilter{UnreadOnly: true, Limit: 10}, a4, a3, a2, a0)

	// A batch naming a missing project stores nothing.
	_, err = s.AddNotifications(ctx, []store.Notification{newNotification("ada", p.ID, 6), newNotification("ada", uuid.NewString(), 7)})
	wantErr(t, "AddNotifications(unknown project)", err, store.ErrNotFound)
	wantNotifications(t, s, "ada", store.NotificationFilter{OldestFirst: true, After: a4.ID, Limit: 10})
	if none, err := s.AddNotifications(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("AddNotifications(nil) = %v, %v", none, err)
	}
}

func testMarkNotificationsRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("ada", base))
	ns, err := s.AddNotifications(ctx, []store.Notification{
		newNotification("ada", p.ID, 0), newNotification("ada", p.ID, 1), newNotification("bob", p.ID, 2),
		newNotification("ada", p.ID, 3), newNotification("ada", p.ID, 4),
	})
	must(t, err)
	a0, a1, b2, a3, a4 := ns[0], ns[1], ns[2], ns[3], ns[4]
	wantUnread := func(userID string, want int) {
		t.Helper()
		if n, err := s.UnreadNotifications(ctx, userID); err != nil || n != want {
			t.Errorf("UnreadNotifications(%s) = %d, %v; want %d", userID, n, err, want)
		}
	}
	wantUnread("ada", 4)
	wantUnread("bob", 1)
	wantUnread("nobody", 0)

	// Up to an id, of one user only: bob's b2 is in the range and stays unread.
	firstRead := base.Add(time.Hour)
	must(t, s.MarkNotificationsRead(ctx, "ada", b2.ID, firstRead))
	a0.ReadAt, a1.ReadAt = stored(firstRead), stored(firstRead)
	wantUnread("ada", 2)
	wantUnread("bob", 1)
	wantNotifications(t, s, "ada", store.NotificationFilter{Limit: 10}, a4, a3, a1, a0)
	wantNotifications(t, s, "ada", store.NotificationFilter{UnreadOnly: true, Limit: 10}, a4, a3)
	wantNotifications(t, s, "ada", store.NotificationFilter{UnreadOnly: true, Before: a4.ID, Limit: 10}, a3)
	wantNotifications(t, s, "ada", store.NotificationFilter{UnreadOnly: true, OldestFirst: true, After: a0.ID, Limit: 1}, a3)
	wantNotifications(t, s, "bob", store.NotificationFilter{UnreadOnly: true, Limit: 10}, b2)

	// 0 marks all; those read already keep the time they were read.
	must(t, s.MarkNotificationsRead(ctx, "ada", 0, firstRead.Add(time.Hour)))
	a3.ReadAt, a4.ReadAt = stored(firstRead.Add(time.Hour)), stored(firstRead.Add(time.Hour))
	wantUnread("ada", 0)
	wantNotifications(t, s, "ada", store.NotificationFilter{Limit: 10}, a4, a3, a1, a0)
	wantNotifications(t, s, "ada", store.NotificationFilter{UnreadOnly: true, Limit: 10})
	wantUnread("bob", 1)
	must(t, s.MarkNotificationsRead(ctx, "nobody", 0, firstRead))
}

func testInTx(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newProject("ada", base)
	var task store.Task
	err := s.InTx(ctx, func(q store.Queries) error {
		createProject(t, q, p)
		createGate(t, q, p.ID, 1)
		// The transaction reads its own writes.
		if _, err := q.Gate(ctx, p.ID, 1); err != nil {
			return err
		}
		task = createTasks(t, q, newTask(p.ID, 1, base))[0]
		events, err := q.AppendEvents(ctx, []store.Event{{ProjectID: p.ID, Type: "created", Payload: []byte(`{}`), CreatedAt: base}})
		if err != nil {
			return err
		}
		n := newNotification("ada", p.ID, 0)
		n.EventID = events[0].ID
		_, err = q.AddNotifications(ctx, []store.Notification{n})
		return err
	})
	must(t, err)
	if _, err := s.ProjectForMember(ctx, p.ID, "ada"); err != nil {
		t.Errorf("ProjectForMember after commit: %v", err)
	}
	if _, err := s.Gate(ctx, p.ID, 1); err != nil {
		t.Errorf("Gate after commit: %v", err)
	}
	wantTasks(t, s, p.ID, store.TaskFilter{}, []store.Task{task})
	if events, err := s.Events(ctx, p.ID, store.EventFilter{Limit: 10}); err != nil || len(events) != 1 {
		t.Errorf("Events after commit = %v, %v; want 1", events, err)
	}
	if ns, err := s.Notifications(ctx, "ada", store.NotificationFilter{Limit: 10}); err != nil || len(ns) != 1 {
		t.Errorf("Notifications after commit = %v, %v; want 1", ns, err)
	}
}

func testInTxRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	kept := createProject(t, s, newProject("ada", base))
	createGate(t, s, kept.ID, 1)
	p := newProject("ada", base)
	boom := errors.New("boom")
	err := s.InTx(ctx, func(q store.Queries) error {
		createProject(t, q, p)
		createGate(t, q, p.ID, 1)
		createTasks(t, q, newTask(p.ID, 1, base))
		if _, err := q.AppendEvents(ctx, []store.Event{{ProjectID: p.ID, Type: "created", Payload: []byte(`{}`), CreatedAt: base}}); err != nil {
			return err
		}
		if _, err := q.AddNotifications(ctx, []store.Notification{newNotification("ada", p.ID, 0)}); err != nil {
			return err
		}
		must(t, q.UpdateGate(ctx, store.Gate{ProjectID: kept.ID, Number: 1, State: "in_progress", UpdatedAt: base}, "pending"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want fn's error", err)
	}

	_, err = s.ProjectForMember(ctx, p.ID, "ada")
	wantErr(t, "ProjectForMember after rollback", err, store.ErrNotFound)
	if g, err := s.Gate(ctx, kept.ID, 1); err != nil || g.State != "pending" {
		t.Errorf("gate updated in a rolled back transaction: %+v, %v", g, err)
	}
	wantProject(t, s, project{Project: p}) // owns nothing
	// Not even the id is taken.
	createProject(t, s, p)
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// MigratedGateEvidence checks what migration 00003 made of the gate evidence both migration tests
// store in the old layout (project "p", gate 1 in progress; project "q", gate 1 in review):
// deliverables keyed by document with their revisions, proofs and reviews with theirs. It
// returns p's deliverables.
func MigratedGateEvidence(t *testing.T, s store.Queries) []store.Deliverable {
	t.Helper()
	ctx := context.Background()
	delivs, err := s.Deliverables(ctx, "p", 1)
	if err != nil || len(delivs) != 2 || delivs[0].DocumentID != "old" || delivs[0].Revision != 0 ||
		delivs[1].DocumentID != "twice" || delivs[1].DocumentType != "requirements" || delivs[1].Revision != 2 {
		t.Fatalf("deliverables after the migration: %+v, %v", delivs, err)
	}
	proofs, err := s.Proofs(ctx, "p", 1)
	if err != nil || len(proofs) != 2 || proofs[0].Revision != 0 || proofs[1].Revision != 2 || proofs[1].DeliverablesHash != "" {
		t.Fatalf("proofs after the migration: %+v, %v", proofs, err)
	}
	reviews, err := s.Reviews(ctx, "p", 1)
	if err != nil || len(reviews) != 2 || reviews[0].Revision != 0 || reviews[1].Revision != 1 {
		t.Fatalf("reviews after the migration: %+v, %v", reviews, err)
	}
	// q's G1 was in review at revision 1 with evidence of revision 0: it stays revision 1's, so
	// the gate can still be approved.
	qd, err := s.Deliverables(ctx, "q", 1)
	if err != nil || len(qd) != 1 || qd[0].Revision != 1 {
		t.Fatalf("deliverables of a gate in review after the migration: %+v, %v", qd, err)
	}
	qp, err := s.Proofs(ctx, "q", 1)
	if err != nil || len(qp) != 1 || qp[0].Revision != 1 {
		t.Fatalf("proofs of a gate in review after the migration: %+v, %v", qp, err)
	}
	return delivs
}

// MigratedEvents checks what migration 00005 made of the event both migration tests store
// before it (project "e": one event by "ada"): the event as it was, made in person (no actor
// service), and a new event keeps its service.
func MigratedEvents(t *testing.T, s store.Queries) {
	t.Helper()
	ctx := context.Background()
	events, err := s.Events(ctx, "e", store.EventFilter{Limit: 10})
	if err != nil || len(events) != 1 || events[0].ActorID != "ada" || events[0].ActorService != "" ||
		events[0].Type != "gate_changed" || string(events[0].Payload) != `{"gate":1}` {
		t.Fatalf("the event of before 00005: %+v, %v", events, err)
	}
	added, err := s.AppendEvents(ctx, []store.Event{{ProjectID: "e", ActorID: "ada", ActorService: "agents", Type: "gate_changed",
		Payload: []byte(`{"gate":2}`), CreatedAt: base}})
	must(t, err)
	events, err = s.Events(ctx, "e", store.EventFilter{After: events[0].ID, Limit: 10})
	if err != nil || len(events) != 1 || events[0].ID != added[0].ID || events[0].ActorService != "agents" {
		t.Fatalf("an event after 00005: %+v, %v", events, err)
	}
}

// MigratedProofRuns checks what migration 00006 made of the evidence both migration tests store
// before it (project "r", gate 1: proof "old", and a review whose snapshot holds it): they ran
// nothing (no run), and a proof recorded after it keeps its run.
func MigratedProofRuns(t *testing.T, s store.Queries) {
	t.Helper()
	ctx := context.Background()
	proofs, err := s.Proofs(ctx, "r", 1)
	if err != nil || len(proofs) != 1 || proofs[0].ID != "old" || proofs[0].Run != nil {
		t.Fatalf("the proof of before 00006: %+v, %v", proofs, err)
	}
	reviews, err := s.Reviews(ctx, "r", 1)
	if err != nil || len(reviews) != 1 || len(reviews[0].Proofs) != 1 || reviews[0].Proofs[0].ID != "old" || reviews[0].Proofs[0].Run != nil {
		t.Fatalf("the review of before 00006: %+v, %v", reviews, err)
	}
	ran := store.Proof{ID: "new", ProjectID: "r", Gate: 1, Type: "build", Result: "pass", ProducedBy: "agents", CreatedAt: stored(base),
		Run: sampleRun()}
	must(t, s.AddProof(ctx, ran))
	proofs, err = s.Proofs(ctx, "r", 1)
	if err != nil || len(proofs) != 2 || !reflect.DeepEqual(proofs[1], ran) {
		t.Fatalf("a proof after 00006: %+v, %v", proofs, err)
	}
}
