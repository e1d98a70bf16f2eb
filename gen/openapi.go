// Package gen holds the code generated from the FuzzyLlama protobuf contracts in proto/ by
// scripts/proto.sh: gRPC messages and stubs, grpc-gateway handlers (under go/) and the merged
// OpenAPI document (under openapi/). Nothing under go/ or openapi/ is edited by hand.
package gen

import _ "embed"

// OpenAPI is the merged OpenAPI (Swagger 2.0) document of every service's REST bindings.
//
//go:embed openapi/fuzzyllama.swagger.json
var OpenAPI []byte
