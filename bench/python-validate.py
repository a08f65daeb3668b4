#!/usr/bin/env python3
"""oatk (this package) vs PyJWT vs the original oatk, side by side in one run.

1. validate() per call, same RS256 token and key, no cache ("cold"):
   oatk.OAuthToolkit.validate, jwt.decode (PyJWT, key object loaded once),
   the original oatk's validate (in its own venv, as a subprocess: it is also
   called `oatk`), and a raw RSA verify (cryptography) as the floor. Then
   "warm": oatk with its token cache (with_cache), the same token repeated.
2. A Flask request through the decorator vs a bare route, with Flask's test
   client (in process, no network: the worst case for the decorator's share),
   for this package and for the original.
3. The same routes served by gunicorn (one sync worker, as the seed ran
   examples/web.py) and loaded by wrk (one connection), requests/s.

Timing: many short rounds, interleaved between the contenders, the best round
reported (as timeit does), so other load on the machine disturbs the ratios
least; wrk: 1-second runs, interleaved, the best of 8.

    make bench-python
    python bench/python-validate.py --original-python build/original-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

ROUNDS = 15


def best_us(fns: Dict[str, Callable[[], Any]], n: int, rounds: int = ROUNDS) -> Dict[str, float]:
    """Microseconds per call of each function: best of `rounds`, interleaved."""
    for fn in fns.values():  # warm up
        for _ in range(max(50, n // 20)):
            fn()
    best = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / n * 1e6)
    return best


# Runs inside the original's venv: the same measurements with the original oatk.
ORIGINAL = r'''
import json, logging, sys, time
logging.disable(logging.CRITICAL)          # the original logs a warning per toolkit
import flask
from oatk import OAuthToolkit, __version__
jwks_path, token, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
oauth = OAuthToolkit().with_jwks(jwks_path)
assert oauth.validate(token)["username"] == "xtof"
app = flask.Flask("original")
@app.route("/bare")
def bare():
    return "<p>Hello, World!</p>"
@app.route("/auth")
@oauth.authenticated
def auth():
    return "<p>Hello, World!</p>"
@app.route("/claims")
@oauth.authenticated_with_claims(username="xtof")
def claims():
    return "<p>Hello, World!</p>"
client = app.test_client()
headers = {"Authorization": "Bearer " + token}
for path in ("/bare", "/auth", "/claims"):
    r = client.get(path, headers=headers)
    assert r.status_code == 200, (path, r.status_code, r.get_data())
fns = {
    "validate": lambda: oauth.validate(token),
    "flask_bare": lambda: client.get("/bare", headers=headers),
    "flask_auth": lambda: client.get("/auth", headers=headers),
    "flask_claims": lambda: client.get("/claims", headers=headers),
}
for fn in fns.values():
    for _ in range(50):
        fn()
best = {k: float("inf") for k in fns}
for _ in range(rounds):
    for name, fn in fns.items():
        m = n if name == "validate" else n // 8
        t = time.perf_counter()
        for _ in range(m):
            fn()
        best[name] = min(best[name], (time.perf_counter() - t) / m * 1e6)
print(json.dumps({"version": __version__, **best}))
'''


APP = r'''
import logging
logging.disable(logging.CRITICAL)
import flask
from oatk import OAuthToolkit
oauth = OAuthToolkit().with_jwks("certs.json")
app = flask.Flask("bench")
@app.route("/bare")
def bare():
    return "<p>Hello, World!</p>"
@app.route("/auth")
@oauth.authenticated
def auth():
    return "<p>Hello, World!</p>"
@app.route("/claims")
@oauth.authenticated_with_claims(username="xtof")
def claims():
    return "<p>Hello, World!</p>"
if hasattr(OAuthToolkit, "with_cache"):
    warm = OAuthToolkit().with_jwks("certs.json").with_cache()
    @app.route("/warm")
    @warm.authenticated
    def warm_auth():
        return "<p>Hello, World!</p>"
'''


def wrk_rps(python: str, work: Path, token: str, seconds: int, rounds: int,
            routes: Tuple[str, ...]) -> Optional[Dict[str, float]]:
    """Best requests/s per route through gunicorn (1 sync worker) under wrk (1 connection)."""
    gunicorn = Path(os.path.abspath(python)).parent / "gunicorn"
    if not shutil.which("wrk") or not gunicorn.exists():
        return None
    (work / "bench_app.py").write_text(APP)
    server = subprocess.Popen([str(gunicorn), "-b", "127.0.0.1:0", "-w", "1", "bench_app:app"], cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        url = None
        assert server.stderr is not None
        for line in server.stderr:
            match = re.search(r"Listening at: (http://\S+)", line)
            if match:
                url = match.group(1)
            if "Booting worker" in line:
                break
        if url is None:
            return None
        time.sleep(0.5)
        best: Dict[str, float] = {}
        for _ in range(rounds):
            for route in routes:
                out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", "-H", f"Authorization: Bearer {token}",
                                      f"{url}/{route}"], capture_output=True, text=True, timeout=seconds + 30).stdout
                rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
                if "Non-2xx" in out:
                    raise RuntimeError(f"{route}: errors under load:\n{out}")
                best[route] = max(best.get(route, 0.0), rps)
        return best
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--original-python", help="python of a venv with the original oatk (pip install oatk)")
    parser.add_argument("-n", type=int, default=1000, help="calls per round (validate); Flask uses n/8")
    parser.add_argument("--wrk-seconds", type=int, default=1, help="seconds per wrk run (8 rounds per route)")
    args = parser.parse_args()

    import flask
    import jwt
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    import oatk

    work = Path(tempfile.mkdtemp(prefix="oatk-bench-"))
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (work / "private_key.pem").write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    public = private.public_key()

    ours = oatk.OAuthToolkit().with_private(work / "private_key.pem")
    (work / "certs.json").write_text(ours.jwks)
    now = int(time.time())
    token = ours.claims(sub="xtof", username="xtof", iat=now, exp=now + 3600).token
    assert token is not None
    validator = oatk.OAuthToolkit().with_jwks(work / "certs.json")
    assert validator.validate(token)["username"] == "xtof"
    assert jwt.decode(token, public, algorithms=["RS256"])["username"] == "xtof"
    signing_input, _, signature_b64 = token.rpartition(".")
    signature = jwt.utils.base64url_decode(signature_b64)

    def raw_verify() -> None:
        public.verify(signature, signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())

    print(f"oatk {oatk.__version__} ({Path(oatk.__file__).parent}), PyJWT {jwt.__version__}, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"token: RS256, 2048-bit key, {len(token)} bytes; best of {ROUNDS} (validate) and {2 * ROUNDS} (Flask) "
          "interleaved rounds\n")

    n = args.n
    warm = oatk.OAuthToolkit().with_jwks(work / "certs.json").with_cache()
    v = best_us({
        "oatk": lambda: validator.validate(token),
        "pyjwt": lambda: jwt.decode(token, public, algorithms=["RS256"]),
        "raw": raw_verify,
        "warm": lambda: warm.validate(token),
    }, n)

    app = flask.Flask("bench")

    @app.route("/bare")
    def bare() -> str:
        return "<p>Hello, World!</p>"

    @app.route("/auth")
    @validator.authenticated
    def auth() -> str:
        return "<p>Hello, World!</p>"

    @app.route("/claims")
    @validator.authenticated_with_claims(username="xtof")
    def claims() -> str:
        return "<p>Hello, World!</p>"

    @app.route("/warm")
    @warm.authenticated
    def warm_auth() -> str:
        return "<p>Hello, World!</p>"

    client = app.test_client()
    headers = {"Authorization": "Bearer " + token}
    for path in ("/bare", "/auth", "/claims", "/warm"):
        assert client.get(path, headers=headers).status_code == 200
    assert client.get("/auth").status_code == 401
    f = best_us({
        "bare": lambda: client.get("/bare", headers=headers),
        "auth": lambda: client.get("/auth", headers=headers),
        "claims": lambda: client.get("/claims", headers=headers),
        "warm": lambda: client.get("/warm", headers=headers),
    }, n // 8, rounds=2 * ROUNDS)

    original: Dict[str, Any] = {}
    if args.original_python:
        r = subprocess.run([args.original_python, "-c", ORIGINAL, str(work / "certs.json"), token, str(n),
                            str(2 * ROUNDS)], capture_output=True, text=True, timeout=900)
        if r.returncode == 0:
            original = json.loads(r.stdout.splitlines()[-1])
        else:
            print(f"(the original could not run: {r.stderr.strip().splitlines()[-1:]})\n")

    rows: List[List[str]] = [["validate(), per call", "µs", "vs oatk"]]
    rows.append(["oatk (this package)", f"{v['oatk']:.1f}", "1.00x"])
    rows.append(["PyJWT jwt.decode", f"{v['pyjwt']:.1f}", f"{v['pyjwt'] / v['oatk']:.2f}x slower"])
    if original:
        rows.append([f"original oatk {original['version']}", f"{original['validate']:.1f}",
                     f"{original['validate'] / v['oatk']:.2f}x slower"])
    rows.append(["raw RSA-2048 verify (cryptography)", f"{v['raw']:.1f}", "floor"])
    rows.append(["oatk warm (with_cache, token repeated)", f"{v['warm']:.1f}",
                 f"{v['oatk'] / v['warm']:.1f}x faster than cold"])
    table(rows)

    print()
    rows = [["Flask test client, per request", "µs", "req/s", "decorator adds"]]

    def flask_rows(label: str, bare_us: float, auth_us: float, claims_us: float) -> None:
        rows.append([f"{label}: bare route", f"{bare_us:.1f}", f"{1e6 / bare_us:,.0f}", ""])
        rows.append([f"{label}: @authenticated", f"{auth_us:.1f}", f"{1e6 / auth_us:,.0f}",
                     f"{auth_us - bare_us:+.1f} µs ({(auth_us - bare_us) / bare_us:+.0%})"])
        rows.append([f"{label}: @authenticated_with_claims", f"{claims_us:.1f}", f"{1e6 / claims_us:,.0f}",
                     f"{claims_us - bare_us:+.1f} µs ({(claims_us - bare_us) / bare_us:+.0%})"])

    flask_rows("oatk", f["bare"], f["auth"], f["claims"])
    rows.append(["oatk: @authenticated, warm (with_cache)", f"{f['warm']:.1f}", f"{1e6 / f['warm']:,.0f}",
                 f"{f['warm'] - f['bare']:+.1f} µs ({(f['warm'] - f['bare']) / f['bare']:+.0%})"])
    if original:
        flask_rows("original", original["flask_bare"], original["flask_auth"], original["flask_claims"])
    table(rows)

    served = {"oatk": wrk_rps(sys.executable, work, token, args.wrk_seconds, 8,
                              ("bare", "auth", "claims", "warm"))}
    if args.original_python:
        served["original"] = wrk_rps(args.original_python, work, token, args.wrk_seconds, 8,
                                       ("bare", "auth", "claims"))
    if served["oatk"]:
        print()
        rows = [["gunicorn (1 sync worker) + wrk (1 connection)", "req/s", "µs/req", "decorator adds"]]
        for label, result in served.items():
            if not result:
                continue
            base = 1e6 / result["bare"]
            for route, name in (("bare", "bare route"), ("auth", "@authenticated"),
                                ("claims", "@authenticated_with_claims"), ("warm", "@authenticated, warm")):
                if route not in result:
                    continue
                us = 1e6 / result[route]
                adds = "" if route == "bare" else f"{us - base:+.1f} µs ({(us - base) / base:+.0%})"
                rows.append([f"{label}: {name}", f"{result[route]:,.0f}", f"{us:.0f}", adds])
        table(rows)
    else:
        print("\n(wrk or gunicorn not found: no served figures)")

    ratio = v["pyjwt"] / v["oatk"]
    overhead = (f["auth"] - f["bare"]) / f["bare"]
    print(f"\ntarget: validate() >= 3x faster than PyJWT: {ratio:.2f}x  {'MET' if ratio >= 3 else 'MISSED'}")
    print(f"target: decorator adds < 20% to a bare Flask request (test client): {overhead:+.0%}  "
          f"{'MET' if overhead < 0.20 else 'MISSED'}")
    if served["oatk"]:
        s_over = served["oatk"]["bare"] / served["oatk"]["auth"] - 1
        print(f"target: decorator adds < 20% to a bare Flask request (gunicorn + wrk): {s_over:+.0%}  "
              f"{'MET' if s_over < 0.20 else 'MISSED'}")
    warm_over = (f["warm"] - f["bare"]) / f["bare"]
    print(f"        warm (with_cache), test client: {warm_over:+.0%}  {'MET' if warm_over < 0.20 else 'MISSED'}")
    return 0


def table(rows: List[List[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    sys.exit(main())
