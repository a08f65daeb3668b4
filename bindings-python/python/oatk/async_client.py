"""``AsyncHttpClient``, kept from the original 0.2 for code that imported it:
an ``async with`` wrapper around one ``httpx.AsyncClient``.

oatk itself does not use it: provider discovery and JWKS fetches are the Rust
core's (``AsyncOAuthToolkit.using_provider``). It needs httpx
(``pip install 'oatk[async]'``).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Dict, Optional, Type

from ._extras import require

require("httpx", "async", "oatk.async_client")

import httpx

__all__ = ["AsyncHttpClient"]


class AsyncHttpClient:
    """``async with AsyncHttpClient() as client: await client.get(url)``.

    ``get`` and ``post`` return the ``httpx.Response``; outside ``async with``
    they raise ``RuntimeError``. ``timeout`` is in seconds.
    """

    def __init__(self, timeout: float = 30.0) -> None:
        self._timeout = timeout
        self._client: Optional[httpx.AsyncClient] = None

    @property
    def is_connected(self) -> bool:
        """Whether the client is open (inside ``async with``)."""
        return self._client is not None

    async def __aenter__(self) -> AsyncHttpClient:
        self._client = httpx.AsyncClient(timeout=self._timeout)
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _open(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("AsyncHttpClient must be used as an async context manager")
        return self._client

    async def get(
        self, url: str, params: Optional[Dict[str, Any]] = None, headers: Optional[Dict[str, str]] = None
    ) -> httpx.Response:
        return await self._open().get(url, params=params, headers=headers)

    async def post(
        self,
        url: str,
        data: Optional[Dict[str, Any]] = None,
        json: Optional[Dict[str, Any]] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> httpx.Response:
        return await self._open().post(url, data=data, json=json, headers=headers)
