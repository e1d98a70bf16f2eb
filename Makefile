# FuzzyLlama tasks. `make run` and `make test` are the README's two commands.
.PHONY: run test gen gen-check lint tidy build bench contract-baseline web

run:
	go run ./cmd/fuzzyllama

test:
	scripts/test.sh

gen:
	scripts/proto.sh generate
	scripts/web.sh generate

gen-check:
	scripts/proto.sh check

# Build the web console (web/) into gateway/console/dist, the build the binary embeds; commit it
# with the change (make test checks that it is what web/ builds to).
web:
	scripts/web.sh build

# Accept the current contract as the baseline buf breaking compares against (make test): a
# deliberate step, committed with the proto change for review. It lists the breaks it accepts.
contract-baseline:
	scripts/proto.sh baseline

lint:
	gofmt -l $$(git ls-files '*.go' | grep -v '^gen/go/')
	go vet work
	scripts/proto.sh lint

# go mod tidy in every module of the workspace.
tidy:
	for m in $$(go list -m -f '{{.Dir}}'); do (cd $$m && go mod tidy) || exit 1; done

build:
	go build -o bin/fuzzyllama ./cmd/fuzzyllama

bench:
	go test -run '^$$' -bench . -benchmem work
