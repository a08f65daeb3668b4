"""oatk: an OAuth toolkit. Create and validate JWTs, publish and consume JWKS,
protect Flask routes, and run a fake OAuth2 / OpenID Connect server.

    >>> from oatk import OAuthToolkit
    >>> oauth = OAuthToolkit().with_private("private_key.pem")
    >>> token = oauth.claims(hello="world").token
    >>> oauth.validate(token)
    {'hello': 'world'}

In a coroutine, ``AsyncOAuthToolkit`` is the same toolkit with awaitable file,
network and signature calls; ``oatk.fastapi`` and ``oatk.quart`` protect
FastAPI and Quart routes (``pip install 'oatk[fastapi]'`` / ``'oatk[quart]'``).

A drop-in for the original ``oatk`` package, built on a Rust core.
"""

from . import _oatk
from ._oatk import generate_key
from ._toolkit import OAuthToolkit
from .async_toolkit import AsyncOAuthToolkit
from .errors import (
    ClaimsError,
    ExpiredTokenError,
    FileError,
    InvalidArgumentError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidJwksError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidTokenError,
    MalformedTokenError,
    MissingClaimError,
    MissingFileError,
    NetworkError,
    NotYetValidError,
    OatkError,
    ServerError,
    UnknownKeyError,
    UnsupportedAlgorithmError,
)
from . import fake, js
from .types import ClaimsDict, ClaimValue, Decorator, JWKSDict, RequiredClaims

__version__: str = _oatk.__version__

__all__ = [
    "OAuthToolkit",
    "AsyncOAuthToolkit",
    "generate_key",
    "fake",
    "js",
    "__version__",
    # errors
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
    # types, as in the original
    "ClaimsDict",
    "ClaimValue",
    "Decorator",
    "JWKSDict",
    "RequiredClaims",
]
