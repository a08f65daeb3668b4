#!/usr/bin/env bash
# The seed's CLI session, then the fake server. Each command is shown before it runs.
set -euo pipefail
OATK=${OATK:-oatk}
cd "$(dirname "$0")/.."
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

show "$OATK with_private private_key.pem with_jwks certs.json server run --config ../../examples/oatk.toml --data .oatk"
exec $OATK with_private private_key.pem with_jwks certs.json server run --config ../../examples/oatk.toml --data .oatk
