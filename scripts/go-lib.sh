#!/usr/bin/env bash
# Puts the engine's static library where the Go SDK's cgo flags find it:
# go/internal/lib/<goos>_<goarch>/libaerostack.a and its header go/internal/lib/include/aerostack.h
# (both gitignored), from target/debug/libaerostack_c.a and bindings/c/include/aerostack.h,
# which `make build` builds with the workspace; built here with cargo when it is missing (a user
# who only wants the Go SDK). Needs Go >= 1.23 (iter.Seq2).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
  echo "go-lib: Go is required (1.23 or newer): https://go.dev/dl/ (Debian's golang-go is too old)" >&2
  exit 1
fi
minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "${minor:-0}" -lt 23 ]; then
  echo "go-lib: Go $(go env GOVERSION) is too old: the SDK needs 1.23 or newer (iter.Seq2)" >&2
  exit 1
fi

# AEROSTACK_GO_LIB picks another build of the library (make bench: target/release's).
lib=${AEROSTACK_GO_LIB:-target/debug/libaerostack_c.a}
if [ ! -f "$lib" ]; then
  echo "go-lib: $lib is missing; building it (cargo build -p aerostack-c)"
  ${CARGO:-cargo} build --locked -p aerostack-c
fi
dest="go/internal/lib/$(go env GOOS)_$(go env GOARCH)/libaerostack.a"
# The header goes with the library (one committed copy: bindings/c/include/aerostack.h).
header=go/internal/lib/include/aerostack.h
mkdir -p "$(dirname "$dest")" "$(dirname "$header")"
if [ ! -f "$dest" ] || ! cmp -s "$lib" "$dest" || ! cmp -s bindings/c/include/aerostack.h "$header"; then
  cp "$lib" "$dest"
  cp bindings/c/include/aerostack.h "$header"
  # The go command does not track a C library named in #cgo LDFLAGS: a cached link would keep
  # the old one. A generated (gitignored) file of package ffi that changes with the library
  # makes it relink.
  printf 'package ffi\n\n// libStamp changes when scripts/go-lib.sh copies a new library (relinks).\nconst libStamp = "%s %s"\n' \
    "$(stat -c %s "$dest")" "$(date +%s%N)" > go/internal/ffi/libstamp_gen.go
  echo "go-lib: $dest updated from $lib"
fi
