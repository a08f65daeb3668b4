#!/usr/bin/env bash
# Rewrites the generated seeds of corpus/{token,jwks,pem,config} from the key
# fixtures (core/tests/fixtures) and the example config, with the oatk CLI:
#   OATK=target/debug/oatk core/fuzz/make-seeds.sh
# The router seeds (corpus/router/*.http) are written by hand.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../tests/fixtures
corpus=$here/corpus
oatk=${OATK:-oatk}
mkdir -p "$corpus"/{token,jwks,pem,config}

# Tokens, one per fixture key: valid at oatk_fuzz::NOW (1.8e9), and one expired.
claims='{"sub":"xtof","iss":"https://issuer.example","aud":"api","iat":1799999000,"nbf":1799999000,"exp":1900000000}'
for key in rsa_pkcs8 p256_pkcs8 p384_sec1 ed25519_pkcs8; do
  "$oatk" with_private "$fixtures/$key.pem" claims "$claims" token > "$corpus/token/$key.jwt"
done
"$oatk" with_private "$fixtures/rsa_pkcs8.pem" with_algorithm PS256 claims "$claims" token > "$corpus/token/rsa_ps256.jwt"
"$oatk" with_private "$fixtures/rsa_pkcs8.pem" \
  claims '{"sub":"xtof","aud":["api","other"],"exp":1700000000,"nbf":"soon"}' token > "$corpus/token/expired.jwt"
printf 'Bearer %s\n' "$(cat "$corpus/token/p256_pkcs8.jwt")" > "$corpus/token/bearer_prefix.txt"
# alg none, and an unknown critical header (RFC 7515 4.1.11), unsigned.
printf '%s' 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4dG9mIn0.' > "$corpus/token/alg_none.jwt"
printf '%s' 'eyJhbGciOiJSUzI1NiIsImNyaXQiOlsiZXhwIl0sImV4cCI6MX0.eyJleHAiOjEuNWUxMH0.AAAA' > "$corpus/token/crit.jwt"

# Key sets: all four fixture keys, one bare JWK, and keys oatk skips or refuses.
jwk() { "$oatk" with_public "$fixtures/$1" jwks | tr -d ' \n' | sed 's/^{"keys":\[\(.*\)\]}$/\1/'; }
printf '{"keys":[%s,%s,%s,%s]}\n' "$(jwk rsa_spki.pub.pem)" "$(jwk p256.pub.pem)" "$(jwk p384.pub.pem)" \
  "$(jwk ed25519.pub.pem)" > "$corpus/jwks/fixtures.json"
jwk ed25519.pub.pem > "$corpus/jwks/single.json"
cat > "$corpus/jwks/skipped.json" <<'JSON'
{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"EC","crv":"P-521","x":"AA","y":"AA"},
{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","key_ops":["sign"]},
{"kty":"EC","crv":"P-256","alg":"ES384","x":"AA","y":"AA"}]}
JSON
printf '%s' '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}' > "$corpus/jwks/small_order.json"

# PEM: every fixture, the unusable ones included. (The crash-* files there
# are findings, kept as regression inputs: see core/fuzz/README.md.)
for pem in "$fixtures"/*.pem; do cp "$pem" "$corpus/pem/"; done

# Config: the example, and the router target's.
cp "$here/../../examples/oatk.toml" "$corpus/config/example.toml"
cp "$here/router.toml" "$corpus/config/router.toml"
