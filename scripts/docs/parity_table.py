#!/usr/bin/env python3
"""The "one name per operation" page of the documentation site, made from
tests/parity.json (the feature-parity table every binding's tests check).

    python3 scripts/docs/parity_table.py tests/parity.json OUT.md

`make docs` runs it at build time; the page is never committed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = [("core", "Rust core"), ("python", "Python"), ("node", "Node"), ("c", "C"), ("go", "Go")]


def cell(value: object) -> str:
    if not value:
        return "(none)"
    text = str(value).replace(".prototype.", ".")
    return f"`{text}`".replace("|", "\\|")


def main(argv: list) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    table = json.loads(Path(argv[1]).read_text())
    operations = table["operations"]
    if not operations:
        raise SystemExit(f"{argv[1]}: no operations")
    lines = [
        "# One name per operation",
        "",
        "Every operation of the core and its name in each binding, from `tests/parity.json`"
        " (generated when the site is built). Each binding's test suite checks its column:"
        " a name listed here exists there. \"(none)\" comes with the reason the binding does"
        " without.",
        "",
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    reasons = []
    for op in operations:
        lines.append("| " + " | ".join(cell(op.get(key)) for key, _ in COLUMNS) + " |")
        if op.get("why"):
            reasons.append(f"- `{op['core']}`: {op['why']}")
    if reasons:
        lines += ["", "## Where a binding has none", ""] + reasons
    out = Path(argv[2])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"parity_table: {len(operations)} operations -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
