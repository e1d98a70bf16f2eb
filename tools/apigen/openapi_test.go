package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fuzzyllama/fuzzyllama/gen"
)

// The published document (gen/api/openapi.json, kept fresh by `make gen-check`) against the
// descriptor set it was made from: what a client generator reads must be what the gateway does.

func published(t *testing.T) (*openapi3.T, *protoIndex) {
	t.Helper()
	b, err := gen.API.ReadFile("api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(b); err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	d, err := gen.API.ReadFile("api/fuzzyllama.binpb")
	if err != nil {
		t.Fatal(err)
	}
	protos, err := loadProtos(d)
	if err != nil {
		t.Fatal(err)
	}
	return doc, protos
}

func TestEveryBoundMethodIsAnOperationWithItsStatuses(t *testing.T) {
	doc, protos := published(t)
	if len(protos.methods) < 50 {
		t.Fatalf("only %d HTTP-bound methods in the descriptor set", len(protos.methods))
	}
	for route, m := range protos.methods {
		method, path, _ := strings.Cut(route, " ")
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("%s (%s) is not in the document", route, m.FullName())
			continue
		}
		op := item.GetOperation(method)
		if op.OperationID != lowerFirst(string(m.Name())) || len(op.Tags) != 1 || op.Tags[0]+"Service" != string(m.Parent().Name()) {
			t.Errorf("%s: operation id %q, tags %v", route, op.OperationID, op.Tags)
		}
		var got []int
		for code := range op.Responses.Map() {
			n, _ := strconv.Atoi(code)
			got = append(got, n)
		}
		slices.Sort(got)
		want := []int{}
		if m.IsStreamingServer() {
			want = append(want, 200)
		} else {
			want = append(want, successStatuses(m)...)
		}
		for _, e := range possibleErrors(op, m, route) {
			want = append(want, e.status)
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s answers %v, want %v", route, got, want)
		}
		public := op.Security != nil && len(*op.Security) == 0
		if public != isPublic(m) {
			t.Errorf("%s: public in the document %v, in the proto %v", route, public, isPublic(m))
		}
		if !public && (op.Responses.Value("401") == nil || op.Responses.Value("403") == nil) {
			t.Errorf("%s needs a token but declares no 401/403", route)
		}
		if op.RequestBody != nil && op.Responses.Value("413") == nil {
			t.Errorf("%s takes a body but declares no 413", route)
		}
	}
}

func TestAnswersAreEnvelopes(t *testing.T) {
	doc, protos := published(t)
	for route, m := range protos.methods {
		if m.IsStreamingServer() || unenveloped[route] {
			continue
		}
		method, path, _ := strings.Cut(route, " ")
		op := doc.Paths.Find(path).GetOperation(method)
		for code, resp := range op.Responses.Map() {
			mt := resp.Value.Content.Get("application/json")
			if mt == nil {
				t.Errorf("%s %s: no JSON body", route, code)
				continue
			}
			s := mt.Schema.Value
			success := strings.HasPrefix(code, "2")
			for _, field := range []string{"success", "meta", map[bool]string{true: "data", false: "error"}[success]} {
				if !slices.Contains(s.Required, field) {
					t.Errorf("%s %s: the envelope does not require %q", route, code, field)
				}
			}
			if got := s.Properties["success"].Value.Enum; len(got) != 1 || got[0] != success {
				t.Errorf("%s %s: success is %v", route, code, got)
			}
			if (code == "429" || code == "503") && resp.Value.Headers["Retry-After"] == nil {
				t.Errorf("%s: %s without Retry-After", route, code)
			}
		}
	}
}

// An answer's fields are all present, as protojson writes them with every field emitted; a
// message field may be null unless the proto says it is always set; a request's fields are
// required only where the proto marks them REQUIRED.
func TestFieldsAsProtojsonWritesThem(t *testing.T) {
	doc, protos := published(t)
	check := func(name string, wantAnswer bool) {
		t.Helper()
		ref := doc.Components.Schemas[name]
		if ref == nil {
			t.Fatalf("no schema %s", name)
		}
		s, msg := ref.Value, protos.messages[name]
		fields := msg.Fields()
		for i := range fields.Len() {
			f := fields.Get(i)
			prop := s.Properties[f.JSONName()]
			required := slices.Contains(s.Required, f.JSONName())
			switch {
			case prop == nil:
				t.Errorf("%s.%s is not described", name, f.JSONName())
			case wantAnswer && required == inOneof(f):
				t.Errorf("%s.%s: required %v in an answer", name, f.JSONName(), required)
			case !wantAnswer && required != isRequired(f):
				t.Errorf("%s.%s: required %v in a request, REQUIRED in the proto %v", name, f.JSONName(), required, isRequired(f))
			case wantAnswer && f.Kind() == protoreflect.MessageKind && !f.IsList() && !f.IsMap() && prop.Value.Nullable == isRequired(f):
				t.Errorf("%s.%s: nullable %v, REQUIRED in the proto %v", name, f.JSONName(), prop.Value.Nullable, isRequired(f))
			}
		}
	}
	check("Run", true)     // endTime nullable, usage always set
	check("Project", true) // scalars and enums
	check("Gate", true)
	check("RegisterRequest", false)
	check("NewDocument", false)
}

func TestEventStreamsDeclareTheirEvents(t *testing.T) {
	doc, _ := published(t)
	for _, path := range []string{"/api/v1/projects/{projectId}/runs/{runId}:watch", "/api/v1/projects/{projectId}/events:stream", "/api/v1/notifications:stream"} {
		item := doc.Paths.Find(path)
		if item == nil || item.Get == nil {
			t.Errorf("%s is not in the document", path)
			continue
		}
		mt := item.Get.Responses.Value("200").Value.Content.Get("text/event-stream")
		if mt == nil || mt.Extensions["x-sse-events"] == nil || len(mt.Schema.Value.OneOf) == 0 {
			t.Errorf("%s: not an event stream with declared events", path)
		}
	}
}

func TestNamesAndSummaries(t *testing.T) {
	for in, want := range map[string]string{"project_id": "projectId", "a_b_c": "aBC", "gate": "gate", "run_id": "runId"} {
		if got := jsonName(in); got != want {
			t.Errorf("jsonName(%q) = %q, want %q", in, got, want)
		}
	}
	summary, description := summarize("Register creates an account. Answers HTTP 201.\nMore.")
	if summary != "Register creates an account" || !strings.HasPrefix(description, "Register creates") {
		t.Errorf("summarize: %q / %q", summary, description)
	}
}
