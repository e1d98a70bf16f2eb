package main

import (
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The envelope, as gateway/internal/envelope writes it.

// errorCodes are the values of error.code: the google.rpc.Code names the gateway maps gRPC
// statuses to, and the two the HTTP edge adds itself.
var errorCodes = []any{
	"CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
	"PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
	"METHOD_NOT_ALLOWED", "PAYLOAD_TOO_LARGE",
}

// errorResponse is one failure an operation can answer.
type errorResponse struct {
	status      int
	name        string // of the component response
	description string
	header      string         // a header the answer carries, if any
	example     map[string]any // the error object of an example answer
}

var (
	errBadRequest = errorResponse{400, "BadRequest", "The request is malformed or a field is invalid (INVALID_ARGUMENT, with `details.fields` naming each offending field), " +
		"or what it asks is not possible in the current state (FAILED_PRECONDITION; `details.reason` may say why).", "", map[string]any{"code": "INVALID_ARGUMENT", "message": "invalid request: check name", "details": map[string]any{"fields": []any{map[string]any{"field": "name", "description": "is required"}}}}}
	errUnauthorized = errorResponse{401, "Unauthorized", "No valid credentials: the access token is missing, malformed, expired or revoked, " +
		"or (sign-in, refresh) the credentials presented are wrong (UNAUTHENTICATED).", "WWW-Authenticate", map[string]any{"code": "UNAUTHENTICATED", "message": "invalid or expired access token"}}
	errForbidden   = errorResponse{403, "Forbidden", "The caller's role in the project does not allow this (PERMISSION_DENIED).", "", map[string]any{"code": "PERMISSION_DENIED", "message": "viewers cannot change this project"}}
	errNotFound    = errorResponse{404, "NotFound", "The resource does not exist, or the caller may not know it does (NOT_FOUND).", "", map[string]any{"code": "NOT_FOUND", "message": "project not found"}}
	errConflict    = errorResponse{409, "Conflict", "The change conflicts with the current state: it exists already (ALREADY_EXISTS) or it changed meanwhile (ABORTED; `details.metadata` may carry the current version).", "", map[string]any{"code": "ABORTED", "message": "document 01j9 is at version 5: your change was based on version 4; merge it with the current version and save again", "details": map[string]any{"reason": "STALE_VERSION", "metadata": map[string]any{"currentVersion": "5"}}}}
	errTooLarge    = errorResponse{413, "PayloadTooLarge", "The request body exceeds the gateway's limit (PAYLOAD_TOO_LARGE).", "", map[string]any{"code": "PAYLOAD_TOO_LARGE", "message": "the request body is larger than 1048576 bytes"}}
	errRateLimited = errorResponse{429, "TooManyRequests", "Too many requests, or a budget is spent (RESOURCE_EXHAUSTED); retry after `Retry-After` seconds (also `details.retryAfterSeconds`).", "Retry-After", map[string]any{"code": "RESOURCE_EXHAUSTED", "message": "too many requests: retry in 30 seconds", "details": map[string]any{"retryAfterSeconds": 30}}}
	errInternal    = errorResponse{500, "InternalError", "An unexpected failure (INTERNAL); the message never reveals internals. Quote `meta.requestId` when reporting it.", "", map[string]any{"code": "INTERNAL", "message": "internal error"}}
	errUnavailable = errorResponse{503, "ServiceUnavailable", "A service or its database is briefly unavailable, or the gateway is shutting down (UNAVAILABLE); retry after `Retry-After` seconds.", "Retry-After", map[string]any{"code": "UNAVAILABLE", "message": "service temporarily unavailable; try again shortly"}}
	allErrors      = []errorResponse{errBadRequest, errUnauthorized, errForbidden, errNotFound, errConflict, errTooLarge, errRateLimited, errInternal, errUnavailable}
)

// Public methods that check credentials of their own, or can conflict with stored state.
var (
	checksCredentials = map[protoreflect.FullName]bool{
		"fuzzyllama.auth.v1.AuthService.Login":   true,
		"fuzzyllama.auth.v1.AuthService.Refresh": true,
	}
	publicConflicts = map[protoreflect.FullName]bool{
		"fuzzyllama.auth.v1.AuthService.Register": true, // the email is taken
	}
)

// possibleErrors are the failures an operation can answer. Every request can be malformed, carry
// a body over the gateway's limit (whatever its method), be rate limited, meet an internal
// failure or an unavailable service; a call needing an identity can lack it, be refused, or name
// what the caller cannot see; a change can conflict.
func possibleErrors(op *openapi3.Operation, m protoreflect.MethodDescriptor, route string) []errorResponse {
	public := isPublic(m)
	change := !strings.HasPrefix(route, http.MethodGet+" ")
	var out []errorResponse
	for _, e := range allErrors {
		switch e.status {
		case 401:
			if public && !checksCredentials[m.FullName()] {
				continue
			}
		case 403, 404:
			if public {
				continue
			}
		case 409:
			if !change || public && !publicConflicts[m.FullName()] {
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

// addEnvelopeComponents declares the envelope's schemas and the error answers.
func addEnvelopeComponents(doc *openapi3.T) {
	str := func(desc string) *openapi3.SchemaRef {
		return described(openapi3.NewStringSchema(), desc)
	}
	ref := func(name string) *openapi3.SchemaRef { return openapi3.NewSchemaRef("#/components/schemas/"+name, nil) }
	schemas := doc.Components.Schemas
	schemas["Meta"] = (&openapi3.Schema{
		Type:        &openapi3.Types{"object"},
		Description: "Identifies the answer.",
		Properties: openapi3.Schemas{
			"timestamp": described(openapi3.NewDateTimeSchema(), "When the gateway answered (RFC 3339, UTC)."),
			"requestId": str("The request's id (X-Request-Id): quote it when reporting a problem."),
		},
		Required: []string{"timestamp"},
	}).NewRef()
	schemas["FieldViolation"] = (&openapi3.Schema{
		Type:        &openapi3.Types{"object"},
		Description: "One offending request field.",
		Properties: openapi3.Schemas{
			"field":       str("The field's path in the request, e.g. `document.title`."),
			"description": str("What is wrong with it."),
		},
		Required: []string{"field", "description"},
	}).NewRef()
	schemas["ErrorDetails"] = (&openapi3.Schema{
		Type:        &openapi3.Types{"object"},
		Description: "The structured parts of an error; each is present only when it applies.",
		Properties: openapi3.Schemas{
			"fields":            (&openapi3.Schema{Type: &openapi3.Types{"array"}, Items: ref("FieldViolation")}).NewRef(),
			"reason":            str("A stable machine-readable reason, e.g. REFRESH_TOKEN_REVOKED."),
			"metadata":          described(openapi3.NewObjectSchema().WithAdditionalProperties(openapi3.NewStringSchema()), "Machine-readable facts for the reason, e.g. {\"currentVersion\": \"5\"}."),
			"retryAfterSeconds": described(openapi3.NewInt64Schema().WithMin(1), "When to retry, in seconds (also the Retry-After header)."),
		},
	}).NewRef()
	schemas["Error"] = (&openapi3.Schema{
		Type:        &openapi3.Types{"object"},
		Description: "Why the request failed.",
		Properties: openapi3.Schemas{
			"code":    described(openapi3.NewStringSchema().WithEnum(errorCodes...), "The google.rpc.Code name, or METHOD_NOT_ALLOWED / PAYLOAD_TOO_LARGE from the HTTP edge."),
			"message": str("A sentence for a person."),
			"details": ref("ErrorDetails"),
		},
		Required: []string{"code", "message"},
	}).NewRef()
	schemas["ErrorEnvelope"] = (&openapi3.Schema{
		Type:        &openapi3.Types{"object"},
		Description: "The body of every failed answer.",
		Properties: openapi3.Schemas{
			"success": openapi3.NewBoolSchema().WithEnum(false).NewRef(),
			"error":   ref("Error"),
			"meta":    ref("Meta"),
		},
		Required: []string{"success", "error", "meta"},
	}).NewRef()

	if doc.Components.Responses == nil {
		doc.Components.Responses = openapi3.ResponseBodies{}
	}
	for _, e := range allErrors {
		resp := openapi3.NewResponse().WithDescription(e.description).WithJSONSchemaRef(ref("ErrorEnvelope"))
		resp.Content["application/json"].Example = map[string]any{"success": false, "error": e.example,
			"meta": map[string]any{"timestamp": "2026-01-01T12:00:00Z", "requestId": "4bf92f3577b34da6a3ce929d0e0e4736"}}
		switch e.header {
		case "WWW-Authenticate":
			resp.Headers = openapi3.Headers{e.header: {Value: &openapi3.Header{Parameter: openapi3.Parameter{Required: true,
				Description: "The authentication scheme: Bearer.", Schema: openapi3.NewStringSchema().NewRef()}}}}
		case "Retry-After":
			resp.Headers = openapi3.Headers{e.header: {Value: &openapi3.Header{Parameter: openapi3.Parameter{Required: true,
				Description: "Seconds to wait before retrying.", Schema: openapi3.NewIntegerSchema().WithMin(1).NewRef()}}}}
		}
		doc.Components.Responses[e.name] = &openapi3.ResponseRef{Value: resp}
	}
}

// successEnvelope is the schema of a successful answer carrying data: a component named after
// data's schema, e.g. CreateProjectResponseEnvelope.
func successEnvelope(doc *openapi3.T, data *openapi3.SchemaRef) *openapi3.SchemaRef {
	name := strings.TrimPrefix(data.Ref, "#/components/schemas/") + "Envelope"
	if _, done := doc.Components.Schemas[name]; !done {
		doc.Components.Schemas[name] = (&openapi3.Schema{
			Type: &openapi3.Types{"object"},
			Properties: openapi3.Schemas{
				"success": openapi3.NewBoolSchema().WithEnum(true).NewRef(),
				"data":    data,
				"meta":    openapi3.NewSchemaRef("#/components/schemas/Meta", nil),
			},
			Required: []string{"success", "data", "meta"},
		}).NewRef()
	}
	return openapi3.NewSchemaRef("#/components/schemas/"+name, nil)
}

// described is s with a description, as a reference to use in place.
func described(s *openapi3.Schema, description string) *openapi3.SchemaRef {
	s.Description = description
	return s.NewRef()
}
