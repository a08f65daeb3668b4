"""Interop with PyJWT, a library nobody here wrote: both directions, JWKS both ways."""
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

KEYS = {
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "EdDSA": lambda: ed25519.Ed25519PrivateKey.generate(),
}


def write_key(path, key):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


@pytest.mark.parametrize("alg", KEYS)
def test_oatk_tokens_validate_with_pyjwt(run, tmp_path, alg):
    key = KEYS[alg]()
    write_key(tmp_path / "k.pem", key)
    claims = {"sub": "xtof", "exp": int(time.time()) + 60, "groups": ["a", "b"]}
    token = run("with_private", "k.pem", "claims", json.dumps(claims), "token").stdout.strip()
    jwks = json.loads(run("with_private", "k.pem", "jwks").stdout)
    # PyJWT takes our exported JWKS as is.
    keyset = jwt.PyJWKSet.from_dict(jwks)
    kid = jwt.get_unverified_header(token)["kid"]
    assert keyset[kid].key_id == kid
    assert jwt.decode(token, keyset[kid].key, algorithms=[alg]) == claims
    assert jwt.decode(token, key.public_key(), algorithms=[alg]) == claims


@pytest.mark.parametrize("alg", KEYS)
def test_pyjwt_tokens_validate_with_oatk(run, tmp_path, alg):
    key = KEYS[alg]()
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "pub.pem").write_bytes(pub)
    claims = {"username": "xtof", "n": 1}
    token = jwt.encode(claims, key, algorithm=alg)  # no kid: a one-key set accepts it
    (tmp_path / "t.txt").write_text(token)
    result = run("with_public", "pub.pem", "from_file", "t.txt", "validate")
    assert result.returncode == 0, result.stderr
    # A JWKS made by PyJWT loads in oatk.
    jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
    jwk["kid"] = "pyjwt-key"
    (tmp_path / "certs.json").write_text(json.dumps({"keys": [jwk]}))
    token = jwt.encode(claims, key, algorithm=alg, headers={"kid": "pyjwt-key"})
    (tmp_path / "t2.txt").write_text(token)
    result = run("with_jwks", "certs.json", "from_file", "t2.txt", "validate")
    assert result.returncode == 0, result.stderr
    # And a tampered one does not.
    head, body, sig = token.split(".")
    forged_body = jwt.utils.base64url_encode(b'{"username":"root"}').decode()
    (tmp_path / "t3.txt").write_text(f"{head}.{forged_body}.{sig}")
    assert run("with_jwks", "certs.json", "from_file", "t3.txt", "validate").returncode == 1


def test_hs256_with_the_public_key_is_refused(run, tmp_path):
    """Key confusion: an attacker signs HS256 with our public key's PEM as the secret."""
    key = KEYS["RS256"]()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "pub.pem").write_bytes(pem)
    import hmac, hashlib, base64
    b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    signing_input = b(b'{"alg":"HS256","typ":"JWT"}') + "." + b(b'{"admin":true}')
    forged = signing_input + "." + b(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    (tmp_path / "t.txt").write_text(forged)
    result = run("with_public", "pub.pem", "from_file", "t.txt", "validate")
    assert result.returncode == 1
    assert "HS256" in result.stderr
