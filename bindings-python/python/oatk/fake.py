"""The fake OAuth2 / OpenID Connect server, in process.

As in the original, ``fake.server.run(host, port)`` serves until Ctrl-C::

    from oatk import OAuthToolkit
    OAuthToolkit().with_private("private_key.pem").server.run(port=5000)

For test suites, ``running()`` starts one on a free port and stops it on exit::

    with oatk.fake.running(config="oatk.toml") as server:
        token = server.issue_token("xtof", {"name": "Christophe VG"})["access_token"]
        requests.get(api, headers={"Authorization": f"Bearer {token}"})

The server itself (routes, storage, tokens) is the Rust core's; see
``oatk server run --help`` for what it offers.
"""

from __future__ import annotations

import os
import sys
import time
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any, Dict, Optional, Type, Union

from . import _oatk

if TYPE_CHECKING:
    from ._toolkit import OAuthToolkit

__all__ = ["FakeServer", "RunningServer", "running", "server"]

PathLike = Union[str, "os.PathLike[str]"]

# The most recently created toolkit, which the original's module-level
# `fake.server` served with (its OAuthToolkit() constructor registered itself).
_latest: Optional["weakref.ReferenceType[OAuthToolkit]"] = None


def _register(toolkit: "OAuthToolkit") -> None:
    global _latest
    _latest = weakref.ref(toolkit)


class RunningServer:
    """A fake server running on a background thread. Use it as a context manager,
    or call :meth:`stop`."""

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
        return self.url + "/.well-known/openid-configuration"

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
        self._native.upsert_user(username, claims)

    def upsert_client(self, client_id: str, **fields: Any) -> None:
        """Register a client (fields as in a ``[[clients]]`` entry of the config)."""
        self._native.upsert_client({"client_id": client_id, **fields})

    def toolkit(self) -> "OAuthToolkit":
        """A toolkit that validates this server's tokens (its JWKS, its issuer)."""
        from ._toolkit import OAuthToolkit

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
    port: int = 0,
    config: Optional[PathLike] = None,
    *,
    host: str = "localhost",
    issuer: Optional[str] = None,
    toolkit: Optional["OAuthToolkit"] = None,
    data_dir: Optional[PathLike] = None,
    quiet: bool = True,
) -> RunningServer:
    """Start a fake server in this process; use as ``with running() as server:``.

    ``port=0`` picks a free port (see ``server.url``). Everything is kept in
    memory unless ``data_dir`` is given. With ``toolkit``, its private key signs.
    """
    native = _oatk.Server.start(
        toolkit._native if toolkit is not None else None,
        host=host,
        port=port,
        issuer=issuer,
        config=os.fspath(config) if config is not None else None,
        data_dir=os.fspath(data_dir) if data_dir is not None else ".oatk",
        memory=data_dir is None,
        quiet=quiet,
    )
    return RunningServer(native)


class FakeServer:
    """The original's ``fake.server``: ``run(host, port)`` serves until Ctrl-C.

    ``oatk`` is the toolkit whose keys it signs with; by default the one it
    was taken from (``toolkit.server``), else the most recently created
    ``OAuthToolkit``, else a generated key kept in ``data_dir``.
    """

    def __init__(self, oatk: Optional["OAuthToolkit"] = None) -> None:
        self._oatk = oatk

    @property
    def oatk(self) -> Optional["OAuthToolkit"]:
        if self._oatk is not None:
            return self._oatk
        return _latest() if _latest is not None else None

    @oatk.setter
    def oatk(self, toolkit: Optional["OAuthToolkit"]) -> None:
        self._oatk = toolkit

    def start(self, host: str = "localhost", port: int = 5000, **options: Any) -> RunningServer:
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
        """Serve on ``host:port`` (default localhost:5000) until Ctrl-C.

        ``debug`` and other Flask ``run`` options are accepted and ignored.
        """
        toolkit = self.oatk
        native = _oatk.Server.start(
            toolkit._native if toolkit is not None else None,
            host=host or "localhost",
            port=5000 if port is None else port,
            issuer=issuer,
            config=os.fspath(config) if config is not None else None,
            data_dir=os.fspath(data_dir),
            memory=memory,
            quiet=quiet,
        )
        print(native.url, flush=True)
        if not quiet:
            print(f"oatk fake OAuth server at {native.url} (issuer {native.issuer})", file=sys.stderr)
            print(f"  discovery: {native.url}/.well-known/openid-configuration", file=sys.stderr)
            print("Press Ctrl-C to stop.", file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            native.stop()


#: The original's module-level server: ``from oatk import fake; fake.server.run()``.
server = FakeServer()
