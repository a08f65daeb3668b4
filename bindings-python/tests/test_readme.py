"""The README's snippets, run in order in one directory: ```console lines
(`$ command`, with the expected output below it where shown) and ```python
blocks (in one shared namespace). ```py blocks are illustrations that block
forever (server.run) and are covered by test_fake.py. `pip install` and
`make` lines are what `make bench-python` and the Makefile do."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from conftest import REPO, env_with_venv, run

README = REPO / "bindings-python/README.md"


def snippets() -> Iterator[Tuple[str, str, int]]:
    text = README.read_text()
    for match in re.finditer(r"^```(\w+)\n(.*?)^```$", text, re.S | re.M):
        yield match.group(1), match.group(2), text[: match.start()].count("\n") + 1


def console_steps(body: str) -> List[Tuple[str, List[str]]]:
    steps: List[Tuple[str, List[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def test_readme_has_snippets() -> None:
    kinds = [kind for kind, _, _ in snippets()]
    assert kinds.count("python") >= 5 and kinds.count("console") >= 3


def test_readme_snippets_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = env_with_venv()
    namespace: dict = {"__name__": "readme"}
    ran = 0
    for kind, body, line in snippets():
        if kind == "console":
            for command, expected in console_steps(body):
                if command.startswith(("pip install", "make ")):
                    continue
                r = run(command, cwd=tmp_path, env=env, check=False)
                assert r.returncode == 0, f"README line {line}: {command}\n{r.stderr}"
                if expected:
                    assert r.stdout.splitlines() == expected, f"README line {line}: {command}"
                ran += 1
        elif kind == "python":
            try:
                exec(compile(body, f"README.md:{line}", "exec"), namespace)
            except Exception as e:  # pragma: no cover - the report is the point
                raise AssertionError(f"README python block at line {line} failed: {e!r}") from e
            ran += 1
    assert ran >= 10
    assert os.path.exists(tmp_path / "certs.json")
