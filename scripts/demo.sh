#!/usr/bin/env bash
# make demo: build, start the local platform (fresh, ephemeral, on a free loopback port),
# run the Rust, Python, Node, PHP and Go quickstarts against it, stop the platform.
set -euo pipefail
cd "$(dirname "$0")/.."

# Two targets of two packages: `--example` alone would build only the example (and no server).
cargo build --locked -p aerostack-server --bin aerostack-server
cargo build --locked -p aerostack-core --example quickstart

ready="$(mktemp -d)/ready.json"
./target/debug/aerostack-server --ephemeral --port "${AEROSTACK_DEMO_PORT:-0}" --ready-file "$ready" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT

for _ in $(seq 1 200); do
  [ -s "$ready" ] && break
  kill -0 "$server" 2>/dev/null || { echo "demo: the platform exited before it was ready" >&2; exit 1; }
  sleep 0.05
done
[ -s "$ready" ] || { echo "demo: the platform did not get ready in 10 s" >&2; exit 1; }

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$ready" "$1"; }
export AEROSTACK_API_URL="$(field api_url)"
export AEROSTACK_API_KEY="$(field api_key)"
export AEROSTACK_PROJECT_ID="$(field project_id)"

echo
echo "== Rust quickstart against $AEROSTACK_API_URL =="
./target/debug/examples/quickstart
echo
echo "== Python quickstart against $AEROSTACK_API_URL =="
scripts/python-env.sh
.venv/bin/python python/examples/quickstart.py
echo
echo "== Node quickstart against $AEROSTACK_API_URL =="
# devDependencies from the lock file when missing; the addon from target/debug (cargo only if absent)
(cd node && { [ -d node_modules/typescript ] || npm ci --ignore-scripts --no-audit --no-fund; } && node scripts/build.cjs)
node node/examples/quickstart.mjs
echo
echo "== PHP quickstart against $AEROSTACK_API_URL =="
# the extension from target/debug (cargo only if absent; PHP itself from scripts/ensure-deps.sh)
php -d "extension=$(scripts/php-ext.sh)" php/examples/quickstart.php
echo
echo "== Go quickstart against $AEROSTACK_API_URL =="
# the static library from target/debug (cargo only if absent), then go run (Go from ensure-deps)
scripts/go-lib.sh
(cd go && go run ./examples/quickstart)
echo
echo "demo: done. Start the platform yourself with: make server   (or: cargo run -p aerostack-server)"
