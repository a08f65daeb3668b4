#!/usr/bin/env python3
"""One table of every benchmark ratio with its target, from the JSON files the
benchmark scripts leave in build/bench/results (RESULTS=dir changes where).
`make bench` prints it last; `make bench-summary` prints it again.

    python3 bench/summary.py [results-dir] [--markdown]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

# The order of the table, and what each row is when its script did not run.
ROWS = [
    ("express.vs_peer", "Express: oatk middleware req/s ÷ fastest peer", "make bench-node"),
    ("express.vs_open", "Express: oatk middleware req/s ÷ unprotected route", "make bench-node"),
    ("express.offload", "Express: RSA check on worker threads ÷ on the event loop", "make bench-node"),
    ("node.async_scaling", "Node validateAsync (64 in flight) ÷ validate() loop", "make bench-node"),
    ("node.validate_vs_c", "Node validate() minus C oatk_validate, same token", "make bench-node"),
    ("node.validate_vs_peers", "Node validate() vs the fastest peer", "make bench-node"),
    ("flask.vs_peer", "Flask: @oatk.authenticated ÷ flask-jwt-extended", "make bench-flask"),
    ("flask.vs_open", "Flask: @oatk.authenticated ÷ unprotected route", "make bench-flask"),
    ("python.threads", "Python validate() from 2 threads ÷ 1 thread", "make bench-flask"),
    ("fastapi.vs_original", "FastAPI: oatk dependency ÷ oatk 0.2.1's", "make bench-python"),
    ("fastapi.vs_open", "FastAPI: oatk dependency (with_cache) ÷ unprotected route", "make bench-python"),
    ("core.validate", "Core RS256 validate ÷ openssl speed verify (rate)", "make bench-core"),
    ("core.mint", "Core RS256 mint ÷ openssl speed sign (rate)", "make bench-core"),
    ("core.overhead_instructions", "Core: instructions around the signature check", "make bench-core"),
    ("server.token_cpu", "Fake server client_credentials CPU per token ÷ RSA signature", "make bench-server"),
    ("server.token_rps", "Fake server client_credentials req/s ÷ oauth2-mock-server", "make bench-server"),
    ("server.jwks_rps", "Fake server JWKS req/s ÷ oauth2-mock-server", "make bench-server"),
    ("ffi.boundary", "C oatk_validate ÷ Rust core", "make bench-ffi"),
    ("core.warm", "Warm cache, Rust: repeated token (exp checked)", "make bench-core"),
    ("ffi.warm", "Warm cache, C oatk_validate", "make bench-ffi"),
    ("python.warm", "Warm cache, Python validate()", "make bench-flask"),
    ("node.warm", "Warm cache, Node validate()", "make bench-node"),
]


def fmt(value: Any, unit: str) -> str:
    if value is None:
        return ""
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "instr":
        return f"{value:,.0f}"
    return f"{value:.2f} {unit}"


def reachable(row: Dict[str, Any]) -> bool:
    """Whether the row's limit here (the most, or for a `<=` target the
    least, any implementation could measure on this machine in this run)
    satisfies its target at all."""
    limit, target = row.get("limit"), str(row.get("target", "")).split()
    if not isinstance(limit, (int, float)) or len(target) != 2:
        return True
    try:
        bound = float(target[1])
    except ValueError:
        return True
    return {">=": limit >= bound, ">": limit > bound, "<=": limit <= bound, "<": limit < bound}.get(target[0], True)


def main() -> int:
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        return 0
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "build" / "bench" / "results"
    found: Dict[str, Dict[str, Any]] = {}
    when: Dict[str, float] = {}
    loads: List[float] = []
    for path in sorted(root.glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data.get("load"), (int, float)):
            loads.append(float(data["load"]))
        for row in data.get("results", []):
            found[row["id"]] = row
            when[row["id"]] = path.stat().st_mtime
    table = [["what", "measured", "target", "limit here", ""]]
    limits: List[str] = []
    for key, what, how in ROWS:
        row = found.get(key)
        if row is None:
            table.append([what, "not run", "", "", f"({how})"])
            continue
        met = row.get("met")
        verdict = "met" if met is True else "MISSED" if met is False else ""
        if met is False and not reachable(row):
            verdict = "MISSED: out of reach here"
        limit = fmt(row.get("limit"), row.get("unit", ""))
        if limit:
            limits.append(f"{row.get('what', what)}: {row.get('limitWhy', '')}")
        table.append([row.get("what", what), fmt(row.get("value"), row.get("unit", "")), row.get("target", ""),
                      limit, verdict])
    if markdown:
        print("| what | measured | target | limit here | |")
        print("|---|---:|---|---:|---|")
        for r in table[1:]:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(r[i]) for r in table) for i in range(5)]
        print()
        for i, r in enumerate(table):
            print("  ".join(c.ljust(w) if j in (0, 2, 4) else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))))
            if i == 0:
                print("  ".join("-" * w for w in widths))
    if limits:
        print("\nlimit here: what no implementation could beat on this machine in the same run, measured beside it")
        for line in limits:
            print(f"  {line}")
    if when:
        oldest = time.strftime("%Y-%m-%d %H:%M", time.localtime(min(when.values())))
        newest = time.strftime("%Y-%m-%d %H:%M", time.localtime(max(when.values())))
        load = f"; load average during the runs {min(loads):.1f} to {max(loads):.1f}" if loads else ""
        print(f"\n(results from {root}, {oldest} to {newest}{load}; 2 cores shared with other work: compare ratios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
