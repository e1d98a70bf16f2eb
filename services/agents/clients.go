package agents

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/protoenum"
	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// ProjectsClient is the Projects port over the projects service's gRPC API, as the identity in
// the context (the client connection forwards its token).
type ProjectsClient struct {
	Client projectsv1.ProjectsServiceClient

	workflows sync.Map // project type -> []WorkflowGate: the workflow is fixed, read once
}

func gateStateWord(v projectsv1.GateState) string {
	return protoenum.Word(v, projectsv1.GateState_name, "GATE_STATE_")
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
	return Project{ID: projectID, Name: resp.GetProjectName(), Type: projectTypeWord(resp.GetProjectType()),
		Role: protoenum.Word(resp.GetRole(), projectsv1.Role_name, "ROLE_")}, nil
}

// Project implements Projects.
func (c *ProjectsClient) Project(ctx context.Context, projectID string) (Project, error) {
	resp, err := c.Client.GetProject(ctx, &projectsv1.GetProjectRequest{ProjectId: projectID})
	if err != nil {
		return Project{}, err
	}
	p := resp.GetProject()
	return Project{ID: p.GetId(), Name: p.GetName(), Description: p.GetDescription(), Type: projectTypeWord(p.GetType()),
		Role: protoenum.Word(p.GetRole(), projectsv1.Role_name, "ROLE_"), CurrentGate: int(p.GetCurrentGate()),
		Completed: p.GetStatus() == projectsv1.ProjectStatus_PROJECT_STATUS_COMPLETED}, nil
}

// SetDescription implements Projects.
func (c *ProjectsClient) SetDescription(ctx context.Context, projectID, description string) error {
	_, err := c.Client.UpdateProject(ctx, &projectsv1.UpdateProjectRequest{ProjectId: projectID, Description: &description})
	return err
}

// Workflow implements Projects.
func (c *ProjectsClient) Workflow(ctx context.Context, projectType string) ([]WorkflowGate, error) {
	if wf, ok := c.workflows.Load(projectType); ok {
		return wf.([]WorkflowGate), nil
	}
	resp, err := c.Client.GetWorkflow(ctx, &projectsv1.GetWorkflowRequest{ProjectType: projectTypePB(projectType)})
	if err != nil {
		return nil, err
	}
	var wf []WorkflowGate
	for _, g := range resp.GetGates() {
		wf = append(wf, WorkflowGate{Number: int(g.GetNumber()), Name: g.GetName(), Roles: mapSlice(g.GetRoles(), roleWord),
			Deliverables: mapSlice(g.GetDeliverables(), docTypeWord),
			Proofs: mapSlice(g.GetProofs(), func(p commonv1.ProofType) string {
				return proofWord(p)
			})})
	}
	c.workflows.Store(projectType, wf)
	return wf, nil
}

// Gates implements Projects.
func (c *ProjectsClient) Gates(ctx context.Context, projectID string) ([]Gate, error) {
	resp, err := c.Client.ListGates(ctx, &projectsv1.ListGatesRequest{ProjectId: projectID})
	if err != nil {
		return nil, err
	}
	var out []Gate
	for _, g := range resp.GetGates() {
		gate := Gate{Number: int(g.GetNumber()), State: gateStateWord(g.GetState()), Revision: int(g.GetRevision())}
		for _, d := range g.GetMissingDeliverables() {
			gate.MissingDeliverables = append(gate.MissingDeliverables, docTypeWord(d))
		}
		for _, p := range g.GetMissingProofs() {
			gate.MissingProofs = append(gate.MissingProofs, proofWord(p))
		}
		for _, r := range g.GetReviews() {
			if r.GetDecision() == projectsv1.GateState_GATE_STATE_CHANGES_REQUESTED {
				gate.ChangeNotes = r.GetNotes() // reviews come oldest first: the last one wins
			}
		}
		out = append(out, gate)
	}
	return out, nil
}

// StartGate implements Projects.
func (c *ProjectsClient) StartGate(ctx context.Context, projectID string, gate int) error {
	_, err := c.Client.StartGate(ctx, &projectsv1.StartGateRequest{ProjectId: projectID, Gate: int32(gate)})
	return err
}

// SubmitGate implements Projects.
func (c *ProjectsClient) SubmitGate(ctx context.Context, projectID string, gate int) error {
	_, err := c.Client.SubmitGate(ctx, &projectsv1.SubmitGateRequest{ProjectId: projectID, Gate: int32(gate)})
	return err
}

// BlockGate implements Projects.
func (c *ProjectsClient) BlockGate(ctx context.Context, projectID string, gate int, reason string) error {
	_, err := c.Client.BlockGate(ctx, &projectsv1.BlockGateRequest{ProjectId: projectID, Gate: int32(gate), Reason: reason})
	return err
}

// RecordProof implements Projects.
func (c *ProjectsClient) RecordProof(ctx context.Context, projectID string, gate int, proofType string, pass bool, summary string) error {
	return c.RecordRunProof(ctx, projectID, gate, RunProof{Type: proofType, Pass: pass, Summary: summary})
}

// CreateTasks implements Projects.
func (c *ProjectsClient) CreateTasks(ctx context.Context, projectID string, tasks []NewTask, idempotencyKey string) (int, error) {
	req := &projectsv1.CreateTasksRequest{ProjectId: projectID, IdempotencyKey: idempotencyKey}
	for _, t := range tasks {
		req.Tasks = append(req.Tasks, &projectsv1.NewTask{Key: t.Key, Gate: int32(t.Gate), Title: t.Title, Description: t.Description,
			OwnerRole: rolePB(t.OwnerRole), Priority: protoenum.Value[projectsv1.TaskPriority](t.Priority, projectsv1.TaskPriority_value, "TASK_PRIORITY_"),
			DependsOn: t.DependsOn})
	}
	resp, err := c.Client.CreateTasks(ctx, req)
	return len(resp.GetTasks()), err
}

// OpenTasks implements Projects.
func (c *ProjectsClient) OpenTasks(ctx context.Context, projectID string, limit int) ([]string, error) {
	resp, err := c.Client.ListTasks(ctx, &projectsv1.ListTasksRequest{ProjectId: projectID, PageSize: 500})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range resp.GetTasks() {
		if t.GetStatus() != projectsv1.TaskStatus_TASK_STATUS_DONE && len(out) < limit {
			out = append(out, openTask(t))
		}
	}
	return out, nil
}

// TaskIDs implements Projects.
func (c *ProjectsClient) TaskIDs(ctx context.Context, projectID string) (map[string]string, error) {
	ids := map[string]string{}
	token := ""
	for {
		resp, err := c.Client.ListTasks(ctx, &projectsv1.ListTasksRequest{ProjectId: projectID, PageSize: 500, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, t := range resp.GetTasks() {
			if _, seen := ids[t.GetKey()]; t.GetKey() != "" && !seen {
				ids[t.GetKey()] = t.GetId()
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return ids, nil
		}
	}
}

// openTask is how a prompt lists an open task: enough for a model to name it in doneTasks.
func openTask(t *projectsv1.Task) string {
	owner := cmp.Or(roleWord(t.GetOwnerRole()), "unassigned")
	status := protoenum.Word(t.GetStatus(), projectsv1.TaskStatus_name, "TASK_STATUS_")
	if t.GetKey() == "" {
		return fmt.Sprintf("%s (G%d, %s, %s)", t.GetTitle(), t.GetGate(), owner, status)
	}
	return fmt.Sprintf("%s (key %q, G%d, %s, %s)", t.GetTitle(), t.GetKey(), t.GetGate(), owner, status)
}

// AdvanceTasks implements Projects.
func (c *ProjectsClient) AdvanceTasks(ctx context.Context, projectID string, gate int, role, status string, keys []string) (int, error) {
	resp, err := c.Client.AdvanceTasks(ctx, &projectsv1.AdvanceTasksRequest{ProjectId: projectID, Gate: int32(gate), Role: rolePB(role),
		Status: protoenum.Value[projectsv1.TaskStatus](status, projectsv1.TaskStatus_value, "TASK_STATUS_"), TaskKeys: keys})
	return len(resp.GetTasks()), err
}

// DocumentsClient is the Documents port over the documents service's gRPC API.
type DocumentsClient struct {
	Client documentsv1.DocumentsServiceClient
}

// maxListPages bounds how many pages of 200 documents a listing reads: 1000 documents, twice
// the files a source tree may hold.
const maxListPages = 5

// list calls visit with each of the project's documents (of the type, when set), page by page.
func (c *DocumentsClient) list(ctx context.Context, projectID string, typ commonv1.DocumentType, visit func(*documentsv1.Document)) error {
	token := ""
	for range maxListPages {
		resp, err := c.Client.ListDocuments(ctx, &documentsv1.ListDocumentsRequest{ProjectId: projectID, Type: typ,
			PageSize: 200, PageToken: token})
		if err != nil {
			return err
		}
		for _, d := range resp.GetDocuments() {
			visit(d)
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	return nil
}

// isSourceFile reports whether a document is a file of the project's source tree.
func isSourceFile(typ commonv1.DocumentType, title string) bool {
	return typ == commonv1.DocumentType_DOCUMENT_TYPE_CODE && sourcetree.IsPath(title)
}

// Latest implements Documents.
func (c *DocumentsClient) Latest(ctx context.Context, projectID string, perDoc, total int) ([]provider.ContextDocument, error) {
	var docs []*documentsv1.Document
	err := c.list(ctx, projectID, commonv1.DocumentType_DOCUMENT_TYPE_UNSPECIFIED, func(d *documentsv1.Document) {
		if !isSourceFile(d.GetType(), d.GetTitle()) {
			docs = append(docs, d)
		}
	})
	if err != nil {
		return nil, err
	}
	var out []provider.ContextDocument
	for _, d := range docs {
		if total <= 0 {
			break
		}
		got, err := c.Client.GetDocument(ctx, &documentsv1.GetDocumentRequest{ProjectId: projectID, DocumentId: d.GetId()})
		if err != nil {
			return nil, err
		}
		content := cut(got.GetContent(), min(perDoc, total))
		total -= len(content)
		out = append(out, provider.ContextDocument{Type: docTypeWord(d.GetType()), Title: d.GetTitle(), Version: int(d.GetVersion()), Content: content})
	}
	return out, nil
}

// cut shortens s to at most n bytes on a character boundary, saying so.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const note = "\n[… cut: the rest is not shown]"
	n = max(n-len(note), 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimRight(s[:n], "\n") + note
}

// Bounds of one CreateDocuments call: the documents service's (documents.MaxBatchDocuments,
// MaxBatchContentBytes), which the agents service cannot import.
const (
	maxBatchDocuments    = 100
	maxBatchContentBytes = 8 << 20
)

// batches splits documents into the calls the documents service accepts, in order.
func batches(docs []output.Document) [][]output.Document {
	var out [][]output.Document
	size := 0
	for i, d := range docs {
		if i == 0 || len(out[len(out)-1]) == maxBatchDocuments || size+len(d.Content) > maxBatchContentBytes {
			out = append(out, nil)
			size = 0
		}
		out[len(out)-1] = append(out[len(out)-1], d)
		size += len(d.Content)
	}
	return out
}

// batchKey is the idempotency key of a run's nth batch (from 1): the run's key for the first,
// so that a run of one batch is keyed as before, and the key with ":n" for the others. The
// split is the same on a repeat (the same documents), so each batch is stored once.
func batchKey(key string, n int) string {
	if n == 1 || key == "" {
		return key
	}
	return key + ":" + strconv.Itoa(n)
}

// Store implements Documents, in as many calls as the documents service's bounds require.
func (c *DocumentsClient) Store(ctx context.Context, r store.Run, docs []output.Document, idempotencyKey string) ([]store.Document, error) {
	var out []store.Document
	for i, batch := range batches(docs) {
		req := &documentsv1.CreateDocumentsRequest{ProjectId: r.ProjectID, AddVersions: true, IdempotencyKey: batchKey(idempotencyKey, i+1),
			Agent: &documentsv1.AgentAuthor{RunId: r.ID, Role: rolePB(r.Role)}}
		for _, d := range batch {
			req.Documents = append(req.Documents, &documentsv1.NewDocument{Gate: int32(r.Gate), Type: docTypePB(d.Type), Title: d.Title,
				Content: d.Content, ChangeNote: changeNote(r)})
		}
		resp, err := c.Client.CreateDocuments(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, s := range resp.GetDocuments() {
			d := s.GetDocument()
			out = append(out, store.Document{ID: d.GetId(), Type: docTypeWord(d.GetType()), Title: d.GetTitle(), Version: int(d.GetVersion())})
		}
	}
	return out, nil
}

func changeNote(r store.Run) string {
	if r.Revision > 0 {
		return cut("revised after review: "+r.Feedback, 1000)
	}
	return "written by the " + r.Role + " run " + r.ID
}
