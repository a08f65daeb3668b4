#!/usr/bin/env bash
# oatk's RS256 minting and validation beside `openssl speed rsa2048`, in one
# run on the same machine, with the ratio. Both sides count CPU time (openssl
# speed divides by user CPU time by default; the criterion bench measures the
# thread's CPU time), so other processes' time slices change neither; compare
# ratios, not absolute times.
#
# Then, when valgrind is installed, where the instructions of one RS256
# validation go (callgrind, deterministic): the RSA signature check vs the
# splitting, base64, JSON and claims checks around it.
#
#   bash bench/core.sh            (make bench-core)
#   RESULTS=dir bash bench/core.sh   also writes dir/core.json for bench/summary.py
source "$(dirname "$0")/usage.sh"
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
RESULTS=${RESULTS:-$PWD/build/bench/results}
rm -rf build/bench/core && mkdir -p "$RESULTS" build/bench/core

ROUNDS=${ROUNDS:-5}
bench() { cargo bench -p oatk-core --bench tokens -- --noplot "$@" >>build/bench/core/criterion.log 2>&1 ||
  { cat build/bench/core/criterion.log >&2; exit 1; }; }
: >build/bench/core/criterion.log
bench # every algorithm, once: the table
# Then RS256 validation and openssl's verify, alternating, ROUNDS times; the
# best of each counts (a quiet moment for one side is not a noisy one for the other).
cp -r "$CARGO_TARGET_DIR/criterion" build/bench/core/criterion-all
for _ in $(seq "$ROUNDS"); do
  openssl speed -seconds 1 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $4, $5}' >>build/bench/core/openssl.txt
  bench --warm-up-time 1 --measurement-time 2 '^(validate|verify_only|mint)/RS256$'
  for g in validate verify_only mint; do
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"]["point_estimate"])' \
      "$CARGO_TARGET_DIR/criterion/$g/RS256/new/estimates.json" >>"build/bench/core/$g.txt"
  done
done
speed=$(sort -k2 build/bench/core/openssl.txt | head -1 | awk '{print $2}')
sign=$(sort -k1 build/bench/core/openssl.txt | head -1 | awk '{print $1}')

# Instructions per validation, by callgrind: the RSA check vs the rest.
callgrind=""
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
  log=$(cargo bench -p oatk-ffi --bench core_validate --no-run 2>&1) || { echo "$log" >&2; exit 1; }
  core_bench=$(sed -n 's/.*Executable .*(\(.*\))$/\1/p' <<<"$log")
  cargo build --release -p oatk-ffi --quiet &&
    cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude bench/ffi_validate.c -o build/bench/core/ffi_validate \
    -L"$CARGO_TARGET_DIR/release" -Wl,-rpath,"$CARGO_TARGET_DIR/release" -loatk 2>/dev/null &&
    build/bench/core/ffi_validate prepare build/bench/core RS256 &&
    valgrind --tool=callgrind --callgrind-out-file=build/bench/core/callgrind.out \
      "$core_bench" build/bench/core/private_key.pem build/bench/core/token.txt 1000 1 >/dev/null 2>&1 &&
    callgrind=build/bench/core/callgrind.out
fi

python3 - build/bench/core "$RESULTS/core.json" "$callgrind" "$sign" "$speed" "$ROUNDS" <<'PY'
import json, re, subprocess, sys
work, out, callgrind = sys.argv[1], sys.argv[2], sys.argv[3]
sign, verify, rounds = float(sys.argv[4].rstrip("s")), float(sys.argv[5].rstrip("s")), int(sys.argv[6])
def mean_us(group, alg):
    if alg == "RS256" and group in ("validate", "verify_only", "mint"):
        with open(f"{work}/{group}.txt") as f:
            return min(float(x) for x in f) / 1000
    with open(f"{work}/criterion-all/{group}/{alg}/new/estimates.json") as f:
        return json.load(f)["mean"]["point_estimate"] / 1000
print(f"CPU µs per call (criterion, thread CPU time; RS256: best of {rounds} rounds alternating with openssl speed)")
print(f"{'alg':<8}{'mint':>10}{'validate':>12}{'signature check alone':>24}")
for alg in ("RS256", "PS256", "ES256", "ES384", "EdDSA"):
    print(f"{alg:<8}{mean_us('mint', alg):>10.1f}{mean_us('validate', alg):>12.1f}{mean_us('verify_only', alg):>24.1f}")
mint, validate = mean_us("mint", "RS256"), mean_us("validate", "RS256")
alone, warm = mean_us("verify_only", "RS256"), mean_us("validate_warm", "RS256")
print()
print(f"{'RS256':<24}{'oatk µs':>10}{'openssl µs':>12}{'rate ratio':>12}  target")
print(f"{'mint':<24}{mint:>10.1f}{sign * 1e6:>12.1f}{sign * 1e6 / mint:>11.2f}x  >= 0.90x")
print(f"{'validate':<24}{validate:>10.1f}{verify * 1e6:>12.1f}{verify * 1e6 / validate:>11.2f}x  >= 0.95x")
print(f"{'signature check alone':<24}{alone:>10.1f}{verify * 1e6:>12.1f}{verify * 1e6 / alone:>11.2f}x")
print(f"{'validate, warm cache':<24}{warm:>10.2f}{'':>12}{'':>12}  < 1 µs (cold {validate:.1f})")
results = [
    {"id": "core.validate", "what": "Core RS256 validate, rate ÷ openssl speed verify (CPU time)",
     "value": verify * 1e6 / validate, "unit": "x", "target": ">= 0.95", "met": verify * 1e6 / validate >= 0.95,
     "detail": f"{validate:.1f} µs vs {verify * 1e6:.1f} µs; signature check alone {alone:.1f} µs"},
    {"id": "core.mint", "what": "Core RS256 mint, rate ÷ openssl speed sign (CPU time)",
     "value": sign * 1e6 / mint, "unit": "x", "target": ">= 0.90", "met": sign * 1e6 / mint >= 0.90,
     "detail": f"{mint:.1f} µs vs {sign * 1e6:.1f} µs"},
    {"id": "core.warm", "what": "Rust validate, warm cache (repeated token, exp checked)",
     "value": warm, "unit": "µs", "target": "< 1", "met": warm < 1, "detail": f"cold {validate:.1f} µs"},
]
if callgrind:
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", callgrind], capture_output=True, text=True).stdout
    def inclusive(pattern):
        for line in text.splitlines():
            if re.search(rf"[ :]{pattern} \[", line):
                return int(line.split()[0].replace(",", ""))
        return 0
    calls = 1001  # one untimed call, then 1000
    total, rsa = inclusive("oatk::toolkit::Toolkit::validate") / calls, inclusive(r"aws_lc_[0-9_]+_RSA_verify") / calls
    sig = inclusive("oatk::validate::verify_signature") / calls
    print()
    print(f"instructions per RS256 validation (callgrind): {total:,.0f}; RSA_verify {rsa:,.0f}; "
          f"the rest of the signature check (SHA-256, EVP) {sig - rsa:,.0f}; "
          f"split, base64, JSON, claims {total - sig:,.0f} ({(total - sig) / total:.1%})")
    results.append({"id": "core.overhead_instructions", "what": "Core: instructions around the signature check per validation (callgrind)",
                    "value": total - sig, "unit": "instr", "target": "info", "met": None,
                    "detail": f"{total:,.0f} in all, RSA_verify {rsa:,.0f}"})
with open(out, "w") as f:
    json.dump({"bench": "core", "results": results}, f, indent=2)
PY
