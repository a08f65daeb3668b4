"""Every route validated claims take to a dict gives what ``json.loads`` of
the payload gives, names in order, value for value and type for type.

Claims are packed where they were validated and a dict is made under the GIL
from this thread's template for their names, which holds the last values
(``src/claims.rs``), or from a dict the cache kept, or name by name; tokens here are signed by hand over exact payload texts, so
values ``mint`` would never write (``-0.0``, ``1.0``, escapes, integers past
``i64``) are checked too. Two numbers serde_json reads as doubles where
``json.loads`` reads integers, ``-0`` and integers past ``u64``, give floats on
every route (as before the templates); for them the routes are checked
against each other.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import math
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

import oatk
from oatk import AsyncOAuthToolkit, OAuthToolkit, _guard

# The templates a thread keeps (MAX_TEMPLATES in src/claims.rs); the test makes 8 shapes more.
SHAPES_KEPT = 32

PAYLOADS: List[str] = [
    '{"iss":"https://issuer.example","sub":"alice","aud":"api","exp":4102444800,"iat":1700000000,'
    '"scope":"read write","client_id":"web","username":"alice"}',
    '{"n":null,"t":true,"f":false,"zero":0,"neg":-1,"max":9223372036854775807,"min":-9223372036854775808}',
    '{"one":1.0,"negzero":-0.0,"half":0.5,"huge":1e300,"tiny":-2.5e-300}',
    '{"empty":"","":"empty name","uni":"\\u00fcn\\u00ef \\ud83d\\ude00","esc":"a\\"b\\\\c\\n\\u0000d","\\u00fc":"name not ASCII"}',
    '{"b":2,"a":1}',
    '{"a":1,"b":2}',
    # An integer past i64 (kept exact through the map), arrays and objects: not packed.
    '{"u":9223372036854775808,"sub":"x"}',
    '{"u64":18446744073709551615}',
    '{"roles":["admin","user"],"sub":"y"}',
    '{"cnf":{"jkt":"abc"},"nested":[{"a":[1,2.5,null]}]}',
    "{}",
]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], str]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    directory = tmp_path_factory.mktemp("claim-routes")
    (directory / "public_key.pem").write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    def sign(payload: str) -> str:
        signing_input = b64url(b'{"alg":"RS256","typ":"JWT"}') + "." + b64url(payload.encode())
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)

    sign.public = directory / "public_key.pem"  # type: ignore[attr-defined]
    return sign


def typed(claims: Dict[str, Any]) -> List[Any]:
    """Names in order, each value with its type (True is not 1, -0.0 is not 0.0)."""

    def value(v: Any) -> Any:
        if isinstance(v, float):
            return ("float", v, math.copysign(1.0, v))
        if isinstance(v, dict):
            return ("dict", typed(v))
        if isinstance(v, list):
            return ("list", [value(item) for item in v])
        return (type(v).__name__, v)

    return [(name, value(v)) for name, v in claims.items()]


def routes(public: Path) -> Dict[str, Callable[[str], Dict[str, Any]]]:
    plain = OAuthToolkit().with_public(public)
    cached = OAuthToolkit().with_public(public).with_cache(1024)
    requirement = oatk._oatk.Requirement({})
    async_kit = AsyncOAuthToolkit()
    asyncio.run(async_kit.with_public(public))

    def cache_miss_then_hit(token: str) -> Dict[str, Any]:
        first = cached.validate(token)
        second = cached.validate(token)
        assert typed(first) == typed(second)
        return second

    def guard_check(token: str) -> Dict[str, Any]:
        result = oatk._oatk.check(plain.native(), f"Bearer {token}", requirement)
        assert isinstance(result, dict), result
        return result

    async def both_async(token: str) -> Dict[str, Any]:
        claims = await async_kit.validate(token)
        decision = await _guard.decide_async(plain.native(), f"Bearer {token}", requirement)
        assert isinstance(decision, dict) and typed(decision) == typed(claims)
        return claims

    return {
        "validate": plain.validate,
        "validate, cache miss then hit": cache_miss_then_hit,
        "the decorators' check": guard_check,
        "async validate and check (oatk's workers)": lambda token: asyncio.run(both_async(token)),
    }


def test_every_route_gives_what_json_loads_gives(signer: Callable[[str], str]) -> None:
    public = signer.public  # type: ignore[attr-defined]
    tokens = [(payload, signer(payload)) for payload in PAYLOADS]
    for name, route in routes(public).items():
        for payload, token in tokens:
            for _ in range(2):  # the second time through the template made the first time
                assert typed(route(token)) == typed(json.loads(payload)), f"{name}: {payload}"


def test_numbers_serde_json_reads_as_doubles_agree_on_every_route(signer: Callable[[str], str]) -> None:
    public = signer.public  # type: ignore[attr-defined]
    for payload, expected in [
        ('{"z":-0,"sub":"x"}', {"z": -0.0, "sub": "x"}),
        ('{"past_u64":18446744073709551616}', {"past_u64": 1.8446744073709552e19}),
    ]:
        token = signer(payload)
        for name, route in routes(public).items():
            assert typed(route(token)) == typed(expected), f"{name}: {payload}"


def test_claims_of_more_shapes_than_templates_kept(signer: Callable[[str], str]) -> None:
    public = signer.public  # type: ignore[attr-defined]
    payloads = [json.dumps({f"c{i}": i, "sub": f"user{i}", f"x{i}": 0.5}) for i in range(SHAPES_KEPT + 8)]
    for name, route in routes(public).items():
        for payload in payloads + payloads:
            assert typed(route(signer(payload))) == typed(json.loads(payload)), f"{name}: {payload}"


def test_a_dict_changed_by_its_caller_changes_no_other(signer: Callable[[str], str]) -> None:
    public = signer.public  # type: ignore[attr-defined]
    payload = '{"iss":"i","sub":"alice","exp":4102444800}'
    token = signer(payload)
    for name, route in routes(public).items():
        first = route(token)
        first["sub"] = "mallory"
        first["admin"] = True
        del first["iss"]
        assert typed(route(token)) == typed(json.loads(payload)), name
        other = json.loads(payload)
        other["sub"] = "bob"
        assert route(signer(json.dumps(other)))["sub"] == "bob", name


def test_values_that_change_between_dicts_of_one_shape(signer: Callable[[str], str]) -> None:
    """A template holds the last values of its names: each value differs from
    the one before it in type (1, 1.0, true), in sign only (0.0, -0.0), or not at all."""
    public = signer.public  # type: ignore[attr-defined]
    values = ["1", "1.0", "true", "1", "null", '"1"', "-0.0", "0.0", "0.0", "-0.0", "false", "0", '""', '"x"', '"x"']
    payloads = [f'{{"v":{v},"sub":"s{i % 2}","n":{i}}}' for i, v in enumerate(values)]
    tokens = [signer(payload) for payload in payloads]
    for name, route in routes(public).items():
        for payload, token in zip(payloads, tokens):
            assert typed(route(token)) == typed(json.loads(payload)), f"{name}: {payload}"


def test_each_thread_gets_its_own_values(signer: Callable[[str], str]) -> None:
    """Four threads at once, each alternating two tokens of one shape: every dict is its token's."""
    public = signer.public  # type: ignore[attr-defined]
    toolkit = OAuthToolkit().with_public(public)
    requirement = oatk._oatk.Requirement({})
    payloads = [[json.dumps({"sub": f"t{t}-{k}", "n": t * 10 + k, "x": 0.5 * k}) for k in range(2)] for t in range(4)]
    tokens = [[signer(p) for p in pair] for pair in payloads]
    failures: List[str] = []
    barrier = threading.Barrier(4)

    def run(t: int) -> None:
        barrier.wait()
        for i in range(300):
            k = i % 2
            got = toolkit.validate(tokens[t][k]) if i % 3 else oatk._oatk.check(
                toolkit.native(), f"Bearer {tokens[t][k]}", requirement)
            if typed(got) != typed(json.loads(payloads[t][k])):  # type: ignore[arg-type]
                failures.append(f"thread {t}, call {i}: {got}")

    threads = [threading.Thread(target=run, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]


def test_values_are_shared_on_a_thread_not_across_threads(signer: Callable[[str], str]) -> None:
    """The point of the templates: a value unchanged since this thread's last
    dict is that dict's object; another thread has objects of its own (two
    threads writing one object's reference count is what they avoid)."""
    public = signer.public  # type: ignore[attr-defined]
    toolkit = OAuthToolkit().with_public(public)
    token = signer('{"iss":"https://issuer.example/shared","sub":"alice","exp":4102444800}')
    here = [toolkit.validate(token), toolkit.validate(token)]
    there: List[Dict[str, Any]] = []
    worker = threading.Thread(target=lambda: there.extend(toolkit.validate(token) for _ in range(2)))
    worker.start()
    worker.join()
    assert here[0]["iss"] is here[1]["iss"] and there[0]["iss"] is there[1]["iss"]
    assert here[0]["iss"] is not there[0]["iss"]
    assert here[0] == there[0] and here[0] is not here[1]


def test_a_finalizer_that_validates_while_a_dict_is_made(signer: Callable[[str], str]) -> None:
    """A dict made can start the garbage collector, whose callbacks (and
    finalizers) may validate on the same thread while the outer dict is being
    made from a template: both get their own claims, nothing is refused.
    (Up to Python 3.11 a collection starts inside the allocation; from 3.12
    it waits for the next bytecode, and this checks the plain route only.)"""
    public = signer.public  # type: ignore[attr-defined]
    toolkit = OAuthToolkit().with_public(public)
    outer = ['{"sub":"outer","n":1}', '{"sub":"outer","n":2}']
    inner = ['{"sub":"inner","n":3}', '{"other":"shape"}']
    outer_tokens, inner_tokens = [signer(p) for p in outer], [signer(p) for p in inner]
    inner_made: List[Any] = []

    def during_collection(phase: str, info: Dict[str, Any]) -> None:
        # Python only reports what a gc callback raises: keep it to fail on.
        if phase == "start":
            k = len(inner_made) % 2
            try:
                inner_made.append((k, toolkit.validate(inner_tokens[k])))
            except BaseException as err:
                inner_made.append((k, repr(err)))

    threshold = gc.get_threshold()
    gc.callbacks.append(during_collection)
    gc.set_threshold(1)
    # Every dict kept, and nothing else made in the loop: with the
    # interpreter's free list of dicts empty, each new dict is a new
    # allocation, where a collection can start.
    made = []
    try:
        for i in range(300):
            made.append(toolkit.validate(outer_tokens[i % 2]))
    finally:
        gc.callbacks.remove(during_collection)
        gc.set_threshold(*threshold)
    assert inner_made
    for k, claims in inner_made:
        assert isinstance(claims, dict) and typed(claims) == typed(json.loads(inner[k])), claims
    for i, claims in enumerate(made):
        assert typed(claims) == typed(json.loads(outer[i % 2]))
