"""Shared fixtures: real keys made by openssl, real processes stopped by PID."""

from __future__ import annotations

import contextlib
import gc
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Iterator, List, Optional

import pytest

import oatk

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
BIN = Path(sys.executable).parent


def run(cmd: "str | List[str]", cwd: Optional[Path] = None, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """Run a command (a shell line when given a str) and capture its output."""
    result = subprocess.run(
        cmd, cwd=cwd, shell=isinstance(cmd, str), capture_output=True, text=True, timeout=120, **kw
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd!r} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def env_with_venv(**extra: str) -> dict:
    """The environment with this venv's bin first on PATH (for `oatk`, `gunicorn`)."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def openssl_rsa_pair(directory: Path, traditional: bool) -> Path:
    """The seed's commands: `openssl genrsa` (PKCS#8 in OpenSSL 3, PKCS#1 with
    -traditional) and `openssl rsa -pubout`."""
    directory.mkdir(parents=True, exist_ok=True)
    flag = " -traditional" if traditional else ""
    run(f"openssl genrsa{flag} -out private_key.pem 2048", cwd=directory)
    run("openssl rsa -in private_key.pem -outform PEM -pubout -out public_key.pem", cwd=directory)
    first = (directory / "private_key.pem").read_text().splitlines()[0]
    assert first == ("-----BEGIN RSA PRIVATE KEY-----" if traditional else "-----BEGIN PRIVATE KEY-----"), first
    return directory


@pytest.fixture(scope="session")
def pkcs1_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return openssl_rsa_pair(tmp_path_factory.mktemp("pkcs1"), traditional=True)


@pytest.fixture(scope="session")
def pkcs8_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return openssl_rsa_pair(tmp_path_factory.mktemp("pkcs8"), traditional=False)


@pytest.fixture(scope="session", params=["pkcs1", "pkcs8"])
def keys(request: pytest.FixtureRequest) -> Path:
    """A directory with private_key.pem and public_key.pem, in both PEM forms."""
    return request.getfixturevalue(f"{request.param}_keys")


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return openssl_rsa_pair(tmp_path_factory.mktemp("other"), traditional=False)


@pytest.fixture(scope="session")
def ec_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ec")
    run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out private_key.pem", cwd=d)
    return d / "private_key.pem"


@pytest.fixture(scope="session")
def ed25519_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ed25519")
    run("openssl genpkey -algorithm ed25519 -out private_key.pem", cwd=d)
    return d / "private_key.pem"


@pytest.fixture
def toolkit(pkcs8_keys: Path) -> oatk.OAuthToolkit:
    return oatk.OAuthToolkit().with_private(pkcs8_keys / "private_key.pem")


@pytest.fixture
def workdir(tmp_path: Path, keys: Path) -> Path:
    """A temp dir with the keys and the seed's certs.json, as after the seed's first steps."""
    for name in ("private_key.pem", "public_key.pem"):
        shutil.copy(keys / name, tmp_path / name)
    (tmp_path / "certs.json").write_text(oatk.OAuthToolkit().with_public(tmp_path / "public_key.pem").jwks)
    return tmp_path


class Process:
    """A child process that is always stopped (by its PID) when the test ends."""

    def __init__(self, cmd: List[str], cwd: Optional[Path] = None, env: Optional[dict] = None) -> None:
        self.cmd = cmd
        self.popen = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        self.pid = self.popen.pid
        self.lines: List[str] = []
        self._lock = threading.Lock()
        self._readers = [
            threading.Thread(target=self._pump, args=(stream,), daemon=True)
            for stream in (self.popen.stdout, self.popen.stderr)
        ]
        for reader in self._readers:
            reader.start()

    @classmethod
    def adopt(cls, popen: subprocess.Popen) -> "Process":
        """Track a process started elsewhere (its output is not read)."""
        process = cls.__new__(cls)
        process.cmd, process.popen, process.pid = list(popen.args), popen, popen.pid  # type: ignore[arg-type]
        process.lines, process._lock, process._readers = [], threading.Lock(), []
        return process

    def _pump(self, stream: "IO[str] | None") -> None:
        assert stream is not None
        for line in stream:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 60.0) -> "re.Match[str]":
        """Wait until a line of output matches; fail with the output if it exits first."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for line in self.lines:
                    match = regex.search(line)
                    if match:
                        return match
            if self.popen.poll() is not None:
                time.sleep(0.2)  # let the readers drain
                raise AssertionError(f"{self.cmd} exited {self.popen.returncode}:\n" + self.output())
            time.sleep(0.05)
        raise AssertionError(f"timeout waiting for {pattern!r} from {self.cmd}:\n" + self.output())

    def output(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def signal(self, sig: int) -> int:
        """Send `sig` to the process (by PID) and return its exit code."""
        if self.popen.poll() is None:
            os.kill(self.pid, sig)
        return self.popen.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (then SIGKILL) to the process group this process leads
        (start_new_session), so children of a shell line stop too."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                self.popen.wait(timeout=10)
                if sig == signal.SIGTERM:
                    time.sleep(0.05)  # let the group's other members go too
                    continue
            except subprocess.TimeoutExpired:
                continue
        if self.popen.poll() is None:
            self.popen.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def processes() -> Iterator[List[Process]]:
    """Start processes with `processes.append(Process(...))`; all are stopped afterwards."""
    started: List[Process] = []
    yield started
    for process in reversed(started):
        process.stop()


def start_gunicorn(
    processes: List[Process], app: str, cwd: Path, env: Optional[dict] = None, extra: Optional[List[str]] = None
) -> str:
    """gunicorn on 127.0.0.1, port 0; returns its base URL from the 'Listening at' line."""
    cmd = [str(BIN / "gunicorn"), "-b", "127.0.0.1:0", "--pythonpath", str(cwd), *(extra or []), app]
    process = Process(cmd, cwd=cwd, env=env or env_with_venv())
    processes.append(process)
    match = process.wait_for(r"Listening at: (http://[\d.]+:\d+)")
    process.wait_for(r"Booting worker")
    url = match.group(1)
    wait_until_serving(url)
    return url


def wait_until_serving(url: str, timeout: float = 30.0) -> None:
    host, port = url.split("//")[1].split(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listening at {url}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def provider() -> Iterator["Provider"]:
    """The fake OAuth server as an API's provider, signing with a key the test
    holds too, so it can also make the tokens the server would not issue
    (expired ones)."""
    signer = oatk.OAuthToolkit().with_private_pem(oatk.generate_key()[0])
    with oatk.fake.running(toolkit=signer) as server:
        yield Provider(server, signer)


class Provider:
    """Tokens for an API whose provider is the fake server (client id ``test``)."""

    def __init__(self, server: "oatk.fake.RunningServer", signer: oatk.OAuthToolkit) -> None:
        self.server = server
        self.signer = signer
        self.url = server.url

    def valid(self, username: str = "xtof", **claims: object) -> str:
        return self.server.access_token(username, **claims)

    def expired(self) -> str:
        now = int(time.time())
        return self.signer.mint(iss=self.server.issuer, aud="test", sub="x", username="xtof", iat=now - 600, exp=now - 60)

    def wrong_key(self) -> str:
        other = oatk.OAuthToolkit().with_private_pem(oatk.generate_key()[0])
        return other.mint(iss=self.server.issuer, aud="test", sub="x", username="xtof", exp=int(time.time()) + 300)

    def tokens(self) -> "dict[str, Optional[str]]":
        """The cases every served example is hit with."""
        return {"valid": self.valid(), "admin": self.valid("root", groups=["admin"]), "expired": self.expired(),
                "wrong key": self.wrong_key(), "no header": None}


def start_server(processes: List[Process], cmd: List[str], ready: str, url: str, cwd: Path,
                 env: Optional[dict] = None) -> str:
    """Start an ASGI server (uvicorn, hypercorn) and wait until it serves ``url``."""
    process = Process(cmd, cwd=cwd, env=env or env_with_venv())
    processes.append(process)
    process.wait_for(ready)
    wait_until_serving(url)
    return url


@contextlib.contextmanager
def quiet_heap() -> Iterator[None]:
    """Leave the objects the test session has piled up out of the garbage
    collector's passes while timing an event loop: a full collection of a
    whole session's heap stalls any loop for 100 ms, whatever runs on it."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
