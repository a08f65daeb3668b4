"""Interop with real peers: the original `oatk` from PyPI (in its own venv, run
as a subprocess since it is also called `oatk`), PyJWT and Authlib's joserfc."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from joserfc import jwt as jose_jwt  # Authlib's JOSE implementation (authlib.jose's successor)
from joserfc.jwk import KeySet

import oatk
from oatk import OAuthToolkit, fake

from conftest import REPO

ORIGINAL_PYTHON = Path(os.environ.get("ORIGINAL_PYTHON", REPO / "build/original-venv/bin/python"))

ORIGINAL_VALIDATE = """
import json, sys
from oatk import OAuthToolkit, __version__
source, token, mode = sys.argv[1:4]
t = OAuthToolkit()
if mode == "path":
    t.with_jwks(source)
elif mode == "text":
    t.with_jwks(open(source).read())
elif mode == "bytes":
    t.with_jwks(open(source, "rb").read())
else:
    t.with_jwks(json.load(open(source)))
print(json.dumps({"version": __version__, "claims": t.validate(token)}))
"""

ORIGINAL_MINT = """
import json, sys
from oatk import OAuthToolkit
t = OAuthToolkit().with_private("private_key.pem").with_public("public_key.pem")
t.claims(json.loads(sys.argv[1]))
print(json.dumps({"token": t.token, "jwks": t.jwks}))
"""

ORIGINAL_PROVIDER = """
import json, sys
from oatk import OAuthToolkit
t = OAuthToolkit().with_client_id("test").using_provider(sys.argv[1])
print(json.dumps(t.validate(sys.argv[2])))
"""


def original(script: str, *args: str, cwd: Path, check: bool = True) -> Any:
    if not ORIGINAL_PYTHON.exists():
        pytest.fail(f"the original oatk is not installed at {ORIGINAL_PYTHON} (make test-python installs it)")
    r = subprocess.run([str(ORIGINAL_PYTHON), "-c", script, *args], cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    if not check:
        return r
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


@pytest.mark.parametrize("mode", ["path", "text", "bytes", "dict"])
def test_the_original_validates_our_tokens_with_our_jwks(workdir: Path, mode: str) -> None:
    ours = OAuthToolkit().with_private(workdir / "private_key.pem")
    (workdir / "ours.json").write_text(ours.jwks)
    claims = {"username": "xtof", "groups": ["a", "b"], "exp": int(time.time()) + 60, "n": 1.5}
    token = ours.claims(claims).token
    result = original(ORIGINAL_VALIDATE, "ours.json", token, mode, cwd=workdir)
    assert result["version"].startswith("0.")  # really the original
    assert result["claims"] == claims


def test_the_original_refuses_our_forgeries(workdir: Path, other_keys: Path) -> None:
    ours = OAuthToolkit().with_private(workdir / "private_key.pem")
    (workdir / "ours.json").write_text(ours.jwks)
    forged = OAuthToolkit().with_private(other_keys / "private_key.pem").with_jwks(ours.jwks).claims(a=1).token
    r = original(ORIGINAL_VALIDATE, "ours.json", forged, "path", cwd=workdir, check=False)
    assert r.returncode != 0 and "InvalidSignatureError" in r.stderr


def test_we_validate_the_originals_tokens_with_its_jwks(workdir: Path) -> None:
    claims = {"hello": "world", "scope": "openid profile"}
    result = original(ORIGINAL_MINT, json.dumps(claims), cwd=workdir)
    their_token, their_jwks = result["token"], result["jwks"]
    assert OAuthToolkit().with_jwks(their_jwks).validate(their_token) == claims
    assert OAuthToolkit().with_jwks(json.loads(their_jwks)).validate(their_token) == claims
    # their kid is a random UUID; we mint with it once we load their set, and they accept that
    ours = OAuthToolkit().with_private(workdir / "private_key.pem").with_jwks(their_jwks)
    assert ours.header(ours.claims(a=1).token)["kid"] == json.loads(their_jwks)["keys"][0]["kid"]
    (workdir / "theirs.json").write_text(their_jwks)
    assert original(ORIGINAL_VALIDATE, "theirs.json", ours.claims(a=1).token, "path", cwd=workdir)["claims"] == {"a": 1}
    # and a tampered token of theirs is refused here
    head, _, sig = their_token.split(".")
    payload = base64.urlsafe_b64encode(b'{"hello":"you"}').rstrip(b"=").decode()
    with pytest.raises(oatk.InvalidSignatureError):
        OAuthToolkit().with_jwks(their_jwks).validate(f"{head}.{payload}.{sig}")


def test_the_original_validates_our_fake_servers_tokens_via_discovery(tmp_path: Path) -> None:
    with fake.running() as server:
        token = server.access_token("xtof", {"name": "Christophe VG"})
        claims = original(ORIGINAL_PROVIDER, server.well_known, token, cwd=tmp_path)
        assert claims["username"] == "xtof" and claims["name"] == "Christophe VG" and claims["aud"] == "test"


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_pyjwt_validates_ours(alg: str, pkcs8_keys: Path, ec_key: Path, ed25519_key: Path) -> None:
    key = {"ES256": ec_key, "EdDSA": ed25519_key}.get(alg, pkcs8_keys / "private_key.pem")
    ours = OAuthToolkit().with_private(key)
    if alg == "PS256":
        ours.with_algorithm("PS256")
    token = ours.claims(sub="xtof", aud="api").token
    jwk_set = jwt.PyJWKSet.from_json(ours.jwks)
    kid = jwt.get_unverified_header(token)["kid"]
    signing_key = next(k for k in jwk_set.keys if k.key_id == kid)
    assert jwt.decode(token, signing_key, algorithms=[alg], audience="api") == {"sub": "xtof", "aud": "api"}


def test_we_validate_pyjwt(pkcs8_keys: Path) -> None:
    ours = OAuthToolkit().with_public(pkcs8_keys / "public_key.pem")
    kid = json.loads(ours.jwks)["keys"][0]["kid"]
    private = (pkcs8_keys / "private_key.pem").read_bytes()
    token = jwt.encode({"sub": "xtof", "exp": int(time.time()) + 60}, private, algorithm="RS256", headers={"kid": kid})
    assert ours.validate(token)["sub"] == "xtof"
    expired = jwt.encode({"exp": int(time.time()) - 60}, private, algorithm="RS256", headers={"kid": kid})
    with pytest.raises(oatk.ExpiredTokenError):
        ours.validate(expired)
    hs = jwt.encode({"sub": "x"}, "secret-secret-secret-secret-secret", algorithm="HS256", headers={"kid": kid})
    with pytest.raises(oatk.UnsupportedAlgorithmError):
        ours.validate(hs)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_authlib_joserfc_validates_ours(alg: str, pkcs8_keys: Path, ec_key: Path) -> None:
    ours = OAuthToolkit().with_private(ec_key if alg == "ES256" else pkcs8_keys / "private_key.pem")
    token = ours.claims(sub="xtof").token
    decoded = jose_jwt.decode(token, KeySet.import_key_set(json.loads(ours.jwks)), algorithms=[alg])
    assert decoded.claims == {"sub": "xtof"} and decoded.header["alg"] == alg
