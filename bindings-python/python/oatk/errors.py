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

The native module picks the class for each core error kind in one exhaustive
match (``bindings-python/src/errors.rs``); compare ``code``, never the text.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
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
