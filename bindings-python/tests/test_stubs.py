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
"""

WRONG = """
from oatk import OAuthToolkit
OAuthToolkit().with_private(42)
OAuthToolkit().claims(1)
token: str = OAuthToolkit().token
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
    usage.write_text(USAGE.replace('"Callable[[], str]"', "Callable[[], str]").replace(
        "from typing import Any,", "from typing import Callable, Any,"))
    mypy("--strict", "--ignore-missing-imports", "--allow-untyped-decorators", str(usage))


def test_mypy_catches_misuse(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.py"
    wrong.write_text(WRONG)
    r = mypy(str(wrong), check=False)
    assert r.returncode == 1
    assert r.stdout.count("error:") == 3, r.stdout


def test_examples_type_check() -> None:
    mypy("--ignore-missing-imports", str(EXAMPLES / "web.py"), str(EXAMPLES / "create-and-validate.py"),
         str(EXAMPLES / "client/app.py"), cwd=REPO)
