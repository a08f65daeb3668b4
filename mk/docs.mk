# The documentation site (docs/): mkdocs + mkdocs-material, built into
# dist/docs, with an API reference generated from the code at build time.
#
#   make docs        build the site (mkdocs build --strict: a broken internal
#                    link, an unknown anchor or a page missing from the nav
#                    fails it), then check every link of the built HTML;
#                    generates the Rust (cargo doc), Python (mkdocstrings, from
#                    the sources and stubs), TypeScript (TypeDoc) and C
#                    (include/oatk.h's comments) references
#   make docs-serve  the same site on http://127.0.0.1:8000, rebuilt on save
#   make test-docs   make docs, the tools' own tests (tests/docs/test_docs_tools.py:
#                    the link check, the C reference and the block runner fail
#                    when they should), then run the code blocks of the pages marked
#                    `<!-- run: ... -->` (tests/docs/run_quickstarts.py): Python
#                    in .venv, the debug CLI, Node against bindings-node, C
#                    against the debug liboatk, Go through pkg-config when
#                    build/ffi/pkgconfig/oatk.pc exists (skipped with a note if not)
#
# The tools are pinned: docs/requirements.txt (pip, into build/docs-venv) and
# docs/package.json + package-lock.json (npm ci, into build/docs-node).
# Generated pages go to build/docs/generated and are added by
# scripts/docs/mkdocs_hooks.py; nothing generated is written under docs/.

DOCS_VENV := $(CURDIR)/build/docs-venv
DOCS_NODE := $(CURDIR)/build/docs-node
DOCS_GENERATED := $(CURDIR)/build/docs/generated
DOCS_OUT := $(CURDIR)/dist/docs
# NO_MKDOCS_2_WARNING: mkdocs-material's banner about its successor, printed on every build.
DOCS_MKDOCS_ENV := OATK_DOCS_GENERATED=$(DOCS_GENERATED) NO_MKDOCS_2_WARNING=1
# What the quick starts run against (tests/docs/run_quickstarts.py reads these).
# Recursive (=): FFI_PC_DEBUG comes from mk/ffi.mk, read after this file.
DOCS_RUN_ENV = OATK_PYTHON=$(PY) OATK_CLI=$(OATK) OATK_NODE_PACKAGE=$(CURDIR)/bindings-node \
	OATK_DOCS_NODE_MODULES=$(DOCS_NODE)/node_modules OATK_LIB_DIR=$(CARGO_TARGET_DIR)/debug \
	OATK_INCLUDE_DIR=$(CURDIR)/include OATK_GO_MODULE=$(CURDIR)/go \
	OATK_PKG_CONFIG_PATH=$(CURDIR)/$(dir $(or $(FFI_PC_DEBUG),build/ffi/pkgconfig/oatk.pc))

.PHONY: docs docs-deps docs-generate docs-serve test-docs

# What the pages' shell blocks call (curl, jq) and the Node quick start's openssl.
APT_PACKAGES += curl jq openssl

test: test-docs

$(DOCS_VENV)/.stamp: docs/requirements.txt
	python3 -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/pip install --quiet --disable-pip-version-check -r docs/requirements.txt
	touch $@

$(DOCS_NODE)/.stamp: docs/package.json docs/package-lock.json
	@mkdir -p $(DOCS_NODE)
	cp docs/package.json docs/package-lock.json $(DOCS_NODE)/
	cd $(DOCS_NODE) && npm ci --no-audit --no-fund --loglevel=warn
	touch $@

docs-deps: $(DOCS_VENV)/.stamp $(DOCS_NODE)/.stamp

# The reference pages made from the code: rustdoc (oatk-core; the hook copies
# it under api/rust/), TypeScript and C pages, the parity table. oatk-ffi's
# rustdoc is off in ffi/Cargo.toml (its library is `oatk` too): its doc
# comments are include/oatk.h's, rendered by c_reference.py.
docs-generate: docs-deps
	$(CARGO) doc --no-deps -p oatk-core
	@rm -rf $(DOCS_GENERATED) && mkdir -p $(DOCS_GENERATED)/api/typescript
	cd $(DOCS_NODE) && ./node_modules/.bin/typedoc --options $(CURDIR)/docs/typedoc/typedoc.json \
		--out $(DOCS_GENERATED)/api/typescript --logLevel Warn
	@# TypeDoc's own index lists the two module pages the nav already has.
	rm -f $(DOCS_GENERATED)/api/typescript/index.md
	python3 scripts/docs/typedoc_tidy.py $(DOCS_GENERATED)/api/typescript
	python3 scripts/docs/c_reference.py include/oatk.h $(DOCS_GENERATED)/api/c.md
	python3 scripts/docs/parity_table.py tests/parity.json $(DOCS_GENERATED)/api/parity.md

# No --quiet: it hides the warnings that --strict counts, and the build passes.
docs: docs-generate ## the documentation site into dist/docs (mkdocs --strict, API reference from the code), links checked
	cd docs && $(DOCS_MKDOCS_ENV) $(DOCS_VENV)/bin/mkdocs build --strict \
		--site-dir $(DOCS_OUT)
	python3 scripts/docs/check_links.py $(DOCS_OUT)
	@echo "site: $(DOCS_OUT)/index.html ($$(find $(DOCS_OUT) -name index.html -not -path '*/api/rust/*' | wc -l) pages + rustdoc)"

docs-serve: docs-generate ## the documentation site on http://127.0.0.1:8000, rebuilt on save
	cd docs && $(DOCS_MKDOCS_ENV) $(DOCS_VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

# python-develop (mk/python.mk): oatk in .venv; cli (Makefile): the debug
# oatk; build-node (mk/node.mk): bindings-node's debug addon; lib-ffi
# (mk/ffi.mk): the debug liboatk.so; and, when mk/ffi.mk defines it
# (FFI_PC_DEBUG, read at run time), the oatk.pc through which the Go blocks
# find that library. Without it the Go blocks are skipped with a note.
test-docs: deps-apt docs python-develop cli build-node lib-ffi ## build the site (strict, links checked), then run the pages' code blocks in every language
	$(if $(FFI_PC_DEBUG),$(MAKE) --no-print-directory $(FFI_PC_DEBUG))
	$(PY) -m pytest -q -p no:cacheprovider -p no:asyncio tests/docs/test_docs_tools.py
	$(DOCS_RUN_ENV) python3 tests/docs/run_quickstarts.py
