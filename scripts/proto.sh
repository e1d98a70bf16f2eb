#!/usr/bin/env bash
# Protobuf contracts: lint, generate, and check that the committed generated code is fresh and the
# contract does not break its baseline.
#
#   scripts/proto.sh lint       buf format check + buf lint
#   scripts/proto.sh generate   regenerate gen/go and the published contracts in gen/api
#   scripts/proto.sh breaking   buf breaking: proto/ against the committed baseline (FILE rules)
#   scripts/proto.sh check      lint, breaking, regenerate, and fail if that changed anything
#   scripts/proto.sh baseline   make the current contract the baseline (a deliberate, reviewed
#                               step: it lists the breaking changes it accepts; `make contract-baseline`)
#
# Works offline once the Go module cache holds the pinned tools: every plugin is a local binary
# installed with `go install module@version`, and the third-party protos (google/api, OpenAPI
# options) are copied out of the Go module cache into third_party/proto (ignored by git) instead of
# being committed or fetched from the Buf Schema Registry. Every buf command gets that offline
# workspace (buf.yaml) explicitly: proto/buf.yaml, found first for inputs under proto/, is the
# published module whose dependencies come from the registry (see its comment).
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned tool versions. protoc-gen-go matches the google.golang.org/protobuf runtime in gen/go.mod;
# the gateway plugins match github.com/grpc-ecosystem/grpc-gateway/v2 there.
TOOLS=(
  github.com/bufbuild/buf/cmd/buf@v1.75.0
  google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
  google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@v2.33.0
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@v2.33.0
)
# Where the third-party protos come from (see third_party/proto/VERSIONS.md after a run): the last
# grpc-gateway release that still ships google/api (with field_behavior.proto), and the current one
# for the OpenAPI options.
GOOGLEAPIS_MODULE=github.com/grpc-ecosystem/grpc-gateway/v2@v2.2.0
OPENAPI_OPTIONS_MODULE=github.com/grpc-ecosystem/grpc-gateway/v2@v2.33.0

BIN="$PWD/.bin"
# The published contract at the last deliberate update (`scripts/proto.sh baseline`); never
# rewritten by generate.
BASELINE=proto/breaking-baseline.binpb

# buf with the offline workspace.
buf() { local cmd="$1"; shift; "$BIN/buf" "$cmd" --config buf.yaml "$@"; }

install_tools() {
  mkdir -p "$BIN"
  for tool in "${TOOLS[@]}"; do
    local name="${tool%@*}" version="${tool##*@}"
    name="${name##*/}"
    # A stamp per name@version so a version bump reinstalls and an unchanged pin costs nothing.
    if [[ ! -x "$BIN/$name" || ! -f "$BIN/.$name@$version" ]]; then
      echo "installing $tool" >&2
      GOWORK=off GOBIN="$BIN" go install "$tool"
      rm -f "$BIN/.$name@"*
      touch "$BIN/.$name@$version"
    fi
  done
}

module_dir() {
  GOWORK=off GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

third_party() {
  local googleapis openapi
  googleapis="$(module_dir "$GOOGLEAPIS_MODULE")"
  openapi="$(module_dir "$OPENAPI_OPTIONS_MODULE")"
  rm -rf third_party/proto
  mkdir -p third_party/proto/google/api third_party/proto/protoc-gen-openapiv2/options
  cp "$googleapis"/third_party/googleapis/google/api/{annotations,http,field_behavior}.proto third_party/proto/google/api/
  cp "$openapi"/protoc-gen-openapiv2/options/{annotations,openapiv2}.proto third_party/proto/protoc-gen-openapiv2/options/
  chmod -R u+w third_party/proto
  cat >third_party/proto/VERSIONS.md <<MD
Copied by scripts/proto.sh from the Go module cache; do not edit or commit.
- google/api/{annotations,http,field_behavior}.proto: $GOOGLEAPIS_MODULE third_party/googleapis
- protoc-gen-openapiv2/options/*.proto: $OPENAPI_OPTIONS_MODULE
MD
}

lint() {
  buf format --diff --exit-code proto
  buf lint
}

# The descriptor set of the contract: proto/ with every import (google/protobuf, google/api,
# protoc-gen-openapiv2) and source info (comments), deterministic (same sources, same bytes).
descriptor_set() {
  buf build proto -o "$1"
}

generate() {
  PATH="$BIN:$PATH" buf generate
  # The published contracts (gen/api): a self-contained descriptor set of the protos (imports
  # included) for any protoc plugin, and the OpenAPI 3 document tools/apigen makes of the
  # intermediate Swagger 2.0 one and the descriptors.
  mkdir -p gen/api
  descriptor_set gen/api/fuzzyllama.binpb
  go run ./tools/apigen -swagger .gen-tmp/openapiv2/fuzzyllama.swagger.json -descriptors gen/api/fuzzyllama.binpb -out gen/api
}

# FILE rules (buf.yaml): generated code, not only the wire and JSON, is part of the contract, since
# clients generate theirs from the published descriptor set.
breaking() {
  if ! buf breaking proto --against "$BASELINE" --exclude-imports; then
    echo "the contract breaks its baseline ($BASELINE): keep the change compatible, or accept" >&2
    echo "the break deliberately with 'make contract-baseline' and have it reviewed" >&2
    return 1
  fi
}

baseline() {
  if [[ -f "$BASELINE" ]]; then
    echo "breaking changes the new baseline accepts (none listed: none):" >&2
    buf breaking proto --against "$BASELINE" --exclude-imports >&2 || true
  fi
  descriptor_set "$BASELINE"
  echo "wrote $BASELINE: commit it with the proto change, for review" >&2
}

check() {
  lint
  breaking
  generate
  if [[ -n "$(git status --porcelain -- gen)" ]]; then
    echo "generated code is stale: run 'make gen' and commit the result" >&2
    git status --porcelain -- gen >&2
    git --no-pager diff --stat -- gen >&2
    exit 1
  fi
}

cmd="${1:-generate}"
install_tools
third_party
case "$cmd" in
  lint) lint ;;
  generate) generate ;;
  breaking) breaking ;;
  check) check ;;
  baseline) baseline ;;
  *) echo "usage: $0 lint|generate|breaking|check|baseline" >&2; exit 2 ;;
esac
