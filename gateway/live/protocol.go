package live

import (
	_ "embed"
	"encoding/json"

	"github.com/coder/websocket"
	"google.golang.org/grpc/codes"

	"github.com/fuzzyllama/fuzzyllama/platform/input"
)

// ProtocolSource is this file: the generator of the contract reads its doc comments.
//
//go:embed protocol.go
var ProtocolSource string

// The live protocol: the messages of the WebSocket /api/v1/ws and of its event-stream
// fallbacks. These types are the single source of the published contract, gen/api/asyncapi.json
// (and the Live* schemas of gen/api/openapi.json), which tools/apigen generates from them by
// reflection: a field's JSON name, its type, whether it is always sent (no omitempty) and its
// doc comment as the description. What each message type carries is
// RequestShapes and MessageShapes; the gateway's tests check every message they exchange against
// the published schemas.

// Subprotocol is the protocol of this socket; browsers offer "bearer.<access token>" beside it.
const Subprotocol = "fuzzyllama.v1"

// BearerSubprotocolPrefix is the prefix of the subprotocol that carries the access token, for
// clients that cannot set the Authorization header (browsers).
const BearerSubprotocolPrefix = "bearer."

// Close codes, in the range RFC 6455 leaves to applications. CloseCodes describes them.
const (
	CloseTokenExpired websocket.StatusCode = 4001 // reconnect with a fresh access token
	CloseTooSlow      websocket.StatusCode = 4008 // reconnect with the last event id seen
	CloseStreamEnded  websocket.StatusCode = 4010 // an event stream's subscription ended: see the error before it
)

// A CloseCode is a code the gateway ends a connection with, and what the client should do.
type CloseCode struct {
	Code    websocket.StatusCode
	Name    string
	Meaning string
	// Which connections end with it: the socket (a close frame), an event stream (its last
	// "close" event).
	WebSocket, EventStream bool
}

// CloseCodes are every code the gateway closes a socket, or ends an event stream, with.
var CloseCodes = []CloseCode{
	{Code: websocket.StatusGoingAway, Name: "goingAway", WebSocket: true, EventStream: true,
		Meaning: "The server is shutting down, or the client did not answer a ping: reconnect (to another replica) with the last ids seen."},
	{Code: websocket.StatusMessageTooBig, Name: "messageTooBig", WebSocket: true,
		Meaning: "A client message was larger than 4 KiB."},
	{Code: CloseTokenExpired, Name: "tokenExpired", WebSocket: true, EventStream: true,
		Meaning: "The access token expired, or its session ended (logout, password reset): reconnect with a fresh access token."},
	{Code: CloseTooSlow, Name: "tooSlow", WebSocket: true, EventStream: true,
		Meaning: "The client fell too far behind on live messages and some were not delivered: reconnect with the last event and notification ids seen (afterEventId, afterNotificationId, Last-Event-ID)."},
	{Code: CloseStreamEnded, Name: "streamEnded", EventStream: true,
		Meaning: "The event stream's one subscription ended (a failed replay, the user's removal from the project): the error message before it says why."},
}

// RequestType is the type of a client request.
type RequestType string

// The client requests.
const (
	Subscribe   RequestType = "subscribe"
	Unsubscribe RequestType = "unsubscribe"
	WatchRun    RequestType = "watchRun"
	UnwatchRun  RequestType = "unwatchRun"
)

// ClientRequest is a message from the client (WebSocket only), a JSON object of at most 4 KiB.
// Unknown fields are ignored.
type ClientRequest struct {
	// What the client asks.
	Type RequestType `json:"type"`
	// The project to follow (subscribe, unsubscribe), or the run's project (watchRun).
	ProjectID string `json:"projectId,omitempty"`
	// Subscribe to a project, optional: replay the project's events after this one (an event id the
	// server sent, or 0 for the whole timeline), then the runs and documents that changed since.
	AfterEventID string `json:"afterEventId,omitempty"`
	// true: subscribe to (or unsubscribe from) the user's own notifications instead of a project.
	Notifications bool `json:"notifications,omitempty"`
	// Subscribe to notifications, optional: replay the notifications after this one (a notification
	// id the server sent), oldest first.
	AfterNotificationID string `json:"afterNotificationId,omitempty"`
	// The run to follow (watchRun) or stop following (unwatchRun).
	RunID string `json:"runId,omitempty"`
}

// MessageType is the type of a server message.
type MessageType string

// The server messages.
const (
	Subscribed          MessageType = "subscribed"
	Unsubscribed        MessageType = "unsubscribed"
	EventMessage        MessageType = "event"
	RunMessage          MessageType = "run"
	DocumentMessage     MessageType = "document"
	NotificationMessage MessageType = "notification"
	ChunkMessage        MessageType = "chunk"
	Unwatched           MessageType = "unwatched"
	ErrorMessage        MessageType = "error"
)

// ServerMessage is a message to the client: a WebSocket text message, or an event stream's
// event data. Which of ProjectID, Notifications and RunID is set says what a subscribed,
// unsubscribed, unwatched or error message is about. The payloads (Event, Run, Document,
// Notification, Chunk) are the protojson of the public messages PayloadSchemas names.
type ServerMessage struct {
	// What the message is, and so which other fields it has.
	Type MessageType `json:"type"`
	// The project the message is about.
	ProjectID string `json:"projectId,omitempty"`
	// true: the message is about the user's notifications.
	Notifications bool `json:"notifications,omitempty"`
	// The watched run the message is about.
	RunID string `json:"runId,omitempty"`
	// A timeline event of the project, exactly as ListEvents returns it.
	Event json.RawMessage `json:"event,omitempty"`
	// A run's current state, without its output.
	Run json.RawMessage `json:"run,omitempty"`
	// A document's save: its metadata and the outcome, without its content.
	Document json.RawMessage `json:"document,omitempty"`
	// One of the user's notifications.
	Notification json.RawMessage `json:"notification,omitempty"`
	// A piece of the watched run's output (of its current attempt).
	Chunk json.RawMessage `json:"chunk,omitempty"`
	// The gRPC code of the error, by name (e.g. NotFound for a project the user cannot read).
	Code string `json:"code,omitempty"`
	// What went wrong, for people.
	Message string `json:"message,omitempty"`
}

// A Rule constrains the values of a string field beyond its type.
type Rule struct {
	Enum                 []string
	Pattern              string
	MinLength, MaxLength int
}

// FieldRules are the values the string fields take, by JSON name (in requests and messages
// alike): what the gateway accepts, and what it sends.
var FieldRules = map[string]Rule{
	"projectId":           {MinLength: 1, MaxLength: input.IDMaxLen},
	"runId":               {MinLength: 1, MaxLength: input.IDMaxLen},
	"afterEventId":        {Pattern: `^[0-9]+$`},
	"afterNotificationId": {Pattern: `^[0-9]+$`},
	"code":                {Enum: errorCodes()},
}

// errorCodes are the gRPC codes by name, but OK.
func errorCodes() []string {
	var out []string
	for c := codes.Canceled; c <= codes.Unauthenticated; c++ {
		out = append(out, c.String())
	}
	return out
}

// PayloadSchemas names, by JSON field, the public message (the OpenAPI component schema) whose
// protojson each payload field of ServerMessage carries.
var PayloadSchemas = map[string]string{
	"event":        "Event",
	"run":          "Run",
	"document":     "SavedDocument",
	"notification": "Notification",
	"chunk":        "OutputChunk",
}

// A Shape says which fields (by JSON name, beside type) a message of one type has: Required
// always, Optional when they apply, exactly one of OneOf (a boolean counts when true); and, for
// a request, the messages that answer it.
type Shape struct {
	Summary  string
	Required []string
	Optional []string
	OneOf    []string
	Answers  []MessageType
}

// RequestShapes are the client requests. A request's other fields are ignored.
var RequestShapes = map[RequestType]Shape{
	Subscribe: {Summary: "Follow a project (projectId, optionally afterEventId) or the user's notifications (notifications: true, optionally afterNotificationId). Answered by subscribed, or error.",
		Optional: []string{"projectId", "afterEventId", "notifications", "afterNotificationId"}, OneOf: []string{"projectId", "notifications"},
		Answers: []MessageType{Subscribed, ErrorMessage}},
	Unsubscribe: {Summary: "Stop following a project (projectId) or the user's notifications (notifications: true). Answered by unsubscribed, or error.",
		Optional: []string{"projectId", "notifications"}, OneOf: []string{"projectId", "notifications"},
		Answers: []MessageType{Unsubscribed, ErrorMessage}},
	WatchRun: {Summary: "Follow a run's output: the run, then the output of its current attempt from the start, then chunks and run changes until it finishes (unwatched). Answered by the run, or error.",
		Required: []string{"projectId", "runId"},
		Answers:  []MessageType{RunMessage, ErrorMessage}},
	UnwatchRun: {Summary: "Stop following a run's output. Answered by unwatched, or error.",
		Required: []string{"runId"},
		Answers:  []MessageType{Unwatched, ErrorMessage}},
}

// MessageShapes are the server messages. The code builds every message with the fields its
// shape names, and the tests check every message they receive against it.
var MessageShapes = map[MessageType]Shape{
	Subscribed: {Summary: "A subscription started (its replay, if any, follows): about a project (projectId) or the user's notifications (notifications: true).",
		Optional: []string{"projectId", "notifications"}, OneOf: []string{"projectId", "notifications"}},
	Unsubscribed: {Summary: "An unsubscribe was honoured: about a project (projectId) or the user's notifications (notifications: true).",
		Optional: []string{"projectId", "notifications"}, OneOf: []string{"projectId", "notifications"}},
	EventMessage: {Summary: "A timeline event of a project followed (replayed or live). On an event stream, the event's id is the server-sent event's id.",
		Required: []string{"projectId", "event"}},
	RunMessage: {Summary: "A run's state changed (or, on resume, changed since): of a project followed, or of a watched run (runId set).",
		Required: []string{"projectId", "run"}, Optional: []string{"runId"}},
	DocumentMessage: {Summary: "A document of a project followed was saved (or, on resume, changed since).",
		Required: []string{"projectId", "document"}},
	NotificationMessage: {Summary: "One of the user's notifications (replayed or live). On an event stream, the notification's id is the server-sent event's id.",
		Required: []string{"notification"}},
	ChunkMessage: {Summary: "Output of a watched run.",
		Required: []string{"projectId", "runId", "chunk"}},
	Unwatched: {Summary: "A watched run finished, or an unwatchRun was honoured: nothing more comes of it.",
		Required: []string{"runId"}, Optional: []string{"projectId"}},
	ErrorMessage: {Summary: "A request failed, or a subscription or watch ended (e.g. PermissionDenied: the user was removed from the project); labelled with projectId, notifications or runId when it is about one.",
		Required: []string{"code", "message"}, Optional: []string{"projectId", "notifications", "runId"}},
}

// The messages of the event streams (ServeProjectStream, ServeNotificationStream), before
// their last event, "close".
var (
	ProjectStreamMessages      = []MessageType{Subscribed, EventMessage, RunMessage, DocumentMessage, ErrorMessage}
	NotificationStreamMessages = []MessageType{Subscribed, NotificationMessage, ErrorMessage}
)

// StreamClose is the data of an event stream's last event, "close": how the stream ended, with
// the socket's close codes (CloseCodes).
type StreamClose struct {
	// The close code (see x-close-codes).
	Code int `json:"code"`
	// Why the stream ended, for people.
	Reason string `json:"reason"`
}

// StreamCloseEvent is the event name of an event stream's last event.
const StreamCloseEvent = "close"
