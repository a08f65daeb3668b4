"""The decorators on plain Flask routes and Flask-RESTful Resource methods."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from pathlib import Path
from typing import Any, Dict

import flask
import pytest
import requests
from flask_restful import Api, Resource

import oatk
from oatk import OAuthToolkit

from conftest import Process, env_with_venv, start_gunicorn  # noqa: F401


def is_name(name: str) -> bool:
    return name == "Christophe VG"


def make_app(auth: OAuthToolkit) -> flask.Flask:
    app = flask.Flask(__name__)
    api = Api(app)

    @app.route("/")
    @auth.authenticated
    def hello_world() -> str:
        """Says hello."""
        return "<p>Hello, World!</p>"

    @app.route("/claims")
    @auth.authenticated
    def claims() -> Dict[str, Any]:
        return flask.g.oatk_claims

    @app.route("/equal")
    @auth.authenticated_with_claims(username="xtof")
    def equal() -> str:
        return "equal ok"

    @app.route("/list")
    @auth.authenticated_with_claims(groups=["admin", "dev"])
    def contains() -> str:
        return "list ok"

    @app.route("/scope")
    @auth.authenticated_with_claims(scope=["profile"])
    def scope() -> str:
        return "scope ok"

    @app.route("/callable")
    @auth.authenticated_with_claims(name=is_name, username="xtof")
    def predicate() -> str:
        return "callable ok"

    def explode(value: Any) -> bool:
        raise RuntimeError("boom")

    @app.route("/raising")
    @auth.authenticated_with_claims(name=explode)
    def raising() -> str:
        return "never"

    @app.route("/async")
    @auth.authenticated
    async def async_view() -> str:
        await asyncio.sleep(0)
        return "async ok"

    @app.route("/execute")
    def execute() -> Any:
        return auth.execute_authenticated(lambda who: f"hi {who}", {"username": "xtof"}, "there")

    class HelloWorld(Resource):
        @auth.authenticated_with_claims(username="xtof")
        def get(self) -> Dict[str, str]:
            return {"hello": "world"}

        @auth.authenticated
        def post(self) -> Any:
            return {"you": flask.g.oatk_claims.get("username")}, 201

    api.add_resource(HelloWorld, "/api/hello")
    return app


@pytest.fixture
def auth(toolkit: OAuthToolkit) -> OAuthToolkit:
    return toolkit


@pytest.fixture
def client(auth: OAuthToolkit) -> Any:
    return make_app(auth).test_client()


def bearer(token: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_valid_token(client: Any, auth: OAuthToolkit) -> None:
    token = auth.claims(username="xtof").token
    r = client.get("/", headers=bearer(token))
    assert (r.status_code, r.get_data(as_text=True)) == (200, "<p>Hello, World!</p>")
    r = client.get("/api/hello", headers=bearer(token))
    assert (r.status_code, r.get_json()) == (200, {"hello": "world"})
    r = client.post("/api/hello", headers=bearer(token))
    assert (r.status_code, r.get_json()) == (201, {"you": "xtof"})
    # the scheme is case-insensitive (RFC 6750 2.1 via RFC 7235)
    assert client.get("/", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_claims_are_in_flask_g(client: Any, auth: OAuthToolkit) -> None:
    token = auth.claims(username="xtof", n=[1, 2]).token
    assert client.get("/claims", headers=bearer(token)).get_json() == {"username": "xtof", "n": [1, 2]}


@pytest.mark.parametrize("path", ["/", "/api/hello", "/equal", "/callable", "/async", "/execute"])
def test_missing_authorization(client: Any, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 401
    assert r.get_data(as_text=True) == "Missing Authorization"
    assert r.headers["WWW-Authenticate"] == "Bearer"


def assert_invalid_token(r: Any, code_hint: str = "") -> None:
    assert r.status_code == 401, r.get_data(as_text=True)
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    body = r.get_data(as_text=True)
    assert body and "Traceback" not in body and "File " not in body
    if code_hint:
        assert code_hint in body


@pytest.mark.parametrize("path", ["/", "/api/hello", "/equal"])
def test_malformed_and_not_bearer(client: Any, path: str) -> None:
    assert_invalid_token(client.get(path, headers={"Authorization": "Bearer not.a.token"}))
    assert_invalid_token(client.get(path, headers={"Authorization": "Bearer garbage"}))
    assert_invalid_token(client.get(path, headers={"Authorization": "Basic eHRvZjpzZWNyZXQ="}))
    assert_invalid_token(client.get(path, headers={"Authorization": "Bearer"}))


@pytest.mark.parametrize("path", ["/", "/api/hello"])
def test_expired(client: Any, auth: OAuthToolkit, path: str) -> None:
    token = auth.claims(username="xtof", exp=int(time.time()) - 10).token
    r = client.get(path, headers=bearer(token))
    assert_invalid_token(r, "expired")


@pytest.mark.parametrize("path", ["/", "/api/hello"])
def test_wrong_signature(client: Any, auth: OAuthToolkit, other_keys: Path, path: str) -> None:
    forged = OAuthToolkit().with_private(other_keys / "private_key.pem").with_jwks(auth.jwks)
    token = forged.claims(username="xtof").token
    assert auth.header(token)["kid"] == forged.header(token)["kid"]
    assert_invalid_token(client.get(path, headers=bearer(token)), "signature")
    unknown = OAuthToolkit().with_private(other_keys / "private_key.pem").claims(username="xtof").token
    assert_invalid_token(client.get(path, headers=bearer(unknown)))


def test_wrong_audience(auth: OAuthToolkit) -> None:
    auth.with_client_id("my-api")
    client = make_app(auth).test_client()
    assert client.get("/", headers=bearer(auth.claims(aud="my-api").token)).status_code == 200
    assert_invalid_token(client.get("/", headers=bearer(auth.claims(aud="someone-else").token)), "audience")
    assert_invalid_token(client.get("/", headers=bearer(auth.claims(username="xtof").token)), "audience")


def forbidden(r: Any, body: str) -> None:
    assert (r.status_code, r.get_data(as_text=True)) == (403, body)
    assert "WWW-Authenticate" not in r.headers


def test_claims_equal(client: Any, auth: OAuthToolkit) -> None:
    assert client.get("/equal", headers=bearer(auth.claims(username="xtof").token)).status_code == 200
    forbidden(client.get("/equal", headers=bearer(auth.claims(username="notxtof").token)),
              "claim username doesn't equal required value")
    forbidden(client.get("/api/hello", headers=bearer(auth.claims(username="notxtof").token)),
              "claim username doesn't equal required value")
    forbidden(client.get("/equal", headers=bearer(auth.claims(user="xtof").token)),
              "required claim username is missing")


def test_claims_list(client: Any, auth: OAuthToolkit) -> None:
    ok = auth.claims(groups=["dev", "ops", "admin"]).token
    assert client.get("/list", headers=bearer(ok)).get_data(as_text=True) == "list ok"
    forbidden(client.get("/list", headers=bearer(auth.claims(groups=["dev"]).token)),
              "claim groups is missing required value")
    # a space-separated string claim (scope, RFC 6749 3.3)
    assert client.get("/scope", headers=bearer(auth.claims(scope="openid profile").token)).status_code == 200
    forbidden(client.get("/scope", headers=bearer(auth.claims(scope="openid").token)),
              "claim scope is missing required value")


def test_claims_callable(client: Any, auth: OAuthToolkit) -> None:
    ok = auth.claims(username="xtof", name="Christophe VG").token
    assert client.get("/callable", headers=bearer(ok)).get_data(as_text=True) == "callable ok"
    r = client.get("/callable", headers=bearer(auth.claims(username="xtof", name="Someone").token))
    forbidden(r, "claim name doesn't satisfy the required check")
    r = client.get("/callable", headers=bearer(auth.claims(username="xtof").token))
    forbidden(r, "required claim name is missing")
    # value claims are checked (by core) before predicates run
    r = client.get("/callable", headers=bearer(auth.claims(username="x", name="Christophe VG").token))
    forbidden(r, "claim username doesn't equal required value")


def test_a_raising_predicate_refuses_without_leaking(client: Any, auth: OAuthToolkit,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    r = client.get("/raising", headers=bearer(auth.claims(name="x").token))
    forbidden(r, "claim name doesn't satisfy the required check")
    (record,) = [r for r in caplog.records if r.name == "oatk"]
    assert record.levelname == "WARNING" and "claim name" in record.getMessage()
    assert record.exc_info is not None and "RuntimeError: boom" in caplog.text  # with the traceback
    assert "boom" not in r.get_data(as_text=True)


def test_execute_authenticated(client: Any, auth: OAuthToolkit) -> None:
    r = client.get("/execute", headers=bearer(auth.claims(username="xtof").token))
    assert r.get_data(as_text=True) == "hi there"
    forbidden(client.get("/execute", headers=bearer(auth.claims(username="y").token)),
              "claim username doesn't equal required value")


def test_async_view(client: Any, auth: OAuthToolkit) -> None:
    r = client.get("/async", headers=bearer(auth.claims(a=1).token))
    assert r.get_data(as_text=True) == "async ok"


def test_wraps_keeps_metadata(auth: OAuthToolkit) -> None:
    def view() -> str:
        """Docs."""
        return ""

    for wrapped in (auth.authenticated(view), auth.authenticated_with_claims(a=1)(view)):
        assert wrapped.__name__ == "view" and wrapped.__doc__ == "Docs." and wrapped.__wrapped__ is view


def test_unusable_required_claims_fail_at_decoration(auth: OAuthToolkit) -> None:
    with pytest.raises(TypeError):
        auth.authenticated_with_claims(when={1, 2})


def test_setup_error_is_a_500_without_details(pkcs8_keys: Path) -> None:
    # tokens from a key, checked by a toolkit that has none: the operator's fault, not the client's
    token = OAuthToolkit().with_private(pkcs8_keys / "private_key.pem").claims(a=1).token
    app = make_app(OAuthToolkit())
    r = app.test_client().get("/", headers=bearer(token))
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert "Traceback" not in body and "with_jwks" not in body


def test_toolkit_can_be_reconfigured_after_decorating(pkcs8_keys: Path, other_keys: Path) -> None:
    auth = OAuthToolkit()
    client = make_app(auth).test_client()
    auth.with_private(other_keys / "private_key.pem")
    token = auth.claims(username="xtof").token
    assert client.get("/", headers=bearer(token)).status_code == 200


def test_under_gunicorn_with_threads(workdir: Path, processes: list) -> None:
    """Real HTTP, 4 threads in one worker, 200 concurrent requests, every answer right."""
    (workdir / "threaded_app.py").write_text(
        "from oatk import OAuthToolkit\n"
        "import sys; sys.path.insert(0, %r)\n"
        "from test_flask import make_app\n"
        "auth = OAuthToolkit().with_private('private_key.pem')\n"
        "app = make_app(auth)\n" % str(Path(__file__).parent)
    )
    url = start_gunicorn(processes, "threaded_app:app", workdir, extra=["--threads", "4"])
    auth = OAuthToolkit().with_private(workdir / "private_key.pem")
    good = auth.claims(username="xtof").token
    bad = auth.claims(username="notxtof").token

    def call(i: int) -> None:
        token = good if i % 2 else bad
        r = requests.get(url + "/api/hello", headers=bearer(token), timeout=30)
        if i % 2:
            assert (r.status_code, r.json()) == (200, {"hello": "world"})
        else:
            assert (r.status_code, r.text) == (403, "claim username doesn't equal required value")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(call, range(200)))
    r = requests.get(url + "/api/hello", timeout=30)
    assert (r.status_code, r.text) == (401, "Missing Authorization")


def test_with_a_token_cache(auth: OAuthToolkit) -> None:
    client = make_app(auth.with_cache(16)).test_client()
    token = auth.claims(username="xtof", exp=int(time.time()) + 60).token
    for _ in range(3):
        r = client.get("/api/hello", headers=bearer(token))
        assert (r.status_code, r.get_json()) == (200, {"hello": "world"})
    assert auth.native().cached_tokens == 1
    auth.with_now(int(time.time()) + 120)
    try:
        assert_invalid_token(client.get("/api/hello", headers=bearer(token)), "expired")
    finally:
        auth.with_now(None)
    other = auth.claims(username="notxtof").token
    forbidden(client.get("/api/hello", headers=bearer(other)), "claim username doesn't equal required value")
    forbidden(client.get("/api/hello", headers=bearer(other)), "claim username doesn't equal required value")
