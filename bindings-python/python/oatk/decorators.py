"""Flask glue: protect a route with ``@toolkit.authenticated`` or
``@toolkit.authenticated_with_claims(...)``.

The decision (401/403, bodies, the RFC 6750 ``WWW-Authenticate`` challenge,
required-claims matching) is made by the core's ``guard::check``; this module
reads the ``Authorization`` header, runs Python predicates, and turns a
refusal into a ``flask.Response``. It works on plain Flask views and on
Flask-RESTful ``Resource`` methods (which pass a ``Response`` through as is).

On success the validated claims are in ``flask.g.oatk_claims``.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Tuple, TypeVar

from . import _oatk

if TYPE_CHECKING:
    from ._toolkit import OAuthToolkit

logger = logging.getLogger("oatk")

F = TypeVar("F", bound=Callable[..., Any])
Predicates = Tuple[Tuple[str, Callable[[Any], Any]], ...]

_flask: Any = None


def _flask_module() -> Any:
    global _flask
    if _flask is None:
        try:
            import flask
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("oatk's route decorators need Flask: pip install 'oatk[flask]'") from e
        _flask = flask
    return _flask


def compile_requirements(required: Optional[Mapping[str, Any]]) -> Tuple[_oatk.Requirement, Predicates]:
    """Split required claims into values (checked by core) and callables (run here)."""
    values = {}
    predicates = []
    for name, want in (required or {}).items():
        if callable(want):
            predicates.append((name, want))
        else:
            values[name] = want
    return _oatk.Requirement(values), tuple(predicates)


def refusal(denial: _oatk.Denial) -> Any:
    """The Flask response for a core ``Denial``: its status, plain-text body and challenge."""
    flask = _flask_module()
    response = flask.Response(denial.body, status=denial.status, mimetype="text/plain")
    if denial.www_authenticate:
        response.headers["WWW-Authenticate"] = denial.www_authenticate
    return response


def check_request(
    toolkit: "OAuthToolkit", requirement: _oatk.Requirement, predicates: Predicates = ()
) -> Optional[Any]:
    """Decide on the current request: ``None`` when allowed (claims in ``g.oatk_claims``),
    else the refusal ``Response``. Setup errors (no key configured) raise ``OatkError``."""
    flask = _flask_module()
    # The WSGI environ is where Werkzeug's headers.get("Authorization") reads from.
    result = toolkit._native.check(flask.request.environ.get("HTTP_AUTHORIZATION"), requirement)
    if not isinstance(result, dict):
        return refusal(result)
    for name, predicate in predicates:
        if name not in result:
            return refusal(_oatk.missing_denial(name))
        try:
            accepted = predicate(result[name])
        except Exception:
            logger.warning("the check for claim %s raised; refusing the request", name, exc_info=True)
            accepted = False
        if not accepted:
            return refusal(_oatk.rejected_denial(name))
    flask.g.oatk_claims = result
    return None


def _protect(toolkit: "OAuthToolkit", f: F, required: Optional[Mapping[str, Any]]) -> F:
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


def authenticated(toolkit: "OAuthToolkit", f: F) -> F:
    return _protect(toolkit, f, None)


def authenticated_with_claims(toolkit: "OAuthToolkit", required: Mapping[str, Any]) -> Callable[[F], F]:
    required = dict(required)
    compile_requirements(required)  # fail at decoration time on unusable values

    def decorator(f: F) -> F:
        return _protect(toolkit, f, required)

    return decorator


def execute_authenticated(
    toolkit: "OAuthToolkit",
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
