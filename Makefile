# oatk: `make demo` runs the main job, `make test` runs every test suite.
# Each binding adds its own targets in mk/*.mk (and hooks into `test`).
SHELL := /bin/bash
.DEFAULT_GOAL := help

export CARGO_TARGET_DIR := $(CURDIR)/target
CARGO ?= cargo
OATK := $(CARGO_TARGET_DIR)/debug/oatk
OATK_RELEASE := $(CARGO_TARGET_DIR)/release/oatk
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python

.PHONY: help build cli fmt lint test test-core test-browser browser-deps screenshots bench bench-core bench-server demo deps-apt deps-py

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

build: ## build the workspace (debug)
	$(CARGO) build --workspace

fmt: ## format the Rust code
	$(CARGO) fmt --all

lint: ## clippy with warnings as errors; cargo deny and the licence check (mk/lint.mk)
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Debian packages some suites need; installed only when missing.
APT_PACKAGES ?=
deps-apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  (apt-get install -y --no-install-recommends $$missing || (apt-get update && apt-get install -y --no-install-recommends $$missing)); fi

# The local Python environment the test suites and the demo use.
PY_PACKAGES := pytest pyjwt[crypto] cryptography authlib requests
$(VENV)/.stamp: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PY_PACKAGES)
	touch $@
deps-py: $(VENV)/.stamp

test: test-core test-browser ## run every test suite (installs what it needs)

cli: ## build the oatk command line (debug)
	$(CARGO) build -p oatk-core

test-core: deps-py cli ## Rust unit and integration tests; CLI, PyJWT and Authlib against the real binary
	$(CARGO) test -p oatk-core
	OATK=$(OATK) $(PY) -m pytest -q tests/core

# The browser walkthrough: Debian's chromium driven by playwright-core.
APT_PACKAGES += chromium
BROWSER_DEPS := tests/browser/node_modules/.package-lock.json
$(BROWSER_DEPS): tests/browser/package.json
	cd tests/browser && npm install --no-audit --no-fund --silent
browser-deps: deps-apt $(BROWSER_DEPS)

test-browser: browser-deps cli ## the fake server's walkthrough in headless chromium
	node tests/browser/fake-server-walkthrough.mjs $(OATK) build/shots/fake-server

screenshots: browser-deps cli ## refresh docs/screenshots from the walkthrough
	rm -rf docs/screenshots && node tests/browser/fake-server-walkthrough.mjs $(OATK) docs/screenshots

# Each mk/*.mk adds its benchmarks as prerequisites; the recipe runs last and
# prints the one table of every ratio with its target (bench/summary.py).
bench: bench-core bench-server ## every benchmark, side by side with its peer, then the table of ratios
	@python3 bench/summary.py $(CURDIR)/build/bench/results

bench-core: ## criterion benchmark + openssl speed, with the ratio
	bash bench/core.sh

bench-server: ## wrk load on the fake server beside oauth2-mock-server; CPU per issued token
	bash bench/server.sh

demo: ## the main job: keys, a token, validation, then the fake server, demo app and API (open the URL)
	$(CARGO) build --release -p oatk-core
	OATK=$(OATK_RELEASE) bash scripts/demo.sh

-include mk/*.mk
