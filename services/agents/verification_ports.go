package agents

import (
	"context"
	"fmt"
	"slices"
	"strings"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	projectsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// SourceFile is one file of a project's source tree: a version of a code document titled by
// its path (the latest, or the one a verification ran on). The store keeps a verification's
// files as they are.
type SourceFile = store.TreeFile

// Sources is what verification needs of the documents service: the project's source files.
type Sources interface {
	// Files lists the latest version of every source file of the project.
	Files(ctx context.Context, projectID string) ([]SourceFile, error)
	// Content returns one version of a file.
	Content(ctx context.Context, projectID, documentID string, version int) ([]byte, error)
}

// GateEvidence is what verification needs to know of a gate.
type GateEvidence struct {
	Revision int
	State    string
	// DeliverablesHash is the gate's: a proof recorded now speaks for it.
	DeliverablesHash string
	// Proofs are the proof types the gate's workflow requires; MissingProofs those it lacks.
	Proofs, MissingProofs []string
	// CoverageThreshold is the workflow's, in percent (0: none).
	CoverageThreshold int
}

// RunProof is a proof verification produced, with how it ran.
type RunProof struct {
	Type       string
	Pass       bool
	Summary    string
	TreeHash   string
	Command    string
	ExitCode   int
	DurationMS int64
	Runner     string
	Artifacts  []ProofArtifact
}

// ProofArtifact names an artifact of a proof.
type ProofArtifact struct {
	ID        string
	Kind      string
	MediaType string
	Size      int64
}

// Evidence is what verification needs of the projects service beyond Projects.
type Evidence interface {
	GateEvidence(ctx context.Context, projectID string, gate int) (GateEvidence, error)
	RecordRunProof(ctx context.Context, projectID string, gate int, p RunProof) error
}

// GateEvidence implements Evidence.
func (c *ProjectsClient) GateEvidence(ctx context.Context, projectID string, gate int) (GateEvidence, error) {
	p, err := c.Client.GetProject(ctx, &projectsv1.GetProjectRequest{ProjectId: projectID})
	if err != nil {
		return GateEvidence{}, err
	}
	wf, err := c.Client.GetWorkflow(ctx, &projectsv1.GetWorkflowRequest{ProjectType: p.GetProject().GetType()})
	if err != nil {
		return GateEvidence{}, err
	}
	g, err := c.Client.GetGate(ctx, &projectsv1.GetGateRequest{ProjectId: projectID, Gate: int32(gate)})
	if err != nil {
		return GateEvidence{}, err
	}
	ev := GateEvidence{Revision: int(g.GetGate().GetRevision()), State: gateStateWord(g.GetGate().GetState()),
		DeliverablesHash: g.GetGate().GetDeliverablesHash(), MissingProofs: mapSlice(g.GetGate().GetMissingProofs(), proofWord)}
	for _, wg := range wf.GetGates() {
		if int(wg.GetNumber()) == gate {
			ev.Proofs = mapSlice(wg.GetProofs(), proofWord)
			ev.CoverageThreshold = int(wg.GetCoverageThresholdPercent())
		}
	}
	return ev, nil
}

// RecordRunProof implements Evidence; a proof without a runner is recorded without a run (a
// check that ran no code, such as the API specification's validation).
func (c *ProjectsClient) RecordRunProof(ctx context.Context, projectID string, gate int, p RunProof) error {
	result := projectsv1.ProofResult_PROOF_RESULT_FAIL
	if p.Pass {
		result = projectsv1.ProofResult_PROOF_RESULT_PASS
	}
	var run *projectsv1.ProofRun
	if p.Runner != "" {
		run = &projectsv1.ProofRun{TreeHash: p.TreeHash, Command: p.Command, ExitCode: int32(p.ExitCode), DurationMs: p.DurationMS,
			Runner: p.Runner}
		for _, a := range p.Artifacts {
			run.Artifacts = append(run.Artifacts, &projectsv1.ProofArtifact{Id: a.ID, Kind: a.Kind, MediaType: a.MediaType, SizeBytes: a.Size})
		}
	}
	_, err := c.Client.RecordProof(ctx, &projectsv1.RecordProofRequest{ProjectId: projectID, Gate: int32(gate),
		Type: proofPB(p.Type), Result: result, Summary: p.Summary, Run: run})
	return err
}

// Files implements Sources: the project's code documents titled by a path, a page at a time.
func (c *DocumentsClient) Files(ctx context.Context, projectID string) ([]SourceFile, error) {
	var out []SourceFile
	token := ""
	for range sourcetree.MaxFiles/200 + 10 { // bounded: code documents that are not files share the pages
		resp, err := c.Client.ListDocuments(ctx, &documentsv1.ListDocumentsRequest{ProjectId: projectID,
			Type: commonv1.DocumentType_DOCUMENT_TYPE_CODE, PageSize: 200, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, d := range resp.GetDocuments() {
			if sourcetree.IsPath(d.GetTitle()) {
				out = append(out, SourceFile{Path: d.GetTitle(), DocumentID: d.GetId(), Version: int(d.GetVersion()),
					Gate: int(d.GetGate()), ContentHash: d.GetContentHash(), Size: d.GetSizeBytes()})
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("the project has more code documents than a source tree may hold (%d files)", sourcetree.MaxFiles)
}

// Content implements Sources.
func (c *DocumentsClient) Content(ctx context.Context, projectID, documentID string, version int) ([]byte, error) {
	resp, err := c.Client.GetDocumentVersion(ctx, &documentsv1.GetDocumentVersionRequest{ProjectId: projectID,
		DocumentId: documentID, Version: int32(version)})
	if err != nil {
		return nil, err
	}
	return []byte(resp.GetContent()), nil
}

// treeAt is the source tree as gate holds it: the latest version of every file of a gate up to
// it (or of no gate), one per path (the later gate's when two documents share one; the one
// listed first on the same gate), sorted by path. gate 0 means every file.
func treeAt(files []SourceFile, gate int) []SourceFile {
	byPath := map[string]SourceFile{}
	for _, f := range files {
		if gate > 0 && f.Gate > gate {
			continue
		}
		if prev, ok := byPath[f.Path]; !ok || f.Gate > prev.Gate {
			byPath[f.Path] = f
		}
	}
	out := make([]SourceFile, 0, len(byPath))
	for _, f := range byPath {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b SourceFile) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// treeHash is the content hash of a listed tree.
func treeHash(files []SourceFile) string {
	entries := make([]sourcetree.Entry, len(files))
	for i, f := range files {
		entries[i] = sourcetree.Entry{Path: f.Path, ContentHash: f.ContentHash}
	}
	return sourcetree.Hash(entries)
}
