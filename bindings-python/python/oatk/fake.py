"""The fake OAuth2 / OpenID Connect server, in process.

As in the original, ``fake.server.run(host, port)`` serves until Ctrl-C::

    from oatk import OAuthToolkit
    OAuthToolkit().with_private("private_key.pem").server.run(port=5000)

For test suites, ``running()`` starts one on a free port and stops it on exit::

    with oatk.fake.running(config="oatk.toml") as server:
        token = server.issue_token("xtof", {"name": "Christophe VG"})["access_token"]
        requests.get(api, headers={"Authorization": f"Bearer {token}"})

The server itself (routes, storage, tokens, the checks on users and clients)
is the Rust core's; see ``oatk server run --help`` for what it offers. The
classes are defined beside ``OAuthToolkit`` (``oatk/_toolkit.py``), which
hands them out and which they hand out.
"""

from __future__ import annotations

from ._toolkit import FakeServer, RunningServer, running

__all__ = ["FakeServer", "RunningServer", "running", "server"]

#: The original's module-level server: ``from oatk import fake; fake.server.run()``.
#: It serves with the most recently created ``OAuthToolkit`` unless given one.
server = FakeServer()
