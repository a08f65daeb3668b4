"""``OAuthToolkit``, the original's chainable class, and the in-process fake
server, over the Rust core.

They share this module because each hands out the other: ``toolkit.server``
is a :class:`FakeServer` and ``RunningServer.toolkit()`` a new
``OAuthToolkit``. Their public homes are ``oatk`` and ``oatk.fake``. What
``AsyncOAuthToolkit`` (``async_toolkit.py``) shares with ``OAuthToolkit`` is
:class:`ToolkitBase`. The framework glue (``decorators.py``, ``quart.py``,
``fastapi.py``) and the server get the native toolkit through
:meth:`ToolkitBase.native`.
"""

from __future__ import annotations

import calendar
import datetime
import json
import os
import sys
import time
import weakref
from types import TracebackType
from typing import Any, Callable, ClassVar, Dict, Mapping, Optional, Type, TypeVar, Union

from . import _oatk
from . import decorators as _decorators
from .errors import InvalidArgumentError

F = TypeVar("F", bound=Callable[..., Any])
_T = TypeVar("_T", bound="ToolkitBase")
_O = TypeVar("_O", bound="OAuthToolkit")
PathLike = Union[str, "os.PathLike[str]"]
#: What ``with_jwks`` accepts: a file path, JSON text (str or bytes) or a dict.
JwksSource = Union[str, bytes, "os.PathLike[str]", Mapping[str, Any]]

#: Registered claim names PyJWT (and so the original) accepted as datetimes (RFC 7519 4.1).
_NUMERIC_DATES = ("exp", "iat", "nbf")


def numeric_dates(claims: Dict[str, Any]) -> Dict[str, Any]:
    for name in _NUMERIC_DATES:
        value = claims.get(name)
        if isinstance(value, datetime.datetime):
            claims[name] = calendar.timegm(value.utctimetuple())
    return claims


def jwks_text(jwks: "JwksSource") -> str:
    """What ``with_jwks`` hands core: a path or JSON text (core tells them apart)."""
    if isinstance(jwks, Mapping):
        return json.dumps(jwks)
    if isinstance(jwks, (bytes, bytearray)):
        return bytes(jwks).decode("utf-8")
    return os.fspath(jwks)


class ToolkitBase:
    """What ``OAuthToolkit`` and ``AsyncOAuthToolkit`` share: the native toolkit,
    the settings (each returns the toolkit, for chaining) and the calls that
    neither read a file, nor the network, nor check a signature. Each subclass
    adds the others, plain or awaitable."""

    #: The most recently created toolkit: the one ``fake.server`` serves with,
    #: as in the original (whose constructor set ``fake.server.oatk = self``).
    _latest: ClassVar[Optional["weakref.ReferenceType[ToolkitBase]"]] = None

    def __init__(self) -> None:
        self._native = _oatk.Toolkit()
        self._provider_url: Optional[str] = None
        ToolkitBase._latest = weakref.ref(self)

    def native(self) -> _oatk.Toolkit:
        """The native toolkit this object configures (the same one for its whole
        life), for code that builds on oatk: the framework glue and the fake
        server use it."""
        return self._native

    # -- keys given as text ------------------------------------------------

    def with_private_pem(self: _T, pem: str) -> _T:
        """``with_private`` with the PEM text itself (e.g. from ``generate_key``)."""
        self._native.with_private_pem(pem)
        return self

    def with_public_pem(self: _T, pem: str) -> _T:
        """``with_public`` with the PEM text itself."""
        self._native.with_public_pem(pem)
        return self

    # -- validation settings -------------------------------------------------

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
        self._native.with_leeway(seconds)
        return self

    def with_now(self: _T, seconds: Optional[int]) -> _T:
        """Validate as if the time were ``seconds`` since the epoch; ``None`` goes back
        to the system clock. For tests that need a token to expire without sleeping."""
        self._native.with_now(seconds)
        return self

    def accept_any_audience(self: _T) -> _T:
        """Waive the audience check ``using_provider`` otherwise requires: tokens the
        provider issued to any of its clients are accepted. Without this or
        ``with_client_id``, ``validate`` raises ``InvalidArgumentError`` saying what to set."""
        self._native.accept_any_audience()
        return self

    def accept_any_issuer(self: _T) -> _T:
        """Waive the issuer a provider given as a bare JWKS URL otherwise requires
        (``with_issuer``)."""
        self._native.accept_any_issuer()
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
        self._native.with_require_exp(required)
        return self

    # -- the token to work on ----------------------------------------------

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
        self._native.claims(numeric_dates(merged))
        return self

    @property
    def token(self) -> Optional[str]:
        """A token for the claims given to :meth:`claims`; ``None`` without a private key."""
        return self._native.token()

    @property
    def jwks(self) -> str:
        """The JSON Web Key Set to publish, as indented JSON text."""
        return self._native.jwks()

    # -- reading tokens, unverified --------------------------------------------

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

    def _provider(self) -> str:
        if self._provider_url is None:
            raise InvalidArgumentError("missing provider url: use using_provider(url) first")
        return self._provider_url

    @property
    def version(self) -> str:
        return _oatk.__version__

    # -- the fake server -----------------------------------------------------

    @property
    def server(self) -> "FakeServer":
        """The fake OAuth server, signing with this toolkit's keys: ``.server.run(port=5000)``."""
        return FakeServer(self)


class OAuthToolkit(ToolkitBase):
    """Keys, claims and validation settings, with chainable methods.

    Every ``with_*``/``from_*``/``claims`` method returns the toolkit itself::

        >>> OAuthToolkit().with_private("private_key.pem").claims(hello="world").token
        'eyJhbGciOiJSUzI1NiIsImtpZCI6...'

    It is safe to share one toolkit between threads: validation and minting
    run in Rust without holding the GIL. In a coroutine, use
    :class:`oatk.AsyncOAuthToolkit`, whose file, network and signature calls
    are awaitable.
    """

    __module__ = "oatk"

    # -- keys --------------------------------------------------------------

    def with_private(self: _O, path: PathLike) -> _O:
        """Sign with the private key in this PEM file (PKCS#1, PKCS#8, SEC1; RSA, EC, Ed25519).

        Its public half is trusted and published too, so a private key alone is enough.
        """
        self._native.with_private(path)
        return self

    def with_public(self: _O, path: PathLike) -> _O:
        """Trust (and publish) the public key in this PEM file."""
        self._native.with_public(path)
        return self

    def with_jwks(self: _O, jwks: JwksSource) -> _O:
        """Trust and publish a JSON Web Key Set: a file path, JSON text (str or bytes) or a dict.

        Tokens are then minted with the set's first ``kid``, as the original did.
        """
        self._native.with_jwks(jwks_text(jwks))
        return self

    def using_provider(self: _O, provider_url: str) -> _O:
        """Trust an OpenID provider's keys: its discovery document URL (or issuer URL).

        Unlike the original, an unreachable provider raises :class:`oatk.NetworkError`
        instead of logging and returning None. Keys are refetched (rate limited)
        when a token names an unknown ``kid``.
        """
        self._native.using_provider(provider_url)
        self._provider_url = provider_url
        return self

    def init_from_provider(self: _O) -> _O:
        """Fetch the provider's discovery document and keys again (the original 0.2's name)."""
        return self.using_provider(self._provider())

    # -- the token to work on ----------------------------------------------

    def from_file(self: _O, path: PathLike) -> _O:
        """Read the token to work on from a file (whitespace and ``Bearer `` are dropped)."""
        self._native.from_file(path)
        return self

    # -- minting -------------------------------------------------------------

    def mint(self, claims: Optional[Mapping[str, Any]] = None, /, **claimset: Any) -> str:
        """A token for exactly these claims (the pending ``claims`` are left alone)."""
        merged = dict(claimset)
        if claims:
            merged.update(claims)
        return self._native.mint(numeric_dates(merged))

    # -- reading tokens ------------------------------------------------------

    def validate(self, token: Optional[str] = None) -> Dict[str, Any]:
        """Verify ``token`` (or the one read by ``from_file``/``from_clipboard``) and return its claims.

        Raises an :class:`oatk.InvalidTokenError` subclass (also a ``ValueError``)
        when the token must not be accepted.
        """
        # A token given goes straight to native code: one Python call less per validation.
        return self._native.validate(token if token else self._token(token))

    def validate_with_claims(self, token: Optional[str], required: Mapping[str, Any]) -> Dict[str, Any]:
        """:meth:`validate`, then check ``required`` as ``authenticated_with_claims`` does
        (a value must be equal, a list contained); :class:`oatk.ClaimsError` when not."""
        return self._native.validate_with_claims(self._token(token), dict(required))

    # -- Flask -----------------------------------------------------------------

    def authenticated(self, f: F) -> F:
        """Flask route decorator: a valid bearer token is required."""
        return _decorators.authenticated(self._native, f)

    def authenticated_with_claims(self, **required_claims: Any) -> Callable[[F], F]:
        """Flask route decorator: a valid bearer token whose claims satisfy ``required_claims``.

        A value must be equal; a list must all be contained in the claim; a
        callable is called with the claim's value and must return true (an
        exception refuses the request too, and is logged).
        """
        return _decorators.authenticated_with_claims(self._native, required_claims)

    def execute_authenticated(
        self,
        f: Callable[..., Any],
        required_claims: Optional[Mapping[str, Any]] = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Check the current Flask request, then call ``f(*args, **kwargs)`` or return the refusal."""
        return _decorators.execute_authenticated(self._native, f, required_claims, *args, **kwargs)


class RunningServer:
    """A fake server running on a background thread. Use it as a context manager,
    or call :meth:`stop`."""

    __module__ = "oatk.fake"

    def __init__(self, native: _oatk.Server) -> None:
        self._native = native

    @property
    def url(self) -> str:
        """Where it listens, e.g. ``http://localhost:38127``."""
        return self._native.url

    @property
    def issuer(self) -> str:
        """The ``iss`` of its tokens."""
        return self._native.issuer

    @property
    def jwks(self) -> str:
        """The JWKS it publishes at ``/oauth/certs`` (JSON text)."""
        return self._native.jwks

    @property
    def well_known(self) -> str:
        """Its discovery document URL, for ``using_provider`` and oatk.js."""
        return self._native.discovery_url

    @property
    def running(self) -> bool:
        return self._native.running

    def issue_token(
        self,
        username: str,
        claims: Optional[Dict[str, Any]] = None,
        /,
        *,
        client_id: Optional[str] = None,
        scope: Optional[str] = None,
        **more_claims: Any,
    ) -> Dict[str, Any]:
        """Tokens for ``username`` as if they had logged in and consented, with no
        browser: the token endpoint's response (``access_token``, ``id_token``,
        ``refresh_token``, ``expires_in``...). Extra claims are stored on the user
        and go into the access token. ``client_id`` defaults to the seed's ``test``
        client, ``scope`` to ``openid profile``."""
        merged = dict(more_claims)
        if claims:
            merged.update(claims)
        return self._native.issue_token(username, merged or None, client_id, scope)

    def access_token(self, username: str, claims: Optional[Dict[str, Any]] = None, /, **options: Any) -> str:
        """Just the ``access_token`` of :meth:`issue_token`."""
        token: str = self.issue_token(username, claims, **options)["access_token"]
        return token

    def upsert_user(self, username: str, **claims: Any) -> None:
        """Add or replace a user and the extra claims that go into their tokens."""
        self._native.upsert_user(json.dumps({"username": username, "claims": claims}))

    def upsert_client(self, client_id: str, **fields: Any) -> None:
        """Register a client (fields as in a ``[[clients]]`` entry of the config)."""
        self._native.upsert_client(json.dumps({"client_id": client_id, **fields}))

    def toolkit(self) -> OAuthToolkit:
        """A toolkit that validates this server's tokens (its JWKS, its issuer)."""
        return OAuthToolkit().with_jwks(self.jwks).with_issuer(self.issuer)

    def stop(self) -> None:
        """Stop serving. Stopping twice is fine."""
        self._native.stop()

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<oatk.fake.RunningServer {self.url} {'running' if self.running else 'stopped'}>"


def running(
    port: Optional[int] = None,
    config: Optional[PathLike] = None,
    *,
    host: Optional[str] = None,
    issuer: Optional[str] = None,
    toolkit: Optional[ToolkitBase] = None,
    data_dir: Optional[PathLike] = None,
    quiet: Optional[bool] = None,
) -> RunningServer:
    """Start a fake server in this process; use as ``with running() as server:``.

    By default (core's embedded preset) it takes any free port on localhost
    (see ``server.url``), keeps everything in memory and logs no requests;
    ``data_dir`` keeps its database and key there instead. With ``toolkit``,
    its private key signs.
    """
    native = _oatk.Server.start(
        toolkit.native() if toolkit is not None else None,
        host=host,
        port=port,
        issuer=issuer,
        config=config,
        data_dir=data_dir,
        quiet=quiet,
    )
    return RunningServer(native)


running.__module__ = "oatk.fake"


class FakeServer:
    """The original's ``fake.server``: ``run(host, port)`` serves until Ctrl-C.

    ``oatk`` is the toolkit whose keys it signs with; by default the one it
    was taken from (``toolkit.server``), else the most recently created
    ``OAuthToolkit``, else a generated key.
    """

    __module__ = "oatk.fake"

    def __init__(self, oatk: Optional[ToolkitBase] = None) -> None:
        self._oatk = oatk

    @property
    def oatk(self) -> Optional[ToolkitBase]:
        if self._oatk is not None:
            return self._oatk
        latest = ToolkitBase._latest
        return latest() if latest is not None else None

    @oatk.setter
    def oatk(self, toolkit: Optional[ToolkitBase]) -> None:
        self._oatk = toolkit

    def start(self, host: Optional[str] = None, port: int = 5000, **options: Any) -> RunningServer:
        """Start serving in the background and return the running server."""
        return running(port=port, host=host, toolkit=self.oatk, **options)

    def run(
        self,
        host: Optional[str] = None,
        port: Optional[int] = None,
        debug: Optional[bool] = None,
        *,
        issuer: Optional[str] = None,
        config: Optional[PathLike] = None,
        data_dir: PathLike = ".oatk",
        memory: bool = False,
        quiet: bool = False,
        **_flask_options: Any,
    ) -> None:
        """Serve on ``host:port`` (default localhost:5000) until Ctrl-C, keeping its
        state in ``data_dir`` unless ``memory``; prints what ``oatk server run`` prints.

        ``debug`` and other Flask ``run`` options are accepted and ignored.
        """
        server = self.start(
            host=host,
            port=5000 if port is None else port,
            issuer=issuer,
            config=config,
            data_dir=None if memory else data_dir,
            quiet=quiet,
        )
        print(server.url, flush=True)
        if not quiet:
            print(server._native.banner, file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
