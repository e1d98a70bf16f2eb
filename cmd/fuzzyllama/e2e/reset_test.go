package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var resetLink = regexp.MustCompile(`/reset-password\?token=([A-Za-z0-9_-]+)`)

// outboxMail waits for the n-th mail in the embedded outbox and returns its text.
func outboxMail(t *testing.T, dataDir string, n int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dataDir, "outbox", "*.eml"))
		if len(files) >= n {
			b, err := os.ReadFile(files[n-1])
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no mail #%d in the outbox", n)
	return ""
}

func TestForgotAndResetPassword(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		env := m.env(t)
		s := start(t, env, map[string]string{"FRONTEND_URL": "https://app.example.com",
			"AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT": "2", "RATE_LIMIT_AUTH_PER_IP_PER_MINUTE": "100"})
		ses := s.register(t, "jane@example.com", goodPassword, "Jane")
		// Someone guesses until the account is locked; the reset below unlocks it.
		for range 2 {
			s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "jane@example.com", "password": "guess number 1"}).want(t, 401, "UNAUTHENTICATED")
		}
		s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "jane@example.com", "password": goodPassword}).want(t, 429, "RESOURCE_EXHAUSTED")

		// The answer is the same whether or not the account exists.
		known := s.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": "Jane@example.com"}).want(t, 200, "")
		unknown := s.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": "nobody@example.com"}).want(t, 200, "")
		if string(known.env.Data) != string(unknown.env.Data) {
			t.Fatalf("answers differ: %s vs %s", known.env.Data, unknown.env.Data)
		}
		s.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": "nope"}).want(t, 400, "INVALID_ARGUMENT")
		s.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": "jane\x00@example.com"}).want(t, 400, "INVALID_ARGUMENT")

		mail := outboxMail(t, env["DATA_DIR"], 1)
		if !strings.Contains(mail, "To: jane@example.com") || !strings.Contains(mail, "https://app.example.com/reset-password?token=") {
			t.Fatalf("mail: %s", mail)
		}
		token := resetLink.FindStringSubmatch(mail)[1]
		if strings.Contains(s.logs.String(), token) {
			t.Fatal("the reset token appears in the logs")
		}
		time.Sleep(100 * time.Millisecond) // the unknown address must not produce a second mail
		if files, _ := filepath.Glob(filepath.Join(env["DATA_DIR"], "outbox", "*.eml")); len(files) != 1 {
			t.Fatalf("%d mails, want 1", len(files))
		}

		// A weak new password is refused and does not use up the token.
		r := s.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": token, "newPassword": "weak"}).want(t, 400, "INVALID_ARGUMENT")
		if len(r.fields()["newPassword"]) == 0 {
			t.Fatalf("newPassword not named: %s", r.raw)
		}
		// So is one containing the account's email, known once the token is.
		r = s.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": token, "newPassword": "jane password 77"}).want(t, 400, "INVALID_ARGUMENT")
		if got := r.fields()["newPassword"]; len(got) != 1 || !strings.Contains(got[0], "email") {
			t.Fatalf("email rule not applied: %s", r.raw)
		}
		s.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": "made-up", "newPassword": "brand new pass 7"}).want(t, 400, "INVALID_ARGUMENT")
		s.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": token, "newPassword": "brand new pass 7"}).want(t, http.StatusOK, "")

		// Single use; every session ended; only the new password works.
		r = s.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": token, "newPassword": "another pass 8"}).want(t, 400, "INVALID_ARGUMENT")
		if len(r.fields()["token"]) == 0 {
			t.Fatalf("token not named: %s", r.raw)
		}
		s.do("GET", "/api/v1/auth/me", ses.AccessToken, nil).want(t, 401, "UNAUTHENTICATED")
		s.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": ses.RefreshToken}).want(t, 401, "UNAUTHENTICATED")
		s.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "jane@example.com", "password": goodPassword}).want(t, 401, "UNAUTHENTICATED")
		s.login(t, "jane@example.com", "brand new pass 7") // unlocked by the reset
	})
}

// Without FRONTEND_URL the reset link points at the gateway itself, which serves the console:
// http://localhost:<port>, the port the listener got (HTTP_ADDR is 127.0.0.1:0 here).
func TestResetLinkDefaultsToTheGateway(t *testing.T) {
	env := modes[0].env(t) // the embedded default
	s := start(t, env, nil)
	s.register(t, "lee@example.com", goodPassword, "Lee")
	s.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": "lee@example.com"}).want(t, 200, "")
	_, port, _ := strings.Cut(strings.TrimPrefix(s.base, "http://"), ":")
	mail := outboxMail(t, env["DATA_DIR"], 1)
	if want := "http://localhost:" + port + "/reset-password?token="; !strings.Contains(mail, want) {
		t.Fatalf("the link does not point at the gateway (%s): %s", want, mail)
	}
	// The link opens the console's reset page.
	token := resetLink.FindStringSubmatch(mail)[1]
	if r := s.do("GET", "/reset-password?token="+token, "", nil); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("the reset link does not open the console: %d %v", r.status, r.header)
	}
}
