"""``OAuthToolkit``: the original's chainable class, over the Rust core."""

from __future__ import annotations

import calendar
import datetime
import json
import os
from typing import Any, Callable, Dict, Mapping, Optional, TypeVar, Union

from . import _oatk
from . import decorators as _decorators
from .errors import InvalidArgumentError
from . import fake as _fake

F = TypeVar("F", bound=Callable[..., Any])
_T = TypeVar("_T", bound="OAuthToolkit")

#: Registered claim names PyJWT (and so the original) accepted as datetimes (RFC 7519 4.1).
_NUMERIC_DATES = ("exp", "iat", "nbf")


def _numeric_dates(claims: Dict[str, Any]) -> Dict[str, Any]:
    for name in _NUMERIC_DATES:
        value = claims.get(name)
        if isinstance(value, datetime.datetime):
            claims[name] = calendar.timegm(value.utctimetuple())
    return claims


class OAuthToolkit:
    """Keys, claims and validation settings, with chainable methods.

    Every ``with_*``/``from_*``/``claims`` method returns the toolkit itself::

        >>> OAuthToolkit().with_private("private_key.pem").claims(hello="world").token
        'eyJhbGciOiJSUzI1NiIsImtpZCI6...'

    It is safe to share one toolkit between threads: validation and minting
    run in Rust without holding the GIL.
    """

    __module__ = "oatk"

    def __init__(self) -> None:
        self._native = _oatk.Toolkit()
        self._provider_url: Optional[str] = None
        # As in the original, `fake.server` serves with the latest toolkit.
        _fake._register(self)

    # -- keys --------------------------------------------------------------

    def with_private(self: _T, path: Union[str, "os.PathLike[str]"]) -> _T:
        """Sign with the private key in this PEM file (PKCS#1, PKCS#8, SEC1; RSA, EC, Ed25519).

        Its public half is trusted and published too, so a private key alone is enough.
        """
        self._native.with_private(path)
        return self

    def with_public(self: _T, path: Union[str, "os.PathLike[str]"]) -> _T:
        """Trust (and publish) the public key in this PEM file."""
        self._native.with_public(path)
        return self

    def with_jwks(self: _T, jwks: Union[str, bytes, "os.PathLike[str]", Mapping[str, Any]]) -> _T:
        """Trust and publish a JSON Web Key Set: a file path, JSON text (str or bytes) or a dict.

        Tokens are then minted with the set's first ``kid``, as the original did.
        """
        if isinstance(jwks, Mapping):
            text = json.dumps(jwks)
        elif isinstance(jwks, (bytes, bytearray)):
            text = bytes(jwks).decode("utf-8")
        else:
            text = os.fspath(jwks)
        self._native.with_jwks(text)
        return self

    def using_provider(self: _T, provider_url: str) -> _T:
        """Trust an OpenID provider's keys: its discovery document URL (or issuer URL).

        Unlike the original, an unreachable provider raises :class:`oatk.NetworkError`
        instead of logging and returning None. Keys are refetched (rate limited)
        when a token names an unknown ``kid``.
        """
        self._native.using_provider(provider_url)
        self._provider_url = provider_url
        return self

    def init_from_provider(self: _T) -> _T:
        """Fetch the provider's discovery document and keys again (the original 0.2's name)."""
        if self._provider_url is None:
            raise InvalidArgumentError("no provider: use using_provider(url) first")
        return self.using_provider(self._provider_url)

    def with_client_id(self: _T, client_id: str) -> _T:
        """Require tokens to name this client in ``aud``."""
        self._native.with_client_id(client_id)
        return self

    def with_issuer(self: _T, issuer: str) -> _T:
        """Require tokens to carry exactly this ``iss``."""
        self._native.with_issuer(issuer)
        return self

    def with_algorithm(self: _T, algorithm: str) -> _T:
        """Sign with ``algorithm`` (e.g. ``"PS256"``) instead of the key's default."""
        self._native.with_algorithm(algorithm)
        return self

    def with_leeway(self: _T, seconds: int) -> _T:
        """Tolerate this much clock skew on ``exp`` and ``nbf`` (default 0)."""
        self._native.leeway = seconds
        return self

    def with_cache(self: _T, capacity: int = 1024) -> _T:
        """Remember up to ``capacity`` verified tokens: a repeated token (a browser
        session reuses its access token) skips the signature check, about 10x
        faster. ``exp``, ``nbf``, ``aud`` and ``iss`` are still checked on every
        call, and loading other keys invalidates it. ``0`` turns it off (the default).
        """
        self._native.with_cache(capacity)
        return self

    def requiring_exp(self: _T, required: bool = True) -> _T:
        """Refuse tokens without ``exp`` (default: accepted, as the seed's tokens have none)."""
        self._native.require_exp = required
        return self

    # -- the token to work on ----------------------------------------------

    def from_file(self: _T, path: Union[str, "os.PathLike[str]"]) -> _T:
        """Read the token to work on from a file (whitespace and ``Bearer `` are dropped)."""
        self._native.from_file(path)
        return self

    def from_clipboard(self: _T) -> _T:
        """Read the token to work on from the clipboard (wl-paste, xclip, xsel or pbpaste)."""
        self._native.from_clipboard()
        return self

    def with_token(self: _T, token: str) -> _T:
        """Use this token text as the token to work on."""
        self._native.with_token(token)
        return self

    # -- minting -------------------------------------------------------------

    def claims(self: _T, claimsdict: Optional[Mapping[str, Any]] = None, /, **claimset: Any) -> _T:
        """Set the claims ``token`` mints: keyword claims, updated with ``claimsdict``.

        ``exp``, ``iat`` and ``nbf`` may be ``datetime`` objects, as with PyJWT.
        """
        merged = dict(claimset)
        if claimsdict:
            merged.update(claimsdict)
        self._native.claims(_numeric_dates(merged))
        return self

    @property
    def token(self) -> Optional[str]:
        """A token for the claims given to :meth:`claims`; ``None`` without a private key."""
        return self._native.token()

    def mint(self, claims: Optional[Mapping[str, Any]] = None, /, **claimset: Any) -> str:
        """A token for exactly these claims (the pending ``claims`` are left alone)."""
        merged = dict(claimset)
        if claims:
            merged.update(claims)
        return self._native.mint(_numeric_dates(merged))

    @property
    def jwks(self) -> str:
        """The JSON Web Key Set to publish, as indented JSON text."""
        return self._native.jwks()

    # -- reading tokens ------------------------------------------------------

    def validate(self, token: Optional[str] = None) -> Dict[str, Any]:
        """Verify ``token`` (or the one read by ``from_file``/``from_clipboard``) and return its claims.

        Raises an :class:`oatk.InvalidTokenError` subclass (also a ``ValueError``)
        when the token must not be accepted.
        """
        return self._native.validate(self._token(token))

    def decode(self, token: Optional[str] = None) -> Dict[str, Any]:
        """The claims, **not verified**. For display and debugging."""
        return self._native.decode(self._token(token))

    def header(self, token: Optional[str] = None) -> Dict[str, Any]:
        """The JOSE header, **not verified**."""
        return self._native.header(self._token(token))

    def _token(self, token: Optional[str]) -> Optional[str]:
        # As in the original, a falsy token means "the one read by from_file/from_clipboard".
        if not token and self._native.current_token is not None:
            return None
        return token

    @property
    def version(self) -> str:
        return self._native.version

    # -- the fake server -----------------------------------------------------

    @property
    def server(self) -> "_fake.FakeServer":
        """The fake OAuth server, signing with this toolkit's keys: ``.server.run(port=5000)``."""
        return _fake.FakeServer(self)

    # -- Flask -----------------------------------------------------------------

    def authenticated(self, f: F) -> F:
        """Flask route decorator: a valid bearer token is required."""
        return _decorators.authenticated(self, f)

    def authenticated_with_claims(self, **required_claims: Any) -> Callable[[F], F]:
        """Flask route decorator: a valid bearer token whose claims satisfy ``required_claims``.

        A value must be equal; a list must all be contained in the claim; a
        callable is called with the claim's value and must return true.
        """
        return _decorators.authenticated_with_claims(self, required_claims)

    def execute_authenticated(
        self,
        f: Callable[..., Any],
        required_claims: Optional[Mapping[str, Any]] = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Check the current Flask request, then call ``f(*args, **kwargs)`` or return the refusal."""
        return _decorators.execute_authenticated(self, f, required_claims, *args, **kwargs)
