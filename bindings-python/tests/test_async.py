"""AsyncOAuthToolkit: the same toolkit, awaitable where oatk 0.2.1 made it
async, each such call on a worker thread with the GIL released."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

import oatk
from oatk import AsyncOAuthToolkit, OAuthToolkit, fake

from conftest import quiet_heap

#: What 0.2.1's AsyncOAuthToolkit made a coroutine, and what it kept plain.
ORIGINAL_ASYNC = ["with_private", "with_public", "using_provider", "init_from_provider", "with_jwks",
                  "from_file", "validate", "execute_authenticated"]
ORIGINAL_SYNC = ["with_client_id", "from_clipboard", "header", "claims", "decode", "authenticated",
                 "authenticated_with_claims"]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_the_originals_signatures() -> None:
    for name in ORIGINAL_ASYNC:
        assert inspect.iscoroutinefunction(getattr(AsyncOAuthToolkit, name)), name
    for name in ORIGINAL_SYNC:
        assert not inspect.iscoroutinefunction(getattr(AsyncOAuthToolkit, name)), name
    for prop in ("token", "jwks", "version", "server"):
        assert isinstance(inspect.getattr_static(AsyncOAuthToolkit, prop), property), prop
    assert oatk.AsyncOAuthToolkit is oatk.async_toolkit.AsyncOAuthToolkit
    assert AsyncOAuthToolkit.__module__ == "oatk"
    # every OAuthToolkit method has its namesake, plain or awaitable
    missing = {n for n in dir(OAuthToolkit) if not n.startswith("_")} - set(dir(AsyncOAuthToolkit))
    assert missing == set()


def test_chaining_keys_jwks_and_validation(keys: Path, tmp_path: Path) -> None:
    async def main() -> None:
        t = AsyncOAuthToolkit()
        assert await t.with_private(keys / "private_key.pem") is t
        assert await t.with_public(str(keys / "public_key.pem")) is t
        assert t.with_client_id("me").with_issuer("https://issuer.example").with_leeway(5) is t
        token = t.claims(aud="me", iss="https://issuer.example", username="xtof").token
        assert token is not None
        assert await t.validate(token) == {"aud": "me", "iss": "https://issuer.example", "username": "xtof"}
        (tmp_path / "token.txt").write_text("Bearer " + token + "\n")
        assert await t.from_file(tmp_path / "token.txt") is t
        assert (await t.validate())["username"] == "xtof"
        assert t.decode()["username"] == "xtof" and t.header()["alg"] == "RS256"
        minted = await t.mint({"aud": "me", "iss": "https://issuer.example"}, n=1)
        assert await t.validate_with_claims(minted, {"n": 1}) == {"aud": "me", "iss": "https://issuer.example", "n": 1}
        # with_jwks: a dict, JSON text, bytes, a path, as in 0.2.1
        (tmp_path / "certs.json").write_text(t.jwks)
        for source in (json.loads(t.jwks), t.jwks, t.jwks.encode(), str(tmp_path / "certs.json")):
            other = await AsyncOAuthToolkit().with_jwks(source)
            assert (await other.validate(token))["username"] == "xtof"

    run(main())


def test_the_same_errors_as_oauth_toolkit(keys: Path, other_keys: Path, tmp_path: Path) -> None:
    async def main() -> None:
        t = await AsyncOAuthToolkit().with_private(keys / "private_key.pem")
        other = await AsyncOAuthToolkit().with_private(other_keys / "private_key.pem")
        expired = t.claims(exp=int(time.time()) - 60).token
        with pytest.raises(oatk.ExpiredTokenError) as e:
            await t.validate(expired)
        assert e.value.code == "EXPIRED"
        with pytest.raises(oatk.InvalidTokenError):  # another key: unknown kid
            await t.validate(other.claims(a=1).token)
        with pytest.raises(oatk.MalformedTokenError):
            await t.validate("x.y.z")
        with pytest.raises(oatk.ClaimsError):
            await t.validate_with_claims(t.claims(a=1).token, {"a": 2})
        with pytest.raises(oatk.MissingFileError):
            await AsyncOAuthToolkit().with_private(tmp_path / "nope.pem")
        with pytest.raises(oatk.InvalidArgumentError, match="missing provider url"):
            await AsyncOAuthToolkit().init_from_provider()
        with pytest.raises(oatk.NetworkError):
            await AsyncOAuthToolkit().using_provider("http://127.0.0.1:9/")
        # the sync toolkit raises the same classes for the same inputs
        with pytest.raises(oatk.ExpiredTokenError):
            OAuthToolkit().with_private(keys / "private_key.pem").validate(expired)

    run(main())


def test_async_with_and_the_fake_server_as_provider() -> None:
    async def main() -> None:
        with fake.running() as server:
            async with AsyncOAuthToolkit() as t:
                assert await t.using_provider(server.url) is t
                token = server.access_token("xtof", groups=["dev"])
                # core requires an audience decision for a provider's tokens
                with pytest.raises(oatk.InvalidArgumentError):
                    await t.validate(token)
                claims = await t.with_client_id("test").validate(token)
                assert claims["username"] == "xtof" and claims["iss"] == server.issuer
                assert await t.init_from_provider() is t

    run(main())


def test_with_cache_is_shared_with_the_native_toolkit(keys: Path) -> None:
    async def main() -> None:
        t = (await AsyncOAuthToolkit().with_private(keys / "private_key.pem")).with_cache(8)
        token = t.claims(a=1, exp=int(time.time()) + 2).token
        assert t.native().cached_tokens == 0
        await t.validate(token)
        await t.validate(token)
        assert t.native().cached_tokens == 1
        # the cache never skips the clock
        t.with_now(int(time.time()) + 60)
        with pytest.raises(oatk.ExpiredTokenError):
            await t.validate(token)

    run(main())


def test_the_latest_toolkit_is_the_fake_servers(keys: Path) -> None:
    t = AsyncOAuthToolkit()
    assert fake.server.oatk is t
    assert t.server.oatk is t


def tick_while(awaitable_factory: Any, rounds: int = 5) -> Dict[str, Any]:
    """Run ``awaitable_factory()`` ``rounds`` times while a timer ticks every 2 ms
    on the same loop; the largest gap of each round, and the results."""

    async def main() -> Dict[str, Any]:
        stalls: List[float] = []
        noise: List[float] = []
        results: List[Any] = []
        for _ in range(rounds):
            gaps: List[float] = []
            done = asyncio.Event()

            async def ticker() -> None:
                last = time.perf_counter()
                while not done.is_set():
                    await asyncio.sleep(0.002)
                    now = time.perf_counter()
                    gaps.append(now - last)
                    last = now

            ticking = asyncio.create_task(ticker())
            await asyncio.sleep(0.1)  # the machine's own noise: the gaps with nothing else to do
            idle = len(gaps)
            results.append(await awaitable_factory())
            done.set()
            await ticking
            noise.append(max(gaps[:idle]))
            stalls.append(max(gaps[idle:]))
        return {"stalls": stalls, "noise": noise, "results": results}

    with quiet_heap():
        return run(main())


def test_validation_runs_off_the_event_loop() -> None:
    """300 validations at once, while a timer on the loop keeps ticking: its
    largest gap stays under 50 ms beyond what it shows with nothing else to
    do (the machine's own noise: 2 shared cores). ES384 costs about a third
    of a millisecond a token, so on the loop they would stall it for 100 ms.
    Five rounds, the best counts; a blocked loop would stall in each."""
    private_pem, _ = oatk.generate_key("ES384")
    t = AsyncOAuthToolkit().with_private_pem(private_pem)
    tokens = [t.claims(n=i).token for i in range(300)]

    async def validate_all() -> List[Dict[str, Any]]:
        return list(await asyncio.gather(*(t.validate(tok) for tok in tokens)))

    result = tick_while(validate_all)
    for claims in result["results"]:
        assert [c["n"] for c in claims] == list(range(300))
    assert any(stall < 0.05 + idle for stall, idle in zip(result["stalls"], result["noise"])), result


def test_many_validations_are_in_flight_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop hands validations to oatk's workers and goes on: when results
    come back, others are still waiting (on the loop itself there would never
    be one waiting)."""
    from oatk import _guard

    peaks: List[int] = []
    deliver = _guard.LoopCompletions.deliver

    def counting(self: Any) -> None:
        peaks.append(len(self.waiting))
        deliver(self)

    monkeypatch.setattr(_guard.LoopCompletions, "deliver", counting)
    private_pem, _ = oatk.generate_key("ES256")

    async def main() -> None:
        t = AsyncOAuthToolkit().with_private_pem(private_pem)
        tokens = [await t.mint(n=i) for i in range(200)]
        claims = await asyncio.gather(*(t.validate(tok) for tok in tokens))
        assert [c["n"] for c in claims] == list(range(200))
        assert _guard.completions(asyncio.get_running_loop()) is not None

    run(main())
    assert max(peaks) > 1, peaks


def test_without_native_completions_a_python_thread_does_it(monkeypatch: pytest.MonkeyPatch, keys: Path) -> None:
    """A loop that cannot watch a socket (Windows' proactor) gets the same
    answers through a worker thread of the loop's executor."""
    from oatk import _guard

    monkeypatch.setattr(_guard, "completions", lambda loop: None)

    async def main() -> None:
        t = await AsyncOAuthToolkit().with_private(keys / "private_key.pem")
        assert await t.validate(t.claims(a=1).token) == {"a": 1}
        with pytest.raises(oatk.ExpiredTokenError):
            await t.validate(t.claims(exp=1).token)
        assert isinstance(await _guard.decide_async(t.native(), "Bearer x.y.z", oatk._oatk.Requirement()),
                          oatk._oatk.Denial)

    run(main())


def test_a_cancelled_validation_is_dropped_quietly(keys: Path) -> None:
    async def main() -> Dict[str, Any]:
        t = await AsyncOAuthToolkit().with_private(keys / "private_key.pem")
        token = t.claims(a=1).token
        doomed = asyncio.ensure_future(t.validate(token))
        await asyncio.sleep(0)
        doomed.cancel()
        result: Dict[str, Any] = await t.validate(token)  # the loop goes on delivering
        await asyncio.sleep(0.05)
        assert doomed.cancelled()
        return result

    assert run(main()) == {"a": 1}


def test_importing_without_quart_is_fine_and_the_decorators_name_the_extra(tmp_path: Path) -> None:
    """`from oatk import AsyncOAuthToolkit` needs no framework; the Quart
    decorators say which extra to install when Quart is missing."""
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['quart'] = None\n"
        "from oatk import AsyncOAuthToolkit\n"
        "t = AsyncOAuthToolkit()\n"
        "try:\n"
        "    t.authenticated(lambda: 1)\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'oatk[quart]'" in out.stdout


FORKED = r"""
import asyncio, os, sys
from oatk import AsyncOAuthToolkit, generate_key
t = AsyncOAuthToolkit().with_private_pem(generate_key("ES256")[0])
token = t.claims(a=1).token
assert asyncio.run(t.validate(token)) == {"a": 1}      # the workers start here
pid = os.fork()
if pid == 0:                                            # a preforked server's worker
    os._exit(0 if asyncio.run(asyncio.wait_for(t.validate(token), 10)) == {"a": 1} else 1)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_child_gets_its_own_workers() -> None:
    """gunicorn --preload forks after the app has used oatk: the child starts
    workers of its own instead of waiting on the parent's, which it has not."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", FORKED], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
