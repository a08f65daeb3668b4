//! The shared vectors in tests/vectors/tokens.json, as every binding runs them.

use oatk::{JwkSet, Toolkit};
use serde_json::Value;

#[test]
fn shared_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/tokens.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let keys = JwkSet::from_value(&doc["jwks"]).unwrap();
    let now = doc["now"].as_i64().unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    let mut ran = 0;
    for v in vectors {
        let mut t = Toolkit::new();
        t.with_jwk_set(keys.clone());
        t.validator_mut().now = Some(now);
        if let Some(id) = v["client_id"].as_str() {
            t.with_client_id(id);
        }
        if let Some(iss) = v["issuer"].as_str() {
            t.with_issuer(iss);
        }
        let result = t.validate(v["token"].as_str());
        match (&v["expect"]["ok"], v["expect"]["code"].as_str(), result) {
            (Value::Object(claims), _, Ok(got)) => assert_eq!(&got, claims, "{}", v["name"]),
            (_, Some(code), Err(e)) => assert_eq!(e.kind().code(), code, "{}: {e}", v["name"]),
            (_, _, other) => panic!("{}: unexpected {other:?}", v["name"]),
        }
        ran += 1;
    }
    println!("ran {ran} shared vectors");
    assert!(ran >= 20, "too few vectors ran: {ran}");
}

/// tests/vectors/provider-urls.json: what a provider URL means (oatk.js runs the same list).
#[test]
fn provider_urls() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/provider-urls.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let url = case["url"].as_str().unwrap();
        assert_eq!(
            oatk::provider::discovery_url(url),
            case["fetch"].as_str().unwrap(),
            "{url:?}"
        );
    }
}
