package agents

import (
	"context"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/protoenum"
	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/pricing"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// Handler translates the AgentsService gRPC API to the domain Service. It holds no rules.
type Handler struct {
	pb.UnimplementedAgentsServiceServer
	Service *Service
}

func caller(ctx context.Context) authn.Identity {
	id, _ := authn.FromContext(ctx) // the authorization interceptor guarantees one
	return id
}

// Enum conversions, one pair per enum (see platform/protoenum).
func roleWord(v commonv1.AgentRole) string {
	return protoenum.Word(v, commonv1.AgentRole_name, "AGENT_ROLE_")
}

func rolePB(w string) commonv1.AgentRole {
	return protoenum.Value[commonv1.AgentRole](w, commonv1.AgentRole_value, "AGENT_ROLE_")
}

func docTypeWord(v commonv1.DocumentType) string {
	return protoenum.Word(v, commonv1.DocumentType_name, "DOCUMENT_TYPE_")
}

func docTypePB(w string) commonv1.DocumentType {
	return protoenum.Value[commonv1.DocumentType](w, commonv1.DocumentType_value, "DOCUMENT_TYPE_")
}

func proofWord(v commonv1.ProofType) string {
	return protoenum.Word(v, commonv1.ProofType_name, "PROOF_TYPE_")
}

func proofPB(w string) commonv1.ProofType {
	return protoenum.Value[commonv1.ProofType](w, commonv1.ProofType_value, "PROOF_TYPE_")
}

func projectTypeWord(v commonv1.ProjectType) string {
	return protoenum.Word(v, commonv1.ProjectType_name, "PROJECT_TYPE_")
}

func projectTypePB(w string) commonv1.ProjectType {
	return protoenum.Value[commonv1.ProjectType](w, commonv1.ProjectType_value, "PROJECT_TYPE_")
}

func statePB(w string) pb.RunState {
	return protoenum.Value[pb.RunState](w, pb.RunState_value, "RUN_STATE_")
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func costPB(t store.Totals) *pb.Cost {
	return &pb.Cost{InputTokens: t.InputTokens, OutputTokens: t.OutputTokens, CostMicros: t.CostMicros,
		CostUsd: pricing.FormatUSD(t.CostMicros), Runs: int32(t.Runs), UnpricedRuns: int32(t.Unpriced), OfflineRuns: int32(t.Offline)}
}

func runPB(r store.Run) *pb.Run {
	unpriced, offline := 0, 0
	if r.Unpriced {
		unpriced = 1
	}
	if r.Offline {
		offline = 1
	}
	out := &pb.Run{Id: r.ID, ProjectId: r.ProjectID, Gate: int32(r.Gate), Role: rolePB(r.Role), Revision: int32(r.Revision),
		State: statePB(r.State), Priority: int32(r.Priority), Instructions: r.Instructions, Feedback: r.Feedback, Model: r.Model,
		Attempt: int32(r.Attempt), MaxAttempts: int32(r.MaxAttempts), Error: r.Error, Output: r.Output, UserId: r.UserID,
		Usage:      costPB(store.Totals{InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CostMicros: r.CostMicros, Runs: 1, Unpriced: unpriced, Offline: offline}),
		CreateTime: timestamppb.New(r.CreatedAt)}
	if !r.StartedAt.IsZero() {
		out.StartTime = timestamppb.New(r.StartedAt)
	}
	if !r.EndedAt.IsZero() {
		out.EndTime = timestamppb.New(r.EndedAt)
	}
	if r.Rescues > 0 {
		out.Rescues, out.RescueTime = int32(r.Rescues), timestamppb.New(r.RescuedAt)
	}
	for _, d := range r.Result.Documents {
		out.Documents = append(out.Documents, &pb.RunDocument{DocumentId: d.ID, DocumentType: docTypePB(d.Type), Title: d.Title, Version: int32(d.Version)})
	}
	if r.Result.DocumentsStored {
		out.Handoff = &pb.Handoff{Deliverables: mapSlice(r.Result.Deliverables, docTypePB), NextRoles: mapSlice(r.Result.NextRoles, rolePB),
			Notes: r.Result.Notes, TasksCreated: int32(r.Result.TasksCreated)}
	}
	return out
}

func agentPB(r catalog.Role, withPrompt bool) *pb.Agent {
	a := &pb.Agent{Role: rolePB(r.ID), Name: r.Name, Summary: r.Summary, Gates: mapSlice(r.Gates, func(g int) int32 { return int32(g) }),
		ProjectTypes: mapSlice(r.ProjectTypes, projectTypePB), DefaultModel: r.DefaultModel, MaxTokens: int32(r.MaxTokens), Priority: int32(r.Priority)}
	if withPrompt {
		a.SystemPrompt = r.SystemPrompt
	}
	for _, g := range r.Gates {
		for _, d := range r.OutputsFor(g) {
			a.Outputs = append(a.Outputs, &pb.AgentOutput{Gate: int32(g), DocumentType: docTypePB(d.Type), Title: d.Title})
		}
	}
	return a
}

// ListAgents implements pb.AgentsServiceServer.
func (h *Handler) ListAgents(context.Context, *pb.ListAgentsRequest) (*pb.ListAgentsResponse, error) {
	return &pb.ListAgentsResponse{Agents: mapSlice(catalog.All(), func(r catalog.Role) *pb.Agent { return agentPB(r, false) })}, nil
}

// GetAgent implements pb.AgentsServiceServer.
func (h *Handler) GetAgent(_ context.Context, req *pb.GetAgentRequest) (*pb.GetAgentResponse, error) {
	r, ok := catalog.Get(roleWord(req.GetRole()))
	if !ok {
		return nil, apperr.NotFound("no agent role %s", req.GetRole())
	}
	return &pb.GetAgentResponse{Agent: agentPB(r, true)}, nil
}

// StartProject implements pb.AgentsServiceServer.
func (h *Handler) StartProject(ctx context.Context, req *pb.StartProjectRequest) (*pb.StartProjectResponse, error) {
	r, err := h.Service.StartProject(ctx, caller(ctx), req.GetProjectId(), req.GetDescription())
	if err != nil || r == nil {
		return &pb.StartProjectResponse{}, err
	}
	return &pb.StartProjectResponse{Run: runPB(*r)}, nil
}

// StartRun implements pb.AgentsServiceServer. A new run answers 202 Accepted: it is queued.
func (h *Handler) StartRun(ctx context.Context, req *pb.StartRunRequest) (*pb.StartRunResponse, error) {
	r, created, err := h.Service.StartRun(ctx, caller(ctx), RunRequest{ProjectID: req.GetProjectId(), Gate: int(req.GetGate()),
		Role: roleWord(req.GetRole()), Instructions: req.GetInstructions()})
	if err != nil {
		return nil, err
	}
	if created {
		edge.SetHTTPStatus(ctx, http.StatusAccepted)
	}
	return &pb.StartRunResponse{Run: runPB(r), Created: created}, nil
}

// GetRun implements pb.AgentsServiceServer.
func (h *Handler) GetRun(ctx context.Context, req *pb.GetRunRequest) (*pb.GetRunResponse, error) {
	r, err := h.Service.GetRun(ctx, req.GetProjectId(), req.GetRunId())
	if err != nil {
		return nil, err
	}
	return &pb.GetRunResponse{Run: runPB(r)}, nil
}

// ListRuns implements pb.AgentsServiceServer.
func (h *Handler) ListRuns(ctx context.Context, req *pb.ListRunsRequest) (*pb.ListRunsResponse, error) {
	since, err := input.OptionalTime("changedSince", req.GetChangedSince())
	if err != nil {
		return nil, err
	}
	runs, next, err := h.Service.ListRuns(ctx, req.GetProjectId(), int(req.GetGate()), since, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &pb.ListRunsResponse{Runs: mapSlice(runs, runPB), NextPageToken: next}, nil
}

// CancelRun implements pb.AgentsServiceServer.
func (h *Handler) CancelRun(ctx context.Context, req *pb.CancelRunRequest) (*pb.CancelRunResponse, error) {
	r, err := h.Service.CancelRun(ctx, caller(ctx), req.GetProjectId(), req.GetRunId())
	if err != nil {
		return nil, err
	}
	return &pb.CancelRunResponse{Run: runPB(r)}, nil
}

// WatchRun implements pb.AgentsServiceServer.
func (h *Handler) WatchRun(req *pb.WatchRunRequest, stream grpc.ServerStreamingServer[pb.WatchRunResponse]) error {
	return h.Service.WatchRun(stream.Context(), req.GetProjectId(), req.GetRunId(), func(w Watched) error {
		if w.Run != nil {
			return stream.Send(&pb.WatchRunResponse{Event: &pb.WatchRunResponse_Run{Run: runPB(*w.Run)}})
		}
		return stream.Send(&pb.WatchRunResponse{Event: &pb.WatchRunResponse_Chunk{Chunk: &pb.OutputChunk{
			Attempt: int32(w.Chunk.Attempt), Seq: w.Chunk.Seq, Text: w.Chunk.Text}}})
	})
}

// GetProjectCosts implements pb.AgentsServiceServer.
func (h *Handler) GetProjectCosts(ctx context.Context, req *pb.GetProjectCostsRequest) (*pb.GetProjectCostsResponse, error) {
	c, err := h.Service.GetProjectCosts(ctx, req.GetProjectId())
	if err != nil {
		return nil, err
	}
	return &pb.GetProjectCostsResponse{Total: costPB(c.Total),
		Gates: mapSlice(c.ByGate, func(g store.GroupTotals) *pb.GateCost {
			return &pb.GateCost{Gate: int32(g.Gate), Cost: costPB(g.Totals)}
		}),
		Roles: mapSlice(c.ByRole, func(g store.GroupTotals) *pb.RoleCost {
			return &pb.RoleCost{Role: rolePB(g.Role), Cost: costPB(g.Totals)}
		}),
		Models: mapSlice(c.ByModel, func(g store.GroupTotals) *pb.ModelCost {
			return &pb.ModelCost{Model: g.Model, Cost: costPB(g.Totals)}
		})}, nil
}

// GetUsage implements pb.AgentsServiceServer.
func (h *Handler) GetUsage(ctx context.Context, _ *pb.GetUsageRequest) (*pb.GetUsageResponse, error) {
	u, err := h.Service.GetUsage(ctx, caller(ctx))
	if err != nil {
		return nil, err
	}
	return &pb.GetUsageResponse{MonthStart: timestamppb.New(u.MonthStart), MonthEnd: timestamppb.New(u.MonthEnd), Used: costPB(u.Used),
		TokenBudget: u.TokenBudget, CostBudgetMicros: u.CostBudgetMicros}, nil
}
