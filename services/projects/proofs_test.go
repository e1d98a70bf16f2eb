package projects_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// buildRun is how the agents service reports a build it ran in its sandbox.
func buildRun() *pb.ProofRun {
	return &pb.ProofRun{TreeHash: "sha256:" + strings.Repeat("ab", 32), Command: "cd backend && go build ./...", ExitCode: 0,
		DurationMs: 4321, Runner: "local", Artifacts: []*pb.ProofArtifact{
			{Id: "0190c0de-0000-7000-8000-000000000001", Kind: "log", MediaType: "text/plain; charset=utf-8", SizeBytes: 2048}}}
}

// TestServicesRecordHowTheyRanAProof: a proof a FuzzyLlama service obtained by running the code
// keeps its run (tree, command, exit code, duration, log), is not an attestation, and is shown
// with its run on the gate, in the gate list and in the review that saw it.
func TestServicesRecordHowTheyRanAProof(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		h := &projects.Handler{Service: svc}
		ctx := context.Background()
		p := projectAt(t, svc, 5)
		mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, p.ID, 5); return err })
		deliver(t, svc, p.ID, 5, workflow.DocCode, "backend", 1, "package main")

		resp, err := h.RecordProof(authn.NewContext(ctx, agents), &pb.RecordProofRequest{ProjectId: p.ID, Gate: 5,
			Type: commonv1.ProofType_PROOF_TYPE_BUILD, Result: pb.ProofResult_PROOF_RESULT_PASS, Summary: "built", Run: buildRun()})
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.GetProof(); !proto.Equal(got.GetRun(), buildRun()) || got.GetAttested() || got.GetProducedBy() != agents.Actor {
			t.Fatalf("recorded: %v", got)
		}
		// A person may still attest a build or lint the sandbox could not run: without a run.
		prove(t, svc, owner, p.ID, 5, workflow.ProofLint, projects.ProofPass)

		wantProofs := func(what string, proofs []*pb.Proof) {
			t.Helper()
			if len(proofs) != 2 {
				t.Fatalf("%s: %d proofs, want 2", what, len(proofs))
			}
			build, lint := proofs[0], proofs[1]
			if !proto.Equal(build.GetRun(), buildRun()) || build.GetAttested() || build.GetProducedBy() != agents.Actor {
				t.Errorf("%s: the build: %v", what, build)
			}
			if lint.GetRun() != nil || !lint.GetAttested() || lint.GetProducedBy() != owner.UserID {
				t.Errorf("%s: the attested lint: %v", what, lint)
			}
		}
		wantProofs("GetGate", getGate(t, h, p.ID, 5).GetProofs())
		list, err := h.ListGates(authn.NewContext(ctx, owner), &pb.ListGatesRequest{ProjectId: p.ID})
		if err != nil || len(list.GetGates()) != 5 {
			t.Fatalf("ListGates: %v, %v", list, err)
		}
		wantProofs("ListGates", list.GetGates()[4].GetProofs())

		// The review keeps what it saw, runs included.
		mustDo(t, func() error { _, err := svc.SubmitGate(ctx, owner, p.ID, 5); return err })
		mustDo(t, func() error { _, err := svc.RequestGateChanges(ctx, owner, p.ID, 5, "Add a README."); return err })
		reviews := getGate(t, h, p.ID, 5).GetReviews()
		if len(reviews) != 1 {
			t.Fatalf("reviews: %v", reviews)
		}
		wantProofs("the review", reviews[0].GetProofs())
	})
}

// TestOnlyFuzzyLlamaRecordsRuns: a person's proof is an attestation and carries no run; a
// service's run is bounded and well-formed; the preview start-up is FuzzyLlama's own check, which
// no person attests and no gate requires.
func TestOnlyFuzzyLlamaRecordsRuns(t *testing.T) {
	svc, _ := newService(t, stores["sqlite"])
	h := &projects.Handler{Service: svc}
	ctx := context.Background()
	p := projectAt(t, svc, 5)
	mustDo(t, func() error { _, err := svc.StartGate(ctx, owner, p.ID, 5); return err })
	record := func(who authn.Identity, typ commonv1.ProofType, run *pb.ProofRun) error {
		_, err := h.RecordProof(authn.NewContext(ctx, who), &pb.RecordProofRequest{ProjectId: p.ID, Gate: 5, Type: typ,
			Result: pb.ProofResult_PROOF_RESULT_PASS, Summary: "checked", Run: run})
		return err
	}

	err := record(owner, commonv1.ProofType_PROOF_TYPE_BUILD, buildRun())
	wantInvalid(t, "a person's run", err, "run")
	if err == nil || !strings.Contains(err.Error(), "only FuzzyLlama records how it ran a proof") {
		t.Errorf("a person's run: %v", err)
	}

	err = record(owner, commonv1.ProofType_PROOF_TYPE_PREVIEW_STARTUP, nil)
	wantInvalid(t, "a person's preview start-up", err, "type")
	if e, ok := apperr.As(err); !ok || !strings.Contains(e.Fields[0].Description, "cannot be attested") {
		t.Errorf("a person's preview start-up: %v", err)
	}

	for field, mutate := range map[string]func(r *pb.ProofRun){
		"run.treeHash":          func(r *pb.ProofRun) { r.TreeHash = "" },
		"run.command":           func(r *pb.ProofRun) { r.Command = strings.Repeat("x", 2001) },
		"run.runner":            func(r *pb.ProofRun) { r.Runner = strings.Repeat("r", 51) },
		"run.exitCode":          func(r *pb.ProofRun) { r.ExitCode = -2 },
		"run.durationMs":        func(r *pb.ProofRun) { r.DurationMs = -1 },
		"run.artifacts":         func(r *pb.ProofRun) { r.Artifacts = make([]*pb.ProofArtifact, 11) },
		"run.artifacts[0].id":   func(r *pb.ProofRun) { r.Artifacts[0].Id = strings.Repeat("i", 65) },
		"run.artifacts[0].kind": func(r *pb.ProofRun) { r.Artifacts[0].Kind = "video" },
		"run.artifacts[0].mediaType": func(r *pb.ProofRun) {
			r.Artifacts[0].MediaType = "text/plain\n"
		},
		"run.artifacts[0].sizeBytes": func(r *pb.ProofRun) { r.Artifacts[0].SizeBytes = -1 },
	} {
		run := buildRun()
		mutate(run)
		wantInvalid(t, field, record(agents, commonv1.ProofType_PROOF_TYPE_BUILD, run), field)
	}
	if g, _ := svc.GetGate(ctx, owner, p.ID, 5); len(g.Proofs) != 0 {
		t.Fatalf("recorded after refusals: %+v", g.Proofs)
	}

	// The agents service records it, at the limits; it counts for no gate.
	run := buildRun()
	run.TreeHash, run.Command, run.Runner = strings.Repeat("h", 100), strings.Repeat("c", 2000), strings.Repeat("r", 50)
	run.ExitCode = -1
	run.Artifacts = make([]*pb.ProofArtifact, 10)
	for i := range run.Artifacts {
		run.Artifacts[i] = &pb.ProofArtifact{Id: strings.Repeat("i", 64), Kind: "screenshot", MediaType: "image/png"}
	}
	mustDo(t, func() error { return record(agents, commonv1.ProofType_PROOF_TYPE_PREVIEW_STARTUP, run) })
	g := getGate(t, h, p.ID, 5)
	if len(g.GetProofs()) != 1 || !proto.Equal(g.GetProofs()[0].GetRun(), run) {
		t.Fatalf("the preview start-up: %v", g.GetProofs())
	}
	if got := g.GetMissingProofs(); !slices.Equal(got, mapProofs(workflow.ProofBuild, workflow.ProofLint)) {
		t.Errorf("missing after a preview start-up: %v", got)
	}
}

// TestWorkflowSaysHowMuchCoverageIsEnough: G6 of every workflow requires 80 % coverage, no other
// gate a share; no gate requires the preview start-up.
func TestWorkflowSaysHowMuchCoverageIsEnough(t *testing.T) {
	h := &projects.Handler{}
	for _, typ := range workflow.ProjectTypes() {
		wf, err := h.GetWorkflow(context.Background(), &pb.GetWorkflowRequest{
			ProjectType: commonv1.ProjectType(commonv1.ProjectType_value["PROJECT_TYPE_"+strings.ToUpper(typ)])})
		if err != nil || len(wf.GetGates()) != workflow.Count {
			t.Fatalf("%s: %v, %v", typ, wf, err)
		}
		for _, g := range wf.GetGates() {
			want := int32(0)
			if g.GetNumber() == 6 {
				want = 80
			}
			if g.GetCoverageThresholdPercent() != want {
				t.Errorf("%s G%d: coverage threshold %d, want %d", typ, g.GetNumber(), g.GetCoverageThresholdPercent(), want)
			}
			for _, p := range g.GetProofs() {
				if p == commonv1.ProofType_PROOF_TYPE_PREVIEW_STARTUP {
					t.Errorf("%s G%d requires the preview start-up", typ, g.GetNumber())
				}
			}
		}
	}
}
