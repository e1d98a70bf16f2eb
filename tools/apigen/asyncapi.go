package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
)

// The AsyncAPI 3.0.0 document of the live protocol, gen/api/asyncapi.json: the WebSocket
// /api/v1/ws and its event-stream fallbacks, from the gateway's point of view (it receives the
// client's requests and sends the messages). Its schemas are the OpenAPI document's (the Live*
// ones addLiveSchemas made, and the payloads they refer to), copied so that it stands alone;
// being OpenAPI 3.0 schemas, each is a Multi Format Schema Object naming that format, and the
// references between them point at the wrapped schema ("#/components/schemas/Event/schema").

// openAPISchemaFormat is the schemaFormat of an OpenAPI 3.0 schema in AsyncAPI 3.
const openAPISchemaFormat = "application/vnd.oai.openapi+json;version=3.0.0"

const schemasPrefix = "#/components/schemas/"

// asyncAPI builds the AsyncAPI document from the OpenAPI document's schemas, which must include
// the ones addLiveSchemas adds (call it before pruning the schemas no REST operation uses).
func asyncAPI(doc *openapi3.T) (map[string]any, error) {
	roots := []string{liveClientMessage, liveServerMessage, liveStreamClose}
	for _, name := range roots {
		if doc.Components.Schemas[name] == nil {
			return nil, fmt.Errorf("asyncapi: schema %s is not in the OpenAPI document (addLiveSchemas adds it)", name)
		}
	}
	schemas, err := copySchemas(doc, roots)
	if err != nil {
		return nil, err
	}

	ref := func(pointer string) map[string]any { return map[string]any{"$ref": pointer} }
	messages := map[string]any{}
	message := func(key, title, summary, schema string) {
		messages[key] = map[string]any{
			"name": key, "title": title, "summary": summary,
			"contentType": "application/json",
			"payload":     ref(schemasPrefix + schema),
		}
	}
	for _, t := range slices.Sorted(maps.Keys(live.RequestShapes)) {
		message(string(t), upperFirst(string(t))+" request", live.RequestShapes[t].Summary, liveRequestSchema(t))
	}
	for _, t := range slices.Sorted(maps.Keys(live.MessageShapes)) {
		message(string(t), upperFirst(string(t))+" message", live.MessageShapes[t].Summary, liveMessageSchema(t))
	}
	const closeMessage = "streamClose"
	message(closeMessage, "Event stream end",
		"The last event of an event stream (event: "+live.StreamCloseEvent+"): why it ended, with a close code of the WebSocket's.", liveStreamClose)

	channelMessages := func(keys ...string) map[string]any {
		out := map[string]any{}
		for _, k := range keys {
			if messages[k] == nil {
				panic("no message " + k)
			}
			out[k] = ref("#/components/messages/" + k)
		}
		return out
	}
	var wsKeys []string
	for _, t := range slices.Sorted(maps.Keys(live.RequestShapes)) {
		wsKeys = append(wsKeys, string(t))
	}
	for _, t := range slices.Sorted(maps.Keys(live.MessageShapes)) {
		wsKeys = append(wsKeys, string(t))
	}
	streamKeys := func(types []live.MessageType) []string {
		var out []string
		for _, t := range types {
			out = append(out, string(t))
		}
		return append(out, closeMessage)
	}
	closeCodes := func(stream bool) map[string]any {
		out := map[string]any{}
		for _, c := range live.CloseCodes {
			if (stream && c.EventStream) || (!stream && c.WebSocket) {
				out[strconv.Itoa(int(c.Code))] = map[string]any{"name": c.Name, "description": c.Meaning}
			}
		}
		return out
	}
	streamDescription := "Server-sent events (text/event-stream), for clients that cannot open a WebSocket: the same subscription as on the socket, made by the request itself. " +
		"Each event's data is one message, the same JSON as on the socket; a timeline event's or notification's id is the server-sent event's id, " +
		"so Last-Event-ID (or the query parameter) resumes exactly. The last event, named " + live.StreamCloseEvent + ", says why the stream ended (x-close-codes). " +
		"Refusals (no token, unknown project, a bad id) are the REST API's JSON errors before the stream starts (see openapi.json). The access token comes in the Authorization header."
	channels := map[string]any{
		"ws": map[string]any{
			"address": "/api/v1/ws",
			"title":   "Live updates (WebSocket)",
			"description": "A WebSocket of what a user follows: projects (timeline events, run state changes, document saves), their own notifications, and the output of agent runs. " +
				"Subprotocol " + live.Subprotocol + "; the access token comes in the Authorization header or, from browsers, as the subprotocol " + live.BearerSubprotocolPrefix + "<token> offered beside it. " +
				"Requests are JSON text messages of at most 4 KiB, answered one at a time in the order sent. A bad token is refused with 401 before the upgrade, too many connections with 429. " +
				"x-close-codes are the close codes the gateway ends the socket with.",
			"servers":  []any{ref("#/servers/gateway")},
			"messages": channelMessages(wsKeys...),
			"bindings": map[string]any{"ws": map[string]any{
				"method": "GET",
				"headers": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"Authorization": map[string]any{"type": "string", "pattern": "^Bearer .+", "description": "Bearer <access token>, for clients that can set headers."},
						"Sec-WebSocket-Protocol": map[string]any{"type": "string", "description": "The subprotocols offered: " + live.Subprotocol +
							" (the one the gateway selects) and, without an Authorization header, " + live.BearerSubprotocolPrefix + "<access token>."},
					},
				},
				"bindingVersion": "0.1.0",
			}},
			"x-subprotocol":       live.Subprotocol,
			"x-close-codes":       closeCodes(false),
			"x-max-request-bytes": 4 << 10,
		},
		"projectEvents": map[string]any{
			"address":     "/api/v1/projects/{projectId}/events:stream",
			"title":       "A project's live updates (event stream)",
			"description": "One project's messages (as subscribing to it on the socket): its timeline events, run states and document saves. Resume with Last-Event-ID or ?afterEventId=. " + streamDescription,
			"servers":     []any{ref("#/servers/eventStreams")},
			"parameters": map[string]any{"projectId": map[string]any{
				"description": "The project to follow (any member may).",
			}},
			"messages":      channelMessages(streamKeys(live.ProjectStreamMessages)...),
			"x-close-codes": closeCodes(true),
		},
		"notifications": map[string]any{
			"address":       "/api/v1/notifications:stream",
			"title":         "The user's notifications (event stream)",
			"description":   "The caller's notifications (as subscribing with notifications: true on the socket). Resume with Last-Event-ID or ?afterNotificationId=. " + streamDescription,
			"servers":       []any{ref("#/servers/eventStreams")},
			"messages":      channelMessages(streamKeys(live.NotificationStreamMessages)...),
			"x-close-codes": closeCodes(true),
		},
	}

	channelRefs := func(channel string, keys ...string) []any {
		var out []any
		for _, k := range keys {
			out = append(out, ref("#/channels/"+channel+"/messages/"+k))
		}
		return out
	}
	operations := map[string]any{}
	for _, t := range slices.Sorted(maps.Keys(live.RequestShapes)) {
		shape := live.RequestShapes[t]
		op := map[string]any{
			"action":   "receive",
			"channel":  ref("#/channels/ws"),
			"title":    upperFirst(string(t)),
			"summary":  shape.Summary,
			"messages": channelRefs("ws", string(t)),
		}
		if len(shape.Answers) > 0 {
			var answers []string
			for _, a := range shape.Answers {
				answers = append(answers, string(a))
			}
			op["reply"] = map[string]any{"channel": ref("#/channels/ws"), "messages": channelRefs("ws", answers...)}
		}
		operations[string(t)] = op
	}
	for _, t := range slices.Sorted(maps.Keys(live.MessageShapes)) {
		operations["send"+upperFirst(string(t))] = map[string]any{
			"action":   "send",
			"channel":  ref("#/channels/ws"),
			"title":    "Send " + string(t),
			"summary":  live.MessageShapes[t].Summary,
			"messages": channelRefs("ws", string(t)),
		}
	}
	streamOp := func(channel, summary, afterParam string, types []live.MessageType) map[string]any {
		return map[string]any{
			"action":   "send",
			"channel":  ref("#/channels/" + channel),
			"summary":  summary,
			"messages": channelRefs(channel, streamKeys(types)...),
			"bindings": map[string]any{"http": map[string]any{
				"method": "GET",
				"query": map[string]any{
					"type": "object",
					"properties": map[string]any{afterParam: map[string]any{
						"type":        "string",
						"description": "Resume after this id, for clients that cannot set the Last-Event-ID header (which takes precedence).",
					}},
				},
				"bindingVersion": "0.3.0",
			}},
		}
	}
	operations["streamProjectEvents"] = streamOp("projectEvents", "Serve a project's live updates as server-sent events.", "afterEventId", live.ProjectStreamMessages)
	operations["streamNotifications"] = streamOp("notifications", "Serve the caller's notifications as server-sent events.", "afterNotificationId", live.NotificationStreamMessages)

	version := "1.0.0"
	if doc.Info != nil && doc.Info.Version != "" {
		version = doc.Info.Version
	}
	host := map[string]any{"host": map[string]any{
		"default":     "localhost:8080",
		"description": "The gateway's host and port: the one that serves this document.",
	}}
	out := map[string]any{
		"asyncapi": "3.0.0",
		"id":       "urn:fuzzyllama:live",
		"info": map[string]any{
			"title":   "FuzzyLlama live updates",
			"version": version,
			"description": "The live protocol of the FuzzyLlama gateway: the WebSocket /api/v1/ws and its event-stream fallbacks. " +
				"This document describes the gateway: it receives the client's requests and sends the messages. " +
				"The payloads (event, run, document, notification, chunk) are the REST API's resources as it returns them (openapi.json, whose schemas of the same names these are). " +
				"Generated from gateway/live/protocol.go.",
		},
		"defaultContentType": "application/json",
		"servers": map[string]any{
			"gateway": map[string]any{
				"host": "{host}", "protocol": "ws", "variables": host,
				"description": "The gateway's WebSocket (wss where it is served over TLS).",
				"security":    []any{ref("#/components/securitySchemes/bearer"), ref("#/components/securitySchemes/bearerSubprotocol")},
			},
			"eventStreams": map[string]any{
				"host": "{host}", "protocol": "http", "variables": host,
				"description": "The gateway's event streams (https where it is served over TLS).",
				"security":    []any{ref("#/components/securitySchemes/bearer")},
			},
		},
		"channels":   channels,
		"operations": operations,
		"components": map[string]any{
			"schemas":  schemas,
			"messages": messages,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{
					"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
					"description": "An access token from register, login or refresh, as Authorization: Bearer <token>. Refresh tokens and delegated service tokens are refused.",
				},
				"bearerSubprotocol": map[string]any{
					"type": "httpApiKey", "in": "header", "name": "Sec-WebSocket-Protocol",
					"description": "Browsers, which cannot set headers on a WebSocket: the access token as the subprotocol " + live.BearerSubprotocolPrefix + "<token>, offered beside " + live.Subprotocol + ".",
				},
			},
		},
	}
	if err := checkAsyncAPI(out); err != nil {
		return nil, err
	}
	return out, nil
}

// copySchemas copies the named schemas of the OpenAPI document, and those they refer to, as
// Multi Format Schema Objects of the OpenAPI format, with their references pointing at the
// copies.
func copySchemas(doc *openapi3.T, roots []string) (map[string]any, error) {
	out := map[string]any{}
	todo := slices.Clone(roots)
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		if out[name] != nil {
			continue
		}
		s := doc.Components.Schemas[name]
		if s == nil || s.Value == nil {
			return nil, fmt.Errorf("asyncapi: schema %s is not in the OpenAPI document", name)
		}
		b, err := json.Marshal(s.Value)
		if err != nil {
			return nil, fmt.Errorf("asyncapi: schema %s: %w", name, err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		var bad error
		v = rewriteRefs(v, func(ref string) string {
			target, ok := strings.CutPrefix(ref, schemasPrefix)
			if !ok || strings.Contains(target, "/") {
				bad = fmt.Errorf("asyncapi: schema %s: reference %s is not to a component schema", name, ref)
				return ref
			}
			todo = append(todo, target)
			return ref + "/schema"
		})
		if bad != nil {
			return nil, bad
		}
		out[name] = map[string]any{"schemaFormat": openAPISchemaFormat, "schema": v}
	}
	return out, nil
}

// rewriteRefs replaces each schema reference in v (a "$ref", or a discriminator's mapping) by
// what f makes of it.
func rewriteRefs(v any, f func(string) string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			switch {
			case k == "$ref":
				if s, ok := x.(string); ok {
					v[k] = f(s)
				}
			case k == "discriminator":
				if d, ok := x.(map[string]any); ok {
					if m, ok := d["mapping"].(map[string]any); ok {
						for mk, mv := range m {
							if s, ok := mv.(string); ok {
								m[mk] = f(s)
							}
						}
					}
				}
			default:
				v[k] = rewriteRefs(x, f)
			}
		}
	case []any:
		for i, x := range v {
			v[i] = rewriteRefs(x, f)
		}
	}
	return v
}

// checkAsyncAPI checks what an AsyncAPI 3.0.0 reader relies on: the required fields, that every
// reference resolves within the document, that operations name their channel's messages, and
// that the schemas are valid OpenAPI 3.0 schemas.
func checkAsyncAPI(v map[string]any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	str := func(v any) string { s, _ := v.(string); return s }

	if str(doc["asyncapi"]) != "3.0.0" {
		fail("asyncapi: must be 3.0.0")
	}
	if info := obj(doc["info"]); str(info["title"]) == "" || str(info["version"]) == "" {
		fail("info: needs a title and a version")
	}
	for name, s := range obj(doc["servers"]) {
		if str(obj(s)["host"]) == "" || str(obj(s)["protocol"]) == "" {
			fail("servers.%s: needs a host and a protocol", name)
		}
	}
	channels := obj(doc["channels"])
	if len(channels) == 0 {
		fail("channels: none")
	}
	for name, c := range channels {
		if str(obj(c)["address"]) == "" {
			fail("channels.%s: needs an address", name)
		}
		for key, m := range obj(obj(c)["messages"]) {
			if str(obj(m)["$ref"]) == "" {
				fail("channels.%s.messages.%s: must refer to a component message", name, key)
			}
		}
	}
	// An operation's messages, and its reply's, are messages of its channel.
	channelMessages := func(where string, channelRef any, messages any) {
		ch := str(obj(channelRef)["$ref"])
		name, ok := strings.CutPrefix(ch, "#/channels/")
		if !ok || channels[name] == nil {
			fail("%s.channel: %q is not a channel of the document", where, ch)
			return
		}
		list, _ := messages.([]any)
		for _, m := range list {
			ref := str(obj(m)["$ref"])
			key, ok := strings.CutPrefix(ref, ch+"/messages/")
			if !ok || obj(obj(channels[name])["messages"])[key] == nil {
				fail("%s.messages: %q is not a message of %s", where, ref, ch)
			}
		}
	}
	operations := obj(doc["operations"])
	if len(operations) == 0 {
		fail("operations: none")
	}
	for name, o := range operations {
		op := obj(o)
		if a := str(op["action"]); a != "send" && a != "receive" {
			fail("operations.%s.action: must be send or receive", name)
		}
		channelMessages("operations."+name, op["channel"], op["messages"])
		if reply := obj(op["reply"]); reply != nil {
			channelMessages("operations."+name+".reply", reply["channel"], reply["messages"])
		}
	}
	components := obj(doc["components"])
	for name, m := range obj(components["messages"]) {
		if obj(m)["payload"] == nil {
			fail("components.messages.%s: needs a payload", name)
		}
	}
	for name, s := range obj(components["schemas"]) {
		if str(obj(s)["schemaFormat"]) != openAPISchemaFormat || obj(s)["schema"] == nil {
			fail("components.schemas.%s: must be an OpenAPI 3.0 schema in a Multi Format Schema Object", name)
		}
	}
	var refs func(path string, v any)
	refs = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					if _, ok := resolvePointer(doc, s); !ok {
						fail("%s: $ref %s does not resolve", path, s)
					}
					continue
				}
				refs(path+"."+k, x)
			}
		case []any:
			for i, x := range v {
				refs(fmt.Sprintf("%s[%d]", path, i), x)
			}
		}
	}
	refs("", doc)
	if len(problems) == 0 {
		if _, err := asyncAPISchemas(doc); err != nil {
			fail("%v", err)
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("the AsyncAPI document is not valid:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// resolvePointer finds a local JSON pointer ("#/a/b") in the document.
func resolvePointer(doc any, ref string) (any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	cur := doc
	for _, part := range strings.Split(p, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// wrappedRef is a reference to a wrapped schema.
var wrappedRef = regexp.MustCompile(`"#/components/schemas/([^"/]+)/schema"`)

// asyncAPISchemas loads the document's schemas as OpenAPI 3.0 schemas, references resolved, and
// validates them. (The gateway's tests load them the same way to check the messages.)
func asyncAPISchemas(doc map[string]any) (openapi3.Schemas, error) {
	components, _ := doc["components"].(map[string]any)
	wrapped, _ := components["schemas"].(map[string]any)
	schemas := map[string]any{}
	for name, w := range wrapped {
		s, _ := w.(map[string]any)
		schemas[name] = s["schema"]
	}
	b, err := json.Marshal(map[string]any{
		"openapi": "3.0.3", "info": map[string]any{"title": "schemas", "version": "0"}, "paths": map[string]any{},
		"components": map[string]any{"schemas": schemas},
	})
	if err != nil {
		return nil, err
	}
	// The references point at the wrapped schemas: "#/components/schemas/X/schema" is X here.
	b = wrappedRef.ReplaceAll(b, []byte(`"#/components/schemas/$1"`))
	loaded, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("the schemas do not load: %w", err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the schemas are not valid OpenAPI 3.0 schemas: %w", err)
	}
	return loaded.Components.Schemas, nil
}
