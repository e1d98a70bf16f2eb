package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

const infoDescription = `The REST/JSON edge of FuzzyLlama. A person describes the software they want; AI agents carry the project through nine human-approved gates (G1 Scope … G9 Production), producing versioned documents.

Every JSON answer is an envelope: ` + "`{success: true, data, meta}`" + ` on success, ` + "`{success: false, error: {code, message, details}, meta}`" + ` on failure, where ` + "`code`" + ` is the google.rpc.Code name (INVALID_ARGUMENT, NOT_FOUND, …) and ` + "`details.fields`" + ` names the offending request fields. The schemas below say so for every operation.

Sign up (` + "`register`" + `) or sign in (` + "`login`" + `) for an access token (15 minutes) and a refresh token; send the access token as ` + "`Authorization: Bearer <accessToken>`" + `, and exchange the refresh token at ` + "`refresh`" + ` for a new pair.

Live updates: the WebSocket ` + "`/api/v1/ws`" + ` and its event-stream fallbacks below; their messages are described by the AsyncAPI document at /api/docs/asyncapi.json. gRPC clients: the services' descriptor set is at /api/docs/fuzzyllama.binpb, and the protos are in the repository's proto/ folder.`

// unenveloped routes answer the bare message, a shape their readers expect (gateway/respond.go).
var unenveloped = map[string]bool{"GET /.well-known/jwks.json": true}

// buildOpenAPI converts the Swagger 2.0 document to OpenAPI 3 and completes it with what the
// gateway adds (see the package comment).
func buildOpenAPI(swagger []byte, protos *protoIndex) (*openapi3.T, error) {
	var v2 openapi2.T
	if err := json.Unmarshal(swagger, &v2); err != nil {
		return nil, fmt.Errorf("read the Swagger document: %w", err)
	}
	doc, err := openapi2conv.ToV3(&v2)
	if err != nil {
		return nil, fmt.Errorf("convert to OpenAPI 3: %w", err)
	}
	doc.OpenAPI = "3.0.3"
	doc.Info.Description = infoDescription
	doc.Servers = openapi3.Servers{{URL: "/", Description: "The gateway that serves this document."}}
	doc.Components.SecuritySchemes = openapi3.SecuritySchemes{"bearer": {Value: &openapi3.SecurityScheme{
		Type: "http", Scheme: "bearer", BearerFormat: "JWT",
		Description: "An access token from register, login or refresh.",
	}}}
	doc.Security = openapi3.SecurityRequirements{{"bearer": []string{}}}
	addEnvelopeComponents(doc)
	unspecifiedDefaults(doc)
	int64Examples(doc)

	// Which schemas describe what the server sends (and only that): their fields are always
	// present, as protojson writes them.
	requestRoots, responseRoots := []*openapi3.SchemaRef{}, []*openapi3.SchemaRef{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					requestRoots = append(requestRoots, mt.Schema)
				}
			}
			for _, p := range op.Parameters {
				requestRoots = append(requestRoots, p.Value.Schema)
			}
			if ok := op.Responses.Value("200"); ok != nil {
				for _, mt := range ok.Value.Content {
					responseRoots = append(responseRoots, mt.Schema)
				}
			}
		}
	}
	inRequests := reachable(doc, requestRoots)
	for name := range reachable(doc, responseRoots) {
		if !inRequests[name] {
			if err := describeAsSent(doc.Components.Schemas[name].Value, protos.messages[name]); err != nil {
				return nil, fmt.Errorf("schema %s: %w", name, err)
			}
		}
	}

	tags := map[string]string{}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			route := method + " " + path
			m, ok := protos.methods[route]
			if !ok {
				return nil, fmt.Errorf("%s: no proto method binds it", route)
			}
			if err := completeOperation(doc, route, op, m); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", route, m.FullName(), err)
			}
			if prev, dup := ids[op.OperationID]; dup {
				return nil, fmt.Errorf("operation id %s names both %s and %s", op.OperationID, prev, route)
			}
			ids[op.OperationID] = route
			svc := m.Parent().(protoreflect.ServiceDescriptor)
			tags[op.Tags[0]] = comment(svc)
		}
	}
	if err := addLiveSchemas(doc); err != nil {
		return nil, fmt.Errorf("live protocol: %w", err)
	}
	addEventStreams(doc)
	addBrowserSessions(doc)
	doc.Tags = nil
	for _, name := range slices.Sorted(maps.Keys(tags)) {
		doc.Tags = append(doc.Tags, &openapi3.Tag{Name: name, Description: tags[name]})
	}
	doc.Tags = append(doc.Tags, &openapi3.Tag{Name: "Live", Description: "Server-sent event streams of live updates, the fallback of the WebSocket /api/v1/ws (see /api/docs/asyncapi.json)."})
	return doc, nil
}

// completeOperation names the operation, wraps its answers in the envelope with their real
// statuses, and declares the errors it can answer.
func completeOperation(doc *openapi3.T, route string, op *openapi3.Operation, m protoreflect.MethodDescriptor) error {
	svc := m.Parent().(protoreflect.ServiceDescriptor)
	op.Tags = []string{strings.TrimSuffix(string(svc.Name()), "Service")}
	op.OperationID = lowerFirst(string(m.Name()))
	op.Summary, op.Description = summarize(comment(m))
	if isPublic(m) {
		op.Security = &openapi3.SecurityRequirements{}
	} else {
		op.Security = nil // the document's: bearer
	}
	if op.RequestBody != nil {
		// A body may be left out when nothing in it is required: the gateway reads none as {}.
		op.RequestBody.Value.Required = bodyHasRequired(doc, op.RequestBody.Value)
		op.RequestBody.Value.Description = ""
		delete(op.Extensions, "x-originalParamName")
		delete(op.RequestBody.Value.Extensions, "x-originalParamName")
	}

	responses := openapi3.NewResponses()
	if m.IsStreamingServer() {
		form, ok := streamForms[m.FullName()]
		if !ok {
			return fmt.Errorf("a server stream needs an HTTP form in streamForms")
		}
		responses.Set("200", &openapi3.ResponseRef{Value: form(doc)})
		if resp := responses.Value("200").Value; resp.Content.Get("text/event-stream") != nil {
			op.Description += streamNote
		}
	} else {
		ok := op.Responses.Value("200")
		if ok == nil || ok.Value.Content["application/json"] == nil || ok.Value.Content["application/json"].Schema.Ref == "" {
			return fmt.Errorf("no named message answers it")
		}
		data := ok.Value.Content["application/json"].Schema
		if unenveloped[route] {
			responses.Set("200", &openapi3.ResponseRef{Value: openapi3.NewResponse().
				WithDescription("The bare message, not enveloped: its readers expect the standard shape.").
				WithJSONSchemaRef(data)})
		} else {
			envelope := successEnvelope(doc, data)
			for _, status := range successStatuses(m) {
				responses.Set(strconv.Itoa(status), &openapi3.ResponseRef{Value: openapi3.NewResponse().
					WithDescription(successDescription(status)).WithJSONSchemaRef(envelope)})
			}
		}
	}
	for _, e := range possibleErrors(op, m, route) {
		responses.Set(strconv.Itoa(e.status), &openapi3.ResponseRef{Ref: "#/components/responses/" + e.name})
	}
	op.Responses = responses
	return nil
}

// bodyHasRequired reports whether the request body's schema requires any field.
func bodyHasRequired(doc *openapi3.T, body *openapi3.RequestBody) bool {
	for _, mt := range body.Content {
		s := mt.Schema
		if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
			s = doc.Components.Schemas[name]
		}
		if s != nil && s.Value != nil && len(s.Value.Required) > 0 {
			return true
		}
	}
	return false
}

func successDescription(status int) string {
	switch status {
	case 201:
		return "Created."
	case 202:
		return "Accepted: the work was queued and runs in the background."
	default:
		return "OK."
	}
}

// reachable lists the component schemas the roots use, directly or through others.
func reachable(doc *openapi3.T, roots []*openapi3.SchemaRef) map[string]bool {
	seen := map[string]bool{}
	var visit func(*openapi3.SchemaRef)
	visit = func(s *openapi3.SchemaRef) {
		if s == nil {
			return
		}
		if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
			if seen[name] {
				return
			}
			seen[name] = true
			visit(doc.Components.Schemas[name])
			return
		}
		v := s.Value
		if v == nil {
			return
		}
		for _, p := range v.Properties {
			visit(p)
		}
		visit(v.Items)
		if v.AdditionalProperties.Schema != nil {
			visit(v.AdditionalProperties.Schema)
		}
		for _, list := range [][]*openapi3.SchemaRef{v.AllOf, v.AnyOf, v.OneOf} {
			for _, s := range list {
				visit(s)
			}
		}
	}
	for _, r := range roots {
		visit(r)
	}
	return seen
}

// describeAsSent makes the schema of a message the server sends say what protojson writes:
// every field present (a oneof member only when set), a singular message field null unless the
// proto marks it always set.
func describeAsSent(s *openapi3.Schema, msg protoreflect.MessageDescriptor) error {
	if msg == nil || s == nil || !s.Type.Is("object") {
		return nil // an enum, or a schema that is not a message
	}
	s.Required = nil
	fields := msg.Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		name := f.JSONName()
		prop, ok := s.Properties[name]
		if !ok {
			return fmt.Errorf("field %s has no property %s", f.FullName(), name)
		}
		if inOneof(f) {
			continue
		}
		s.Required = append(s.Required, name)
		if !alwaysSet(f) {
			s.Properties[name] = nullable(prop)
		}
	}
	return nil
}

// nullable is s that also admits null. OpenAPI 3.0 ignores siblings of a $ref, so a reference
// (to a message: an object) is wrapped in allOf.
func nullable(s *openapi3.SchemaRef) *openapi3.SchemaRef {
	if s.Ref != "" {
		return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"object"}, AllOf: openapi3.SchemaRefs{s}, Nullable: true}}
	}
	v := *s.Value
	v.Nullable = true
	return &openapi3.SchemaRef{Value: &v}
}

// comment is the leading comment of a proto element, without the comment markers' indentation.
func comment(d protoreflect.Descriptor) string {
	loc := d.ParentFile().SourceLocations().ByDescriptor(d)
	lines := strings.Split(strings.TrimSpace(loc.LeadingComments), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}

// summarize splits a comment into a one-line summary (its first sentence, without the method
// name it starts with) and the whole text as the description.
func summarize(text string) (summary, description string) {
	flat := strings.Join(strings.Fields(text), " ")
	first := flat
	if i := strings.Index(flat, ". "); i >= 0 {
		first = flat[:i+1]
	}
	return strings.TrimSuffix(first, "."), text
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// pruneUnused removes the component schemas no operation or answer uses, e.g. a message only
// ever sent in a stream the gateway answers in another form. The live protocol's messages stay:
// clients generated from this document (the console's) speak it, though no REST operation
// carries the client's requests.
func pruneUnused(doc *openapi3.T) {
	roots := []*openapi3.SchemaRef{{Ref: "#/components/schemas/" + liveClientMessage}, {Ref: "#/components/schemas/" + liveServerMessage}}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				roots = append(roots, p.Value.Schema)
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Value.Content {
					roots = append(roots, mt.Schema)
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					for _, mt := range r.Value.Content {
						roots = append(roots, mt.Schema)
					}
				}
			}
		}
	}
	for _, r := range doc.Components.Responses {
		for _, mt := range r.Value.Content {
			roots = append(roots, mt.Schema)
		}
	}
	used := reachable(doc, roots)
	for name := range doc.Components.Schemas {
		if !used[name] {
			delete(doc.Components.Schemas, name)
		}
	}
}

// validate loads the document as a reader would, resolving every reference, and checks it
// against the OpenAPI 3.0 specification.
func validate(b []byte) error {
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return fmt.Errorf("the document does not load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return fmt.Errorf("the document does not validate: %w", err)
	}
	return nil
}

// marshal is v as indented JSON with a final newline, the form committed under gen/.
func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}

// writeFile writes b, making its directory.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// unspecifiedDefaults drops the `default: X_UNSPECIFIED` protoc-gen-openapiv2 gives every enum
// (true of protojson, where an absent enum is unspecified, but tools prefill requests with it
// and the services refuse it where a value is required), and gives each enum component a
// meaningful example instead: its first specified value.
func unspecifiedDefaults(doc *openapi3.T) {
	var visit func(s *openapi3.Schema, component bool)
	visit = func(s *openapi3.Schema, component bool) {
		if s == nil || len(s.Enum) == 0 {
			return
		}
		first, _ := s.Enum[0].(string)
		if !strings.HasSuffix(first, "_UNSPECIFIED") {
			return
		}
		if d, ok := s.Default.(string); ok && strings.HasSuffix(d, "_UNSPECIFIED") {
			s.Default = nil
		}
		if component && len(s.Enum) > 1 {
			s.Example = s.Enum[1]
		}
	}
	for _, s := range doc.Components.Schemas {
		visit(s.Value, true)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value.Schema != nil {
					visit(p.Value.Schema.Value, false)
					if items := p.Value.Schema.Value.Items; items != nil {
						visit(items.Value, false)
					}
				}
			}
		}
	}
}

// int64Examples gives the 64-bit integers protojson writes as strings a numeric example: tools
// would otherwise prefill "string", which the services refuse.
func int64Examples(doc *openapi3.T) {
	for _, s := range doc.Components.Schemas {
		for _, p := range s.Value.Properties {
			if v := p.Value; p.Ref == "" && v != nil && v.Type.Is("string") && (v.Format == "int64" || v.Format == "uint64") && v.Example == nil {
				v.Example = "1"
			}
		}
	}
}
