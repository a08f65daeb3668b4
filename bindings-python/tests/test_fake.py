"""The fake server in process: oatk.fake.running(), fake.server, toolkit.server.run()."""

from __future__ import annotations

import json
import signal
import socket
import sys
from pathlib import Path

import pytest
import requests

import oatk
from oatk import OAuthToolkit, fake

from conftest import EXAMPLES, Process, env_with_venv


def refuses_connections(url: str) -> bool:
    host, port = url.split("//")[1].split(":")
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=2):
            return False
    except OSError:
        return True


def test_running_serves_and_stops_on_exit() -> None:
    with fake.running(port=0) as server:
        assert server.running
        assert server.url.startswith("http://localhost:") and not server.url.endswith(":0")
        assert server.issuer == server.url
        meta = requests.get(server.well_known, timeout=10).json()
        assert meta["issuer"] == server.issuer
        assert requests.get(meta["jwks_uri"], timeout=10).json() == json.loads(server.jwks)
        url = server.url
    assert not server.running
    assert refuses_connections(url)
    server.stop()  # twice is fine
    # after stop, core's one "stopped" error
    for call in (lambda: server.issue_token("xtof"), lambda: server.upsert_user("ann"),
                 lambda: server.upsert_client("api", redirect_uris=["http://localhost:9/cb"])):
        with pytest.raises(oatk.ServerError) as e:
            call()
        assert str(e.value) == "the fake server is stopped"
    assert repr(server) == f"<oatk.fake.RunningServer {url} stopped>"


def test_well_known_is_the_discovery_document() -> None:
    with fake.running() as server:
        assert server.well_known == server.url + "/.well-known/openid-configuration"
        meta = requests.get(server.well_known, timeout=10).json()
        assert meta["issuer"] == server.issuer and meta["jwks_uri"].startswith(server.url)
        assert OAuthToolkit().using_provider(server.well_known).with_client_id("test").validate(server.access_token("xtof"))


def test_issue_token_for_a_user_with_claims() -> None:
    with fake.running() as server:
        response = server.issue_token("xtof", {"name": "Christophe VG"}, groups=["a"])
        assert response["token_type"] == "Bearer" and response["expires_in"] == 300
        assert {"access_token", "id_token", "refresh_token", "scope"} <= set(response)
        claims = server.toolkit().validate(response["access_token"])
        assert claims["username"] == "xtof" and claims["name"] == "Christophe VG" and claims["groups"] == ["a"]
        assert claims["iss"] == server.issuer and claims["aud"] == "test"
        id_token = server.toolkit().with_client_id("test").validate(response["id_token"])
        assert id_token["name"] == "Christophe VG" and id_token["sub"] == claims["sub"]
        # the userinfo endpoint accepts the access token
        info = requests.get(server.url + "/oauth/userinfo",
                            headers={"Authorization": f"Bearer {response['access_token']}"}, timeout=10).json()
        assert info["sub"] == claims["sub"]
        assert server.access_token("other", client_id="api", scope="openid").count(".") == 2


def test_validating_with_using_provider() -> None:
    with fake.running() as server:
        token = server.access_token("xtof")
        api = OAuthToolkit().using_provider(server.url).with_client_id("test")
        assert api.validate(token)["username"] == "xtof"
        api2 = OAuthToolkit().using_provider(server.well_known)
        with pytest.raises(oatk.InvalidArgumentError, match="with_client_id"):
            api2.validate(token)  # a provider's tokens need an audience, or its waiver
        assert api2.accept_any_audience().validate(token)["username"] == "xtof"
        assert json.loads(api.jwks) == json.loads(server.jwks)
        assert api.init_from_provider() is api
    with pytest.raises(oatk.InvalidArgumentError):
        OAuthToolkit().init_from_provider()


def test_running_with_the_demo_config() -> None:
    with fake.running(config=EXAMPLES / "oatk.toml") as server:
        token = server.access_token("xtof")
        claims = server.toolkit().validate(token)
        assert claims["name"] == "Christophe VG"  # from the config's user
        assert claims["permission_groups"] == ["Group1", "Group2", "Group3"]  # from the config's client
        assert claims["allowed-origins"] == ["http://localhost:5001"]


def test_running_with_a_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[clients]]\nclient_idd = 'x'\n")
    with pytest.raises(oatk.InvalidArgumentError) as e:
        fake.running(config=bad)
    assert str(bad) in str(e.value)
    with pytest.raises(oatk.MissingFileError):
        fake.running(config=tmp_path / "none.toml")


def test_running_with_a_toolkit_signs_with_its_key(toolkit: OAuthToolkit) -> None:
    with fake.running(toolkit=toolkit) as server:
        assert json.loads(server.jwks) == json.loads(toolkit.jwks)
        assert toolkit.validate(server.access_token("xtof"))["username"] == "xtof"


def test_upsert_user_and_client() -> None:
    with fake.running() as server:
        server.upsert_user("ann", role="admin")
        server.upsert_client("api", name="My API", redirect_uris=["http://localhost:9/cb"], public=True)
        claims = server.toolkit().validate(server.access_token("ann", client_id="api"))
        assert claims["role"] == "admin" and claims["aud"] == "api"
        with pytest.raises(oatk.InvalidArgumentError):
            server.upsert_client("x", no_such_field=1)


def test_upsert_is_checked_by_core_as_the_admin_api_checks() -> None:
    with fake.running() as server:
        server.upsert_client("web", redirect_uris=["http://localhost:9/cb"], permission_groups=["ok"])
        refused = [
            (lambda: server.upsert_user(""), "username is required"),
            (lambda: server.upsert_user("a\nb"), "control characters"),
            (lambda: server.upsert_client(""), "client id is required"),
            (lambda: server.upsert_client("web", redirect_uris=["http://localhost:9/cb#frag"],
                                          permission_groups=["bad"]), "no fragment"),
            (lambda: server.upsert_client("web", redirect_uris=[]), "redirect URI is required"),
            (lambda: server.upsert_client("web", redirect_uris="http://x"), "invalid client"),
        ]
        for call, message in refused:
            with pytest.raises(oatk.InvalidArgumentError) as e:
                call()
            assert message in str(e.value), str(e.value)
        with pytest.raises(TypeError):
            server.upsert_user("ann", when={1, 2})  # not JSON
        # what was refused was not stored
        claims = server.toolkit().validate(server.access_token("xtof", client_id="web"))
        assert claims["permission_groups"] == ["ok"]


def test_data_dir_keeps_the_key(tmp_path: Path) -> None:
    with fake.running(data_dir=tmp_path) as first:
        jwks = first.jwks
    assert (tmp_path / "signing_key.pem").exists()
    with fake.running(data_dir=tmp_path) as second:
        assert second.jwks == jwks


def test_fake_server_is_the_originals_module_level_object(toolkit: OAuthToolkit) -> None:
    assert isinstance(fake.server, fake.FakeServer)
    latest = OAuthToolkit()
    assert fake.server.oatk is latest  # as the original: the latest toolkit registers itself
    explicit = toolkit
    fake.server.oatk = explicit
    try:
        assert fake.server.oatk is explicit
        with fake.server.start(port=0) as server:
            assert json.loads(server.jwks) == json.loads(toolkit.jwks)
    finally:
        fake.server.oatk = None
    assert isinstance(toolkit.server, fake.FakeServer) and toolkit.server.oatk is toolkit


SERVE = """
import sys
from oatk import OAuthToolkit
OAuthToolkit().with_private(sys.argv[1]).server.run(host="localhost", port=0, memory=True, quiet=True)
print("stopped cleanly")
"""

SERVE_MODULE = """
import sys
from oatk import OAuthToolkit, fake
auth = OAuthToolkit().with_private(sys.argv[1])
fake.server.run(port=0, memory=True)
"""


def test_run_prints_the_banner_of_oatk_server_run(pkcs8_keys: Path, processes: list) -> None:
    script = "import sys\nfrom oatk import OAuthToolkit\n" \
             "OAuthToolkit().with_private(sys.argv[1]).server.run(port=0, memory=True)\n"
    process = Process([sys.executable, "-c", script, str(pkcs8_keys / "private_key.pem")], env=env_with_venv())
    processes.append(process)
    url = process.wait_for(r"^(http://localhost:\d+)$").group(1)
    process.wait_for(r"^Press Ctrl-C to stop\.$")
    lines = [line for line in process.output().splitlines() if line != url]  # stdout has the URL alone
    start = lines.index(f"oatk fake OAuth server at {url} (issuer {url})")
    assert lines[start + 1:start + 4] == [
        f"  discovery: {url}/.well-known/openid-configuration",
        "  storage:   memory",
        "Press Ctrl-C to stop.",
    ]
    assert process.signal(signal.SIGINT) == 0


@pytest.mark.parametrize("script", [SERVE, SERVE_MODULE], ids=["toolkit.server", "fake.server"])
def test_run_blocks_and_serves_with_the_toolkits_keys(script: str, toolkit: OAuthToolkit, pkcs8_keys: Path,
                                                      processes: list) -> None:
    process = Process([sys.executable, "-c", script, str(pkcs8_keys / "private_key.pem")], env=env_with_venv())
    processes.append(process)
    url = process.wait_for(r"^(http://localhost:\d+)$").group(1)
    assert requests.get(url + "/oauth/certs", timeout=10).json() == json.loads(toolkit.jwks)
    token = requests.post(url + "/oauth/token", timeout=10,
                          data={"grant_type": "client_credentials", "client_id": "nobody"}).json()
    assert "error" in token  # unknown client: refused, but the server answered
    assert process.signal(signal.SIGINT) == 0
    if script is SERVE:
        assert "stopped cleanly" in process.output()


def test_provider_faults_end_to_end() -> None:
    """The fake server misbehaving on purpose (POST /admin/faults): the validator's
    provider fetch fails with a clear NetworkError naming the URL, and works again
    once the fault is over."""
    with fake.running() as server:
        for kind in ("error", "malformed"):
            reply = requests.post(server.url + "/admin/faults", timeout=10,
                                  json={"endpoint": "discovery", "kind": kind, "count": 1})
            assert reply.status_code == 200, reply.text
            with pytest.raises(oatk.NetworkError) as refused:
                OAuthToolkit().using_provider(server.url)
            assert "/.well-known/openid-configuration" in str(refused.value)
        api = OAuthToolkit().using_provider(server.url).with_client_id("test")  # the faults were used up
        assert api.validate(server.access_token("xtof"))["username"] == "xtof"
