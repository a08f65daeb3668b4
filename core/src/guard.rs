//! Protecting a route: the one decision behind the Flask decorator, the
//! Express middleware, the Go middleware and the C helper. Framework glue
//! turns a [`Denial`] into its own response and changes nothing about it.

use std::sync::Arc;

use crate::claims::{self, Unmet};
use crate::error::{Error, ErrorKind, Result};
use crate::token::Claims;
use crate::toolkit::Toolkit;

/// An HTTP refusal: status, plain-text body, and the RFC 6750 3 challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// 401 (no or invalid token) or 403 (valid token, claims not satisfied).
    pub status: u16,
    /// The response body, e.g. `Missing Authorization` (the original's text).
    pub body: String,
    /// The `WWW-Authenticate` header value, when there is one.
    pub www_authenticate: Option<String>,
    /// Why, when it came from a core error.
    pub kind: Option<ErrorKind>,
    /// For a 403: the claim that is not met, and how.
    pub refusal: Option<claims::Refusal>,
}

/// Allowed with these claims, or denied.
#[derive(Debug)]
pub enum Decision {
    Allow(Claims),
    Deny(Denial),
}

/// Decide on a request from its `Authorization` header value. `Err` is kept
/// for failures that are not the caller's fault (no key configured, a
/// provider down): frameworks answer those as server errors.
pub fn check(
    toolkit: &Toolkit,
    authorization: Option<&str>,
    required: &Claims,
) -> Result<Decision> {
    match bearer_token(authorization) {
        Err(denial) => Ok(Decision::Deny(denial)),
        Ok(token) => decide(toolkit.validate_shared(Some(token)), required),
    }
}

/// [`check`]'s decision when it needs no signature check and no I/O: a
/// header refused as it stands, or a token the verified-token cache holds
/// (its time, audience and issuer checked now). `None` means "call
/// [`check`]". Bindings call it without giving up their interpreter lock or
/// event loop, because it never blocks.
pub fn check_cached(
    toolkit: &Toolkit,
    authorization: Option<&str>,
    required: &Claims,
) -> Option<Result<Decision>> {
    match bearer_token(authorization) {
        Err(denial) => Some(Ok(Decision::Deny(denial))),
        Ok(token) => toolkit
            .validate_cached(Some(token))
            .map(|validated| decide(validated, required)),
    }
}

/// The token of an `Authorization` header, or the 401 for a header that holds none.
fn bearer_token(authorization: Option<&str>) -> std::result::Result<&str, Denial> {
    let Some(header) = authorization.map(str::trim).filter(|h| !h.is_empty()) else {
        return Err(Denial {
            status: 401,
            body: "Missing Authorization".into(),
            www_authenticate: Some("Bearer".into()),
            kind: None,
            refusal: None,
        });
    };
    // RFC 6750 2.1: `Bearer <token>`, scheme case-insensitive.
    let bearer = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"));
    let Some((_, token)) = bearer else {
        return Err(invalid_token(
            "the Authorization header is not a Bearer token",
            None,
        ));
    };
    // RFC 6750 2.1: one b64token after the scheme; `Bearer Bearer x` is not one.
    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(invalid_token(
            "the Bearer credential must be one token",
            Some(ErrorKind::Malformed),
        ));
    }
    Ok(token)
}

/// Allowed when the token validated and its claims meet `required`.
fn decide(validated: Result<Arc<Claims>>, required: &Claims) -> Result<Decision> {
    let claims = match validated {
        Ok(claims) => claims,
        Err(e) => return deny(e).map(Decision::Deny),
    };
    match claims::require(&claims, required) {
        Ok(()) => Ok(Decision::Allow(Arc::unwrap_or_clone(claims))),
        Err(refusal) => Ok(Decision::Deny(forbidden(refusal))),
    }
}

/// The 401 for a token validation refused, or the error back when it is
/// not the client's fault. (A claims refusal is a 403 from [`forbidden`].)
fn deny(error: Error) -> Result<Denial> {
    if error.kind().is_invalid_token() {
        return Ok(invalid_token(error.message(), Some(error.kind())));
    }
    Err(error)
}

/// What a binding's predicate (a Python or JS function given as a required
/// claim's value) made of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predicate {
    /// The claim is absent: the predicate is not called.
    Absent,
    /// It returned a truthy value (or a Promise of one).
    Accepted,
    /// It returned a falsy value.
    Refused,
    /// It raised (or its Promise rejected).
    Raised,
}

impl Predicate {
    /// The names bindings use for these outcomes (`"absent"`...).
    pub fn from_name(name: &str) -> Option<Predicate> {
        match name {
            "absent" => Some(Predicate::Absent),
            "accepted" => Some(Predicate::Accepted),
            "refused" => Some(Predicate::Refused),
            "raised" => Some(Predicate::Raised),
            _ => None,
        }
    }
}

/// The one predicate rule, the same in Flask, Quart, FastAPI and Express: a
/// predicate receives the claim's value only (the original oatk's
/// signature) and is not called when the claim is absent (403, "missing");
/// a falsy result refuses (403); so does an exception, fail closed: a
/// predicate that cannot decide never lets a request through, and never
/// turns into a 500 that shows the client a traceback (the binding logs it).
pub fn predicate(claim: &str, outcome: Predicate) -> Option<Denial> {
    match outcome {
        Predicate::Accepted => None,
        Predicate::Absent => Some(forbidden(claims::refusal(claim, Unmet::Missing))),
        Predicate::Refused | Predicate::Raised => {
            Some(forbidden(claims::refusal(claim, Unmet::Rejected)))
        }
    }
}

fn forbidden(refusal: claims::Refusal) -> Denial {
    // RFC 6750 3.1 would say insufficient_scope; the original answered 403 with the reason.
    Denial {
        status: 403,
        body: refusal.message(),
        www_authenticate: None,
        kind: Some(ErrorKind::Claims),
        refusal: Some(refusal),
    }
}

/// Longest description a client is shown, in characters.
const MAX_DESCRIPTION: usize = 160;

/// The text a client may see for a refused token. The token is the
/// attacker's: its `kid`, `alg` or claim names are shown only as the
/// characters RFC 6750 3 allows in `error_description` (others become `?`),
/// and no longer than [`MAX_DESCRIPTION`]. What the route expects (`aud`,
/// `iss`) is configuration, not the client's business.
fn client_description(description: &str, kind: Option<ErrorKind>) -> String {
    match kind {
        Some(ErrorKind::InvalidAudience) => return "token audience is not accepted".into(),
        Some(ErrorKind::InvalidIssuer) => return "token issuer is not accepted".into(),
        _ => {}
    }
    let mut safe: String = description
        .chars()
        .take(MAX_DESCRIPTION + 1)
        .map(|c| match c {
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            _ => '?',
        })
        .collect();
    if safe.chars().count() > MAX_DESCRIPTION {
        safe.truncate(MAX_DESCRIPTION - 3);
        safe.push_str("...");
    }
    safe
}

fn invalid_token(description: &str, kind: Option<ErrorKind>) -> Denial {
    let safe = client_description(description, kind);
    Denial {
        status: 401,
        www_authenticate: Some(format!(
            "Bearer error=\"invalid_token\", error_description=\"{safe}\""
        )),
        body: safe,
        kind,
        refusal: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{Algorithm, PrivateKey};
    use serde_json::json;

    fn toolkit() -> Toolkit {
        let mut t = Toolkit::new();
        t.with_private_key(PrivateKey::generate(Algorithm::ES256, None).unwrap());
        t
    }

    fn required(v: serde_json::Value) -> Claims {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn statuses_and_bodies() {
        let t = toolkit();
        let token = t.mint(&required(json!({"username": "notxtof"}))).unwrap();
        let need = required(json!({"username": "xtof"}));
        let deny = |h: Option<&str>| match check(&t, h, &need).unwrap() {
            Decision::Deny(d) => d,
            Decision::Allow(_) => panic!("allowed"),
        };
        assert_eq!(deny(None).status, 401);
        assert_eq!(deny(None).body, "Missing Authorization");
        let d = deny(Some("Basic abc"));
        assert_eq!(d.status, 401);
        assert!(d
            .www_authenticate
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\""));
        let d = deny(Some("Bearer a.b.c"));
        assert_eq!((d.status, d.kind), (401, Some(ErrorKind::Malformed)));
        let d = deny(Some(&format!("Bearer {token}")));
        assert_eq!(
            (d.status, d.body.as_str()),
            (403, "claim username doesn't equal required value")
        );
        assert_eq!(
            d.refusal,
            Some(claims::refusal("username", Unmet::NotEqual))
        );
        let ok = t.mint(&need).unwrap();
        assert!(matches!(
            check(&t, Some(&format!("bearer {ok}")), &need).unwrap(),
            Decision::Allow(_)
        ));
    }

    #[test]
    fn check_cached_answers_only_without_a_signature_check() {
        let mut t = toolkit();
        t.with_cache(8);
        let need = required(json!({"username": "xtof"}));
        let token = t.mint(&need).unwrap();
        let header = format!("Bearer {token}");
        // A header refused as it stands needs no signature check.
        match check_cached(&t, Some("Basic abc"), &need) {
            Some(Ok(Decision::Deny(d))) => assert_eq!(d.status, 401),
            other => panic!("{other:?}"),
        }
        // Not verified yet: only `check` can answer.
        assert!(check_cached(&t, Some(&header), &need).is_none());
        assert!(matches!(
            check(&t, Some(&header), &need),
            Ok(Decision::Allow(_))
        ));
        assert!(matches!(
            check_cached(&t, Some(&header), &need),
            Some(Ok(Decision::Allow(_)))
        ));
        // The claims are checked on every hit.
        let other = required(json!({"username": "notxtof"}));
        match check_cached(&t, Some(&header), &other) {
            Some(Ok(Decision::Deny(d))) => assert_eq!(d.status, 403),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cached_token_that_expires_is_refused_at_once() {
        let mut t = toolkit();
        t.with_cache(8).with_now(Some(1_000));
        let need = Claims::new();
        let token = t.mint(&required(json!({"exp": 1_010}))).unwrap();
        let header = format!("Bearer {token}");
        assert!(matches!(
            check(&t, Some(&header), &need),
            Ok(Decision::Allow(_))
        ));
        t.with_now(Some(1_010));
        match check_cached(&t, Some(&header), &need) {
            Some(Ok(Decision::Deny(d))) => {
                assert_eq!((d.status, d.kind), (401, Some(ErrorKind::Expired)))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn predicate_outcomes() {
        assert_eq!(predicate("groups", Predicate::Accepted), None);
        let missing = predicate("groups", Predicate::Absent).unwrap();
        assert_eq!(
            (missing.status, missing.body.as_str()),
            (403, "required claim groups is missing")
        );
        for outcome in [Predicate::Refused, Predicate::Raised] {
            let d = predicate("groups", outcome).unwrap();
            assert_eq!(d.status, 403);
            assert_eq!(d.body, "claim groups doesn't satisfy the required check");
            assert_eq!(d.www_authenticate, None);
        }
        assert_eq!(Predicate::from_name("raised"), Some(Predicate::Raised));
        assert_eq!(Predicate::from_name("maybe"), None);
    }

    #[test]
    fn setup_errors_are_not_denials() {
        let err = check(&Toolkit::new(), Some("Bearer a.b.c"), &Claims::new());
        // Malformed is detected before keys are needed: still the client's fault.
        assert!(matches!(err, Ok(Decision::Deny(_))));
        let t = toolkit();
        let token = t.mint(&Claims::new()).unwrap();
        assert!(check(
            &Toolkit::new(),
            Some(&format!("Bearer {token}")),
            &Claims::new()
        )
        .is_err());
    }
}
