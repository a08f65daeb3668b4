#!/usr/bin/env python3
"""Soak: mixed load on the file-backed fake server for a while (10 minutes by
default), with the resident memory of the server and of this process (which
validates tokens through oatk's route guard) sampled every 10 s. The verdict:
after warm-up (the first third), memory is flat: the last sample is within
10% (and 8 MB) of the warm-up's end.

    python bench/soak.py --oatk target/release/oatk [--minutes 10] [--workers 8]

Not a test: it takes minutes and its numbers depend on the machine. It is run
by hand or by `make soak`; its output goes in issue closing notes.
"""
import argparse
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "core"))
import requests  # noqa: E402
from test_load_faults import CONFIG, code_flow  # noqa: E402  one flow, as the fault test runs it


def rss_kib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oatk", default="target/release/oatk", help="the oatk binary (default: %(default)s)")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--sample", type=float, default=10.0, help="seconds between memory samples")
    args = ap.parse_args()

    try:
        import oatk  # the Python package, for validation through the guard
    except ImportError:
        sys.exit("soak: the oatk Python package is not importable; run `make python-develop` and use .venv/bin/python")

    workdir = Path(tempfile.mkdtemp(prefix="oatk-soak-"))
    (workdir / "oatk.toml").write_text(CONFIG)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([os.path.abspath(args.oatk), "server", "run", "--port", str(port), "--data", "data",
                               "--quiet", "--config", "oatk.toml"], cwd=workdir, stdout=subprocess.PIPE, text=True)
    base = server.stdout.readline().strip()
    toolkit = oatk.OAuthToolkit().using_provider(base).with_client_id("webapp")
    counts = {"flows": 0, "refreshes": 0, "validations": 0, "errors": 0}
    lock = threading.Lock()
    stop = time.monotonic() + args.minutes * 60

    def worker():
        session_tokens = []
        while time.monotonic() < stop:
            try:
                tokens = code_flow(base)
                refreshed = requests.post(f"{base}/oauth/token", auth=("webapp", "webapp-secret"), timeout=30, data={
                    "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()
                session_tokens = [refreshed["access_token"]] + session_tokens[:50]
                for token in session_tokens:
                    toolkit.validate(token)
                with lock:
                    counts["flows"] += 1
                    counts["refreshes"] += 1
                    counts["validations"] += len(session_tokens)
            except Exception as e:  # noqa: BLE001 - counted and shown, the soak goes on
                with lock:
                    counts["errors"] += 1
                print(f"soak: {type(e).__name__}: {e}", file=sys.stderr)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    samples = []
    print(f"{'t (s)':>6} {'server RSS (MiB)':>17} {'client RSS (MiB)':>17} {'flows':>7} {'validations':>12} {'errors':>7}")
    started = time.monotonic()
    try:
        while any(t.is_alive() for t in threads):
            time.sleep(args.sample)
            sample = (rss_kib(server.pid), rss_kib(os.getpid()))
            samples.append(sample)
            with lock:
                c = dict(counts)
            print(f"{time.monotonic() - started:6.0f} {sample[0] / 1024:17.1f} {sample[1] / 1024:17.1f} "
                  f"{c['flows']:7d} {c['validations']:12d} {c['errors']:7d}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)

    warm = samples[max(0, len(samples) // 3 - 1)]
    last = samples[-1]
    verdicts = []
    for name, a, b in (("server", warm[0], last[0]), ("client", warm[1], last[1])):
        growth = b - a
        flat = growth <= max(a * 0.10, 8 * 1024)
        verdicts.append(flat)
        print(f"{name}: {a / 1024:.1f} MiB after warm-up, {b / 1024:.1f} MiB at the end "
              f"({growth / 1024:+.1f} MiB): {'flat' if flat else 'GROWING'}")
    print(f"errors: {counts['errors']}")
    sys.exit(0 if all(verdicts) and counts["errors"] == 0 else 1)


if __name__ == "__main__":
    main()
