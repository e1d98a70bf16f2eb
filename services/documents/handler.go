package documents

import (
	"bufio"
	"context"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/protoenum"
	"github.com/fuzzyllama/fuzzyllama/services/documents/archive"
	"github.com/fuzzyllama/fuzzyllama/services/documents/github"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

// Handler translates the DocumentsService gRPC API to the domain Service. It holds no rules.
type Handler struct {
	pb.UnimplementedDocumentsServiceServer
	Service *Service
}

func caller(ctx context.Context) authn.Identity {
	id, _ := authn.FromContext(ctx) // the authorization interceptor guarantees one
	return id
}

// Enum conversions, one pair per enum (see platform/protoenum).
func docType(v commonv1.DocumentType) string {
	return protoenum.Word(v, commonv1.DocumentType_name, "DOCUMENT_TYPE_")
}
func docTypePB(s string) commonv1.DocumentType {
	return protoenum.Value[commonv1.DocumentType](s, commonv1.DocumentType_value, "DOCUMENT_TYPE_")
}
func agentRole(v commonv1.AgentRole) string {
	return protoenum.Word(v, commonv1.AgentRole_name, "AGENT_ROLE_")
}
func agentRolePB(s string) commonv1.AgentRole {
	return protoenum.Value[commonv1.AgentRole](s, commonv1.AgentRole_value, "AGENT_ROLE_")
}
func outcomePB(s string) pb.SaveOutcome {
	return protoenum.Value[pb.SaveOutcome](s, pb.SaveOutcome_value, "SAVE_OUTCOME_")
}
func lineKindPB(s string) pb.DiffLineKind {
	return protoenum.Value[pb.DiffLineKind](s, pb.DiffLineKind_value, "DIFF_LINE_KIND_")
}

func agent(a *pb.AgentAuthor) Agent {
	if a == nil {
		return Agent{}
	}
	return Agent{RunID: a.GetRunId(), Role: agentRole(a.GetRole())}
}

func authorPB(v store.Version) *pb.Author {
	out := &pb.Author{UserId: v.AuthorUserID}
	if v.AgentRunID != "" {
		out.Agent = &pb.AgentAuthor{RunId: v.AgentRunID, Role: agentRolePB(v.AgentRole)}
	}
	return out
}

func documentPB(d store.Document) *pb.Document {
	return &pb.Document{Id: d.ID, ProjectId: d.ProjectID, Gate: int32(d.Gate), Type: docTypePB(d.Type), Title: d.Title,
		Version: int32(d.Latest.Number), ContentHash: d.Latest.ContentHash, SizeBytes: d.Latest.Size, Author: authorPB(d.Latest),
		ChangeNote: d.Latest.ChangeNote, CreatedBy: d.CreatedBy, CreateTime: timestamppb.New(d.CreatedAt),
		UpdateTime: timestamppb.New(d.Latest.CreatedAt)}
}

func versionPB(v store.Version) *pb.DocumentVersion {
	return &pb.DocumentVersion{DocumentId: v.DocumentID, Version: int32(v.Number), ContentHash: v.ContentHash,
		SizeBytes: v.Size, Author: authorPB(v), ChangeNote: v.ChangeNote, CreateTime: timestamppb.New(v.CreatedAt)}
}

func deliverablePB(r DeliverableRecord) *pb.DeliverableRecord {
	return &pb.DeliverableRecord{Gate: int32(r.Gate), DocumentType: docTypePB(r.DocumentType), DocumentId: r.DocumentID,
		Version: int32(r.Version), Recorded: r.Recorded, Reason: r.Reason}
}

func newDocument(d *pb.NewDocument) NewDocument {
	return NewDocument{Gate: int(d.GetGate()), Type: docType(d.GetType()), Title: d.GetTitle(), Content: []byte(d.GetContent()),
		ChangeNote: d.GetChangeNote()}
}

// CreateDocument implements pb.DocumentsServiceServer.
func (h *Handler) CreateDocument(ctx context.Context, req *pb.CreateDocumentRequest) (*pb.CreateDocumentResponse, error) {
	var doc *NewDocument
	if req.GetDocument() != nil {
		d := newDocument(req.GetDocument())
		doc = &d
	}
	b, err := h.Service.CreateDocument(ctx, caller(ctx), req.GetProjectId(), doc, agent(req.GetAgent()))
	if err != nil {
		return nil, err
	}
	edge.SetHTTPStatus(ctx, http.StatusCreated)
	out := &pb.CreateDocumentResponse{Document: documentPB(b.Documents[0].Document)}
	if len(b.Deliverables) > 0 {
		out.Deliverable = deliverablePB(b.Deliverables[0])
	}
	return out, nil
}

// CreateDocuments implements pb.DocumentsServiceServer.
func (h *Handler) CreateDocuments(ctx context.Context, req *pb.CreateDocumentsRequest) (*pb.CreateDocumentsResponse, error) {
	docs := make([]NewDocument, len(req.GetDocuments()))
	for i, d := range req.GetDocuments() {
		docs[i] = newDocument(d)
	}
	b, err := h.Service.CreateDocuments(ctx, caller(ctx), req.GetProjectId(), docs, agent(req.GetAgent()), req.GetAddVersions(), req.GetIdempotencyKey())
	if err != nil {
		return nil, err
	}
	edge.SetHTTPStatus(ctx, http.StatusCreated)
	out := &pb.CreateDocumentsResponse{}
	for _, s := range b.Documents {
		out.Documents = append(out.Documents, &pb.SavedDocument{Document: documentPB(s.Document), Outcome: outcomePB(s.Outcome)})
	}
	for _, r := range b.Deliverables {
		out.Deliverables = append(out.Deliverables, deliverablePB(r))
	}
	return out, nil
}

// GetDocument implements pb.DocumentsServiceServer.
func (h *Handler) GetDocument(ctx context.Context, req *pb.GetDocumentRequest) (*pb.GetDocumentResponse, error) {
	d, err := h.Service.GetDocument(ctx, req.GetProjectId(), req.GetDocumentId())
	if err != nil {
		return nil, err
	}
	return &pb.GetDocumentResponse{Document: documentPB(d), Content: string(d.Latest.Content)}, nil
}

// ListDocuments implements pb.DocumentsServiceServer.
func (h *Handler) ListDocuments(ctx context.Context, req *pb.ListDocumentsRequest) (*pb.ListDocumentsResponse, error) {
	since, err := input.OptionalTime("changedSince", req.GetChangedSince())
	if err != nil {
		return nil, err
	}
	docs, next, err := h.Service.ListDocuments(ctx, req.GetProjectId(), docType(req.GetType()), int(req.GetGate()), since,
		int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &pb.ListDocumentsResponse{NextPageToken: next}
	for _, d := range docs {
		out.Documents = append(out.Documents, documentPB(d))
	}
	return out, nil
}

// UpdateDocument implements pb.DocumentsServiceServer.
func (h *Handler) UpdateDocument(ctx context.Context, req *pb.UpdateDocumentRequest) (*pb.UpdateDocumentResponse, error) {
	saved, record, err := h.Service.UpdateDocument(ctx, caller(ctx), req.GetProjectId(), req.GetDocumentId(), int(req.GetBaseVersion()),
		[]byte(req.GetContent()), req.GetChangeNote(), agent(req.GetAgent()))
	if err != nil {
		return nil, err
	}
	out := &pb.UpdateDocumentResponse{Document: documentPB(saved.Document), Outcome: outcomePB(saved.Outcome)}
	if record != nil {
		out.Deliverable = deliverablePB(*record)
	}
	return out, nil
}

// ListDocumentVersions implements pb.DocumentsServiceServer.
func (h *Handler) ListDocumentVersions(ctx context.Context, req *pb.ListDocumentVersionsRequest) (*pb.ListDocumentVersionsResponse, error) {
	versions, next, err := h.Service.ListVersions(ctx, req.GetProjectId(), req.GetDocumentId(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &pb.ListDocumentVersionsResponse{NextPageToken: next}
	for _, v := range versions {
		out.Versions = append(out.Versions, versionPB(v))
	}
	return out, nil
}

// GetDocumentVersion implements pb.DocumentsServiceServer.
func (h *Handler) GetDocumentVersion(ctx context.Context, req *pb.GetDocumentVersionRequest) (*pb.GetDocumentVersionResponse, error) {
	_, v, err := h.Service.GetVersion(ctx, req.GetProjectId(), req.GetDocumentId(), int(req.GetVersion()))
	if err != nil {
		return nil, err
	}
	return &pb.GetDocumentVersionResponse{Version: versionPB(v), Content: string(v.Content)}, nil
}

// DiffDocumentVersions implements pb.DocumentsServiceServer.
func (h *Handler) DiffDocumentVersions(ctx context.Context, req *pb.DiffDocumentVersionsRequest) (*pb.DiffDocumentVersionsResponse, error) {
	d, err := h.Service.DiffVersions(ctx, req.GetProjectId(), req.GetDocumentId(), int(req.GetFromVersion()), int(req.GetToVersion()))
	if err != nil {
		return nil, err
	}
	out := &pb.DiffDocumentVersionsResponse{FromVersion: int32(d.From), ToVersion: int32(d.To), Unified: d.Unified,
		LinesAdded: int32(d.Added), LinesRemoved: int32(d.Removed), Truncated: d.Truncated}
	for _, hk := range d.Hunks {
		ph := &pb.DiffHunk{FromLine: int32(hk.FromLine), FromCount: int32(hk.FromCount), ToLine: int32(hk.ToLine), ToCount: int32(hk.ToCount)}
		for _, l := range hk.Lines {
			ph.Lines = append(ph.Lines, &pb.DiffLine{Kind: lineKindPB(l.Kind), Text: l.Text})
		}
		out.Hunks = append(out.Hunks, ph)
	}
	return out, nil
}

// RenderDocument implements pb.DocumentsServiceServer.
func (h *Handler) RenderDocument(ctx context.Context, req *pb.RenderDocumentRequest) (*pb.RenderDocumentResponse, error) {
	r, err := h.Service.RenderDocument(ctx, req.GetProjectId(), req.GetDocumentId(), int(req.GetVersion()))
	if err != nil {
		return nil, err
	}
	return &pb.RenderDocumentResponse{Version: int32(r.Version), ContentHash: r.ContentHash, Html: string(r.HTML)}, nil
}

// exportChunk is how much of an archive one stream message carries.
const exportChunk = 64 << 10

// ExportDocuments implements pb.DocumentsServiceServer: the archive is written through a
// buffer that sends it in chunks as it fills, so the service holds one chunk (and one page of
// contents) whatever the archive's size.
func (h *Handler) ExportDocuments(req *pb.ExportDocumentsRequest, stream grpc.ServerStreamingServer[pb.ExportDocumentsResponse]) error {
	format := map[pb.ArchiveFormat]string{pb.ArchiveFormat_ARCHIVE_FORMAT_UNSPECIFIED: archive.Zip,
		pb.ArchiveFormat_ARCHIVE_FORMAT_ZIP: archive.Zip, pb.ArchiveFormat_ARCHIVE_FORMAT_TAR_GZ: archive.TarGz}[req.GetFormat()]
	name, write, err := h.Service.ExportArchive(stream.Context(), req.GetProjectId(), format)
	if err != nil {
		return err
	}
	if err := stream.Send(&pb.ExportDocumentsResponse{Filename: name.Filename, ContentType: name.ContentType}); err != nil {
		return err
	}
	w := bufio.NewWriterSize(chunkSender{stream}, exportChunk)
	if err := write(w); err != nil {
		return err
	}
	return w.Flush()
}

// chunkSender sends each write as one message. (Send has encoded the message when it returns,
// so the buffer may be reused.)
type chunkSender struct {
	stream grpc.ServerStreamingServer[pb.ExportDocumentsResponse]
}

func (c chunkSender) Write(p []byte) (int, error) {
	if err := c.stream.Send(&pb.ExportDocumentsResponse{Data: p}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ExportToGit implements pb.DocumentsServiceServer.
func (h *Handler) ExportToGit(ctx context.Context, req *pb.ExportToGitRequest) (*pb.ExportToGitResponse, error) {
	e := GitExport{RemoteURL: req.GetRemoteUrl(), Token: req.GetToken(), Branch: req.GetBranch()}
	if r := req.GetCreateGithubRepository(); r != nil {
		e.CreateRepository = &github.NewRepository{Name: r.GetName(), Description: r.GetDescription(), Private: !r.GetPublic()}
	}
	out, err := h.Service.ExportToGit(ctx, req.GetProjectId(), e)
	if err != nil {
		return nil, err
	}
	return &pb.ExportToGitResponse{RemoteUrl: out.RemoteURL, HtmlUrl: out.HTMLURL, Branch: out.Branch, HeadCommit: out.Head,
		Commits: int32(out.Commits)}, nil
}
