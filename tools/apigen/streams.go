package main

import (
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Answers that are not one JSON envelope: server streams the gateway serves as a download or
// as server-sent events, and the live event streams it adds beside the generated routes.

// streamForms says how the gateway answers each server-streaming method (gateway/download.go,
// gateway/watchrun.go). A new streaming method must be added here, or generation fails.
var streamForms = map[protoreflect.FullName]func(doc *openapi3.T) *openapi3.Response{
	"fuzzyllama.documents.v1.DocumentsService.ExportDocuments": func(*openapi3.T) *openapi3.Response {
		file := &openapi3.MediaType{Schema: (&openapi3.Schema{Type: &openapi3.Types{"string"}, Format: "binary"}).NewRef()}
		resp := openapi3.NewResponse().WithDescription("The archive as a file download, zip or tar.gz as asked.")
		resp.Content = openapi3.Content{"application/zip": file, "application/gzip": file}
		resp.Headers = openapi3.Headers{"Content-Disposition": {Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: "attachment, with the archive's file name.", Schema: openapi3.NewStringSchema().NewRef()}}}}
		return resp
	},
	"fuzzyllama.agents.v1.AgentsService.WatchRun": func(doc *openapi3.T) *openapi3.Response {
		addStreamSchemas(doc)
		return eventStream("Server-sent events until the run has finished: `run` (the run, first as it is and again whenever its state changes), "+
			"`chunk` (a piece of its output: what was produced already, then as it arrives), and `error` (the watch failed; the stream ends). "+
			"Each event's data is the JSON of its message.",
			map[string]string{"run": "Run", "chunk": "OutputChunk", "error": "StreamError"})
	},
}

// streamNote tells a reader of the reference how to follow a stream: an API explorer's "try it"
// waits for the answer to end, which a live stream does not.
const streamNote = "\n\nRead it as it arrives: `fetch` with a streaming body (browsers' `EventSource` cannot send the bearer token; there the WebSocket is the better fit), or `curl -N -H 'Authorization: Bearer <accessToken>'`. An API explorer's try-it waits for the end of the answer, which a live stream does not reach."

// addEventStreams declares the event-stream fallbacks of the WebSocket (gateway/live/stream.go).
func addEventStreams(doc *openapi3.T) {
	addStreamSchemas(doc)
	live := func(id, summary, description, afterParam string, projectScoped bool) *openapi3.Operation {
		op := openapi3.NewOperation()
		op.OperationID, op.Summary, op.Description, op.Tags = id, summary, description+streamNote, []string{"Live"}
		if projectScoped {
			op.AddParameter(openapi3.NewPathParameter("projectId").WithSchema(openapi3.NewStringSchema()))
		}
		op.AddParameter(openapi3.NewHeaderParameter("Last-Event-ID").WithDescription("Resume after this id (browsers send it when they reconnect).").WithSchema(openapi3.NewStringSchema()))
		op.AddParameter(openapi3.NewQueryParameter(afterParam).WithDescription("Resume after this id, for clients that cannot set Last-Event-ID.").WithSchema(openapi3.NewStringSchema()))
		op.Responses = openapi3.NewResponses()
		op.Responses.Set("200", &openapi3.ResponseRef{Value: eventStream(
			"Server-sent events: each `data` is one live message, the same JSON as on the WebSocket; timeline events and notifications carry their id as the event id. "+
				"A last `close` event says why the stream ended (its code as on the WebSocket).",
			map[string]string{"message": "LiveServerMessage", "close": "LiveStreamClose"})})
		errs := []errorResponse{errBadRequest, errUnauthorized, errRateLimited, errInternal, errUnavailable}
		if projectScoped {
			errs = append(errs, errForbidden, errNotFound)
		}
		sort.Slice(errs, func(i, j int) bool { return errs[i].status < errs[j].status })
		for _, e := range errs {
			op.Responses.Set(strconv.Itoa(e.status), &openapi3.ResponseRef{Ref: "#/components/responses/" + e.name})
		}
		return op
	}
	doc.Paths.Set("/api/v1/projects/{projectId}/events:stream", &openapi3.PathItem{Get: live("streamProjectEvents",
		"Follow a project live: its timeline events, run states and document saves",
		"The event-stream fallback of subscribing to the project on the WebSocket /api/v1/ws: replays the timeline after the resumed event, then catches up on the runs and documents changed since, then follows live. Any member.",
		"afterEventId", true)})
	doc.Paths.Set("/api/v1/notifications:stream", &openapi3.PathItem{Get: live("streamNotifications",
		"Follow your notifications live",
		"The event-stream fallback of subscribing to notifications on the WebSocket /api/v1/ws: replays the notifications after the resumed one, then follows live.",
		"afterNotificationId", false)})
}

// eventStream is a text/event-stream answer whose events carry the named schemas as JSON data.
// The media type's schema is what any event's data can be; x-sse-events names them per event.
func eventStream(description string, events map[string]string) *openapi3.Response {
	names := make([]string, 0, len(events))
	for name := range events {
		names = append(names, name)
	}
	sort.Strings(names)
	byEvent := map[string]any{}
	var anyOf openapi3.SchemaRefs
	seen := map[string]bool{}
	for _, name := range names {
		ref := "#/components/schemas/" + events[name]
		byEvent[name] = map[string]any{"$ref": ref}
		if !seen[ref] {
			seen[ref] = true
			anyOf = append(anyOf, openapi3.NewSchemaRef(ref, nil))
		}
	}
	mt := &openapi3.MediaType{
		Schema:     (&openapi3.Schema{OneOf: anyOf, Description: "The JSON `data` of one event (" + strings.Join(names, ", ") + ")."}).NewRef(),
		Extensions: map[string]any{"x-sse-events": byEvent},
	}
	resp := openapi3.NewResponse().WithDescription(description)
	resp.Content = openapi3.Content{"text/event-stream": mt}
	return resp
}

// addStreamSchemas declares the data of the run watch's own error event (the live streams'
// close event is LiveStreamClose, from the live protocol).
func addStreamSchemas(doc *openapi3.T) {
	schemas := doc.Components.Schemas
	if _, done := schemas["StreamError"]; done {
		return
	}
	schemas["StreamError"] = (&openapi3.Schema{
		Type:        &openapi3.Types{"object"},
		Description: "Why a stream ended with an error, after it had started.",
		Properties: openapi3.Schemas{
			"code":    described(openapi3.NewStringSchema().WithEnum(errorCodes...), "The google.rpc.Code name."),
			"message": openapi3.NewStringSchema().NewRef(),
		},
		Required: []string{"code", "message"},
	}).NewRef()
}
