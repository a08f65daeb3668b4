# Supply-chain checks, run by `make lint` before clippy.
#
#   make lint-deny       cargo deny (pinned, installed on demand): licences, bans and
#                        sources against deny.toml, then RustSec advisories when the
#                        database can be fetched or a copy is already there (it says
#                        so loudly when it has to skip them)
#   make lint-licenses   every crate linked into a shipped binary has a licence that
#                        deny.toml allows (scripts/dist/third_party_licenses.py --check;
#                        the same script writes each archive's THIRD-PARTY-LICENSES.txt
#                        in scripts/dist/build.sh)
#
# The advisory database is a git repository on GitHub, cloned by cargo-deny
# into $CARGO_HOME/advisory-dbs (deny.toml's db-path); no package registry
# ships a copy. Where GitHub cannot be reached the advisories check runs on a
# copy already there if its newest advisory is at most 30 days old, and is
# otherwise skipped with a message, not failed: LINT_ADVISORIES=require makes
# a skip an error (for a CI that can reach GitHub).

CARGO_DENY_VERSION := 0.20.2
LINT_TOOLS := $(CURDIR)/build/tools
CARGO_DENY := $(LINT_TOOLS)/bin/cargo-deny
CARGO_DENY_STAMP := $(LINT_TOOLS)/.cargo-deny-$(CARGO_DENY_VERSION)
LINT_BUILD := $(CURDIR)/build/lint
DENY_DB_ROOT := $(or $(CARGO_HOME),$(HOME)/.cargo)/advisory-dbs
# A fetch that cannot reach GitHub fails within a second; this bounds a stalled one.
DENY_FETCH_TIMEOUT ?= 120
# The oldest copy used when the fetch fails, by the date of its newest advisory
# commit: cargo-deny's own guard (maximum-db-staleness in deny.toml, the same
# 30 days) reads the mtime of .git/FETCH_HEAD, which a failed fetch refreshes.
DENY_DB_MAX_AGE_DAYS := 30
LINT_ADVISORIES ?= auto
# The packages whose binaries are shipped: the oatk CLI, liboatk, the Python
# extension module and the Node addon.
SHIPPED_PACKAGES := oatk-core oatk-ffi oatk-python oatk-node
THIRD_PARTY_LICENSES := scripts/dist/third_party_licenses.py

.PHONY: lint-deny lint-licenses

lint: lint-deny lint-licenses

# cargo-deny, pinned, into build/tools; built in its own target dir so it does
# not hold the workspace's cargo lock. Its release profile asks for fat LTO and
# one codegen unit, overridden here to shorten the install (4.5 min on 2 cores
# without them) of a tool whose checks take under a second.
$(CARGO_DENY_STAMP):
	@mkdir -p $(LINT_TOOLS)
	@if [ -x $(CARGO_DENY) ] && [ "$$($(CARGO_DENY) --version)" = "cargo-deny $(CARGO_DENY_VERSION)" ]; then :; else \
		echo "installing cargo-deny $(CARGO_DENY_VERSION) into build/tools"; \
		CARGO_TARGET_DIR=$(LINT_TOOLS)/cargo-target CARGO_PROFILE_RELEASE_LTO=false \
		CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 $(CARGO) install cargo-deny --version $(CARGO_DENY_VERSION) \
			--locked --root $(LINT_TOOLS) --force --quiet || exit 1; fi
	touch $@

lint-deny: $(CARGO_DENY_STAMP) ## cargo deny: licences, bans, sources (deny.toml); advisories when the RustSec database can be had
	$(CARGO_DENY) check bans licenses sources
	@mkdir -p $(LINT_BUILD); \
	if GIT_TERMINAL_PROMPT=0 timeout $(DENY_FETCH_TIMEOUT) $(CARGO_DENY) fetch db >$(LINT_BUILD)/deny-fetch.log 2>&1; then \
		echo "$(CARGO_DENY) --offline check advisories   (RustSec database fetched just now)"; \
		$(CARGO_DENY) --offline check advisories; exit $$?; fi; \
	copy=$$(ls -d $(DENY_DB_ROOT)/*/.git 2>/dev/null | head -n 1); copy=$${copy%/.git}; days=; \
	if [ -n "$$copy" ]; then days=$$(( ($$(date +%s) - $$(git -C "$$copy" log -1 --format=%ct)) / 86400 )); fi; \
	if [ -n "$$days" ] && [ "$$days" -le $(DENY_DB_MAX_AGE_DAYS) ]; then \
		echo "$(CARGO_DENY) --offline check advisories   (fetch failed: the copy in $$copy, last advisory $$days days ago)"; \
		$(CARGO_DENY) --offline check advisories; exit $$?; fi; \
	echo "" >&2; \
	echo "cargo deny: advisories SKIPPED: the RustSec advisory database could not be fetched (a git" >&2; \
	if [ -n "$$days" ]; then echo "  repository on GitHub), and the copy in $$copy is $$days days old" >&2; \
	else echo "  repository on GitHub), and there is no copy under $(DENY_DB_ROOT)" >&2; fi; \
	echo "  Licences, bans and sources were checked. Why the fetch failed:" >&2; \
	grep -E 'fatal|ERROR' $(LINT_BUILD)/deny-fetch.log | tail -n 1 | cut -c 1-200 | sed 's/^/    /' >&2; \
	if [ "$(LINT_ADVISORIES)" = require ]; then echo "LINT_ADVISORIES=require: failing" >&2; exit 1; fi

lint-licenses: ## every crate linked into a shipped binary has a licence deny.toml allows
	python3 $(THIRD_PARTY_LICENSES) --check $(addprefix --package ,$(SHIPPED_PACKAGES))
