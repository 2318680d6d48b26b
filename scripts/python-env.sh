#!/usr/bin/env bash
# The Python SDK built and installed into .venv, for make test-python and make demo.
#
# Creates .venv (gitignored) on first use, installs the build and test tools into it, builds the
# extension with `maturin develop --release` (an editable install: Python files are used in place,
# and a run with nothing changed costs a few seconds). Set AEROSTACK_PY_WHEEL=1 to install
# through `pip install ./python` (a regular wheel build, as a user gets it) instead.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
py="$venv/bin/python"
if [ ! -x "$py" ]; then
  echo "test-python: creating $venv"
  command -v python3 >/dev/null || { echo "test-python: python3 (3.9 or newer) is required" >&2; exit 1; }
  python3 -m venv "$venv" || {
    echo "test-python: python3 -m venv failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
    exit 1
  }
fi
if ! "$py" -c "import maturin, pytest, pytest_asyncio, mypy, httpx" 2>/dev/null; then
  echo "test-python: installing python/requirements-dev.txt (maturin, pytest, pytest-asyncio, mypy, httpx) into $venv"
  "$py" -m pip install --quiet --disable-pip-version-check -r python/requirements-dev.txt
fi

# Selenium for the dashboard's browser test (tests/dashboard/run.py), pinned.
if ! "$py" -c "import selenium" 2>/dev/null; then
  echo "python-env: installing tests/dashboard/requirements.txt (selenium) into $venv"
  "$py" -m pip install --quiet --disable-pip-version-check -r tests/dashboard/requirements.txt
fi

if [ "${AEROSTACK_PY_WHEEL:-0}" = "1" ]; then
  # maturin's build hook runs `maturin` from PATH: the venv's.
  PATH="$PWD/$venv/bin:$PATH" "$py" -m pip install --quiet --disable-pip-version-check \
    --no-build-isolation --force-reinstall --no-deps ./python
else
  (cd python && VIRTUAL_ENV="$PWD/../$venv" "../$venv/bin/maturin" develop --release --quiet)
fi

