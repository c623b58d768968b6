# The two commands a new user runs are `make demo` and `make test`; see
# README.md. Every tool comes pinned from go.mod (Go tools) or from
# python-sdk/requirements.lock (a virtualenv in .venv).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
LOCK := python-sdk/requirements.lock
SERVER_BIN := bin/pluginapi-server
PIP_TOOLS := pip-tools==7.6.2

.PHONY: help
help:
	@echo "make demo             build, start the reference server and run the example plugin code"
	@echo "make test             install pinned tools, check generated code, lint, check Bazel files, run all tests"
	@echo "make generate         regenerate the Go and Python code from the protos"
	@echo "make gazelle          rewrite the BUILD files of Go and proto packages"
	@echo "make bazel-gate       check the Bazel files statically (buildifier, gazelle, bazelcheck)"
	@echo "make lock             re-resolve python-sdk/requirements.lock from requirements.in"
	@echo "make test-matrix      run the SDK tests on every Python 3.9-3.13 the machine has"
	@echo "make bench            measure what a Python plugin costs next to Go plugins; writes bench/results"
	@echo "make wheels           build the SDK wheel and the dev server's platform wheels into dist/"
	@echo "make postgres         install Debian's postgresql server package if initdb is not found (the store tests need it)"
	@echo "make fuzz             run every Go fuzz target for FUZZTIME each (default 60s), one at a time"

## Setup ##################################################################

$(VENV_STAMP): $(LOCK) python-sdk/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e python-sdk
	touch $@

.PHONY: venv
venv: $(VENV_STAMP)

.PHONY: go-tools
go-tools:
	go mod download
	go build tool

.PHONY: build
build:
	go build -o $(SERVER_BIN) ./server/cmd/pluginapi-server

## Wheels #################################################################

# What plugin authors install: the SDK (pure Python) and
# mattermost-plugin-devserver, the server binary cross-compiled for linux
# x86_64/aarch64 and macOS x86_64/arm64, one platform wheel each.
DIST := dist

.PHONY: wheels
wheels: venv
	rm -rf $(DIST)
	$(VENV_PY) python-sdk/scripts/build_wheel.py $(DIST)
	$(VENV_PY) python-sdk/scripts/build_devserver_wheels.py $(DIST)

## Generated code #########################################################

.PHONY: generate
generate: venv
	PYTHON=$(VENV_PY) tools/codegen/generate.sh

.PHONY: check-generated
check-generated: venv
	PYTHON=$(VENV_PY) tools/codegen/generate.sh --check

.PHONY: lock
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet $(PIP_TOOLS)
	cd python-sdk && ../.lock-venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links --output-file requirements.lock requirements.in
	cd tools/bench && ../../.lock-venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links --output-file requirements.lock requirements.in
	rm -rf .lock-venv

## Lint ###################################################################

.PHONY: lint
lint: lint-go lint-proto lint-py lint-tools-py

.PHONY: lint-go
lint-go:
	@unformatted=$$(gofmt -l server tools 2>/dev/null); \
	if [[ -n $$unformatted ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...

.PHONY: lint-proto
lint-proto:
	go tool buf lint server/public/pluginapi/grpc/proto

# mypy --strict for the lock's Python, and again for the oldest Python that
# the pinned mypy can target: 3.10 (mypy 2 dropped 3.9; the 3.9 matrix
# session and a syntax test cover 3.9).
OLDEST_MYPY_TARGET := 3.10

.PHONY: lint-py
lint-py: venv
	cd python-sdk && ../$(VENV)/bin/ruff check .
	cd python-sdk && ../$(VENV)/bin/ruff format --check .
	cd python-sdk && ../$(VENV)/bin/mypy
	cd python-sdk && ../$(VENV)/bin/mypy --python-version $(OLDEST_MYPY_TARGET) src

# Python tooling outside the SDK, with the SDK's ruff and mypy settings.
TOOLS_PY := tools/bazel/pytest_main.py tools/bazel/pytest_main_test.py tools/demo/run_demo.py \
	tools/demo/plugin_demo.py tools/demo/runtime_requirements.py tools/parity/import_inventory.py \
	tools/bench/run.py tools/bench/stats.py tools/bench/transports.py tools/bench/plugins/hook_sync/plugin.py \
	tools/bench/plugins/hook_async/plugin.py tools/bench/plugins/hook_bare/plugin.py \
	tools/bench/plugins/http_stream/plugin.py tools/bench/plugins/cluster_echo/plugin.py \
	tools/codegen/fidelity.py

.PHONY: lint-tools-py
lint-tools-py: venv
	$(VENV)/bin/ruff check --config python-sdk/pyproject.toml $(TOOLS_PY)
	$(VENV)/bin/ruff format --config python-sdk/pyproject.toml --check $(TOOLS_PY)
	MYPYPATH=tools/bazel:tools/bench:python-sdk/tests/runtime $(VENV)/bin/mypy --config-file python-sdk/pyproject.toml $(TOOLS_PY)

## Bazel, statically ######################################################

# buildifier, gazelle in diff mode and tools/bazelcheck; see tools/bazel/gate.sh.
.PHONY: bazel-gate
bazel-gate: venv
	PYTHON=$(VENV_PY) tools/bazel/gate.sh

# Rewrite the BUILD files of Go and proto packages, as `bazel run //:gazelle` does.
.PHONY: gazelle
gazelle:
	go tool gazelle update -repo_root .

## Tests ##################################################################

# PostgreSQL's server binaries (initdb, postgres), which the tests of the
# shared store start in temporary directories (server/internal/pgtest).
# They are looked up as pgtest looks them up: $PG_BIN, `pg_config
# --bindir`, the highest /usr/lib/postgresql/*/bin, PATH. When none is
# found, Debian's postgresql package is installed (with sudo unless root).
# That is pinned as far as Debian allows: the postgresql metapackage
# depends on the one major version that the release supports (15 on
# bookworm) and apt installs that release's current minor, since the
# archive keeps no older builds to pin; the tests use nothing newer than
# PostgreSQL 13.
PG_FIND = for d in "$${PG_BIN:-}" "$$(pg_config --bindir 2>/dev/null)" \
		$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -rn) \
		"$$(dirname "$$(command -v initdb 2>/dev/null || echo .)")"; do \
		if [ -n "$$d" ] && [ -x "$$d/initdb" ]; then echo "$$d"; break; fi; done

.PHONY: postgres
postgres:
	@dir=$$($(PG_FIND)); \
	if [ -z "$$dir" ]; then \
		sudo=; if [ "$$(id -u)" != 0 ]; then sudo=sudo; fi; \
		echo "postgres: no initdb found; installing Debian's postgresql package"; \
		$$sudo apt-get update; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; \
		dir=$$($(PG_FIND)); \
		if [ -z "$$dir" ]; then echo "postgres: installed, but still no initdb" >&2; exit 1; fi; \
	fi; \
	echo "postgres: server binaries in $$dir"

# The supervisor's tests run real Python plugins with the virtualenv's Python.
.PHONY: test-go
test-go: venv postgres
	MATTERMOST_PLUGIN_PYTHON=$(abspath $(VENV_PY)) go test -race -count=1 ./...
	# The dev server's plugin tests again with every hook on PluginHooks
	# (the hooks package runs both transports itself).
	MATTERMOST_PLUGIN_HOOK_STREAM=0 MATTERMOST_PLUGIN_PYTHON=$(abspath $(VENV_PY)) go test -race -count=1 ./server/cmd/pluginapi-server/

# -m "": every test, the megabyte sweeps too (a plain pytest deselects them;
# see python-sdk/pyproject.toml).
.PHONY: test-py
test-py: venv build postgres
	cd python-sdk && MATTERMOST_PLUGINAPI_SERVER=$(abspath $(SERVER_BIN)) \
		../$(VENV)/bin/pytest -p no:cacheprovider -m "" --ignore=tests/tooling/test_wheels.py
	# The runtime tests again with every hook on PluginHooks, not the hook stream.
	cd python-sdk && MATTERMOST_PLUGIN_HOOK_STREAM=0 MATTERMOST_PLUGINAPI_SERVER=$(abspath $(SERVER_BIN)) \
		../$(VENV)/bin/pytest -p no:cacheprovider -m "" tests/runtime
	# The AsyncClient's API tests again with unary calls, not the call stream
	# (requests of a megabyte are unary on both, so the sweep runs once).
	cd python-sdk && MATTERMOST_PLUGIN_API_TRANSPORT=unary MATTERMOST_PLUGINAPI_SERVER=$(abspath $(SERVER_BIN)) \
		../$(VENV)/bin/pytest -p no:cacheprovider -m "not megabytes" -k async tests/api
	$(VENV)/bin/pytest -p no:cacheprovider -c python-sdk/pyproject.toml --rootdir tools/bazel \
		tools/bazel/pytest_main_test.py

# The wheels alone, as a plugin author installs them: a fresh virtualenv on
# Python 3.9 and 3.13 with no Go and no checkout runs a plugin's tests.
.PHONY: test-wheels
test-wheels: venv wheels
	cd python-sdk && SDK_DIST=$(abspath $(DIST)) ../$(VENV)/bin/pytest -p no:cacheprovider tests/tooling/test_wheels.py

# The stages of `make test`, timed by tools/ci/stages.sh: stages run in
# order, the targets of a stage (comma-separated) in parallel.
TEST_STAGES := setup=go-tools,venv,bench-venv,postgres \
	checks=check-generated,lint,bazel-gate,build,bench-build \
	tests=test-go,test-py \
	matrix=test-matrix,test-wheels \
	bench=bench-smoke

# The SDK's tests on every supported Python the machine has, against the
# built wheel, at the lock's pins, the floors and the newest releases
# (python-sdk/noxfile.py through tools/ci/matrix.sh).
.PHONY: test-matrix
test-matrix: venv build
	tools/ci/matrix.sh

.PHONY: test
test:
	tools/ci/stages.sh $(TEST_STAGES)

## Fuzzing ################################################################

# Every Go fuzz target (func FuzzXxx under server/ and tools/), one at a
# time, for FUZZTIME each; prints each target's executions and whether it
# crashed, and fails if one did (tools/ci/fuzz.sh). `make test` replays
# their seeds and saved crashers as plain tests; this explores.
FUZZTIME ?= 60s

.PHONY: fuzz
fuzz:
	MATTERMOST_PLUGIN_PYTHON=$(abspath $(VENV_PY)) FUZZTIME=$(FUZZTIME) tools/ci/fuzz.sh

## Demo ###################################################################

# The demo needs only the SDK's runtime dependencies, pinned and hashed as
# in the lock; the SDK itself runs from the source tree.
DEMO_VENV := .venv-demo
DEMO_STAMP := $(DEMO_VENV)/.installed

$(DEMO_STAMP): $(LOCK) python-sdk/pyproject.toml tools/demo/runtime_requirements.py
	$(PYTHON) -m venv $(DEMO_VENV)
	$(PYTHON) tools/demo/runtime_requirements.py $(LOCK) python-sdk/pyproject.toml >$(DEMO_VENV)/requirements.txt
	$(DEMO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r $(DEMO_VENV)/requirements.txt
	touch $@

# Two parts: a tour of the Plugin API from a script, then the example
# plugin python-sdk/examples/hello_python run by the dev server, which the
# demo uses as a Mattermost user would. The plugin process inherits the
# absolute PYTHONPATH.
.PHONY: demo
demo: $(DEMO_STAMP) build
	PYTHONPATH=$(abspath python-sdk/src) $(DEMO_VENV)/bin/python tools/demo/run_demo.py $(SERVER_BIN) python-sdk/examples/demo.py
	PYTHONPATH=$(abspath python-sdk/src) $(DEMO_VENV)/bin/python tools/demo/plugin_demo.py $(SERVER_BIN) python-sdk/examples/hello_python

## Benchmarks #############################################################

# The benchmarks need the SDK's runtime dependencies and matplotlib, pinned
# and hashed (tools/bench/requirements.lock); the SDK runs from the source
# tree, as in the demo.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_LOCK := tools/bench/requirements.lock
BENCH_BIN := bin/pluginbench

$(BENCH_STAMP): $(LOCK) $(BENCH_LOCK) python-sdk/pyproject.toml tools/demo/runtime_requirements.py
	$(PYTHON) -m venv $(BENCH_VENV)
	$(PYTHON) tools/demo/runtime_requirements.py $(LOCK) python-sdk/pyproject.toml >$(BENCH_VENV)/requirements.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r $(BENCH_VENV)/requirements.txt -r $(BENCH_LOCK)
	touch $@

.PHONY: bench-venv
bench-venv: $(BENCH_STAMP)

.PHONY: bench-build
bench-build:
	go build -o $(BENCH_BIN) ./tools/bench/cmd/pluginbench

# The interpreter of the matrix's newest session (Python 3.13): figure 2b
# measures the SDK on it at the newest grpcio and protobuf that the SDK's
# ranges allow, installed from the index into a scratch venv. Without one,
# the figure measures the lock's grpcio only.
# NEWEST_PYTHON=path sets it; by default it is the first python3.13 that
# runs, on PATH or in pyenv's versions.
NEWEST_PYTHON ?=

# Every figure, next to its baselines, into bench/results (under 20 minutes).
.PHONY: bench
bench: $(BENCH_STAMP) venv build bench-build postgres
	wheels=$$(mktemp -d) && newest=$$(mktemp -d) && trap 'rm -rf "$$wheels" "$$newest"' EXIT && \
	$(VENV_PY) python-sdk/scripts/build_wheel.py "$$wheels" >/dev/null && \
	newest_flag= && py="$(NEWEST_PYTHON)" && \
	if [ -z "$$py" ]; then \
		for c in $$(command -v python3.13 2>/dev/null) $(HOME)/.pyenv/versions/3.13.*/bin/python3.13; do \
			if "$$c" -c 'import sys' 2>/dev/null; then py=$$c; break; fi; \
		done; \
	fi && \
	if [ -n "$$py" ]; then \
		"$$py" -m venv "$$newest/venv" && \
		"$$newest/venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
			--upgrade "$$wheels"/*.whl && \
		newest_flag="--newest-python $$newest/venv/bin/python"; \
	fi && \
	PYTHONPATH=$(abspath python-sdk/src) $(BENCH_VENV)/bin/python tools/bench/run.py \
		--profile full --out bench/results --server $(SERVER_BIN) --pluginbench $(BENCH_BIN) \
		--sdk-wheels "$$wheels" $$newest_flag

# The smallest configuration of every figure, so that the benchmarks cannot
# rot; `make test` runs it, and its results go to a scratch directory.
.PHONY: bench-smoke
bench-smoke: $(BENCH_STAMP) venv build bench-build postgres
	out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
	$(VENV_PY) python-sdk/scripts/build_wheel.py "$$out/sdk" >/dev/null && \
	PYTHONPATH=$(abspath python-sdk/src) $(BENCH_VENV)/bin/python tools/bench/run.py \
		--profile smoke --out "$$out" --server $(SERVER_BIN) --pluginbench $(BENCH_BIN) \
		--sdk-wheels "$$out/sdk" && \
	for f in results.json results.md latency.png throughput.png; do test -s "$$out/$$f"; done
