# The Python package `oatk` (bindings-python/): build, tests, benchmark.
# Included by the top-level Makefile (CARGO_TARGET_DIR, VENV, PY, OATK come from there).

PYTHON_DIR := $(CURDIR)/bindings-python
# Test peers and tools, installed into the shared .venv: Flask, FastAPI, Quart
# and their servers (uvicorn, hypercorn) for the glue, the examples and the
# original's suite (pytest-asyncio, pytest-httpx).
PYTHON_TEST_PACKAGES := "flask[async]" flask-restful flask-cors gunicorn mypy "maturin>=1.9.4,<2" \
	fastapi "uvicorn[standard]" quart hypercorn httpx pytest-asyncio pytest-httpx
# The original package from PyPI, in its own venv (it is also called `oatk`).
# 0.2.1 imports its `async` extra (anyio, httpx) on `import oatk`; `fastapi`
# for the benchmark's FastAPI app; pytest and the frameworks to run its own
# suite against it (the reference run of run_original_suite.py).
ORIGINAL_OATK := "oatk[async,fastapi]==0.2.1"
ORIGINAL_TEST_PACKAGES := pytest pytest-asyncio pytest-httpx quart
ORIGINAL_VENV := $(CURDIR)/build/original-venv
# oatk 0.2.1's own test suite, fetched from PyPI at test time (never committed).
ORIGINAL_SUITE := $(PYTHON_DIR)/tests/original/run_original_suite.py
# A release build installed with plain `pip install ./bindings-python`, for the benchmark.
BENCH_VENV := $(CURDIR)/build/bench-venv
# A real X clipboard for the seed's `from_clipboard` line.
APT_PACKAGES += xvfb xclip

.PHONY: deps-python python-develop python-demo test-python bench-python python-install-check

$(VENV)/.stamp-python: $(VENV)/.stamp mk/python.mk
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PYTHON_TEST_PACKAGES)
	touch $@

$(ORIGINAL_VENV)/.stamp: mk/python.mk
	python3 -m venv $(ORIGINAL_VENV)
	$(ORIGINAL_VENV)/bin/pip install --quiet --disable-pip-version-check $(ORIGINAL_OATK) $(ORIGINAL_TEST_PACKAGES)
	touch $@

# browser-deps (Makefile): chromium and playwright-core for tests/browser/walkthrough.mjs.
deps-python: deps-py deps-apt browser-deps $(VENV)/.stamp-python $(ORIGINAL_VENV)/.stamp

python-develop: deps-python ## debug build of the Python package into .venv (maturin develop)
	cd $(PYTHON_DIR) && VIRTUAL_ENV=$(VENV) $(VENV)/bin/maturin develop --quiet

test-python: python-develop ## Python package: the original 0.2.1's own suite, then pytest (API, async, Flask, FastAPI, Quart, CLI, interop, stubs, browser)
	$(PY) $(ORIGINAL_SUITE) --python $(PY) --reference $(ORIGINAL_VENV)/bin/python
	cd $(PYTHON_DIR) && ORIGINAL_PYTHON=$(ORIGINAL_VENV)/bin/python $(PY) -m pytest -q -p no:cacheprovider tests

test: test-python

$(BENCH_VENV)/.stamp: $(VENV)/.stamp mk/python.mk
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check flask "pyjwt[crypto]" cryptography gunicorn \
		fastapi "uvicorn[standard]"
	touch $@

# `pip install ./bindings-python` exactly as a user would (release build, maturin from PyPI).
python-install-check: $(BENCH_VENV)/.stamp
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --force-reinstall --no-deps $(PYTHON_DIR)
	cd /tmp && $(BENCH_VENV)/bin/python -c "import oatk, sys; print('installed oatk', oatk.__version__, 'from', oatk.__file__)"
	$(BENCH_VENV)/bin/oatk version

# gunicorn beside the original too, for the served comparison; uvicorn with
# uvloop and httptools, as in the bench venv, for the FastAPI one.
$(ORIGINAL_VENV)/.stamp-bench: $(ORIGINAL_VENV)/.stamp
	$(ORIGINAL_VENV)/bin/pip install --quiet --disable-pip-version-check gunicorn "uvicorn[standard]"
	touch $@

bench-python: APT_PACKAGES += wrk
bench-python: deps-apt python-install-check $(ORIGINAL_VENV)/.stamp-bench ## validate() vs PyJWT vs the original; Flask and FastAPI routes vs the original's
	$(BENCH_VENV)/bin/python bench/python-validate.py --original-python $(ORIGINAL_VENV)/bin/python
	$(BENCH_VENV)/bin/python bench/python-fastapi.py --original-python $(ORIGINAL_VENV)/bin/python \
		--json $(BENCH_RESULTS)/fastapi.json

bench: bench-python

# `make demo` runs examples/web.py and examples/client under gunicorn: a release build of the package.
python-demo: deps-py $(VENV)/.stamp-python
	cd $(PYTHON_DIR) && VIRTUAL_ENV=$(VENV) $(VENV)/bin/maturin develop --release --quiet

demo: python-demo
