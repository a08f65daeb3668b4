"""The seed's browser walkthrough, end to end in headless chromium: the fake
server (in process), examples/client (the app) and examples/web.py (the API,
protected by @oatk.authenticated_with_claims(username="xtof")), all on free ports."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from oatk import OAuthToolkit, fake

from conftest import EXAMPLES, REPO, env_with_venv, start_gunicorn

HARNESS = REPO / "tests/browser/walkthrough.mjs"


def localhost(url: str) -> str:
    return url.replace("127.0.0.1", "localhost")


@pytest.fixture
def site(workdir: Path, processes: list):  # type: ignore[no-untyped-def]
    examples = workdir / "examples"
    shutil.copytree(EXAMPLES / "client", examples / "client", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("__init__.py", "web.py"):
        shutil.copy(EXAMPLES / name, examples / name)
    signer = OAuthToolkit().with_private(workdir / "private_key.pem").with_jwks(workdir / "certs.json")
    with fake.running(toolkit=signer) as server:
        api = localhost(start_gunicorn(processes, "examples.web:app", workdir))
        app = localhost(start_gunicorn(processes, "examples.client.app:server", workdir,
                                       env=env_with_venv(OATK_PROVIDER=server.url, OATK_API=api)))
        server.upsert_client("test", name="test", redirect_uris=[app], post_logout_redirect_uris=[app],
                             allowed_origins=[app], scope="openid profile", public=True,
                             grant_types=["authorization_code", "refresh_token"])
        yield server, app, api


def test_client_app_serves_the_page_with_the_right_urls(site) -> None:  # type: ignore[no-untyped-def]
    server, app, api = site
    html = requests.get(app, timeout=10).text
    assert f'<script src="{server.url}/static/oatk.js">' in html
    assert f'"{api}/api/hello"' in html
    assert "oatk.with_authenticated_user" in html
    assert requests.get(server.url + "/static/oatk.js", timeout=10).status_code == 200


def test_the_api_accepts_the_fake_servers_tokens(site) -> None:  # type: ignore[no-untyped-def]
    server, app, api = site
    token = server.access_token("xtof")
    r = requests.get(api + "/api/hello", headers={"Authorization": f"Bearer {token}", "Origin": app}, timeout=10)
    assert r.json() == {"hello": "world"} and r.headers["Access-Control-Allow-Origin"] in ("*", app)
    r = requests.get(api + "/api/hello", headers={"Authorization": f"Bearer {server.access_token('ann')}"}, timeout=10)
    assert (r.status_code, r.text) == (403, "claim username doesn't equal required value")


def test_browser_walkthrough(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, app, api = site
    node = shutil.which("node")
    if node is None or not (REPO / "tests/browser/node_modules/playwright-core").exists():
        pytest.fail("node and tests/browser/node_modules are needed (make test-python installs them)")
    shots = REPO / "build/shots/python-walkthrough"
    r = subprocess.run(
        [node, str(HARNESS), "--app", app + "/", "--expect", json.dumps({"hello": "world"}, separators=(",", ":")),
         "--shots", str(shots)],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )
    assert r.returncode == 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert "logout returns to the sign-in page" in r.stdout
