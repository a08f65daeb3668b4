"""Type stubs: checked against the built module, and seen by mypy in user code."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import EXAMPLES, REPO, run

PACKAGE = REPO / "bindings-python"

USAGE = """
from typing import Any, Dict, Optional
from typing_extensions import assert_type
import flask
import oatk
from oatk import OAuthToolkit, fake

t = OAuthToolkit().with_private("k.pem").with_jwks({"keys": []}).with_client_id("x").claims(a=1)
assert_type(t, OAuthToolkit)
assert_type(t.token, Optional[str])
assert_type(t.jwks, str)
assert_type(t.validate(), Dict[str, Any])
assert_type(t.header("x"), Dict[str, Any])
assert_type(oatk.js.as_src(), str)
assert_type(t.server, fake.FakeServer)

class Mine(OAuthToolkit):
    pass

assert_type(Mine().with_private("k.pem").claims(a=1), Mine)
with fake.running(port=0) as server:
    assert_type(server.url, str)
    assert_type(server.issue_token("xtof", {"a": 1}, scope="openid"), Dict[str, Any])
try:
    pass
except oatk.ExpiredTokenError as e:
    assert_type(e.code, str)

app = flask.Flask(__name__)

@app.route("/")
@t.authenticated_with_claims(username="xtof", name=lambda n: n == "x")
def view() -> str:
    return "ok"

assert_type(view, "Callable[[], str]")

from fastapi import Depends, FastAPI
from quart import Quart
from oatk import AsyncOAuthToolkit
from oatk.fastapi import OAuthToolkitDependency

async def amain() -> None:
    a = await AsyncOAuthToolkit().with_private("k.pem")
    assert_type(a, AsyncOAuthToolkit)
    assert_type(a.with_client_id("x").with_cache(), AsyncOAuthToolkit)
    assert_type(await a.with_jwks({"keys": []}), AsyncOAuthToolkit)
    assert_type(await a.using_provider("http://localhost:5000"), AsyncOAuthToolkit)
    assert_type(await a.validate("t"), Dict[str, Any])
    assert_type(await a.mint(n=1), str)
    assert_type(a.token, Optional[str])
    async with AsyncOAuthToolkit() as b:
        assert_type(b, AsyncOAuthToolkit)

oauth = OAuthToolkitDependency(AsyncOAuthToolkit())
OAuthToolkitDependency(OAuthToolkit())
api = FastAPI()

@api.get("/me")
async def me(claims: Dict[str, Any] = Depends(oauth.require_claims(role="admin"))) -> Dict[str, Any]:
    return claims

qapp = Quart(__name__)
qauth = AsyncOAuthToolkit()

@qapp.route("/")
@qauth.authenticated_with_claims(username="xtof")
async def qview() -> str:
    return "ok"

assert_type(qview, "Callable[[], Coroutine[Any, Any, str]]")
"""

WRONG = """
from typing import Any, Dict
from oatk import AsyncOAuthToolkit, OAuthToolkit
OAuthToolkit().with_private(42)
OAuthToolkit().claims(1)
token: str = OAuthToolkit().token
claims: Dict[str, Any] = AsyncOAuthToolkit().validate("t")  # not awaited
"""


def mypy(*args: str, cwd: Path = PACKAGE, check: bool = True):  # type: ignore[no-untyped-def]
    return run([sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir=/dev/null", *args], cwd=cwd, check=check)


def test_stubtest_native_module_matches_stubs() -> None:
    r = run([sys.executable, "-m", "mypy.stubtest", "oatk", "--mypy-config-file", "/dev/null"], cwd=PACKAGE)
    assert "Success" in r.stdout


def test_package_is_strictly_typed() -> None:
    mypy("--strict", "-p", "oatk", cwd=PACKAGE / "python")


def test_user_code_sees_the_types(tmp_path: Path) -> None:
    usage = tmp_path / "usage.py"
    usage.write_text(USAGE.replace('"Callable[[], str]"', "Callable[[], str]")
                     .replace('"Callable[[], Coroutine[Any, Any, str]]"', "Callable[[], Coroutine[Any, Any, str]]")
                     .replace("from typing import Any,", "from typing import Callable, Coroutine, Any,"))
    mypy("--strict", "--ignore-missing-imports", "--allow-untyped-decorators", str(usage))


def test_mypy_catches_misuse(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.py"
    wrong.write_text(WRONG)
    r = mypy(str(wrong), check=False)
    assert r.returncode == 1
    assert r.stdout.count("error:") == 4, r.stdout


def test_examples_type_check() -> None:
    mypy("--ignore-missing-imports", str(EXAMPLES / "web.py"), str(EXAMPLES / "create-and-validate.py"),
         str(EXAMPLES / "client/app.py"), cwd=REPO)
    # the async examples are new: strictly typed
    mypy("--strict", str(EXAMPLES / "fastapi_app.py"), str(EXAMPLES / "quart_app.py"), cwd=REPO)


def test_stubtest_covers_every_module() -> None:
    """stubtest checks each module of the package (the async and framework ones too)."""
    r = run([sys.executable, "-m", "mypy.stubtest", "oatk", "--mypy-config-file", "/dev/null"], cwd=PACKAGE)
    modules = {p.stem for p in (PACKAGE / "python/oatk").iterdir() if p.suffix in (".py", ".pyi")}
    assert {"async_toolkit", "fastapi", "quart", "async_client", "_guard"} <= modules
    assert f"Success: no issues found in {len(modules)} modules" in r.stdout, r.stdout
