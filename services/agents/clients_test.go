package agents

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// documentsAPI is the documents service's gRPC API as far as DocumentsClient uses it: it
// checks a batch's bounds as the service does, replays a batch's key, and lists in pages.
type documentsAPI struct {
	documentsv1.DocumentsServiceClient
	listed  []*documentsv1.Document
	content map[string]string // by document id
	batches []*documentsv1.CreateDocumentsRequest
	stored  map[string]*documentsv1.CreateDocumentsResponse // by idempotency key
	gets    int
}

func (a *documentsAPI) CreateDocuments(_ context.Context, req *documentsv1.CreateDocumentsRequest, _ ...grpc.CallOption) (*documentsv1.CreateDocumentsResponse, error) {
	a.batches = append(a.batches, req)
	if resp, ok := a.stored[req.GetIdempotencyKey()]; ok {
		return resp, nil
	}
	size := 0
	for _, d := range req.GetDocuments() {
		size += len(d.GetContent())
	}
	if len(req.GetDocuments()) > 100 || size > 8<<20 {
		return nil, fmt.Errorf("batch of %d documents, %d bytes", len(req.GetDocuments()), size)
	}
	resp := &documentsv1.CreateDocumentsResponse{}
	for _, d := range req.GetDocuments() {
		resp.Documents = append(resp.Documents, &documentsv1.SavedDocument{Document: &documentsv1.Document{
			Id: "id-" + d.GetTitle(), Type: d.GetType(), Title: d.GetTitle(), Version: 1}})
	}
	a.stored[req.GetIdempotencyKey()] = resp
	return resp, nil
}

func (a *documentsAPI) ListDocuments(_ context.Context, req *documentsv1.ListDocumentsRequest, _ ...grpc.CallOption) (*documentsv1.ListDocumentsResponse, error) {
	var matching []*documentsv1.Document
	for _, d := range a.listed {
		if req.GetType() == 0 || d.GetType() == req.GetType() {
			matching = append(matching, d)
		}
	}
	start, _ := strconv.Atoi(req.GetPageToken())
	end := min(start+int(req.GetPageSize()), len(matching))
	resp := &documentsv1.ListDocumentsResponse{Documents: matching[start:end]}
	if end < len(matching) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

func (a *documentsAPI) GetDocument(_ context.Context, req *documentsv1.GetDocumentRequest, _ ...grpc.CallOption) (*documentsv1.GetDocumentResponse, error) {
	a.gets++
	return &documentsv1.GetDocumentResponse{Content: a.content[req.GetDocumentId()]}, nil
}

// TestStoreBatches: a run's files are stored as code documents titled with their paths, in
// batches within the documents service's bounds (100 documents, 8 MiB), each keyed from the
// run's key; a repeat replays every batch and stores nothing twice.
func TestStoreBatches(t *testing.T) {
	out := output.Output{Documents: []output.Document{{Type: "other", Title: "Notes", Content: "n"}}}
	for i := range 230 {
		out.Files = append(out.Files, output.File{Path: fmt.Sprintf("src/f%03d.go", i), Content: "package src\n"})
	}
	big := strings.Repeat("x", 500<<10)
	for i := range 20 { // 10 MB: more than one batch holds
		out.Files = append(out.Files, output.File{Path: fmt.Sprintf("assets/big%02d.txt", i), Content: big})
	}
	api := &documentsAPI{stored: map[string]*documentsv1.CreateDocumentsResponse{}}
	c := &DocumentsClient{Client: api}
	run := store.Run{ID: "r1", ProjectID: "p1", Role: "backend_developer", Gate: 5}
	got, err := c.Store(context.Background(), run, out.AsDocuments(), "run:r1")
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var keys []string
	for _, b := range api.batches {
		sizes = append(sizes, len(b.GetDocuments()))
		keys = append(keys, b.GetIdempotencyKey())
	}
	if want := []int{100, 100, 47, 4}; !reflect.DeepEqual(sizes, want) {
		t.Fatalf("batches of %v documents, want %v", sizes, want)
	}
	if want := []string{"run:r1", "run:r1:2", "run:r1:3", "run:r1:4"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	if len(got) != 251 || got[0].Title != "Notes" || got[1] != (store.Document{ID: "id-src/f000.go", Type: "code", Title: "src/f000.go", Version: 1}) ||
		got[250].Title != "assets/big19.txt" {
		t.Fatalf("stored %d: first %+v, second %+v", len(got), got[0], got[1])
	}
	file := api.batches[0].GetDocuments()[1]
	if file.GetType() != commonv1.DocumentType_DOCUMENT_TYPE_CODE || file.GetTitle() != "src/f000.go" || file.GetGate() != 5 ||
		api.batches[0].GetAgent().GetRole() != commonv1.AgentRole_AGENT_ROLE_BACKEND_DEVELOPER || !api.batches[0].GetAddVersions() {
		t.Fatalf("first file stored as %+v in %+v", file, api.batches[0])
	}
	again, err := c.Store(context.Background(), run, out.AsDocuments(), "run:r1")
	if err != nil || !reflect.DeepEqual(again, got) || len(api.stored) != 4 {
		t.Fatalf("a repeat: %v, %d batches stored", err, len(api.stored))
	}
}

// TestLatestPagesAndLeavesFilesOut: the documents a prompt builds on are read past the first
// page, and source files are not among them (the prompt shows them as the source tree).
func TestLatestPagesAndLeavesFilesOut(t *testing.T) {
	api := &documentsAPI{content: map[string]string{}}
	for i := range 260 {
		path := fmt.Sprintf("backend/f%03d.go", i)
		api.listed = append(api.listed, &documentsv1.Document{Id: path, Type: commonv1.DocumentType_DOCUMENT_TYPE_CODE, Title: path, Version: 1})
	}
	api.listed = append(api.listed,
		&documentsv1.Document{Id: "old", Type: commonv1.DocumentType_DOCUMENT_TYPE_CODE, Title: "Backend Implementation", Version: 2},
		&documentsv1.Document{Id: "spec", Type: commonv1.DocumentType_DOCUMENT_TYPE_API_SPEC, Title: "API Specification", Version: 3})
	api.content["old"], api.content["spec"] = "# Backend", "openapi: 3.0.3\n"
	c := &DocumentsClient{Client: api}
	got, err := c.Latest(context.Background(), "p1", 1000, 10000)
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.ContextDocument{{Type: "code", Title: "Backend Implementation", Version: 2, Content: "# Backend"},
		{Type: "api_spec", Title: "API Specification", Version: 3, Content: "openapi: 3.0.3\n"}}
	if !reflect.DeepEqual(got, want) || api.gets != 2 {
		t.Fatalf("latest %+v after %d reads", got, api.gets)
	}
}
