// Command apigen writes the published REST contract, gen/api/openapi.json (OpenAPI 3.0.3), from
// what scripts/proto.sh generates before it:
//
//   - the Swagger 2.0 document protoc-gen-openapiv2 makes of the protos' HTTP bindings (paths,
//     parameters, request bodies, and schemas as protojson writes them: enums by name, 64-bit
//     integers as strings, timestamps as date-time);
//   - the self-contained descriptor set of the protos, for what Swagger 2.0 cannot carry and the
//     gateway adds: the envelope around every answer, the statuses a call answers
//     ((fuzzyllama.common.v1.success_status) and the errors it can meet), which fields are always
//     present in an answer, and the event streams.
//
// kin-openapi's openapi2conv does the conversion; this command completes the result. It writes
// nothing when the document does not validate.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	swagger := flag.String("swagger", ".gen-tmp/openapiv2/fuzzyllama.swagger.json", "the Swagger 2.0 document of protoc-gen-openapiv2")
	descriptors := flag.String("descriptors", "gen/api/fuzzyllama.binpb", "the descriptor set of the protos, with imports")
	out := flag.String("out", "gen/api", "the directory the published documents are written to")
	flag.Parse()
	if err := run(*swagger, *descriptors, *out); err != nil {
		fmt.Fprintln(os.Stderr, "apigen:", err)
		os.Exit(1)
	}
}

func run(swaggerPath, descriptorsPath, outDir string) error {
	swagger, err := os.ReadFile(swaggerPath)
	if err != nil {
		return err
	}
	descriptors, err := os.ReadFile(descriptorsPath)
	if err != nil {
		return err
	}
	protos, err := loadProtos(descriptors)
	if err != nil {
		return err
	}
	doc, err := buildOpenAPI(swagger, protos)
	if err != nil {
		return err
	}
	liveDoc, err := asyncAPI(doc)
	if err != nil {
		return err
	}
	pruneUnused(doc)
	b, err := marshal(doc)
	if err != nil {
		return err
	}
	if err := validate(b); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(outDir, "openapi.json"), b); err != nil {
		return err
	}
	if b, err = marshal(liveDoc); err != nil {
		return err
	}
	return writeFile(filepath.Join(outDir, "asyncapi.json"), b)
}
