"""Exceptions: one class per core error kind, stable codes, built-in bases."""

from __future__ import annotations

import base64
import json
import pickle
import socket
from pathlib import Path

import pytest

import oatk
from oatk import OAuthToolkit, _oatk


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_every_core_kind_has_its_own_class_with_the_core_code() -> None:
    """Core's list of kinds, at run time: each has one class here, with its code."""
    codes = [code for code, _summary in _oatk.ERROR_KINDS]
    assert len(codes) >= 16 and len(set(codes)) == len(codes)
    assert all(summary for _code, summary in _oatk.ERROR_KINDS)
    assert list(oatk.errors.ERROR_CLASSES) == codes  # every kind, in core's order
    classes = list(oatk.errors.ERROR_CLASSES.values())
    assert len(set(classes)) == len(classes), "two kinds share a class"
    for code, cls in oatk.errors.ERROR_CLASSES.items():
        name = cls.__name__
        assert cls is getattr(oatk, name) is getattr(oatk.errors, name)
        assert issubclass(cls, oatk.OatkError)
        assert cls.code == code, (code, name)
        assert name in oatk.__all__ and name in oatk.errors.__all__


INVALID_TOKEN_CODES = {
    "MALFORMED", "UNSUPPORTED_ALGORITHM", "UNKNOWN_KEY", "SIGNATURE", "EXPIRED",
    "NOT_YET_VALID", "AUDIENCE", "ISSUER", "MISSING_CLAIM",
}


def test_hierarchy() -> None:
    assert INVALID_TOKEN_CODES < set(oatk.errors.ERROR_CLASSES)
    for code, cls in oatk.errors.ERROR_CLASSES.items():
        assert issubclass(cls, oatk.InvalidTokenError) == (code in INVALID_TOKEN_CODES), cls
    assert issubclass(oatk.InvalidTokenError, oatk.OatkError)
    assert issubclass(oatk.InvalidTokenError, ValueError)
    assert issubclass(oatk.ExpiredTokenError, ValueError)
    assert issubclass(oatk.FileError, OSError)
    assert issubclass(oatk.MissingFileError, FileNotFoundError)
    assert issubclass(oatk.InvalidKeyError, ValueError)
    assert issubclass(oatk.InvalidJwksError, ValueError)
    assert issubclass(oatk.InvalidArgumentError, ValueError)
    assert issubclass(oatk.ClaimsError, ValueError)
    assert issubclass(oatk.NetworkError, ConnectionError)
    assert issubclass(oatk.ServerError, RuntimeError)


def raises(cls: type, code: str, fn, *args):  # type: ignore[no-untyped-def]
    with pytest.raises(cls) as info:
        fn(*args)
    assert type(info.value) is cls, type(info.value)
    assert info.value.code == code
    assert str(info.value) == info.value.message and info.value.message
    return info.value


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    e = raises(oatk.MissingFileError, "IO", OAuthToolkit().with_private, missing)
    assert e.filename == str(missing) and str(missing) in str(e)
    assert isinstance(e, FileNotFoundError)
    e = raises(oatk.MissingFileError, "IO", OAuthToolkit().from_file, missing)
    assert e.filename == str(missing)
    e = raises(oatk.MissingFileError, "IO", OAuthToolkit().with_jwks, str(missing))
    assert e.filename == str(missing)
    # exists, but is a directory: still a FileError, not "missing"
    e = raises(oatk.FileError, "IO", OAuthToolkit().with_public, tmp_path)
    assert e.filename == str(tmp_path)


def test_key_errors_name_the_file(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key\n")
    e = raises(oatk.InvalidKeyError, "KEY", OAuthToolkit().with_private, garbage)
    assert e.filename == str(garbage) and str(garbage) in str(e)
    e = raises(oatk.InvalidKeyError, "KEY", OAuthToolkit().with_public, garbage)
    assert str(garbage) in str(e)
    assert isinstance(e, ValueError)


def test_no_key_to_validate_with() -> None:
    raises(oatk.InvalidKeyError, "KEY", OAuthToolkit().validate, f"{b64({'alg': 'RS256'})}.{b64({})}.AAAA")
    raises(oatk.InvalidKeyError, "KEY", lambda: OAuthToolkit().jwks)


def test_jwks_errors(tmp_path: Path) -> None:
    raises(oatk.InvalidJwksError, "JWKS", OAuthToolkit().with_jwks, '{"nokeys": []}')
    bad = tmp_path / "certs.json"
    bad.write_text('{"keys": 3}')
    e = raises(oatk.InvalidJwksError, "JWKS", OAuthToolkit().with_jwks, bad)
    assert str(bad) in str(e) and e.filename == str(bad)


def test_token_errors(toolkit: OAuthToolkit, other_keys: Path) -> None:
    kid = toolkit.header(toolkit.claims(a=1).token)["kid"]
    good = toolkit.claims(a=1).token
    raises(oatk.MalformedTokenError, "MALFORMED", toolkit.validate, "a.b.c")
    raises(oatk.MalformedTokenError, "MALFORMED", toolkit.validate, "only-one-part")
    raises(oatk.MalformedTokenError, "MALFORMED", toolkit.decode, "a.b")
    raises(oatk.UnsupportedAlgorithmError, "UNSUPPORTED_ALGORITHM", toolkit.validate,
           f"{b64({'alg': 'none', 'kid': kid})}.{b64({'a': 1})}.")
    raises(oatk.UnsupportedAlgorithmError, "UNSUPPORTED_ALGORITHM", toolkit.validate,
           f"{b64({'alg': 'HS256', 'kid': kid})}.{b64({'a': 1})}.AAAA")
    other = OAuthToolkit().with_private(other_keys / "private_key.pem")
    raises(oatk.UnknownKeyError, "UNKNOWN_KEY", toolkit.validate, other.claims(a=1).token)
    # signed by another key, under our kid
    forged = OAuthToolkit().with_private(other_keys / "private_key.pem").with_jwks(toolkit.jwks).claims(a=1).token
    assert toolkit.header(forged)["kid"] == kid
    raises(oatk.InvalidSignatureError, "SIGNATURE", toolkit.validate, forged)
    head, _, sig = good.split(".")
    raises(oatk.InvalidSignatureError, "SIGNATURE", toolkit.validate, f"{head}.{b64({'a': 2})}.{sig}")
    raises(oatk.ExpiredTokenError, "EXPIRED", toolkit.validate, toolkit.claims(exp=1).token)
    raises(oatk.NotYetValidError, "NOT_YET_VALID", toolkit.validate, toolkit.claims(nbf=4102444800).token)
    raises(oatk.InvalidAudienceError, "AUDIENCE",
           OAuthToolkit().with_jwks(toolkit.jwks).with_client_id("x").validate, good)
    raises(oatk.InvalidIssuerError, "ISSUER", OAuthToolkit().with_jwks(toolkit.jwks).with_issuer("x").validate, good)
    raises(oatk.MissingClaimError, "MISSING_CLAIM", OAuthToolkit().with_jwks(toolkit.jwks).requiring_exp().validate,
           good)


def test_claims_error(toolkit: OAuthToolkit) -> None:
    token = toolkit.claims(username="notxtof").token
    e = raises(oatk.ClaimsError, "CLAIMS", toolkit.validate_with_claims, token, {"username": "xtof"})
    assert str(e) == "claim username doesn't equal required value"  # the text the issue fixes


def test_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        raises(oatk.NetworkError, "NETWORK", OAuthToolkit().using_provider, f"http://127.0.0.1:{port}")


def test_server_error_port_in_use() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        e = raises(oatk.ServerError, "SERVER", oatk.fake.running, port)
        assert str(port) in str(e)


def test_invalid_argument() -> None:
    raises(oatk.InvalidArgumentError, "INVALID_ARGUMENT", OAuthToolkit().validate)


def test_a_panic_is_an_oatk_error_not_a_crash() -> None:
    with pytest.raises(oatk.OatkError) as info:
        _oatk._panic_for_tests()
    assert type(info.value) is oatk.OatkError
    assert info.value.code == "PANIC"
    assert "deliberate test panic" in str(info.value)


def test_exceptions_pickle(tmp_path: Path) -> None:
    with pytest.raises(oatk.MissingFileError) as info:
        OAuthToolkit().with_private(tmp_path / "x.pem")
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is oatk.MissingFileError and str(copy) == str(info.value) and copy.code == "IO"
    assert copy.filename == info.value.filename
