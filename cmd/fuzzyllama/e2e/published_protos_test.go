package e2e

// The published contract, used the way a third party uses it: a gRPC client generated with stock
// tools from the descriptor set the product serves, and the breaking-change check of make test.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
)

// protoRepoRoot is the repository's root (tests run in cmd/fuzzyllama/e2e).
func protoRepoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "scripts", "proto.sh")); err != nil {
		t.Fatalf("repository root not found from the test's directory: %v", err)
	}
	return root
}

// protoTools returns the directory of the pinned buf and protoc plugins, which scripts/proto.sh
// installs (make test runs it before go test); the test is skipped without them.
func protoTools(t *testing.T, root string, names ...string) string {
	t.Helper()
	bin := filepath.Join(root, ".bin")
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(bin, n)); err != nil {
			t.Skipf("%s is not installed: run scripts/proto.sh lint (make test does) to install the pinned protobuf tools into .bin", n)
		}
	}
	return bin
}

// runTool runs name in dir with env added to the test's, failing the test on an error.
func runTool(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, &stdout, &stderr)
	}
	return stdout.String()
}

// grpcAddrs are the services' gRPC addresses, as the process logs them when it starts.
func (s *server) grpcAddrs(t *testing.T) map[string]string {
	t.Helper()
	const listening = " service listening (gRPC)"
	addrs := map[string]string{}
	for line := range strings.Lines(s.logs.String()) {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && strings.HasSuffix(l.Msg, listening) {
			addrs[strings.TrimSuffix(l.Msg, listening)] = l.Addr
		}
	}
	for _, name := range []string{"auth", "projects"} {
		if addrs[name] == "" {
			t.Fatalf("no %q gRPC address in the logs:\n%s", name, s.logs)
		}
	}
	return addrs
}

// descriptorSet fetches the published descriptor set as any client would.
func (s *server) descriptorSet(t *testing.T) []byte {
	t.Helper()
	resp, err := http.Get(s.base + "/api/docs/fuzzyllama.binpb")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/docs/fuzzyllama.binpb: %d %v: %.200s", resp.StatusCode, err, body)
	}
	return body
}

// reflectedServices lists the services of a gRPC server through its reflection service, as
// `grpcurl -plaintext <addr> list` does.
func reflectedServices(t *testing.T, addr string) []string {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("reflection on %s: %v", addr, err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names
}

// The client's buf template: managed mode puts the FuzzyLlama packages under the client's own
// module; google/api and the OpenAPI options keep their published Go packages.
const clientTemplate = `version: v2
managed:
  enabled: true
  override:
    - file_option: go_package_prefix
      path: fuzzyllama
      value: example.com/fuzzyllamaclient/gen
plugins:
  - local: protoc-gen-go
    out: gen
    opt: paths=source_relative
  - local: protoc-gen-go-grpc
    out: gen
    opt: paths=source_relative
`

// clientMain registers a user with AuthService.Register, creates a project as that user with
// ProjectsService.CreateProject (the access token as bearer in the authorization metadata), and
// prints both ids.
const clientMain = `package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	authv1 "example.com/fuzzyllamaclient/gen/fuzzyllama/auth/v1"
	commonv1 "example.com/fuzzyllamaclient/gen/fuzzyllama/common/v1"
	projectsv1 "example.com/fuzzyllamaclient/gen/fuzzyllama/projects/v1"
)

func main() {
	authAddr := flag.String("auth", "", "the auth service's gRPC address")
	projectsAddr := flag.String("projects", "", "the projects service's gRPC address")
	email := flag.String("email", "", "the new user's email")
	password := flag.String("password", "", "the new user's password")
	project := flag.String("project", "", "the name of the project to create")
	flag.Parse()
	if err := run(*authAddr, *projectsAddr, *email, *password, *project); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(authAddr, projectsAddr, email, password, project string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	plaintext := grpc.WithTransportCredentials(insecure.NewCredentials())
	authConn, err := grpc.NewClient(authAddr, plaintext)
	if err != nil {
		return err
	}
	defer authConn.Close()
	projectsConn, err := grpc.NewClient(projectsAddr, plaintext)
	if err != nil {
		return err
	}
	defer projectsConn.Close()

	reg, err := authv1.NewAuthServiceClient(authConn).Register(ctx, &authv1.RegisterRequest{
		Email: email, Password: password, Name: "Published Client"})
	if err != nil {
		return fmt.Errorf("Register: %w", err)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+reg.GetAccessToken())
	created, err := projectsv1.NewProjectsServiceClient(projectsConn).CreateProject(ctx, &projectsv1.CreateProjectRequest{
		Name:        project,
		Description: "Created by a client generated from the published descriptor set",
		Type:        commonv1.ProjectType_PROJECT_TYPE_TRADITIONAL,
	})
	if err != nil {
		return fmt.Errorf("CreateProject: %w", err)
	}
	fmt.Printf("user %s\nproject %s\n", reg.GetUser().GetId(), created.GetProject().GetId())
	return nil
}
`

// buildPublishedClient generates Go code from the descriptor set alone with the pinned buf,
// protoc-gen-go and protoc-gen-go-grpc (nothing of this repository's scripts or protos), and
// builds clientMain with it in a module of its own that requires what gen/go.mod requires (so
// every module comes from the module cache). It returns the client binary. On a cold build
// cache the build takes minutes; make test's earlier steps (go vet, apigen) warm it.
func buildPublishedClient(t *testing.T, root, bin string, set []byte) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("fuzzyllama.binpb", set)
	write("buf.gen.yaml", []byte(clientTemplate))
	runTool(t, 2*time.Minute, dir, []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"BUF_CACHE_DIR=" + filepath.Join(dir, ".buf-cache")},
		filepath.Join(bin, "buf"), "generate", "fuzzyllama.binpb", "--template", "buf.gen.yaml")

	// The generated code keeps the protos' comments (the descriptor set has source info).
	src, err := os.ReadFile(filepath.Join(root, "proto", "fuzzyllama", "auth", "v1", "auth_service.proto"))
	if err != nil {
		t.Fatal(err)
	}
	comment := regexp.MustCompile(`//[^\n]*\n\s*rpc Register\(`).Find(src)
	stub, err := os.ReadFile(filepath.Join(dir, "gen", "fuzzyllama", "auth", "v1", "auth_service_grpc.pb.go"))
	if err != nil {
		t.Fatalf("generated stub: %v", err)
	}
	if comment == nil || !bytes.Contains(stub, bytes.TrimSpace(bytes.SplitN(comment, []byte("\n"), 2)[0])) {
		t.Errorf("the generated AuthService stub lacks Register's comment (%q): no source info in the descriptor set?", comment)
	}

	mod, err := os.ReadFile(filepath.Join(root, "gen", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "gen", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.mod", regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(mod, []byte("module example.com/fuzzyllamaclient")))
	write("go.sum", sum)
	write("main.go", []byte(clientMain))
	client := filepath.Join(dir, "client")
	runTool(t, 8*time.Minute, dir, []string{"GOWORK=off", "GOFLAGS=-mod=mod"}, "go", "build", "-o", client, ".")
	return client
}

// A third party builds a working gRPC client from exactly what the product publishes.
func TestPublishedDescriptorSetBuildsAGRPCClient(t *testing.T) {
	t.Parallel()
	root := protoRepoRoot(t)
	bin := protoTools(t, root, "buf", "protoc-gen-go", "protoc-gen-go-grpc")

	s := start(t, modes[0].env(t), nil) // embedded
	set := s.descriptorSet(t)
	if committed, err := os.ReadFile(filepath.Join(root, "gen", "api", "fuzzyllama.binpb")); err != nil || !bytes.Equal(set, committed) {
		t.Fatalf("the served descriptor set is not gen/api/fuzzyllama.binpb (%d bytes served, %v)", len(set), err)
	}
	began := time.Now()
	client := buildPublishedClient(t, root, bin, set)
	t.Logf("generated and built the client in %v", time.Since(began).Round(time.Millisecond))

	check := func(t *testing.T, s *server, n int) {
		addrs := s.grpcAddrs(t)
		// Reflection answers on every service's port (what grpcurl uses).
		for _, name := range []string{"auth", "projects"} {
			want := "fuzzyllama." + name + ".v1." + strings.ToUpper(name[:1]) + name[1:] + "Service"
			if got := reflectedServices(t, addrs[name]); !slices.Contains(got, want) {
				t.Errorf("reflection on the %s port lists %v, want %s", name, got, want)
			}
		}

		email, password, name := fmt.Sprintf("grpc-client-%d@example.com", n), "correct horse 1", "Built from the published protos"
		out := runTool(t, time.Minute, t.TempDir(), nil, client,
			"-auth", addrs["auth"], "-projects", addrs["projects"], "-email", email, "-password", password, "-project", name)
		var userID, projectID string
		if _, err := fmt.Sscanf(out, "user %s\nproject %s\n", &userID, &projectID); err != nil || userID == "" || projectID == "" {
			t.Fatalf("client output %q: %v", out, err)
		}

		// Over REST, the project is there for that user.
		tok := s.login(t, email, password)
		if tok.User.ID != userID {
			t.Fatalf("REST login is user %s, the client registered %s", tok.User.ID, userID)
		}
		var got struct{ Project project }
		s.do("GET", "/api/v1/projects/"+projectID, tok.AccessToken, nil).want(t, http.StatusOK, "").data(t, &got)
		if got.Project.ID != projectID || got.Project.Name != name || got.Project.OwnerID != userID || got.Project.Role != "ROLE_OWNER" {
			t.Errorf("project over REST: %+v, want %s %q owned by %s", got.Project, projectID, name, userID)
		}
	}
	check(t, s, 1)
	t.Run(modes[1].name, func(t *testing.T) {
		s := start(t, modes[1].env(t), nil)
		if !bytes.Equal(s.descriptorSet(t), set) {
			t.Fatal("the two modes serve different descriptor sets")
		}
		check(t, s, 2)
	})
}

// Removing a field fails the breaking-change check make test runs (scripts/proto.sh breaking,
// against the committed baseline), while adding one passes.
func TestBreakingChangeFailsTheContractCheck(t *testing.T) {
	t.Parallel()
	root := protoRepoRoot(t)
	bin := protoTools(t, root, "buf")

	// A copy of what the check reads: the script, the offline workspace and proto/ (with the
	// baseline). The script fills the copy's third_party/proto from the module cache.
	copyTree := func(dst string) {
		for _, f := range []string{"scripts/proto.sh", "buf.yaml"} {
			b, err := os.ReadFile(filepath.Join(root, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, f), b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.CopyFS(filepath.Join(dst, "proto"), os.DirFS(filepath.Join(root, "proto"))); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(bin, filepath.Join(dst, ".bin")); err != nil {
			t.Fatal(err)
		}
	}
	edit := func(dir string, from *regexp.Regexp, to string) {
		t.Helper()
		file := filepath.Join(dir, "proto", "fuzzyllama", "auth", "v1", "auth_service.proto")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(from.FindAllIndex(src, -1)); n != 1 {
			t.Fatalf("%v matches %d times in auth_service.proto, want once: update this test", from, n)
		}
		if err := os.WriteFile(file, from.ReplaceAll(src, []byte(to)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(dir string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, "scripts", "proto.sh"), "breaking")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	userEmail := regexp.MustCompile(`(?m)^message User \{\n((?:  [^\n]*\n)*?)  string email = 2;\n`)

	added := t.TempDir()
	copyTree(added)
	edit(added, userEmail, "message User {\n$1  string email = 2;\n  string nickname = 99;\n")
	if out, err := check(added); err != nil {
		t.Fatalf("adding a field fails the check: %v\n%s", err, out)
	}

	removed := t.TempDir()
	copyTree(removed)
	edit(removed, userEmail, "message User {\n$1")
	out, err := check(removed)
	if err == nil {
		t.Fatalf("removing User.email passes the check:\n%s", out)
	}
	if want := `Previously present field "2" with name "email" on message "User" was deleted`; !strings.Contains(out, want) {
		t.Errorf("the check's output lacks %q:\n%s", want, out)
	}
}
