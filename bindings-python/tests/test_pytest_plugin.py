"""oatk's pytest plugin (oatk/pytest_plugin.py): registered by the installed
package's ``pytest11`` entry point, so these very tests get its fixtures with
no conftest line; a fresh ``pytest`` process run on examples/pytest (a Flask
and a FastAPI app) shows what a user gets from ``pip install oatk``."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

import oatk
from oatk.pytest_plugin import OatkServer, TokenFactory

from conftest import EXAMPLES, run


def pytest_run(*args: str, cwd: Path, timeout: int = 120) -> str:
    """A separate pytest process, with nothing but the installed package's plugins."""
    result = run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, check=False)
    assert result.returncode == 0, f"pytest {args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    out: str = result.stdout
    return out


def test_the_entry_point_names_the_plugin() -> None:
    (entry,) = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "oatk"]
    assert entry.value == "oatk.pytest_plugin"
    assert entry.load() is sys.modules["oatk.pytest_plugin"], "pytest loaded it through the entry point"


def test_the_example_app_tests_pass_in_a_fresh_pytest(tmp_path: Path) -> None:
    """examples/pytest: 200/401/403, expiry by the clock, a key rotation, Flask and FastAPI."""
    out = pytest_run("-q", str(EXAMPLES / "pytest"), "--rootdir", str(EXAMPLES / "pytest"), cwd=tmp_path)
    assert "6 passed" in out, out


def test_the_example_type_checks_with_the_fixtures_types() -> None:
    run([sys.executable, "-m", "mypy", "--strict", "--explicit-package-bases", "--no-incremental", "--cache-dir=/dev/null",
         "notes_api.py", "test_notes_api.py"], cwd=EXAMPLES / "pytest", env={**os.environ, "MYPYPATH": "."})


def test_fixtures_come_from_the_plugin_and_the_server_stops(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        "import requests\n"
        "seen = []\n"
        "def test_one(oatk_server, oatk_token, oatk_toolkit):\n"
        "    seen.append(oatk_server)\n"
        "    assert oatk_toolkit.validate(oatk_token())['username'] == 'xtof'\n"
        "    assert requests.get(oatk_server.well_known).status_code == 200\n"
        "def test_two(oatk_server):\n"
        "    assert oatk_server is not seen[0], 'one server per test'\n"
        "    assert not seen[0].running\n"
        "    try:\n"
        "        requests.get(seen[0].well_known, timeout=5)\n"
        "    except requests.ConnectionError:\n"
        "        pass\n"
        "    else:\n"
        "        raise AssertionError('the first server still answers')\n"
    )
    out = pytest_run("-q", "test_user.py", cwd=tmp_path)
    assert "2 passed" in out, out
    listed = pytest_run("--fixtures", "test_user.py", cwd=tmp_path)
    for name in ("oatk_server", "oatk_token", "oatk_toolkit", "oatk_server_options"):
        assert name in listed
    assert "oatk/pytest_plugin.py" in listed or "oatk.pytest_plugin" in listed, listed


def test_oatk_token_carries_exactly_the_claims_given(oatk_server: OatkServer, oatk_token: TokenFactory,
                                                     oatk_toolkit: oatk.OAuthToolkit) -> None:
    claims = oatk_toolkit.validate(oatk_token(sub="alice", scope="read", groups=["admin"], team="blue"))
    assert claims["username"] == "alice" and claims["groups"] == ["admin"] and claims["team"] == "blue"
    assert claims["scope"] == "read" and claims["aud"] == oatk_server.client_id == "test"
    assert claims["iss"] == oatk_server.issuer
    again = oatk_toolkit.validate(oatk_token(sub="alice"))
    assert "groups" not in again and "team" not in again, "no leftover claims from the last token"
    assert again["scope"] == "openid profile", "the server's default scope"
    other = oatk_token(client_id="billing")
    with pytest.raises(oatk.InvalidAudienceError):
        oatk_toolkit.validate(other)
    assert oatk_server.validator(client_id="billing").validate(other)["aud"] == "billing"


def test_advance_moves_the_server_and_its_validators(oatk_server: OatkServer, oatk_token: TokenFactory,
                                                     oatk_toolkit: oatk.OAuthToolkit) -> None:
    token = oatk_token()
    snapshot = oatk_server.toolkit()  # the published keys, also following the clock
    start = oatk_server.now
    now = oatk_server.advance(3600)
    assert 3600 <= now - start <= 3602 and oatk_server.now >= now
    for validator in (oatk_toolkit, snapshot, oatk_server.validator()):  # the last made after the move
        with pytest.raises(oatk.ExpiredTokenError):
            validator.validate(token)
    fresh = oatk_token()
    assert oatk_toolkit.validate(fresh)["iat"] >= now
    unmanaged = oatk.OAuthToolkit().using_provider(oatk_server.url).with_client_id("test")
    assert unmanaged.validate(token)["username"] == "xtof", "a toolkit the kit did not make keeps the system clock"

    oatk_server.freeze(2_000_000_000)
    assert oatk_server.now == 2_000_000_000
    with pytest.raises(oatk.ExpiredTokenError):
        oatk_toolkit.validate(fresh)
    frozen = oatk_token()
    assert oatk_toolkit.validate(frozen)["iat"] == 2_000_000_000

    oatk_server.reset_clock()
    assert abs(oatk_server.now - start) <= 5
    assert oatk_toolkit.validate(token)["username"] == "xtof", "back on the system clock"

    with pytest.raises(oatk.InvalidArgumentError):
        oatk_server.advance(-10**12)
    assert oatk_toolkit.validate(token), "a refused move moves nothing"


def test_rotation_and_retirement_as_the_key_set_shows_them(oatk_server: OatkServer, oatk_token: TokenFactory) -> None:
    before = oatk_token()
    (old,) = oatk_server.issuer_info()["keys"]
    kid = oatk_server.rotate_keys(retire_after=60)
    keys = oatk_server.issuer_info()["keys"]
    assert [k["kid"] for k in keys] == [kid, old["kid"]] and keys[0]["signing"]
    assert keys[1]["retire_at"] == pytest.approx(oatk_server.now + 60, abs=2)
    after = oatk_token()
    assert oatk.OAuthToolkit().header(after)["kid"] == kid
    # A validator made now reads both keys.
    fresh = oatk_server.validator()
    assert fresh.validate(before) and fresh.validate(after)
    # The old key retires by itself once the server's clock passes retire_at.
    oatk_server.advance(61)
    assert [k["kid"] for k in oatk_server.issuer_info()["keys"]] == [kid]
    with pytest.raises(oatk.UnknownKeyError):
        oatk_server.validator().validate(before)
    oatk_server.rotate_keys()
    assert oatk_server.retire_old_keys() == 1


def test_tenants_have_their_own_issuer_and_keys(oatk_server: OatkServer, oatk_token: TokenFactory,
                                                oatk_toolkit: oatk.OAuthToolkit) -> None:
    acme = oatk_server.issuer_info("acme")
    assert acme["tenant"] == "acme" and acme["url"] == f"{oatk_server.url}/acme"
    assert acme["issuer"] == acme["url"] and acme["discovery_url"].startswith(acme["url"] + "/.well-known/")
    tenant_token = oatk_token(tenant="acme")
    acme_validator = oatk_server.validator(tenant="acme")
    assert acme_validator.validate(tenant_token)["iss"] == acme["issuer"]
    with pytest.raises(oatk.InvalidTokenError):
        oatk_toolkit.validate(tenant_token)
    with pytest.raises(oatk.InvalidTokenError):
        acme_validator.validate(oatk_token())
    # The client acting for itself: no user.
    service = oatk_server.issue(client_id="svc", scope="api", tenant="acme", claims={"roles": ["reader"]})
    claims = oatk_server.validator(client_id="svc", tenant="acme").validate(service["access_token"])
    assert claims["roles"] == ["reader"] and "username" not in claims and "refresh_token" not in service
    with pytest.raises(oatk.InvalidArgumentError):
        oatk_server.issuer_info("not/a tenant")


class TestOptions:
    """``oatk_server_options``, overridden here for this class's tests."""

    @pytest.fixture
    def oatk_server_options(self, tmp_path: Path) -> Dict[str, Any]:
        config = tmp_path / "oatk.toml"
        config.write_text('[[users]]\nusername = "xtof"\nclaims = { name = "Christophe VG" }\n')
        return {"config": config, "issuer": "https://id.example", "client_id": "notes"}

    def test_the_server_starts_with_them(self, oatk_server: OatkServer, oatk_token: TokenFactory,
                                         oatk_toolkit: oatk.OAuthToolkit) -> None:
        assert oatk_server.issuer == "https://id.example" and oatk_server.client_id == "notes"
        # the configured user's claims, as access_token keeps them ...
        assert oatk_toolkit.validate(oatk_server.access_token("xtof", client_id="notes"))["name"] == "Christophe VG"
        # ... while oatk_token's carry exactly what it is given
        claims = oatk_toolkit.validate(oatk_token())
        assert claims["aud"] == "notes" and claims["iss"] == "https://id.example" and "name" not in claims

