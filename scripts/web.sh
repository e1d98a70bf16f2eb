#!/usr/bin/env bash
# The web package (web/): the console (React, built into gateway/console/dist, which the gateway
# embeds), the TypeScript client generated from the published contract, the Swagger UI copies the
# API reference embeds, and the browser tests. Versions are pinned in web/package.json and
# web/package-lock.json; Node.js 20.19+ and npm come from the machine.
#
#   scripts/web.sh           every check (make test runs it): install (npm ci, skipped when the
#                            lockfile is what node_modules was installed from), schema.d.ts is
#                            fresh, tsc --noEmit, eslint, prettier --check, redocly lint of
#                            gen/api/openapi.json, the Swagger UI copies are the pinned package's
#                            files, the component tests (vitest), the committed console build is
#                            what the sources build to (byte for byte) and within its size budget,
#                            then the browser tests (the real binary with that build embedded,
#                            headless Chromium at /usr/bin/chromium)
#   scripts/web.sh build     build the console into gateway/console/dist (make web runs it; commit
#                            the result with the change to web/)
#   scripts/web.sh generate  regenerate web/src/api/schema.d.ts (make gen runs it)
#   scripts/web.sh vendor    copy the pinned swagger-ui-dist files into gateway/docs_assets/swagger-ui
#                            (after changing its version in web/package.json)
set -euo pipefail
cd "$(dirname "$0")/.."

# No analytics, telemetry or update checks from the tools: the network here has none of them.
export SCARF_ANALYTICS=false REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  NO_UPDATE_NOTIFIER=1 npm_config_update_notifier=false

# The files of swagger-ui-dist the docs page needs (and its licences), copied unchanged.
SWAGGER_UI_FILES=(swagger-ui-bundle.js swagger-ui.css favicon-32x32.png favicon-16x16.png
  LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt)
SWAGGER_UI_DIR=gateway/docs_assets/swagger-ui
SCHEMA=web/src/api/schema.d.ts
CONSOLE_DIST=gateway/console/dist
CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}

step() { echo "== web: $*" >&2; }
fail() { echo "scripts/web.sh: $*" >&2; exit 1; }

need_node() {
  command -v node >/dev/null && command -v npm >/dev/null ||
    fail "the web checks need Node.js 20.19 or later and npm: install them"
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
    fail "the web checks need Node.js 20.19 or later, this is $(node --version)"
}

# npm ci, unless node_modules was installed from this very package.json, lockfile and Node.js
# (npm ci deletes node_modules first, so it costs seconds even when nothing changed).
install() {
  need_node
  local stamp=web/node_modules/.fuzzyllama-installed want
  want="$(cat web/package.json web/package-lock.json web/.npmrc | sha256sum | cut -d' ' -f1) node $(node --version)"
  if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  step "npm ci (web/package-lock.json changed since the last install)"
  (cd web && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed in web/"
  echo "$want" >"$stamp"
}

# schema.d.ts from gen/api/openapi.json, written to $1 (openapi-typescript's defaults; it
# validates the document with the rules of redocly.yaml first).
gen_schema() {
  web/node_modules/.bin/openapi-typescript gen/api/openapi.json --output "$1" >/dev/null
}

generate() {
  install
  gen_schema "$SCHEMA"
  echo "wrote $SCHEMA" >&2
}

vendor() {
  install
  rm -rf "$SWAGGER_UI_DIR"
  mkdir -p "$SWAGGER_UI_DIR"
  for f in "${SWAGGER_UI_FILES[@]}"; do
    cp "web/node_modules/swagger-ui-dist/$f" "$SWAGGER_UI_DIR/$f"
  done
  echo "copied swagger-ui-dist $(node -p 'require("./web/node_modules/swagger-ui-dist/package.json").version') into $SWAGGER_UI_DIR" >&2
}

# The console's production build (web/scripts/build.mjs: vite build, then the precompressed
# siblings) into $1, Vite's manifest into $2; then the JavaScript each route loads against its
# budget (web/scripts/size-budget.mjs).
build_console() {
  (cd web && node scripts/build.mjs "$1" --manifest "$2") || fail "the console's build failed"
}
size_budget() {
  node web/scripts/size-budget.mjs "$1" "$2" >&2 || fail "the console's JavaScript is over its budget (above)"
}

build() {
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  install
  step "tsc --noEmit (strict)"
  (cd web && node_modules/.bin/tsc --noEmit -p .)
  step "building the console into $CONSOLE_DIST"
  build_console "$PWD/$CONSOLE_DIST" "$tmp/manifest.json"
  size_budget "$CONSOLE_DIST" "$tmp/manifest.json"
  echo "wrote $CONSOLE_DIST: commit it with the change to web/" >&2
}

ensure_chromium() {
  [[ -x $CHROMIUM ]] && return 0
  if [[ $CHROMIUM == /usr/bin/chromium && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    step "installing Debian's chromium for the browser tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  [[ -x $CHROMIUM ]] ||
    fail "the browser tests need Chromium at $CHROMIUM: as root, 'apt-get install chromium' (or set CHROMIUM_PATH); Playwright's own browser download is not used"
}

check() {
  local start=$SECONDS
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  install

  step "the TypeScript client's schema is fresh"
  gen_schema "$tmp/schema.d.ts"
  if ! cmp -s "$tmp/schema.d.ts" "$SCHEMA"; then
    diff -u "$SCHEMA" "$tmp/schema.d.ts" | head -n 40 >&2 || true
    fail "$SCHEMA is stale (gen/api/openapi.json changed): run 'make gen'"
  fi

  step "tsc --noEmit (strict)"
  (cd web && node_modules/.bin/tsc --noEmit -p .)

  step "eslint (typescript-eslint, react-hooks; no warnings)"
  (cd web && node_modules/.bin/eslint . --max-warnings=0)

  step "prettier --check"
  (cd web && node_modules/.bin/prettier --check --log-level=warn .) ||
    fail "web/ is not formatted: run 'npx prettier --write .' in web/"

  step "redocly lint gen/api/openapi.json (recommended rules, redocly.yaml)"
  web/node_modules/.bin/redocly lint gen/api/openapi.json

  step "the Swagger UI copies are swagger-ui-dist $(node -p 'require("./web/package.json").devDependencies["swagger-ui-dist"]')'s files"
  local f stale=()
  for f in "${SWAGGER_UI_FILES[@]}"; do
    cmp -s "web/node_modules/swagger-ui-dist/$f" "$SWAGGER_UI_DIR/$f" || stale+=("$f")
  done
  for f in "$SWAGGER_UI_DIR"/*; do
    [[ " ${SWAGGER_UI_FILES[*]} " == *" $(basename "$f") "* ]] || stale+=("$(basename "$f") (not in swagger-ui-dist's list)")
  done
  ((${#stale[@]} == 0)) || fail "$SWAGGER_UI_DIR differs from the pinned swagger-ui-dist: ${stale[*]}: run 'scripts/web.sh vendor'"

  step "component tests (vitest)"
  (cd web && node_modules/.bin/vitest run --reporter=dot)

  step "the committed console build ($CONSOLE_DIST) is what the sources build to"
  build_console "$tmp/dist" "$tmp/manifest.json"
  if ! diff -r "$tmp/dist" "$CONSOLE_DIST" >"$tmp/dist.diff"; then
    head -n 20 "$tmp/dist.diff" >&2
    fail "$CONSOLE_DIST is not the build of web/ as it is: run \`make web\` (or scripts/web.sh build) and commit $CONSOLE_DIST"
  fi

  step "the console's JavaScript per route is within its budget (gzipped)"
  size_budget "$tmp/dist" "$tmp/manifest.json"

  step "browser tests: the real binary, headless Chromium"
  ensure_chromium
  go build -o "$tmp/fuzzyllama" ./cmd/fuzzyllama
  (cd web && FUZZYLLAMA_BIN="$tmp/fuzzyllama" CHROMIUM_PATH="$CHROMIUM" \
    node --test --test-reporter=spec --test-concurrency=1 --test-timeout=300000 test/*.test.js)
  echo "web checks passed in $((SECONDS - start)) s" >&2
}

case "${1:-check}" in
check) check ;;
build) build ;;
generate) generate ;;
vendor) vendor ;;
*) fail "usage: scripts/web.sh [check|build|generate|vendor]" ;;
esac
