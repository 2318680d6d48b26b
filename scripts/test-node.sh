#!/usr/bin/env bash
# make test-node: the Node SDK (node/ over bindings/node) against the in-process local platform.
# Installs the package's devDependencies from its lock file when missing, builds the package
# (the addon is copied from target/debug, which `make build` made; cargo runs only if it is
# missing), then runs node:test over node/test/*.test.mjs. With --build-only (make node), stops
# after the build.
set -euo pipefail
cd "$(dirname "$0")/../node"
if [ ! -d node_modules/typescript ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund
fi
node scripts/build.cjs
[ "${1:-}" = "--build-only" ] && exit 0
node --test --test-concurrency=1 test/*.test.mjs
