package projects_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
)

// countingStore counts, in its transactions, the reads notify may add.
type countingStore struct {
	store.Store
	projectForMember, members, addNotifications *atomic.Int64
}

func (s countingStore) InTx(ctx context.Context, fn func(q store.Queries) error) error {
	return s.Store.InTx(ctx, func(q store.Queries) error { return fn(countingQueries{q, s}) })
}

type countingQueries struct {
	store.Queries
	s countingStore
}

func (q countingQueries) ProjectForMember(ctx context.Context, projectID, userID string) (store.ProjectWithRole, error) {
	q.s.projectForMember.Add(1)
	return q.Queries.ProjectForMember(ctx, projectID, userID)
}

func (q countingQueries) Members(ctx context.Context, projectID string) ([]store.Member, error) {
	q.s.members.Add(1)
	return q.Queries.Members(ctx, projectID)
}

func (q countingQueries) AddNotifications(ctx context.Context, ns []store.Notification) ([]store.Notification, error) {
	q.s.addNotifications.Add(1)
	return q.Queries.AddNotifications(ctx, ns)
}

// TestReview2ChangeTellingNobodyCostsNoQuery: a solo owner blocking their own gate in person
// tells nobody (they are never told what they did themselves); the change must not read the
// project again for it, only list the members to learn that nobody else is there.
func TestReview2ChangeTellingNobodyCostsNoQuery(t *testing.T) {
	svc, _ := newService(t, stores["sqlite"])
	ctx := context.Background()
	p, err := svc.CreateProject(ctx, owner, "Solo", "", "traditional", "")
	if err != nil {
		t.Fatal(err)
	}
	c := countingStore{Store: svc.Store, projectForMember: new(atomic.Int64), members: new(atomic.Int64), addNotifications: new(atomic.Int64)}
	svc.Store = c
	measure := func(f func() error) (int64, int64) {
		t.Helper()
		c.projectForMember.Store(0)
		c.members.Store(0)
		mustDo(t, f)
		return c.projectForMember.Load(), c.members.Load()
	}
	startPFM, startMembers := measure(func() error { _, err := svc.StartGate(ctx, owner, p.ID, 1); return err })
	blockPFM, blockMembers := measure(func() error { _, err := svc.BlockGate(ctx, owner, p.ID, 1, "stuck"); return err })
	if got := allNotifications(t, svc, owner); len(got.Notifications) != 0 {
		t.Fatalf("solo owner told of their own block: %+v", got)
	}
	// The members are read once, to learn that nobody but the actor is there to tell; the
	// project, which the change read already, is not read again.
	if blockPFM != startPFM || blockMembers != startMembers+1 {
		t.Errorf("a block telling nobody read the project %d times and the members %d times; a start (telling nobody) %d and %d",
			blockPFM, blockMembers, startPFM, startMembers)
	}
}

// TestReview2NotifyDoesNotRereadTheProject: a change that tells someone has read the project
// (access, in its transaction) already; notify reads it again with ProjectForMember, once more
// per notifying change: an editor's block reads the project twice where a start reads it once.
func TestReview2NotifyDoesNotRereadTheProject(t *testing.T) {
	svc, _ := newService(t, stores["sqlite"])
	ctx := context.Background()
	p, err := svc.CreateProject(ctx, owner, "Team", "", "traditional", "")
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, func() error {
		_, err := svc.AddMember(ctx, owner, p.ID, "ed@example.com", store.RoleEditor)
		return err
	})
	c := countingStore{Store: svc.Store, projectForMember: new(atomic.Int64), members: new(atomic.Int64), addNotifications: new(atomic.Int64)}
	svc.Store = c
	count := func(f func() error) int64 {
		t.Helper()
		c.projectForMember.Store(0)
		mustDo(t, f)
		return c.projectForMember.Load()
	}
	start := count(func() error { _, err := svc.StartGate(ctx, ed, p.ID, 1); return err })
	block := count(func() error { _, err := svc.BlockGate(ctx, ed, p.ID, 1, "stuck"); return err })
	if got := allNotifications(t, svc, owner); len(got.Notifications) != 1 {
		t.Fatalf("owner not told of the block: %+v", got)
	}
	if block != start {
		t.Errorf("the block read the project %d times in its transaction, the start %d", block, start)
	}
}
