#!/usr/bin/env bash
# The seed's CLI session, then the seed's three servers: the fake OAuth server
# (5000), the demo web app (5001) and the protected API (5002). Each command is
# shown before it runs; Ctrl-C stops all three.
set -euo pipefail
OATK=${OATK:-oatk}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
cd "$ROOT"
mkdir -p build/demo && cd build/demo
show() { printf '\n\033[1m%% %s\033[0m\n' "$*"; }
run() { show "$*"; eval "$@"; }

if [ ! -f private_key.pem ]; then
  run "$OATK keys generate"
fi
run "$OATK with_public public_key.pem jwks | tee certs.json"
run "$OATK with_private private_key.pem with_jwks certs.json claims '{ \"hello\" : \"world\" }' token | tee token.txt"
run "$OATK with_jwks certs.json from_file token.txt validate && echo '(valid: no output means good output)'"
run "$OATK from_file token.txt decode"

# The three servers, as the seed's `make server`, `make app` and `make api`.
for tool in "$VENV/bin/gunicorn" "$VENV/bin/python"; do
  if [ ! -x "$tool" ]; then
    echo "demo: $tool is missing; run 'make demo' (it installs the Python package and gunicorn)" >&2
    exit 1
  fi
done
busy=""
for port in 5000 5001 5002; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then busy="$busy $port"; fi
done
if [ -n "$busy" ]; then
  echo "demo: port(s)$busy already in use; stop whatever listens there and try again" >&2
  exit 1
fi

# gunicorn 23+ opens a control socket at one fixed path: two of them would collide.
gunicorn_opts=()
if "$VENV/bin/gunicorn" --help 2>/dev/null | grep -q -- --no-control-socket; then
  gunicorn_opts+=(--no-control-socket)
fi

pids=()
stop_all() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  echo
  echo "demo: stopped the fake server, the app and the API"
}
trap stop_all INT TERM EXIT

show "$OATK with_private private_key.pem with_jwks certs.json server run --config ../../examples/oatk.toml --data .oatk"
$OATK with_private private_key.pem with_jwks certs.json server run --config ../../examples/oatk.toml --data .oatk &
pids+=($!)

show "gunicorn -b localhost:5001 examples.client.app:server"
"$VENV/bin/gunicorn" -b localhost:5001 "${gunicorn_opts[@]}" --chdir "$ROOT" --log-level warning examples.client.app:server &
pids+=($!)

# The API runs here, in build/demo: examples/web.py reads private_key.pem and certs.json from
# the working directory, so it trusts exactly the key the fake server signs with.
show "gunicorn -b localhost:5002 examples.web:app"
"$VENV/bin/gunicorn" -b localhost:5002 "${gunicorn_opts[@]}" --pythonpath "$ROOT" --log-level warning examples.web:app &
pids+=($!)

for port in 5000 5001 5002; do
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
done

cat <<'EOF'

  The fake OAuth server  http://localhost:5000
  The demo app           http://localhost:5001   <- open this, sign in as xtof, allow
  The protected API      http://localhost:5002/api/hello

  The app sends you to the fake server to sign in, gets a token with PKCE and
  shows what the API answers: {"hello":"world"} for xtof, a 403 for anyone else.
  Ctrl-C stops all three.
EOF

# Until Ctrl-C, or until one of the three exits (then stop the others).
wait -n "${pids[@]}" || true
