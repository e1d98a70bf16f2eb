package documents

import (
	"context"
	"errors"
	"path/filepath"
	"sync"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/config"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/protoenum"
	"github.com/fuzzyllama/fuzzyllama/services/documents/gitexport"
	"github.com/fuzzyllama/fuzzyllama/services/documents/github"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store/sqlite"
)

// OpenStore opens PostgreSQL when databaseURL is set, otherwise SQLite at dataDir/documents.db.
func OpenStore(ctx context.Context, databaseURL, dataDir string) (store.Store, error) {
	if databaseURL != "" {
		return postgres.Open(ctx, databaseURL)
	}
	return sqlite.Open(ctx, filepath.Join(dataDir, "documents.db"))
}

// RegisterGRPC registers the DocumentsService on s.
func RegisterGRPC(s grpc.ServiceRegistrar, svc *Service) {
	pb.RegisterDocumentsServiceServer(s, &Handler{Service: svc})
}

// ProjectsClient is the Projects port over the projects service's gRPC API, as the caller (the
// client connection forwards the caller's token), except RecordDeliverable (below).
type ProjectsClient struct {
	Client projectsv1.ProjectsServiceClient
	// Tokens gives the documents service delegated tokens for the users whose saves it records
	// as deliverables: the projects service takes deliverables from it alone.
	Tokens *authn.ServiceTokens

	workflows sync.Map // project type -> map[int][]string: the workflow is fixed, read once
}

// Authorize implements Projects.
func (c *ProjectsClient) Authorize(ctx context.Context, projectID string, write bool) (Project, error) {
	action := projectsv1.Action_ACTION_READ
	if write {
		action = projectsv1.Action_ACTION_WRITE
	}
	resp, err := c.Client.Authorize(ctx, &projectsv1.AuthorizeRequest{ProjectId: projectID, Action: action})
	if err != nil {
		return Project{}, err // the projects service's own status: NOT_FOUND, PERMISSION_DENIED, ...
	}
	return Project{ID: projectID, Name: resp.GetProjectName(),
		Type: protoenum.Word(resp.GetProjectType(), commonv1.ProjectType_name, "PROJECT_TYPE_"),
		Role: protoenum.Word(resp.GetRole(), projectsv1.Role_name, "ROLE_")}, nil
}

// RequiredDeliverables implements Projects.
func (c *ProjectsClient) RequiredDeliverables(ctx context.Context, projectType string) (map[int][]string, error) {
	if m, ok := c.workflows.Load(projectType); ok {
		return m.(map[int][]string), nil
	}
	resp, err := c.Client.GetWorkflow(ctx, &projectsv1.GetWorkflowRequest{
		ProjectType: protoenum.Value[commonv1.ProjectType](projectType, commonv1.ProjectType_value, "PROJECT_TYPE_")})
	if err != nil {
		return nil, err
	}
	m := map[int][]string{}
	for _, g := range resp.GetGates() {
		for _, d := range g.GetDeliverables() {
			m[int(g.GetNumber())] = append(m[int(g.GetNumber())], docType(d))
		}
	}
	c.workflows.Store(projectType, m)
	return m, nil
}

// RecordDeliverable implements Projects, as the documents service acting for the caller (a
// delegated token): the version was just saved here, so the record is a fact, and the projects
// service takes it from no one else; the caller's membership still applies. A gate that does not
// exist yet (NOT_FOUND) or does not take deliverables now (FAILED_PRECONDITION: in review,
// approved) is an answer, not a failure.
func (c *ProjectsClient) RecordDeliverable(ctx context.Context, d Deliverable) (bool, string, error) {
	who, ok := authn.FromContext(ctx)
	if !ok || who.UserID == "" {
		return false, "", errors.New("documents: record deliverable: no caller to act for")
	}
	ctx, err := c.Tokens.For(ctx, who.UserID)
	if err != nil {
		return false, "", err
	}
	_, err = c.Client.RecordDeliverable(ctx, &projectsv1.RecordDeliverableRequest{ProjectId: d.ProjectID, Gate: int32(d.Gate),
		DocumentType: docTypePB(d.DocumentType), DocumentId: d.DocumentID, Version: int32(d.Version), ContentHash: d.ContentHash,
		Complete: true})
	switch st := status.Convert(err); {
	case st.Code() == codes.OK:
		return true, "", nil
	case st.Code() == codes.FailedPrecondition && reasonOf(st) == ReasonGateUnderReview:
		// What is under review cannot change: the save is refused, not just left unrecorded.
		return false, "", apperr.FailedPrecondition("%s", st.Message()).WithReason(ReasonGateUnderReview)
	case st.Code() == codes.NotFound || st.Code() == codes.FailedPrecondition:
		return false, st.Message(), nil
	}
	return false, "", err
}

// ReasonGateUnderReview is the projects service's reason for a gate whose record is frozen for
// review (projects.ReasonUnderReview).
const ReasonGateUnderReview = "GATE_UNDER_REVIEW"

// reasonOf is the reason a status's ErrorInfo gives, if any.
func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// Config is the documents service's configuration, read from the environment.
type Config struct {
	GitHubAPIURL        string
	AllowHTTPRemotes    bool
	AllowPrivateRemotes bool
}

// Register declares the documents service's variables.
func (c *Config) Register(s *config.Set) {
	s.StringVar(&c.GitHubAPIURL, "GITHUB_API_URL", "https://api.github.com", "GitHub's REST API, where git exports create repositories (GitHub Enterprise: https://host/api/v3)")
	s.BoolVar(&c.AllowHTTPRemotes, "EXPORT_ALLOW_HTTP_REMOTES", false, "let git exports push to plain http:// remotes (a local forge); otherwise https only")
	s.BoolVar(&c.AllowPrivateRemotes, "EXPORT_ALLOW_PRIVATE_REMOTES", false, "let git exports reach loopback and private network addresses, which are refused otherwise: remote URLs come from users")
	s.Check(func() error { return config.CheckURL("GITHUB_API_URL", c.GitHubAPIURL, "https", "http") })
}

// Export is the export configuration c describes.
func (c *Config) Export() ExportConfig {
	return ExportConfig{
		Policy:    gitexport.Policy{AllowHTTP: c.AllowHTTPRemotes, AllowPrivateNetworks: c.AllowPrivateRemotes},
		GitHub:    &github.Client{BaseURL: c.GitHubAPIURL},
		Committer: gitexport.Signature{Name: "FuzzyLlama", Email: "export@fuzzyllama.invalid"},
	}
}

// PublicSaved encodes a save as the JSON of the SavedDocument message (protojson): what the
// project's live clients receive.
func PublicSaved(sv Saved) ([]byte, error) {
	return edge.JSON.Marshal(&pb.SavedDocument{Document: documentPB(sv.Document), Outcome: outcomePB(sv.Outcome)})
}
