#!/usr/bin/env bash
# The verified-token cache alone, cold and warm, in Rust, C, Python and Node,
# one run, side by side (issue 14: a warm hit under 1 µs in every language).
# Release builds: the core benchmark binary and liboatk (as bench/ffi.sh),
# the Node addon (as bench/node.sh), and the Python wheel built by maturin
# into this CARGO_TARGET_DIR and installed into the benchmark venv.
# Each language runs its own part of the full benchmarks:
#   Rust    ffi/benches/core_validate.rs [--warm]
#   C       bench/ffi_validate.c (c_validate, c_warm)
#   Python  bench/python-flask.py --only cache
#   Node    bench/node-validate.mjs --only cache
#
#   bash bench/warm.sh                 (make bench-warm)
#   SKIP_BUILD=1 bash bench/warm.sh    the artifacts of the last run, again
#   OUT=dir bash bench/warm.sh         the artifacts (and key, token) kept in dir:
#                                      keep one dir per version to compare them
source "$(dirname "$0")/usage.sh"
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
VENV=${BENCH_VENV:-$PWD/build/bench-venv}
out=$(realpath -m "${OUT:-build/bench/warm}")
release=$CARGO_TARGET_DIR/release
mkdir -p "$out"

if [ -z "${SKIP_BUILD:-}" ]; then
  echo "building release liboatk, the Node addon, the core benchmark and the Python wheel..." >&2
  cargo build --release -p oatk-ffi -p oatk-node --quiet
  log=$(cargo bench -p oatk-ffi --bench core_validate --no-run 2>&1) || { echo "$log" >&2; exit 1; }
  cp "$(sed -n 's/.*Executable .*(\(.*\))$/\1/p' <<<"$log")" "$out/core_validate"
  cp "$release/liboatk_node.so" "$out/oatk.node"
  cp "$release/liboatk.so" "$out/"
  # The Node benchmark's peers, and what the package's JavaScript glue loads (as bench/node.sh).
  [ -f bench/node/node_modules/.package-lock.json ] || (cd bench/node && npm install --no-audit --no-fund --loglevel=warn)
  [ -f bindings-node/browser/oatk.js ] || { mkdir -p bindings-node/browser && cp core/assets/oatk.js bindings-node/browser/; }
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -c 'import maturin, cryptography' 2>/dev/null ||
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.9.4,<2" cryptography
  rm -rf "$out/wheels"
  (cd bindings-python && "$VENV/bin/maturin" build --release --quiet --out "$out/wheels" -i "$VENV/bin/python" >&2)
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$out"/wheels/*.whl
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Iinclude bench/ffi_validate.c -o "$out/ffi_validate" \
  -L"$out" -Wl,-rpath,"$out" -loatk
[ -f "$out/token.txt" ] || "$out/ffi_validate" prepare "$out" RS256
core_bench=$out/core_validate
best() { sort -n | head -1; }
key=$out/private_key.pem token=$out/token.txt

# Rust and C, alternating, best round of each.
rust_cold=() rust_warm=() rust_shared=() c_cold=() c_warm=()
for _ in $(seq "${REPS:-5}"); do
  rust_cold+=($("$core_bench" "$key" "$token" 1000 3 | awk '{print $2}'))
  rust_warm+=($("$core_bench" --warm "$key" "$token" 200000 3 | awk '{print $2}'))
  # validate_shared (a binary from before it existed ignores --shared: validate again)
  rust_shared+=($("$core_bench" --warm --shared "$key" "$token" 200000 3 | awk '{print $2}'))
  run=$("$out/ffi_validate" run "$key" "$token" 1000 3)
  c_cold+=($(awk '/^c_validate_ns/ {print $2}' <<<"$run"))
  c_warm+=($(awk '/^c_warm_ns/ {print $2}' <<<"$run"))
done
py=$("$VENV/bin/python" bench/python-flask.py --only cache)
node=$(NAPI_RS_NATIVE_LIBRARY_PATH=$out/oatk.node node bench/node-validate.mjs --only cache \
  --key "$key" --token "$token")
echo "$py" | grep -v '^$' >&2
echo "$node" | grep -v '^$' >&2
echo
printf '%-8s %12s %12s   (RS256, 2048-bit key; target: warm < 1 µs)\n' "" "cold µs" "warm µs"
ns() { printf '%s\n' "$@" | best | awk '{printf "%.2f", $1 / 1000}'; }
printf '%-8s %12s %12s\n' Rust "$(ns "${rust_cold[@]}")" "$(ns "${rust_warm[@]}")"
printf '%-8s %12s %12s   (validate_shared: the cached claims, not a copy)\n' "" "" "$(ns "${rust_shared[@]}")"
printf '%-8s %12s %12s\n' C "$(ns "${c_cold[@]}")" "$(ns "${c_warm[@]}")"
printf '%-8s %12s %12s\n' Python \
  "$(sed -n 's/.*cold \([0-9.]*\) µs.*/\1/p' <<<"$py")" "$(sed -n 's/.*warm cache.*: \([0-9.]*\) µs.*/\1/p' <<<"$py")"
printf '%-8s %12s %12s\n' Node \
  "$(sed -n 's/.*cold \([0-9.]*\) µs.*/\1/p' <<<"$node")" "$(sed -n 's/^warm cache: \([0-9.]*\) µs.*/\1/p' <<<"$node")"
echo "(Rust, C: best of ${REPS:-5}x3 rounds, wall time; Python, Node: best of 7 rounds of 0.3 s)"
