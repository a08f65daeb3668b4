"""Authlib, a strict third-party OIDC client, through the authorization-code
flow with PKCE against a tenant issuer of the running fake server
(`{url}/{tenant}`): one declared in the config and one created by its first
request. The discovery document's issuer is the tenant's, the id_token is
checked against the tenant's jwks_uri (iss, aud, nonce, at_hash), and the
tenant's tokens are refused by the root and by another tenant."""
import secrets
import subprocess
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

from test_authlib import browser_login_and_consent

CONFIG = """
[[users]]
username = "xtof"
claims = { name = "Christophe VG", email = "xtof@example.org" }

[[clients]]
client_id = "webapp"
client_secret = "webapp-secret"
redirect_uris = ["http://127.0.0.1:8765/callback"]
scope = "openid profile email"

[[tenants]]
name = "globex"
"""


@pytest.fixture
def server(oatk_bin, tmp_path):
    (tmp_path / "oatk.toml").write_text(CONFIG)
    proc = subprocess.Popen([oatk_bin, "server", "run", "--port", "0", "--memory", "--quiet", "--config", "oatk.toml"],
                            cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://"), "the server did not start"
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def code_flow(issuer):
    """Authlib's code flow with PKCE against `issuer`; returns the verified id_token claims and the tokens."""
    meta = requests.get(issuer + "/.well-known/openid-configuration").json()
    assert meta["issuer"] == issuer, "OIDC Discovery 4.3: the document names the issuer it was fetched from"
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert meta[endpoint].startswith(issuer + "/"), (endpoint, meta[endpoint])
    client = OAuth2Session("webapp", "webapp-secret", scope="openid profile email",
                           redirect_uri="http://127.0.0.1:8765/callback", code_challenge_method="S256",
                           token_endpoint_auth_method="client_secret_basic")
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    uri, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    location = browser_login_and_consent(uri)
    assert parse_qs(urlparse(location).query)["state"] == [state]
    token = client.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)

    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"]).json())
    claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": issuer}},
                        claims_params={"nonce": nonce, "client_id": "webapp", "access_token": token["access_token"]})
    claims.validate(leeway=5)
    info = client.get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["preferred_username"] == "xtof"
    return claims, token, keys


@pytest.mark.parametrize("tenant", ["globex", "acme"], ids=["declared", "first-use"])
def test_authlib_code_flow_with_pkce_on_a_tenant(server, tenant):
    issuer = f"{server}/{tenant}"
    claims, token, keys = code_flow(issuer)
    assert claims["iss"] == issuer and claims["name"] == "Christophe VG" and claims["email"] == "xtof@example.org"

    # The root signs with its own keys: the tenant's id_token does not verify against them ...
    root_keys = JsonWebKey.import_key_set(requests.get(server + "/oauth/certs").json())
    with pytest.raises(Exception):
        jwt.decode(token["id_token"], root_keys)
    assert {k.kid for k in root_keys.keys}.isdisjoint({k.kid for k in keys.keys})
    # ... and the root's userinfo refuses the tenant's access token.
    refused = requests.get(server + "/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert refused.status_code == 401


def test_two_tenants_do_not_trust_each_other(server):
    _, token, _ = code_flow(f"{server}/acme")
    other = requests.get(f"{server}/globex/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert other.status_code == 401
    own = requests.get(f"{server}/acme/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert own.status_code == 200
