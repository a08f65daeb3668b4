"""A strict third-party OIDC client, Authlib, through the whole flow against
the running fake server: authorization_code + PKCE, with login and consent
posted as a browser would; id_token checked (signature via jwks_uri, iss, aud,
nonce, at_hash); userinfo; refresh; revocation."""
import re
import secrets
import subprocess
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

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


def test_authlib_code_flow_with_pkce(server):
    meta = requests.get(server + "/.well-known/openid-configuration").json()
    client = OAuth2Session("webapp", "webapp-secret", scope="openid profile email",
                           redirect_uri="http://127.0.0.1:8765/callback", code_challenge_method="S256",
                           token_endpoint_auth_method="client_secret_basic")
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    uri, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    location = browser_login_and_consent(uri)
    assert parse_qs(urlparse(location).query)["state"] == [state]

    token = client.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert token["token_type"] == "Bearer"

    # The id_token as a strict client checks it (OIDC Core 3.1.3.7).
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"]).json())
    claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": meta["issuer"]}},
                        claims_params={"nonce": nonce, "client_id": "webapp", "access_token": token["access_token"]})
    claims.validate(leeway=5)
    assert claims["name"] == "Christophe VG" and claims["email"] == "xtof@example.org"

    info = client.get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["preferred_username"] == "xtof"

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
