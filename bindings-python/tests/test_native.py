"""The package surface and the native module's small pieces."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import requests

import oatk
import oatk.js
from oatk import _oatk, fake

from conftest import REPO


def test_version_comes_from_the_workspace() -> None:
    workspace = tomllib.loads((REPO / "Cargo.toml").read_text())
    assert oatk.__version__ == workspace["workspace"]["package"]["version"]
    pyproject = tomllib.loads((REPO / "bindings-python/pyproject.toml").read_text())
    assert pyproject["project"]["dynamic"] == ["version"] and "version" not in pyproject["project"]


def test_one_version_everywhere() -> None:
    """[workspace.package] version is the one place: the Python package, the CLI,
    the Node package (package.json, checked here too) and liboatk report it."""
    version = tomllib.loads((REPO / "Cargo.toml").read_text())["workspace"]["package"]["version"]
    node = json.loads((REPO / "bindings-node/package.json").read_text())["version"]
    assert oatk.__version__ == version == node, (oatk.__version__, version, node)
    assert oatk.OAuthToolkit().version == oatk.AsyncOAuthToolkit().version == version
    assert tuple(int(p) for p in version.split(".")) > (0, 2, 1), "must sort above the original's last release"
    cli = subprocess.run([sys.executable, "-m", "oatk", "version"], capture_output=True, text=True, timeout=60)
    assert cli.stdout.strip() == version


def test_all_is_explicit_and_complete() -> None:
    namespace: dict = {}
    exec("from oatk import *", namespace)
    for name in oatk.__all__:
        assert hasattr(oatk, name), name
    # submodules, present once imported (pytest_plugin by pytest itself, which
    # also puts its assertion-rewriting helpers, `@py_builtins`..., into the package)
    modules = {"errors", "decorators", "types", "async_toolkit", "fastapi", "quart", "async_client", "pytest_plugin"}
    public = {n for n in dir(oatk) if not n.startswith(("_", "@"))} - modules
    assert public <= set(oatk.__all__) | {"annotations"}, public - set(oatk.__all__)
    assert "OAuthToolkit" in namespace and "ExpiredTokenError" in namespace


def test_the_originals_public_names_exist() -> None:
    # oatk 0.2.1's __all__, and its modules
    for name in ("OAuthToolkit", "AsyncOAuthToolkit", "ClaimsDict", "JWKSDict", "Decorator", "RequiredClaims"):
        assert hasattr(oatk, name), name
    from oatk import async_client, async_toolkit, fastapi, quart

    assert async_toolkit.AsyncOAuthToolkit is oatk.AsyncOAuthToolkit
    assert callable(fastapi.OAuthToolkitDependency) and callable(async_client.AsyncHttpClient)
    assert callable(quart.authenticated) and callable(quart.authenticated_with_claims)
    assert callable(oatk.js.as_src) and isinstance(oatk.js.src, str)
    assert isinstance(fake.server, fake.FakeServer) and callable(fake.server.run)


def test_js_is_the_file_the_fake_server_serves() -> None:
    source = oatk.js.as_src()
    assert source == (REPO / "core/assets/oatk.js").read_text()
    assert "with_authenticated_user" in source
    with fake.running() as server:
        assert requests.get(server.url + "/static/oatk.js", timeout=10).text == source


def test_predicate_denials_come_from_core() -> None:
    assert _oatk.predicate_denial("email", "accepted") is None
    d = _oatk.predicate_denial("email", "absent")
    assert d is not None
    assert (d.status, d.body, d.www_authenticate, d.code) == (403, "required claim email is missing", None, "CLAIMS")
    for outcome in ("refused", "raised"):
        d = _oatk.predicate_denial("name", outcome)  # type: ignore[arg-type]
        assert d is not None and (d.status, d.body) == (403, "claim name doesn't satisfy the required check")
        assert (d.claim, d.unmet) == ("name", "rejected")
        assert repr(d) == (
            "Denial(status=403, body=\"claim name doesn't satisfy the required check\", code='CLAIMS', "
            "claim='name', unmet='rejected')"
        )
    with pytest.raises(ValueError, match="maybe"):
        _oatk.predicate_denial("name", "maybe")  # type: ignore[arg-type]


def test_check_decisions(toolkit: oatk.OAuthToolkit) -> None:
    requirement = _oatk.Requirement({"username": "xtof"})
    assert len(requirement) == 1 and "xtof" in repr(requirement)
    ok = _oatk.check(toolkit.native(), "Bearer " + toolkit.claims(username="xtof").token, requirement)
    assert ok == {"username": "xtof"}
    denied = _oatk.check(toolkit.native(), None, requirement)
    assert (denied.status, denied.body, denied.www_authenticate, denied.code) == (401, "Missing Authorization", "Bearer", None)
    denied = _oatk.check(toolkit.native(), "Bearer x.y.z", requirement)
    assert (denied.status, denied.code) == (401, "MALFORMED")
    assert denied.www_authenticate.startswith('Bearer error="invalid_token"')
    with pytest.raises(TypeError):
        _oatk.Requirement({"when": object()})


def test_native_objects_cannot_be_subclassed_or_mutated() -> None:
    with pytest.raises(TypeError):
        type("X", (_oatk.Toolkit,), {})
    d = _oatk.predicate_denial("x", "absent")
    with pytest.raises(AttributeError):
        d.status = 200  # type: ignore[misc]


SMOKE = """
import sys
sys.path.insert(0, sys.argv[1])
import oatk
from oatk import OAuthToolkit
t = OAuthToolkit().with_private(sys.argv[2])
token = t.claims(hello="world").token
assert t.validate(token) == {"hello": "world"}
try:
    t.validate("a.b.c")
except oatk.MalformedTokenError as e:
    assert e.code == "MALFORMED" and isinstance(e, ValueError)
with oatk.fake.running() as server:
    assert server.toolkit().validate(server.access_token("xtof"))["username"] == "xtof"
print(sys.version_info[:2])
"""


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.12", "3.13"])
def test_the_abi3_module_loads_in_other_pythons(version: str, pkcs8_keys) -> None:  # type: ignore[no-untyped-def]
    """One abi3 module (the debug build in python/oatk) for CPython 3.9 and later."""
    candidates = [shutil.which(f"python{version}"),
                  *map(str, sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}")))]
    working = [p for p in candidates if p and subprocess.run([p, "-c", "pass"], capture_output=True).returncode == 0]
    if not working:
        pytest.skip(f"no python{version} on this machine")
    python = working[0]
    r = subprocess.run([python, "-c", SMOKE, str(REPO / "bindings-python/python"), str(pkcs8_keys / "private_key.pem")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tuple(int(x) for x in version.split(".")))
