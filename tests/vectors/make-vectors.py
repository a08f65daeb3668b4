"""Regenerate tokens.json: shared validation vectors that every binding's
runner checks (Rust, Python, Node, C/Go). Tokens are minted by PyJWT, a
library nobody here wrote, with the fixed keys in core/tests/fixtures.

    .venv/bin/python tests/vectors/make-vectors.py
"""
import base64
import json
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization

HERE = Path(__file__).parent
FIXTURES = HERE.parent.parent / "core" / "tests" / "fixtures"
NOW = 1_800_000_000


def load(name):
    return serialization.load_pem_private_key((FIXTURES / name).read_bytes(), password=None)


KEYS = {"rsa": (load("rsa_pkcs8.pem"), "RS256"), "p256": (load("p256_pkcs8.pem"), "ES256"),
        "ed": (load("ed25519_pkcs8.pem"), "EdDSA")}


def jwk(kid):
    key, alg = KEYS[kid]
    out = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
    return {**out, "kid": kid, "alg": alg, "use": "sig"}


def b64(data):
    return base64.urlsafe_b64encode(data if isinstance(data, bytes) else json.dumps(data).encode()).rstrip(b"=").decode()


def mint(kid, claims, alg=None, **headers):
    key, default = KEYS[kid]
    return jwt.encode(claims, key, algorithm=alg or default, headers={"kid": kid, **headers})


def forged(header, claims, signature=b"x"):
    return f"{b64(header)}.{b64(claims)}.{b64(signature)}"


base = {"sub": "xtof", "username": "xtof", "iat": NOW - 10}
good = mint("rsa", base)
head, body, sig = good.split(".")
vectors = [
    ("rs256 valid", mint("rsa", base), {}, {"ok": base}),
    ("es256 valid", mint("p256", base), {}, {"ok": base}),
    ("eddsa valid", mint("ed", base), {}, {"ok": base}),
    ("exp in the future", mint("rsa", {**base, "exp": NOW + 60}), {}, {"ok": {**base, "exp": NOW + 60}}),
    ("expired", mint("rsa", {**base, "exp": NOW - 1}), {}, {"code": "EXPIRED"}),
    ("expired exactly now", mint("p256", {**base, "exp": NOW}), {}, {"code": "EXPIRED"}),
    ("not yet valid", mint("ed", {**base, "nbf": NOW + 60}), {}, {"code": "NOT_YET_VALID"}),
    ("exp not a number", mint("rsa", {**base, "exp": "soon"}), {}, {"code": "MALFORMED"}),
    ("tampered payload", f"{head}.{b64({**base, 'username': 'root'})}.{sig}", {}, {"code": "SIGNATURE"}),
    ("signature of another key", mint("rsa", base).rsplit(".", 1)[0] + "." + mint("p256", base).rsplit(".", 1)[1], {},
     {"code": "SIGNATURE"}),
    ("alg none", forged({"alg": "none", "kid": "rsa"}, base, b""), {}, {"code": "UNSUPPORTED_ALGORITHM"}),
    ("alg NoNe", forged({"alg": "NoNe", "kid": "rsa"}, base, b""), {}, {"code": "UNSUPPORTED_ALGORITHM"}),
    ("hs256 against an rsa key", forged({"alg": "HS256", "kid": "rsa"}, base), {}, {"code": "UNSUPPORTED_ALGORITHM"}),
    ("ps256 against an rs256 key", mint("rsa", base, alg="PS256"), {}, {"code": "UNSUPPORTED_ALGORITHM"}),
    ("unknown kid", forged({"alg": "RS256", "kid": "nobody"}, base), {}, {"code": "UNKNOWN_KEY"}),
    ("no kid with several keys", forged({"alg": "RS256"}, base), {}, {"code": "UNKNOWN_KEY"}),
    ("crit header", mint("rsa", base, crit=["exp"]), {}, {"code": "MALFORMED"}),
    ("two parts", f"{head}.{body}", {}, {"code": "MALFORMED"}),
    ("bad base64", f"{head}.{body}!.{sig}", {}, {"code": "MALFORMED"}),
    ("payload not an object", jwt.api_jws.PyJWS().encode(b"[1, 2]", KEYS["rsa"][0], algorithm="RS256",
                                                            headers={"kid": "rsa"}), {}, {"code": "MALFORMED"}),
    ("audience matches", mint("rsa", {**base, "aud": ["x", "test"]}), {"client_id": "test"},
     {"ok": {**base, "aud": ["x", "test"]}}),
    ("audience differs", mint("rsa", {**base, "aud": "other"}), {"client_id": "test"}, {"code": "AUDIENCE"}),
    ("audience missing", mint("rsa", base), {"client_id": "test"}, {"code": "AUDIENCE"}),
    ("issuer matches", mint("ed", {**base, "iss": "http://localhost:5000"}), {"issuer": "http://localhost:5000"},
     {"ok": {**base, "iss": "http://localhost:5000"}}),
    ("issuer differs by a slash", mint("ed", {**base, "iss": "http://localhost:5000/"}),
     {"issuer": "http://localhost:5000"}, {"code": "ISSUER"}),
]
out = {
    "about": "Shared validation vectors: validate `token` against `jwks` at time `now`, with optional client_id "
             "(audience) and issuer; expect the claims (`ok`) or the error code. Made by make-vectors.py.",
    "now": NOW,
    "jwks": {"keys": [jwk("rsa"), jwk("p256"), jwk("ed")]},
    "vectors": [{"name": n, "token": t, **opts, "expect": e} for n, t, opts, e in vectors],
}
(HERE / "tokens.json").write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {len(vectors)} vectors")
