"""FastAPI glue: ``OAuthToolkitDependency``, as in the original 0.2::

    from fastapi import Depends, FastAPI
    from oatk import AsyncOAuthToolkit
    from oatk.fastapi import OAuthToolkitDependency

    app = FastAPI()
    oauth = OAuthToolkitDependency(AsyncOAuthToolkit().with_jwks("certs.json"))

    @app.get("/me")
    async def me(user: dict = Depends(oauth.get_current_user)):
        return {"user": user["sub"]}

    @app.get("/admin")
    async def admin(user: dict = Depends(oauth.require_claims(role="admin"))):
        return {"admin": user["sub"]}

The dependencies read the token through FastAPI's ``HTTPBearer`` security
scheme (``.scheme``), so the routes show it in the OpenAPI document and
``/docs`` (the "Authorize" button). The answer is core's ``guard`` decision,
the same as the Flask and Quart decorators': 401 with ``WWW-Authenticate``
for a missing or invalid token, 403 when the claims are not met (an
``HTTPException`` whose ``detail`` is core's reason), else the validated
claims, handed to the route. The token is checked on a worker thread, so the
event loop is never blocked.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures' annotations at run time.

from typing import Any, Awaitable, Callable, Dict, Mapping, Optional

from ._extras import require

require("fastapi", "fastapi", "oatk.fastapi")

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from . import _oatk
from ._guard import Predicates, compile_requirements, decide_async
from ._toolkit import ToolkitBase

__all__ = ["OAuthToolkitDependency"]

#: A FastAPI dependency: the validated claims of the request's token.
ClaimsDependency = Callable[..., Awaitable[Dict[str, Any]]]


def _authorization(request: Any, credentials: Optional[HTTPAuthorizationCredentials]) -> Optional[str]:
    """The ``Authorization`` header core decides on. ``HTTPBearer`` gives
    credentials only for the Bearer scheme, and ``None`` for a missing header
    and for another scheme alike; core tells those apart (401 "Missing
    Authorization" vs 401 invalid_token), so then the header is read as it came."""
    if credentials is not None:
        return f"Bearer {credentials.credentials}"
    if isinstance(request, Request):
        header: Optional[str] = request.headers.get("authorization")
        return header
    return None


def _http_exception(denial: _oatk.Denial) -> HTTPException:
    headers = {"WWW-Authenticate": denial.www_authenticate} if denial.www_authenticate else None
    return HTTPException(status_code=denial.status, detail=denial.body, headers=headers)


class OAuthToolkitDependency:
    """FastAPI dependencies over an :class:`oatk.AsyncOAuthToolkit` (or an
    :class:`oatk.OAuthToolkit`: the same checks, the same worker thread).

    ``get_current_user``: any valid token. ``require_claims(**claims)``: a
    valid token whose claims satisfy ``claims`` (a value must be equal, a
    list contained, a callable given the claim's value must return true).
    ``scheme_name`` and ``description`` name the bearer scheme in OpenAPI.
    """

    def __init__(
        self,
        toolkit: ToolkitBase,
        *,
        scheme_name: Optional[str] = None,
        description: Optional[str] = None,
    ) -> None:
        self._toolkit = toolkit
        # auto_error=False: a request without a token gets core's 401 and its
        # WWW-Authenticate challenge, not FastAPI's own refusal.
        self._scheme = HTTPBearer(auto_error=False, scheme_name=scheme_name, description=description)
        #: The dependency for routes that need a valid token: its claims.
        self.get_current_user: ClaimsDependency = self._dependency(None, "get_current_user")

    @property
    def toolkit(self) -> ToolkitBase:
        """The toolkit that validates the tokens."""
        return self._toolkit

    @property
    def scheme(self) -> HTTPBearer:
        """The ``HTTPBearer`` security scheme the dependencies read the token with."""
        return self._scheme

    def require_claims(self, **required_claims: Any) -> ClaimsDependency:
        """A dependency for routes that need these claims: the token's claims."""
        return self._dependency(required_claims, "require_claims")

    def _dependency(self, required: Optional[Mapping[str, Any]], name: str) -> ClaimsDependency:
        requirement, predicates = compile_requirements(required)
        return _make_dependency(self._toolkit.native(), requirement, predicates, self._scheme, name)


def _make_dependency(
    native: _oatk.Toolkit, requirement: _oatk.Requirement, predicates: Predicates, scheme: HTTPBearer, name: str
) -> ClaimsDependency:
    async def dependency(
        request: Request,
        credentials: Optional[HTTPAuthorizationCredentials] = Security(scheme),
    ) -> Dict[str, Any]:
        result = await decide_async(native, _authorization(request, credentials), requirement, predicates)
        if isinstance(result, dict):
            return result
        raise _http_exception(result)

    dependency.__name__ = dependency.__qualname__ = name
    return dependency

