#!/usr/bin/env bash
# Live fan-out side by side with its floor (docs/PERFORMANCE.md): the real gateway/live hub and
# the bare fan-out of bench/barefanout (one Redis subscriber, a minimal hub, coder/websocket), in
# one process with their clients, on the same Redis; the hubs take turns event by event, and
# every message is checked. Prints one JSON line per hub and round, then per-round ratios
# real/bare and the medians. Needs Redis like `make test` (TEST_REDIS_URL).
#
#   scripts/bench-fanout.sh [clients=1000] [events=200] [rounds=5]
#   BENCH_SMOKE=1 scripts/bench-fanout.sh      # one short round (make test): the harness works
#   PROFILE_DIR=/tmp/prof scripts/bench-fanout.sh  # also a CPU profile of the last round
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${BENCH_SMOKE:-}" ]]; then
  set -- 50 3 1
fi
CLIENTS="${1:-1000}" EVENTS="${2:-200}" ROUNDS="${3:-5}"
BIN="$(mktemp -d)"
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/fanout" ./bench/cmd/fanout
echo "# $(nproc) CPUs, $CLIENTS sockets per hub, $EVENTS events per hub per round, $ROUNDS rounds" >&2
profile=()
if [[ -n "${PROFILE_DIR:-}" ]]; then
  mkdir -p "$PROFILE_DIR"
  profile=(-cpuprofile "$PROFILE_DIR/fanout.pprof")
  cp "$BIN/fanout" "$PROFILE_DIR/"
fi
"$BIN/fanout" -clients "$CLIENTS" -events "$EVENTS" -rounds "$ROUNDS" -redis "${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}" "${profile[@]}"
