"""Flask glue: protect a route with ``@toolkit.authenticated`` or
``@toolkit.authenticated_with_claims(...)``.

The decision (401/403, bodies, the RFC 6750 ``WWW-Authenticate`` challenge,
required-claims matching, what a predicate's outcome means) is made by the
core's ``guard``; this module reads the ``Authorization`` header, calls
Python predicates, and turns a refusal into a ``flask.Response``. It works on
plain Flask views and on Flask-RESTful ``Resource`` methods (which pass a
``Response`` through as is).

Every function takes the native toolkit (``OAuthToolkit.native()``), so a
toolkit reconfigured after decorating is what the route uses.

On success the validated claims are in ``flask.g.oatk_claims``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Mapping, Optional, TypeVar

from . import _oatk
from ._extras import require
from ._guard import Predicates, compile_requirements, decide

F = TypeVar("F", bound=Callable[..., Any])

_flask: Any = None


def _flask_module() -> Any:
    global _flask
    if _flask is None:
        require("flask", "flask", "oatk's Flask decorators")
        import flask

        _flask = flask
    return _flask


def refusal(denial: _oatk.Denial) -> Any:
    """The Flask response for a core ``Denial``: its status, plain-text body and challenge."""
    flask = _flask_module()
    response = flask.Response(denial.body, status=denial.status, mimetype="text/plain")
    if denial.www_authenticate:
        response.headers["WWW-Authenticate"] = denial.www_authenticate
    return response


def check_request(
    toolkit: _oatk.Toolkit, requirement: _oatk.Requirement, predicates: Predicates = ()
) -> Optional[Any]:
    """Decide on the current request: ``None`` when allowed (claims in ``g.oatk_claims``),
    else the refusal ``Response``. Setup errors (no key configured) raise ``OatkError``."""
    flask = _flask_module()
    # The WSGI environ is where Werkzeug's headers.get("Authorization") reads from.
    result = decide(toolkit, flask.request.environ.get("HTTP_AUTHORIZATION"), requirement, predicates)
    if not isinstance(result, dict):
        return refusal(result)
    flask.g.oatk_claims = result
    return None


def _protect(toolkit: _oatk.Toolkit, f: F, required: Optional[Mapping[str, Any]]) -> F:
    requirement, predicates = compile_requirements(required)

    if inspect.iscoroutinefunction(f):

        @functools.wraps(f)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            denied = check_request(toolkit, requirement, predicates)
            if denied is not None:
                return denied
            return await f(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        denied = check_request(toolkit, requirement, predicates)
        if denied is not None:
            return denied
        return f(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def authenticated(toolkit: _oatk.Toolkit, f: F) -> F:
    return _protect(toolkit, f, None)


def authenticated_with_claims(toolkit: _oatk.Toolkit, required: Mapping[str, Any]) -> Callable[[F], F]:
    required = dict(required)
    compile_requirements(required)  # fail at decoration time on unusable values

    def decorator(f: F) -> F:
        return _protect(toolkit, f, required)

    return decorator


def execute_authenticated(
    toolkit: _oatk.Toolkit,
    f: Callable[..., Any],
    required: Optional[Mapping[str, Any]],
    *args: Any,
    **kwargs: Any,
) -> Any:
    requirement, predicates = compile_requirements(required)
    denied = check_request(toolkit, requirement, predicates)
    if denied is not None:
        return denied
    return f(*args, **kwargs)
