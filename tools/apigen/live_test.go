package main

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
)

// liveTestDoc is an OpenAPI document with stand-ins for the payload schemas and the live
// protocol's schemas added.
func liveTestDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc := &openapi3.T{OpenAPI: "3.0.3", Info: &openapi3.Info{Title: "test", Version: "1"}, Paths: openapi3.NewPaths(),
		Components: &openapi3.Components{Schemas: openapi3.Schemas{}}}
	for _, name := range live.PayloadSchemas {
		s := openapi3.NewObjectSchema().WithProperty("id", openapi3.NewStringSchema())
		s.Required = []string{"id"}
		doc.Components.Schemas[name] = s.NewRef()
	}
	if err := addLiveSchemas(doc); err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document does not validate: %v", err)
	}
	return doc
}

// protocolConstants are the values of the constants of a type declared in protocol.go.
func protocolConstants(t *testing.T, typ string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "protocol.go", live.ProtocolSource, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("a %s constant is not a string literal", typ)
				}
				s, _ := strconv.Unquote(lit.Value)
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s constants in protocol.go", typ)
	}
	return out
}

// jsonFields are a struct's exported fields by JSON name, and whether each is always sent.
func jsonFields(typ reflect.Type) map[string]bool {
	out := map[string]bool{}
	for f := range typ.Fields() {
		if f.IsExported() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			out[name] = !strings.Contains(opts, "omitempty")
		}
	}
	return out
}

// TestLiveSchemasCoverTheProtocol: every type constant has its variant, discriminated by type;
// every exported field is in some variant, with its description; a variant's required fields
// are its shape's.
func TestLiveSchemasCoverTheProtocol(t *testing.T) {
	doc := liveTestDoc(t)
	schemas := doc.Components.Schemas
	cases := []struct {
		union  string
		typ    reflect.Type
		consts []string
		shapes map[string]live.Shape
		schema func(string) string
	}{
		{liveClientMessage, reflect.TypeFor[live.ClientRequest](), protocolConstants(t, "RequestType"), stringKeys(live.RequestShapes),
			func(s string) string { return liveRequestSchema(live.RequestType(s)) }},
		{liveServerMessage, reflect.TypeFor[live.ServerMessage](), protocolConstants(t, "MessageType"), stringKeys(live.MessageShapes),
			func(s string) string { return liveMessageSchema(live.MessageType(s)) }},
	}
	for _, c := range cases {
		union := schemas[c.union].Value
		if union.Discriminator == nil || union.Discriminator.PropertyName != "type" {
			t.Errorf("%s: not discriminated by type", c.union)
		}
		if len(union.OneOf) != len(c.consts) || len(c.shapes) != len(c.consts) {
			t.Errorf("%s: %d variants and %d shapes for %d type constants", c.union, len(union.OneOf), len(c.shapes), len(c.consts))
		}
		covered := map[string]bool{}
		for _, typ := range c.consts {
			name := c.schema(typ)
			variant := schemas[name]
			if variant == nil || union.Discriminator.Mapping[typ].Ref != "#/components/schemas/"+name {
				t.Errorf("%s: type %q has no variant %s", c.union, typ, name)
				continue
			}
			v := variant.Value
			if !slices.Equal(v.Properties["type"].Value.Enum, []any{typ}) {
				t.Errorf("%s: type is %v, not %q", name, v.Properties["type"].Value.Enum, typ)
			}
			shape := c.shapes[typ]
			if want := append([]string{"type"}, shape.Required...); !slices.Equal(v.Required, want) {
				t.Errorf("%s: requires %v, the shape %v", name, v.Required, want)
			}
			if len(v.Properties) != 1+len(shape.Required)+len(shape.Optional) || v.AdditionalProperties.Has == nil || *v.AdditionalProperties.Has {
				t.Errorf("%s: must have exactly its shape's fields", name)
			}
			for field, p := range v.Properties {
				covered[field] = true
				if p.Value.Description == "" {
					t.Errorf("%s.%s: no description", name, field)
				}
			}
		}
		for field := range jsonFields(c.typ) {
			if !covered[field] {
				t.Errorf("%s: field %s is in no variant: add it to a shape", c.typ, field)
			}
		}
	}
	for field, schema := range live.PayloadSchemas {
		if _, ok := jsonFields(reflect.TypeFor[live.ServerMessage]())[field]; !ok {
			t.Errorf("live.PayloadSchemas names %s, which is not a field of ServerMessage", field)
		}
		p := schemas[liveMessageSchema(live.MessageType(field))]
		if p == nil || p.Value.Properties[field] == nil || p.Value.Properties[field].Value.AllOf[0].Ref != "#/components/schemas/"+schema {
			t.Errorf("the %s payload is not a %s", field, schema)
		}
	}
	for field := range live.FieldRules {
		if _, ok := jsonFields(reflect.TypeFor[live.ServerMessage]())[field]; !ok {
			if _, ok := jsonFields(reflect.TypeFor[live.ClientRequest]())[field]; !ok {
				t.Errorf("live.FieldRules names %s, a field of neither ClientRequest nor ServerMessage", field)
			}
		}
	}
	closing := schemas[liveStreamClose].Value
	for field, always := range jsonFields(reflect.TypeFor[live.StreamClose]()) {
		if closing.Properties[field] == nil || slices.Contains(closing.Required, field) != always {
			t.Errorf("%s: field %s missing or wrongly required", liveStreamClose, field)
		}
	}
}

func stringKeys[K ~string](m map[K]live.Shape) map[string]live.Shape {
	out := map[string]live.Shape{}
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

// TestRawPayloadNeedsItsSchema: a raw JSON field the mapping does not name fails generation, and
// so does a field without a doc comment.
func TestRawPayloadNeedsItsSchema(t *testing.T) {
	doc := liveTestDoc(t)
	type withNewPayload struct {
		Type    string          `json:"type"`
		Project json.RawMessage `json:"project,omitempty"`
	}
	docs := typeDocs{fields: map[string]string{"Type": "The type.", "Project": "A project."}}
	if _, err := reflectFields(reflect.TypeFor[withNewPayload](), docs, doc, true); err == nil || !strings.Contains(err.Error(), "PayloadSchemas") {
		t.Errorf("an unmapped payload: %v", err)
	}
	type undocumented struct {
		Type string `json:"type"`
	}
	if _, err := reflectFields(reflect.TypeFor[undocumented](), typeDocs{fields: map[string]string{}}, doc, true); err == nil {
		t.Error("a field without a doc comment was accepted")
	}
}

// TestLiveSchemasCheckMessages: the schemas accept the protocol's messages and refuse others.
func TestLiveSchemasCheckMessages(t *testing.T) {
	doc := liveTestDoc(t)
	generic := asyncAPIJSON(t, doc)
	schemas, err := asyncAPISchemas(generic)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		schema, msg string
		ok          bool
	}{
		{liveClientMessage, `{"type":"subscribe","projectId":"p1","afterEventId":"3"}`, true},
		{liveClientMessage, `{"type":"subscribe","notifications":true,"afterNotificationId":"3"}`, true},
		{liveClientMessage, `{"type":"watchRun","projectId":"p1","runId":"r1"}`, true},
		{liveClientMessage, `{"type":"unwatchRun","runId":"r1"}`, true},
		{liveClientMessage, `{"type":"watchRun","runId":"r1"}`, false},
		{liveClientMessage, `{"type":"follow","projectId":"p1"}`, false},
		{liveClientMessage, `{"projectId":"p1"}`, false},
		{liveClientMessage, `{"type":"subscribe","projectId":7}`, false},
		{liveClientMessage, `{"type":"subscribe","projectId":""}`, false},
		{liveClientMessage, `{"type":"subscribe"}`, false},
		{liveClientMessage, `{"type":"subscribe","projectId":"p1","notifications":true}`, false},
		{liveClientMessage, `{"type":"subscribe","projectId":"p1","notifications":false}`, true},
		{liveClientMessage, `{"type":"unsubscribe","notifications":true}`, true},
		{liveServerMessage, `{"type":"subscribed","notifications":true}`, true},
		{liveServerMessage, `{"type":"subscribed","notifications":false}`, false},
		{liveServerMessage, `{"type":"subscribed"}`, false},
		{liveServerMessage, `{"type":"unwatched","runId":"r1","projectId":""}`, false},
		{liveClientMessage, `{"type":"subscribe","projectId":"p1","afterEventId":"x"}`, false},
		{liveServerMessage, `{"type":"subscribed","projectId":"p1"}`, true},
		{liveServerMessage, `{"type":"event","projectId":"p1","event":{"id":"4"}}`, true},
		{liveServerMessage, `{"type":"event","projectId":"p1","event":{}}`, false},
		{liveServerMessage, `{"type":"event","projectId":"p1"}`, false},
		{liveServerMessage, `{"type":"chunk","projectId":"p1","runId":"r1","chunk":{"id":"1"}}`, true},
		{liveServerMessage, `{"type":"notification","notification":{"id":"1"},"projectId":"p1"}`, false},
		{liveServerMessage, `{"type":"error","code":"NotFound","message":"no"}`, true},
		{liveServerMessage, `{"type":"error","code":"NOT_FOUND","message":"no"}`, false},
		{liveServerMessage, `{"type":"gone"}`, false},
		{liveStreamClose, `{"code":4008,"reason":"too slow"}`, true},
		{liveStreamClose, `{"code":4002,"reason":"?"}`, false},
	} {
		var v any
		if err := json.Unmarshal([]byte(c.msg), &v); err != nil {
			t.Fatal(err)
		}
		err := schemas[c.schema].Value.VisitJSON(v)
		if (err == nil) != c.ok {
			t.Errorf("%s %s: valid %v, want %v (%v)", c.schema, c.msg, err == nil, c.ok, err)
		}
	}
}

// TestAsyncAPIDocument: the document has what AsyncAPI 3.0.0 requires, every message and
// operation of the protocol and its close codes; a reference that does not resolve is caught.
func TestAsyncAPIDocument(t *testing.T) {
	doc := liveTestDoc(t)
	generic := asyncAPIJSON(t, doc)
	get := func(path string) any {
		v, ok := resolvePointer(generic, "#/"+path)
		if !ok {
			t.Errorf("no %s", path)
		}
		return v
	}
	for _, typ := range protocolConstants(t, "RequestType") {
		get("operations/" + typ)
		get("channels/ws/messages/" + typ)
	}
	for _, typ := range protocolConstants(t, "MessageType") {
		get("operations/send" + upperFirst(typ))
		get("channels/ws/messages/" + typ)
	}
	for _, m := range live.ProjectStreamMessages {
		get("channels/projectEvents/messages/" + string(m))
	}
	for _, m := range live.NotificationStreamMessages {
		get("channels/notifications/messages/" + string(m))
	}
	for _, c := range live.CloseCodes {
		code := strconv.Itoa(int(c.Code))
		if c.WebSocket {
			get("channels/ws/x-close-codes/" + code + "/description")
		}
		if c.EventStream {
			get("channels/projectEvents/x-close-codes/" + code + "/description")
			get("channels/notifications/x-close-codes/" + code)
		}
	}
	for _, code := range []string{"4001", "4008"} {
		get("channels/ws/x-close-codes/" + code)
	}
	// Every payload schema it uses is in it.
	for _, name := range live.PayloadSchemas {
		get("components/schemas/" + name + "/schema")
	}

	broken := asyncAPIJSON(t, doc) // a copy to break
	broken["operations"].(map[string]any)["subscribe"].(map[string]any)["messages"] = []any{map[string]any{"$ref": "#/channels/ws/messages/nothing"}}
	delete(broken["components"].(map[string]any)["schemas"].(map[string]any), "Run")
	err := checkAsyncAPI(broken)
	if err == nil || !strings.Contains(err.Error(), "#/components/schemas/Run/schema does not resolve") || !strings.Contains(err.Error(), "is not a message of #/channels/ws") {
		t.Errorf("a broken document: %v", err)
	}
	delete(broken, "info")
	if err := checkAsyncAPI(broken); err == nil || !strings.Contains(err.Error(), "info:") {
		t.Errorf("no info: %v", err)
	}
}

// asyncAPIJSON is the AsyncAPI document of doc as a reader decodes it.
func asyncAPIJSON(t *testing.T, doc *openapi3.T) map[string]any {
	t.Helper()
	a, err := asyncAPI(doc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	return generic
}
