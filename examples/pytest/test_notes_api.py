"""Testing an API protected by oatk with oatk's pytest plugin: no conftest,
no fake of our own; ``pip install oatk`` brings the fixtures.

    pytest examples/pytest

``oatk_server`` is a real OAuth2 / OpenID Connect server in this process,
``oatk_token(...)`` a token it signed, ``oatk_toolkit`` a validator that
trusts it the way production code trusts a provider (discovery, JWKS,
audience). Time and keys are the server's to drive: ``oatk_server.advance()``
and ``oatk_server.rotate_keys()``.
"""

from __future__ import annotations

import time
from typing import Any, Dict

import pytest

import oatk
from notes_api import fastapi_app, flask_app
from oatk.pytest_plugin import OatkServer, TokenFactory


def bearer(token: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(oatk_toolkit: oatk.OAuthToolkit) -> Any:
    return flask_app(oatk_toolkit).test_client()


def test_a_valid_token_reads_the_notes(client: Any, oatk_token: TokenFactory) -> None:
    refused = client.get("/notes")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    ok = client.get("/notes", headers=bearer(oatk_token(sub="xtof")))
    assert ok.status_code == 200
    assert ok.json == {"user": "xtof", "notes": ["buy milk"]}
    assert client.get("/notes", headers=bearer("not.a.token")).status_code == 401


def test_only_admins_clear_the_notes(client: Any, oatk_token: TokenFactory) -> None:
    assert client.delete("/notes", headers=bearer(oatk_token(groups=["admin"]))).status_code == 200
    staff = client.delete("/notes", headers=bearer(oatk_token(sub="bob", groups=["staff"])))
    assert staff.status_code == 403
    # each token carries exactly the claims it is given
    assert client.delete("/notes", headers=bearer(oatk_token())).status_code == 403


def test_a_token_for_another_api_is_refused(client: Any, oatk_token: TokenFactory) -> None:
    assert client.get("/notes", headers=bearer(oatk_token(client_id="billing"))).status_code == 401
    # ... and one from another issuer (a tenant of the same server, with its own keys)
    assert client.get("/notes", headers=bearer(oatk_token(tenant="acme"))).status_code == 401


def test_a_token_expires_without_sleeping(client: Any, oatk_server: OatkServer, oatk_token: TokenFactory) -> None:
    token = oatk_token()
    assert client.get("/notes", headers=bearer(token)).status_code == 200
    oatk_server.advance(3600)  # the server's clock and the app's validator, an hour on
    expired = client.get("/notes", headers=bearer(token))
    assert expired.status_code == 401
    assert "expired" in expired.headers["WWW-Authenticate"]
    # a token issued now is fine at the new time
    assert client.get("/notes", headers=bearer(oatk_token())).status_code == 200


def test_the_app_follows_a_key_rotation(client: Any, oatk_server: OatkServer, oatk_token: TokenFactory) -> None:
    before = oatk_token()
    kid = oatk_server.rotate_keys()
    after = oatk_token()
    assert oatk.OAuthToolkit().header(after)["kid"] == kid != oatk.OAuthToolkit().header(before)["kid"]
    assert client.get("/notes", headers=bearer(before)).status_code == 200
    # The app fetched the key set at start; a token naming a kid it does not
    # know makes it fetch again, at most every 30 s (so forged kids cannot
    # flood the provider): refused until then, accepted from then on.
    assert client.get("/notes", headers=bearer(after)).status_code == 401
    deadline = time.monotonic() + 40
    while client.get("/notes", headers=bearer(after)).status_code != 200:
        assert time.monotonic() < deadline, "the validator never fetched the new key"
        time.sleep(0.5)
    assert client.get("/notes", headers=bearer(before)).status_code == 200, "both keys are published"

    # Retired: the old key leaves the key set; an app that fetches it now refuses the old tokens.
    assert oatk_server.retire_old_keys() == 1
    restarted = flask_app(oatk_server.validator()).test_client()
    assert restarted.get("/notes", headers=bearer(before)).status_code == 401
    assert restarted.get("/notes", headers=bearer(after)).status_code == 200


def test_the_same_with_fastapi(oatk_server: OatkServer, oatk_toolkit: oatk.OAuthToolkit, oatk_token: TokenFactory) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    with TestClient(fastapi_app(oatk_toolkit)) as client:
        assert client.get("/notes").status_code == 401
        token = oatk_token(groups=["admin"])
        assert client.get("/notes", headers=bearer(token)).json() == {"user": "xtof", "notes": ["buy milk"]}
        assert client.delete("/notes", headers=bearer(token)).status_code == 200
        assert client.delete("/notes", headers=bearer(oatk_token(sub="bob"))).status_code == 403
        oatk_server.advance(3600)
        assert client.get("/notes", headers=bearer(token)).status_code == 401
