"""What every framework's glue shares: required claims split into values (core
checks them) and Python callables (called here), and the call that decides
on a request, on the caller's thread (Flask) or off the event loop (Quart,
FastAPI).

The decision itself (401/403, bodies, the RFC 6750 challenge, what a
predicate's outcome means) is core's ``guard``: ``_oatk.check``,
``_oatk.check_cached`` and ``_oatk.predicate_denial``. Nothing here changes a decision.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import weakref
from typing import Any, Callable, Deque, Dict, Mapping, Optional, Tuple, TypeVar, Union

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
    """:func:`decide` for a coroutine: a signature check runs on one of oatk's
    worker threads, so the event loop goes on serving; what needs none (a
    header refused as it stands, a token the ``with_cache`` cache verified,
    its ``exp`` checked now) is answered on the loop, where handing it to a
    thread would cost more than the answer. The predicates run on the loop,
    where the route runs."""
    cached = _oatk.check_cached(toolkit, authorization, requirement)
    result: Decision = (
        cached if cached is not None else await native("check", _oatk.check, toolkit, authorization, requirement)
    )
    if isinstance(result, dict):
        return apply_predicates(result, predicates)
    return result


class LoopCompletions:
    """One event loop's native results (``_oatk.Completions``): oatk's worker
    threads compute without the GIL and wake the loop through a socket it
    watches; the loop turns each result into its future's value.

    At most ``BATCH`` futures are resolved per turn of the loop, so that a
    hundred results arriving together do not resume a hundred requests in one
    turn while timers and other connections wait."""

    BATCH = 16

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.native = _oatk.Completions()
        self.waiting: Dict[int, "asyncio.Future[Any]"] = {}
        self.backlog: Deque[Tuple[int, bool, Any]] = collections.deque()
        self.continuing = False
        loop.add_reader(self.native.fileno(), self.deliver)

    def deliver(self) -> None:
        self.backlog.extend(self.native.drain())
        self.resolve()

    def resolve(self) -> None:
        self.continuing = False
        for _ in range(min(self.BATCH, len(self.backlog))):
            ticket, ok, value = self.backlog.popleft()
            future = self.waiting.pop(ticket, None)
            if future is None or future.done():  # the awaiting task was cancelled
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        if self.backlog and not self.continuing:
            self.continuing = True
            asyncio.get_running_loop().call_soon(self.resolve)


#: Each loop's completions; None where a loop cannot watch a socket.
_completions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Optional[LoopCompletions]]" = (
    weakref.WeakKeyDictionary()
)


#: The loop last asked about, and its completions: one server runs one loop.
_last: Tuple[Optional["weakref.ReferenceType[asyncio.AbstractEventLoop]"], Optional[LoopCompletions]] = (None, None)


def completions(loop: asyncio.AbstractEventLoop) -> Optional[LoopCompletions]:
    """The loop's native completions, made on first use; None where ``add_reader``
    is not offered (Windows' proactor loop) or the loop cannot be tracked."""
    global _last
    last_loop, last = _last
    if last_loop is not None and last_loop() is loop:
        return last
    found = _completions_of(loop)
    try:
        _last = (weakref.ref(loop), found)
    except TypeError:
        pass
    return found


def _completions_of(loop: asyncio.AbstractEventLoop) -> Optional[LoopCompletions]:
    try:
        return _completions[loop]
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable
        return None
    made: Optional[LoopCompletions]
    try:
        made = LoopCompletions(loop) if hasattr(_oatk, "Completions") else None
    except (NotImplementedError, OSError):
        made = None
    _completions[loop] = made
    return made


async def native(name: str, fallback: Callable[..., _R], *args: Any) -> _R:
    """``Completions.<name>(*args)`` on oatk's workers, awaited on this loop;
    ``fallback(*args)`` on a Python worker thread where the loop has no completions."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return await offload(fallback, *args)
    found = completions(loop)
    if found is None:
        return await offload(fallback, *args)
    future: "asyncio.Future[_R]" = loop.create_future()
    found.waiting[getattr(found.native, name)(*args)] = future
    return await future


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
