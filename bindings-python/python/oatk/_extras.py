"""Each framework's glue needs its framework, which only its users install:
``pip install 'oatk[fastapi]'``, ``'oatk[quart]'``, ``'oatk[flask]'``, ``'oatk[async]'``."""

from __future__ import annotations

import importlib.util


def require(module: str, extra: str, user: str) -> None:
    """Raise ``ImportError`` naming the extra to install when ``module`` is not installed."""
    if importlib.util.find_spec(module) is None:
        raise ImportError(f"{user} needs {module}: pip install 'oatk[{extra}]'", name=module)
