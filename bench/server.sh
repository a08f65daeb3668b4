#!/usr/bin/env bash
# Load on the fake server with wrk, side by side with the npm package
# oauth2-mock-server, in one run: requests/s for the JWKS, discovery and
# client_credentials token issuance, and the ratio. Loopback only, bounded
# in time. Both servers run one after the other on the same machine.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/../target}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}

command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y wrk >/dev/null); }
[ -d node_modules/oauth2-mock-server ] || npm install --no-audit --no-fund --silent
cargo build --release -p oatk-core --quiet
OATK="$CARGO_TARGET_DIR/release/oatk"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

rate() { # URL [lua script] -> requests/s
  local out
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" ${2:+-s "$2"} "$1")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $1:" >&2; echo "$out" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}

wait_for() { for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# oatk
"$OATK" server run --port 0 --memory --quiet --config server-bench.toml >oatk.url &
pids+=($!)
for _ in $(seq 100); do OATK_URL=$(head -1 oatk.url) && [ -n "$OATK_URL" ] && break; sleep 0.1; done
rm -f oatk.url
wait_for "$OATK_URL/oauth/certs"
oatk_jwks=$(rate "$OATK_URL/oauth/certs")
oatk_disc=$(rate "$OATK_URL/.well-known/openid-configuration")
oatk_token=$(rate "$OATK_URL/oauth/token" token.lua)
kill "${pids[0]}"; pids=()

# oauth2-mock-server (accepts any client for client_credentials)
node node_modules/oauth2-mock-server/dist/oauth2-mock-server.mjs -a 127.0.0.1 -p 0 >mock.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do MOCK_PORT=$(grep -oE '127\.0\.0\.1:[0-9]+' mock.log | head -1 | cut -d: -f2) && [ -n "$MOCK_PORT" ] && break; sleep 0.1; done
MOCK="http://127.0.0.1:$MOCK_PORT"
wait_for "$MOCK/jwks"
mock_jwks=$(rate "$MOCK/jwks")
mock_disc=$(rate "$MOCK/.well-known/openid-configuration")
mock_token=$(rate "$MOCK/token" token.lua)
rm -f mock.log

printf '\nwrk -t1 -c%s -d%s, requests/s (higher is better)\n' "$CONNECTIONS" "$DURATION"
printf '%-28s %12s %20s %8s  %s\n' endpoint oatk oauth2-mock-server ratio target
row() { awk -v n="$1" -v a="$2" -v b="$3" -v t="$4" 'BEGIN { printf "%-28s %12.0f %20.0f %7.1fx  %s\n", n, a, b, a / b, t }'; }
row "JWKS" "$oatk_jwks" "$mock_jwks" ">= 10x"
row "discovery" "$oatk_disc" "$mock_disc" ">= 10x"
row "client_credentials token" "$oatk_token" "$mock_token" ">= 2x"
