#!/usr/bin/env bash
# The Node benchmarks (make bench-node), release build, side by side in one run:
#   bench/node-validate.mjs  validate() vs jose, jsonwebtoken, fast-jwt and C's
#                            oatk_validate; validateAsync scaling; warm cache
#   bench/node-express.mjs   a protected Express route under wrk: oatk vs
#                            express-oauth2-jwt-bearer, express-jwt, unprotected
# The release addon is built into build/bench/node and loaded from there
# (NAPI_RS_NATIVE_LIBRARY_PATH), so the debug addon the tests use in
# bindings-node/ is left alone. Peers come from bench/node/package.json.
#
#   bash bench/node.sh
#   RESULTS=dir bash bench/node.sh      results as JSON for bench/summary.py
source "$(dirname "$0")/usage.sh"
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
RESULTS=${RESULTS:-$PWD/build/bench/results}
out=$PWD/build/bench/node
mkdir -p "$out" "$RESULTS"

command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y wrk >/dev/null); }
[ -f bench/node/node_modules/.package-lock.json ] || (cd bench/node && npm install --no-audit --no-fund --loglevel=warn)
# The JavaScript glue (index.js, express.js, binding.js) needs the browser
# script copy and the generated loader the package build writes.
[ -f bindings-node/browser/oatk.js ] || { mkdir -p bindings-node/browser && cp core/assets/oatk.js bindings-node/browser/; }

echo "building the release addon and liboatk..." >&2
cargo build --release -p oatk-node -p oatk-ffi --quiet
cp "$CARGO_TARGET_DIR/release/liboatk_node.so" "$out/oatk.node"
export NAPI_RS_NATIVE_LIBRARY_PATH=$out/oatk.node

# The C side: the same key and token for oatk_validate and the Node calls.
release=$CARGO_TARGET_DIR/release
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Iinclude bench/ffi_validate.c -o "$out/ffi_validate" \
  -L"$release" -Wl,-rpath,"$release" -loatk
"$out/ffi_validate" prepare "$out" RS256

node bench/node-validate.mjs --key "$out/private_key.pem" --token "$out/token.txt" \
  --c-bench "$out/ffi_validate" --json "$RESULTS/node.json" "$@"
echo
node bench/node-express.mjs --json "$RESULTS/express.json"
