//! Token validation with safe defaults (RFC 8725 JWT BCP, RFC 7519 7.2).

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::jwk::JwkSet;
use crate::time;
use crate::token::{self, member as claim, Claims, Jws};

/// What a token must satisfy besides its signature. Every field documents its default.
#[derive(Debug, Clone, Default)]
pub struct Validator {
    /// Seconds of clock skew tolerated on `exp` and `nbf`. Default 0.
    pub leeway: u64,
    /// Refuse tokens without `exp`. Default false: the seed's tokens carry none.
    pub require_exp: bool,
    /// When set, `aud` must be or contain it (RFC 7519 4.1.3). Default: not checked.
    pub audience: Option<String>,
    /// When set, `iss` must equal it byte for byte. Default: not checked.
    pub issuer: Option<String>,
    /// The clock, in seconds since the epoch. Default: the system clock.
    pub now: Option<i64>,
}

impl Validator {
    pub fn new() -> Validator {
        Validator::default()
    }

    /// The same validator with a fixed clock, so expiry tests never sleep.
    pub fn at(mut self, now: i64) -> Validator {
        self.now = Some(now);
        self
    }

    /// Verify `token` with a key from `keys` and check its claims; returns the claims.
    pub fn validate(&self, token: &str, keys: &JwkSet) -> Result<Claims> {
        let jws = token::parse(token::clean(token))?;
        verify_signature(&jws, keys)?;
        let claims = jws.claims()?;
        self.check_claims(&claims)?;
        Ok(claims)
    }

    /// Time, audience and issuer checks on already verified claims.
    pub fn check_claims(&self, claims: &Claims) -> Result<()> {
        let now = self.now.unwrap_or_else(time::now) as f64;
        let leeway = self.leeway as f64;
        // RFC 7519 4.1.4: the current time must be before exp.
        match numeric_date(claims, "exp")? {
            Some(exp) if now >= exp + leeway => {
                return Err(Error::new(
                    ErrorKind::Expired,
                    format!("token expired at {}", time::rfc3339(exp)),
                ))
            }
            None if self.require_exp => {
                return Err(Error::new(
                    ErrorKind::MissingClaim,
                    "required claim exp is missing",
                ))
            }
            _ => {}
        }
        // RFC 7519 4.1.5: the current time must be at or after nbf.
        if let Some(nbf) = numeric_date(claims, "nbf")? {
            if now + leeway < nbf {
                return Err(Error::new(
                    ErrorKind::NotYetValid,
                    format!("token not valid before {}", time::rfc3339(nbf)),
                ));
            }
        }
        if let Some(audience) = &self.audience {
            let ok = match claim(claims, "aud") {
                Some(Value::String(aud)) => aud == audience,
                Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
                _ => false,
            };
            if !ok {
                let found = claims
                    .get("aud")
                    .map_or("none".to_string(), Value::to_string);
                return Err(Error::new(
                    ErrorKind::InvalidAudience,
                    format!("token audience {found} does not include {audience:?}"),
                ));
            }
        }
        if let Some(issuer) = &self.issuer {
            let iss = claim(claims, "iss").and_then(Value::as_str);
            if iss != expected_issuer(issuer, claims).as_deref() {
                let found = claims
                    .get("iss")
                    .map_or("none".to_string(), Value::to_string);
                return Err(Error::new(
                    ErrorKind::InvalidIssuer,
                    format!("token issuer {found} is not {issuer:?}"),
                ));
            }
        }
        Ok(())
    }
}

/// A templated issuer, as Microsoft's multi-tenant
/// `https://login.microsoftonline.com/{tenantid}/v2.0`, names the token's
/// own tenant: `{tenantid}` is its `tid` claim. `None` when the token has no
/// usable `tid` (it then matches no `iss`).
fn expected_issuer(issuer: &str, claims: &Claims) -> Option<String> {
    if !issuer.contains(TENANT_TEMPLATE) {
        return Some(issuer.to_string());
    }
    let tid = claims.get("tid").and_then(Value::as_str)?;
    let plain = !tid.is_empty() && tid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    plain.then(|| issuer.replace(TENANT_TEMPLATE, tid))
}

/// The placeholder multi-tenant providers put in their discovered `issuer`.
pub const TENANT_TEMPLATE: &str = "{tenantid}";

/// Check the signature with the key the `kid` names. The algorithm comes from
/// the key, never from the token (RFC 8725 3.1, 2.1: no `none`, no key confusion).
pub fn verify_signature(jws: &Jws<'_>, keys: &JwkSet) -> Result<()> {
    let alg = jws.alg()?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(Error::new(
            ErrorKind::UnsupportedAlgorithm,
            "unsigned tokens (alg none) are not accepted",
        ));
    }
    // RFC 7515 4.1.11: a critical extension we do not understand makes the token invalid.
    if let Some(crit) = jws.crit() {
        let names = crit.as_array().map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or("?"))
                .collect::<Vec<_>>()
        });
        return Err(Error::malformed(match names {
            Some(names) if !names.is_empty() => {
                format!("unsupported critical header {}", names.join(", "))
            }
            _ => "header crit must be a non-empty array of names".into(),
        }));
    }
    // An algorithm oatk never verifies (HS256, ES512...) is named as such,
    // whatever keys are loaded: the reason is the algorithm, not a missing key.
    if crate::key::Algorithm::from_name(alg).is_none() {
        return Err(Error::new(
            ErrorKind::UnsupportedAlgorithm,
            format!("token alg {alg:?} is not supported (RS/PS 256-512, ES256, ES384, EdDSA are)"),
        ));
    }
    // jku, x5u, jwk and x5c are deliberately ignored (RFC 8725 3.10).
    let key = keys.find(jws.kid()?)?;
    if alg != key.alg().name() {
        return Err(Error::new(
            ErrorKind::UnsupportedAlgorithm,
            format!("token alg {alg:?} does not match the key's {}", key.alg()),
        ));
    }
    if !key.verify(jws.signing_input.as_bytes(), &jws.signature) {
        return Err(Error::new(
            ErrorKind::InvalidSignature,
            "token signature is invalid",
        ));
    }
    Ok(())
}

fn numeric_date(claims: &Claims, name: &str) -> Result<Option<f64>> {
    match claim(claims, name) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| Error::malformed(format!("claim {name} is not a NumericDate"))),
    }
}
