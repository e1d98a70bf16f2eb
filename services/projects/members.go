package projects

import (
	"context"
	"errors"
	"slices"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
)

// MemberInfo is a member with the account's email and name.
type MemberInfo struct {
	store.Member
	Email, Name string
}

// checkAssignableRole: a project has exactly one owner, so only editor and viewer can be given.
func checkAssignableRole(role string) error {
	if role != store.RoleEditor && role != store.RoleViewer {
		var v apperr.Violations
		v.Add("role", "must be ROLE_EDITOR or ROLE_VIEWER (a project has one owner)")
		return v.Err()
	}
	return nil
}

// AddMember gives the account with the email a role in the project.
func (s *Service) AddMember(ctx context.Context, who authn.Identity, projectID, email, role string) (MemberInfo, error) {
	var v apperr.Violations
	input.CheckText(&v, "email", email, true, 254)
	if err := v.Err(); err != nil {
		return MemberInfo{}, err
	}
	if err := checkAssignableRole(role); err != nil {
		return MemberInfo{}, err
	}
	// Check the caller's right before revealing whether an account exists.
	if _, err := s.role(ctx, s.Store, who, projectID, ActAdmin); err != nil {
		return MemberInfo{}, err
	}
	u, found, err := s.Directory.UserByEmail(ctx, email)
	if err != nil {
		return MemberInfo{}, err
	}
	if !found {
		v.Add("email", "no FuzzyLlama account uses this email: ask them to register first")
		return MemberInfo{}, v.Err()
	}
	m := store.Member{ProjectID: projectID, UserID: u.ID, Role: role}
	err = s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		if _, err := s.role(ctx, q, who, projectID, ActAdmin); err != nil {
			return err
		}
		m.CreatedAt = rec.now
		if err := q.AddMember(ctx, m); errors.Is(err, store.ErrAlreadyExists) {
			return apperr.AlreadyExists("%s is already a member of this project", u.Email)
		} else if err != nil {
			return err
		}
		rec.add(projectID, EventMemberChanged, MemberChanged{UserID: u.ID, Role: role, Change: MemberAdded})
		return nil
	})
	return MemberInfo{Member: m, Email: u.Email, Name: u.Name}, err
}

// UpdateMember changes a member's role; the owner's role cannot change.
func (s *Service) UpdateMember(ctx context.Context, who authn.Identity, projectID, userID, role string) (MemberInfo, error) {
	if err := checkAssignableRole(role); err != nil {
		return MemberInfo{}, err
	}
	var out MemberInfo
	err := s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		if err := s.changeableMember(ctx, q, who, projectID, userID, "the owner's role cannot be changed"); err != nil {
			return err
		}
		// The membership as stored, for its creation time: the answer is the whole member.
		members, err := q.Members(ctx, projectID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(members, func(m store.Member) bool { return m.UserID == userID })
		if i < 0 {
			return memberErr(store.ErrNotFound, userID)
		}
		current := members[i]
		out.Member = current
		out.Member.Role = role
		if current.Role == role { // nothing changes: no event, nobody told again
			return nil
		}
		if err := memberErr(q.SetMemberRole(ctx, projectID, userID, role), userID); err != nil {
			return err
		}
		rec.add(projectID, EventMemberChanged, MemberChanged{UserID: userID, Role: role, Change: MemberRoleChanged})
		return nil
	})
	if err != nil {
		return out, err
	}
	return s.describe(ctx, out.Member), nil
}

// changeableMember checks the caller administers the project and userID names a member other
// than the owner (whose membership ownerRefusal explains cannot change).
func (s *Service) changeableMember(ctx context.Context, q store.Queries, who authn.Identity, projectID, userID, ownerRefusal string) error {
	p, err := s.role(ctx, q, who, projectID, ActAdmin)
	if err != nil {
		return err
	}
	if userID == p.OwnerID {
		return apperr.FailedPrecondition("%s", ownerRefusal)
	}
	if !input.ValidID(userID) {
		return memberErr(store.ErrNotFound, userID)
	}
	return nil
}

// memberErr turns the store's not-found into the caller's answer.
func memberErr(err error, userID string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apperr.NotFound("user %q is not a member of this project", userID)
	}
	return err
}

// RemoveMember removes a member; the owner cannot be removed.
func (s *Service) RemoveMember(ctx context.Context, who authn.Identity, projectID, userID string) error {
	return s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		if err := s.changeableMember(ctx, q, who, projectID, userID, "the owner cannot be removed from the project"); err != nil {
			return err
		}
		if err := memberErr(q.RemoveMember(ctx, projectID, userID), userID); err != nil {
			return err
		}
		rec.add(projectID, EventMemberChanged, MemberChanged{UserID: userID, Change: MemberRemoved})
		return nil
	})
}

// ListMembers lists the members with their names, owner first then by joining time.
func (s *Service) ListMembers(ctx context.Context, who authn.Identity, projectID string) ([]MemberInfo, error) {
	if _, err := s.access(ctx, s.Store, who, projectID, ActRead); err != nil {
		return nil, err
	}
	members, err := s.Store.Members(ctx, projectID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	users, err := s.Directory.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]MemberInfo, len(members))
	for i, m := range members {
		out[i] = MemberInfo{Member: m, Email: users[m.UserID].Email, Name: users[m.UserID].Name}
	}
	return out, nil
}

// describe adds the account's email and name to a member whose change has committed; if the
// auth service cannot say, the change still stands and the member is returned without them.
func (s *Service) describe(ctx context.Context, m store.Member) MemberInfo {
	users, err := s.Directory.UsersByID(ctx, []string{m.UserID})
	if err != nil {
		s.Logger.WarnContext(ctx, "cannot name a member", "user_id", m.UserID, "error", err.Error())
		return MemberInfo{Member: m}
	}
	return MemberInfo{Member: m, Email: users[m.UserID].Email, Name: users[m.UserID].Name}
}
