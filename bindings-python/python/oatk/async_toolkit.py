"""``AsyncOAuthToolkit``: ``OAuthToolkit`` for coroutines, as in the original 0.2.

The same chainable toolkit; the calls that read a file, fetch from the network
or check a signature are awaitable, as they were in oatk 0.2.1::

    async with AsyncOAuthToolkit() as oauth:
        await oauth.using_provider("https://example.com/.well-known/openid-configuration")
        claims = await oauth.with_client_id("my-api").validate(token)

Each of them is one call into the Rust core, run on a worker thread with the
GIL released, so the event loop goes on serving while a provider answers or
a signature is checked. The rules, the errors and ``with_cache`` are those
of ``OAuthToolkit``: both configure the same native toolkit.

``authenticated`` and ``authenticated_with_claims`` protect Quart routes
(``oatk.quart``), as the original's did.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Callable, Dict, Mapping, Optional, Type, TypeVar

from . import _oatk
from ._guard import native, offload
from ._toolkit import JwksSource, PathLike, ToolkitBase, jwks_text, numeric_dates

__all__ = ["AsyncOAuthToolkit"]

F = TypeVar("F", bound=Callable[..., Any])
_A = TypeVar("_A", bound="AsyncOAuthToolkit")


class AsyncOAuthToolkit(ToolkitBase):
    """Keys, claims and validation settings, with chainable methods; the ones
    that do I/O or crypto are coroutines::

        oauth = await AsyncOAuthToolkit().with_private("private_key.pem")
        token = oauth.claims(hello="world").token
        assert (await oauth.validate(token)) == {"hello": "world"}

    Settings (``with_client_id``, ``with_cache``, ``claims``...), ``token``,
    ``jwks``, ``decode`` and ``header`` are plain calls, as in the original.
    """

    __module__ = "oatk"

    async def __aenter__(self: _A) -> _A:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        return None

    # -- keys --------------------------------------------------------------

    async def with_private(self: _A, path: PathLike) -> _A:
        """Sign with the private key in this PEM file; its public half is trusted too."""
        await offload(self._native.with_private, path)
        return self

    async def with_public(self: _A, path: PathLike) -> _A:
        """Trust (and publish) the public key in this PEM file."""
        await offload(self._native.with_public, path)
        return self

    async def with_jwks(self: _A, jwks: JwksSource) -> _A:
        """Trust and publish a JSON Web Key Set: a file path, JSON text (str or bytes) or a dict."""
        await offload(self._native.with_jwks, jwks_text(jwks))
        return self

    async def using_provider(self: _A, provider_url: str) -> _A:
        """Trust an OpenID provider's keys (OIDC discovery, then its JWKS), fetched
        off the event loop. An unreachable provider raises :class:`oatk.NetworkError`
        (the original logged and returned ``None``)."""
        await offload(self._native.using_provider, provider_url)
        self._provider_url = provider_url
        return self

    async def init_from_provider(self: _A) -> _A:
        """Fetch the provider's discovery document and keys again."""
        return await self.using_provider(self._provider())

    # -- the token to work on ----------------------------------------------

    async def from_file(self: _A, path: PathLike) -> _A:
        """Read the token to work on from a file (whitespace and ``Bearer `` are dropped)."""
        await offload(self._native.from_file, path)
        return self

    # -- minting -------------------------------------------------------------

    async def mint(self, claims: Optional[Mapping[str, Any]] = None, /, **claimset: Any) -> str:
        """A token for exactly these claims (the pending ``claims`` are left alone)."""
        merged = dict(claimset)
        if claims:
            merged.update(claims)
        return await offload(self._native.mint, numeric_dates(merged))

    # -- reading tokens ------------------------------------------------------

    async def validate(self, token: Optional[str] = None) -> Dict[str, Any]:
        """Verify ``token`` (or the one read by ``from_file``) and return its claims;
        an :class:`oatk.InvalidTokenError` subclass when it must not be accepted."""
        return await native("validate", _oatk.Toolkit.validate, self._native, self._token(token))

    async def validate_with_claims(self, token: Optional[str], required: Mapping[str, Any]) -> Dict[str, Any]:
        """:meth:`validate`, then the required values and lists; :class:`oatk.ClaimsError` when not met."""
        return await offload(self._native.validate_with_claims, self._token(token), dict(required))

    # -- Quart -----------------------------------------------------------------

    # oatk.quart imports Quart, which only Quart users have (`oatk[quart]`).

    def authenticated(self, f: F) -> F:
        """Quart route decorator: a valid bearer token is required."""
        from . import quart as _quart

        return _quart.authenticated(self._native, f)

    def authenticated_with_claims(self, **required_claims: Any) -> Callable[[F], F]:
        """Quart route decorator: a valid bearer token whose claims satisfy ``required_claims``
        (values equal, lists contained, callables given the claim's value return true)."""
        from . import quart as _quart

        return _quart.authenticated_with_claims(self._native, required_claims)

    async def execute_authenticated(
        self,
        f: Callable[..., Any],
        required_claims: Optional[Mapping[str, Any]] = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Check the current Quart request, then call (and await) ``f(*args, **kwargs)``,
        or return the refusal."""
        from . import quart as _quart

        return await _quart.execute_authenticated(self._native, f, required_claims, *args, **kwargs)
