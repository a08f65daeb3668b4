"""Type aliases, as in the original's ``oatk.types``."""

from typing import Any, Callable, Dict, List, Union

__all__ = ["ClaimsDict", "JWKSDict", "Decorator", "ClaimValue", "RequiredClaims"]

#: JWT claims.
ClaimsDict = Dict[str, Any]
#: A JSON Web Key Set as a dict.
JWKSDict = Dict[str, Any]
#: What ``authenticated_with_claims(...)`` returns.
Decorator = Callable[..., Callable[..., Any]]
#: A required claim: a value to equal, values to contain, or a predicate.
ClaimValue = Union[str, List[str], Callable[[Any], bool]]
RequiredClaims = Dict[str, ClaimValue]
