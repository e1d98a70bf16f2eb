package projects

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/protoenum"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// Handler translates the ProjectsService gRPC API to the domain Service. It holds no rules.
type Handler struct {
	pb.UnimplementedProjectsServiceServer
	Service *Service
}

func caller(ctx context.Context) authn.Identity {
	id, _ := authn.FromContext(ctx) // the authorization interceptor guarantees one
	return id
}

// Enum conversions, one pair per enum (see platform/protoenum).
func projectType(v commonv1.ProjectType) string {
	return protoenum.Word(v, commonv1.ProjectType_name, "PROJECT_TYPE_")
}
func projectTypePB(s string) commonv1.ProjectType {
	return protoenum.Value[commonv1.ProjectType](s, commonv1.ProjectType_value, "PROJECT_TYPE_")
}
func role(v pb.Role) string   { return protoenum.Word(v, pb.Role_name, "ROLE_") }
func rolePB(s string) pb.Role { return protoenum.Value[pb.Role](s, pb.Role_value, "ROLE_") }
func statusPB(s string) pb.ProjectStatus {
	return protoenum.Value[pb.ProjectStatus](s, pb.ProjectStatus_value, "PROJECT_STATUS_")
}
func gateStatePB(s string) pb.GateState {
	return protoenum.Value[pb.GateState](s, pb.GateState_value, "GATE_STATE_")
}
func docType(v commonv1.DocumentType) string {
	return protoenum.Word(v, commonv1.DocumentType_name, "DOCUMENT_TYPE_")
}
func docTypePB(s string) commonv1.DocumentType {
	return protoenum.Value[commonv1.DocumentType](s, commonv1.DocumentType_value, "DOCUMENT_TYPE_")
}
func proofType(v commonv1.ProofType) string {
	return protoenum.Word(v, commonv1.ProofType_name, "PROOF_TYPE_")
}
func proofTypePB(s string) commonv1.ProofType {
	return protoenum.Value[commonv1.ProofType](s, commonv1.ProofType_value, "PROOF_TYPE_")
}
func proofResult(v pb.ProofResult) string {
	return protoenum.Word(v, pb.ProofResult_name, "PROOF_RESULT_")
}
func proofResultPB(s string) pb.ProofResult {
	return protoenum.Value[pb.ProofResult](s, pb.ProofResult_value, "PROOF_RESULT_")
}
func agentRole(v commonv1.AgentRole) string {
	return protoenum.Word(v, commonv1.AgentRole_name, "AGENT_ROLE_")
}
func agentRolePB(s string) commonv1.AgentRole {
	return protoenum.Value[commonv1.AgentRole](s, commonv1.AgentRole_value, "AGENT_ROLE_")
}
func taskStatus(v pb.TaskStatus) string { return protoenum.Word(v, pb.TaskStatus_name, "TASK_STATUS_") }
func taskStatusPB(s string) pb.TaskStatus {
	return protoenum.Value[pb.TaskStatus](s, pb.TaskStatus_value, "TASK_STATUS_")
}
func priority(v pb.TaskPriority) string {
	return protoenum.Word(v, pb.TaskPriority_name, "TASK_PRIORITY_")
}
func priorityPB(s string) pb.TaskPriority {
	return protoenum.Value[pb.TaskPriority](s, pb.TaskPriority_value, "TASK_PRIORITY_")
}
func memberChangePB(s string) pb.MemberChange {
	return protoenum.Value[pb.MemberChange](s, pb.MemberChange_value, "MEMBER_CHANGE_")
}
func notificationKindPB(s string) pb.NotificationKind {
	return protoenum.Value[pb.NotificationKind](s, pb.NotificationKind_value, "NOTIFICATION_KIND_")
}
func nextActionKindPB(s string) pb.NextActionKind {
	return protoenum.Value[pb.NextActionKind](s, pb.NextActionKind_value, "NEXT_ACTION_KIND_")
}

func projectPB(p store.ProjectWithRole) *pb.Project {
	return &pb.Project{Id: p.ID, Name: p.Name, Description: p.Description, Type: projectTypePB(p.Type),
		RepositoryUrl: p.RepositoryURL, OwnerId: p.OwnerID, Status: statusPB(p.Status), CurrentGate: int32(p.CurrentGate),
		Role: rolePB(p.Role), CreateTime: timestamppb.New(p.CreatedAt), UpdateTime: timestamppb.New(p.UpdatedAt)}
}

func memberPB(m MemberInfo) *pb.Member {
	out := &pb.Member{UserId: m.UserID, Email: m.Email, Name: m.Name, Role: rolePB(m.Role)}
	if !m.CreatedAt.IsZero() {
		out.CreateTime = timestamppb.New(m.CreatedAt)
	}
	return out
}

func deliverablePB(d store.Deliverable, required bool) *pb.Deliverable {
	out := &pb.Deliverable{DocumentType: docTypePB(d.DocumentType), Required: required, Complete: d.Complete,
		DocumentId: d.DocumentID, Version: int32(d.Version), ContentHash: d.ContentHash, RecordedBy: d.RecordedBy,
		Revision: int32(d.Revision)}
	if !d.UpdatedAt.IsZero() {
		out.UpdateTime = timestamppb.New(d.UpdatedAt)
	}
	return out
}

func proofPB(p store.Proof) *pb.Proof {
	return &pb.Proof{Id: p.ID, Type: proofTypePB(p.Type), Result: proofResultPB(p.Result), Summary: p.Summary,
		ProducedBy: p.ProducedBy, Attested: p.Attested, CreateTime: timestamppb.New(p.CreatedAt),
		Revision: int32(p.Revision), DeliverablesHash: p.DeliverablesHash, Run: proofRunPB(p.Run)}
}

func proofRunPB(r *store.ProofRun) *pb.ProofRun {
	if r == nil {
		return nil
	}
	return &pb.ProofRun{TreeHash: r.TreeHash, Command: r.Command, ExitCode: int32(r.ExitCode), DurationMs: r.DurationMS,
		Runner: r.Runner, Artifacts: mapSlice(r.Artifacts, func(a store.ProofArtifact) *pb.ProofArtifact {
			return &pb.ProofArtifact{Id: a.ID, Kind: a.Kind, MediaType: a.MediaType, SizeBytes: a.SizeBytes}
		})}
}

func proofRun(r *pb.ProofRun) *store.ProofRun {
	if r == nil {
		return nil
	}
	return &store.ProofRun{TreeHash: r.GetTreeHash(), Command: r.GetCommand(), ExitCode: int(r.GetExitCode()), DurationMS: r.GetDurationMs(),
		Runner: r.GetRunner(), Artifacts: mapSlice(r.GetArtifacts(), func(a *pb.ProofArtifact) store.ProofArtifact {
			return store.ProofArtifact{ID: a.GetId(), Kind: a.GetKind(), MediaType: a.GetMediaType(), SizeBytes: a.GetSizeBytes()}
		})}
}

// reviewPB is a review record of a gate of definition def: each deliverable it saw is required
// as the gate's are.
func reviewPB(def workflow.Gate) func(r store.Review) *pb.Review {
	return func(r store.Review) *pb.Review {
		return &pb.Review{Id: r.ID, Gate: int32(r.Gate), Decision: gateStatePB(r.Decision), ReviewerId: r.ReviewerID, Notes: r.Notes,
			ReviewedDeliverables: mapSlice(r.Deliverables, func(d store.Deliverable) *pb.Deliverable {
				return deliverablePB(d, slices.Contains(def.Deliverables, d.DocumentType))
			}),
			Proofs: mapSlice(r.Proofs, proofPB), CreateTime: timestamppb.New(r.CreatedAt), Revision: int32(r.Revision)}
	}
}

// gatePB lists, for each deliverable type the workflow requires, every document recorded for it
// (or an empty entry when there is none), then any other recorded deliverable.
func gatePB(d GateDetail) *pb.Gate {
	out := &pb.Gate{ProjectId: d.ProjectID, Number: int32(d.Number), Name: d.Def.Name, Phase: d.Def.Phase,
		State: gateStatePB(d.State), BlockedReason: d.BlockedReason, Revision: int32(d.Revision),
		Proofs: mapSlice(d.Proofs, proofPB), Reviews: mapSlice(d.Reviews, reviewPB(d.Def)),
		CreateTime: timestamppb.New(d.CreatedAt), UpdateTime: timestamppb.New(d.UpdatedAt),
		MissingDeliverables: mapSlice(d.Requirements.Deliverables, docTypePB),
		MissingProofs:       mapSlice(d.Requirements.ProofTypes(), proofTypePB),
		DeliverablesHash:    d.Requirements.DeliverablesHash}
	for _, want := range d.Def.Deliverables {
		found := false
		for _, x := range d.Deliverables {
			if x.DocumentType == want {
				out.Deliverables, found = append(out.Deliverables, deliverablePB(x, true)), true
			}
		}
		if !found {
			out.Deliverables = append(out.Deliverables, deliverablePB(store.Deliverable{DocumentType: want}, true))
		}
	}
	for _, x := range d.Deliverables {
		if !slices.Contains(d.Def.Deliverables, x.DocumentType) {
			out.Deliverables = append(out.Deliverables, deliverablePB(x, false))
		}
	}
	return out
}

func taskPB(t store.Task) *pb.Task {
	return &pb.Task{Id: t.ID, ProjectId: t.ProjectID, Gate: int32(t.Gate), Title: t.Title, Description: t.Description,
		OwnerRole: agentRolePB(t.OwnerRole), Status: taskStatusPB(t.Status), Priority: priorityPB(t.Priority),
		DependsOn: t.DependsOn, CreateTime: timestamppb.New(t.CreatedAt), UpdateTime: timestamppb.New(t.UpdatedAt), Key: t.Key}
}

// eventPB decodes a stored event into the typed oneof.
func eventPB(e store.Event) *pb.Event {
	out := &pb.Event{Id: e.ID, ProjectId: e.ProjectID, ActorId: e.ActorID, ActorService: e.ActorService, CreateTime: timestamppb.New(e.CreatedAt)}
	switch e.Type {
	case EventProjectChanged:
		var p ProjectChanged
		_ = json.Unmarshal(e.Payload, &p)
		out.Payload = &pb.Event_ProjectChanged{ProjectChanged: &pb.ProjectChanged{Change: p.Change, Status: statusPB(p.Status)}}
	case EventMemberChanged:
		var p MemberChanged
		_ = json.Unmarshal(e.Payload, &p)
		out.Payload = &pb.Event_MemberChanged{MemberChanged: &pb.MemberChanged{UserId: p.UserID, Role: rolePB(p.Role), Change: memberChangePB(p.Change)}}
	case EventGateChanged:
		var p GateChanged
		_ = json.Unmarshal(e.Payload, &p)
		out.Payload = &pb.Event_GateChanged{GateChanged: &pb.GateChanged{Gate: int32(p.Gate), From: gateStatePB(p.From),
			To: gateStatePB(p.To), Reason: p.Reason}}
	case EventDeliverableRecorded:
		var p DeliverableRecorded
		_ = json.Unmarshal(e.Payload, &p)
		out.Payload = &pb.Event_DeliverableRecorded{DeliverableRecorded: &pb.DeliverableRecorded{Gate: int32(p.Gate),
			DocumentType: docTypePB(p.DocumentType), DocumentId: p.DocumentID, Version: int32(p.Version)}}
	case EventProofRecorded:
		var p ProofRecorded
		_ = json.Unmarshal(e.Payload, &p)
		out.Payload = &pb.Event_ProofRecorded{ProofRecorded: &pb.ProofRecorded{Gate: int32(p.Gate), Type: proofTypePB(p.Type),
			Result: proofResultPB(p.Result)}}
	case EventTasksChanged:
		var p TasksChanged
		_ = json.Unmarshal(e.Payload, &p)
		out.Payload = &pb.Event_TasksChanged{TasksChanged: &pb.TasksChanged{TaskIds: p.TaskIDs, Change: p.Change, Status: taskStatusPB(p.Status)}}
	}
	return out
}

func notificationPB(n store.Notification) *pb.Notification {
	return &pb.Notification{Id: n.ID, UserId: n.UserID, ProjectId: n.ProjectID, ProjectName: n.ProjectName,
		Kind: notificationKindPB(n.Kind), Message: n.Message, Gate: int32(n.Gate), EventId: n.EventID,
		CreateTime: timestamppb.New(n.CreatedAt), Read: !n.ReadAt.IsZero()}
}

// CreateProject implements pb.ProjectsServiceServer.
func (h *Handler) CreateProject(ctx context.Context, req *pb.CreateProjectRequest) (*pb.CreateProjectResponse, error) {
	p, err := h.Service.CreateProject(ctx, caller(ctx), req.GetName(), req.GetDescription(), projectType(req.GetType()), req.GetRepositoryUrl())
	if err != nil {
		return nil, err
	}
	edge.SetHTTPStatus(ctx, http.StatusCreated)
	return &pb.CreateProjectResponse{Project: projectPB(p)}, nil
}

// GetProject implements pb.ProjectsServiceServer.
func (h *Handler) GetProject(ctx context.Context, req *pb.GetProjectRequest) (*pb.GetProjectResponse, error) {
	p, err := h.Service.GetProject(ctx, caller(ctx), req.GetProjectId())
	if err != nil {
		return nil, err
	}
	return &pb.GetProjectResponse{Project: projectPB(p)}, nil
}

// ListProjects implements pb.ProjectsServiceServer.
func (h *Handler) ListProjects(ctx context.Context, req *pb.ListProjectsRequest) (*pb.ListProjectsResponse, error) {
	ps, next, err := h.Service.ListProjects(ctx, caller(ctx), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &pb.ListProjectsResponse{Projects: mapSlice(ps, projectPB), NextPageToken: next}, nil
}

// UpdateProject implements pb.ProjectsServiceServer.
func (h *Handler) UpdateProject(ctx context.Context, req *pb.UpdateProjectRequest) (*pb.UpdateProjectResponse, error) {
	p, err := h.Service.UpdateProject(ctx, caller(ctx), req.GetProjectId(),
		ProjectUpdate{Name: req.Name, Description: req.Description, RepositoryURL: req.RepositoryUrl})
	if err != nil {
		return nil, err
	}
	return &pb.UpdateProjectResponse{Project: projectPB(p)}, nil
}

// ArchiveProject implements pb.ProjectsServiceServer.
func (h *Handler) ArchiveProject(ctx context.Context, req *pb.ArchiveProjectRequest) (*pb.ArchiveProjectResponse, error) {
	p, err := h.Service.ArchiveProject(ctx, caller(ctx), req.GetProjectId())
	if err != nil {
		return nil, err
	}
	return &pb.ArchiveProjectResponse{Project: projectPB(p)}, nil
}

// DeleteProject implements pb.ProjectsServiceServer.
func (h *Handler) DeleteProject(ctx context.Context, req *pb.DeleteProjectRequest) (*pb.DeleteProjectResponse, error) {
	if err := h.Service.DeleteProject(ctx, caller(ctx), req.GetProjectId()); err != nil {
		return nil, err
	}
	return &pb.DeleteProjectResponse{}, nil
}

// AddMember implements pb.ProjectsServiceServer.
func (h *Handler) AddMember(ctx context.Context, req *pb.AddMemberRequest) (*pb.AddMemberResponse, error) {
	m, err := h.Service.AddMember(ctx, caller(ctx), req.GetProjectId(), req.GetEmail(), role(req.GetRole()))
	if err != nil {
		return nil, err
	}
	edge.SetHTTPStatus(ctx, http.StatusCreated)
	return &pb.AddMemberResponse{Member: memberPB(m)}, nil
}

// UpdateMember implements pb.ProjectsServiceServer.
func (h *Handler) UpdateMember(ctx context.Context, req *pb.UpdateMemberRequest) (*pb.UpdateMemberResponse, error) {
	m, err := h.Service.UpdateMember(ctx, caller(ctx), req.GetProjectId(), req.GetUserId(), role(req.GetRole()))
	if err != nil {
		return nil, err
	}
	return &pb.UpdateMemberResponse{Member: memberPB(m)}, nil
}

// RemoveMember implements pb.ProjectsServiceServer.
func (h *Handler) RemoveMember(ctx context.Context, req *pb.RemoveMemberRequest) (*pb.RemoveMemberResponse, error) {
	if err := h.Service.RemoveMember(ctx, caller(ctx), req.GetProjectId(), req.GetUserId()); err != nil {
		return nil, err
	}
	return &pb.RemoveMemberResponse{}, nil
}

// ListMembers implements pb.ProjectsServiceServer.
func (h *Handler) ListMembers(ctx context.Context, req *pb.ListMembersRequest) (*pb.ListMembersResponse, error) {
	ms, err := h.Service.ListMembers(ctx, caller(ctx), req.GetProjectId())
	if err != nil {
		return nil, err
	}
	return &pb.ListMembersResponse{Members: mapSlice(ms, memberPB)}, nil
}

var actions = map[pb.Action]Action{pb.Action_ACTION_READ: ActRead, pb.Action_ACTION_WRITE: ActWrite, pb.Action_ACTION_ADMIN: ActAdmin}

// Authorize implements pb.ProjectsServiceServer.
func (h *Handler) Authorize(ctx context.Context, req *pb.AuthorizeRequest) (*pb.AuthorizeResponse, error) {
	act, ok := actions[req.GetAction()]
	if !ok {
		return nil, apperr.InvalidField("action", "is required: ACTION_READ, ACTION_WRITE or ACTION_ADMIN")
	}
	p, err := h.Service.Authorize(ctx, caller(ctx), req.GetProjectId(), act)
	if err != nil {
		return nil, err
	}
	return &pb.AuthorizeResponse{Role: rolePB(p.Role), ProjectType: projectTypePB(p.Type), ProjectName: p.Name}, nil
}

// GetWorkflow implements pb.ProjectsServiceServer.
func (h *Handler) GetWorkflow(_ context.Context, req *pb.GetWorkflowRequest) (*pb.GetWorkflowResponse, error) {
	gates, ok := workflow.For(projectType(req.GetProjectType()))
	if !ok {
		return nil, apperr.InvalidField("projectType", "is required: one of the PROJECT_TYPE_ values")
	}
	resp := &pb.GetWorkflowResponse{ProjectType: req.GetProjectType()}
	for _, g := range gates {
		resp.Gates = append(resp.Gates, &pb.WorkflowGate{Number: int32(g.Number), Name: g.Name, Phase: g.Phase,
			Roles: mapSlice(g.Roles, agentRolePB), Deliverables: mapSlice(g.Deliverables, docTypePB), Proofs: mapSlice(g.Proofs, proofTypePB),
			CoverageThresholdPercent: int32(g.CoverageThreshold)})
	}
	return resp, nil
}

// ListGates implements pb.ProjectsServiceServer.
func (h *Handler) ListGates(ctx context.Context, req *pb.ListGatesRequest) (*pb.ListGatesResponse, error) {
	gs, err := h.Service.ListGates(ctx, caller(ctx), req.GetProjectId())
	if err != nil {
		return nil, err
	}
	return &pb.ListGatesResponse{Gates: mapSlice(gs, gatePB)}, nil
}

// GetGate implements pb.ProjectsServiceServer.
func (h *Handler) GetGate(ctx context.Context, req *pb.GetGateRequest) (*pb.GetGateResponse, error) {
	g, err := h.Service.GetGate(ctx, caller(ctx), req.GetProjectId(), int(req.GetGate()))
	if err != nil {
		return nil, err
	}
	return &pb.GetGateResponse{Gate: gatePB(g)}, nil
}

// StartGate implements pb.ProjectsServiceServer.
func (h *Handler) StartGate(ctx context.Context, req *pb.StartGateRequest) (*pb.StartGateResponse, error) {
	g, err := h.Service.StartGate(ctx, caller(ctx), req.GetProjectId(), int(req.GetGate()))
	if err != nil {
		return nil, err
	}
	return &pb.StartGateResponse{Gate: gatePB(g)}, nil
}

// SubmitGate implements pb.ProjectsServiceServer.
func (h *Handler) SubmitGate(ctx context.Context, req *pb.SubmitGateRequest) (*pb.SubmitGateResponse, error) {
	g, err := h.Service.SubmitGate(ctx, caller(ctx), req.GetProjectId(), int(req.GetGate()))
	if err != nil {
		return nil, err
	}
	return &pb.SubmitGateResponse{Gate: gatePB(g)}, nil
}

// ApproveGate implements pb.ProjectsServiceServer.
func (h *Handler) ApproveGate(ctx context.Context, req *pb.ApproveGateRequest) (*pb.ApproveGateResponse, error) {
	a, err := h.Service.ApproveGate(ctx, caller(ctx), req.GetProjectId(), int(req.GetGate()), req.GetNotes())
	if err != nil {
		return nil, err
	}
	resp := &pb.ApproveGateResponse{Gate: gatePB(a.Gate), Project: projectPB(a.Project)}
	if a.Next != nil {
		resp.NextGate = gatePB(*a.Next)
	}
	return resp, nil
}

// RequestGateChanges implements pb.ProjectsServiceServer.
func (h *Handler) RequestGateChanges(ctx context.Context, req *pb.RequestGateChangesRequest) (*pb.RequestGateChangesResponse, error) {
	g, err := h.Service.RequestGateChanges(ctx, caller(ctx), req.GetProjectId(), int(req.GetGate()), req.GetNotes())
	if err != nil {
		return nil, err
	}
	return &pb.RequestGateChangesResponse{Gate: gatePB(g)}, nil
}

// BlockGate implements pb.ProjectsServiceServer.
func (h *Handler) BlockGate(ctx context.Context, req *pb.BlockGateRequest) (*pb.BlockGateResponse, error) {
	g, err := h.Service.BlockGate(ctx, caller(ctx), req.GetProjectId(), int(req.GetGate()), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &pb.BlockGateResponse{Gate: gatePB(g)}, nil
}

// UnblockGate implements pb.ProjectsServiceServer.
func (h *Handler) UnblockGate(ctx context.Context, req *pb.UnblockGateRequest) (*pb.UnblockGateResponse, error) {
	g, err := h.Service.UnblockGate(ctx, caller(ctx), req.GetProjectId(), int(req.GetGate()))
	if err != nil {
		return nil, err
	}
	return &pb.UnblockGateResponse{Gate: gatePB(g)}, nil
}

// RecordDeliverable implements pb.ProjectsServiceServer.
func (h *Handler) RecordDeliverable(ctx context.Context, req *pb.RecordDeliverableRequest) (*pb.RecordDeliverableResponse, error) {
	d, err := h.Service.RecordDeliverable(ctx, caller(ctx), store.Deliverable{ProjectID: req.GetProjectId(), Gate: int(req.GetGate()),
		DocumentType: docType(req.GetDocumentType()), DocumentID: req.GetDocumentId(), Version: int(req.GetVersion()),
		ContentHash: req.GetContentHash(), Complete: req.GetComplete()})
	if err != nil {
		return nil, err
	}
	edge.SetHTTPStatus(ctx, http.StatusCreated)
	return &pb.RecordDeliverableResponse{Deliverable: deliverablePB(d.Deliverable, d.Required)}, nil
}

// RecordProof implements pb.ProjectsServiceServer.
func (h *Handler) RecordProof(ctx context.Context, req *pb.RecordProofRequest) (*pb.RecordProofResponse, error) {
	p, err := h.Service.RecordProof(ctx, caller(ctx), store.Proof{ProjectID: req.GetProjectId(), Gate: int(req.GetGate()),
		Type: proofType(req.GetType()), Result: proofResult(req.GetResult()), Summary: req.GetSummary(), Run: proofRun(req.GetRun())})
	if err != nil {
		return nil, err
	}
	edge.SetHTTPStatus(ctx, http.StatusCreated)
	return &pb.RecordProofResponse{Proof: proofPB(p)}, nil
}

// GetProjectStatus implements pb.ProjectsServiceServer.
func (h *Handler) GetProjectStatus(ctx context.Context, req *pb.GetProjectStatusRequest) (*pb.GetProjectStatusResponse, error) {
	st, err := h.Service.GetStatus(ctx, caller(ctx), req.GetProjectId())
	if err != nil {
		return nil, err
	}
	return &pb.GetProjectStatusResponse{CurrentGate: int32(st.Project.CurrentGate), GateName: st.Def.Name,
		GateState: gateStatePB(st.Gate.State), Phase: st.Def.Phase, PercentComplete: int32(st.PercentComplete),
		ProjectStatus: statusPB(st.Project.Status), NextAction: st.NextAction,
		MissingDeliverables: mapSlice(st.MissingDocs, docTypePB), MissingProofs: mapSlice(st.MissingProofs, proofTypePB),
		NextStep: &pb.NextAction{Kind: nextActionKindPB(st.Next.Kind), Gate: int32(st.Next.Gate),
			MissingDeliverables: mapSlice(st.Next.MissingDocs, docTypePB), MissingProofs: mapSlice(st.Next.MissingProofs, proofTypePB),
			BlockedReason: st.Next.BlockedReason, Summary: st.Next.Summary}}, nil
}

// CreateTasks implements pb.ProjectsServiceServer.
func (h *Handler) CreateTasks(ctx context.Context, req *pb.CreateTasksRequest) (*pb.CreateTasksResponse, error) {
	in := mapSlice(req.GetTasks(), func(t *pb.NewTask) NewTask {
		return NewTask{Key: t.GetKey(), Gate: int(t.GetGate()), Title: t.GetTitle(), Description: t.GetDescription(),
			OwnerRole: agentRole(t.GetOwnerRole()), Priority: priority(t.GetPriority()), DependsOn: t.GetDependsOn()}
	})
	ts, err := h.Service.CreateTasks(ctx, caller(ctx), req.GetProjectId(), in, req.GetIdempotencyKey())
	if err != nil {
		return nil, err
	}
	edge.SetHTTPStatus(ctx, http.StatusCreated)
	return &pb.CreateTasksResponse{Tasks: mapSlice(ts, taskPB)}, nil
}

// ListTasks implements pb.ProjectsServiceServer.
func (h *Handler) ListTasks(ctx context.Context, req *pb.ListTasksRequest) (*pb.ListTasksResponse, error) {
	ts, next, err := h.Service.ListTasks(ctx, caller(ctx), req.GetProjectId(),
		store.TaskFilter{Gate: int(req.GetGate()), ReadyOnly: req.GetReadyOnly()}, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &pb.ListTasksResponse{Tasks: mapSlice(ts, taskPB), NextPageToken: next}, nil
}

// UpdateTask implements pb.ProjectsServiceServer.
func (h *Handler) UpdateTask(ctx context.Context, req *pb.UpdateTaskRequest) (*pb.UpdateTaskResponse, error) {
	t, err := h.Service.UpdateTask(ctx, caller(ctx), req.GetProjectId(), req.GetTaskId(), taskStatus(req.GetStatus()))
	if err != nil {
		return nil, err
	}
	return &pb.UpdateTaskResponse{Task: taskPB(t)}, nil
}

// AdvanceTasks implements pb.ProjectsServiceServer.
func (h *Handler) AdvanceTasks(ctx context.Context, req *pb.AdvanceTasksRequest) (*pb.AdvanceTasksResponse, error) {
	ts, err := h.Service.AdvanceTasks(ctx, caller(ctx), req.GetProjectId(), int(req.GetGate()), agentRole(req.GetRole()),
		taskStatus(req.GetStatus()), req.GetTaskKeys())
	if err != nil {
		return nil, err
	}
	return &pb.AdvanceTasksResponse{Tasks: mapSlice(ts, taskPB)}, nil
}

// ListEvents implements pb.ProjectsServiceServer.
func (h *Handler) ListEvents(ctx context.Context, req *pb.ListEventsRequest) (*pb.ListEventsResponse, error) {
	page, err := h.Service.ListEvents(ctx, caller(ctx), req.GetProjectId(), EventQuery{After: req.GetAfter(),
		NewestFirst: req.GetNewestFirst(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	return &pb.ListEventsResponse{Events: mapSlice(page.Events, eventPB), NextPageToken: page.NextPageToken}, nil
}

// ListNotifications implements pb.ProjectsServiceServer.
func (h *Handler) ListNotifications(ctx context.Context, req *pb.ListNotificationsRequest) (*pb.ListNotificationsResponse, error) {
	page, err := h.Service.ListNotifications(ctx, caller(ctx), NotificationQuery{AfterID: req.GetAfterId(), OldestFirst: req.GetOldestFirst(),
		UnreadOnly: req.GetUnreadOnly(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	return &pb.ListNotificationsResponse{Notifications: mapSlice(page.Notifications, notificationPB),
		NextPageToken: page.NextPageToken, UnreadCount: int32(page.Unread)}, nil
}

// MarkNotificationsRead implements pb.ProjectsServiceServer.
func (h *Handler) MarkNotificationsRead(ctx context.Context, req *pb.MarkNotificationsReadRequest) (*pb.MarkNotificationsReadResponse, error) {
	unread, err := h.Service.MarkNotificationsRead(ctx, caller(ctx), req.GetUpToId())
	if err != nil {
		return nil, err
	}
	return &pb.MarkNotificationsReadResponse{UnreadCount: int32(unread)}, nil
}

// mapSlice converts each element.
func mapSlice[A, B any](in []A, f func(A) B) []B {
	out := make([]B, len(in))
	for i, a := range in {
		out[i] = f(a)
	}
	return out
}
