"""Authlib, a strict third-party OIDC client, through the authorization-code
flow with PKCE against a tenant issuer of the running fake server
(`{url}/{tenant}`): one declared in the config and one created by its first
request. The discovery document's issuer is the tenant's, the id_token is
checked against the tenant's jwks_uri (iss, aud, nonce, at_hash), and the
tenant's tokens are refused by the root and by another tenant."""
import pytest
import requests
from authlib.jose import JsonWebKey, jwt
from conftest import served

import test_authlib
from test_authlib import code_flow

# The root's users and client, and one declared tenant.
CONFIG = test_authlib.CONFIG + """
[[tenants]]
name = "globex"
"""


@pytest.fixture
def server(oatk_bin, tmp_path):
    with served(oatk_bin, tmp_path, CONFIG) as url:
        yield url


@pytest.mark.parametrize("tenant", ["globex", "acme"], ids=["declared", "first-use"])
def test_authlib_code_flow_with_pkce_on_a_tenant(server, tenant):
    issuer = f"{server}/{tenant}"
    flow = code_flow(issuer)
    claims, token, keys = flow.claims, flow.token, flow.keys
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
    token = code_flow(f"{server}/acme").token
    other = requests.get(f"{server}/globex/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert other.status_code == 401
    own = requests.get(f"{server}/acme/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert own.status_code == 200
