# Release artifacts (issue 13): what `pip install oatk`, `npm install oatk`, a C
# build and `go get` receive, built into dist/ and installed without Rust.
#
#   make dist        the abi3 wheel and sdist, the npm packages oatk and
#                    oatk-linux-x64-gnu, the liboatk and CLI tarballs, SHA256SUMS
#                    (scripts/dist/build.sh; release builds, stripped)
#   make test-dist   make dist, then with cargo and rustc removed from PATH:
#                    the wheel in a fresh venv, the npm tarballs in a fresh
#                    project, examples/c against the unpacked tarball with
#                    pkg-config only, a Go program, the CLI (scripts/dist/test.sh)

.PHONY: dist test-dist

# auditwheel checks the wheel's manylinux tag against the symbols it uses.
$(VENV)/.stamp-dist: $(VENV)/.stamp-python mk/dist.mk
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "auditwheel>=6"
	touch $@

dist: APT_PACKAGES += binutils
dist: deps-apt $(VENV)/.stamp-dist ## the release artifacts into dist/ (wheel, sdist, npm, liboatk, CLI, SHA256SUMS)
	PYTHON=$(PY) bash scripts/dist/build.sh

# curl, Xvfb and xclip: the seed's session; pkg-config: the C and Go builds.
test-dist: APT_PACKAGES += pkg-config curl xvfb xclip
test-dist: deps-apt dist ## install every artifact without Rust on PATH and run it
	bash scripts/dist/test.sh

test: test-dist
