"""Shared fixtures: the oatk binary under test and openssl-made keys."""
import contextlib
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def oatk_bin():
    path = str(Path(os.environ.get("OATK") or ROOT / "target" / "debug" / "oatk").resolve())
    assert Path(path).exists(), f"build the CLI first: {path}"
    return path


@contextlib.contextmanager
def served(oatk_bin, folder, config):
    """`oatk server run` on a free loopback port, in memory, with this config (TOML)
    in `folder`; yields its URL and stops it."""
    (folder / "oatk.toml").write_text(config)
    proc = subprocess.Popen([oatk_bin, "server", "run", "--port", "0", "--memory", "--quiet", "--config", "oatk.toml"],
                            cwd=folder, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://"), "the server did not start"
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def run(oatk_bin, tmp_path):
    """Run `oatk ARGS...` in tmp_path; returns the CompletedProcess."""

    def run(*args, stdin=None, env=None):
        return subprocess.run(
            [oatk_bin, *args], cwd=tmp_path, input=stdin, capture_output=True, text=True, timeout=60,
            env={**os.environ, **(env or {})},
        )

    return run


@pytest.fixture(params=["pkcs1", "pkcs8"])
def openssl_keys(request, tmp_path):
    """private_key.pem and public_key.pem as the seed makes them, in both PEM forms."""
    form = ["-traditional"] if request.param == "pkcs1" else []
    subprocess.run(["openssl", "genrsa", *form, "-out", "private_key.pem", "2048"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", "private_key.pem", "-outform", "PEM", "-pubout", "-out", "public_key.pem"],
                   cwd=tmp_path, check=True, capture_output=True)
    header = (tmp_path / "private_key.pem").read_text().splitlines()[0]
    assert header == ("-----BEGIN RSA PRIVATE KEY-----" if request.param == "pkcs1" else "-----BEGIN PRIVATE KEY-----")
    return tmp_path
