#!/usr/bin/env bash
# Side-by-side load test of the hottest read, GET /api/v1/projects/{id} (docs/PERFORMANCE.md):
#   - FuzzyLlama: gateway, auth and projects as separate processes on PostgreSQL and Redis, with
#     JWT verification, rate limiting, the membership check, the envelope, metrics and tracing;
#   - the bare stack (bench/cmd/barestack): grpc-gateway -> gRPC -> one pgx primary-key read.
# Both read the same row of the same database, driven by bench/cmd/loadgen with the same number
# of connections, alternately, ROUNDS times each. The bare stack runs in the same topology as
# FuzzyLlama (REST gateway and gRPC server as two processes); one round also measures it as a
# single process, for reference. Needs PostgreSQL and Redis like `make test`.
#
#   scripts/bench-projects.sh [connections=100] [seconds=10] [rounds=2]
#   PROFILE_DIR=/tmp/prof scripts/bench-projects.sh   # also save CPU profiles of the gateway and
#                                                     # projects processes during the last run
#   BENCH_SMOKE=1 scripts/bench-projects.sh           # one short round (make test): every process
#                                                     # starts and every request succeeds
# Any failure exits non-zero: a process that does not start, a setup request refused, or a
# load generator run with a failed request or none at all.
set -euo pipefail
cd "$(dirname "$0")/.."
WARMUP=2s
if [[ -n "${BENCH_SMOKE:-}" ]]; then
  set -- 4 1 1
  WARMUP=0s
fi
CONNS="${1:-100}" SECS="${2:-10}" ROUNDS="${3:-2}"
PGURL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
RUN="bench$RANDOM$RANDOM"
DB_URL="${PGURL%/*}/$RUN?sslmode=disable"
BIN="$(mktemp -d)"
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PGURL" -qc "DROP DATABASE IF EXISTS $RUN WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$REDIS" --scan --pattern "$RUN:*" 2>/dev/null | xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
  rm -rf "$BIN"
}
trap cleanup EXIT

go build -o "$BIN/fuzzyllama" ./cmd/fuzzyllama
go build -o "$BIN/barestack" ./bench/cmd/barestack
go build -o "$BIN/loadgen" ./bench/cmd/loadgen
psql "$PGURL" -qc "CREATE DATABASE $RUN" >/dev/null

common=(FUZZYLLAMA_ENV=production LOG_LEVEL=warn REDIS_URL="$REDIS" REDIS_KEY_PREFIX="$RUN"
  AUTH_SIGNING_KEY="$(head -c32 /dev/urandom | base64)" SERVICE_CREDENTIAL="$(head -c32 /dev/urandom | base64)" DATABASE_URL="$DB_URL"
  AUTH_SERVICE_ADDR=127.0.0.1:19091 PROJECTS_SERVICE_ADDR=127.0.0.1:19092
  RATE_LIMIT_PER_IP_PER_MINUTE=100000000 RATE_LIMIT_PER_USER_PER_MINUTE=100000000 RATE_LIMIT_AUTH_PER_IP_PER_MINUTE=1000)
start() { # name target http-addr [pprof-addr]
  env "${common[@]}" HTTP_ADDR="$3" DEBUG_PPROF_ADDR="${4:-}" AUTH_GRPC_ADDR=127.0.0.1:19091 PROJECTS_GRPC_ADDR=127.0.0.1:19092 \
    "$BIN/fuzzyllama" -target="$2" 2>"$BIN/$1.log" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q "is up" "$BIN/$1.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "$1 did not start:" >&2; cat "$BIN/$1.log" >&2; exit 1
}
start auth auth 127.0.0.1:18081
start projects projects 127.0.0.1:18082 ${PROFILE_DIR:+127.0.0.1:16062}
start gateway gateway 127.0.0.1:18080 ${PROFILE_DIR:+127.0.0.1:16060}
GW=http://127.0.0.1:18080

json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
TOKEN="$(curl -fsS -XPOST $GW/api/v1/auth/register -d '{"email":"bench@example.com","password":"load test pass 1","name":"Bench"}' | json_field accessToken)"
PID="$(curl -fsS -XPOST $GW/api/v1/projects -H "Authorization: Bearer $TOKEN" \
  -d '{"name":"Bench","description":"load test","type":"PROJECT_TYPE_TRADITIONAL"}' | json_field id | head -n1)"
[[ -n "$TOKEN" && -n "$PID" ]] || { echo "could not register a user and create a project through the gateway" >&2; exit 1; }

bare() { # name flags...
  local name=$1; shift
  DATABASE_URL="$DB_URL" "$BIN/barestack" "$@" 2>"$BIN/$name.log" &
  PIDS+=($!)
  for _ in $(seq 50); do grep -q "is up" "$BIN/$name.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "$name did not start:" >&2; cat "$BIN/$name.log" >&2; exit 1
}
bare bare-server -grpc-listen 127.0.0.1:19093
bare bare-gateway -http 127.0.0.1:18090 -grpc-target 127.0.0.1:19093
bare bare-single -http 127.0.0.1:18091

echo "# $(nproc) CPUs, $CONNS connections, ${SECS}s per run, $ROUNDS rounds; project $PID" >&2
RESULTS="$BIN/results.jsonl"
"$BIN/loadgen" -warmup "$WARMUP" -name bare-one-process -c "$CONNS" -d "${SECS}s" -url "http://127.0.0.1:18091/api/v1/projects/$PID" | tee -a "$RESULTS"
for r in $(seq "$ROUNDS"); do
  "$BIN/loadgen" -warmup "$WARMUP" -name bare -c "$CONNS" -d "${SECS}s" -url "http://127.0.0.1:18090/api/v1/projects/$PID" | tee -a "$RESULTS"
  if [[ -n "${PROFILE_DIR:-}" && "$r" == "$ROUNDS" ]]; then
    mkdir -p "$PROFILE_DIR"
    (sleep 3; curl -fsS "http://127.0.0.1:16060/debug/pprof/profile?seconds=$((SECS - 4))" -o "$PROFILE_DIR/gateway.pprof") &
    (sleep 3; curl -fsS "http://127.0.0.1:16062/debug/pprof/profile?seconds=$((SECS - 4))" -o "$PROFILE_DIR/projects.pprof") &
  fi
  "$BIN/loadgen" -warmup "$WARMUP" -name fuzzyllama -c "$CONNS" -d "${SECS}s" -url "$GW/api/v1/projects/$PID" -H "Authorization: Bearer $TOKEN" | tee -a "$RESULTS"
done
# Per round: FuzzyLlama's requests per second as a share of the bare stack's, and its p99 as a
# multiple of the bare stack's; then the median of each over the rounds.
awk -F'[:,]' '
  function field(name,   i) { for (i = 1; i < NF; i++) if ($i ~ "\"" name "\"") return $(i + 1) + 0 }
  /"name":"bare"/       { brps = field("rps"); bp99 = field("p99_ms") }
  /"name":"fuzzyllama"/ { n++; share[n] = field("rps") / brps; p99[n] = field("p99_ms") / bp99
                          printf "round %d: %.0f%% of the bare stack'"'"'s requests/s, p99 %.2fx\n", n, 100 * share[n], p99[n] }
  function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                     return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END { printf "median over %d rounds: %.0f%% of the requests/s (target >= 60%%), p99 %.2fx (target <= 1.5x)\n", n, 100 * median(share, n), median(p99, n) }
' "$RESULTS" >&2
if [[ -n "${PROFILE_DIR:-}" ]]; then
  sleep 1 # let the profile downloads finish
  cp "$BIN/fuzzyllama" "$PROFILE_DIR/" && echo "profiles in $PROFILE_DIR" >&2
fi
