package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
)

// The live protocol's schemas, made by reflection from its Go types in gateway/live
// (protocol.go): the field names, types and which are always sent come from the structs, the
// descriptions from their doc comments, the variants from live.RequestShapes and
// live.MessageShapes, and the payloads' schemas from live.PayloadSchemas.

const (
	liveClientMessage = "LiveClientMessage"
	liveServerMessage = "LiveServerMessage"
	liveStreamClose   = "LiveStreamClose"
)

// liveRequestSchema and liveMessageSchema name the variant of each request and message type.
func liveRequestSchema(t live.RequestType) string { return "Live" + upperFirst(string(t)) + "Request" }
func liveMessageSchema(t live.MessageType) string { return "Live" + upperFirst(string(t)) + "Message" }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// addLiveSchemas adds the live protocol's schemas to the document: LiveClientMessage and
// LiveServerMessage (each a oneOf of one variant per type, discriminated by type), their
// variants, and LiveStreamClose (the data of an event stream's last event). The payload schemas
// they refer to (Event, Run, …) must be in the document.
func addLiveSchemas(doc *openapi3.T) error {
	docs, err := protocolDocs()
	if err != nil {
		return err
	}
	schemas := doc.Components.Schemas
	if schemas == nil {
		schemas = openapi3.Schemas{}
		doc.Components.Schemas = schemas
	}
	for _, name := range slices.Sorted(maps.Values(live.PayloadSchemas)) {
		if schemas[name] == nil {
			return fmt.Errorf("live payload schema %s: not in the document", name)
		}
	}
	add := func(name string, s *openapi3.Schema) error {
		if schemas[name] != nil {
			return fmt.Errorf("schema %s: already in the document", name)
		}
		schemas[name] = &openapi3.SchemaRef{Value: s}
		return nil
	}

	requestFields, err := reflectFields(reflect.TypeFor[live.ClientRequest](), docs["ClientRequest"], doc, false)
	if err != nil {
		return fmt.Errorf("live.ClientRequest: %w", err)
	}
	client := unionSchema("A request from the client on the WebSocket: one of the variants, by type. A request's unknown fields are ignored.")
	for _, t := range slices.Sorted(maps.Keys(live.RequestShapes)) {
		name := liveRequestSchema(t)
		s, err := variantSchema(requestFields, string(t), live.RequestShapes[t])
		if err != nil {
			return fmt.Errorf("live request %s: %w", t, err)
		}
		if err := add(name, s); err != nil {
			return err
		}
		addVariant(client, name, string(t), s)
	}
	if err := add(liveClientMessage, client); err != nil {
		return err
	}

	messageFields, err := reflectFields(reflect.TypeFor[live.ServerMessage](), docs["ServerMessage"], doc, true)
	if err != nil {
		return fmt.Errorf("live.ServerMessage: %w", err)
	}
	server := unionSchema("A message from the gateway: a WebSocket text message, or the data of an event stream's event. One of the variants, by type; which of projectId, notifications and runId is set says what it is about.")
	for _, t := range slices.Sorted(maps.Keys(live.MessageShapes)) {
		name := liveMessageSchema(t)
		s, err := variantSchema(messageFields, string(t), live.MessageShapes[t])
		if err != nil {
			return fmt.Errorf("live message %s: %w", t, err)
		}
		if err := add(name, s); err != nil {
			return err
		}
		addVariant(server, name, string(t), s)
	}
	if err := add(liveServerMessage, server); err != nil {
		return err
	}

	closeFields, err := reflectFields(reflect.TypeFor[live.StreamClose](), docs["StreamClose"], doc, true)
	if err != nil {
		return fmt.Errorf("live.StreamClose: %w", err)
	}
	closing := openapi3.NewObjectSchema()
	closing.Description = "The data of an event stream's last event, named " + live.StreamCloseEvent + ": how the stream ended, with the WebSocket's close codes."
	closing.AdditionalProperties = openapi3.AdditionalProperties{Has: new(false)}
	for _, f := range closeFields.order {
		closing.Properties[f] = closeFields.schemas[f]
		if closeFields.required[f] {
			closing.Required = append(closing.Required, f)
		}
	}
	var codes []any
	for _, c := range live.CloseCodes {
		if c.EventStream {
			codes = append(codes, int(c.Code))
		}
	}
	if p := closing.Properties["code"]; p != nil {
		p.Value.Enum = codes
	}
	return add(liveStreamClose, closing)
}

// unionSchema is a oneOf of variants discriminated by type (addVariant adds them).
func unionSchema(description string) *openapi3.Schema {
	return &openapi3.Schema{
		Description:   description,
		Discriminator: &openapi3.Discriminator{PropertyName: "type", Mapping: map[string]openapi3.MappingRef{}},
	}
}

func addVariant(union *openapi3.Schema, name, typ string, s *openapi3.Schema) {
	ref := "#/components/schemas/" + name
	union.OneOf = append(union.OneOf, &openapi3.SchemaRef{Ref: ref, Value: s})
	union.Discriminator.Mapping[typ] = openapi3.MappingRef{Ref: ref, Value: s}
}

// variantSchema is the schema of one type of request or message: type, and the fields its
// shape names (no others).
func variantSchema(fields *liveFields, typ string, shape live.Shape) (*openapi3.Schema, error) {
	s := openapi3.NewObjectSchema()
	s.Title = typ
	s.Description = shape.Summary
	s.AdditionalProperties = openapi3.AdditionalProperties{Has: new(false)}
	typeField := fields.schemas["type"]
	if typeField == nil {
		return nil, fmt.Errorf("no type field")
	}
	t := *typeField.Value
	t.Enum = []any{typ}
	s.Properties["type"] = &openapi3.SchemaRef{Value: &t}
	s.Required = []string{"type"}
	seen := map[string]bool{"type": true}
	for i, names := range [][]string{shape.Required, shape.Optional} {
		for _, name := range names {
			if seen[name] {
				return nil, fmt.Errorf("field %s: named twice", name)
			}
			seen[name] = true
			f := fields.schemas[name]
			if f == nil {
				return nil, fmt.Errorf("field %s: no such field", name)
			}
			s.Properties[name] = f
			if i == 0 {
				s.Required = append(s.Required, name)
			}
		}
	}
	// Exactly one of OneOf: each alternative requires its field (a boolean, true).
	for _, name := range shape.OneOf {
		if !slices.Contains(shape.Optional, name) {
			return nil, fmt.Errorf("one-of field %s: must be optional", name)
		}
		// Each alternative defines its field too, so generators make a real union of it.
		alt := &openapi3.Schema{Type: &openapi3.Types{"object"}, Required: []string{name}, Properties: openapi3.Schemas{name: fields.schemas[name]}}
		if f := fields.schemas[name].Value; f.Type.Is("boolean") {
			alt.Properties[name] = openapi3.NewBoolSchema().WithEnum(true).NewRef()
		}
		s.OneOf = append(s.OneOf, alt.NewRef())
	}
	return s, nil
}

// liveFields are a struct's fields by JSON name, in order.
type liveFields struct {
	order    []string
	schemas  map[string]*openapi3.SchemaRef
	required map[string]bool // sent always (no omitempty)
}

// reflectFields makes the schema of each field of a struct of the live protocol. Strings,
// booleans and integers map to their JSON types (strings with live.FieldRules); raw JSON
// payloads to the schema live.PayloadSchemas names, which must be in the document. Of a struct
// the gateway sends, an omitempty field is never its zero value: a string is never empty, a
// boolean always true.
func reflectFields(t reflect.Type, docs typeDocs, doc *openapi3.T, sent bool) (*liveFields, error) {
	out := &liveFields{schemas: map[string]*openapi3.SchemaRef{}, required: map[string]bool{}}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			return nil, fmt.Errorf("field %s: needs a JSON name", f.Name)
		}
		omitempty := slices.Contains(strings.Split(opts, ","), "omitempty")
		description := docs.fields[f.Name]
		if description == "" {
			return nil, fmt.Errorf("field %s: needs a doc comment (its description)", f.Name)
		}
		var s *openapi3.SchemaRef
		switch {
		case f.Type == reflect.TypeFor[[]byte]() || f.Type.Name() == "RawMessage":
			payload, ok := live.PayloadSchemas[name]
			if !ok {
				return nil, fmt.Errorf("field %s (%s): a raw JSON payload needs its schema in live.PayloadSchemas", f.Name, name)
			}
			if doc.Components.Schemas[payload] == nil {
				return nil, fmt.Errorf("field %s: payload schema %s is not in the document", f.Name, payload)
			}
			// OpenAPI 3.0 ignores a $ref's siblings: the description goes with an allOf.
			s = &openapi3.SchemaRef{Value: &openapi3.Schema{
				Description: description,
				AllOf:       openapi3.SchemaRefs{{Ref: "#/components/schemas/" + payload, Value: doc.Components.Schemas[payload].Value}},
			}}
		case f.Type.Kind() == reflect.String:
			v := openapi3.NewStringSchema()
			v.Description = description
			rule := live.FieldRules[name]
			for _, e := range rule.Enum {
				v.Enum = append(v.Enum, e)
			}
			v.Pattern = rule.Pattern
			v.MinLength = uint64(rule.MinLength)
			if sent && omitempty {
				v.MinLength = max(v.MinLength, 1)
			}
			if rule.MaxLength > 0 {
				v.MaxLength = new(uint64(rule.MaxLength))
			}
			s = v.NewRef()
		case f.Type.Kind() == reflect.Bool:
			v := openapi3.NewBoolSchema()
			v.Description = description
			if sent && omitempty {
				v.Enum = []any{true}
			}
			s = v.NewRef()
		case f.Type.Kind() == reflect.Int:
			v := openapi3.NewInt32Schema()
			v.Description = description
			s = v.NewRef()
		default:
			return nil, fmt.Errorf("field %s: type %s has no schema", f.Name, f.Type)
		}
		if _, dup := out.schemas[name]; dup {
			return nil, fmt.Errorf("field %s: JSON name %s used twice", f.Name, name)
		}
		out.order = append(out.order, name)
		out.schemas[name] = s
		out.required[name] = !omitempty
	}
	return out, nil
}

// typeDocs are a type's doc comment and its fields'.
type typeDocs struct {
	doc    string
	fields map[string]string
}

// protocolDocs reads the doc comments of gateway/live/protocol.go's types and their fields.
func protocolDocs() (map[string]typeDocs, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "protocol.go", live.ProtocolSource, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("gateway/live/protocol.go: %w", err)
	}
	out := map[string]typeDocs{}
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, spec := range g.Specs {
			ts := spec.(*ast.TypeSpec)
			td := typeDocs{doc: flatten(g.Doc.Text()), fields: map[string]string{}}
			if st, ok := ts.Type.(*ast.StructType); ok {
				for _, field := range st.Fields.List {
					for _, n := range field.Names {
						td.fields[n.Name] = flatten(field.Doc.Text())
					}
				}
			}
			out[ts.Name.Name] = td
		}
	}
	return out, nil
}

// flatten joins a comment's lines.
func flatten(text string) string { return strings.Join(strings.Fields(text), " ") }
