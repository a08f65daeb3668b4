"""A small notes API protected by oatk, in Flask and in FastAPI: what
test_notes_api.py tests with oatk's pytest plugin.

Anyone with a valid token reads the notes; only the group ``admin`` clears
them. The apps take the toolkit they validate with, so a test hands them the
one trusting its fake server (the ``oatk_toolkit`` fixture) and production
code one built with ``using_provider(<the real provider>)``.
"""

from __future__ import annotations

from typing import Any, Dict, List

import oatk

NOTES: List[str] = ["buy milk"]


def flask_app(toolkit: oatk.OAuthToolkit) -> Any:
    import flask

    app = flask.Flask(__name__)

    @app.get("/notes")
    @toolkit.authenticated
    def notes() -> Dict[str, Any]:
        return {"user": flask.g.oatk_claims["username"], "notes": NOTES}

    @app.delete("/notes")
    @toolkit.authenticated_with_claims(groups=["admin"])
    def clear() -> Dict[str, Any]:
        return {"cleared": len(NOTES)}

    return app


def fastapi_app(toolkit: oatk.OAuthToolkit) -> Any:
    from fastapi import Depends, FastAPI

    from oatk.fastapi import OAuthToolkitDependency

    app = FastAPI()
    oauth = OAuthToolkitDependency(toolkit)

    @app.get("/notes")
    async def notes(claims: Dict[str, Any] = Depends(oauth.get_current_user)) -> Dict[str, Any]:
        return {"user": claims["username"], "notes": NOTES}

    @app.delete("/notes")
    async def clear(claims: Dict[str, Any] = Depends(oauth.require_claims(groups=["admin"]))) -> Dict[str, Any]:
        return {"cleared": len(NOTES)}

    return app
