package offline

import (
	"fmt"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
)

// sourceFile is one file of a component, its path relative to the component's directory.
type sourceFile struct{ path, body string }

// sourceTree is a developer's G5 code: the files of its component under the role's source
// directory, and a README.md there with what the component is and its build, lint and test
// commands.
func (p *project) sourceTree() []output.File {
	var intro []string
	var files []sourceFile
	var title string
	switch p.brief.Role {
	case catalog.FrontendDeveloper:
		title = "web frontend"
		intro, files = p.frontendCode()
	case catalog.DataEngineer:
		title = "data pipeline"
		intro, files = p.dataCode()
	case catalog.MLEngineer:
		title = "models"
		intro, files = p.mlCode()
	case catalog.PromptEngineer:
		title = "prompt library"
		intro, files = p.promptCode()
	default:
		title = "backend API"
		intro, files = p.backendCode()
	}
	dir := "backend"
	if r, ok := catalog.Get(p.brief.Role); ok && r.SourceDir != "" {
		dir = r.SourceDir
	}
	var m md
	p.start(&m, p.name+": "+title)
	m.h2("Overview")
	m.bullets(intro...)
	m.h2("Files")
	var paths []string
	for _, f := range files {
		paths = append(paths, "`"+f.path+"`")
	}
	m.bullets(paths...)
	m.h2("Not done yet")
	m.bullets("This is a working skeleton from fixed templates: it builds and its tests pass, but the domain rules beyond validation and ownership are left to the developers, each marked TODO in the code.",
		"G5 runs the build, lint and test commands above on the repository and records their results as proofs.")
	out := []output.File{{Path: dir + "/README.md", Content: m.String()}}
	for _, f := range files {
		out = append(out, output.File{Path: dir + "/" + f.path, Content: f.body})
	}
	return out
}

// fill replaces {{KEY}} placeholders of a code template, and ‵ with a backtick (which Go raw
// strings cannot hold).
func fill(template string, kv ...string) string {
	pairs := append([]string{"‵", "`"}, kv...)
	for i := 2; i < len(pairs); i += 2 {
		pairs[i] = "{{" + pairs[i] + "}}"
	}
	return strings.NewReplacer(pairs...).Replace(template)
}

// collections lists the resources' collection names as a quoted, comma-separated list.
func (p *project) collections(quote func(string) string) string {
	var out []string
	for _, r := range p.resources {
		out = append(out, quote(r.kebabPlural()))
	}
	return strings.Join(out, ", ")
}

func goQuote(s string) string { return fmt.Sprintf("%q", s) }

// backendCode is the Go API service of the architecture.
func (p *project) backendCode() ([]string, []sourceFile) {
	module := "example.com/" + p.slug() + "/backend"
	first := p.resources[0]
	kv := []string{"MODULE", module, "NAME", comment(p.name), "COLLECTIONS", p.collections(goQuote),
		"FIRST", first.kebabPlural(), "PORT", itoa(apiPort), "BASE", apiBase}
	intro := []string{
		fmt.Sprintf("Go 1.22 service implementing the API specification under `%s`: health, and list, create, get, update and delete for %s.", apiBase, list(p.resourceLabels())),
		"Standard library only: `net/http` routing with method patterns, `log/slog` JSON logs, graceful shutdown on SIGTERM.",
		"Storage behind the `Store` interface; the in-memory store serves development and tests, a PostgreSQL store following the database schema is the next step (TODO in `store.go`).",
		"Build: `cd backend && go build ./...` · Lint: `go vet ./...` · Test: `go test ./...` · Coverage: `go test -cover ./...`",
	}
	return intro, []sourceFile{
		{"go.mod", fill("module {{MODULE}}\n\ngo 1.22\n", kv...)},
		{"Makefile", "build:\n\tgo build ./...\n\nlint:\n\tgo vet ./...\n\ntest:\n\tgo test -race ./...\n"},
		{"cmd/server/main.go", fill(goMain, kv...)},
		{"cmd/server/main_test.go", fill(goMainTest, kv...)},
		{"internal/api/api.go", fill(goAPI, kv...)},
		{"internal/api/store.go", fill(goStore, kv...)},
		{"internal/api/api_test.go", fill(goAPITest, kv...)},
	}
}

const goMain = `// Command server runs the {{NAME}} API.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"{{MODULE}}/internal/api"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, ":"+envOr("PORT", "{{PORT}}"), logger); err != nil {
		logger.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// run serves the API on addr until ctx is done.
func run(ctx context.Context, addr string, logger *slog.Logger) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serve(ctx, l, logger)
}

// serve serves the API on l until ctx is done, then shuts down gracefully: requests in flight
// get 10 seconds to finish.
func serve(ctx context.Context, l net.Listener, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           api.New(api.NewMemoryStore(), api.DevAuth{}).Routes(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	logger.Info("listening", "addr", l.Addr().String())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
`

const goMainTest = `package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestServesUntilCancelled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, l, quiet) }()
	resp, err := http.Get("http://" + l.Addr().String() + "{{BASE}}/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestRunRefusesATakenAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := run(context.Background(), l.Addr().String(), quiet); err == nil {
		t.Fatal("run served on an address in use")
	}
}

func TestEnvOr(t *testing.T) {
	t.Setenv("PORT", "9090")
	if got := envOr("PORT", "{{PORT}}"); got != "9090" {
		t.Fatalf("PORT set: %q", got)
	}
	t.Setenv("PORT", "")
	if got := envOr("PORT", "{{PORT}}"); got != "{{PORT}}" {
		t.Fatalf("PORT empty: %q", got)
	}
}
`

const goAPI = `// Package api serves the {{NAME}} API specification.
package api

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Collections are the resources of the API specification, by path segment.
var Collections = []string{{{COLLECTIONS}}}

// Authenticator returns the id of the user a request is made by.
type Authenticator interface {
	UserID(r *http.Request) (string, bool)
}

// DevAuth takes the bearer token as the user id. TODO: verify JWT access tokens (architecture,
// cross-cutting concerns) before any deployment beyond a developer's machine.
type DevAuth struct{}

func (DevAuth) UserID(r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return token, ok && token != ""
}

// Server holds the handlers.
type Server struct {
	store Store
	auth  Authenticator
	now   func() time.Time
}

// New returns a server over a store.
func New(store Store, auth Authenticator) *Server {
	return &Server{store: store, auth: auth, now: func() time.Time { return time.Now().UTC() }}
}

// Routes returns the API's handler.
func (s *Server) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET {{BASE}}/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	for _, c := range Collections {
		base := "{{BASE}}/" + c
		mux.HandleFunc("GET "+base, s.authed(c, s.list))
		mux.HandleFunc("POST "+base, s.authed(c, s.create))
		mux.HandleFunc("GET "+base+"/{id}", s.authed(c, s.get))
		mux.HandleFunc("PUT "+base+"/{id}", s.authed(c, s.update))
		mux.HandleFunc("DELETE "+base+"/{id}", s.authed(c, s.delete))
	}
	return mux
}

type handler func(w http.ResponseWriter, r *http.Request, collection, owner string)

func (s *Server) authed(collection string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		owner, ok := s.auth.UserID(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "sign in first", nil)
			return
		}
		h(w, r, collection, owner)
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, collection, owner string) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "invalid_argument", "invalid query", []detail{{"limit", "must be between 1 and 100"}})
			return
		}
		limit = n
	}
	items, next, err := s.store.List(r.Context(), collection, owner, limit, r.URL.Query().Get("cursor"))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "could not list", nil)
		return
	}
	page := map[string]any{"items": items}
	if next != "" {
		page["nextCursor"] = next
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, collection, owner string) {
	in, ok := readInput(w, r)
	if !ok {
		return
	}
	now := s.now()
	it := Item{ID: newID(), OwnerID: owner, Name: in.Name, Description: in.Description, Status: in.Status,
		CreatedAt: now, UpdatedAt: now}
	if err := s.store.Create(r.Context(), collection, it); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "could not create", nil)
		return
	}
	writeJSON(w, http.StatusCreated, it)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, collection, owner string) {
	it, err := s.store.Get(r.Context(), collection, owner, r.PathValue("id"))
	if !s.found(w, err) {
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, collection, owner string) {
	in, ok := readInput(w, r)
	if !ok {
		return
	}
	it, err := s.store.Get(r.Context(), collection, owner, r.PathValue("id"))
	if !s.found(w, err) {
		return
	}
	it.Name, it.Description, it.Status, it.UpdatedAt = in.Name, in.Description, in.Status, s.now()
	if !s.found(w, s.store.Update(r.Context(), collection, it)) {
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, collection, owner string) {
	if !s.found(w, s.store.Delete(r.Context(), collection, owner, r.PathValue("id"))) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// found writes the error response for err, if any; another user's item is not found either,
// so ids cannot be probed.
func (s *Server) found(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such item", nil)
	default:
		writeError(w, http.StatusInternalServerError, "internal", "storage failed", nil)
	}
	return false
}

// readInput decodes and validates a create or update body.
func readInput(w http.ResponseWriter, r *http.Request) (Input, bool) {
	var in Input
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_argument", "the body must be a JSON object of the input schema", nil)
		return in, false
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Status == "" {
		in.Status = "active"
	}
	var details []detail
	if n := utf8.RuneCountInString(in.Name); n < 1 || n > 200 {
		details = append(details, detail{"name", "is required, at most 200 characters"})
	}
	if utf8.RuneCountInString(in.Description) > 10000 {
		details = append(details, detail{"description", "must be at most 10000 characters"})
	}
	if in.Status != "active" && in.Status != "archived" {
		details = append(details, detail{"status", "must be active or archived"})
	}
	if len(details) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_argument", "invalid input", details)
		return in, false
	}
	return in, true
}

type detail struct {
	Field   string ‵json:"field"‵
	Message string ‵json:"message"‵
}

func writeError(w http.ResponseWriter, status int, code, message string, details []detail) {
	writeJSON(w, status, map[string]any{"code": code, "message": message, "details": details})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newID returns a random (version 4) UUID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
`

const goStore = `package api

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Item is the shape the resources share in this first version (the API specification's item
// schemas).
type Item struct {
	ID          string    ‵json:"id"‵
	OwnerID     string    ‵json:"ownerId"‵
	Name        string    ‵json:"name"‵
	Description string    ‵json:"description"‵
	Status      string    ‵json:"status"‵
	CreatedAt   time.Time ‵json:"createdAt"‵
	UpdatedAt   time.Time ‵json:"updatedAt"‵
}

// Input is the body of create and update requests (the input schemas).
type Input struct {
	Name        string ‵json:"name"‵
	Description string ‵json:"description"‵
	Status      string ‵json:"status"‵
}

// ErrNotFound is returned for an item that does not exist or belongs to someone else.
var ErrNotFound = errors.New("not found")

// Store keeps the items of each collection, per owner.
// TODO: a PostgreSQL implementation following the database schema (one table per collection).
type Store interface {
	List(ctx context.Context, collection, owner string, limit int, cursor string) (items []Item, next string, err error)
	Create(ctx context.Context, collection string, it Item) error
	Get(ctx context.Context, collection, owner, id string) (Item, error)
	Update(ctx context.Context, collection string, it Item) error
	Delete(ctx context.Context, collection, owner, id string) error
}

// MemoryStore is a Store in memory, for development and tests.
type MemoryStore struct {
	mu    sync.Mutex
	items map[string][]Item // collection -> items, oldest first
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{items: map[string][]Item{}} }

// List returns the owner's items newest first, after the item named by cursor.
func (s *MemoryStore) List(_ context.Context, collection, owner string, limit int, cursor string) ([]Item, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.items[collection]
	out := []Item{}
	started := cursor == ""
	for i := len(all) - 1; i >= 0; i-- {
		it := all[i]
		if it.OwnerID != owner {
			continue
		}
		if !started {
			started = it.ID == cursor
			continue
		}
		if len(out) == limit {
			return out, out[len(out)-1].ID, nil
		}
		out = append(out, it)
	}
	return out, "", nil
}

func (s *MemoryStore) Create(_ context.Context, collection string, it Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[collection] = append(s.items[collection], it)
	return nil
}

func (s *MemoryStore) Get(_ context.Context, collection, owner, id string) (Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.find(collection, owner, id); i >= 0 {
		return s.items[collection][i], nil
	}
	return Item{}, ErrNotFound
}

func (s *MemoryStore) Update(_ context.Context, collection string, it Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(collection, it.OwnerID, it.ID)
	if i < 0 {
		return ErrNotFound
	}
	s.items[collection][i] = it
	return nil
}

func (s *MemoryStore) Delete(_ context.Context, collection, owner, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(collection, owner, id)
	if i < 0 {
		return ErrNotFound
	}
	s.items[collection] = append(s.items[collection][:i], s.items[collection][i+1:]...)
	return nil
}

func (s *MemoryStore) find(collection, owner, id string) int {
	for i, it := range s.items[collection] {
		if it.ID == id && it.OwnerID == owner {
			return i
		}
	}
	return -1
}
`

const goAPITest = `package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func do(t *testing.T, h http.Handler, method, path, user, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+user)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestLifecycle(t *testing.T) {
	h := New(NewMemoryStore(), DevAuth{}).Routes()
	base := "{{BASE}}/{{FIRST}}"
	rec := do(t, h, "POST", base, "alice", ‵{"name":"First"}‵)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var it Item
	if err := json.NewDecoder(rec.Body).Decode(&it); err != nil || it.Status != "active" {
		t.Fatalf("created %+v, %v", it, err)
	}
	if rec := do(t, h, "GET", base+"/"+it.ID, "alice", ""); rec.Code != http.StatusOK {
		t.Fatalf("get: %d", rec.Code)
	}
	if rec := do(t, h, "GET", base+"/"+it.ID, "bob", ""); rec.Code != http.StatusNotFound {
		t.Fatalf("another user's item: %d, want 404", rec.Code)
	}
	if rec := do(t, h, "PUT", base+"/"+it.ID, "alice", ‵{"name":"Renamed","status":"archived"}‵); rec.Code != http.StatusOK {
		t.Fatalf("update: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, "GET", base, "alice", ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Renamed") {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, "DELETE", base+"/"+it.ID, "alice", ""); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d", rec.Code)
	}
}

func TestRefusals(t *testing.T) {
	h := New(NewMemoryStore(), DevAuth{}).Routes()
	base := "{{BASE}}/{{FIRST}}"
	if rec := do(t, h, "GET", base, "", ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d", rec.Code)
	}
	if rec := do(t, h, "POST", base, "alice", ‵{"name":""}‵); rec.Code != http.StatusBadRequest {
		t.Fatalf("empty name: %d", rec.Code)
	}
	if rec := do(t, h, "POST", base, "alice", ‵{"name":"x","colour":"red"}‵); rec.Code != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", rec.Code)
	}
	if rec := do(t, h, "GET", base+"?limit=0", "alice", ""); rec.Code != http.StatusBadRequest {
		t.Fatalf("bad limit: %d", rec.Code)
	}
}

func TestPagination(t *testing.T) {
	h := New(NewMemoryStore(), DevAuth{}).Routes()
	base := "{{BASE}}/{{FIRST}}"
	for i := 0; i < 3; i++ {
		do(t, h, "POST", base, "alice", ‵{"name":"item"}‵)
	}
	var page struct {
		Items      []Item ‵json:"items"‵
		NextCursor string ‵json:"nextCursor"‵
	}
	rec := do(t, h, "GET", base+"?limit=2", "alice", "")
	if err := json.NewDecoder(rec.Body).Decode(&page); err != nil || len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %+v %v", page, err)
	}
	rec = do(t, h, "GET", base+"?limit=2&cursor="+page.NextCursor, "alice", "")
	page.NextCursor = ""
	if err := json.NewDecoder(rec.Body).Decode(&page); err != nil || len(page.Items) != 1 || page.NextCursor != "" {
		t.Fatalf("second page: %+v %v", page, err)
	}
}

func TestMissingItems(t *testing.T) {
	h := New(NewMemoryStore(), DevAuth{}).Routes()
	base := "{{BASE}}/{{FIRST}}/no-such-id"
	for _, method := range []string{"GET", "PUT", "DELETE"} {
		if rec := do(t, h, method, base, "alice", ‵{"name":"x"}‵); rec.Code != http.StatusNotFound {
			t.Errorf("%s of a missing item: %d", method, rec.Code)
		}
	}
	if rec := do(t, h, "PUT", base, "alice", ‵not json‵); rec.Code != http.StatusBadRequest {
		t.Errorf("update with a malformed body: %d", rec.Code)
	}
}

// brokenStore fails every call, as a database that is down would.
type brokenStore struct{ Store }

var errDown = errors.New("connection refused")

func (brokenStore) List(context.Context, string, string, int, string) ([]Item, string, error) {
	return nil, "", errDown
}
func (brokenStore) Create(context.Context, string, Item) error { return errDown }
func (brokenStore) Get(context.Context, string, string, string) (Item, error) {
	return Item{}, errDown
}

func TestStorageFailuresAreInternalErrors(t *testing.T) {
	h := New(brokenStore{}, DevAuth{}).Routes()
	base := "{{BASE}}/{{FIRST}}"
	for _, req := range [][2]string{{"GET", base}, {"POST", base}, {"GET", base + "/x"}} {
		rec := do(t, h, req[0], req[1], "alice", ‵{"name":"x"}‵)
		if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), errDown.Error()) {
			t.Errorf("%s %s: %d %s", req[0], req[1], rec.Code, rec.Body)
		}
	}
}
`
