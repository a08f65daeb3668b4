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
for a missing or invalid token (``detail``: core's reason), 403 when the
claims are not met (``detail`` worded as 0.2.1's FastAPI module worded it,
e.g. ``Invalid value for claim 'role'``), else the validated claims, handed
to the route. The token is checked on a worker thread, so the
event loop is never blocked.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures' annotations at run time.

import inspect
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional

from ._extras import require

require("fastapi", "fastapi", "oatk.fastapi")

from fastapi import HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from . import _oatk
from ._guard import Predicates, compile_requirements, decide_async
from ._toolkit import ToolkitBase

__all__ = ["OAuthToolkitDependency"]

#: A FastAPI dependency: the validated claims of the request's token.
ClaimsDependency = Callable[..., Awaitable[Dict[str, Any]]]


#: oatk 0.2.1's FastAPI ``detail`` for a 403, by ``Denial.unmet``: its
#: users' clients and tests read it, so it stays. The decision is core's; only
#: the wording is FastAPI's (Flask and Quart keep the original decorators').
_DETAIL_0_2 = {
    "missing": "Missing required claim: {}",
    "not_equal": "Invalid value for claim '{}'",
    "missing_value": "Claim '{}' missing required value(s)",
    "rejected": "Claim '{}' failed validation",
}


def _http_exception(denial: _oatk.Denial) -> HTTPException:
    headers = {"WWW-Authenticate": denial.www_authenticate} if denial.www_authenticate else None
    detail = denial.body
    if denial.unmet is not None:
        detail = _DETAIL_0_2[denial.unmet].format(denial.claim)
    return HTTPException(status_code=denial.status, detail=detail, headers=headers)


def _authorization(request: Request) -> Optional[str]:
    """``request.headers.get("authorization")`` without building a ``Headers``
    object for the whole request (about 2.5 µs, four times a cached token's
    check): the first ``Authorization`` in the ASGI scope, whose header names
    are lowercase (what Starlette's ``Headers.get`` relies on too)."""
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


class _BearerGuard(HTTPBearer):
    """One route's dependency: reads the ``Authorization`` header and answers
    with core's decision.

    It *is* the ``HTTPBearer`` scheme (same name, same OpenAPI model as
    ``OAuthToolkitDependency.scheme``) rather than depending on it, so FastAPI
    lists the scheme on the route and resolves one dependency per request, not
    two: a second dependency level cost more than the whole check on a cached
    token (``bench/python-fastapi.py``).

    FastAPI sees ``(request: Request)``; a direct call may also pass 0.2.1's
    ``credentials`` (``await oauth.get_current_user(request, credentials)``).
    """

    # What FastAPI inspects (``inspect.signature`` reads ``__signature__``):
    # only the request, so no sub-dependency and no body parameter.
    __signature__ = inspect.Signature(
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)],
        return_annotation=Dict[str, Any],
    )

    def __init__(
        self,
        scheme: HTTPBearer,
        native: _oatk.Toolkit,
        requirement: _oatk.Requirement,
        predicates: Predicates,
        name: str,
    ) -> None:
        super().__init__(auto_error=False, scheme_name=scheme.scheme_name)
        self.model = scheme.model
        self._native = native
        self._requirement = requirement
        self._predicates = predicates
        self.__name__ = self.__qualname__ = name

    async def __call__(  # type: ignore[override]
        self, request: Any, credentials: Optional[HTTPAuthorizationCredentials] = None
    ) -> Dict[str, Any]:
        # Core tells a missing header (401 "Missing Authorization") from
        # another scheme (401 invalid_token), so the header goes as it came.
        if credentials is not None:
            authorization: Optional[str] = f"Bearer {credentials.credentials}"
        elif isinstance(request, Request):
            authorization = _authorization(request)
        else:
            authorization = None
        result = await decide_async(self._native, authorization, self._requirement, self._predicates)
        if isinstance(result, dict):
            return result
        raise _http_exception(result)


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
        """The ``HTTPBearer`` security scheme the dependencies declare in OpenAPI."""
        return self._scheme

    def require_claims(self, **required_claims: Any) -> ClaimsDependency:
        """A dependency for routes that need these claims: the token's claims."""
        return self._dependency(required_claims, "require_claims")

    def _dependency(self, required: Optional[Mapping[str, Any]], name: str) -> ClaimsDependency:
        requirement, predicates = compile_requirements(required)
        return _BearerGuard(self._scheme, self._toolkit.native(), requirement, predicates, name)
