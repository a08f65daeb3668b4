//! Validation policy (RFC 8725): key by kid, algorithm from the key, time with
//! an injected clock, audience, issuer, and garbage that must not panic.

use oatk::{b64, Algorithm, Claims, ErrorKind, Jwk, JwkSet, PrivateKey, Toolkit, Validator};
use serde_json::{json, Value};

fn obj(v: Value) -> Claims {
    v.as_object().cloned().unwrap()
}

fn toolkit(alg: Algorithm) -> Toolkit {
    let mut t = Toolkit::new();
    t.with_private_key(PrivateKey::generate(alg, None).unwrap());
    t
}

fn code(t: &Toolkit, token: &str) -> ErrorKind {
    t.validate(Some(token)).unwrap_err().kind()
}

/// A token with this header and payload, signed by nobody.
fn forge(header: Value, payload: Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64::encode(header.to_string()),
        b64::encode(payload.to_string()),
        b64::encode(signature)
    )
}

/// RFC 7515 A.2: the RS256 example validates, before its exp and not after.
#[test]
fn rfc7515_a2_rs256() {
    let jwk = json!({"kty": "RSA", "e": "AQAB",
        "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"});
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    let set = JwkSet::from_value(&json!({"keys": [jwk]})).unwrap();
    let claims = Validator::new()
        .at(1_300_819_379)
        .validate(token, &set)
        .unwrap();
    assert_eq!(claims["iss"], "joe");
    assert_eq!(claims["http://example.com/is_root"], true);
    let err = Validator::new()
        .at(1_300_819_380)
        .validate(token, &set)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired);
    assert_eq!(err.message(), "token expired at 2011-03-22T18:43:00Z");
}

#[test]
fn every_algorithm_mints_and_validates() {
    for alg in Algorithm::ALL {
        let mut t = toolkit(alg);
        t.with_algorithm(alg).unwrap();
        let token = t.mint(&obj(json!({"hello": "world"}))).unwrap();
        assert_eq!(t.header(Some(&token)).unwrap()["alg"], alg.name());
        assert_eq!(
            t.validate(Some(&token)).unwrap(),
            obj(json!({"hello": "world"})),
            "{alg}"
        );
    }
}

#[test]
fn claims_are_exactly_what_was_given() {
    let mut t = toolkit(Algorithm::RS256);
    t.claims_json(r#"{ "hello" : "world" }"#).unwrap();
    let token = t.token().unwrap().unwrap();
    assert_eq!(
        t.decode(Some(&token)).unwrap(),
        obj(json!({"hello": "world"}))
    );
    let header = t.header(Some(&token)).unwrap();
    assert_eq!(header.keys().collect::<Vec<_>>(), ["alg", "kid", "typ"]);
    assert!(
        Toolkit::new().token().unwrap().is_none(),
        "no private key, no token"
    );
}

#[test]
fn none_and_hmac_and_mismatched_algorithms_are_refused() {
    let t = toolkit(Algorithm::RS256);
    let good = t.mint(&Claims::new()).unwrap();
    let kid = t.header(Some(&good)).unwrap()["kid"].clone();
    let payload = json!({"admin": true});
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = forge(json!({"alg": alg, "kid": kid}), payload.clone(), b"");
        assert_eq!(code(&t, &token), ErrorKind::UnsupportedAlgorithm, "{alg}");
    }
    // HS256 keyed with the public key (the classic key-confusion attack).
    for alg in ["HS256", "RS512", "PS256", "ES256", "EdDSA"] {
        let token = forge(json!({"alg": alg, "kid": kid}), payload.clone(), b"sig");
        assert_eq!(code(&t, &token), ErrorKind::UnsupportedAlgorithm, "{alg}");
    }
}

#[test]
fn embedded_keys_are_never_trusted_and_crit_is_refused() {
    let t = toolkit(Algorithm::ES256);
    let attacker = toolkit(Algorithm::ES256);
    let attacker_jwk =
        serde_json::from_str::<Value>(&attacker.jwks().unwrap()).unwrap()["keys"][0].clone();
    let token = attacker.mint(&obj(json!({"admin": true}))).unwrap();
    // Rewrite the header to point at the attacker's key by jwk/jku/x5u: still unknown to us.
    let parts: Vec<&str> = token.split('.').collect();
    for extra in [
        json!({"jwk": attacker_jwk}),
        json!({"jku": "http://127.0.0.1:1/jwks"}),
        json!({"x5u": "http://127.0.0.1:1/x"}),
    ] {
        let mut header = t.header(Some(&token)).unwrap();
        header.extend(extra.as_object().unwrap().clone());
        let forged = format!(
            "{}.{}.{}",
            b64::encode(Value::Object(header).to_string()),
            parts[1],
            parts[2]
        );
        assert_eq!(code(&t, &forged), ErrorKind::UnknownKey);
    }
    let mut header = t.header(Some(&token)).unwrap();
    header.insert("crit".into(), json!(["exp"]));
    let forged = format!(
        "{}.{}.{}",
        b64::encode(Value::Object(header).to_string()),
        parts[1],
        parts[2]
    );
    assert_eq!(code(&attacker, &forged), ErrorKind::Malformed);
}

#[test]
fn tampering_is_an_invalid_signature() {
    let t = toolkit(Algorithm::EdDSA);
    let token = t.mint(&obj(json!({"username": "notxtof"}))).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64::encode(r#"{"username":"xtof"}"#),
        parts[2]
    );
    assert_eq!(code(&t, &tampered), ErrorKind::InvalidSignature);
    let other = toolkit(Algorithm::EdDSA);
    let mut mixed = Toolkit::new();
    mixed.with_jwks(&t.jwks().unwrap()).unwrap();
    let foreign = other.mint(&Claims::new()).unwrap();
    assert_eq!(code(&mixed, &foreign), ErrorKind::UnknownKey);
}

#[test]
fn time_checks_use_the_injected_clock() {
    let mut t = toolkit(Algorithm::ES256);
    let token = t
        .mint(&obj(json!({"exp": 1_000_000, "nbf": 999_000})))
        .unwrap();
    t.validator_mut().now = Some(999_999);
    assert!(t.validate(Some(&token)).is_ok());
    t.validator_mut().now = Some(1_000_000);
    assert_eq!(code(&t, &token), ErrorKind::Expired);
    t.validator_mut().leeway = 5;
    assert!(t.validate(Some(&token)).is_ok(), "leeway");
    t.validator_mut().now = Some(998_000);
    t.validator_mut().leeway = 0;
    let err = t.validate(Some(&token)).unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (
            ErrorKind::NotYetValid,
            "token not valid before 1970-01-12T13:30:00Z"
        )
    );
    let bad = t.mint(&obj(json!({"exp": "tomorrow"}))).unwrap();
    assert_eq!(code(&t, &bad), ErrorKind::Malformed);
    let no_exp = t.mint(&Claims::new()).unwrap();
    t.validator_mut().require_exp = true;
    assert_eq!(code(&t, &no_exp), ErrorKind::MissingClaim);
}

#[test]
fn audience_and_issuer() {
    let mut t = toolkit(Algorithm::ES256);
    let one = t
        .mint(&obj(json!({"aud": "test", "iss": "http://localhost:5000"})))
        .unwrap();
    let many = t.mint(&obj(json!({"aud": ["other", "test"]}))).unwrap();
    let none = t.mint(&Claims::new()).unwrap();
    assert!(
        t.validate(Some(&none)).is_ok(),
        "no client id configured: aud not checked"
    );
    t.with_client_id("test");
    assert!(t.validate(Some(&one)).is_ok());
    assert!(t.validate(Some(&many)).is_ok());
    assert_eq!(code(&t, &none), ErrorKind::InvalidAudience);
    t.with_client_id("nope");
    assert_eq!(code(&t, &one), ErrorKind::InvalidAudience);
    t.with_client_id("test")
        .with_issuer("http://localhost:5000/");
    assert_eq!(
        code(&t, &one),
        ErrorKind::InvalidIssuer,
        "issuer is compared byte for byte"
    );
    t.with_issuer("http://localhost:5000");
    assert!(t.validate(Some(&one)).is_ok());
}

#[test]
fn kid_lookup() {
    let a = toolkit(Algorithm::ES256);
    let b = toolkit(Algorithm::ES256);
    let mut set = JwkSet::from_json(&a.jwks().unwrap()).unwrap();
    for k in JwkSet::from_json(&b.jwks().unwrap()).unwrap().keys() {
        set.push(k.clone());
    }
    let mut both = Toolkit::new();
    both.with_jwk_set(set);
    assert!(both
        .validate(Some(&a.mint(&Claims::new()).unwrap()))
        .is_ok());
    assert!(both
        .validate(Some(&b.mint(&Claims::new()).unwrap()))
        .is_ok());
    // No kid: fine against one key, ambiguous against two.
    let key = PrivateKey::generate(Algorithm::ES256, None).unwrap();
    let unnamed = oatk::token::mint(&key, Algorithm::ES256, None, &Claims::new()).unwrap();
    let mut single = Toolkit::new();
    let mut one = JwkSet::new();
    one.push(Jwk::new(key.public_key().clone(), None, Some("x".into())).unwrap());
    single.with_jwk_set(one);
    assert!(single.validate(Some(&unnamed)).is_ok());
    assert_eq!(code(&both, &unnamed), ErrorKind::UnknownKey);
}

#[test]
fn garbage_never_panics() {
    let t = toolkit(Algorithm::RS256);
    let huge = format!("{}.{}.{}", "a".repeat(50_000), "b".repeat(50_000), "c");
    let cases = [
        "",
        " ",
        ".",
        "..",
        "...",
        "a.b",
        "a.b.c",
        "ey.ey.ey",
        "Bearer",
        "Bearer ",
        "\u{0}\u{1}.x.y",
        "eyJhbGciOiJSUzI1NiJ9",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "W10.e30.AA",
        "IjEi.e30.AA",
        "e30.e30.AA",
        "eyJhbGciOjF9.e30.AA",
        "eyJhbGciOiJSUzI1NiIsImtpZCI6MX0.e30.AA",
        "éé.éé.éé",
        &huge,
    ];
    for token in cases {
        let err = t.validate(Some(token)).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Malformed | ErrorKind::UnknownKey | ErrorKind::UnsupportedAlgorithm
            ),
            "{token:.30}: {err:?}"
        );
        let _ = t.decode(Some(token));
        let _ = t.header(Some(token));
    }
}
