"""Quart glue: protect a route with ``@toolkit.authenticated`` or
``@toolkit.authenticated_with_claims(...)`` on an :class:`oatk.AsyncOAuthToolkit`,
as in the original 0.2::

    app = Quart(__name__)
    oauth = await AsyncOAuthToolkit().using_provider(url)

    @app.route("/api")
    @oauth.authenticated_with_claims(groups=["dev"])
    async def api():
        return {"hello": quart.g.oatk_claims["username"]}

The same decision as the Flask decorators (core's ``guard``): 401 with
``WWW-Authenticate`` for a missing or invalid token, 403 when the claims are
not met. The token is checked on a worker thread, so the event loop is never
blocked. A refusal is returned as the original's ``(body, status)`` tuple;
its ``WWW-Authenticate`` challenge and plain-text content type are set on the
response through ``quart.after_this_request``. On success the validated
claims are in ``quart.g.oatk_claims``.

Every function takes the native toolkit (``ToolkitBase.native()``).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping, Optional, Tuple, TypeVar

from ._extras import require

require("quart", "quart", "oatk.quart")

import quart

from . import _oatk
from ._guard import Predicates, compile_requirements, decide_async

__all__ = ["authenticated", "authenticated_with_claims", "execute_authenticated", "refusal"]

F = TypeVar("F", bound=Callable[..., Any])
#: What a refused request answers: body and status, as in the original.
Refusal = Tuple[str, int]


def refusal(denial: _oatk.Denial) -> Refusal:
    """Core's ``Denial`` as the original's ``(body, status)`` tuple; in a request,
    the response also gets the plain-text type and the challenge, as in Flask."""
    if quart.has_request_context():
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if denial.www_authenticate:
            headers["WWW-Authenticate"] = denial.www_authenticate

        @quart.after_this_request
        async def challenge(response: Any) -> Any:
            response.headers.update(headers)
            return response

    return denial.body, denial.status


async def check_request(
    toolkit: _oatk.Toolkit, requirement: _oatk.Requirement, predicates: Predicates = ()
) -> Optional[Refusal]:
    """Decide on the current request: ``None`` when allowed (claims in ``quart.g.oatk_claims``),
    else the refusal. Setup errors (no key configured) raise ``OatkError``."""
    # `quart.request` is looked up on each call, where Quart (or a test's patch) put it.
    authorization = quart.request.headers.get("Authorization")
    result = await decide_async(toolkit, authorization, requirement, predicates)
    if not isinstance(result, dict):
        return refusal(result)
    if quart.has_app_context():
        quart.g.oatk_claims = result
    return None


async def _call(f: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    result = f(*args, **kwargs)
    # Sync views work too, as in the original.
    if hasattr(result, "__await__"):
        return await result
    return result


def _protect(toolkit: _oatk.Toolkit, f: F, required: Optional[Mapping[str, Any]]) -> F:
    requirement, predicates = compile_requirements(required)

    @functools.wraps(f)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        denied = await check_request(toolkit, requirement, predicates)
        if denied is not None:
            return denied
        return await _call(f, args, kwargs)

    return wrapper  # type: ignore[return-value]


def authenticated(toolkit: _oatk.Toolkit, f: F) -> F:
    """``f``, answering only requests with a valid bearer token."""
    return _protect(toolkit, f, None)


def authenticated_with_claims(toolkit: _oatk.Toolkit, required: Mapping[str, Any]) -> Callable[[F], F]:
    """A decorator: a valid bearer token whose claims satisfy ``required``."""
    required = dict(required)
    compile_requirements(required)  # fail at decoration time on unusable values

    def decorator(f: F) -> F:
        return _protect(toolkit, f, required)

    return decorator


async def execute_authenticated(
    toolkit: _oatk.Toolkit,
    f: Callable[..., Any],
    required: Optional[Mapping[str, Any]],
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Check the current request, then call (and await) ``f(*args, **kwargs)``, or return the refusal."""
    requirement, predicates = compile_requirements(required)
    denied = await check_request(toolkit, requirement, predicates)
    if denied is not None:
        return denied
    return await _call(f, args, kwargs)
