//! JWK and JWK Set import: `JwkSet::from_json` and `Jwk::from_json`. Every
//! key that imports must export to a JWK that imports to the same key, be
//! found by its `kid`, and refuse a signature made of fuzz bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oatk::{Jwk, JwkSet};
use serde_json::Value;

fn check(jwk: &Jwk, junk: &[u8]) {
    let again = Jwk::from_json(&jwk.to_json())
        .expect("an exported JWK imports")
        .expect("an exported JWK is usable");
    assert_eq!(again.public_key(), jwk.public_key());
    assert_eq!(again.kid(), jwk.kid());
    assert_eq!(again.alg(), jwk.alg());
    assert!(
        !jwk.verify(b"header.payload", junk),
        "fuzz bytes verified as a signature"
    );
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(set) = JwkSet::from_json(&text) {
        for jwk in set.keys() {
            check(jwk, data);
            assert!(set.find(Some(jwk.kid())).is_ok());
        }
        let _ = set.find(None);
        let again = JwkSet::from_value(&set.to_value()).expect("an exported JWKS imports");
        assert_eq!(again.len(), set.len());
    }
    if let Ok(value) = serde_json::from_str::<Value>(&text) {
        let keys = match value.get("keys").and_then(Value::as_array) {
            Some(keys) => keys.clone(),
            None => vec![value],
        };
        for key in &keys {
            if let Ok(Some(jwk)) = Jwk::from_json(key) {
                check(&jwk, data);
            }
        }
    }
});
