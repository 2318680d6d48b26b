#!/usr/bin/env bash
# make test-python: the Python SDK (python/ over bindings/python) against the in-process local
# platform: pytest, then mypy --strict on the examples (as a user's code sees the package) and
# the package itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/python-env.sh
venv=.venv
py="$venv/bin/python"
"$py" -m pytest -q python/tests
(cd python && "../$venv/bin/mypy" --strict --no-incremental examples aerostack)
