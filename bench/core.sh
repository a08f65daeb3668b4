#!/usr/bin/env bash
# oatk's RS256 minting and validation beside `openssl speed rsa2048`, in one
# run on the same machine, with the ratio (the machine is shared and noisy:
# compare ratios, not absolute times).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

cargo bench -p oatk-core --bench tokens -- --noplot >/dev/null 2>&1
speed=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $4, $5}')

python3 - "$CARGO_TARGET_DIR/criterion" $speed <<'PY'
import json, sys
root, sign, verify = sys.argv[1], float(sys.argv[2].rstrip("s")), float(sys.argv[3].rstrip("s"))
def mean_us(group, alg):
    with open(f"{root}/{group}/{alg}/new/estimates.json") as f:
        return json.load(f)["mean"]["point_estimate"] / 1000
print(f"{'alg':<8}{'mint µs':>10}{'validate µs':>14}{'signature check alone µs':>27}")
for alg in ("RS256", "PS256", "ES256", "ES384", "EdDSA"):
    print(f"{alg:<8}{mean_us('mint', alg):>10.1f}{mean_us('validate', alg):>14.1f}{mean_us('verify_only', alg):>27.1f}")
mint, validate = mean_us("mint", "RS256"), mean_us("validate", "RS256")
print()
print(f"{'RS256':<10}{'oatk µs':>10}{'openssl µs':>12}{'rate ratio':>12}  target")
print(f"{'mint':<10}{mint:>10.1f}{sign * 1e6:>12.1f}{sign * 1e6 / mint:>11.2f}x  >= 0.90x")
print(f"{'validate':<10}{validate:>10.1f}{verify * 1e6:>12.1f}{verify * 1e6 / validate:>11.2f}x  >= 0.80x")
PY
