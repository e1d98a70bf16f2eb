package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
)

// protoIndex finds the proto behind each part of the Swagger document.
type protoIndex struct {
	// methods by route, "POST /api/v1/projects/{projectId}" (path parameters by JSON name, as in
	// the Swagger document).
	methods map[string]protoreflect.MethodDescriptor
	// messages by the schema name protoc-gen-openapiv2's "simple" naming gives them: the message
	// name, parents first for nested ones.
	messages map[string]protoreflect.MessageDescriptor
}

// ownPackage is the prefix of the packages the document publishes (imports are not its own).
const ownPackage = "fuzzyllama."

func loadProtos(b []byte) (*protoIndex, error) {
	var set descriptorpb.FileDescriptorSet
	// The global registry knows the options read here (google.api.http, field_behavior and
	// FuzzyLlama's own), so they are parsed as extensions rather than kept as unknown bytes.
	if err := (proto.UnmarshalOptions{Resolver: protoregistry.GlobalTypes}).Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("read the descriptor set: %w", err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("link the descriptor set: %w", err)
	}
	idx := &protoIndex{methods: map[string]protoreflect.MethodDescriptor{}, messages: map[string]protoreflect.MessageDescriptor{}}
	var problems []string
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), ownPackage) {
			return true
		}
		idx.addMessages(f.Messages(), "", &problems)
		for i := range f.Services().Len() {
			methods := f.Services().Get(i).Methods()
			for j := range methods.Len() {
				m := methods.Get(j)
				rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
				if rule == nil {
					continue
				}
				for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
					key := routeKey(r)
					if prev, dup := idx.methods[key]; dup {
						problems = append(problems, fmt.Sprintf("%s is bound by %s and %s", key, prev.FullName(), m.FullName()))
					}
					idx.methods[key] = m
				}
			}
		}
		return true
	})
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fmt.Errorf("the protos cannot be published as they are:\n  %s", strings.Join(problems, "\n  "))
	}
	return idx, nil
}

func (idx *protoIndex) addMessages(msgs protoreflect.MessageDescriptors, parent string, problems *[]string) {
	for i := range msgs.Len() {
		m := msgs.Get(i)
		if m.IsMapEntry() {
			continue
		}
		name := parent + string(m.Name())
		if prev, dup := idx.messages[name]; dup {
			*problems = append(*problems, fmt.Sprintf("schema name %s is both %s and %s", name, prev.FullName(), m.FullName()))
		}
		idx.messages[name] = m
		idx.addMessages(m.Messages(), name, problems)
	}
}

// pathParam matches a path template's variable, {project_id} or {name=projects/*}.
var pathParam = regexp.MustCompile(`\{([a-zA-Z0-9_.]+)(=[^}]*)?\}`)

// routeKey is "METHOD /path" of an HTTP rule, its variables renamed to their JSON names.
func routeKey(r *annotations.HttpRule) string {
	var method, path string
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		method, path = "GET", p.Get
	case *annotations.HttpRule_Post:
		method, path = "POST", p.Post
	case *annotations.HttpRule_Put:
		method, path = "PUT", p.Put
	case *annotations.HttpRule_Patch:
		method, path = "PATCH", p.Patch
	case *annotations.HttpRule_Delete:
		method, path = "DELETE", p.Delete
	case *annotations.HttpRule_Custom:
		method, path = strings.ToUpper(p.Custom.GetKind()), p.Custom.GetPath()
	}
	path = pathParam.ReplaceAllStringFunc(path, func(v string) string {
		name := pathParam.FindStringSubmatch(v)[1]
		parts := strings.Split(name, ".")
		for i, p := range parts {
			parts[i] = jsonName(p)
		}
		return "{" + strings.Join(parts, ".") + "}"
	})
	return method + " " + path
}

// jsonName is protojson's name of a field: lowerCamelCase of the proto name.
func jsonName(field string) string {
	var b strings.Builder
	upper := false
	for _, c := range field {
		switch {
		case c == '_':
			upper = true
		case upper && 'a' <= c && c <= 'z':
			b.WriteRune(c - 'a' + 'A')
			upper = false
		default:
			b.WriteRune(c)
			upper = false
		}
	}
	return b.String()
}

// successStatuses are the HTTP statuses a successful call of m answers: its
// (fuzzyllama.common.v1.success_status) option, or 200.
func successStatuses(m protoreflect.MethodDescriptor) []int {
	declared, _ := proto.GetExtension(m.Options(), commonv1.E_SuccessStatus).([]int32)
	if len(declared) == 0 {
		return []int{200}
	}
	out := make([]int, len(declared))
	for i, s := range declared {
		out[i] = int(s)
	}
	return out
}

// isPublic reports whether m is reachable without an identity.
func isPublic(m protoreflect.MethodDescriptor) bool {
	return proto.GetExtension(m.Options(), commonv1.E_Access).(commonv1.Access) == commonv1.Access_ACCESS_PUBLIC
}

// alwaysSet reports whether a field of a message the server sends is never null: protojson
// (with EmitUnpopulated, as the gateway writes) writes every field, and an unset singular
// message field as null, unless the proto marks it REQUIRED ("always set"). Members of a oneof
// are written only when set, so they are never null either: they are absent.
func alwaysSet(f protoreflect.FieldDescriptor) bool {
	if f.Kind() != protoreflect.MessageKind && f.Kind() != protoreflect.GroupKind || f.IsList() || f.IsMap() {
		return true
	}
	return isRequired(f)
}

// inOneof reports whether f is written only when set: a oneof member or a proto3 optional field.
func inOneof(f protoreflect.FieldDescriptor) bool { return f.ContainingOneof() != nil }

func isRequired(f protoreflect.FieldDescriptor) bool {
	behaviors, _ := proto.GetExtension(f.Options(), annotations.E_FieldBehavior).([]annotations.FieldBehavior)
	return slices.Contains(behaviors, annotations.FieldBehavior_REQUIRED)
}
