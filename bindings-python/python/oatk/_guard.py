"""What every framework's glue shares: required claims split into values (core
checks them) and Python callables (called here), and the call that decides
on a request, on the caller's thread (Flask) or off the event loop (Quart,
FastAPI).

The decision itself (401/403, bodies, the RFC 6750 challenge, what a
predicate's outcome means) is core's ``guard``: ``_oatk.check`` and
``_oatk.predicate_denial``. Nothing here changes a decision.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, TypeVar, Union

from . import _oatk

logger = logging.getLogger("oatk")

_R = TypeVar("_R")
Predicates = Tuple[Tuple[str, Callable[[Any], Any]], ...]
#: The claims when allowed, else core's refusal.
Decision = Union[Dict[str, Any], _oatk.Denial]


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


def predicate_outcome(name: str, predicate: Callable[[Any], Any], claims: Dict[str, Any]) -> _oatk._PredicateOutcome:
    """Call ``predicate`` with the claim's value only; an exception is logged (with
    its traceback) and reported as ``"raised"``. Core decides what each outcome means."""
    if name not in claims:
        return "absent"
    try:
        return "accepted" if predicate(claims[name]) else "refused"
    except Exception:
        logger.warning("the check for claim %s raised; refusing the request", name, exc_info=True)
        return "raised"


def apply_predicates(claims: Dict[str, Any], predicates: Predicates) -> Decision:
    """The claims, or core's refusal for the first predicate that does not accept them."""
    for name, predicate in predicates:
        denial = _oatk.predicate_denial(name, predicate_outcome(name, predicate, claims))
        if denial is not None:
            return denial
    return claims


def decide(
    toolkit: _oatk.Toolkit, authorization: Optional[str], requirement: _oatk.Requirement, predicates: Predicates = ()
) -> Decision:
    """Core's decision on an ``Authorization`` header value, on this thread (the
    Rust part runs without the GIL). Setup errors (no key) raise ``OatkError``."""
    result = _oatk.check(toolkit, authorization, requirement)
    if isinstance(result, dict):
        return apply_predicates(result, predicates)
    return result


async def decide_async(
    toolkit: _oatk.Toolkit, authorization: Optional[str], requirement: _oatk.Requirement, predicates: Predicates = ()
) -> Decision:
    """:func:`decide` for a coroutine: the validation runs on a worker thread, so the
    event loop goes on serving; the predicates run on the loop, where the route runs."""
    result = await offload(_oatk.check, toolkit, authorization, requirement)
    if isinstance(result, dict):
        return apply_predicates(result, predicates)
    return result


async def offload(fn: Callable[..., _R], *args: Any) -> _R:
    """Run ``fn(*args)`` (a native call that releases the GIL) on a worker thread
    and wait for it without blocking the event loop: asyncio's default executor,
    or anyio's worker threads under another event loop (trio)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        import anyio.to_thread  # not asyncio: anyio (FastAPI's, Quart's) knows the running loop

        return await anyio.to_thread.run_sync(functools.partial(fn, *args))
    return await loop.run_in_executor(None, fn, *args)
