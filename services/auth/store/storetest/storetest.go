// Package storetest is the conformance suite of store.Store: every implementation runs Run, so
// they behave alike down to error values and time precision.
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
)

// Run runs the suite. open must return an empty store of its own for each call (subtests run in
// parallel) and close it when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	dbtest.RunSuite(t, open, map[string]func(*testing.T, store.Store){
		"CreateAndGet":                    testCreateAndGet,
		"DuplicateEmail":                  testDuplicateEmail,
		"NotFound":                        testNotFound,
		"LookupUsers":                     testLookupUsers,
		"ResetPasswordUnknownUser":        testResetUnknownUser,
		"ResetPasswordConsumesToken":      testResetConsumesToken,
		"ResetPasswordExpiredToken":       testResetExpiredToken,
		"ResetPasswordDeletesOtherTokens": testResetDeletesOtherTokens,
		"ResetPasswordConcurrently":       testResetConcurrently,
		"UserByResetToken":                testUserByResetToken,
		"Ping":                            testPing,
		"ResetPasswordRecordsRevocation":  testResetRecordsRevocation,
		"RevokeAndList":                   testRevokeAndList,
		"RevokeSeveral":                   testRevokeSeveral,
		"RevokeKeepsLaterTimes":           testRevokeKeepsLaterTimes,
		"SessionRevoked":                  testSessionRevoked,
		"RevokePrunesPastEntries":         testRevokePrunes,
	})
}

// base is a time with nanoseconds in a zone other than UTC: stores must return it in UTC,
// truncated to microseconds.
var base = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("UTC+1", 3600))

// stored is t as a store returns it.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func newUser(email string) store.User {
	return store.User{
		ID:           uuid.NewString(),
		Email:        email,
		Name:         "Ada " + email,
		PasswordHash: "hash-of-" + email,
		CreatedAt:    base,
		UpdatedAt:    base.Add(time.Minute),
	}
}

func createUser(t *testing.T, s store.Store, email string) store.User {
	t.Helper()
	u := newUser(email)
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	u.CreatedAt, u.UpdatedAt = stored(u.CreatedAt), stored(u.UpdatedAt)
	return u
}

// wantUser fails the test unless the user with id is want, field for field (times with ==, so
// their location must be UTC too).
func wantUser(t *testing.T, s store.Store, id string, want store.User) {
	t.Helper()
	got, err := s.UserByID(context.Background(), id)
	if err != nil {
		t.Fatalf("UserByID(%s): %v", id, err)
	}
	if got != want {
		t.Errorf("UserByID(%s):\n got %+v\nwant %+v", id, got, want)
	}
}

func tokenHash() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

func createReset(t *testing.T, s store.Store, userID string, expires time.Time) []byte {
	t.Helper()
	h := tokenHash()
	r := store.PasswordReset{TokenHash: h, UserID: userID, ExpiresAt: expires, CreatedAt: base}
	if err := s.CreatePasswordReset(context.Background(), r); err != nil {
		t.Fatalf("CreatePasswordReset: %v", err)
	}
	return h
}

func testCreateAndGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	want := createUser(t, s, "ada@example.com")
	createUser(t, s, "bob@example.com")

	got, err := s.UserByEmail(ctx, want.Email)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("UserByEmail:\n got %+v\nwant %+v", got, want)
	}
	wantUser(t, s, want.ID, want)
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
	}
}

func testDuplicateEmail(t *testing.T, s store.Store) {
	first := createUser(t, s, "ada@example.com")
	dup := newUser(first.Email)
	dup.Name, dup.PasswordHash = "Mallory", "mallory-hash"
	if err := s.CreateUser(context.Background(), dup); !errors.Is(err, store.ErrEmailTaken) {
		t.Fatalf("CreateUser with a taken email: err = %v, want ErrEmailTaken", err)
	}
	wantUser(t, s, first.ID, first)
	if _, err := s.UserByID(context.Background(), dup.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rejected user stored anyway: UserByID err = %v", err)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := createUser(t, s, "ada@example.com")
	if _, err := s.UserByID(ctx, uuid.NewString()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByID(unknown): err = %v, want ErrNotFound", err)
	}
	if _, err := s.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByEmail(unknown): err = %v, want ErrNotFound", err)
	}
	// Emails arrive normalised; the store does not fold case itself.
	if _, err := s.UserByEmail(ctx, "ADA@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByEmail(%s in upper case): err = %v, want ErrNotFound", u.Email, err)
	}
	if _, err := s.ResetPassword(ctx, tokenHash(), "new", base, ended(base)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ResetPassword(unknown token): err = %v, want ErrNotFound", err)
	}
}

func testResetUnknownUser(t *testing.T, s store.Store) {
	r := store.PasswordReset{TokenHash: tokenHash(), UserID: uuid.NewString(), ExpiresAt: base.Add(time.Hour), CreatedAt: base}
	if err := s.CreatePasswordReset(context.Background(), r); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreatePasswordReset for an unknown user: err = %v, want ErrNotFound", err)
	}
}

func testResetConsumesToken(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := createUser(t, s, "ada@example.com")
	now := base.Add(time.Hour)
	h := createReset(t, s, u.ID, now.Add(time.Microsecond)) // still valid, if only just

	id, err := s.ResetPassword(ctx, h, "new-hash", now, ended(now))
	if err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	if id != u.ID {
		t.Errorf("ResetPassword returned user %q, want %q", id, u.ID)
	}
	want := u
	want.PasswordHash, want.UpdatedAt = "new-hash", stored(now)
	wantUser(t, s, u.ID, want)

	if _, err := s.ResetPassword(ctx, h, "again", now, ended(now)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second ResetPassword with one token: err = %v, want ErrNotFound", err)
	}
	wantUser(t, s, u.ID, want)
}

func testResetExpiredToken(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := createUser(t, s, "ada@example.com")
	now := base.Add(time.Hour)
	for name, expires := range map[string]time.Time{
		"expired":      now.Add(-time.Minute),
		"expiring now": now, // a token must expire after now
		// Stores keep microseconds: this is "now" once truncated.
		"expiring within the microsecond": now.Add(time.Nanosecond),
	} {
		h := createReset(t, s, u.ID, expires)
		if _, err := s.ResetPassword(ctx, h, "new-hash", now, ended(now)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s token: err = %v, want ErrNotFound", name, err)
		}
	}
	wantUser(t, s, u.ID, u)
}

func testResetDeletesOtherTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	ada := createUser(t, s, "ada@example.com")
	bob := createUser(t, s, "bob@example.com")
	expires := base.Add(time.Hour)
	used, other := createReset(t, s, ada.ID, expires), createReset(t, s, ada.ID, expires)
	bobs := createReset(t, s, bob.ID, expires)

	if _, err := s.ResetPassword(ctx, used, "new-hash", base, ended(base)); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	if _, err := s.ResetPassword(ctx, other, "other-hash", base, ended(base)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the user's other token after a reset: err = %v, want ErrNotFound", err)
	}
	if id, err := s.ResetPassword(ctx, bobs, "bob-hash", base, ended(base)); err != nil || id != bob.ID {
		t.Errorf("another user's token after a reset: (%q, %v), want (%q, nil)", id, err, bob.ID)
	}
}

func testResetConcurrently(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := createUser(t, s, "ada@example.com")
	h := createReset(t, s, u.ID, base.Add(time.Hour))

	const n = 8
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		winners    []string
		unexpected []error
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			hash := fmt.Sprintf("hash-%d", i)
			_, err := s.ResetPassword(ctx, h, hash, base, ended(base))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, hash)
			case !errors.Is(err, store.ErrNotFound):
				unexpected = append(unexpected, err)
			}
		})
	}
	close(start)
	wg.Wait()

	for _, err := range unexpected {
		t.Errorf("ResetPassword: %v", err)
	}
	if len(winners) != 1 {
		t.Fatalf("%d of %d concurrent resets with one token succeeded, want exactly 1", len(winners), n)
	}
	want := u
	want.PasswordHash, want.UpdatedAt = winners[0], stored(base)
	wantUser(t, s, u.ID, want)
}

func testUserByResetToken(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := createUser(t, s, "ada@example.com")
	createUser(t, s, "bob@example.com")
	now := base.Add(time.Hour)
	h := createReset(t, s, u.ID, now.Add(time.Microsecond))

	for range 2 { // looking does not consume
		got, err := s.UserByResetToken(ctx, h, now)
		if err != nil || got != u {
			t.Fatalf("UserByResetToken = %+v, %v; want %+v", got, err, u)
		}
	}
	for name, tc := range map[string]struct {
		hash []byte
		now  time.Time
	}{
		"unknown token":                   {tokenHash(), now},
		"token expiring now":              {h, now.Add(time.Microsecond)},
		"expired token":                   {h, now.Add(time.Minute)},
		"expiring within the microsecond": {createReset(t, s, u.ID, now.Add(time.Nanosecond)), now},
	} {
		if _, err := s.UserByResetToken(ctx, tc.hash, tc.now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.ResetPassword(ctx, h, "new-hash", now, ended(now)); err != nil {
		t.Fatalf("ResetPassword after UserByResetToken: %v", err)
	}
	if _, err := s.UserByResetToken(ctx, h, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("used token: err = %v, want ErrNotFound", err)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testLookupUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := createUser(t, s, "a@example.com"), createUser(t, s, "b@example.com")
	createUser(t, s, "c@example.com")
	got, err := s.LookupUsers(ctx, []string{"a@example.com", "nobody@example.com"}, []string{b.ID, "no-such-id"})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]store.User{}
	for _, u := range got {
		byID[u.ID] = u
	}
	if len(got) != 2 || byID[a.ID] != a || byID[b.ID] != b {
		t.Fatalf("LookupUsers = %+v, want a and b", got)
	}
	if none, err := s.LookupUsers(ctx, nil, nil); err != nil || len(none) != 0 {
		t.Fatalf("empty lookup = %v, %v", none, err)
	}
}

// ended is the revocation a reset at now records: every session of the user.
func ended(now time.Time) store.Revocation {
	return store.Revocation{EndedAt: now, AccessUntil: now.Add(15 * time.Minute), RefreshUntil: now.Add(24 * time.Hour)}
}

// revocation is an entry ending session sid of uid ("" for all of them) at at.
func revocation(uid, sid string, at time.Time) store.Revocation {
	return store.Revocation{UserID: uid, SessionID: sid, EndedAt: at, AccessUntil: at.Add(15 * time.Minute), RefreshUntil: at.Add(24 * time.Hour)}
}

func storedRevocation(r store.Revocation) store.Revocation {
	r.EndedAt, r.AccessUntil, r.RefreshUntil = stored(r.EndedAt), stored(r.AccessUntil), stored(r.RefreshUntil)
	return r
}

func revoke(t *testing.T, s store.Store, r store.Revocation) {
	t.Helper()
	if err := s.Revoke(context.Background(), r); err != nil {
		t.Fatalf("Revoke(%+v): %v", r, err)
	}
}

// listed returns what Revoked lists at now, by user and session id.
func listed(t *testing.T, s store.Store, now time.Time) map[[2]string]store.Revocation {
	t.Helper()
	list, err := s.Revoked(context.Background(), now)
	if err != nil {
		t.Fatalf("Revoked: %v", err)
	}
	m := map[[2]string]store.Revocation{}
	for _, r := range list {
		m[[2]string{r.UserID, r.SessionID}] = r
	}
	if len(m) != len(list) {
		t.Fatalf("Revoked listed an entry twice: %+v", list)
	}
	return m
}

func testResetRecordsRevocation(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := createUser(t, s, "ada@example.com")
	if _, err := s.ResetPassword(ctx, tokenHash(), "new-hash", base, ended(base)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ResetPassword(unknown token): err = %v", err)
	}
	if got := listed(t, s, base); len(got) != 0 {
		t.Fatalf("a failed reset recorded revocations: %+v", got)
	}
	h := createReset(t, s, u.ID, base.Add(time.Hour))
	if _, err := s.ResetPassword(ctx, h, "new-hash", base, ended(base)); err != nil {
		t.Fatal(err)
	}
	want := ended(base)
	want.UserID = u.ID
	if got := listed(t, s, base); len(got) != 1 || got[[2]string{u.ID, ""}] != storedRevocation(want) {
		t.Fatalf("after a reset Revoked = %+v, want only %+v", got, storedRevocation(want))
	}
}

func testRevokeAndList(t *testing.T, s store.Store) {
	one := revocation("u1", "s1", base)
	all := revocation("u2", "", base.Add(time.Minute))
	revoke(t, s, one)
	revoke(t, s, all)
	got := listed(t, s, base)
	if len(got) != 2 || got[[2]string{"u1", "s1"}] != storedRevocation(one) || got[[2]string{"u2", ""}] != storedRevocation(all) {
		t.Fatalf("Revoked = %+v, want %+v and %+v", got, one, all)
	}
	if got[[2]string{"u1", "s1"}].EndedAt.Location() != time.UTC {
		t.Errorf("EndedAt in %v, want UTC", got[[2]string{"u1", "s1"}].EndedAt.Location())
	}
	// Listed while its access tokens may still be presented, and not from the instant they
	// have all expired.
	got = listed(t, s, one.AccessUntil)
	if _, ok := got[[2]string{"u1", "s1"}]; ok || len(got) != 1 {
		t.Fatalf("Revoked at the first entry's AccessUntil = %+v, want only the second", got)
	}
}

// testRevokeSeveral: one call records several entries (logout-all: the user's and one per
// session Redis ended).
func testRevokeSeveral(t *testing.T, s store.Store) {
	all, s1, s2 := revocation("u1", "", base), revocation("u1", "s1", base), revocation("u1", "s2", base)
	if err := s.Revoke(context.Background(), all, s1, s2); err != nil {
		t.Fatal(err)
	}
	got := listed(t, s, base)
	if len(got) != 3 || got[[2]string{"u1", ""}] != storedRevocation(all) || got[[2]string{"u1", "s2"}] != storedRevocation(s2) {
		t.Fatalf("Revoked = %+v, want the three entries", got)
	}
	if ended, err := s.SessionRevoked(context.Background(), "u1", "s1", base.Add(time.Hour), base); err != nil || !ended {
		t.Fatalf("a session of its own entry, started after the user's: SessionRevoked = %v, %v", ended, err)
	}
}

func testRevokeKeepsLaterTimes(t *testing.T, s store.Store) {
	later := revocation("u1", "", base.Add(time.Hour))
	revoke(t, s, later)
	revoke(t, s, revocation("u1", "", base)) // a late-arriving older record must not shorten it
	if got := listed(t, s, base)[[2]string{"u1", ""}]; got != storedRevocation(later) {
		t.Fatalf("after an older record: %+v, want %+v", got, storedRevocation(later))
	}
	latest := revocation("u1", "", base.Add(2*time.Hour))
	revoke(t, s, latest)
	if got := listed(t, s, base)[[2]string{"u1", ""}]; got != storedRevocation(latest) {
		t.Fatalf("after a newer record: %+v, want %+v", got, storedRevocation(latest))
	}
}

func testSessionRevoked(t *testing.T, s store.Store) {
	ctx := context.Background()
	revoke(t, s, revocation("u1", "s1", base))
	all := revocation("u2", "", base)
	revoke(t, s, all)
	for name, tc := range map[string]struct {
		uid, sid string
		started  time.Time
		now      time.Time
		want     bool
	}{
		"its own entry":                     {"u1", "s1", base.Add(-time.Hour), base, true},
		"another session":                   {"u1", "s2", base.Add(-time.Hour), base, false},
		"the session of another user":       {"u3", "s1", base.Add(-time.Hour), base, false},
		"started before the user entry":     {"u2", "s9", base.Add(-time.Hour), base, true},
		"started at the user entry":         {"u2", "s9", base, base, true},
		"started after the user entry":      {"u2", "s9", base.Add(time.Millisecond), base, false},
		"unknown start":                     {"u2", "s9", time.Time{}, base, true},
		"its own entry, past RefreshUntil":  {"u1", "s1", base.Add(-time.Hour), all.RefreshUntil, false},
		"user entry, past RefreshUntil":     {"u2", "s9", base.Add(-time.Hour), all.RefreshUntil, false},
		"its own entry, after AccessUntil":  {"u1", "s1", base.Add(-time.Hour), all.AccessUntil.Add(time.Hour), true},
		"user entry, after its AccessUntil": {"u2", "s9", base.Add(-time.Hour), all.AccessUntil.Add(time.Hour), true},
	} {
		got, err := s.SessionRevoked(ctx, tc.uid, tc.sid, tc.started, tc.now)
		if err != nil || got != tc.want {
			t.Errorf("%s: SessionRevoked = %v, %v; want %v", name, got, err, tc.want)
		}
	}
}

func testRevokePrunes(t *testing.T, s store.Store) {
	ctx := context.Background()
	old := revocation("u1", "s1", base)
	revoke(t, s, old)
	revoke(t, s, revocation("u2", "s2", old.RefreshUntil)) // recorded once the first matters no more
	// Asked as of a time the first entry would still count: it is gone, not just filtered.
	if got, err := s.SessionRevoked(ctx, "u1", "s1", time.Time{}, base); err != nil || got {
		t.Fatalf("an entry past its RefreshUntil was kept: SessionRevoked = %v, %v", got, err)
	}
	if got, err := s.SessionRevoked(ctx, "u2", "s2", time.Time{}, old.RefreshUntil); err != nil || !got {
		t.Fatalf("the new entry: SessionRevoked = %v, %v", got, err)
	}
}
