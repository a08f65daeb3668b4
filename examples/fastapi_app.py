"""A FastAPI API protected by oatk, with the fake OAuth server as its provider.

    oatk server run --memory &                       # the fake provider, http://localhost:5000
    OATK_PROVIDER=http://localhost:5000 uvicorn fastapi_app:app --app-dir examples

Without OATK_PROVIDER it starts a fake server of its own (any free port) and
prints a token to try:

    uvicorn fastapi_app:app --app-dir examples
    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/me

/docs shows the bearer scheme on the protected routes ("Authorize").
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict

from fastapi import Depends, FastAPI

import oatk
from oatk import AsyncOAuthToolkit
from oatk.fastapi import OAuthToolkitDependency

# The provider's discovery URL or issuer, and this API's client id (the
# fake server's tokens name the client `test` in `aud`).
PROVIDER = os.environ.get("OATK_PROVIDER")
CLIENT_ID = os.environ.get("OATK_CLIENT_ID", "test")

toolkit = AsyncOAuthToolkit().with_client_id(CLIENT_ID).with_cache()
oauth = OAuthToolkitDependency(toolkit)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    provider, own = PROVIDER, None
    if provider is None:
        own = oatk.fake.running()
        provider = own.url
        print(f"fake provider at {own.url}; a token for xtof (an admin):\n"
              f"TOKEN={own.access_token('xtof', groups=['admin'])}", flush=True)
    await toolkit.using_provider(provider)  # discovery + JWKS, off the event loop
    try:
        yield
    finally:
        if own is not None:
            own.stop()


app = FastAPI(title="oatk FastAPI example", lifespan=lifespan)


@app.get("/")
async def index() -> Dict[str, str]:
    return {"hello": "world"}


@app.get("/api/me")
async def me(claims: Dict[str, Any] = Depends(oauth.get_current_user)) -> Dict[str, Any]:
    """Any valid token: who it names."""
    return {"username": claims.get("username"), "sub": claims["sub"]}


@app.get("/api/admin")
async def admin(claims: Dict[str, Any] = Depends(oauth.require_claims(groups=["admin"]))) -> Dict[str, Any]:
    """Only tokens whose `groups` claim contains `admin`."""
    return {"admin": claims.get("username")}
