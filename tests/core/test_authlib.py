"""A strict third-party OIDC client, Authlib, through the whole flow against
the running fake server: authorization_code + PKCE, with login and consent
posted as a browser would; id_token checked (signature via jwks_uri, iss, aud,
nonce, at_hash); userinfo; refresh; revocation."""
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken
from conftest import served

CONFIG = """
[[users]]
username = "xtof"
claims = { name = "Christophe VG", email = "xtof@example.org" }

[[clients]]
client_id = "webapp"
client_secret = "webapp-secret"
redirect_uris = ["http://127.0.0.1:8765/callback"]
scope = "openid profile email"
"""


@pytest.fixture
def server(oatk_bin, tmp_path):
    with served(oatk_bin, tmp_path, CONFIG) as url:
        yield url


def browser_login_and_consent(authorization_url):
    """What a user's browser does: sign in as xtof, allow; returns the redirect back."""
    browser = requests.Session()
    login = browser.get(authorization_url)
    assert login.status_code == 200 and 'name="username"' in login.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', login.text))
    fields = {k: v.replace("&amp;", "&").replace("&quot;", '"').replace("&#39;", "'") for k, v in fields.items()}
    consent = browser.post(urlparse(authorization_url)._replace(query="").geturl(), data={**fields, "username": "xtof"})
    assert consent.status_code == 200 and 'value="allow"' in consent.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', consent.text))
    back = browser.post(urlparse(authorization_url)._replace(query="").geturl(), data={**fields, "decision": "allow"},
                        allow_redirects=False)
    assert back.status_code == 302, back.text
    return back.headers["location"]


@dataclass
class Flow:
    client: OAuth2Session
    meta: dict
    claims: Any
    token: dict
    keys: Any


def code_flow(issuer):
    """Authlib's code flow with PKCE against `issuer` (the root or a tenant),
    the id_token checked as a strict client checks it (OIDC Core 3.1.3.7), then
    userinfo."""
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
    assert token["token_type"] == "Bearer"

    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"]).json())
    claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": issuer}},
                        claims_params={"nonce": nonce, "client_id": "webapp", "access_token": token["access_token"]})
    claims.validate(leeway=5)
    info = client.get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["preferred_username"] == "xtof"
    return Flow(client, meta, claims, token, keys)


def test_authlib_code_flow_with_pkce(server):
    flow = code_flow(server)
    client, meta, token = flow.client, flow.meta, flow.token
    assert flow.claims["name"] == "Christophe VG" and flow.claims["email"] == "xtof@example.org"

    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"], "refresh tokens rotate"

    revoked = client.revoke_token(meta["revocation_endpoint"], token=refreshed["refresh_token"],
                                  token_type_hint="refresh_token")
    assert revoked.status_code == 200
    with pytest.raises(Exception, match="invalid_grant"):
        client.refresh_token(meta["token_endpoint"], refresh_token=refreshed["refresh_token"])


def test_authlib_refuses_a_wrong_nonce(server):
    """The nonce goes into the id_token exactly as sent, so a client can catch a replay."""
    meta = requests.get(server + "/.well-known/openid-configuration").json()
    client = OAuth2Session("webapp", "webapp-secret", scope="openid", redirect_uri="http://127.0.0.1:8765/callback",
                           code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce="expected")
    token = client.fetch_token(meta["token_endpoint"], authorization_response=browser_login_and_consent(uri),
                               code_verifier=verifier)
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"]).json())
    claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                        claims_params={"nonce": "something-else", "client_id": "webapp"})
    with pytest.raises(Exception, match="nonce"):
        claims.validate(leeway=5)
