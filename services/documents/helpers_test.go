package documents_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/database/dbtest"
	"github.com/fuzzyllama/fuzzyllama/services/documents"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/sqlite"
)

// projectsDouble stands in for the projects service (the Projects port): who may do what, the
// workflow's required deliverables, and what was recorded. The real service behind the real
// port is exercised by the end-to-end tests (cmd/fuzzyllama/e2e) on both databases.
type projectsDouble struct {
	mu sync.Mutex
	// roles: project id -> user id -> "owner", "editor" or "viewer".
	roles map[string]map[string]string
	// frozen gates (under review) refuse RecordDeliverable, approved ones answer "not recorded",
	// failing ones fail.
	frozen, approved, failing map[int]bool
	recorded                  []documents.Deliverable
}

func newProjects() *projectsDouble {
	return &projectsDouble{roles: map[string]map[string]string{
		"p1": {"ann": "owner", "ed": "editor", "vic": "viewer"},
		"p2": {"bob": "owner"},
	}, frozen: map[int]bool{}, approved: map[int]bool{}, failing: map[int]bool{}}
}

func (p *projectsDouble) Authorize(ctx context.Context, projectID string, write bool) (documents.Project, error) {
	who, _ := authn.FromContext(ctx)
	p.mu.Lock()
	role, ok := p.roles[projectID][who.UserID]
	p.mu.Unlock()
	switch {
	case !ok:
		return documents.Project{}, apperr.NotFound("project %s not found", projectID)
	case write && role == "viewer":
		return documents.Project{}, apperr.PermissionDenied("your role in this project (viewer) cannot change it")
	}
	return documents.Project{ID: projectID, Name: "Todo App " + strings.ToUpper(projectID), Type: "traditional", Role: role}, nil
}

func (p *projectsDouble) RequiredDeliverables(context.Context, string) (map[int][]string, error) {
	return map[int][]string{1: {"intake"}, 2: {"requirements", "user_story"}, 3: {"architecture", "api_spec", "database_schema"}}, nil
}

func (p *projectsDouble) RecordDeliverable(_ context.Context, d documents.Deliverable) (bool, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.failing[d.Gate]:
		return false, "", apperr.Unavailable("projects service unreachable")
	case p.frozen[d.Gate]:
		return false, "", apperr.FailedPrecondition("gate G3 is IN_REVIEW: what is under review cannot change").WithReason(documents.ReasonGateUnderReview)
	case p.approved[d.Gate]:
		return false, "gate G3 is approved: what was approved cannot change", nil
	}
	p.recorded = append(p.recorded, d)
	return true, "", nil
}

func (p *projectsDouble) deliverables() []documents.Deliverable {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]documents.Deliverable(nil), p.recorded...)
}

// stores are the two databases the service tests run on: SQLite serialises transactions,
// PostgreSQL runs them concurrently, so races only show on the latter.
var stores = map[string]func(t testing.TB) (store.Store, error){
	"sqlite": func(t testing.TB) (store.Store, error) {
		return sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "documents.db"))
	},
	"postgres": func(t testing.TB) (store.Store, error) {
		return postgres.Open(context.Background(), dbtest.NewPostgres(t))
	},
}

// fixture is a service on a fresh store with its projects double.
type fixture struct {
	svc      *documents.Service
	projects *projectsDouble
}

func newFixture(t testing.TB, open func(t testing.TB) (store.Store, error)) fixture {
	t.Helper()
	st, err := open(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	p := newProjects()
	return fixture{svc: &documents.Service{Store: st, Projects: p, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, projects: p}
}

// eachStore runs f once per database, in parallel.
func eachStore(t *testing.T, f func(t *testing.T, fx fixture)) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, newFixture(t, open))
		})
	}
}

// as returns a context carrying the user's identity, as the authorization interceptor does.
func as(user string) context.Context {
	return authn.NewContext(context.Background(), authn.Identity{UserID: user})
}

func identity(user string) authn.Identity { return authn.Identity{UserID: user} }

// delegated is the agents service acting for user, as agent attributions require.
func delegated(user string) authn.Identity { return authn.Identity{UserID: user, Actor: "agents"} }

func wantKind(t *testing.T, what string, err error, kind apperr.Kind) *apperr.Error {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != kind {
		t.Fatalf("%s: err = %v, want kind %d", what, err, kind)
	}
	return e
}

// fields lists the fields of a validation error.
func fields(err error) map[string]bool {
	out := map[string]bool{}
	if e, ok := apperr.As(err); ok {
		for _, f := range e.Fields {
			out[f.Field] = true
		}
	}
	return out
}

// create stores one document as user in project p1 and returns it.
func (fx fixture) create(t testing.TB, user string, d documents.NewDocument) documents.Saved {
	t.Helper()
	b, err := fx.svc.CreateDocuments(as(user), identity(user), "p1", []documents.NewDocument{d}, documents.Agent{}, false, "")
	if err != nil {
		t.Fatalf("create %q: %v", d.Title, err)
	}
	return b.Documents[0]
}
