package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx/redistest"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
)

// identity returns who the access token of t is, as the authorization interceptor would.
func identity(t *testing.T, svc *Service, tok Tokens) authn.Identity {
	t.Helper()
	c, err := svc.verifier().Verify(context.Background(), tok.Access, authn.TypeAccess)
	if err != nil {
		t.Fatal(err)
	}
	return authn.Identity{UserID: c.Subject, SessionID: c.SessionID, Token: tok.Access}
}

// accessRevoked reports whether the process's verifier refuses the access token as revoked.
func accessRevoked(t *testing.T, svc *Service, tok Tokens) bool {
	t.Helper()
	_, err := authn.NewVerifier(svc.Keys, svc.Revocations).Verify(context.Background(), tok.Access, authn.TypeAccess)
	if err != nil && !errors.Is(err, authn.ErrRevoked) {
		t.Fatalf("verify: %v", err)
	}
	return err != nil
}

// wantSessionEnded fails the test unless refreshing tok says the session ended (not "revoked").
func wantSessionEnded(t *testing.T, svc *Service, tok Tokens) {
	t.Helper()
	_, err := svc.Refresh(context.Background(), tok.Refresh)
	if e := wantErr(t, err, apperr.KindUnauthenticated); e.Reason != ReasonSessionEnded || !strings.Contains(e.Message, "session ended") {
		t.Fatalf("refresh of an ended session: %q (%s), want %s", e.Message, e.Reason, ReasonSessionEnded)
	}
}

// TestLogoutRecordsTheRevocationDurably: logout ends the session for every verifier and for
// refresh, from the durable list (a fresh process loading it knows), and no other session.
func TestLogoutRecordsTheRevocationDurably(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil)
		ctx := context.Background()
		_, tok, err := svc.Register(ctx, "lou@example.com", testPassword, "Lou", clientIP)
		if err != nil {
			t.Fatal(err)
		}
		_, other, err := svc.Login(ctx, "lou@example.com", testPassword, clientIP)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Logout(ctx, identity(t, svc, tok)); err != nil {
			t.Fatal(err)
		}
		if !accessRevoked(t, svc, tok) || accessRevoked(t, svc, other) {
			t.Fatal("logout did not revoke exactly the caller's session")
		}
		wantSessionEnded(t, svc, tok)
		if _, err := svc.Refresh(ctx, other.Refresh); err != nil {
			t.Fatalf("the other session's refresh: %v", err)
		}

		// Another process, started now, loads the list over ListRevokedSessions.
		resp, err := (&Handler{Service: svc}).ListRevokedSessions(ctx, &authv1.ListRevokedSessionsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		fresh := &authn.Revocations{Redis: rdb, Keys: keys, Source: authn.RemoteRevocations(listOnly{resp: resp})}
		if err := fresh.Load(ctx); err != nil {
			t.Fatal(err)
		}
		id := identity(t, svc, other)
		if ok, err := fresh.IsRevoked(id.UserID, sessionOf(t, svc, tok)); !ok || err != nil {
			t.Fatalf("a process loading the list: IsRevoked = %v, %v", ok, err)
		}
		if ok, _ := fresh.IsRevoked(id.UserID, id.SessionID); ok {
			t.Fatal("a process loading the list revokes the other session")
		}
	})
}

func sessionOf(t *testing.T, svc *Service, tok Tokens) string {
	t.Helper()
	c, err := svc.verifier().Verify(context.Background(), tok.Refresh, authn.TypeRefresh)
	if err != nil {
		t.Fatal(err)
	}
	return c.SessionID
}

// listOnly is an AuthServiceClient that answers ListRevokedSessions with resp.
type listOnly struct {
	authv1.AuthServiceClient
	resp *authv1.ListRevokedSessionsResponse
}

func (l listOnly) ListRevokedSessions(context.Context, *authv1.ListRevokedSessionsRequest, ...grpc.CallOption) (*authv1.ListRevokedSessionsResponse, error) {
	return l.resp, nil
}

// TestEndingSessionsWithRedisDown: logout, logout-all and a password reset succeed while Redis
// is down, because the durable record is what ends a session; once Redis is back with the
// sessions it still holds, refresh refuses them ("session ended") and their access tokens stay
// revoked. Sign-in itself needs Redis: it answers Unavailable, not an internal error.
func TestEndingSessionsWithRedisDown(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	svc := newService(t, rdb, "test", nil)
	ctx := context.Background()
	_, loggedOut, err := svc.Register(ctx, "max@example.com", testPassword, "Max", clientIP)
	if err != nil {
		t.Fatal(err)
	}
	var all []Tokens
	for range 2 {
		_, tok, err := svc.Login(ctx, "max@example.com", testPassword, clientIP)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, tok)
	}
	token := resetToken(t, svc, "max@example.com")

	mr.Close()
	if err := svc.Logout(ctx, identity(t, svc, loggedOut)); err != nil {
		t.Fatalf("logout with Redis down: %v", err)
	}
	if !accessRevoked(t, svc, loggedOut) {
		t.Fatal("logout with Redis down did not revoke the access token")
	}
	if n, err := svc.LogoutAll(ctx, identity(t, svc, all[0])); err != nil || n != 0 {
		t.Fatalf("logout-all with Redis down = %d, %v; want 0 (uncounted), nil", n, err)
	}
	for _, tok := range all {
		if !accessRevoked(t, svc, tok) {
			t.Fatal("logout-all with Redis down left an access token valid")
		}
	}
	_, _, err = svc.Login(ctx, "max@example.com", testPassword, clientIP)
	wantErr(t, err, apperr.KindUnavailable)
	if err := svc.ResetPassword(ctx, token, "a new password 7"); err != nil {
		t.Fatalf("password reset with Redis down: %v", err)
	}

	if err := mr.Restart(); err != nil { // back, with every session it held
		t.Fatal(err)
	}
	for _, tok := range append(all, loggedOut) {
		wantSessionEnded(t, svc, tok)
	}
	_, fresh, err := svc.Login(ctx, "max@example.com", "a new password 7", clientIP)
	if err != nil {
		t.Fatal(err)
	}
	if accessRevoked(t, svc, fresh) {
		t.Fatal("a session started after the logout-all and the reset is revoked")
	}
	if _, err := svc.Refresh(ctx, fresh.Refresh); err != nil {
		t.Fatalf("refresh of the new session: %v", err)
	}
}

// TestRefreshWithRedisDownIsUnavailable: a live session cannot be renewed while Redis is down,
// and the answer says to retry (Unavailable), not that something broke or that it ended.
func TestRefreshWithRedisDownIsUnavailable(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	svc := newService(t, rdb, "test", nil)
	_, tok, err := svc.Register(context.Background(), "ned@example.com", testPassword, "Ned", clientIP)
	if err != nil {
		t.Fatal(err)
	}
	mr.Close()
	_, err = svc.Refresh(context.Background(), tok.Refresh)
	wantErr(t, err, apperr.KindUnavailable)
}

// TestResetEndsEverySessionDurably: a password reset ends the account's sessions on the
// durable list in the transaction that changes the password; later sessions are unaffected.
func TestResetEndsEverySessionDurably(t *testing.T) {
	eachRedis(t, func(t *testing.T, rdb *redis.Client, keys redisx.Keyspace) {
		svc := newService(t, rdb, keys, nil)
		ctx := context.Background()
		_, before, err := svc.Register(ctx, "ola@example.com", testPassword, "Ola", clientIP)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.ResetPassword(ctx, resetToken(t, svc, "ola@example.com"), "a new password 7"); err != nil {
			t.Fatal(err)
		}
		if !accessRevoked(t, svc, before) {
			t.Fatal("a reset left the access token valid")
		}
		wantSessionEnded(t, svc, before)
		list, err := svc.Store.Revoked(ctx, time.Now())
		if err != nil || len(list) != 2 || !slices.ContainsFunc(list, func(r store.Revocation) bool { return r.SessionID == "" }) ||
			!slices.ContainsFunc(list, func(r store.Revocation) bool { return r.SessionID == sessionOf(t, svc, before) }) {
			t.Fatalf("durable list after a reset = %+v, %v; want one entry for every session and one for the session", list, err)
		}
		_, after, err := svc.Login(ctx, "ola@example.com", "a new password 7", clientIP)
		if err != nil {
			t.Fatal(err)
		}
		if accessRevoked(t, svc, after) {
			t.Fatal("the session started after the reset is revoked")
		}
	})
}

// TestServicesCannotEndSessions: a delegated token's session ("svc:agents") is not a login; a
// logout with one is refused and ends nothing, so it cannot stop the service's work for anyone.
func TestServicesCannotEndSessions(t *testing.T) {
	rdb, keys := redistest.New(t)
	svc := newService(t, rdb, keys, nil)
	ctx := context.Background()
	u := register(t, svc, "pia@example.com")
	delegated := authn.Identity{UserID: u.ID, SessionID: authn.ServiceSessionPrefix + "agents", Actor: "agents"}
	wantErr(t, svc.Logout(ctx, delegated), apperr.KindPermissionDenied)
	_, err := svc.LogoutAll(ctx, delegated)
	wantErr(t, err, apperr.KindPermissionDenied)
	if list, err := svc.Store.Revoked(ctx, time.Now()); err != nil || len(list) != 0 {
		t.Fatalf("refused logouts recorded %+v, %v", list, err)
	}
}

// TestEndingAllSessionsDoesNotDependOnClocks: logout-all and a password reset handled by a
// replica whose clock is behind the one that started the session (so the session's id looks
// newer than the logout) still end it — for the verifiers, for a process loading the durable
// list, and for refresh — because each session Redis ended is recorded by its id.
func TestEndingAllSessionsDoesNotDependOnClocks(t *testing.T) {
	for _, how := range []string{"logout-all", "reset"} {
		t.Run(how, func(t *testing.T) {
			rdb, keys := redistest.New(t)
			svc := newService(t, rdb, keys, nil)
			ctx := context.Background()
			_, tok, err := svc.Register(ctx, "quin@example.com", testPassword, "Quin", clientIP)
			if err != nil {
				t.Fatal(err)
			}
			_, other, err := svc.Login(ctx, "quin@example.com", testPassword, clientIP)
			if err != nil {
				t.Fatal(err)
			}
			reset := resetToken(t, svc, "quin@example.com")
			// The replica handling the logout-all runs 200 ms behind the one that started
			// the sessions: they started "after" its now.
			svc.Now = func() time.Time { return time.Now().Add(-200 * time.Millisecond) }
			if how == "logout-all" {
				if n, err := svc.LogoutAll(ctx, identity(t, svc, other)); err != nil || n != 2 {
					t.Fatalf("logout-all = %d, %v; want 2", n, err)
				}
			} else if err := svc.ResetPassword(ctx, reset, "a new password 7"); err != nil {
				t.Fatal(err)
			}
			svc.Now = nil
			fresh := &authn.Revocations{Redis: rdb, Keys: keys, Source: svc.RevokedSessions}
			if err := fresh.Load(ctx); err != nil {
				t.Fatal(err)
			}
			for _, tk := range []Tokens{tok, other} {
				if !accessRevoked(t, svc, tk) {
					t.Fatal("a session started on a replica ahead outlived the " + how)
				}
				if ok, err := fresh.IsRevoked(identity(t, svc, tk).UserID, sessionOf(t, svc, tk)); !ok || err != nil {
					t.Fatalf("a process loading the list: IsRevoked = %v, %v", ok, err)
				}
				wantSessionEnded(t, svc, tk)
			}
		})
	}
}
