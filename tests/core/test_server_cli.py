"""`oatk server run` as a process: durable state across kill -9, the kept key, flags."""
import json
import os
import signal
import subprocess
import urllib.request


def start(oatk_bin, cwd, *args):
    """Start the server with these CLI arguments; returns the process and the URL it printed first."""
    args = args or ("server", "run", "--port", "0", "--quiet")
    proc = subprocess.Popen([oatk_bin, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    assert url.startswith("http://"), proc.stderr.read()
    return proc, url


def call(url, data=None, headers=None):
    body = None if data is None else (json.dumps(data).encode() if isinstance(data, dict) else data.encode())
    req = urllib.request.Request(url, data=body, headers=headers or ({"content-type": "application/json"} if isinstance(data, dict) else {}))
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def test_acknowledged_state_survives_kill_9(oatk_bin, tmp_path):
    proc, url = start(oatk_bin, tmp_path)
    try:
        jwks = call(url + "/oauth/certs")
        call(url + "/admin/users", {"username": "gina", "claims": {"team": "red"}})
        call(url + "/admin/clients", {"client_id": "svc", "client_secret": "pw", "grant_types": ["client_credentials"]})
    finally:
        proc.send_signal(signal.SIGKILL)  # no chance to flush anything
        proc.wait(timeout=10)
    assert (tmp_path / ".oatk" / "oatk.sqlite3").exists(), "default data directory ./.oatk"
    assert (tmp_path / ".oatk" / "signing_key.pem").stat().st_mode & 0o777 == 0o600
    proc, url = start(oatk_bin, tmp_path)
    try:
        assert call(url + "/oauth/certs") == jwks, "the generated key is kept: old tokens stay valid"
        users = call(url + "/admin/users")
        assert {"username": "gina", "claims": {"team": "red"}} in users
        import base64
        basic = "Basic " + base64.b64encode(b"svc:pw").decode()
        token = call(url + "/oauth/token", "grant_type=client_credentials",
                     {"content-type": "application/x-www-form-urlencoded", "authorization": basic})
        assert token["token_type"] == "Bearer"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_with_private_and_jwks_the_server_signs_with_them(oatk_bin, tmp_path):
    subprocess.run([oatk_bin, "keys", "generate", "--alg", "ES256"], cwd=tmp_path, check=True, capture_output=True)
    certs = subprocess.run([oatk_bin, "with_public", "public_key.pem", "jwks"], cwd=tmp_path, check=True,
                           capture_output=True, text=True).stdout
    (tmp_path / "certs.json").write_text(certs)
    proc, url = start(oatk_bin, tmp_path, "with_private", "private_key.pem", "with_jwks", "certs.json", "server", "run",
                      "--port", "0", "--memory", "--quiet", "--issuer", "http://issuer.test/")
    try:
        assert call(url + "/oauth/certs") == json.loads(certs)
        meta = call(url + "/.well-known/openid-configuration")
        assert meta["issuer"] == "http://issuer.test/"
        assert meta["id_token_signing_alg_values_supported"] == ["ES256"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert not (tmp_path / ".oatk").exists()


def test_bad_flags_and_config(oatk_bin, tmp_path):
    (tmp_path / "bad.toml").write_text("[[users]]\nname = 'x'\n")
    bad = subprocess.run([oatk_bin, "server", "run", "--memory", "--port", "0", "--config", "bad.toml"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "bad.toml" in bad.stderr and "line 2" in bad.stderr
    flag = subprocess.run([oatk_bin, "server", "run", "--bogus"], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert flag.returncode == 2 and "--bogus" in flag.stderr
    helped = subprocess.run([oatk_bin, "server", "run", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert helped.returncode == 0 and "--memory" in helped.stdout
