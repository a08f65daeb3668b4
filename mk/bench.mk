# Benchmarks that span bindings (issue 14): the Flask comparison under
# gunicorn, and the one table of every benchmark ratio with its target.
# Every benchmark script writes its ratios to build/bench/results/*.json;
# bench/summary.py reads them. `make bench` runs them all and prints the
# table last (the recipe of `bench` in the Makefile).
#
#   make bench-flask     @oatk.authenticated vs flask-jwt-extended vs unprotected
#                        (gunicorn, 2 sync workers, wrk); validate() from 2 threads
#                        vs 1; the verified-token cache cold and warm
#   make bench-summary   the table again, from the last runs' results
#   make bench-warm      the verified-token cache alone, cold and warm, in Rust,
#                        C, Python and Node side by side (bench/warm.sh, ~1 min
#                        after the release builds)

BENCH_RESULTS := $(CURDIR)/build/bench/results
# Also set by mk/python.mk (the same venv); this file is read first.
BENCH_VENV ?= $(CURDIR)/build/bench-venv

.PHONY: bench-flask bench-summary bench-warm

# flask-jwt-extended beside Flask and gunicorn in the benchmark venv (mk/python.mk).
$(BENCH_VENV)/.stamp-flask: $(BENCH_VENV)/.stamp mk/bench.mk
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check flask-jwt-extended
	touch $@

bench-flask: APT_PACKAGES += wrk
bench-flask: deps-apt python-install-check $(BENCH_VENV)/.stamp-flask ## Flask under gunicorn: oatk vs flask-jwt-extended vs unprotected; threads; warm cache
	$(BENCH_VENV)/bin/python bench/python-flask.py --json $(BENCH_RESULTS)/flask.json

bench: bench-flask

bench-warm: ## the verified-token cache alone: warm and cold validate in Rust, C, Python, Node
	BENCH_VENV=$(BENCH_VENV) bash bench/warm.sh

bench-summary: ## the table of every benchmark ratio with its target (last results)
	@python3 bench/summary.py $(BENCH_RESULTS)
