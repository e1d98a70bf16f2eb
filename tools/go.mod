module github.com/fuzzyllama/fuzzyllama/tools

go 1.26.0

require (
	github.com/fuzzyllama/fuzzyllama/gen v0.0.0
	github.com/getkin/kin-openapi v0.153.0
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/fuzzyllama/fuzzyllama/gen => ../gen
