package projects_test

import (
	"context"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
)

// TestReview2UnchangedRoleTellsNothing: setting a member's role to the role they already have
// changes nothing, yet every such call (a client retrying a PATCH, say) tells the member
// "Your role ... is now editor" again: duplicate member_role_changed notifications for no change.
func TestReview2UnchangedRoleTellsNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		p, err := svc.CreateProject(ctx, owner, "Shop", "", "traditional", "")
		if err != nil {
			t.Fatal(err)
		}
		mustDo(t, func() error {
			_, err := svc.AddMember(ctx, owner, p.ID, "ed@example.com", store.RoleEditor)
			return err
		})
		for range 3 {
			mustDo(t, func() error { _, err := svc.UpdateMember(ctx, owner, p.ID, ed.UserID, store.RoleEditor); return err })
		}
		wantNews(t, svc, ed, `member_added: You were added to "Shop" as editor`)
	})
}
