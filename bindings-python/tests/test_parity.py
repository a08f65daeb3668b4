"""Feature parity: every core operation in tests/parity.json has its Python name.

The "python" column is an attribute path from the package ``oatk``
(``OAuthToolkit.with_now``, ``fake.RunningServer.url``); ``null`` means the
operation has no place in Python and the table says why. What each name does
is tested where its feature is (test_toolkit, test_fake, test_errors...).
"""

from __future__ import annotations

import json
from typing import Any, List, Optional

import oatk

from conftest import REPO

TABLE = json.loads((REPO / "tests/parity.json").read_text())


def resolve(path: str) -> Optional[Any]:
    obj: Any = oatk
    for part in path.split("."):
        if not hasattr(obj, part):
            return None
        obj = getattr(obj, part)
    return obj


def test_the_table_covers_core() -> None:
    cores = [op["core"] for op in TABLE["operations"]]
    assert len(cores) == len(set(cores)) >= 30
    for op in TABLE["operations"]:
        assert "python" in op, op["core"]
        assert op["python"] is not None or op.get("why"), f"{op['core']}: null without a reason"


def test_every_operation_has_its_python_name() -> None:
    missing: List[str] = []
    for op in TABLE["operations"]:
        name = op["python"]
        if name is not None and resolve(name) is None:
            missing.append(f"{op['core']} -> oatk.{name}")
    assert missing == [], "missing in the Python package:\n  " + "\n  ".join(missing)


def test_resolve_fails_for_a_missing_name() -> None:
    assert resolve("OAuthToolkit.with_private") is oatk.OAuthToolkit.with_private
    assert resolve("fake.RunningServer.url") is oatk.fake.RunningServer.url
    assert resolve("OAuthToolkit.no_such_method") is None
    assert resolve("nope.x") is None
