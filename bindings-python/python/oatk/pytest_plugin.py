"""oatk's pytest plugin: the fake identity provider as fixtures.

It ships with the package and registers itself through the ``pytest11``
entry point, so ``pip install oatk`` is enough: no conftest, no import::

    def test_admins_only(client, oatk_token):
        assert client.get("/admin", headers={"Authorization": f"Bearer {oatk_token(groups=['admin'])}"}).status_code == 200
        assert client.get("/admin", headers={"Authorization": f"Bearer {oatk_token()}"}).status_code == 403

``oatk_server``
    An :class:`OatkServer`: core's fake OAuth2 / OpenID Connect server in
    this process (any free port on localhost, everything in memory), stopped
    when the test ends. Override the ``oatk_server_options`` fixture to give it
    options of :func:`oatk.fake.running` (``config=``, ``issuer=``...).
``oatk_token``
    ``oatk_token(sub="xtof", scope=None, groups=None, **claims)``: a signed
    access token from that server, for the user ``sub``, carrying exactly the
    given extra claims; ``client_id=`` and ``tenant=`` pick its audience and
    issuer.
``oatk_toolkit``
    An :class:`oatk.OAuthToolkit` validating that server's tokens as an app
    would: ``using_provider(server)`` and ``with_client_id`` of the client the
    tokens are for (``test``, the seed's).

The clock and the keys are the server's, driven from the test:
``oatk_server.advance(3600)`` moves the server's clock and every validator
the server handed out (``oatk_toolkit``, ``validator()``, ``toolkit()``), so a
token expires for both without sleeping; ``oatk_server.rotate_keys()`` and
``retire_old_keys()`` rotate its signing keys. Every call is one call of
core's server; the fixtures only start, stop and combine them.
"""

from __future__ import annotations

import urllib.request
import weakref
from typing import Any, Dict, Iterator, Optional, Protocol, Sequence

import pytest

from ._toolkit import OAuthToolkit, RunningServer, running

__all__ = ["OatkServer", "TokenFactory", "oatk_server", "oatk_server_options", "oatk_token", "oatk_toolkit"]

#: The client the fake server issues tokens for when none is named (its ``aud``).
DEFAULT_CLIENT_ID = "test"


class OatkServer(RunningServer):
    """The fake server of ``oatk_server``: a :class:`oatk.fake.RunningServer`
    with the calls a test drives it by (tokens, the clock, the keys, tenants),
    which hands out validators that follow its clock."""

    def __init__(self, server: RunningServer, client_id: str = DEFAULT_CLIENT_ID) -> None:
        super().__init__(server._native)
        #: The audience of :meth:`token`'s tokens and of :meth:`validator`.
        self.client_id = client_id
        self._validators: "weakref.WeakSet[OAuthToolkit]" = weakref.WeakSet()
        # The now given to the validators (None: the system clock).
        self._validator_now: Optional[int] = None

    @classmethod
    def start(cls, client_id: str = DEFAULT_CLIENT_ID, **options: Any) -> "OatkServer":
        """Start one (options as :func:`oatk.fake.running`); stop it with :meth:`stop`."""
        return cls(running(**options), client_id)

    # -- tokens --------------------------------------------------------------

    def token(
        self,
        sub: str = "xtof",
        scope: Optional[str] = None,
        groups: Optional[Sequence[str]] = None,
        *,
        client_id: Optional[str] = None,
        tenant: Optional[str] = None,
        **claims: Any,
    ) -> str:
        """An access token for the user ``sub`` (their ``username`` claim; the
        token's ``sub`` is the server's stable id for them) carrying exactly
        these extra claims, ``groups`` among them: they replace what the user
        had. ``scope`` defaults to the server's (``openid profile``),
        ``client_id`` to :attr:`client_id`, the issuer to the root's."""
        if groups is not None:
            claims["groups"] = list(groups)
        self.upsert_user(sub, **claims)
        response = self.issue(sub, client_id=client_id or self.client_id, scope=scope, tenant=tenant)
        token: str = response["access_token"]
        return token

    def issue(
        self,
        username: Optional[str] = None,
        claims: Optional[Dict[str, Any]] = None,
        *,
        client_id: Optional[str] = None,
        scope: Optional[str] = None,
        tenant: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Tokens as the token endpoint would issue them (the JSON response):
        for ``username`` as if they had signed in and consented (``claims``,
        when given, become theirs), or with no ``username`` for ``client_id``
        acting for itself (``client_credentials``, ``claims`` in this token
        only); ``tenant`` picks a tenant's issuer and keys."""
        return self._native.issue(username, claims, client_id, scope, tenant)

    # -- validators ------------------------------------------------------------

    def validator(self, client_id: Optional[str] = None, tenant: Optional[str] = None) -> OAuthToolkit:
        """A toolkit validating as an app would: ``using_provider`` on this
        server (or on ``tenant``'s issuer) and ``with_client_id`` (default
        :attr:`client_id`). It follows this server's clock; it follows a key
        rotation as any app does, by fetching the key set again when a token
        names an unknown ``kid`` (at most every 30 s).

        An ``issuer`` given in the options is not where the server listens,
        so discovery cannot work (OpenID Connect Discovery 4.3): then the
        validator trusts the key set published when it is made, read where
        the server listens, and requires that issuer (it does not follow a
        later rotation)."""
        info = self.issuer_info(tenant)
        toolkit = OAuthToolkit()
        if info["issuer"] == info["url"] and info["url"].startswith(self.url):
            toolkit.using_provider(info["url"])
        else:
            jwks_uri: str = info["jwks_uri"]
            if self.issuer != self.url and jwks_uri.startswith(self.issuer):
                jwks_uri = self.url + jwks_uri[len(self.issuer):]
            with urllib.request.urlopen(jwks_uri, timeout=10) as response:
                toolkit.with_jwks(response.read()).with_issuer(info["issuer"])
        return self._follow_clock(toolkit.with_client_id(client_id or self.client_id))

    def toolkit(self) -> OAuthToolkit:
        """A toolkit trusting the keys published now and this server's issuer
        (see :meth:`validator` for one that fetches them as an app does); it
        follows this server's clock."""
        return self._follow_clock(super().toolkit())

    def _follow_clock(self, toolkit: OAuthToolkit) -> OAuthToolkit:
        self._validators.add(toolkit)
        if self._validator_now is not None:
            toolkit.with_now(self._validator_now)
        return toolkit

    def _set_validator_now(self, now: Optional[int]) -> None:
        self._validator_now = now
        for toolkit in list(self._validators):
            toolkit.with_now(now)

    # -- the clock -------------------------------------------------------------

    @property
    def now(self) -> int:
        """The server's now, in seconds since the epoch."""
        return self._native.now

    def advance(self, seconds: int) -> int:
        """Move the server's clock ``seconds`` ahead (behind when negative) and
        the validators it handed out to the same instant; returns it."""
        now = self._native.advance_clock(seconds)
        self._set_validator_now(now)
        return now

    def freeze(self, epoch: int) -> None:
        """Stop the server's clock, and its validators', at ``epoch`` seconds."""
        self._native.freeze_clock(epoch)
        self._set_validator_now(epoch)

    def reset_clock(self) -> None:
        """The server and its validators back on the system clock."""
        self._native.reset_clock()
        self._set_validator_now(None)

    # -- keys and tenants --------------------------------------------------------

    def rotate_keys(self, tenant: Optional[str] = None, retire_after: Optional[int] = None) -> str:
        """Publish a new signing key beside the old ones (of the root issuer, or
        of ``tenant``) and sign new tokens with it; the old keys leave the key
        set on :meth:`retire_old_keys`, or by themselves ``retire_after``
        seconds later on the server's clock. Returns the new ``kid``."""
        return self._native.rotate_keys(tenant, retire_after)

    def retire_old_keys(self, tenant: Optional[str] = None) -> int:
        """Remove every key but the signing one from the key set: tokens they
        signed stop validating. Returns how many went."""
        return self._native.retire_old_keys(tenant)

    def issuer_info(self, tenant: Optional[str] = None) -> Dict[str, Any]:
        """The root issuer, or ``tenant`` (created on first use, served at
        ``{url}/{tenant}``): ``issuer``, ``url``, ``discovery_url``,
        ``jwks_uri`` and ``keys`` (the signing one first)."""
        return self._native.issuer_info(tenant)

    def __repr__(self) -> str:
        return f"<oatk.pytest_plugin.OatkServer {self.url} {'running' if self.running else 'stopped'}>"


class TokenFactory(Protocol):
    """The type of the ``oatk_token`` fixture: :meth:`OatkServer.token`."""

    def __call__(
        self,
        sub: str = "xtof",
        scope: Optional[str] = None,
        groups: Optional[Sequence[str]] = None,
        *,
        client_id: Optional[str] = None,
        tenant: Optional[str] = None,
        **claims: Any,
    ) -> str: ...


@pytest.fixture
def oatk_server_options() -> Dict[str, Any]:
    """Options for ``oatk_server``, as :func:`oatk.fake.running` takes them (none:
    any free port, in memory). Override it to give a ``config`` file, an
    ``issuer``, or a ``client_id`` for the tokens and validators."""
    return {}


@pytest.fixture
def oatk_server(oatk_server_options: Dict[str, Any]) -> Iterator[OatkServer]:
    """A fake OAuth2 / OpenID Connect server for this test, stopped at its end."""
    server = OatkServer.start(**oatk_server_options)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oatk_token(oatk_server: OatkServer) -> TokenFactory:
    """``oatk_token(sub="xtof", scope=None, groups=None, **claims)``: a signed access token from ``oatk_server``."""
    return oatk_server.token


@pytest.fixture
def oatk_toolkit(oatk_server: OatkServer) -> OAuthToolkit:
    """A toolkit validating ``oatk_server``'s tokens: ``using_provider`` + ``with_client_id``."""
    return oatk_server.validator()
