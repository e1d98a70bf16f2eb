package documents_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/services/documents"
)

// issuer stands in for the auth service's IssueServiceToken.
type issuer struct {
	authv1.AuthServiceClient
	mu       sync.Mutex
	requests []*authv1.IssueServiceTokenRequest
}

func (a *issuer) IssueServiceToken(_ context.Context, req *authv1.IssueServiceTokenRequest, _ ...grpc.CallOption) (*authv1.IssueServiceTokenResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, req)
	return &authv1.IssueServiceTokenResponse{AccessToken: "delegated-to-" + req.GetService() + "-for-" + req.GetUserId(),
		ExpireTime: timestamppb.New(time.Now().Add(5 * time.Minute))}, nil
}

// recorder stands in for the projects service's RecordDeliverable: it keeps who called.
type recorder struct {
	projectsv1.ProjectsServiceClient
	callers []authn.Identity
	err     error
}

func (r *recorder) RecordDeliverable(ctx context.Context, _ *projectsv1.RecordDeliverableRequest, _ ...grpc.CallOption) (*projectsv1.RecordDeliverableResponse, error) {
	who, _ := authn.FromContext(ctx)
	r.callers = append(r.callers, who)
	return &projectsv1.RecordDeliverableResponse{}, r.err
}

// TestDeliverablesAreRecordedAsTheDocumentsService: the documents service records a saved
// version with a delegated token of its own for the member who saved it (whether they called in
// person or through the agents), never with the caller's token, which the projects service
// refuses for deliverables.
func TestDeliverablesAreRecordedAsTheDocumentsService(t *testing.T) {
	auth, projects := &issuer{}, &recorder{}
	c := &documents.ProjectsClient{Client: projects,
		Tokens: &authn.ServiceTokens{Client: auth, Service: "documents", Credential: "a shared service credential of 32+ chars"}}
	d := documents.Deliverable{ProjectID: "p1", Gate: 1, DocumentType: "intake", DocumentID: "d1", Version: 1, ContentHash: "sha256:00"}
	for _, caller := range []authn.Identity{
		{UserID: "ann", SessionID: "s1", Token: "ann's own token"},
		{UserID: "ann", SessionID: "svc:agents", Actor: "agents", Token: "the agents' token for ann"},
	} {
		recorded, _, err := c.RecordDeliverable(authn.NewContext(context.Background(), caller), d)
		if err != nil || !recorded {
			t.Fatalf("as %+v: recorded %v, %v", caller, recorded, err)
		}
		got := projects.callers[len(projects.callers)-1]
		want := authn.Identity{UserID: "ann", SessionID: "svc:documents", Actor: "documents", Token: "delegated-to-documents-for-ann"}
		if got != want {
			t.Errorf("for %+v the projects service was called as %+v, want %+v", caller, got, want)
		}
	}
	if len(auth.requests) != 1 || auth.requests[0].GetService() != "documents" || auth.requests[0].GetUserId() != "ann" {
		t.Errorf("tokens asked for: %v (one, cached)", auth.requests)
	}
	// A gate that does not take deliverables now is an answer; without a caller, nothing is sent.
	projects.err = status.Error(codes.FailedPrecondition, "gate G1 is IN_REVIEW")
	if recorded, reason, err := c.RecordDeliverable(authn.NewContext(context.Background(), authn.Identity{UserID: "ann"}), d); err != nil || recorded || reason != "gate G1 is IN_REVIEW" {
		t.Errorf("frozen gate: %v %q %v", recorded, reason, err)
	}
	// A gate under review refuses: the save must not go through.
	underReview, _ := apperr.ToStatus(apperr.FailedPrecondition("gate G1 is IN_REVIEW").WithReason(documents.ReasonGateUnderReview))
	projects.err = underReview.Err()
	if recorded, _, err := c.RecordDeliverable(authn.NewContext(context.Background(), authn.Identity{UserID: "ann"}), d); recorded ||
		!apperr.IsKind(err, apperr.KindFailedPrecondition) {
		t.Errorf("gate under review: %v %v", recorded, err)
	}
	if _, _, err := c.RecordDeliverable(context.Background(), d); err == nil {
		t.Error("recorded for no caller")
	}
}
