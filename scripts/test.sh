#!/usr/bin/env bash
# The whole test suite: static checks, contract freshness, and `go test -race` over every module
# of the workspace against real PostgreSQL and Redis.
#
# PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) and Redis
# (TEST_REDIS_URL, default redis://127.0.0.1:6379/0) must be reachable. When one is not, this
# script starts the local installation if there is one, and otherwise stops with a clear message.
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

reachable() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() {
  for _ in $(seq 1 50); do reachable "$1" "$2" && return 0; sleep 0.2; done
  return 1
}

ensure_postgres() {
  reachable 127.0.0.1 5432 && return 0
  if command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
    echo "starting the local PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    wait_for 127.0.0.1 5432 && return 0
  fi
  echo "tests need PostgreSQL on 127.0.0.1:5432 (trust auth, database 'test'): install and start one, or set TEST_DATABASE_URL" >&2
  exit 1
}

ensure_redis() {
  reachable 127.0.0.1 6379 && return 0
  if command -v redis-server >/dev/null; then
    echo "starting the local Redis" >&2
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >/dev/null
    wait_for 127.0.0.1 6379 && return 0
  fi
  echo "tests need Redis on 127.0.0.1:6379: install and start one, or set TEST_REDIS_URL" >&2
  exit 1
}

# The git export tests push to a real git server (git http-backend).
command -v git >/dev/null || { echo "tests need the git binary (the export tests push to git http-backend): install git" >&2; exit 1; }

# Only start local servers when the tests use the defaults.
[[ "$TEST_DATABASE_URL" == *"127.0.0.1:5432"* ]] && ensure_postgres
[[ "$TEST_REDIS_URL" == *"127.0.0.1:6379"* ]] && ensure_redis

echo "== gofmt" >&2
unformatted="$(gofmt -l $(git ls-files '*.go' | grep -v '^gen/go/') 2>/dev/null || true)"
if [[ -n "$unformatted" ]]; then
  echo "gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi

echo "== go vet" >&2
go vet work

echo "== go.mod files are tidy" >&2
for m in $(go list -m -f '{{.Dir}}'); do
  (cd "$m" && go mod tidy -diff) || { echo "go.mod of $m is not tidy: run 'make tidy'" >&2; exit 1; }
done

echo "== protobuf contracts: buf format, buf lint, generated code is fresh" >&2
scripts/proto.sh check

echo "== web: TypeScript client fresh, tsc, redocly lint, Swagger UI copies fresh, browser tests (scripts/web.sh)" >&2
scripts/web.sh

echo "== go test -race (every module)" >&2
go test -race -count=1 -timeout 25m work

# A benchmark nobody runs rots (issue 15: bench-projects.sh had stopped working unnoticed): each
# benchmark script and every Go benchmark runs one short round. Nothing is timed; a script fails
# if a process does not start, a request fails or a message is lost.
echo "== benchmarks (smoke): scripts/bench-*.sh with BENCH_SMOKE=1, Go benchmarks at -benchtime 1x" >&2
smoke() { # runs a command quietly; its output is shown if it fails
  local log; log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then cat "$log" >&2; rm -f "$log"; echo "benchmark smoke failed: $*" >&2; return 1; fi
  rm -f "$log"
}
for script in scripts/bench-*.sh; do smoke env BENCH_SMOKE=1 "$script"; done
# shellcheck disable=SC2046 # one argument per package
smoke go test -count=1 -run '^$' -bench . -benchtime 1x $(git grep -l '^func Benchmark' -- '*_test.go' | xargs -n1 dirname | sort -u | sed 's|^|./|')
