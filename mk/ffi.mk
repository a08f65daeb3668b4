# liboatk (ffi/): the C ABI, its generated header include/oatk.h, the C examples
# and tests, the Go module go/ and examples/go, `make install` with pkg-config,
# and the C benchmark.
#
#   make header      regenerate include/oatk.h (pinned cbindgen, installed on demand)
#   make test-ffi    Rust boundary tests, header drift check, C tests plain + valgrind
#                    + AddressSanitizer, C examples, install + pkg-config check, go vet + test
#   make bench-ffi   oatk_validate through C vs the Rust core, release build, one run
#   make install PREFIX=/usr/local   liboatk.so, liboatk.a, oatk.h, oatk.pc

# patchelf: `make install` sets the SONAME on the installed copy of liboatk.so.
APT_PACKAGES += valgrind pkg-config patchelf

CBINDGEN_VERSION := 0.29.4
FFI_TOOLS := $(CURDIR)/build/tools
CBINDGEN := $(FFI_TOOLS)/bin/cbindgen
CBINDGEN_STAMP := $(FFI_TOOLS)/.cbindgen-$(CBINDGEN_VERSION)
FFI_BUILD := $(CURDIR)/build/ffi
FFI_DEBUG_DIR := $(CARGO_TARGET_DIR)/debug
# The one version, from [workspace.package]; the C test checks oatk_version() against it.
FFI_VERSION := $(shell sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' $(CURDIR)/Cargo.toml)
# The ABI version in the SONAME: for 0.x every minor release may break the
# ABI, so 0.3 (the rule cargo-c follows); from 1.0 on, the major alone.
FFI_VERSION_PARTS := $(subst ., ,$(FFI_VERSION))
FFI_SOVERSION := $(if $(filter 0,$(word 1,$(FFI_VERSION_PARTS))),$(word 1,$(FFI_VERSION_PARTS)).$(word 2,$(FFI_VERSION_PARTS)),$(word 1,$(FFI_VERSION_PARTS)))
FFI_CC ?= cc
FFI_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 -I$(CURDIR)/include -I$(CURDIR)/examples/c \
	-DOATK_EXPECTED_VERSION='"$(FFI_VERSION)"'
FFI_LINK_DEBUG := -L$(FFI_DEBUG_DIR) -Wl,-rpath,$(FFI_DEBUG_DIR) -loatk -lpthread
# Any memory error, and any block definitely or indirectly lost, fails the run
# (no suppressions); still-reachable blocks (Rust's process-wide statics) do not.
FFI_VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect
# LeakSanitizer on, no suppressions: liboatk leaves nothing behind that LSan reports.
FFI_ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
FFI_C_PROGRAMS := test_oatk create_and_validate fake_server
PREFIX ?= /usr/local
# The profile `make install` copies from; the install test uses the debug build.
FFI_INSTALL_PROFILE ?= release
# The Go module (go/) finds liboatk through pkg-config only, as its users do:
# here build/ffi/pkgconfig/oatk.pc points at the checkout's header and debug
# library, and LD_LIBRARY_PATH lets the test binaries load it.
FFI_PC_DEBUG := build/ffi/pkgconfig/oatk.pc
FFI_GO_ENV := CGO_ENABLED=1 PKG_CONFIG_PATH="$(CURDIR)/$(dir $(FFI_PC_DEBUG))" LD_LIBRARY_PATH="$(FFI_DEBUG_DIR)"
FFI_GO_MODULES := go examples/go

.PHONY: header header-ffi check-header-ffi test-ffi bench-ffi install install-ffi print-ffi-soversion lib-ffi c-ffi \
	test-ffi-rust test-ffi-c test-ffi-valgrind test-ffi-asan test-ffi-examples test-ffi-install test-ffi-go

test: test-ffi
bench: bench-ffi
install: install-ffi ## install liboatk, oatk.h and oatk.pc under PREFIX (default /usr/local)
header: header-ffi ## regenerate include/oatk.h with the pinned cbindgen

# cbindgen, pinned, into build/tools; built in its own target dir so it does
# not hold the workspace's cargo lock.
$(CBINDGEN_STAMP):
	@mkdir -p $(FFI_TOOLS)
	@if [ -x $(CBINDGEN) ] && [ "$$($(CBINDGEN) --version)" = "cbindgen $(CBINDGEN_VERSION)" ]; then :; else \
		echo "installing cbindgen $(CBINDGEN_VERSION) into build/tools"; \
		CARGO_TARGET_DIR=$(FFI_TOOLS)/cargo-target $(CARGO) install cbindgen --version $(CBINDGEN_VERSION) \
			--locked --root $(FFI_TOOLS) --force --quiet || exit 1; fi
	touch $@

header-ffi: $(CBINDGEN_STAMP)
	cd ffi && $(CBINDGEN) --quiet -o ../include/oatk.h

# The committed header must be what cbindgen makes of the current sources.
check-header-ffi: $(CBINDGEN_STAMP)
	@mkdir -p $(FFI_BUILD)
	cd ffi && $(CBINDGEN) --quiet -o $(FFI_BUILD)/oatk.h.fresh
	@diff -u include/oatk.h $(FFI_BUILD)/oatk.h.fresh || \
		{ echo "include/oatk.h differs from a fresh cbindgen run: run 'make header' and commit it" >&2; exit 1; }
	@echo "include/oatk.h is up to date (cbindgen $(CBINDGEN_VERSION))"

lib-ffi:
	$(CARGO) build -p oatk-ffi

# The C programs, plain and with AddressSanitizer + UBSan, against the debug liboatk.so.
c-ffi: lib-ffi
	@mkdir -p $(FFI_BUILD)
	@for p in $(FFI_C_PROGRAMS); do \
		echo "cc examples/c/$$p.c -> build/ffi/$$p{,-asan}"; \
		$(FFI_CC) $(FFI_CFLAGS) examples/c/$$p.c -o $(FFI_BUILD)/$$p $(FFI_LINK_DEBUG) || exit 1; \
		$(FFI_CC) $(FFI_CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
			examples/c/$$p.c -o $(FFI_BUILD)/$$p-asan $(FFI_LINK_DEBUG) || exit 1; \
	done

test-ffi: ## liboatk: Rust boundary, header drift, C tests plain + valgrind + ASan, install, pkg-config, Go
test-ffi: deps-apt test-ffi-rust check-header-ffi test-ffi-c test-ffi-valgrind test-ffi-asan test-ffi-examples \
	test-ffi-install test-ffi-go ## liboatk: Rust, C (valgrind, ASan), install, Go tests

test-ffi-rust:
	$(CARGO) test -p oatk-ffi

# Every function the header declares is exported by liboatk.so (and nothing
# else is) and called by the C test suite; every C name of the feature-parity
# table (tests/parity.json, null: none in C) is declared in the header.
test-ffi-c: c-ffi
	@names=$$(python3 -c 'import json, sys; ops = json.load(open(sys.argv[1]))["operations"]; \
		bad = [o.get("core") for o in ops if "c" not in o]; bad and sys.exit("no \"c\" column for %s" % bad); \
		print(" ".join(sorted({o["c"] for o in ops if o["c"]})))' tests/parity.json) || exit 1; \
	for f in $$names; do grep -qE "\b$$f\(" include/oatk.h || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then echo "tests/parity.json names C functions include/oatk.h lacks:$$missing" >&2; exit 1; fi; \
	echo "parity: the $$(echo $$names | wc -w) C names of tests/parity.json are in include/oatk.h"
	@declared=$$(grep -oE '\boatk_[a-z_]+\(' include/oatk.h | tr -d '(' | sort -u); \
	exported=$$(nm -D --defined-only $(FFI_DEBUG_DIR)/liboatk.so | awk '{print $$3}' | grep -v '^_' | sort -u); \
	if [ "$$declared" != "$$exported" ]; then echo "header and liboatk.so exports differ:" >&2; \
		diff <(echo "$$declared") <(echo "$$exported") >&2; exit 1; fi; \
	for f in $$declared; do grep -q "\b$$f(" examples/c/test_oatk.c || { echo "not tested: $$f" >&2; exit 1; }; done; \
	echo "$$(echo "$$declared" | wc -l) functions: declared, exported, tested"
	$(FFI_BUILD)/test_oatk

test-ffi-valgrind: c-ffi deps-apt
	$(FFI_VALGRIND) $(FFI_BUILD)/test_oatk
	$(FFI_VALGRIND) $(FFI_BUILD)/create_and_validate >/dev/null
	$(FFI_VALGRIND) $(FFI_BUILD)/fake_server >/dev/null
	@echo "valgrind: no errors, nothing definitely or indirectly lost"

test-ffi-asan: c-ffi
	$(FFI_ASAN_ENV) $(FFI_BUILD)/test_oatk-asan
	$(FFI_ASAN_ENV) $(FFI_BUILD)/create_and_validate-asan >/dev/null
	$(FFI_ASAN_ENV) $(FFI_BUILD)/fake_server-asan >/dev/null
	@echo "AddressSanitizer: clean"

# The examples as a user runs them, on keys written by the oatk CLI.
test-ffi-examples: c-ffi
	$(CARGO) build -p oatk-core --bin oatk
	@rm -rf $(FFI_BUILD)/keys && mkdir -p $(FFI_BUILD)/keys
	cd $(FFI_BUILD)/keys && $(OATK) keys generate >/dev/null
	$(FFI_BUILD)/create_and_validate $(FFI_BUILD)/keys
	$(FFI_BUILD)/fake_server
	@# The quick start in ffi/README.md (its first C block) compiles, runs and prints the claims.
	awk '/^```c$$/ { n++; keep = (n == 1); next } /^```$$/ { keep = 0 } keep' ffi/README.md > $(FFI_BUILD)/readme_quickstart.c
	$(FFI_CC) $(FFI_CFLAGS) $(FFI_BUILD)/readme_quickstart.c -o $(FFI_BUILD)/readme_quickstart $(FFI_LINK_DEBUG)
	test "$$($(FFI_BUILD)/readme_quickstart)" = '{"hello":"world"}'
	@# "How to use the fake server from a C test" in ffi/README.md: its C block compiles, runs and
	@# validates the issued token with the upserted user's claims.
	awk '/^## / { fake = /fake server from a C test/ } /^```c$$/ { keep = fake; next } /^```$$/ { keep = 0 } keep' \
		ffi/README.md > $(FFI_BUILD)/readme_fake_server.c
	$(FFI_CC) $(FFI_CFLAGS) $(FFI_BUILD)/readme_fake_server.c -o $(FFI_BUILD)/readme_fake_server $(FFI_LINK_DEBUG)
	@out=$$($(FFI_BUILD)/readme_fake_server) && echo "$$out" | grep -q '"username":"xtof"' && \
		echo "$$out" | grep -q '"groups":\["admin"\]' || { echo "readme_fake_server: $$out" >&2; exit 1; }

# `make install` into a temporary PREFIX, then build and run a program with
# nothing but `pkg-config --cflags --libs oatk` (and a static link with --static).
test-ffi-install: lib-ffi deps-apt
	@set -e; prefix=$$(mktemp -d); trap 'rm -rf "$$prefix"' EXIT; \
	$(MAKE) --no-print-directory install-ffi PREFIX=$$prefix FFI_INSTALL_PROFILE=debug; \
	export PKG_CONFIG_PATH=$$prefix/lib/pkgconfig; \
	echo "pkg-config --cflags --libs oatk: $$(pkg-config --cflags --libs oatk)"; \
	test "$$(pkg-config --modversion oatk)" = "$(FFI_VERSION)"; \
	$(FFI_CC) -o $$prefix/app examples/c/create_and_validate.c $$(pkg-config --cflags --libs oatk); \
	LD_LIBRARY_PATH=$$prefix/lib $$prefix/app >/dev/null; \
	$(FFI_CC) -o $$prefix/app-static examples/c/create_and_validate.c $$(pkg-config --cflags oatk) \
		$$prefix/lib/liboatk.a $$(pkg-config --libs-only-l --static oatk | sed 's/-loatk//'); \
	if ldd $$prefix/app-static | grep -q liboatk; then echo "app-static links liboatk.so" >&2; exit 1; fi; \
	$$prefix/app-static >/dev/null; \
	echo "make install + pkg-config: shared and static programs build and run"

# A release install is what the release tarball holds (scripts/dist/build.sh
# uses this rule): liboatk.so.X.Y.Z with SONAME liboatk.so.$(FFI_SOVERSION) and
# its two symlinks. The SONAME is set on the installed copy (patchelf), never
# on target/*/liboatk.so: the tests and benchmarks link that one by path, and
# a SONAME there would make their programs ask for a liboatk.so.0.3 that the
# target folder does not hold. The debug install (the install test) is a
# plain liboatk.so.
install-ffi: deps-apt
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
ifeq ($(FFI_INSTALL_PROFILE),release)
	$(CARGO) build --release --locked -p oatk-ffi
	install -m 0755 $(CARGO_TARGET_DIR)/release/liboatk.so $(DESTDIR)$(PREFIX)/lib/liboatk.so.$(FFI_VERSION)
	patchelf --set-soname liboatk.so.$(FFI_SOVERSION) $(DESTDIR)$(PREFIX)/lib/liboatk.so.$(FFI_VERSION)
	ln -sf liboatk.so.$(FFI_VERSION) $(DESTDIR)$(PREFIX)/lib/liboatk.so.$(FFI_SOVERSION)
	ln -sf liboatk.so.$(FFI_SOVERSION) $(DESTDIR)$(PREFIX)/lib/liboatk.so
else
	install -m 0755 $(CARGO_TARGET_DIR)/$(FFI_INSTALL_PROFILE)/liboatk.so $(DESTDIR)$(PREFIX)/lib/liboatk.so
endif
	install -m 0644 $(CARGO_TARGET_DIR)/$(FFI_INSTALL_PROFILE)/liboatk.a $(DESTDIR)$(PREFIX)/lib/liboatk.a
	install -m 0644 include/oatk.h $(DESTDIR)$(PREFIX)/include/oatk.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(FFI_VERSION)|g' ffi/oatk.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/oatk.pc
	@echo "installed liboatk $(FFI_VERSION) under $(DESTDIR)$(PREFIX)"

print-ffi-soversion:
	@echo $(FFI_SOVERSION)

# oatk.pc for the debug build in this checkout: ffi/oatk.pc.in (so Libs.private
# stays in one place) with the include and lib folders of the checkout.
$(FFI_PC_DEBUG): ffi/oatk.pc.in Cargo.toml mk/ffi.mk
	@mkdir -p $(@D)
	sed -e '1s|.*|# pkg-config file for the debug liboatk of this checkout (mk/ffi.mk, test-ffi-go).|' \
		-e 's|@PREFIX@|$(CURDIR)|g' -e 's|@VERSION@|$(FFI_VERSION)|g' \
		-e 's|^libdir=.*|libdir=$(FFI_DEBUG_DIR)|' -e 's|^includedir=.*|includedir=$(CURDIR)/include|' $< > $@

# The wrapper module go/ (the package, its tests, the parity table) and the
# example module examples/go (cmd/hello, using go/ through a replace).
test-ffi-go: lib-ffi $(FFI_PC_DEBUG)
	@for m in $(FFI_GO_MODULES); do test -z "$$(cd $$m && gofmt -l .)" || \
		{ echo "gofmt needed in $$m:" >&2; (cd $$m && gofmt -l .) >&2; exit 1; }; done
	@echo "pkg-config --cflags --libs oatk: $$($(FFI_GO_ENV) pkg-config --cflags --libs oatk)"
	for m in $(FFI_GO_MODULES); do (cd $$m && $(FFI_GO_ENV) go vet ./...) || exit 1; done
	for m in $(FFI_GO_MODULES); do (cd $$m && $(FFI_GO_ENV) go test -race -count=1 ./...) || exit 1; done

# oatk_validate through the C ABI vs the Rust core's Toolkit::validate, same
# key and token, release build, one run; prints the ratio.
bench-ffi: ## oatk_validate through liboatk vs the Rust core, with the ratio
	bash bench/ffi.sh
