//! Protecting a route: the one decision behind the Flask decorator, the
//! Express middleware, the Go middleware and the C helper. Framework glue
//! turns a [`Denial`] into its own response and changes nothing about it.

use crate::claims;
use crate::error::{Error, ErrorKind, Result};
use crate::token::{self, Claims};
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
    let Some(header) = authorization.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(Decision::Deny(Denial {
            status: 401,
            body: "Missing Authorization".into(),
            www_authenticate: Some("Bearer".into()),
            kind: None,
        }));
    };
    // RFC 6750 2.1: `Bearer <token>`, scheme case-insensitive.
    let bearer = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"));
    let Some((_, token)) = bearer else {
        return Ok(Decision::Deny(invalid_token(
            "the Authorization header is not a Bearer token",
            None,
        )));
    };
    match toolkit
        .validate(Some(token::clean(token)))
        .and_then(|c| claims::require(&c, required).map(|()| c))
    {
        Ok(claims) => Ok(Decision::Allow(claims)),
        Err(e) => deny(e).map(Decision::Deny),
    }
}

/// The denial for a core error, or the error back when it is not the client's fault.
pub fn deny(error: Error) -> Result<Denial> {
    if error.kind().is_invalid_token() {
        return Ok(invalid_token(error.message(), Some(error.kind())));
    }
    if error.kind() == ErrorKind::Claims {
        return Ok(forbidden(error));
    }
    Err(error)
}

/// A claim check done by the binding's own predicate (a Python or JS function) failed.
pub fn rejected(claim: &str) -> Denial {
    forbidden(claims::rejected(claim))
}

/// A claim a predicate needs is absent.
pub fn missing(claim: &str) -> Denial {
    forbidden(claims::missing(claim))
}

fn forbidden(error: Error) -> Denial {
    // RFC 6750 3.1 would say insufficient_scope; the original answered 403 with the reason.
    Denial {
        status: 403,
        body: error.message().to_string(),
        www_authenticate: None,
        kind: Some(error.kind()),
    }
}

fn invalid_token(description: &str, kind: Option<ErrorKind>) -> Denial {
    let safe: String = description
        .chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect();
    Denial {
        status: 401,
        body: description.to_string(),
        www_authenticate: Some(format!(
            "Bearer error=\"invalid_token\", error_description=\"{safe}\""
        )),
        kind,
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
        let ok = t.mint(&need).unwrap();
        assert!(matches!(
            check(&t, Some(&format!("bearer {ok}")), &need).unwrap(),
            Decision::Allow(_)
        ));
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
