package edge

import "google.golang.org/protobuf/encoding/protojson"

// JSON is the one JSON form of the public messages wherever a client reads them: REST answers,
// server-sent events, the WebSocket, and what services publish for live clients. Every field is
// written, unset ones as their zero value (an unset message as null), so a client meets one shape
// per message, the one the published OpenAPI and AsyncAPI documents describe.
var JSON = protojson.MarshalOptions{EmitUnpopulated: true}
