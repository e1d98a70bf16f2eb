package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAuthorizationMatrix tries every projects REST call as owner, editor, viewer and stranger,
// each on a fresh project prepared so that the call can succeed: an allowed role succeeds, a
// member without the right gets 403, a stranger gets 404 (project ids cannot be probed).
func TestAuthorizationMatrix(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		s, users, fixture := startMatrix(t, m)
		owner := users["owner"].AccessToken
		var wf workflowView
		s.do("GET", "/api/v1/workflows/PROJECT_TYPE_TRADITIONAL", owner, nil).want(t, 200, "").data(t, &wf)
		gate := func(pid, action string) {
			body := map[string]string{}
			if action == "block" {
				body["reason"] = "waiting for input"
			}
			s.do("POST", "/api/v1/projects/"+pid+"/gates/1:"+action, owner, body).want(t, 200, "")
		}
		calls := []call{
			{"get project", "GET", "/api/v1/projects/%s", nil, 1, nil},
			{"update project", "PATCH", "/api/v1/projects/%s", map[string]string{"name": "x"}, 2, nil},
			{"archive project", "POST", "/api/v1/projects/%s:archive", map[string]string{}, 3, nil},
			{"delete project", "DELETE", "/api/v1/projects/%s", nil, 3, nil},
			{"add member", "POST", "/api/v1/projects/%s/members", map[string]string{"email": "newcomer@example.com", "role": "ROLE_VIEWER"}, 3, nil},
			{"update member", "PATCH", "/api/v1/projects/%s/members/" + users["viewer"].User.ID, map[string]string{"role": "ROLE_EDITOR"}, 3, nil},
			{"remove member", "DELETE", "/api/v1/projects/%s/members/" + users["viewer"].User.ID, nil, 3, nil},
			{"list members", "GET", "/api/v1/projects/%s/members", nil, 1, nil},
			{"list gates", "GET", "/api/v1/projects/%s/gates", nil, 1, nil},
			{"get gate", "GET", "/api/v1/projects/%s/gates/1", nil, 1, nil},
			{"start gate", "POST", "/api/v1/projects/%s/gates/1:start", map[string]string{}, 2, nil},
			{"submit gate", "POST", "/api/v1/projects/%s/gates/1:submit", map[string]string{}, 2, func(pid string) string {
				gate(pid, "start")
				s.saveDeliverable(t, owner, pid, 1, "DOCUMENT_TYPE_INTAKE")
				return ""
			}},
			{"approve gate", "POST", "/api/v1/projects/%s/gates/1:approve", map[string]string{}, 3, func(pid string) string { s.completeGate(t, owner, pid, wf, 1); return "" }},
			{"request changes", "POST", "/api/v1/projects/%s/gates/1:request-changes", map[string]string{"notes": "more"}, 3, func(pid string) string {
				gate(pid, "start")
				s.saveDeliverable(t, owner, pid, 1, "DOCUMENT_TYPE_INTAKE")
				gate(pid, "submit")
				return ""
			}},
			{"block gate", "POST", "/api/v1/projects/%s/gates/1:block", map[string]string{"reason": "waiting"}, 2, nil},
			{"unblock gate", "POST", "/api/v1/projects/%s/gates/1:unblock", map[string]string{}, 3, func(pid string) string { gate(pid, "block"); return "" }},
			{"record proof", "POST", "/api/v1/projects/%s/gates/1/proofs", map[string]any{"type": "PROOF_TYPE_LINT", "result": "PROOF_RESULT_PASS", "summary": "ok"}, 2, nil},
			{"status", "GET", "/api/v1/projects/%s/status", nil, 1, nil},
			{"create tasks", "POST", "/api/v1/projects/%s/tasks:batchCreate", map[string]any{"tasks": []map[string]any{{"key": "a", "gate": 1, "title": "Write intake"}}}, 2, nil},
			{"list tasks", "GET", "/api/v1/projects/%s/tasks", nil, 1, nil},
			{"update task", "PATCH", "/api/v1/projects/%s/tasks/%s", map[string]string{"status": "TASK_STATUS_DONE"}, 2, func(pid string) string {
				var out struct{ Tasks []struct{ ID string } }
				s.do("POST", "/api/v1/projects/"+pid+"/tasks:batchCreate", owner, map[string]any{"tasks": []map[string]any{{"key": "a", "gate": 1, "title": "t"}}}).
					want(t, http.StatusCreated, "").data(t, &out)
				return out.Tasks[0].ID
			}},
			{"list events", "GET", "/api/v1/projects/%s/events", nil, 1, nil},
		}
		checkMatrix(t, s, users, fixture, calls)
		// Deliverables are recorded by the documents service when a document is saved, never
		// claimed by a person: the route answers 403 to everyone, the owner included.
		pid := fixture()
		gate(pid, "start")
		for _, u := range []string{"owner", "editor", "viewer", "stranger"} {
			s.do("POST", "/api/v1/projects/"+pid+"/gates/1/deliverables", users[u].AccessToken, map[string]any{"documentType": "DOCUMENT_TYPE_INTAKE",
				"documentId": "d", "version": 1, "contentHash": "sha256:" + strings.Repeat("0", 64), "complete": true}).want(t, 403, "PERMISSION_DENIED")
		}
		var g1 struct{ Gate gateView }
		s.do("GET", "/api/v1/projects/"+pid+"/gates/1", owner, nil).want(t, 200, "").data(t, &g1)
		if d := g1.Gate.Deliverables; len(d) != 1 || d[0].Complete || d[0].Version != 0 {
			t.Fatalf("G1's deliverables after the refusals: %+v", d)
		}
		// A stranger's project list never shows others' projects.
		var list struct{ Projects []project }
		s.do("GET", "/api/v1/projects", users["stranger"].AccessToken, nil).want(t, 200, "").data(t, &list)
		if len(list.Projects) != 0 {
			t.Fatalf("stranger sees %d projects", len(list.Projects))
		}
	})
}

// startMatrix starts the product for an authorization matrix, with users owner, editor,
// viewer, stranger and newcomer, and a fixture that makes a project owned by owner with editor
// and viewer as members.
func startMatrix(t *testing.T, m mode) (*server, map[string]session, func() string) {
	t.Helper()
	s := start(t, m.env(t), map[string]string{"RATE_LIMIT_PER_USER_PER_MINUTE": "100000", "RATE_LIMIT_PER_IP_PER_MINUTE": "100000"})
	users := map[string]session{}
	for _, u := range []string{"owner", "editor", "viewer", "stranger", "newcomer"} {
		users[u] = s.register(t, u+"@example.com", goodPassword, u)
	}
	fixture := func() string {
		p := s.createProject(t, users["owner"].AccessToken, "Matrix", "PROJECT_TYPE_TRADITIONAL")
		for _, r := range []string{"editor", "viewer"} {
			s.do("POST", "/api/v1/projects/"+p.ID+"/members", users["owner"].AccessToken,
				map[string]string{"email": r + "@example.com", "role": "ROLE_" + strings.ToUpper(r)}).want(t, http.StatusCreated, "")
		}
		return p.ID
	}
	return s, users, fixture
}

// call is one REST call of an authorization matrix.
type call struct {
	name, method, path string // path has %s for the project id (and one more for prepare's result)
	body               any
	minRole            int // 1 viewer, 2 editor, 3 owner
	prepare            func(pid string) (extra string)
}

// checkMatrix makes each call as owner, editor, viewer and stranger, each on a fresh project
// from fixture: an allowed role succeeds, a member without the right gets 403, a stranger 404.
func checkMatrix(t *testing.T, s *server, users map[string]session, fixture func() string, calls []call) {
	t.Helper()
	roles := []struct {
		name string
		rank int
	}{{"owner", 3}, {"editor", 2}, {"viewer", 1}, {"stranger", 0}}
	for _, c := range calls {
		for _, r := range roles {
			pid := fixture()
			extra := ""
			if c.prepare != nil {
				extra = c.prepare(pid)
			}
			path := fmt.Sprintf(c.path, pid)
			if extra != "" {
				path = fmt.Sprintf(c.path, pid, extra)
			}
			got := s.do(c.method, path, users[r.name].AccessToken, c.body)
			switch {
			case r.rank == 0 && got.status != 404:
				t.Errorf("%s as stranger: %d, want 404: %s", c.name, got.status, got.raw)
			case r.rank > 0 && r.rank < c.minRole && got.status != 403:
				t.Errorf("%s as %s: %d, want 403: %s", c.name, r.name, got.status, got.raw)
			case r.rank >= c.minRole && got.status >= 300:
				t.Errorf("%s as %s: %d, want success: %s", c.name, r.name, got.status, got.raw)
			}
		}
	}
}
