//! JWK and JWK Set import/export (RFC 7517, RFC 7518 6, RFC 8037 2) and the
//! RFC 7638 thumbprint used as the default, stable `kid`.

use std::collections::HashMap;
use std::path::Path;

use aws_lc_rs::digest;
use aws_lc_rs::signature::ParsedPublicKey;
use serde_json::{json, Map, Value};

use crate::b64;
use crate::error::{Error, ErrorKind, Result};
use crate::key::{Algorithm, KeyFamily, PublicKey};

/// A public verification key: the material, the one algorithm it may verify, its `kid`.
#[derive(Clone)]
pub struct Jwk {
    kid: String,
    alg: Algorithm,
    public: PublicKey,
    verifier: ParsedPublicKey,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jwk(kid={}, alg={})", self.kid, self.alg)
    }
}

impl Jwk {
    /// `alg` defaults to the family's algorithm, `kid` to the RFC 7638 thumbprint.
    pub fn new(public: PublicKey, alg: Option<Algorithm>, kid: Option<String>) -> Result<Jwk> {
        let alg = alg.unwrap_or_else(|| public.family().default_algorithm());
        let verifier = public.verifier(alg)?;
        let kid = kid.unwrap_or_else(|| thumbprint(&public));
        Ok(Jwk {
            kid,
            alg,
            public,
            verifier,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The only algorithm this key accepts (RFC 8725 3.1).
    pub fn alg(&self) -> Algorithm {
        self.alg
    }
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        if self.alg.family() == KeyFamily::Rsa {
            // The same check as `verify_sig` (the verifier holds the padding
            // and the digest algorithm, and refuses a digest of another), with
            // the digest computed here: aws-lc then needs one key context per
            // call instead of a digest context and two key contexts.
            let digest = digest::digest(self.alg.hash(), message);
            return self.verifier.verify_digest_sig(&digest, signature).is_ok();
        }
        self.verifier.verify_sig(message, signature).is_ok()
    }

    /// Parse one JWK. `Ok(None)` means "not a signature key oatk can use": an
    /// unsupported `kty` or `crv`, `use: enc`, or an `alg` that is not a JWS
    /// algorithm of this key's family. Those are skipped, as RFC 7517 5 allows.
    pub fn from_json(value: &Value) -> Result<Option<Jwk>> {
        let obj = value
            .as_object()
            .ok_or_else(|| Error::jwks("a JWK must be a JSON object"))?;
        let text = |name: &str| obj.get(name).and_then(Value::as_str);
        if text("use").is_some_and(|u| u != "sig") {
            return Ok(None);
        }
        if let Some(ops) = obj.get("key_ops").and_then(Value::as_array) {
            if !ops.iter().any(|op| op == "verify") {
                return Ok(None);
            }
        }
        let member = |name: &str| -> Result<Vec<u8>> {
            let encoded =
                text(name).ok_or_else(|| Error::jwks(format!("JWK is missing \"{name}\"")))?;
            b64::decode(encoded)
                .map_err(|_| Error::jwks(format!("JWK member \"{name}\" is not base64url")))
        };
        let public = match (text("kty"), text("crv")) {
            (Some("RSA"), _) => PublicKey::Rsa {
                n: strip_zeros(member("n")?),
                e: strip_zeros(member("e")?),
            },
            (Some("EC"), Some(crv @ ("P-256" | "P-384"))) => {
                let family = if crv == "P-256" {
                    KeyFamily::P256
                } else {
                    KeyFamily::P384
                };
                PublicKey::Ec {
                    family,
                    x: member("x")?,
                    y: member("y")?,
                }
            }
            (Some("OKP"), Some("Ed25519")) => PublicKey::Ed25519 { x: member("x")? },
            _ => return Ok(None),
        };
        let alg = match text("alg") {
            None => None,
            Some(name) => match Algorithm::from_name(name) {
                Some(alg) if alg.family() == public.family() => Some(alg),
                _ => return Ok(None),
            },
        };
        let kid = text("kid").map(str::to_owned);
        match Jwk::new(public, alg, kid) {
            Ok(jwk) => Ok(Some(jwk)),
            // e.g. an RSA key under 2048 bits: RFC 7518 3.3 forbids it.
            Err(e) if e.kind() == ErrorKind::Key => Err(Error::jwks(e.message())),
            Err(e) => Err(e),
        }
    }

    /// The public JWK; never any private member (`d`, `p`, `q`, `dp`, `dq`, `qi`).
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        let (kty, members) = public_members(&self.public);
        obj.insert("kty".into(), kty.into());
        obj.insert("use".into(), "sig".into());
        obj.insert("alg".into(), self.alg.name().into());
        obj.insert("kid".into(), self.kid.clone().into());
        for (name, value) in members {
            obj.insert(name.into(), value.into());
        }
        Value::Object(obj)
    }
}

fn strip_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes
        .iter()
        .take_while(|b| **b == 0)
        .count()
        .min(bytes.len().saturating_sub(1));
    bytes.drain(..zeros);
    bytes
}

/// `kty` and the required public members, in lexicographic order (RFC 7638 3.2).
fn public_members(public: &PublicKey) -> (&'static str, Vec<(&'static str, String)>) {
    match public {
        PublicKey::Rsa { n, e } => ("RSA", vec![("e", b64::encode(e)), ("n", b64::encode(n))]),
        PublicKey::Ec { family, x, y } => {
            let crv = if *family == KeyFamily::P256 {
                "P-256"
            } else {
                "P-384"
            };
            (
                "EC",
                vec![
                    ("crv", crv.into()),
                    ("x", b64::encode(x)),
                    ("y", b64::encode(y)),
                ],
            )
        }
        PublicKey::Ed25519 { x } => (
            "OKP",
            vec![("crv", "Ed25519".into()), ("x", b64::encode(x))],
        ),
    }
}

/// RFC 7638 thumbprint: base64url(SHA-256) of the required members, sorted, no whitespace.
pub fn thumbprint(public: &PublicKey) -> String {
    let (kty, mut members) = public_members(public);
    members.push(("kty", kty.to_string()));
    members.sort_by(|a, b| a.0.cmp(b.0));
    let body: Vec<String> = members
        .iter()
        .map(|(name, value)| format!("{}:{}", json!(name), json!(value)))
        .collect();
    let canonical = format!("{{{}}}", body.join(","));
    b64::encode(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
}

/// A JWK Set with `kid` lookup as a plain map (RFC 8725 3.10: no key is ever
/// taken from the token itself).
#[derive(Clone, Debug, Default)]
pub struct JwkSet {
    keys: Vec<Jwk>,
    by_kid: HashMap<String, usize>,
}

impl JwkSet {
    pub fn new() -> JwkSet {
        JwkSet::default()
    }

    /// Parse `{"keys": [...]}` or a single JWK object.
    pub fn from_json(text: &str) -> Result<JwkSet> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| Error::jwks(format!("not valid JSON: {e}")))?;
        JwkSet::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<JwkSet> {
        let mut set = JwkSet::new();
        match value.get("keys") {
            Some(Value::Array(keys)) => {
                for (i, key) in keys.iter().enumerate() {
                    if let Some(jwk) =
                        Jwk::from_json(key).map_err(|e| e.context(format!("key {i}")))?
                    {
                        set.push(jwk);
                    }
                }
            }
            Some(_) => return Err(Error::jwks("\"keys\" must be an array")),
            None if value.get("kty").is_some() => {
                if let Some(jwk) = Jwk::from_json(value)? {
                    set.push(jwk);
                }
            }
            None => {
                return Err(Error::jwks(
                    "a JWKS must be an object with a \"keys\" array",
                ))
            }
        }
        Ok(set)
    }

    /// Read a JWKS from a file, or parse the argument itself when it is JSON text.
    pub fn load(path_or_json: &str) -> Result<JwkSet> {
        if path_or_json.trim_start().starts_with('{') {
            return JwkSet::from_json(path_or_json);
        }
        let path = Path::new(path_or_json);
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, &e))?;
        JwkSet::from_json(&text).map_err(|e| e.context(path.display()))
    }

    /// Add a key; the first key with a given `kid` wins lookups.
    pub fn push(&mut self, jwk: Jwk) {
        self.by_kid
            .entry(jwk.kid.clone())
            .or_insert(self.keys.len());
        self.keys.push(jwk);
    }

    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for a token's `kid`. A token without `kid` may use a one-key set.
    pub fn find(&self, kid: Option<&str>) -> Result<&Jwk> {
        match kid {
            Some(kid) => self.by_kid.get(kid).map(|i| &self.keys[*i]).ok_or_else(|| {
                Error::new(
                    ErrorKind::UnknownKey,
                    format!("no key with kid {kid:?} in the key set"),
                )
            }),
            None if self.keys.len() == 1 => Ok(&self.keys[0]),
            None => Err(Error::new(
                ErrorKind::UnknownKey,
                format!(
                    "token has no kid and the key set has {} keys",
                    self.keys.len()
                ),
            )),
        }
    }

    /// The key with the same public material, whatever its `kid`.
    pub fn find_public(&self, public: &PublicKey) -> Option<&Jwk> {
        self.keys.iter().find(|k| &k.public == public)
    }

    pub fn to_value(&self) -> Value {
        json!({ "keys": self.keys.iter().map(Jwk::to_json).collect::<Vec<_>>() })
    }

    /// Indented JSON, as `oatk ... jwks` prints it.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 3.1: the example RSA key and its thumbprint.
    #[test]
    fn rfc7638_example_thumbprint() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let key = Jwk::from_json(&jwk).unwrap().unwrap();
        assert_eq!(key.kid(), "2011-04-29");
        assert_eq!(
            thumbprint(key.public_key()),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn unusable_keys_are_skipped_not_fatal() {
        let set = JwkSet::from_json(
            r#"{"keys":[{"kty":"oct","k":"AAAA"},{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},
                {"kty":"OKP","crv":"X25519","x":"AAAA"}]}"#,
        )
        .unwrap();
        assert!(set.is_empty());
    }

    #[test]
    fn malformed_members_are_errors() {
        let err = JwkSet::from_json(r#"{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Jwks);
        assert!(err.message().contains("key 0"), "{}", err.message());
        assert_eq!(
            JwkSet::from_json("[1]").unwrap_err().kind(),
            ErrorKind::Jwks
        );
        assert_eq!(
            JwkSet::from_json("nope").unwrap_err().kind(),
            ErrorKind::Jwks
        );
    }
}
