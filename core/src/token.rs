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
    /// The members of the JOSE header that validation reads.
    jose: JoseHeader,
    /// The header's JSON text (valid, an object); [`Jws::header`] reads all of it.
    header_json: Vec<u8>,
    pub payload: Vec<u8>,
    /// `BASE64URL(header) '.' BASE64URL(payload)`, what the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

/// `object.get(name)`. A token's header and claims hold a handful of
/// members: comparing names in order is cheaper than hashing one (SipHash)
/// to look it up.
pub(crate) fn member<'a>(object: &'a Claims, name: &str) -> Option<&'a Value> {
    if object.len() > 16 {
        return object.get(name);
    }
    object.iter().find_map(|(k, v)| (k == name).then_some(v))
}

/// The JOSE header members validation reads (RFC 7515 4.1.1 `alg`, 4.1.4
/// `kid`, 4.1.11 `crit`), each as the last occurrence of its name, as in a
/// map of the whole header. The header is read before the signature is
/// checked, and on every validation: the other members are parsed (the
/// header must still be valid JSON) but not kept.
#[derive(Debug, Default, PartialEq)]
struct JoseHeader {
    alg: Option<Value>,
    kid: Option<Value>,
    crit: Option<Value>,
}

impl JoseHeader {
    fn of(header: &Claims) -> JoseHeader {
        JoseHeader {
            alg: member(header, "alg").cloned(),
            kid: member(header, "kid").cloned(),
            crit: member(header, "crit").cloned(),
        }
    }
}

impl Jws<'_> {
    pub fn alg(&self) -> Result<&str> {
        self.jose
            .alg
            .as_ref()
            .and_then(Value::as_str)
            .ok_or_else(|| Error::malformed("token header has no \"alg\""))
    }

    pub fn kid(&self) -> Result<Option<&str>> {
        match &self.jose.kid {
            None => Ok(None),
            Some(Value::String(kid)) => Ok(Some(kid)),
            Some(_) => Err(Error::malformed("token header \"kid\" is not a string")),
        }
    }

    /// The `crit` member as it stands, when present.
    pub fn crit(&self) -> Option<&Value> {
        self.jose.crit.as_ref()
    }

    /// Every member of the JOSE header, for display.
    pub fn header(&self) -> Result<Claims> {
        json_object(&self.header_json, "header")
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
    // Fast path: two dots, and a signature that decodes as base64url, so it
    // holds no third dot; then the checks below in the same order. Anything
    // else takes the full path, which names the first problem.
    if let Some((header, rest)) = token.split_once('.') {
        if let Some((payload, signature)) = rest.split_once('.') {
            if let Ok(signature) = b64::decode(signature) {
                return decoded(token, header, payload, signature);
            }
        }
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
    let jws = decoded(token, header, payload, Vec::new())?;
    Ok(Jws {
        signature: decode_part(signature, "signature")?,
        ..jws
    })
}

/// The rest of [`parse`] once the signature is decoded: header, then payload.
fn decoded<'a>(token: &'a str, header: &str, payload: &str, signature: Vec<u8>) -> Result<Jws<'a>> {
    let header_json = decode_part(header, "header")?;
    Ok(Jws {
        jose: jose_header(&header_json)?,
        header_json,
        payload: decode_part(payload, "payload")?,
        signing_input: &token[..header.len() + 1 + payload.len()],
        signature,
    })
}

fn decode_part(part: &str, what: &str) -> Result<Vec<u8>> {
    b64::decode(part).map_err(|_| Error::malformed(format!("token {what} is not base64url")))
}

/// The [`JoseHeader`] of a header's JSON text. The fast path reads the three
/// members and skips the rest; whatever it declines is read whole by
/// [`json_object`], which then decides, so results and messages are the same.
fn jose_header(bytes: &[u8]) -> Result<JoseHeader> {
    use serde::Deserializer as _;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    if let Ok(jose) = de.deserialize_map(JoseVisitor) {
        if de.end().is_ok() {
            return Ok(jose);
        }
    }
    json_object(bytes, "header").map(|header| JoseHeader::of(&header))
}

/// Reads a header object into a [`JoseHeader`]; declines what
/// [`ObjectVisitor`] declines.
struct JoseVisitor;

impl<'de> serde::de::Visitor<'de> for JoseVisitor {
    type Value = JoseHeader;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut access: A,
    ) -> std::result::Result<JoseHeader, A::Error> {
        let mut jose = JoseHeader::default();
        let mut first = true;
        while let Some(Name(name)) = access.next_key()? {
            decline_raw_value(std::mem::take(&mut first), &name)?;
            let slot = match &*name {
                "alg" => &mut jose.alg,
                "kid" => &mut jose.kid,
                "crit" => &mut jose.crit,
                _ => {
                    access.next_value::<Skip>()?;
                    continue;
                }
            };
            *slot = Some(access.next_value()?);
        }
        Ok(jose)
    }
}

/// A member name, borrowed from the JSON text unless it has escapes
/// (`"\u0061lg"` is `alg`). serde's own `Cow<str>` always copies.
struct Name<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Name<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> serde::de::Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, name: &'de str) -> std::result::Result<Name<'de>, E> {
                Ok(Name(name.into()))
            }
            fn visit_str<E>(self, name: &str) -> std::result::Result<Name<'de>, E> {
                Ok(Name(name.to_owned().into()))
            }
        }
        de.deserialize_str(NameVisitor)
    }
}

/// A JSON value read and dropped, as strictly as reading it into a `Value`
/// (numbers in range, string escapes well formed, which serde's
/// `IgnoredAny` does not check), and declining a nested object that
/// `Value` would read as a raw value.
struct Skip;

impl<'de> serde::Deserialize<'de> for Skip {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        de.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> serde::de::Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut access: A,
    ) -> std::result::Result<Skip, A::Error> {
        while access.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut access: A,
    ) -> std::result::Result<Skip, A::Error> {
        let mut first = true;
        while let Some(Name(name)) = access.next_key()? {
            decline_raw_value(std::mem::take(&mut first), &name)?;
            access.next_value::<Skip>()?;
        }
        Ok(Skip)
    }
}

/// A JSON object as [`Claims`]. The fast path reads it straight into a map
/// sized for a typical token; whatever it declines (not an object, not JSON,
/// serde_json's raw-value marker as first key) is read as before, as a
/// `Value`, which then decides, so results and messages are the same.
fn json_object(bytes: &[u8], what: &str) -> Result<Claims> {
    if let Some(map) = object_fast(bytes) {
        return Ok(map);
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::malformed(format!(
            "token {what} is not a JSON object"
        ))),
        Err(_) => Err(Error::malformed(format!("token {what} is not valid JSON"))),
    }
}

fn object_fast(bytes: &[u8]) -> Option<Claims> {
    use serde::Deserializer as _;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    // About one entry per 24 bytes of JSON (`"name":"value",`): room for all
    // of a typical token's claims, so the map never regrows.
    let capacity = (bytes.len() / 24).clamp(4, 32);
    let map = de.deserialize_map(ObjectVisitor(capacity)).ok()?;
    de.end().ok()?;
    Some(map)
}

/// What `Value`'s own visitor does with an object (insert each entry in
/// order, a repeated name keeps its place and takes the last value), into a
/// map with room for this many entries from the start.
struct ObjectVisitor(usize);

/// serde_json (with its `raw_value` feature, which a dependency, axum, enables)
/// reads an object whose first name is this as a raw value, not a map.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Declines an object whose `first` name is [`RAW_VALUE_TOKEN`]: the fast
/// paths leave such objects to `Value`, which decides what they are.
fn decline_raw_value<E: serde::de::Error>(first: bool, name: &str) -> std::result::Result<(), E> {
    if first && name == RAW_VALUE_TOKEN {
        return Err(E::custom("raw value"));
    }
    Ok(())
}

impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
    type Value = Claims;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut access: A,
    ) -> std::result::Result<Claims, A::Error> {
        let mut map = Claims::with_capacity(self.0);
        while let Some(key) = access.next_key::<String>()? {
            decline_raw_value(map.is_empty(), &key)?;
            let value: Value = access.next_value()?;
            map.insert(key, value);
        }
        Ok(map)
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
    parse(clean(token))?.header()
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

    /// The map fast path gives what reading a `Value` gives, and declines
    /// (so the same messages follow) whatever is not a plain object.
    #[test]
    fn objects_read_as_value_would() {
        for json in [
            r#"{}"#,
            r#"{"a":1,"b":[1,2,{"c":null}],"a":2,"d":"\u00e9\ud83d\ude00"}"#,
            r#" {"exp": 1.5e300, "n": -0, "big": 18446744073709551616} "#,
            r#"{"$serde_json::private::RawValue":"{\"x\":1}"}"#,
            r#"{"k":1,"$serde_json::private::RawValue":"2"}"#,
        ] {
            let value: Value = serde_json::from_slice(json.as_bytes()).unwrap();
            let map = json_object(json.as_bytes(), "payload").unwrap();
            assert_eq!(Value::Object(map.clone()), value, "{json}");
            assert_eq!(
                map.keys().collect::<Vec<_>>(),
                value.as_object().unwrap().keys().collect::<Vec<_>>()
            );
        }
        assert!(object_fast(br#"{"$serde_json::private::RawValue":"[1]"}"#).is_none());
        for (json, message) in [
            ("[1]", "token payload is not a JSON object"),
            ("[1] x", "token payload is not valid JSON"),
            ("{} x", "token payload is not valid JSON"),
            (r#"{"exp":1e400}"#, "token payload is not valid JSON"),
            (r#"{"a":"\ud800"}"#, "token payload is not valid JSON"),
            (
                r#"{"$serde_json::private::RawValue":"[1]"}"#,
                "token payload is not a JSON object",
            ),
        ] {
            let err = json_object(json.as_bytes(), "payload").unwrap_err();
            assert_eq!(
                (err.kind(), err.message()),
                (ErrorKind::Malformed, message),
                "{json}"
            );
        }
    }

    /// The header's fast path keeps what a map of the whole header holds
    /// under `alg`, `kid` and `crit`, and declines (so the same messages
    /// follow) whatever the map path refuses.
    #[test]
    fn jose_header_reads_as_the_whole_header_would() {
        for json in [
            r#"{}"#,
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            r#"{"alg":"none","alg":"RS256","kid":7,"x":{"alg":"HS256"},"crit":["b64"]}"#,
            r#"{"\u0061lg":"PS256","k\u0069d":"\u00e9","y":[1,{"kid":"z"}],"crit":[]}"#,
            r#" {"alg": null, "kid": ["a"], "crit": "b64", "big": 18446744073709551616} "#,
            r#"{"typ":"JWT","$serde_json::private::RawValue":"2","alg":"ES256"}"#,
            r#"{"alg":"RS256","x":{"$serde_json::private::RawValue":"{\"kid\":1}"}}"#,
        ] {
            let whole = json_object(json.as_bytes(), "header").unwrap();
            assert_eq!(
                jose_header(json.as_bytes()).unwrap(),
                JoseHeader::of(&whole),
                "{json}"
            );
        }
        for (json, message) in [
            ("[1]", "token header is not a JSON object"),
            ("{} x", "token header is not valid JSON"),
            (
                r#"{"alg":"RS256","x":1e400}"#,
                "token header is not valid JSON",
            ),
            (
                r#"{"alg":"RS256","x":"\ud800"}"#,
                "token header is not valid JSON",
            ),
            (
                r#"{"alg":"RS256","x":[1,}"#,
                "token header is not valid JSON",
            ),
            (
                r#"{"alg":"RS256","x":[{"$serde_json::private::RawValue":"[1"}]}"#,
                "token header is not valid JSON",
            ),
            (
                r#"{"$serde_json::private::RawValue":"[1]"}"#,
                "token header is not a JSON object",
            ),
        ] {
            let err = jose_header(json.as_bytes()).unwrap_err();
            assert_eq!(
                (err.kind(), err.message()),
                (ErrorKind::Malformed, message),
                "{json}"
            );
        }
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
