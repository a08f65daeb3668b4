# Fuzzing the Rust core with cargo-fuzz (core/fuzz/, nightly): token parse +
# validate, JWK/JWKS import, PEM import, the server's TOML config, and the
# fake server's HTTP router in process (never a panic, never a 5xx).
#
#   make fuzz              each target for FUZZ_SECONDS (default 300); what it
#                          finds is kept in build/fuzz/corpus for the next run
#   make test-fuzz         each target for 30 s on the committed corpus only
#                          (core/fuzz/corpus), as part of `make test`
#   make fuzz-build        build the targets (cargo-fuzz is installed on demand)
#   make fuzz-repro FUZZ_TARGET=router FUZZ_INPUT=path   run one input again
#   FUZZ_TARGETS="router config" make fuzz               a subset
#
# No sanitizer by default (FUZZ_SANITIZER=address to turn AddressSanitizer on):
# oatk-core has no unsafe code, cargo-fuzz does not instrument the C under it
# (aws-lc, SQLite), and ASan nearly doubles the build (12 min of CPU instead
# of 6.5; the default build takes 4.5 min on 2 idle cores) and slows the
# targets 3-10x. A panic, an overflow (debug assertions are on) or a 5xx
# aborts the run either way.

FUZZ_TARGETS ?= token jwks pem config router
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 30
FUZZ_SANITIZER ?= none
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_TOOLS := $(CURDIR)/build/tools
CARGO_FUZZ := $(FUZZ_TOOLS)/bin/cargo-fuzz
CARGO_FUZZ_STAMP := $(FUZZ_TOOLS)/.cargo-fuzz-$(CARGO_FUZZ_VERSION)
FUZZ_DIR := $(CURDIR)/core/fuzz
# Its own target dir: sanitizer-coverage builds share nothing with the main
# one (and an ASan build nothing with the plain one).
FUZZ_TARGET_DIR := $(CARGO_TARGET_DIR)/fuzz$(if $(filter none,$(FUZZ_SANITIZER)),,-$(FUZZ_SANITIZER))
FUZZ_TRIPLE = $(shell rustc +nightly -vV | sed -n 's/^host: //p')
FUZZ_BIN = $(FUZZ_TARGET_DIR)/$(FUZZ_TRIPLE)/release
FUZZ_WORK := $(CURDIR)/build/fuzz
# Per input: 10 s is a hang; every run prints its final statistics.
FUZZ_FLAGS := -timeout=10 -print_final_stats=1

.PHONY: fuzz fuzz-build test-fuzz fuzz-repro

test: test-fuzz

# cargo-fuzz, pinned, into build/tools; built in its own target dir so it
# does not hold the workspace's cargo lock.
$(CARGO_FUZZ_STAMP):
	@mkdir -p $(FUZZ_TOOLS)
	@if [ -x $(CARGO_FUZZ) ] && $(CARGO_FUZZ) --version | grep -qx "cargo-fuzz $(CARGO_FUZZ_VERSION)"; then :; else \
		echo "installing cargo-fuzz $(CARGO_FUZZ_VERSION) into build/tools"; \
		CARGO_TARGET_DIR=$(FUZZ_TOOLS)/cargo-target $(CARGO) install cargo-fuzz --version $(CARGO_FUZZ_VERSION) \
			--locked --root $(FUZZ_TOOLS) --force --quiet || exit 1; fi
	touch $@

fuzz-build: $(CARGO_FUZZ_STAMP) ## build the cargo-fuzz targets (nightly; no sanitizer unless FUZZ_SANITIZER=address)
	cd core && PATH="$(FUZZ_TOOLS)/bin:$$PATH" $(CARGO) +nightly fuzz build -s $(FUZZ_SANITIZER) \
		--target-dir $(FUZZ_TARGET_DIR)

# $(call fuzz-run,SECONDS,WORK CORPUS DIR): each target in turn, new inputs
# into the work dir (the committed seeds are only read), crashes into
# build/fuzz/artifacts/<target>/; one summary line each, the log on failure.
define fuzz-run
	@mkdir -p $(FUZZ_WORK)
	@status=0; for t in $(FUZZ_TARGETS); do \
		work=$(2)/$$t; log=$(FUZZ_WORK)/$$t.log; mkdir -p $$work $(FUZZ_WORK)/artifacts/$$t; \
		$(FUZZ_BIN)/$$t $(FUZZ_FLAGS) -max_total_time=$(1) -dict=$(FUZZ_DIR)/dicts/$$t.dict \
			-artifact_prefix=$(FUZZ_WORK)/artifacts/$$t/ $$work $(FUZZ_DIR)/corpus/$$t >$$log 2>&1; \
		rc=$$?; \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
		speed=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $$log); \
		cov=$$(grep -oE 'cov: [0-9]+' $$log | tail -1); \
		if [ $$rc -eq 0 ]; then \
			printf 'fuzz %-7s %10s execs in %ss (%s/s), %s, corpus %s files: no finding\n' \
				$$t "$$runs" $(1) "$$speed" "$$cov" "$$(find $$work $(FUZZ_DIR)/corpus/$$t -type f | wc -l)"; \
		else \
			status=1; echo "fuzz $$t: FINDING (exit $$rc); log $$log:" >&2; \
			{ grep -A1 'panicked at' $$log | head -2; grep -E '^ +at \./core/' $$log | head -6; \
			  grep -E 'SUMMARY|ERROR: (libFuzzer|AddressSanitizer)|Test unit written|^ *#[0-9]+ 0x' $$log | head -20; } >&2; \
			echo "reproduce: make fuzz-repro FUZZ_TARGET=$$t FUZZ_INPUT=<the artifact above>" >&2; \
		fi; \
	done; exit $$status
endef

fuzz: fuzz-build ## fuzz each target for FUZZ_SECONDS (default 300), keeping new inputs in build/fuzz/corpus
	$(call fuzz-run,$(FUZZ_SECONDS),$(FUZZ_WORK)/corpus)

test-fuzz: fuzz-build ## each fuzz target for 30 s on the committed corpus: no panic, no 5xx
	@rm -rf $(FUZZ_WORK)/test-corpus
	$(call fuzz-run,$(FUZZ_TEST_SECONDS),$(FUZZ_WORK)/test-corpus)

# One input through one target, the router's requests traced.
fuzz-repro: fuzz-build
	@test -n "$(FUZZ_TARGET)" -a -f "$(FUZZ_INPUT)" || { echo "usage: make fuzz-repro FUZZ_TARGET=router FUZZ_INPUT=file" >&2; exit 2; }
	OATK_FUZZ_TRACE=1 RUST_BACKTRACE=1 $(FUZZ_BIN)/$(FUZZ_TARGET) $(FUZZ_INPUT)
