package agents

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/protoenum"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

func verificationStatePB(w string) pb.VerificationState {
	return protoenum.Value[pb.VerificationState](w, pb.VerificationState_value, "VERIFICATION_STATE_")
}

func verificationPB(v store.Verification) *pb.Verification {
	out := &pb.Verification{Id: v.ID, ProjectId: v.ProjectID, Gate: int32(v.Gate), Revision: int32(v.Revision),
		State: verificationStatePB(v.State), TreeHash: v.TreeHash, DeliverablesHash: v.DeliverablesHash, Error: v.Error,
		Repair: int32(v.Repair), CreateTime: timestamppb.New(v.CreatedAt), Runner: v.Runner}
	if !v.EndedAt.IsZero() {
		out.EndTime = timestamppb.New(v.EndedAt)
	}
	for _, st := range v.Steps {
		out.Steps = append(out.Steps, &pb.VerificationStep{ProofType: proofPB(st.ProofType), Passed: st.Passed, Summary: st.Summary,
			Command: st.Command, ExitCode: int32(st.ExitCode), DurationMs: st.DurationMS, ArtifactIds: st.ArtifactIDs})
	}
	return out
}

// GetSourceTree implements pb.AgentsServiceServer.
func (h *Handler) GetSourceTree(ctx context.Context, req *pb.GetSourceTreeRequest) (*pb.GetSourceTreeResponse, error) {
	files, hash, err := h.Service.SourceTree(ctx, req.GetProjectId(), int(req.GetGate()), req.GetTreeHash())
	if err != nil {
		return nil, err
	}
	resp := &pb.GetSourceTreeResponse{TreeHash: hash}
	for _, f := range files {
		resp.Files = append(resp.Files, &pb.SourceFile{Path: f.Path, DocumentId: f.DocumentID, Version: int32(f.Version),
			Gate: int32(f.Gate), ContentHash: f.ContentHash, SizeBytes: f.Size})
	}
	return resp, nil
}

// VerifyGate implements pb.AgentsServiceServer.
func (h *Handler) VerifyGate(ctx context.Context, req *pb.VerifyGateRequest) (*pb.VerifyGateResponse, error) {
	v, err := h.Service.VerifyGate(ctx, req.GetProjectId(), int(req.GetGate()))
	if err != nil {
		return nil, err
	}
	return &pb.VerifyGateResponse{Verification: verificationPB(v)}, nil
}

// ListVerifications implements pb.AgentsServiceServer.
func (h *Handler) ListVerifications(ctx context.Context, req *pb.ListVerificationsRequest) (*pb.ListVerificationsResponse, error) {
	list, err := h.Service.Verifications(ctx, req.GetProjectId(), int(req.GetGate()))
	if err != nil {
		return nil, err
	}
	return &pb.ListVerificationsResponse{Verifications: mapSlice(list, verificationPB)}, nil
}

// GetArtifact implements pb.AgentsServiceServer.
func (h *Handler) GetArtifact(ctx context.Context, req *pb.GetArtifactRequest) (*pb.GetArtifactResponse, error) {
	a, err := h.Service.Artifact(ctx, req.GetProjectId(), req.GetArtifactId())
	if err != nil {
		return nil, err
	}
	return &pb.GetArtifactResponse{Artifact: &projectsv1.ProofArtifact{Id: a.ID, Kind: a.Kind, MediaType: a.MediaType,
		SizeBytes: int64(len(a.Content))}, Content: a.Content}, nil
}
