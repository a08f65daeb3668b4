#!/usr/bin/env python3
"""Run oatk 0.2.1's own test suite against this package, file by file.

The suite comes from the original's sdist on the Python registry, fetched at
test time into build/ (never committed):

    pip download oatk==0.2.1 --no-deps --no-binary :all:

Its tests/ run unchanged (with original_conftest.py beside them: an event
loop for its sync fixtures) against the oatk installed for ``--python``. The
table counts, per file: passed, skipped (0.2.1's own stubs), and the failures
by category from expected_failures.toml. This script fails when:

- a test fails that expected_failures.toml does not list (a regression), or
  one it lists passes (the list must stay true);
- fewer than 90% of the tests that count pass. Counted apart, as issue 11
  asks: tests of the original's private attributes, and tests mocking httpx
  (which cannot see core's HTTP client). The tests that assert the opposite
  of what issue 11 requires (403 for an invalid token) count as failures; the
  rate without them is printed too.

With ``--reference PYTHON`` (an interpreter with the original 0.2.1 and
pytest), the same files also run against the original, to show the suite and
the shim are sound: there every test passes.

    python bindings-python/tests/original/run_original_suite.py \\
        --python .venv/bin/python --reference build/original-venv/bin/python
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
VERSION = "0.2.1"
REQUIRED_RATE = 0.90
#: Categories counted apart from the rate (see expected_failures.toml).
APART = ("private", "httpx-mock")
CATEGORIES = ("private", "httpx-mock", "requirement", "different")
PYTEST_INI = """[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""


def fetch(work: Path, python: str) -> Path:
    """The sdist's tests/, downloaded and unpacked once into ``work``."""
    sdist_root = work / "sdist" / f"oatk-{VERSION}"
    if not (sdist_root / "tests").is_dir():
        download = work / "download"
        download.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [python, "-m", "pip", "download", f"oatk=={VERSION}", "--no-deps", "--no-binary", ":all:",
             "--quiet", "--disable-pip-version-check", "-d", str(download)],
            check=True,
        )
        archive = download / f"oatk-{VERSION}.tar.gz"
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(work / "sdist", filter="data")
            else:  # pragma: no cover - Python < 3.12 without the backport
                tar.extractall(work / "sdist")
    return sdist_root


def prepare(work: Path, sdist_root: Path, name: str) -> Path:
    """A fresh directory with the suite's tests/, the shim and a pytest.ini."""
    suite = work / name
    if suite.exists():
        shutil.rmtree(suite)
    shutil.copytree(sdist_root / "tests", suite / "tests")
    shutil.copy(HERE / "original_conftest.py", suite / "conftest.py")
    (suite / "pytest.ini").write_text(PYTEST_INI)
    return suite


def run_suite(python: str, suite: Path) -> Dict[str, str]:
    """node id -> "passed" | "skipped" | "failed", from pytest's JUnit XML."""
    report = suite / "report.xml"
    log = suite / "pytest.log"
    with open(log, "w") as out:
        subprocess.run(
            [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-W", "ignore", "-o", "console_output_style=classic",
             f"--junitxml={report}", "tests"],
            cwd=suite, stdout=out, stderr=subprocess.STDOUT, timeout=600,
        )
    if not report.exists():
        sys.exit(f"pytest wrote no report; see {log}")
    outcomes: Dict[str, str] = {}
    for case in ET.parse(report).iter("testcase"):
        module = case.get("classname", "").split(".")
        # tests.test_x.TestClass -> tests/test_x.py::TestClass::name
        path = "/".join(module[:2]) + ".py"
        node = "::".join([path, *module[2:], case.get("name", "")])
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        # a teardown error is reported as a second entry: the worst outcome wins
        if outcomes.get(node) != "failed":
            outcomes[node] = outcome
    return outcomes


def load_expected() -> Dict[str, Tuple[str, str]]:
    table = tomllib.loads((HERE / "expected_failures.toml").read_text())
    expected: Dict[str, Tuple[str, str]] = {}
    for category, tests in table.items():
        if category not in CATEGORIES:
            sys.exit(f"expected_failures.toml: unknown category [{category}]")
        for node, reason in tests.items():
            expected[node] = (category, reason)
    return expected


def table(outcomes: Dict[str, str], expected: Dict[str, Tuple[str, str]]) -> List[str]:
    columns = ("passed", "skipped", *CATEGORIES, "unexpected")
    counts: Dict[str, Counter] = defaultdict(Counter)
    for node, outcome in outcomes.items():
        path = node.split("::")[0].split("/")[-1]
        if outcome == "failed":
            counts[path][expected[node][0] if node in expected else "unexpected"] += 1
        else:
            counts[path][outcome] += 1
    width = max(len(p) for p in counts) + 2
    lines = [f"{'file':<{width}}" + "".join(f"{c:>12}" for c in (*columns, "total"))]
    total: Counter = Counter()
    for path in sorted(counts):
        total.update(counts[path])
        lines.append(f"{path:<{width}}" + "".join(f"{counts[path][c]:>12}" for c in columns)
                     + f"{sum(counts[path].values()):>12}")
    lines.append(f"{'all files':<{width}}" + "".join(f"{total[c]:>12}" for c in columns) + f"{sum(total.values()):>12}")
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="interpreter with this oatk and pytest")
    parser.add_argument("--reference", help="interpreter with the original oatk 0.2.1 and pytest")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "original-suite")
    args = parser.parse_args(argv)
    # absolute, not resolved: a venv's python is a symlink that must stay in its venv
    args.python = os.path.abspath(args.python)
    args.reference = os.path.abspath(args.reference) if args.reference else None

    sdist_root = fetch(args.work, args.python)
    expected = load_expected()
    problems: List[str] = []

    if args.reference:
        reference = run_suite(args.reference, prepare(args.work, sdist_root, "reference"))
        failed = sorted(n for n, o in reference.items() if o == "failed")
        ran = sum(1 for o in reference.values() if o != "skipped")
        print(f"oatk {VERSION} itself, the same files and shim: {ran - len(failed)} of {ran} tests pass")
        problems += [f"fails against the original itself: {n}" for n in failed]

    outcomes = run_suite(args.python, prepare(args.work, sdist_root, "ours"))
    if not outcomes:
        problems.append("no test ran")
    print(f"oatk {VERSION}'s own test suite against this package (failures by category, see expected_failures.toml):")
    for line in table(outcomes, expected):
        print("  " + line)

    for node, outcome in sorted(outcomes.items()):
        if outcome == "failed" and node not in expected:
            problems.append(f"fails, and is not in expected_failures.toml: {node}")
        if outcome == "passed" and node in expected:
            problems.append(f"passes now: remove it from expected_failures.toml: {node}")
    for node in sorted(set(expected) - set(outcomes)):
        problems.append(f"listed in expected_failures.toml but did not run: {node}")

    ran = {n: o for n, o in outcomes.items() if o != "skipped"}
    category = {n: expected[n][0] for n, o in ran.items() if o == "failed" and n in expected}
    counted = [n for n in ran if category.get(n) not in APART]
    passed = sum(1 for n in counted if ran[n] == "passed")
    strict = [n for n in counted if category.get(n) != "requirement"]
    rate_all = passed / len(counted) if counted else 0.0
    rate = passed / len(strict) if strict else 0.0
    print(f"  tests that count (all that ran, less private-attribute and httpx-mock tests): "
          f"{passed} of {len(counted)} pass ({rate_all:.1%}); required {REQUIRED_RATE:.0%}")
    print(f"  less also the tests asserting 403 for an invalid token (issue 11 requires 401): "
          f"{passed} of {len(strict)} pass ({rate:.1%})")
    if rate_all < REQUIRED_RATE:
        problems.append(f"pass rate {rate_all:.1%} is under {REQUIRED_RATE:.0%}")

    print("  the failures that count, and why:")
    for node in counted:
        if ran[node] == "failed" and node in expected:
            print(f"    [{expected[node][0]}] {node}: {expected[node][1]}")
    if problems:
        print("FAILED: oatk 0.2.1's suite:\n  " + "\n  ".join(problems), file=sys.stderr)
        print(f"  (pytest's output: {args.work}/ours/pytest.log)", file=sys.stderr)
        return 1
    print("oatk 0.2.1's suite: as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
