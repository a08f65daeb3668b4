"""OAuthToolkit: every method, with real keys from openssl."""

from __future__ import annotations

import datetime
import json
import sys
import threading
import time
from pathlib import Path

import pytest

import oatk
from oatk import OAuthToolkit


def test_every_method_chains_and_returns_the_toolkit(keys: Path, tmp_path: Path) -> None:
    t = OAuthToolkit()
    token_file = tmp_path / "token.txt"
    assert t.with_private(str(keys / "private_key.pem")) is t
    assert t.with_public(keys / "public_key.pem") is t
    assert t.with_jwks(t.jwks) is t
    assert t.with_client_id("me") is t
    assert t.with_issuer("https://issuer.example") is t
    assert t.with_algorithm("RS256") is t
    assert t.with_leeway(5) is t
    assert t.requiring_exp(False) is t
    assert t.claims(aud="me", iss="https://issuer.example") is t
    token_file.write_text(t.token + "\n")
    assert t.from_file(token_file) is t
    assert t.with_token(t.token) is t
    assert t.validate() == {"aud": "me", "iss": "https://issuer.example"}


def test_token_validate_decode_header(keys: Path) -> None:
    t = OAuthToolkit().with_private(keys / "private_key.pem").claims({"hello": "world"})
    token = t.token
    assert isinstance(token, str) and token.count(".") == 2
    assert t.validate(token) == {"hello": "world"}
    assert t.decode(token) == {"hello": "world"}
    header = t.header(token)
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    assert header["kid"] == json.loads(t.jwks)["keys"][0]["kid"]


def test_token_is_none_without_private_key(keys: Path) -> None:
    assert OAuthToolkit().token is None
    assert OAuthToolkit().with_public(keys / "public_key.pem").claims(a=1).token is None


def test_claims_merges_keywords_and_dict_the_dict_winning() -> None:
    t = OAuthToolkit()
    t.claims({"a": 1, "b": 2}, b=3, c=[1, "x", None, True, 1.5, {"n": {}}])
    assert t.native().pending_claims == {"b": 2, "c": [1, "x", None, True, 1.5, {"n": {}}], "a": 1}
    # each call replaces the pending claims, as in the original
    t.claims(z=1)
    assert t.native().pending_claims == {"z": 1}
    t.claims()
    assert t.native().pending_claims == {}


def test_claims_accepts_datetimes_for_numeric_dates(toolkit: OAuthToolkit) -> None:
    exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    claims = toolkit.validate(toolkit.claims(exp=exp, sub="x").token)
    assert claims["exp"] == int(exp.timestamp())


def test_claim_values_must_be_json(toolkit: OAuthToolkit) -> None:
    with pytest.raises(TypeError, match="claim when"):
        toolkit.claims(when={1, 2})
    with pytest.raises(TypeError, match="claim names must be str"):
        toolkit.claims({1: "x"})
    with pytest.raises(ValueError, match="64 bits"):
        toolkit.claims(n=2**70)
    with pytest.raises(ValueError):
        toolkit.claims(x=float("nan"))
    deep: dict = {}
    cursor = deep
    for _ in range(200):
        cursor["d"] = {}
        cursor = cursor["d"]
    with pytest.raises(ValueError, match="nested"):
        toolkit.claims(deep=deep)


def test_big_and_unicode_claims_round_trip(toolkit: OAuthToolkit) -> None:
    claims = {"u64": 2**64 - 1, "neg": -(2**63), "name": "Chrïstophe 🚀", "f": 0.1, "t": (1, 2)}
    assert toolkit.validate(toolkit.claims(claims).token) == {**claims, "t": [1, 2]}


def test_mint_does_not_touch_pending_claims(toolkit: OAuthToolkit) -> None:
    toolkit.claims(pending=True)
    token = toolkit.mint({"a": 1}, b=2)
    assert toolkit.validate(token) == {"b": 2, "a": 1}
    assert toolkit.validate(toolkit.token) == {"pending": True}


def test_jwks_property_is_json_text(keys: Path) -> None:
    jwks = OAuthToolkit().with_public(keys / "public_key.pem").jwks
    assert isinstance(jwks, str)
    (key,) = json.loads(jwks)["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["e"] == "AQAB" and key["kid"]
    # the same key gives the same (RFC 7638 thumbprint) kid, from either half
    assert OAuthToolkit().with_private(keys / "private_key.pem").jwks == jwks


def test_with_jwks_accepts_path_str_bytes_dict(toolkit: OAuthToolkit, tmp_path: Path) -> None:
    token = toolkit.claims(hello="world").token
    path = tmp_path / "certs.json"
    path.write_text(toolkit.jwks)
    for source in (str(path), path, toolkit.jwks, toolkit.jwks.encode(), json.loads(toolkit.jwks)):
        assert OAuthToolkit().with_jwks(source).validate(token) == {"hello": "world"}, type(source)


def test_with_jwks_mints_with_the_sets_first_kid(keys: Path) -> None:
    jwks = json.loads(OAuthToolkit().with_public(keys / "public_key.pem").jwks)
    jwks["keys"][0]["kid"] = "5171a100-e4c8-49ed-94af-6bc8fa635368"  # the seed's kid
    t = OAuthToolkit().with_private(keys / "private_key.pem").with_jwks(jwks)
    token = t.claims(hello="world").token
    assert t.header(token)["kid"] == "5171a100-e4c8-49ed-94af-6bc8fa635368"
    assert OAuthToolkit().with_jwks(jwks).validate(token) == {"hello": "world"}


def test_with_public_validates_tokens_of_the_private_key(keys: Path) -> None:
    token = OAuthToolkit().with_private(keys / "private_key.pem").claims(a=1).token
    assert OAuthToolkit().with_public(keys / "public_key.pem").validate(token) == {"a": 1}
    # a private key file given to with_public yields its public half
    assert OAuthToolkit().with_public(keys / "private_key.pem").validate(token) == {"a": 1}


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_ec_and_ed25519_keys(alg: str, ec_key: Path, ed25519_key: Path) -> None:
    key = ec_key if alg == "ES256" else ed25519_key
    t = OAuthToolkit().with_private(key)
    token = t.claims(k=alg).token
    assert t.header(token)["alg"] == alg
    assert OAuthToolkit().with_jwks(t.jwks).validate(token) == {"k": alg}


def test_with_private_pem_and_with_public_pem(keys: Path) -> None:
    private_pem = (keys / "private_key.pem").read_text()
    public_pem = (keys / "public_key.pem").read_text()
    signer = OAuthToolkit().with_private_pem(private_pem)
    assert signer.jwks == OAuthToolkit().with_private(keys / "private_key.pem").jwks
    token = signer.claims(a=1).token
    checker = OAuthToolkit().with_public_pem(public_pem)
    assert isinstance(checker, OAuthToolkit) and checker.validate(token) == {"a": 1}
    assert checker.token is None  # a public key does not sign
    with pytest.raises(oatk.InvalidKeyError) as e:
        OAuthToolkit().with_private_pem("not a key")
    assert e.value.filename is None
    with pytest.raises(oatk.InvalidKeyError):
        OAuthToolkit().with_public_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


@pytest.mark.parametrize("alg", ["RS256", "PS384", "ES256", "ES384", "EdDSA"])
def test_generate_key(alg: str) -> None:
    from cryptography.hazmat.primitives import serialization

    private_pem, public_pem = oatk.generate_key(alg)
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    # a real third-party parser reads both, and they are one pair
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public = serialization.load_pem_public_key(public_pem.encode())
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert private.public_key().public_bytes(*spki) == public.public_bytes(*spki)
    t = OAuthToolkit().with_private_pem(private_pem)
    if alg.startswith("PS"):
        t.with_algorithm(alg)
    token = t.claims(k=alg).token
    assert t.header(token)["alg"] == alg
    # a bare public key verifies its family's default algorithm; a JWKS names any other
    if alg.startswith("PS"):
        checker = OAuthToolkit().with_jwks(t.jwks)
    else:
        checker = OAuthToolkit().with_public_pem(public_pem)
    assert checker.validate(token) == {"k": alg}
    assert oatk.generate_key(alg)[0] != private_pem  # fresh every time


def test_generate_key_default_and_unknown() -> None:
    private_pem, _ = oatk.generate_key()
    t = OAuthToolkit().with_private_pem(private_pem)
    assert t.header(t.claims(a=1).token)["alg"] == "RS256"
    with pytest.raises(oatk.InvalidArgumentError) as e:
        oatk.generate_key("HS256")
    assert "HS256" in str(e.value) and "ES256" in str(e.value)  # core's list of names


def test_with_algorithm(toolkit: OAuthToolkit) -> None:
    token = toolkit.with_algorithm("PS256").claims(a=1).token
    assert toolkit.header(token)["alg"] == "PS256"
    assert OAuthToolkit().with_jwks(toolkit.jwks).validate(token) == {"a": 1}
    with pytest.raises(oatk.InvalidKeyError):
        toolkit.with_algorithm("ES256")
    with pytest.raises(oatk.InvalidArgumentError):
        toolkit.with_algorithm("HS999")


def test_with_client_id_requires_the_audience(toolkit: OAuthToolkit) -> None:
    ok = toolkit.claims(aud="me").token
    many = toolkit.claims(aud=["other", "me"]).token
    wrong = toolkit.claims(aud="other").token
    none = toolkit.claims(a=1).token
    checker = OAuthToolkit().with_jwks(toolkit.jwks).with_client_id("me")
    assert checker.validate(ok)["aud"] == "me"
    assert checker.validate(many)["aud"] == ["other", "me"]
    for token in (wrong, none):
        with pytest.raises(oatk.InvalidAudienceError) as e:
            checker.validate(token)
        assert e.value.code == "AUDIENCE"


def test_with_issuer(toolkit: OAuthToolkit) -> None:
    checker = OAuthToolkit().with_jwks(toolkit.jwks).with_issuer("https://a.example")
    assert checker.validate(toolkit.claims(iss="https://a.example").token)
    with pytest.raises(oatk.InvalidIssuerError):
        checker.validate(toolkit.claims(iss="https://a.example/").token)


def test_expiry_leeway_and_nbf(toolkit: OAuthToolkit) -> None:
    now = int(time.time())
    expired = toolkit.claims(exp=now - 30).token
    with pytest.raises(oatk.ExpiredTokenError):
        toolkit.validate(expired)
    assert toolkit.with_leeway(60).validate(expired)["exp"] == now - 30
    toolkit.with_leeway(0)
    with pytest.raises(oatk.NotYetValidError):
        toolkit.validate(toolkit.claims(nbf=now + 300).token)
    # an injected clock, so no test sleeps
    assert toolkit.with_now(now - 3600) is toolkit
    assert toolkit.validate(expired)
    toolkit.with_now(None)
    with pytest.raises(oatk.ExpiredTokenError):
        toolkit.validate(expired)


def test_with_now_sets_the_validation_clock(toolkit: OAuthToolkit) -> None:
    now = int(time.time())
    token = toolkit.claims(exp=now + 60, nbf=now + 30).token
    with pytest.raises(oatk.NotYetValidError):
        toolkit.validate(token)
    assert toolkit.with_now(now + 45) is toolkit
    assert toolkit.validate(token)["exp"] == now + 60
    with pytest.raises(oatk.ExpiredTokenError):
        toolkit.with_now(now + 61).validate(token)
    assert toolkit.with_leeway(5).validate(token)  # the leeway applies to the set clock
    with pytest.raises(oatk.NotYetValidError):
        toolkit.with_leeway(0).with_now(None).validate(token)  # back to the system clock


def test_validate_with_claims(toolkit: OAuthToolkit, tmp_path: Path) -> None:
    token = toolkit.claims(username="xtof", groups=["dev", "ops"], scope="openid profile").token
    required = {"username": "xtof", "groups": ["ops"], "scope": ["profile"]}
    assert toolkit.validate_with_claims(token, required)["username"] == "xtof"
    for wanted, message in [
        ({"username": "other"}, "claim username doesn't equal required value"),
        ({"groups": ["admin"]}, "claim groups is missing required value"),
        ({"email": "x"}, "required claim email is missing"),
    ]:
        with pytest.raises(oatk.ClaimsError) as e:
            toolkit.validate_with_claims(token, wanted)
        assert str(e.value) == message and e.value.code == "CLAIMS"
    # the token is checked before the claims
    with pytest.raises(oatk.ExpiredTokenError):
        toolkit.validate_with_claims(toolkit.claims(username="xtof", exp=1).token, {"username": "xtof"})
    # no token: the one read by from_file
    (tmp_path / "t").write_text(token)
    claims = toolkit.from_file(tmp_path / "t").validate_with_claims(None, {"username": "xtof"})
    assert claims["groups"] == ["dev", "ops"]
    with pytest.raises(TypeError):
        toolkit.validate_with_claims(token, {"username": lambda v: True})  # predicates are the decorators'


def test_requiring_exp(toolkit: OAuthToolkit) -> None:
    no_exp = toolkit.claims(a=1).token
    assert toolkit.validate(no_exp) == {"a": 1}
    with pytest.raises(oatk.MissingClaimError):
        toolkit.requiring_exp().validate(no_exp)


def test_cache_skips_the_signature_but_never_the_clock(toolkit: OAuthToolkit, other_keys: Path) -> None:
    now = int(time.time())
    token = toolkit.claims(exp=now + 60, aud="api").token
    assert toolkit.with_cache(8) is toolkit
    assert toolkit.native().cached_tokens == 0
    assert toolkit.validate(token)["aud"] == "api"
    assert toolkit.native().cached_tokens == 1
    assert toolkit.validate(token)["aud"] == "api"  # a hit
    toolkit.with_now(now + 61)
    with pytest.raises(oatk.ExpiredTokenError):
        toolkit.validate(token)
    toolkit.with_now(None)
    with pytest.raises(oatk.InvalidAudienceError):
        OAuthToolkit().with_jwks(toolkit.jwks).with_cache().with_client_id("other").validate(token)
    # other keys: the cached verification no longer counts
    toolkit.with_private(other_keys / "private_key.pem")
    with pytest.raises(oatk.UnknownKeyError):
        toolkit.validate(token)
    toolkit.with_cache(0)
    assert toolkit.native().cached_tokens == 0


def test_cache_hits_return_independent_dicts_and_expire_at_once(toolkit: OAuthToolkit) -> None:
    now = int(time.time())
    token = toolkit.claims(exp=now + 60, sub="xtof", scope="openid", n=1.5, ok=True, none=None).token
    toolkit.with_cache(8).with_now(now)
    first = toolkit.validate(token)  # verified, remembered
    second = toolkit.validate(token)  # a hit
    assert second == first and second is not first
    second["sub"] = "someone else"
    second["admin"] = True
    third = toolkit.validate(token)  # what a caller did to one dict never shows in another
    assert third == first and "admin" not in third
    nested = toolkit.claims(exp=now + 60, aud=["a", "b"], ctx={"k": "v"}).token
    toolkit.validate(nested)
    mine = toolkit.validate(nested)
    mine["aud"].append("c")
    mine["ctx"]["k"] = "changed"
    assert toolkit.validate(nested) == {"exp": now + 60, "aud": ["a", "b"], "ctx": {"k": "v"}}
    # The second it expires, the cached token is refused: no grace from the cache.
    toolkit.with_now(now + 60)
    with pytest.raises(oatk.ExpiredTokenError):
        toolkit.validate(token)
    with pytest.raises(oatk.ExpiredTokenError):
        toolkit.native().validate(nested)


def test_from_file_strips_whitespace_and_bearer(toolkit: OAuthToolkit, tmp_path: Path) -> None:
    token = toolkit.claims(hello="world").token
    path = tmp_path / "token.txt"
    path.write_text(f"Bearer {token}\n\n")
    assert OAuthToolkit().from_file(path).decode() == {"hello": "world"}
    assert OAuthToolkit().with_jwks(toolkit.jwks).from_file(str(path)).validate() == {"hello": "world"}
    assert OAuthToolkit().from_file(path).header()["alg"] == "RS256"


def test_explicit_token_wins_over_the_one_read(toolkit: OAuthToolkit, tmp_path: Path) -> None:
    (tmp_path / "t").write_text(toolkit.claims(which="file").token)
    t = toolkit.from_file(tmp_path / "t")
    assert t.validate(toolkit.claims(which="arg").token) == {"which": "arg"}
    assert t.validate() == {"which": "file"}
    assert t.validate("") == {"which": "file"}  # falsy means "the one read", as in the original


def test_no_token_at_all() -> None:
    with pytest.raises(oatk.InvalidArgumentError) as e:
        OAuthToolkit().decode()
    assert e.value.code == "INVALID_ARGUMENT"
    with pytest.raises(oatk.MalformedTokenError):
        OAuthToolkit().decode("")


def test_version() -> None:
    assert OAuthToolkit().version == oatk.__version__
    assert oatk.__version__.count(".") == 2


def test_repr_is_the_originals() -> None:
    assert repr(OAuthToolkit()).startswith("<oatk.OAuthToolkit object at 0x")


def test_subclassing_keeps_chaining(keys: Path) -> None:
    class MyToolkit(OAuthToolkit):
        def hello(self) -> str:
            return "hi"

    t = MyToolkit().with_private(keys / "private_key.pem")
    assert isinstance(t, MyToolkit) and t.hello() == "hi"


def test_many_threads_share_one_toolkit(toolkit: OAuthToolkit, other_keys: Path) -> None:
    good = toolkit.claims(ok=True).token
    bad = OAuthToolkit().with_private(other_keys / "private_key.pem").claims(ok=False).token
    errors: list = []

    def work() -> None:
        try:
            for _ in range(100):
                assert toolkit.validate(good) == {"ok": True}
                with pytest.raises(oatk.UnknownKeyError):
                    toolkit.validate(bad)
                assert toolkit.mint({"n": 1})
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def other_thread_progress(work, calls: int = 10) -> int:
    """How far a pure-Python thread gets while this thread makes `calls` calls.

    The switch interval is made huge, so the only way for the other thread to
    run is that this one releases the GIL; the other thread yields often
    (sleep(0)) so this one gets the GIL back as soon as it asks.
    """
    progress = [0]
    stop = threading.Event()
    started = threading.Event()

    def spin() -> None:
        started.set()
        while not stop.is_set():
            progress[0] += 1
            if progress[0] % 100 == 0:
                time.sleep(0)

    old = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    thread = threading.Thread(target=spin)
    try:
        thread.start()
        started.wait()
        before = progress[0]
        for _ in range(calls):
            work()
        return progress[0] - before
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(old)


def test_validation_and_the_decorator_check_run_without_the_gil(toolkit: OAuthToolkit) -> None:
    # A big token, so each call spends long enough in Rust for the other thread to wake.
    token = toolkit.claims(a=1, pad="x" * 40000).token
    requirement = oatk._oatk.Requirement({"a": 1})
    # control: decode() stays in Rust without releasing the GIL: the other thread is frozen
    assert other_thread_progress(lambda: toolkit.decode(token)) == 0
    assert other_thread_progress(lambda: toolkit.validate(token)) > 0
    assert other_thread_progress(lambda: oatk._oatk.check(toolkit.native(), f"Bearer {token}", requirement)) > 0
    assert other_thread_progress(lambda: toolkit.mint({"pad": "y" * 40000})) > 0
