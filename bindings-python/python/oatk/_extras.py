"""Each framework's glue needs its framework, which only its users install:
``pip install 'oatk[fastapi]'``, ``'oatk[quart]'``, ``'oatk[flask]'``, ``'oatk[async]'``."""

from __future__ import annotations

import importlib


def require(module: str, extra: str, user: str) -> None:
    """Import ``module``, or raise ``ImportError`` naming the extra that installs it."""
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{user} needs {module}: pip install 'oatk[{extra}]'", name=module) from e
