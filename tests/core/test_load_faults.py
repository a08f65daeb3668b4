"""Load and faults: 200 concurrent authorization-code flows against the
file-backed fake server while it is killed with SIGKILL and restarted on the
same port and data directory. Whatever the server acknowledged before the kill
(a refresh token in a token response, a client the admin API answered 200 for)
must still work after it; the only failures allowed are connection errors
while the server is down, after which a flow starts again, as a user would."""
import base64
import hashlib
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

FLOWS = 200
REDIRECT = "http://127.0.0.1:8765/callback"
CONFIG = f"""
[[users]]
username = "xtof"

[[clients]]
client_id = "webapp"
client_secret = "webapp-secret"
redirect_uris = ["{REDIRECT}"]
scope = "openid profile"
"""
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`oatk server run` on a fixed port and data directory, restartable."""

    def __init__(self, oatk_bin, cwd, port):
        self.args = [oatk_bin, "server", "run", "--port", str(port), "--data", "data", "--quiet", "--config", "oatk.toml"]
        self.cwd = cwd
        self.url = f"http://localhost:{port}"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.args, cwd=self.cwd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line == self.url, f"server printed {line!r}"

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def server(oatk_bin, tmp_path):
    (tmp_path / "oatk.toml").write_text(CONFIG)
    s = Server(oatk_bin, tmp_path, free_port())
    s.start()
    try:
        yield s
    finally:
        s.stop()


def s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def hidden_fields(html):
    return {k: v.replace("&amp;", "&").replace("&quot;", '"').replace("&#39;", "'") for k, v in HIDDEN.findall(html)}


def code_flow(base):
    """One user's authorization-code flow with PKCE, as a browser and a
    confidential client do it; returns the token response."""
    browser = requests.Session()
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(12)
    query = urlencode({"response_type": "code", "client_id": "webapp", "redirect_uri": REDIRECT,
                       "scope": "openid profile", "state": state, "code_challenge": s256(verifier),
                       "code_challenge_method": "S256"})
    login = browser.get(f"{base}/oauth/authorize?{query}", timeout=30)
    assert login.status_code == 200, login.text
    consent = browser.post(f"{base}/oauth/authorize", data={**hidden_fields(login.text), "username": "xtof"}, timeout=30)
    assert consent.status_code == 200, consent.text
    back = browser.post(f"{base}/oauth/authorize", data={**hidden_fields(consent.text), "decision": "allow"},
                        allow_redirects=False, timeout=30)
    assert back.status_code == 302, back.text
    params = parse_qs(urlparse(back.headers["location"]).query)
    assert params["state"] == [state]
    token = requests.post(f"{base}/oauth/token", auth=("webapp", "webapp-secret"), timeout=30, data={
        "grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": REDIRECT,
        "code_verifier": verifier})
    assert token.status_code == 200, token.text
    return token.json()


def register_client(base, n):
    reply = requests.post(f"{base}/admin/clients", timeout=30, json={
        "client_id": f"load-{n}", "client_secret": f"s-{n}", "grant_types": ["client_credentials"]})
    assert reply.status_code == 200, reply.text
    return f"load-{n}"


def test_kill_9_mid_run_loses_nothing_acknowledged(server):
    acknowledged_refresh, acknowledged_clients, connection_errors = [], [], []
    lock = threading.Lock()
    some_done = threading.Event()  # the kill comes once 20 flows are through and the rest in flight
    before_kill = []

    def one(n):
        for _ in range(100):
            try:
                if f"load-{n}" not in acknowledged_clients:
                    client = register_client(server.url, n)
                    with lock:
                        acknowledged_clients.append(client)
                tokens = code_flow(server.url)
                with lock:
                    acknowledged_refresh.append(tokens["refresh_token"])
                    if len(acknowledged_refresh) >= 20:
                        some_done.set()
                return
            except requests.ConnectionError as e:
                with lock:
                    connection_errors.append(f"flow {n}: {e}")
                time.sleep(0.2)  # the server is down: start the flow again
        raise AssertionError(f"flow {n} never completed")

    def killer():
        assert some_done.wait(timeout=120)
        with lock:
            before_kill.extend(acknowledged_refresh)
        server.kill()
        time.sleep(0.5)
        server.start()

    k = threading.Thread(target=killer)
    k.start()
    with ThreadPoolExecutor(max_workers=FLOWS) as pool:  # all 200 at once
        list(pool.map(one, range(FLOWS)))  # any assertion failure (a 4xx/5xx) propagates
    k.join(timeout=60)

    for line in connection_errors[:5]:
        print(line)
    print(f"{len(before_kill)} flows acknowledged before the kill; {len(acknowledged_refresh)} flows completed, {len(acknowledged_clients)} clients registered, "
          f"{len(connection_errors)} connection errors during the restart")
    assert len(acknowledged_refresh) == FLOWS
    assert len(before_kill) >= 20 and len(before_kill) < FLOWS, len(before_kill)
    assert connection_errors, "the kill happened after every flow had finished: the test proved nothing"

    # After the restart: every acknowledged refresh token and client still works.
    listed = {c["client_id"] for c in requests.get(f"{server.url}/admin/clients", timeout=30).json()}
    assert set(acknowledged_clients) <= listed
    for refresh_token in acknowledged_refresh:
        reply = requests.post(f"{server.url}/oauth/token", auth=("webapp", "webapp-secret"), timeout=30,
                              data={"grant_type": "refresh_token", "refresh_token": refresh_token})
        assert reply.status_code == 200, reply.text
    for client in acknowledged_clients[:20]:
        n = client.split("-")[1]
        reply = requests.post(f"{server.url}/oauth/token", auth=(client, f"s-{n}"), timeout=30,
                              data={"grant_type": "client_credentials"})
        assert reply.status_code == 200, reply.text
