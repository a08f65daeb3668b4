#!/usr/bin/env bash
# oatk_validate through the C ABI (liboatk.so, release) side by side with the
# Rust core's Toolkit::validate (release), on the same key and token, in one
# run. Prints ns per call for each and the ratio; the target is a boundary
# overhead under 5%.
#
#   bash bench/ffi.sh            (make bench-ffi)
#   ITERATIONS=2000 ROUNDS=3 REPS=20 ALGS="RS256 ES256" bash bench/ffi.sh
# Also: oatk_validate with the verified-token cache (oatk_with_cache), the same
# token again, cold vs warm; RESULTS=dir writes dir/ffi.json for bench/summary.py.
# Each side runs REPS times, alternating, ROUNDS rounds of ITERATIONS calls each;
# the best round counts, so load from other processes skews neither side.
source "$(dirname "$0")/usage.sh"
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
CARGO=${CARGO:-cargo}
ITERATIONS=${ITERATIONS:-2000}
ROUNDS=${ROUNDS:-3}
REPS=${REPS:-20}
ALGS=${ALGS:-RS256 ES256}
out=$PWD/build/ffi/bench
mkdir -p "$out"

echo "building release liboatk and the core benchmark..." >&2
$CARGO build --release -p oatk-ffi --quiet
log=$($CARGO bench -p oatk-ffi --bench core_validate --no-run 2>&1) || { echo "$log" >&2; exit 1; }
core_bench=$(sed -n 's/.*Executable .*(\(.*\))$/\1/p' <<<"$log")
[ -x "$core_bench" ] || { echo "cannot find the core_validate benchmark binary" >&2; exit 1; }
release=$CARGO_TARGET_DIR/release
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Iinclude bench/ffi_validate.c -o "$out/ffi_validate" \
  -L"$release" -Wl,-rpath,"$release" -loatk

RESULTS=${RESULTS:-$PWD/build/bench/results}
mkdir -p "$RESULTS"
best() { sort -n | head -1; }
json_rows=()
printf '%-6s %14s %14s %18s %10s %16s\n' alg "core ns/call" "C ns/call" "C+claims ns/call" "C / core" "C+claims / core"
for alg in $ALGS; do
  "$out/ffi_validate" prepare "$out" "$alg"
  core=() c=() cc=() warm=() warmc=() ccpu=() warmcpu=()
  # Alternate the two sides so drift (frequency, other load) hits both alike.
  for _ in $(seq "$REPS"); do
    core+=($("$core_bench" "$out/private_key.pem" "$out/token.txt" "$ITERATIONS" "$ROUNDS" | awk '{print $2}'))
    run=$("$out/ffi_validate" run "$out/private_key.pem" "$out/token.txt" "$ITERATIONS" "$ROUNDS")
    c+=($(awk '/^c_validate_ns/ {print $2}' <<<"$run"))
    cc+=($(awk '/^c_validate_claims_ns/ {print $2}' <<<"$run"))
    ccpu+=($(awk '/^c_validate_cpu_ns/ {print $2}' <<<"$run"))
    warm+=($(awk '/^c_warm_ns/ {print $2}' <<<"$run"))
    warmcpu+=($(awk '/^c_warm_cpu_ns/ {print $2}' <<<"$run"))
    warmc+=($(awk '/^c_warm_claims_ns/ {print $2}' <<<"$run"))
  done
  core_best=$(printf '%s\n' "${core[@]}" | best)
  c_best=$(printf '%s\n' "${c[@]}" | best)
  cc_best=$(printf '%s\n' "${cc[@]}" | best)
  ratio=$(awk -v a="$c_best" -v b="$core_best" 'BEGIN { printf "%.3f", a / b }')
  ratio_claims=$(awk -v a="$cc_best" -v b="$core_best" 'BEGIN { printf "%.3f", a / b }')
  printf '%-6s %14s %14s %18s %10s %16s\n' "$alg" "$core_best" "$c_best" "$cc_best" "$ratio" "$ratio_claims"
  awk -v r="$ratio" -v alg="$alg" 'BEGIN { o = (r - 1) * 100;
    printf "       %s: the C boundary adds %.1f%% per validation (target < 5%%)%s\n", alg, o, (o < 5 ? "" : "  <-- OVER TARGET") }'
  warm_best=$(printf '%s\n' "${warm[@]}" | best)
  warmc_best=$(printf '%s\n' "${warmc[@]}" | best)
  warmcpu_best=$(printf '%s\n' "${warmcpu[@]}" | best)
  ccpu_best=$(printf '%s\n' "${ccpu[@]}" | best)
  printf '       %s: warm cache (oatk_with_cache, same token): %s ns/call (CPU %s), with claims out %s ns; cold %s ns (CPU %s)\n' \
    "$alg" "$warm_best" "$warmcpu_best" "$warmc_best" "$c_best" "$ccpu_best"
  if [ "$alg" = RS256 ]; then
    json_rows+=("$(python3 -c 'import json,sys; a,b,w,wc,cold=map(float,sys.argv[1:6]); print(json.dumps([
      {"id": "ffi.boundary", "what": "C oatk_validate ÷ Rust core, RS256 (boundary overhead)", "value": a / b, "unit": "x",
       "target": "< 1.05", "met": a / b < 1.05, "detail": f"{a:.0f} vs {b:.0f} ns"},
      {"id": "ffi.warm", "what": "C oatk_validate, warm cache (repeated token, exp checked)", "value": w / 1000, "unit": "µs",
       "target": "< 1", "met": w < 1000, "detail": f"claims out {wc / 1000:.2f} µs; cold {cold / 1000:.1f} µs"}]))' \
      "$c_best" "$core_best" "$warm_best" "$warmc_best" "$c_best")")
  fi
done
python3 -c 'import json,sys; rows=[r for a in sys.argv[2:] for r in json.loads(a)]; json.dump({"bench": "ffi", "results": rows}, open(sys.argv[1], "w"), indent=2)' \
  "$RESULTS/ffi.json" "${json_rows[@]}"
echo "(best of $((ROUNDS * REPS)) rounds of $ITERATIONS calls each, sides alternating; claims NULL unless noted)"
