# Two commands set everything up on a fresh machine:
#   make demo   build, start the local platform, run the quickstart against it
#   make test   install what is missing, build, run every suite
# and one measures:
#   make bench  the engine and the platform against their baselines, in one run, then the Python SDK
#               against raw httpx and the official aerostack==0.1.2 (bench/python/run.py)

SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: all build test test-rust test-python test-go go node test-node php test-php test-conformance demo bench server clean fmt lint deps conformance reliability test-reliability test-dashboard dashboard-screenshots

all: build

deps:
	@scripts/ensure-deps.sh

build: deps
	$(CARGO) build --workspace --all-targets --locked

test: build test-rust test-python test-go test-node test-php test-conformance test-reliability test-dashboard lint

test-rust:
	$(CARGO) test --workspace --locked --no-fail-fast

# The Python SDK: .venv + maturin develop --release + pytest + mypy --strict (scripts/test-python.sh).
test-python: deps
	@scripts/test-python.sh

# The Node SDK: npm ci (devDependencies, from node/package-lock.json) + the addon from target/debug
# + tsc + node:test over node/test (scripts/test-node.sh).
node: deps
	@scripts/test-node.sh --build-only

test-node: deps
	@scripts/test-node.sh

# The Go SDK (go/): the static library of bindings/c copied into the module (scripts/go-lib.sh),
# then go vet and go test -race over the module and the conformance runner.
go: deps
	@scripts/go-lib.sh

test-go: go
	cd go && go vet ./... && go test -race -count=1 ./...
	go vet ./tests/conformance/go ./bench/go

# The PHP SDK (php/, extension bindings/php): `php` gives target/debug/libaerostack_php.so
# (cargo builds it only when missing); `test-php` runs the PHPUnit suite against the in-process
# platform, the composer path-repository consumer test and the examples (scripts/test-php.sh).
php: deps
	@scripts/php-ext.sh >/dev/null

test-php: php
	@scripts/test-php.sh

# The cross-language conformance suite (tests/conformance/): every runner (Python, Node, Go, PHP;
# each SDK built first) against its own local platform; prints the matrix (case x language), rewrites the
# README's conformance section; the last line is `N passed, N failed`.
conformance: deps go node php
	@scripts/python-env.sh
	@.venv/bin/python tests/conformance/matrix.py --readme README.md

# The same, as part of `make test`: prints the matrix, leaves the README alone.
test-conformance: deps go node php
	@scripts/python-env.sh
	@.venv/bin/python tests/conformance/matrix.py

# The reliability suite (tests/reliability/run.py, Python standard library): a bounded fault matrix
# against target/debug/aerostack-server (kill -9 under mixed write load with acknowledged-write
# accounting, slow clients, hostile queries, hostile realtime clients, an end-user token against
# every limit); prints probe / tries / failures / acknowledged writes lost and rewrites the README's
# reliability section. `test-reliability` is the small bounded version `make test` runs.
reliability: build
	python3 tests/reliability/run.py --readme README.md

test-reliability: build
	python3 tests/reliability/run.py --quick

# The local dashboard in headless chromium (Debian's, via Selenium; tests/dashboard/run.py) against
# target/debug/aerostack-server with a Python worker; bounded to 2 minutes.
# `dashboard-screenshots` also rewrites docs/dashboard/*.png (shown in the README).
test-dashboard: build
	@scripts/python-env.sh
	timeout 120 .venv/bin/python tests/dashboard/run.py

dashboard-screenshots: build
	@scripts/python-env.sh
	timeout 120 .venv/bin/python tests/dashboard/run.py --screenshots

demo: deps
	@scripts/demo.sh

bench: deps
	$(CARGO) build --release --locked -p aerostack-bench
	./target/release/aerostack-bench --out bench/results/latest.md --readme README.md
	@scripts/python-env.sh
	@test -x .venv-bench/bin/python || python3 -m venv .venv-bench
	@.venv-bench/bin/python -m pip install -q --disable-pip-version-check -r bench/python/requirements-official.txt
	.venv/bin/python bench/python/run.py --out bench/results/python.md --readme README.md
	$(CARGO) build --release --locked -p aerostack-node
	node bench/node/run.mjs --out bench/results/node.md --readme README.md
	$(CARGO) build --release --locked -p aerostack-php
	php -d extension=$(CURDIR)/target/release/libaerostack_php.so bench/php/run.php --out bench/results/php.md --readme README.md
	$(CARGO) build --release --locked -p aerostack-c
	AEROSTACK_GO_LIB=target/release/libaerostack_c.a scripts/go-lib.sh
	cd bench/go && go run . --out ../results/go.md --readme ../../README.md; status=$$?; cd ../.. && scripts/go-lib.sh; exit $$status

# The local platform on 127.0.0.1:8787, persistent in ./.aerostack/local.
server: deps
	$(CARGO) run --release --locked -p aerostack-server --

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
