"""The Quart decorators of AsyncOAuthToolkit: Quart's test client, and
examples/quart_app.py served by hypercorn."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import flask
import pytest
import requests
from quart import Quart, g

from oatk import AsyncOAuthToolkit, OAuthToolkit

from conftest import BIN, EXAMPLES, Process, Provider, env_with_venv, free_port, start_server


def is_christophe(name: Any) -> bool:
    return name == "Christophe VG"


def explode(value: Any) -> bool:
    raise RuntimeError("boom")


def make_app(auth: AsyncOAuthToolkit) -> Quart:
    app = Quart(__name__)

    @app.route("/claims")
    @auth.authenticated
    async def claims() -> Dict[str, Any]:
        return dict(g.oatk_claims)

    @app.route("/equal")
    @auth.authenticated_with_claims(username="xtof")
    async def equal() -> str:
        return "equal ok"

    @app.route("/list")
    @auth.authenticated_with_claims(groups=["admin", "dev"])
    def contains() -> str:  # a sync view, as the original allowed
        return "list ok"

    @app.route("/callable")
    @auth.authenticated_with_claims(name=is_christophe)
    async def predicate() -> str:
        return "callable ok"

    @app.route("/raising")
    @auth.authenticated_with_claims(name=explode)
    async def raising() -> str:
        return "never"

    @app.route("/execute")
    async def execute() -> Any:
        return await auth.execute_authenticated(lambda who: f"hi {who}", {"username": "xtof"}, "there")

    return app


@pytest.fixture
def auth(pkcs8_keys: Path) -> AsyncOAuthToolkit:
    return asyncio.run(AsyncOAuthToolkit().with_private(pkcs8_keys / "private_key.pem"))


def get(app: Quart, path: str, headers: Dict[str, str]) -> Any:
    async def call() -> Any:
        response = await app.test_client().get(path, headers=headers)
        return response.status_code, await response.get_data(as_text=True), response.headers

    return asyncio.run(call())


def bearer(token: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_allowed_requests_see_their_claims(auth: AsyncOAuthToolkit) -> None:
    app = make_app(auth)
    token = auth.claims(username="xtof", groups=["dev", "admin"], name="Christophe VG").token
    status, body, _ = get(app, "/claims", bearer(token))
    assert status == 200 and '"username":"xtof"' in body.replace(" ", "")
    for path, text in (("/equal", "equal ok"), ("/list", "list ok"), ("/callable", "callable ok"),
                       ("/execute", "hi there")):
        assert get(app, path, bearer(token))[:2] == (200, text), path


def test_refusals_are_the_flask_decorators(auth: AsyncOAuthToolkit, caplog: pytest.LogCaptureFixture) -> None:
    """Same status, body, challenge and content type as Flask, for the same requests."""
    app = make_app(auth)
    flask_app = flask.Flask(__name__)
    flask_auth = OAuthToolkit().with_jwks(auth.jwks)

    @flask_app.route("/equal")
    @flask_auth.authenticated_with_claims(username="xtof")
    def equal() -> str:
        return "equal ok"

    web = flask_app.test_client()
    cases: List[Dict[str, str]] = [
        {}, {"Authorization": "Bearer x.y.z"}, {"Authorization": "Basic abc"},
        bearer(auth.claims(username="nope").token), bearer(auth.claims(username="xtof", exp=int(time.time()) - 5).token),
    ]
    for headers in cases:
        status, body, response_headers = get(app, "/equal", headers)
        f = web.get("/equal", headers=headers)
        assert (status, body) == (f.status_code, f.text), headers
        assert response_headers.get("WWW-Authenticate") == f.headers.get("WWW-Authenticate"), headers
        assert response_headers["Content-Type"].startswith("text/plain"), headers
    assert get(app, "/equal", {})[:2] == (401, "Missing Authorization")
    with caplog.at_level(logging.WARNING, logger="oatk"):
        assert get(app, "/raising", bearer(auth.claims(name="x").token))[:2] == (
            403, "claim name doesn't satisfy the required check")
    assert "boom" in caplog.text


def test_outside_a_request_the_refusal_is_the_originals_tuple(auth: AsyncOAuthToolkit) -> None:
    """0.2.1's decorators returned (body, status); so do these, the challenge
    going onto the response when there is one."""
    from unittest.mock import MagicMock, patch

    request = MagicMock()
    request.headers.get = MagicMock(return_value=None)

    @auth.authenticated
    async def view() -> str:
        """A view."""
        return "ok"

    with patch("quart.request", request):
        assert asyncio.run(view()) == ("Missing Authorization", 401)
    assert view.__name__ == "view" and view.__doc__ == "A view."


def test_importing_without_quart_names_the_extra() -> None:
    script = "import sys; sys.modules['quart'] = None\nimport oatk\nimport oatk.quart\n"
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "ImportError: oatk.quart needs quart: pip install 'oatk[quart]'" in r.stderr


def test_the_example_served_by_hypercorn(processes: List[Process], provider: Provider) -> None:
    port = free_port()
    url = start_server(
        processes, [str(BIN / "hypercorn"), "--bind", f"127.0.0.1:{port}", "quart_app:app"],
        r"Running on", f"http://127.0.0.1:{port}", cwd=EXAMPLES, env=env_with_venv(OATK_PROVIDER=provider.url),
    )
    expected = {  # (/api/me, /api/admin)
        "valid": (200, 403), "admin": (200, 200), "expired": (401, 401), "wrong key": (401, 401), "no header": (401, 401),
    }
    for case, token in provider.tokens().items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        me = requests.get(f"{url}/api/me", headers=headers, timeout=10)
        admin = requests.get(f"{url}/api/admin", headers=headers, timeout=10)
        assert (me.status_code, admin.status_code) == expected[case], (case, me.text, admin.text)
        if me.status_code == 401:
            assert me.headers["WWW-Authenticate"].startswith("Bearer"), case
        if admin.status_code == 403:
            assert admin.text == "required claim groups is missing"
    valid = requests.get(f"{url}/api/me", headers={"Authorization": f"Bearer {provider.valid()}"}, timeout=10)
    assert valid.json()["username"] == "xtof"
    assert requests.get(f"{url}/api/me", timeout=10).text == "Missing Authorization"
