// Package gen holds what is generated from the FuzzyLlama protobuf contracts in proto/ by
// scripts/proto.sh: gRPC messages and stubs and grpc-gateway handlers (under go/), and the
// published contracts (under api/). Nothing under go/ or api/ is edited by hand.
package gen

import "embed"

// API holds the published contracts, served by the gateway under /api/docs/:
//
//   - openapi.json: the REST/JSON API, OpenAPI 3.0.3, envelope and statuses as the gateway
//     sends them (made by tools/apigen);
//   - asyncapi.json: the live protocol of the WebSocket and its event streams, AsyncAPI 3;
//   - fuzzyllama.binpb: a self-contained FileDescriptorSet of the protos (imports included),
//     for any protoc plugin.
//
//go:embed api
var API embed.FS

// OpenAPI is the REST/JSON API's OpenAPI 3 document (api/openapi.json).
var OpenAPI = mustRead("api/openapi.json")

func mustRead(name string) []byte {
	b, err := API.ReadFile(name)
	if err != nil {
		panic(err) // the file is embedded at build time: missing means a broken build
	}
	return b
}
