#!/usr/bin/env bash
# make test-dist: install what `make dist` wrote, the way users do, on a PATH
# with no cargo and no rustc, and run each front end for real.
#
#   1. the sdist builds a working wheel (the one step that needs Rust)
#   2. Python: the wheel in a fresh venv; the seed's session (CLI, REPL,
#      examples/create-and-validate.py, gunicorn + Flask hit over HTTP)
#   3. Node: the two npm tarballs in a fresh project; Express over HTTP,
#      validateAsync from four threads at once, npx oatk version,
#      require('oatk/browser')
#   4. C: the liboatk tarball in a scratch prefix; examples/c built with
#      pkg-config only, and run
#   5. Go: a program importing github.com/oatk/oatk/go against that prefix
#   6. the CLI tarball on the seed's command lines
#   7. the version every front end prints is the workspace's
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DIST=${DIST:-$ROOT/dist}
WORK=$ROOT/build/dist-test
PYTHON=${PYTHON:-python3}
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
TRIPLE=x86_64-linux-gnu

step() { printf '\n== test-dist: %s\n' "$*"; }
fail() { echo "test-dist: $*" >&2; exit 1; }
artifact() {
	local found
	found=$(compgen -G "$DIST/$1" | head -n1) || true
	[ -n "$found" ] && [ -s "$found" ] || fail "missing artifact dist/$1: run 'make dist'"
	echo "$found"
}

WHEEL=$(artifact "oatk-$VERSION-cp39-abi3-manylinux*_x86_64.whl")
SDIST=$(artifact "oatk-$VERSION.tar.gz")
NPM_MAIN=$(artifact "oatk-$VERSION.tgz")
NPM_NATIVE=$(artifact "oatk-linux-x64-gnu-$VERSION.tgz")
C_TARBALL=$(artifact "liboatk-$VERSION-$TRIPLE.tar.gz")
CLI_TARBALL=$(artifact "oatk-$VERSION-$TRIPLE.tar.gz")
(cd "$DIST" && sha256sum --quiet -c SHA256SUMS) || fail "dist/SHA256SUMS does not match the artifacts"
rm -rf "$WORK"
mkdir -p "$WORK"
declare -A VERSIONS

step "the sdist builds a wheel (with Rust: the one step that needs it)"
"$PYTHON" -m venv "$WORK/sdist-venv"
"$WORK/sdist-venv/bin/pip" install --quiet --disable-pip-version-check "$SDIST"
"$WORK/sdist-venv/bin/python" -c "
from oatk import OAuthToolkit, generate_key
private_pem, _ = generate_key()
t = OAuthToolkit().with_private_pem(private_pem)
assert t.validate(t.mint({'sub': 'sdist'}))['sub'] == 'sdist'
print('the wheel built from the sdist mints and validates')"

step "cargo and rustc leave the PATH"
PATH=$(tr ':' '\n' <<<"$PATH" | while read -r dir; do
	[ -e "$dir/cargo" ] || [ -e "$dir/rustc" ] || [ -e "$dir/rustup" ] || printf '%s:' "$dir"; done)
export PATH=${PATH%:}
unset CARGO RUSTC RUSTUP_HOME CARGO_HOME
if command -v cargo >/dev/null || command -v rustc >/dev/null; then fail "cargo or rustc is still on PATH"; fi
echo "PATH has no cargo, no rustc"

step "Python: $(basename "$WHEEL") in a fresh venv"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check "$WHEEL" \
	pytest pytest-asyncio "pyjwt[crypto]" cryptography flask flask-restful flask-cors gunicorn requests
# (No `| grep -q` under pipefail: grep leaving early breaks the writer's pipe.)
"$WORK/venv/bin/python" -c "import sys, zipfile; sys.exit('oatk/THIRD-PARTY-LICENSES.txt' not in zipfile.ZipFile(sys.argv[1]).namelist())" "$WHEEL" ||
	fail "the wheel does not carry oatk/THIRD-PARTY-LICENSES.txt"
# The seed's session: CLI lines, REPL lines, examples/create-and-validate.py,
# and gunicorn serving examples/web.py (@oatk.authenticated) hit with curl.
(cd "$WORK" && "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider \
	--rootdir "$ROOT/bindings-python" "$ROOT/bindings-python/tests/test_seed_session.py")
VERSIONS[python]=$("$WORK/venv/bin/python" -c "import oatk; print(oatk.__version__)")

step "Node: npm install the two tarballs into a fresh project"
mkdir -p "$WORK/node"
cp tests/dist/express-app.js tests/dist/threads.js "$WORK/node/"
(cd "$WORK/node" && npm init -y >/dev/null &&
	npm install --no-audit --no-fund --loglevel=error "$NPM_MAIN" "$NPM_NATIVE" express@5 &&
	[ ! -e node_modules/oatk/scripts ] || fail "the oatk npm package ships its build scripts" &&
	node express-app.js &&
	node threads.js &&
	node -e "const o = require('oatk/browser'); if (typeof o.login !== 'function') throw new Error('oatk/browser has no login()')" &&
	echo "require('oatk/browser') gives the browser client")
VERSIONS[node]=$(cd "$WORK/node" && npx --no-install oatk version)
# Without its platform package (--omit=optional), require('oatk') names the
# platform and the package it looked for.
mkdir -p "$WORK/node-no-addon"
(cd "$WORK/node-no-addon" && npm init -y >/dev/null &&
	npm install --no-audit --no-fund --loglevel=error --omit=optional "$NPM_MAIN" &&
	node -e "
try { require('oatk'); process.exit(1) } catch (e) {
  if (e.code !== 'OATK_NO_NATIVE_ADDON' || !e.message.includes('oatk-linux-x64-gnu')) throw e
  console.log('without oatk-linux-x64-gnu: ' + e.message.slice(0, 60) + '...')
}") || fail "require('oatk') without its platform package does not say what is missing"

step "C: $(basename "$C_TARBALL") into a scratch prefix, programs built with pkg-config only"
tar -C "$WORK" -xzf "$C_TARBALL"
PREFIX=$WORK/liboatk-$VERSION-$TRIPLE
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
pkg-config --exists oatk || fail "pkg-config cannot find oatk in $PKG_CONFIG_PATH"
[ "$(pkg-config --modversion oatk)" = "$VERSION" ] || fail "oatk.pc says $(pkg-config --modversion oatk), not $VERSION"
for program in create_and_validate test_oatk fake_server; do
	# shellcheck disable=SC2046 # pkg-config's output is a list of flags
	cc -std=c11 -D_GNU_SOURCE -Wall -Werror -DOATK_EXPECTED_VERSION="\"$VERSION\"" \
		"examples/c/$program.c" -o "$WORK/$program" $(pkg-config --cflags --libs oatk) -lpthread ||
		fail "examples/c/$program.c does not build against the tarball"
done
readelf -d "$WORK/test_oatk" | grep "NEEDED.*liboatk.so.0" >/dev/null || fail "test_oatk does not link liboatk by its SONAME"
(cd "$WORK" && LD_LIBRARY_PATH=$PREFIX/lib ./create_and_validate && LD_LIBRARY_PATH=$PREFIX/lib ./test_oatk &&
	LD_LIBRARY_PATH=$PREFIX/lib ./fake_server)
cat > "$WORK/version.c" <<'EOF'
#include <stdio.h>
#include <oatk.h>
int main(void) { puts(oatk_version()); return 0; }
EOF
# shellcheck disable=SC2046
cc "$WORK/version.c" -o "$WORK/version" $(pkg-config --cflags --libs oatk)
VERSIONS[c]=$(LD_LIBRARY_PATH=$PREFIX/lib "$WORK/version")

step "Go: a program importing github.com/oatk/oatk/go against the unpacked tarball"
bash scripts/dist/test-go.sh "$PREFIX" | tee "$WORK/go.log"
VERSIONS[go]=$(sed -n 's/^oatk version //p' "$WORK/go.log" | tail -n1)

step "the CLI tarball on the seed's command lines"
tar -C "$WORK" -xzf "$CLI_TARBALL"
CLI=$WORK/oatk-$VERSION-$TRIPLE/bin/oatk
[ -x "$CLI" ] || fail "the CLI tarball has no bin/oatk"
OATK=$CLI "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider --rootdir "$ROOT/tests/core" "$ROOT/tests/core/test_cli.py"
VERSIONS[cli]=$("$CLI" version)

step "one version everywhere"
status=0
for front in python node c go cli; do
	printf '  %-7s %s\n' "$front" "${VERSIONS[$front]:-?}"
	[ "${VERSIONS[$front]:-}" = "$VERSION" ] || status=1
done
[ $status = 0 ] || fail "a front end does not report $VERSION"
echo "test-dist: every artifact installs and works without Rust"
