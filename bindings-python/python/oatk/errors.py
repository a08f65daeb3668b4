"""The exceptions oatk raises.

Every exception is an :class:`OatkError` with a stable ``code`` (the same
string in every oatk language binding) and a human message made by the core.
They also derive from the built-in exception that matches their meaning, so
code written for the original ``oatk`` (which let ``ValueError``,
``OSError``/``FileNotFoundError`` through) keeps working::

    try:
        claims = toolkit.validate(token)
    except oatk.ExpiredTokenError:
        ...  # ask for a new token
    except oatk.InvalidTokenError as e:   # also a ValueError
        print(e.code, e)

:data:`ERROR_CLASSES` maps each core error kind's code to its class; the
native module raises through it (``bindings-python/src/errors.rs``). Compare
``code``, never the text.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

from . import _oatk

__all__ = [
    "ERROR_CLASSES",
    "OatkError",
    "InvalidArgumentError",
    "FileError",
    "MissingFileError",
    "InvalidKeyError",
    "InvalidJwksError",
    "InvalidTokenError",
    "MalformedTokenError",
    "UnsupportedAlgorithmError",
    "UnknownKeyError",
    "InvalidSignatureError",
    "ExpiredTokenError",
    "NotYetValidError",
    "InvalidAudienceError",
    "InvalidIssuerError",
    "MissingClaimError",
    "ClaimsError",
    "NetworkError",
    "ServerError",
]


class OatkError(Exception):
    """Base class of every oatk error. ``code`` is stable; ``str(e)`` is the message.

    A bug inside oatk (a Rust panic) is reported as a plain ``OatkError``
    with code ``"PANIC"``; it never takes the interpreter down.
    """

    code: str = "ERROR"
    #: The file the failing call was given, when there was one.
    filename: Optional[str] = None

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (self.__class__, (self.message,), self.__dict__)


class InvalidArgumentError(OatkError, ValueError):
    """An argument was missing or unusable (bad JSON, unknown algorithm, no token)."""

    code = "INVALID_ARGUMENT"


class FileError(OatkError, OSError):
    """A file could not be read or written; the message names it."""

    code = "IO"


class MissingFileError(FileError, FileNotFoundError):
    """The file does not exist (what the original's ``open()`` raised)."""


class InvalidKeyError(OatkError, ValueError):
    """A key could not be parsed or does not fit the operation (or none is loaded)."""

    code = "KEY"


class InvalidJwksError(OatkError, ValueError):
    """A JWK or JWKS document could not be used."""

    code = "JWKS"


class InvalidTokenError(OatkError, ValueError):
    """The token must not be accepted. Flask decorators answer these with 401."""

    code = "INVALID_TOKEN"


class MalformedTokenError(InvalidTokenError):
    """Not a compact JWS: wrong number of parts, bad base64url, not JSON."""

    code = "MALFORMED"


class UnsupportedAlgorithmError(InvalidTokenError):
    """The token's ``alg`` is ``none``, unknown, or not the key's algorithm."""

    code = "UNSUPPORTED_ALGORITHM"


class UnknownKeyError(InvalidTokenError):
    """No trusted key has the token's ``kid``."""

    code = "UNKNOWN_KEY"


class InvalidSignatureError(InvalidTokenError):
    """The signature does not verify."""

    code = "SIGNATURE"


class ExpiredTokenError(InvalidTokenError):
    """``exp`` is in the past."""

    code = "EXPIRED"


class NotYetValidError(InvalidTokenError):
    """``nbf`` is in the future."""

    code = "NOT_YET_VALID"


class InvalidAudienceError(InvalidTokenError):
    """``aud`` does not name this client (see ``with_client_id``)."""

    code = "AUDIENCE"


class InvalidIssuerError(InvalidTokenError):
    """``iss`` is not the expected issuer."""

    code = "ISSUER"


class MissingClaimError(InvalidTokenError):
    """A claim the validator requires (such as ``exp``) is absent."""

    code = "MISSING_CLAIM"


class ClaimsError(OatkError, ValueError):
    """The token is valid but lacks what the route requires (403 in the decorators)."""

    code = "CLAIMS"


class NetworkError(OatkError, ConnectionError):
    """An OpenID provider could not be reached or answered with something unusable."""

    code = "NETWORK"


class ServerError(OatkError, RuntimeError):
    """The fake server could not start (port in use...) or has been stopped."""

    code = "SERVER"


def _by_code() -> Dict[str, Type[OatkError]]:
    """The class that declares each core kind's ``code``, in core's order."""
    declared = {
        cls.__dict__["code"]: cls
        for cls in list(globals().values())
        if isinstance(cls, type) and issubclass(cls, OatkError) and "code" in cls.__dict__
    }
    missing = [code for code, _summary in _oatk.ERROR_KINDS if code not in declared]
    if missing:  # pragma: no cover - a new core kind needs its class here
        raise ImportError(f"oatk.errors has no class for the core error kinds {missing}")
    return {code: declared[code] for code, _summary in _oatk.ERROR_KINDS}


#: The exception class for each core error kind, by ``code``, in core's order
#: (``oatk._oatk.ERROR_KINDS``). A file that does not exist raises the ``IO``
#: class's subclass ``MissingFileError``; a bug in oatk a plain ``OatkError``.
ERROR_CLASSES: Dict[str, Type[OatkError]] = _by_code()
