#!/usr/bin/env bash
# The PHP extension of the SDK (`make php`): prints the path of target/debug/libaerostack_php.so,
# building it with cargo only when it is missing (CI builds the workspace once with `make build`).
# A user on a fresh machine gets PHP and libclang from scripts/ensure-deps.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
so="$PWD/target/debug/libaerostack_php.so"
if [ ! -f "$so" ]; then
  scripts/ensure-deps.sh >&2
  echo "php-ext: building the aerostack extension (cargo build -p aerostack-php)" >&2
  ${CARGO:-cargo} build --locked -p aerostack-php >&2
fi
echo "$so"
