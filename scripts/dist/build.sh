#!/usr/bin/env bash
# make dist: build exactly what would be uploaded, into dist/.
#
#   oatk-<v>-cp39-abi3-manylinux_*_x86_64.whl   pip install oatk (maturin, release, stripped)
#   oatk-<v>.tar.gz                              the sdist (builds the wheel where Rust is)
#   oatk-<v>.tgz                                 npm: JavaScript, types, browser script, CLI shim
#   oatk-linux-x64-gnu-<v>.tgz                   npm: the prebuilt addon, an optionalDependency
#   liboatk-<v>-x86_64-linux-gnu.tar.gz          C: header, liboatk.so (SONAME), liboatk.a, oatk.pc
#   oatk-<v>-x86_64-linux-gnu.tar.gz             the oatk command line
#   SHA256SUMS
#
# Every archive carries LICENSE and THIRD-PARTY-LICENSES.txt, the licences of
# the crates linked into its binary (scripts/dist/third_party_licenses.py).
# Environment: CARGO (default cargo), PYTHON (a Python with maturin and
# auditwheel; default .venv/bin/python), DIST (default dist).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CARGO=${CARGO:-cargo}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
DIST=${DIST:-$ROOT/dist}
STAGE=$ROOT/build/dist
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}/release
TRIPLE=x86_64-linux-gnu
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
# The ABI version in the SONAME (mk/ffi.mk holds the rule).
SOVERSION=$(make -s --no-print-directory print-ffi-soversion)
# Each artifact has a ceiling (issue 13): what pip or npm downloads stays small.
MAX_BYTES=$((6 * 1024 * 1024))

say() { printf '\n== %s\n' "$*"; }
fail() { echo "make dist: $*" >&2; exit 1; }

# A reproducible tarball of STAGE/NAME: fixed owner, order and times.
tarball() {
	tar -C "$STAGE" --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' \
		-czf "$DIST/$1.tar.gz" "$1"
}

# dist/docs (make docs) is left alone: only this script's artifacts are replaced.
mkdir -p "$DIST"
rm -rf "$STAGE" "$DIST"/*.whl "$DIST"/*.tar.gz "$DIST"/*.tgz "$DIST/SHA256SUMS"
mkdir -p "$STAGE"

say "release builds: the CLI and the Node addon (liboatk: make install-ffi, below)"
"$CARGO" build --release --locked -p oatk-core -p oatk-node

say "third-party licences"
licences() { python3 scripts/dist/third_party_licenses.py "$@"; }
licences --package oatk-ffi --output "$STAGE/licences-liboatk.txt"
licences --package oatk-core --output "$STAGE/licences-cli.txt"
licences --package oatk-python --output "$STAGE/licences-python.txt"
licences --package oatk-node --output "$STAGE/licences-node.txt"

say "liboatk-$VERSION-$TRIPLE.tar.gz"
C=$STAGE/liboatk-$VERSION-$TRIPLE
# `make install` itself (the release build with its SONAME and symlinks), into
# the staging folder; then stripped, and the pkg-config file made relocatable.
make -s --no-print-directory install-ffi PREFIX= DESTDIR="$C" FFI_INSTALL_PROFILE=release CARGO="$CARGO" >/dev/null
strip --strip-unneeded "$C/lib/liboatk.so.$VERSION"
strip --strip-debug "$C/lib/liboatk.a"
# pkg-config's ${pcfiledir} makes the file relocatable: the prefix is wherever
# the tarball was unpacked (lib/pkgconfig/../..).
sed -e 's|^prefix=.*|prefix=${pcfiledir}/../..|' -e "s|@VERSION@|$VERSION|g" \
	-e 's|^# pkg-config file.*|# pkg-config file for liboatk; relocatable: the prefix is where this file sits, two levels up.|' \
	ffi/oatk.pc.in > "$C/lib/pkgconfig/oatk.pc"
install -m 0644 LICENSE "$C/LICENSE"
install -m 0644 "$STAGE/licences-liboatk.txt" "$C/THIRD-PARTY-LICENSES.txt"
sed "s/@VERSION@/$VERSION/g; s/@SOVERSION@/$SOVERSION/g" scripts/dist/liboatk-README.md > "$C/README.md"
readelf -d "$C/lib/liboatk.so.$VERSION" | grep "SONAME.*\[liboatk.so.$SOVERSION\]" >/dev/null ||
	fail "liboatk.so has no SONAME liboatk.so.$SOVERSION"
tarball "liboatk-$VERSION-$TRIPLE"

say "oatk-$VERSION-$TRIPLE.tar.gz (the CLI)"
B=$STAGE/oatk-$VERSION-$TRIPLE
install -d "$B/bin"
install -m 0755 "$TARGET/oatk" "$B/bin/oatk"
strip "$B/bin/oatk"
install -m 0644 LICENSE "$B/LICENSE"
install -m 0644 "$STAGE/licences-cli.txt" "$B/THIRD-PARTY-LICENSES.txt"
sed "s/@VERSION@/$VERSION/g" scripts/dist/cli-README.md > "$B/README.md"
tarball "oatk-$VERSION-$TRIPLE"

say "Python: the abi3 wheel and the sdist (maturin)"
# The licences ride inside the package (oatk/THIRD-PARTY-LICENSES.txt, not
# committed); maturin adds bindings-python/LICENSE to the metadata itself.
cp "$STAGE/licences-python.txt" bindings-python/python/oatk/THIRD-PARTY-LICENSES.txt
"$PYTHON" -m maturin build --release --strip --locked --quiet -m bindings-python/Cargo.toml --out "$DIST"
"$PYTHON" -m maturin sdist -m bindings-python/Cargo.toml --out "$DIST"
WHEEL=$(ls "$DIST"/oatk-"$VERSION"-*.whl)
case "$WHEEL" in
	*-cp39-abi3-manylinux*_x86_64.whl) ;;
	*) fail "the wheel is not an abi3 manylinux x86_64 wheel: $(basename "$WHEEL")" ;;
esac
# auditwheel checks the manylinux claim against the symbols the library uses.
"$PYTHON" -m auditwheel show "$WHEEL"

say "npm: oatk and oatk-linux-x64-gnu"
strip --strip-unneeded -o "$STAGE/oatk.linux-x64-gnu.node" "$TARGET/liboatk_node.so"
node scripts/dist/npm-packages.js "$STAGE/npm" "$STAGE/oatk.linux-x64-gnu.node" "$STAGE/licences-node.txt"
(cd "$STAGE/npm/oatk" && npm pack --quiet --pack-destination "$DIST" >/dev/null)
(cd "$STAGE/npm/oatk-linux-x64-gnu" && npm pack --quiet --pack-destination "$DIST" >/dev/null)

say "SHA256SUMS"
(cd "$DIST" && sha256sum -- *.whl *.tar.gz *.tgz > SHA256SUMS && cat SHA256SUMS)

say "sizes"
for f in "$DIST"/*.whl "$DIST"/*.tar.gz "$DIST"/*.tgz; do
	awk -v n="$(basename "$f")" -v b="$(stat -c %s "$f")" 'BEGIN { printf "%-50s %6.2f MB\n", n, b / 1048576 }'
done
for f in "$WHEEL" "$DIST/oatk-linux-x64-gnu-$VERSION.tgz"; do
	[ "$(stat -c %s "$f")" -le "$MAX_BYTES" ] || fail "$(basename "$f") is over 6 MB"
done
echo "dist/ holds oatk $VERSION"
