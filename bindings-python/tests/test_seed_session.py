"""The seed README's session, reproduced: CLI lines, REPL lines,
examples/create-and-validate.py, and gunicorn examples.web:app with its curl calls."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import oatk

from conftest import EXAMPLES, Process, env_with_venv, run, start_gunicorn

SEED_KID = "5171a100-e4c8-49ed-94af-6bc8fa635368"
# The first two segments of the seed's tokens for username=xtof and username=notxtof.
SEED_XTOF = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IjUxNzFhMTAwLWU0YzgtNDllZC05NGFmLTZiYzhmYTYzNTM2OCIsInR5cCI6IkpXVCJ9"
             ".eyJ1c2VybmFtZSI6Inh0b2YifQ")
SEED_NOTXTOF = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IjUxNzFhMTAwLWU0YzgtNDllZC05NGFmLTZiYzhmYTYzNTM2OCIsInR5cCI6IkpXVCJ9"
                ".eyJ1c2VybmFtZSI6Im5vdHh0b2YifQ")


def copy_examples(workdir: Path) -> None:
    target = workdir / "examples"
    target.mkdir()
    for name in ("__init__.py", "web.py", "create-and-validate.py"):
        shutil.copy(EXAMPLES / name, target / name)


@pytest.fixture
def display(processes: list) -> str:
    """A real X server (Xvfb) for the clipboard lines."""
    if not shutil.which("Xvfb") or not shutil.which("xclip"):
        pytest.fail("Xvfb and xclip are needed (make deps-apt installs them)")
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "640x480x24"],
                            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    os.close(write_end)
    number = b""
    with open(read_end, "rb") as fd:
        while not number.endswith(b"\n"):
            chunk = fd.read(1)
            if not chunk:
                break
            number += chunk
    processes.append(Process.adopt(xvfb))
    assert number.strip(), "Xvfb did not report a display"
    return f":{number.decode().strip()}"


def test_cli_lines(workdir: Path, display: str, processes: list) -> None:
    env = env_with_venv(DISPLAY=display)
    r = run("oatk with_public public_key.pem jwks | tee certs.json", cwd=workdir, env=env)
    assert json.loads(r.stdout)["keys"][0]["kty"] == "RSA"
    r = run("""oatk with_private private_key.pem with_jwks certs.json claims '{ "hello" : "world" }' token | tee token.txt""",
            cwd=workdir, env=env)
    assert r.stdout.count(".") == 2
    # `cat token.txt | pbcopy` on the seed's Mac; xclip on X11 (-quiet: stays in the foreground, stopped by PID)
    process = Process(["sh", "-c", "cat token.txt | exec xclip -quiet -selection clipboard"], cwd=workdir, env=env)
    processes.append(process)
    process.wait_for(r"Waiting for selection requests")
    r = run("oatk with_jwks certs.json from_clipboard validate", cwd=workdir, env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    r = run([sys.executable, "-c", "from oatk import OAuthToolkit; "
             "print(OAuthToolkit().with_jwks('certs.json').from_clipboard().validate())"], cwd=workdir, env=env)
    assert r.stdout == "{'hello': 'world'}\n"
    r = run("oatk with_jwks certs.json from_file token.txt validate", cwd=workdir, env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    r = run("oatk from_file token.txt decode", cwd=workdir, env=env)
    assert r.stdout == "hello: world\n"
    # a tampered token in the clipboard is refused, with the reason
    process.stop()
    token = (workdir / "token.txt").read_text().strip()
    head, _, sig = token.split(".")
    forged = head + "." + base64.urlsafe_b64encode(b'{"hello":"you"}').rstrip(b"=").decode() + "." + sig
    process = Process(["sh", "-c", f"printf %s {forged} | exec xclip -quiet -selection clipboard"], env=env)
    processes.append(process)
    process.wait_for(r"Waiting for selection requests")
    r = run("oatk with_jwks certs.json from_clipboard validate", cwd=workdir, env=env, check=False)
    assert r.returncode == 1 and "signature" in r.stderr


REPL = """\
from oatk import OAuthToolkit
oauth = OAuthToolkit()
oauth.with_private("private_key.pem")
oauth.with_jwks("certs.json")
oauth.claims({"hello" : "world"})
token = oauth.token
token
oauth.validate(token)
oauth.decode(token)
"""


def test_repl_lines(workdir: Path) -> None:
    r = subprocess.run([sys.executable, "-i", "-q"], input=REPL, cwd=workdir, capture_output=True, text=True,
                       timeout=60, env=env_with_venv())
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stderr
    repr_line = r"<oatk\.OAuthToolkit object at (0x[0-9a-f]+)>"
    assert [bool(re.fullmatch(repr_line, line)) for line in lines[:3]] == [True, True, True], lines
    assert len({re.fullmatch(repr_line, line).group(1) for line in lines[:3]}) == 1  # type: ignore[union-attr]
    assert re.fullmatch(r"'eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+'", lines[3]), lines[3]
    # the seed's 0.0.x validate() printed nothing; validate() returns the claims since 0.2 (and here)
    assert lines[4:] == ["{'hello': 'world'}", "{'hello': 'world'}"]
    assert "Traceback" not in r.stderr


def test_create_and_validate_runs_silently(workdir: Path) -> None:
    copy_examples(workdir)
    r = run("PYTHONPATH=. python examples/create-and-validate.py", cwd=workdir, env=env_with_venv())
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_create_and_validate_fails_loudly_when_it_should(workdir: Path, other_keys: Path) -> None:
    copy_examples(workdir)
    shutil.copy(other_keys / "public_key.pem", workdir / "public_key.pem")  # keys that do not match
    r = run("PYTHONPATH=. python examples/create-and-validate.py", cwd=workdir, env=env_with_venv(), check=False)
    assert r.returncode != 0 and "InvalidSignatureError" in r.stderr


def test_gunicorn_web_session(workdir: Path, processes: list) -> None:
    copy_examples(workdir)
    # the seed's certs.json carried a random kid; keep it, to compare tokens with the seed's
    certs = json.loads((workdir / "certs.json").read_text())
    certs["keys"][0]["kid"] = SEED_KID
    (workdir / "certs.json").write_text(json.dumps(certs, indent=2))
    url = start_gunicorn(processes, "examples.web:app", workdir)

    def curl(args: str) -> str:
        return run(f"curl -s {args}", cwd=workdir).stdout

    token = curl(f'"{url}/api/token?username=xtof"')
    assert token.rsplit(".", 1)[0] == SEED_XTOF  # byte for byte the seed's header and payload
    assert curl(f'{url}/ -H "Authorization: Bearer {token}"') == "<p>Hello, World!</p>"
    assert curl(f'{url}/api/hello -H "Authorization: Bearer {token}"').strip() == '{"hello": "world"}'

    other = curl(f'"{url}/api/token?username=notxtof"')
    assert other.rsplit(".", 1)[0] == SEED_NOTXTOF
    refused = run(f'curl -s -w "\\n%{{http_code}}" {url}/api/hello -H "Authorization: Bearer {other}"').stdout
    assert refused == "claim username doesn't equal required value\n403"

    missing = run(f'curl -s -w "\\n%{{http_code}}" {url}').stdout
    assert missing == "Missing Authorization\n401"

    # list claims through the Token resource ("a,b" becomes a list), as web.py does
    listed = curl(f'"{url}/api/token?username=xtof&groups=a,b"')
    assert oatk.OAuthToolkit().with_jwks(workdir / "certs.json").validate(listed) == {
        "username": "xtof", "groups": ["a", "b"]}
