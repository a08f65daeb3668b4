//! Published JWS examples through the token path: `JwkSet::from_json` for the
//! key, `token::parse` and `validate::verify_signature` for the token.
//!
//! - RFC 7520 (JOSE cookbook) section 4: 4.1 RS256, 4.2 PS384, 4.3 ES512 (no
//!   P-521 in oatk: refused, cleanly), 4.4 and 4.5 HS256 (no HMAC in oatk:
//!   refused), 4.8's signatures put in compact form.
//! - RFC 8037 A.1 to A.4: the Ed25519 key, its thumbprint and signature.
//!
//! The RFC 7520 payload is text, not a claims set, so these go through
//! `verify_signature` rather than `Validator::validate`. RFC 7515 A.2 is in
//! tests/validate.rs. The texts are in tests/vectors/rfc/.

use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P521_SHA512_FIXED};
use oatk::token::{self, Jws};
use oatk::validate::verify_signature;
use oatk::{b64, Algorithm, ErrorKind, JwkSet, PrivateKey, Validator};
use serde_json::{json, Value};

fn load(name: &str) -> Value {
    let path = format!("{}/../tests/vectors/rfc/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn rfc7520() -> Value {
    load("rfc7520-jws.json")
}

/// The key set made of RFC 7520 section 3 keys, as JWKS text.
fn key_set(doc: &Value, sections: &[&str]) -> JwkSet {
    let keys: Vec<&Value> = sections.iter().map(|s| &doc["keys"][s]["jwk"]).collect();
    assert!(keys.iter().all(|k| k.is_object()), "{sections:?}");
    JwkSet::from_json(&json!({ "keys": keys }).to_string()).expect("RFC 7520 keys load")
}

fn example<'a>(doc: &'a Value, section: &str) -> &'a Value {
    doc["examples"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["section"] == section))
        .unwrap_or_else(|| panic!("no example {section}"))
}

fn compact<'a>(doc: &'a Value, section: &str) -> &'a str {
    example(doc, section)["compact"].as_str().unwrap()
}

/// What a relying party does with a compact JWS: parse, then check the signature.
fn verify(token: &str, keys: &JwkSet) -> oatk::Result<()> {
    verify_signature(&token::parse(token)?, keys)
}

fn refused(token: &str, keys: &JwkSet) -> ErrorKind {
    verify(token, keys).expect_err("must be refused").kind()
}

/// Re-encode `jws` with one part changed.
fn with_parts(token: &str, payload: Option<&[u8]>, signature: Option<&[u8]>) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let payload = payload.map_or(parts[1].to_string(), b64::encode);
    let signature = signature.map_or(parts[2].to_string(), b64::encode);
    format!("{}.{payload}.{signature}", parts[0])
}

/// Every single-bit change of the signature, and of each payload byte, is
/// refused as an invalid signature; returns how many were tried.
fn every_bit_flip_is_refused(token: &str, keys: &JwkSet) -> usize {
    let jws: Jws = token::parse(token).unwrap();
    let mut tried = 0;
    for bit in 0..jws.signature.len() * 8 {
        let mut sig = jws.signature.clone();
        sig[bit / 8] ^= 1 << (bit % 8);
        let forged = with_parts(token, None, Some(&sig));
        assert_eq!(
            refused(&forged, keys),
            ErrorKind::InvalidSignature,
            "signature bit {bit} flipped was not refused"
        );
        tried += 1;
    }
    for i in 0..jws.payload.len() {
        let mut payload = jws.payload.clone();
        payload[i] ^= 1;
        let forged = with_parts(token, Some(&payload), None);
        assert_eq!(
            refused(&forged, keys),
            ErrorKind::InvalidSignature,
            "payload byte {i} changed was not refused"
        );
        tried += 1;
    }
    tried
}

/// 4.1: RS256 with the section 3.3 RSA key, exactly as published.
#[test]
fn rfc7520_4_1_rsa_v1_5_rs256() {
    let doc = rfc7520();
    let keys = key_set(&doc, &["3.3"]);
    let token = compact(&doc, "4.1");
    verify(token, &keys).expect("RFC 7520 4.1 verifies");

    let jws = token::parse(token).unwrap();
    assert_eq!(jws.alg().unwrap(), "RS256");
    assert_eq!(jws.kid().unwrap(), Some("bilbo.baggins@hobbiton.example"));
    assert_eq!(jws.payload, doc["payload"].as_str().unwrap().as_bytes());
    assert_eq!(jws.signature.len(), 256);
    // A JWT validator checks the signature first, then refuses the text payload.
    let err = Validator::new().validate(token, &keys).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Malformed, "{err}");

    let tried = every_bit_flip_is_refused(token, &keys);
    println!("RFC 7520 4.1 RS256: verified; {tried} one-bit changes refused");
}

/// 4.2: PS384 with the same RSA key. The section 3.3 JWK has no `alg`, and
/// oatk binds such an RSA key to RS256 (the family default, see
/// `Jwk::new`): the published key verifies PS384 only once the JWK says so.
#[test]
fn rfc7520_4_2_rsa_pss_ps384() {
    let doc = rfc7520();
    let token = compact(&doc, "4.2");

    // As published: the key is RS256-only, the PS384 token is refused for its alg.
    let as_published = key_set(&doc, &["3.3"]);
    assert_eq!(as_published.keys()[0].alg(), Algorithm::RS256);
    let err = verify(token, &as_published).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedAlgorithm, "{err}");

    // The same key with "alg": "PS384", as a JWKS that uses PS384 publishes it.
    let mut jwk = doc["keys"]["3.3"]["jwk"].clone();
    jwk["alg"] = json!("PS384");
    let keys = JwkSet::from_json(&json!({ "keys": [jwk] }).to_string()).unwrap();
    verify(token, &keys).expect("RFC 7520 4.2 verifies with alg PS384");
    let jws = token::parse(token).unwrap();
    assert_eq!(jws.alg().unwrap(), "PS384");
    assert_eq!(jws.payload, doc["payload"].as_str().unwrap().as_bytes());

    let tried = every_bit_flip_is_refused(token, &keys);
    println!("RFC 7520 4.2 PS384: verified; {tried} one-bit changes refused");
}

/// 4.3: ES512 over P-521, which oatk does not support. The P-521 key is
/// skipped at import (RFC 7517 5), the token is refused with an error, never
/// a panic nor a fallback to another curve.
#[test]
fn rfc7520_4_3_ecdsa_es512_is_refused_as_unsupported() {
    let doc = rfc7520();
    let token = compact(&doc, "4.3");
    assert_eq!(Algorithm::from_name("ES512"), None);

    // The vector itself is right: aws-lc verifies it with the published P-521 key,
    // so what follows is oatk refusing P-521, not a typo in the text.
    let jwk = &doc["keys"]["3.1"]["jwk"];
    let coordinate = |name: &str| b64::decode(jwk[name].as_str().unwrap()).unwrap();
    let mut point = vec![4u8];
    point.extend(coordinate("x"));
    point.extend(coordinate("y"));
    assert_eq!(point.len(), 1 + 2 * 66);
    let jws = token::parse(token).unwrap();
    UnparsedPublicKey::new(&ECDSA_P521_SHA512_FIXED, &point)
        .verify(jws.signing_input.as_bytes(), &jws.signature)
        .expect("RFC 7520 4.3 is a valid ES512 signature");

    // The P-521 key alone: nothing to verify with.
    let p521_only = key_set(&doc, &["3.1"]);
    assert!(p521_only.is_empty(), "a P-521 key must not be imported");
    let err = verify(token, &p521_only).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedAlgorithm, "{err}");

    // Beside the RSA key of the same kid (as in 4.8): refused for its alg.
    let both = key_set(&doc, &["3.1", "3.3"]);
    assert_eq!(both.len(), 1);
    let err = verify(token, &both).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedAlgorithm, "{err}");
    assert!(err.message().contains("ES512"), "{err}");
}

/// 4.4 and 4.5 (detached content, `header..signature`): HS256, which oatk does
/// not verify. The symmetric key is not imported; both tokens are refused,
/// whatever keys are offered.
#[test]
fn rfc7520_4_4_and_4_5_hmac_are_refused() {
    let doc = rfc7520();
    let oct_only = key_set(&doc, &["3.5"]);
    assert!(oct_only.is_empty(), "a symmetric key must not be imported");
    let all = key_set(&doc, &["3.1", "3.3", "3.5"]);
    for section in ["4.4", "4.5"] {
        let token = compact(&doc, section);
        assert_eq!(token::parse(token).unwrap().alg().unwrap(), "HS256");
        for keys in [&oct_only, &all] {
            let err = verify(token, keys).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::UnsupportedAlgorithm,
                "{section}: {err}"
            );
        }
    }
    // 4.5 is 4.4 with the payload detached (RFC 7515 F): same header and MAC.
    let attached: Vec<&str> = compact(&doc, "4.4").split('.').collect();
    let detached: Vec<&str> = compact(&doc, "4.5").split('.').collect();
    assert_eq!(detached[1], "");
    assert_eq!((attached[0], attached[2]), (detached[0], detached[2]));
}

/// 4.8: one payload, three signatures (JSON serialization only). Each one in
/// compact form: the RS256 signature, whose protected header is only
/// `{"alg":"RS256"}` (the `kid` is unprotected), verifies with a one-key set;
/// the ES512 one has no protected header, so no `alg` a compact JWS could
/// carry, and is malformed; the HS256 one is 4.4's.
#[test]
fn rfc7520_4_8_multiple_signatures_in_compact_form() {
    let doc = rfc7520();
    let general = &doc["multiple_signatures"]["json"];
    let payload = general["payload"].as_str().unwrap();
    assert_eq!(payload, doc["payload_b64"].as_str().unwrap());
    let signatures = general["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 3);
    let compact_of = |s: &Value| {
        format!(
            "{}.{payload}.{}",
            s["protected"].as_str().unwrap_or(""),
            s["signature"].as_str().unwrap()
        )
    };

    let rs256 = compact_of(&signatures[0]);
    let keys = key_set(&doc, &["3.3"]);
    verify(&rs256, &keys).expect("RFC 7520 4.8 RS256 signature verifies");
    assert_eq!(token::parse(&rs256).unwrap().kid().unwrap(), None);
    // Without a kid, a token needs a one-key set: with two keys it is refused.
    let two = JwkSet::from_json(
        &json!({ "keys": [
            doc["keys"]["3.3"]["jwk"],
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        ]})
        .to_string(),
    )
    .unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(refused(&rs256, &two), ErrorKind::UnknownKey);
    let tried = every_bit_flip_is_refused(&rs256, &keys);

    let es512 = compact_of(&signatures[1]);
    assert!(es512.starts_with('.'));
    let err = token::parse(&es512).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Malformed, "{err}");

    assert_eq!(compact_of(&signatures[2]), compact(&doc, "4.4"));
    println!("RFC 7520 4.8 RS256: verified; {tried} one-bit changes refused");
}

/// RFC 8037 A.4: the Ed25519 signature of "Example of Ed25519 signing" with
/// the A.2 public key; A.3's thumbprint is the key's default `kid`; and since
/// Ed25519 is deterministic, oatk signing with the A.1 key gives A.4 again.
#[test]
fn rfc8037_a4_ed25519() {
    let doc = load("rfc8037-ed25519.json");
    let keys = JwkSet::from_json(&doc["public_jwk"].to_string()).unwrap();
    let token = doc["compact"].as_str().unwrap();
    verify(token, &keys).expect("RFC 8037 A.4 verifies");

    let key = &keys.keys()[0];
    assert_eq!(key.alg(), Algorithm::EdDSA);
    assert_eq!(oatk::jwk::thumbprint(key.public_key()), doc["thumbprint"]);
    assert_eq!(key.kid(), doc["thumbprint"]);
    let jws = token::parse(token).unwrap();
    assert_eq!(Value::Object(jws.header().unwrap()), doc["protected"]);
    assert_eq!(jws.payload, doc["payload"].as_str().unwrap().as_bytes());

    // A.1's private key, as PKCS#8 (RFC 8410 7), signs the same bytes.
    let seed = b64::decode(doc["private_jwk"]["d"].as_str().unwrap()).unwrap();
    let mut pkcs8 = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    pkcs8.extend(&seed);
    let private = PrivateKey::from_pkcs8_der(&pkcs8).unwrap();
    assert_eq!(private.public_key(), key.public_key());
    let signature = private
        .sign(Algorithm::EdDSA, jws.signing_input.as_bytes())
        .unwrap();
    assert_eq!(signature, jws.signature);

    let tried = every_bit_flip_is_refused(token, &keys);
    println!("RFC 8037 A.4 EdDSA: verified; {tried} one-bit changes refused");
}
