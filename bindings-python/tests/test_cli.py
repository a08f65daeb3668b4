"""The CLI through the `oatk` console script and `python -m oatk`: the Rust CLI, unchanged."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import List

import pytest
import requests

import oatk

from conftest import BIN, Process, env_with_venv, run

CLIS = {
    "console-script": f"{BIN / 'oatk'}",
    "python-m": f"{sys.executable} -m oatk",
}


@pytest.fixture(params=list(CLIS))
def cli(request: pytest.FixtureRequest) -> str:
    return CLIS[request.param]


def test_console_script_is_installed() -> None:
    assert (BIN / "oatk").exists()
    first = (BIN / "oatk").read_text().splitlines()[0]
    assert first.startswith("#!") and "python" in first


def test_seed_command_lines(cli: str, workdir: Path) -> None:
    """The seed README's lines, verbatim but for the program name."""
    r = run(f"{cli} with_public public_key.pem jwks | tee certs.json", cwd=workdir)
    jwks = json.loads(r.stdout)
    assert jwks == json.loads((workdir / "certs.json").read_text())
    (key,) = jwks["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["e"] == "AQAB"

    r = run(f"""{cli} with_private private_key.pem with_jwks certs.json claims '{{ "hello" : "world" }}' token | tee token.txt""",
            cwd=workdir)
    token = r.stdout.strip()
    assert token.count(".") == 2 and (workdir / "token.txt").read_text().strip() == token

    r = run(f"{cli} with_jwks certs.json from_file token.txt validate", cwd=workdir)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")

    r = run(f"{cli} from_file token.txt decode", cwd=workdir)
    assert r.stdout == "hello: world\n"

    # and the Python API agrees with what the CLI made
    assert oatk.OAuthToolkit().with_jwks(workdir / "certs.json").validate(token) == {"hello": "world"}


def test_header_version_help(cli: str, workdir: Path) -> None:
    token = oatk.OAuthToolkit().with_private(workdir / "private_key.pem").claims(a=1).token
    (workdir / "t").write_text(token)
    r = run(f"{cli} from_file t header", cwd=workdir)
    assert r.stdout.splitlines()[0] == "alg: RS256"
    assert run(f"{cli} version").stdout.strip() == oatk.__version__
    r = run(f"{cli} --help")
    assert "Usage: oatk STEP" in r.stdout and "with_private FILE" in r.stdout


def test_failures_and_exit_codes(cli: str, workdir: Path, other_keys: Path) -> None:
    bad = oatk.OAuthToolkit().with_private(other_keys / "private_key.pem").claims(a=1).token
    (workdir / "bad.txt").write_text(bad)
    r = run(f"{cli} with_jwks certs.json from_file bad.txt validate", cwd=workdir, check=False)
    assert r.returncode == 1 and r.stdout == "" and r.stderr.startswith("oatk: ")
    r = run(f"{cli} with_private missing.pem token", cwd=workdir, check=False)
    assert r.returncode == 1 and "missing.pem" in r.stderr
    r = run(f"{cli} frobnicate", check=False)
    assert r.returncode == 2 and "unknown step" in r.stderr
    r = run(f"{cli}", check=False)
    assert r.returncode == 2


def test_from_stdin(cli: str, workdir: Path) -> None:
    token = oatk.OAuthToolkit().with_private(workdir / "private_key.pem").claims(hello="stdin").token
    r = run(f"echo 'Bearer {token}' | {cli} with_jwks certs.json from_stdin validate", cwd=workdir)
    assert r.returncode == 0
    assert run(f"echo {token} | {cli} from_stdin decode").stdout == "hello: stdin\n"


def test_keys_generate(cli: str, tmp_path: Path) -> None:
    run(f"{cli} keys generate --alg ES256 --out keys", cwd=tmp_path)
    t = oatk.OAuthToolkit().with_private(tmp_path / "keys/private_key.pem")
    assert t.header(t.claims(a=1).token)["alg"] == "ES256"
    r = run(f"{cli} keys generate --alg ES256 --out keys", cwd=tmp_path, check=False)
    assert r.returncode == 1 and "not overwriting" in r.stderr


def server_cmd(cli: str, *args: str) -> List[str]:
    return cli.split() + list(args)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_server_run(cli: str, workdir: Path, processes: list, sig: int) -> None:
    """`server run` serves with the given keys, prints its URL first, and stops on Ctrl-C / SIGTERM."""
    process = Process(
        server_cmd(cli, "with_private", "private_key.pem", "with_jwks", "certs.json",
                   "server", "run", "--port", "0", "--memory", "--quiet"),
        cwd=workdir, env=env_with_venv(),
    )
    processes.append(process)
    url = process.wait_for(r"^(http://\S+)$").group(1)
    certs = requests.get(url + "/oauth/certs", timeout=10).json()
    assert certs == json.loads((workdir / "certs.json").read_text())
    discovery = requests.get(url + "/.well-known/openid-configuration", timeout=10).json()
    assert discovery["issuer"] == url and discovery["jwks_uri"] == url + "/oauth/certs"
    assert process.signal(sig) == 0


def test_server_run_help(cli: str) -> None:
    r = run(f"{cli} server run --help")
    assert "--port PORT" in r.stdout
