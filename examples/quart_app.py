"""A Quart API protected by oatk, with the fake OAuth server as its provider.

    oatk server run --memory &                       # the fake provider, http://localhost:5000
    OATK_PROVIDER=http://localhost:5000 hypercorn --bind 127.0.0.1:8000 quart_app:app

(run from examples/). Without OATK_PROVIDER it starts a fake server of its own
and prints a token to try, as fastapi_app.py does.
"""

from __future__ import annotations

import os
from typing import Any, Dict

from quart import Quart, g

import oatk
from oatk import AsyncOAuthToolkit

PROVIDER = os.environ.get("OATK_PROVIDER")
CLIENT_ID = os.environ.get("OATK_CLIENT_ID", "test")

app = Quart(__name__)
auth = AsyncOAuthToolkit().with_client_id(CLIENT_ID).with_cache()
own_provider = None


@app.before_serving
async def configure() -> None:
    global own_provider
    provider = PROVIDER
    if provider is None:
        own_provider = oatk.fake.running()
        provider = own_provider.url
        print(f"fake provider at {provider}; a token for xtof (an admin):\n"
              f"TOKEN={own_provider.access_token('xtof', groups=['admin'])}", flush=True)
    await auth.using_provider(provider)  # discovery + JWKS, off the event loop


@app.after_serving
async def shutdown() -> None:
    if own_provider is not None:
        own_provider.stop()


@app.route("/")
async def index() -> Dict[str, str]:
    return {"hello": "world"}


@app.route("/api/me")
@auth.authenticated
async def me() -> Dict[str, Any]:
    """Any valid token: who it names."""
    return {"username": g.oatk_claims.get("username"), "sub": g.oatk_claims["sub"]}


@app.route("/api/admin")
@auth.authenticated_with_claims(groups=["admin"])
async def admin() -> Dict[str, Any]:
    """Only tokens whose `groups` claim contains `admin`."""
    return {"admin": g.oatk_claims.get("username")}
