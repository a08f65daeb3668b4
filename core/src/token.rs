//! Compact JWS tokens: mint, split, decode, header (RFC 7515 7.1, RFC 7519 7).

use serde_json::{Map, Value};

use crate::b64;
use crate::error::{Error, Result};
use crate::key::{Algorithm, PrivateKey};

/// JSON object: a header or a claims set.
pub type Claims = Map<String, Value>;

/// Tokens larger than this are refused before any decoding. Bearer tokens
/// travel in HTTP headers, which servers commonly cap at 8-16 KiB.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// A split, decoded compact JWS; the signature is not checked yet.
#[derive(Debug)]
pub struct Jws<'a> {
    pub header: Claims,
    pub payload: Vec<u8>,
    /// `BASE64URL(header) '.' BASE64URL(payload)`, what the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

impl Jws<'_> {
    pub fn alg(&self) -> Result<&str> {
        self.header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::malformed("token header has no \"alg\""))
    }

    pub fn kid(&self) -> Result<Option<&str>> {
        match self.header.get("kid") {
            None => Ok(None),
            Some(Value::String(kid)) => Ok(Some(kid)),
            Some(_) => Err(Error::malformed("token header \"kid\" is not a string")),
        }
    }

    /// The claims set; a JWT payload must be a JSON object (RFC 7519 7.2 step 10).
    pub fn claims(&self) -> Result<Claims> {
        json_object(&self.payload, "payload")
    }
}

/// Remove what people paste around a token: whitespace and a `Bearer ` prefix.
pub fn clean(text: &str) -> &str {
    let text = text.trim();
    match text.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => text[7..].trim_start(),
        _ => text,
    }
}

/// Split and decode a compact JWS without verifying it.
pub fn parse(token: &str) -> Result<Jws<'_>> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Error::malformed(format!(
            "token is {} bytes, more than the {MAX_TOKEN_BYTES} allowed",
            token.len()
        )));
    }
    if token.is_empty() {
        return Err(Error::malformed("token is empty"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        let count = token.split('.').count();
        return Err(Error::malformed(format!(
            "a JWT has 3 dot-separated parts, this token has {count}"
        )));
    };
    let decode = |part: &str, what: &str| {
        b64::decode(part).map_err(|_| Error::malformed(format!("token {what} is not base64url")))
    };
    let header_bytes = decode(header, "header")?;
    Ok(Jws {
        header: json_object(&header_bytes, "header")?,
        payload: decode(payload, "payload")?,
        signing_input: &token[..header.len() + 1 + payload.len()],
        signature: decode(signature, "signature")?,
    })
}

fn json_object(bytes: &[u8], what: &str) -> Result<Claims> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::malformed(format!(
            "token {what} is not a JSON object"
        ))),
        Err(_) => Err(Error::malformed(format!("token {what} is not valid JSON"))),
    }
}

/// Mint a compact JWS with header `{alg, kid, typ: "JWT"}` and exactly `claims`.
pub fn mint(
    key: &PrivateKey,
    alg: Algorithm,
    kid: Option<&str>,
    claims: &Claims,
) -> Result<String> {
    let mut header = Map::new();
    header.insert("alg".into(), alg.name().into());
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    header.insert("typ".into(), "JWT".into());
    let header_json =
        serde_json::to_vec(&header).map_err(|e| Error::invalid_argument(e.to_string()))?;
    let claims_json =
        serde_json::to_vec(claims).map_err(|e| Error::invalid_argument(e.to_string()))?;
    let mut token = b64::encode(header_json);
    token.push('.');
    token.push_str(&b64::encode(claims_json));
    let signature = key.sign(alg, token.as_bytes())?;
    token.push('.');
    token.push_str(&b64::encode(signature));
    Ok(token)
}

/// The claims, without verifying anything. For display and debugging only.
pub fn decode(token: &str) -> Result<Claims> {
    parse(clean(token))?.claims()
}

/// The JOSE header, without verifying anything.
pub fn header(token: &str) -> Result<Claims> {
    Ok(parse(clean(token))?.header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn clean_strips_bearer_and_whitespace() {
        assert_eq!(clean("  Bearer abc.def.ghi\n"), "abc.def.ghi");
        assert_eq!(clean("bearer x"), "x");
        assert_eq!(clean("a.b.c"), "a.b.c");
    }

    #[test]
    fn garbage_is_malformed() {
        let huge = "a".repeat(MAX_TOKEN_BYTES + 1);
        for token in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "!!.e30.",
            "e30.!!.",
            "WzFd.e30.",
            "e30.WzFd.",
            huge.as_str(),
        ] {
            let err = parse(token)
                .and_then(|j| j.claims().map(|_| ()))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Malformed, "{token:.20}: {err}");
        }
    }
}
