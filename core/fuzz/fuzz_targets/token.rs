//! Token parse + validate: `token::parse`, `decode`, `header`, and
//! `Validator::validate` against the fixture keys (RSA, P-256, P-384,
//! Ed25519), default and strict, plus `Toolkit::validate` with its cache.
//! Signatures cannot be forged by a fuzzer, so the claims checks also run on
//! every parsed payload directly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oatk::validate::Validator;
use oatk::{token, Toolkit};
use oatk_fuzz::{keys, NOW};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let keys = keys();
    let _ = token::decode(&text);
    let _ = token::header(&text);
    let strict = Validator {
        leeway: 30,
        require_exp: true,
        audience: Some("api".into()),
        issuer: Some("https://issuer.example".into()),
        now: Some(NOW),
    };
    let lenient = Validator::new().at(NOW);
    let valid = lenient.validate(&text, &keys.all);
    let _ = strict.validate(&text, &keys.all);
    let _ = lenient.validate(&text, &keys.rsa);
    if let Ok(jws) = token::parse(token::clean(&text)) {
        let _ = jws.alg();
        let _ = jws.kid();
        if let Ok(claims) = jws.claims() {
            let _ = lenient.check_claims(&claims);
            let _ = strict.check_claims(&claims);
            // A token that validates has exactly the claims its payload says.
            if let Ok(validated) = &valid {
                assert_eq!(validated, &claims);
            }
        }
    } else {
        assert!(valid.is_err(), "a token that does not parse validated");
    }
    // The toolkit path, twice, so the second goes through the cache.
    let mut toolkit = Toolkit::new();
    toolkit
        .with_jwk_set(keys.all.clone())
        .with_now(Some(NOW))
        .with_cache(4);
    let first = toolkit.validate(Some(&text)).map_err(|e| e.kind());
    let second = toolkit.validate(Some(&text)).map_err(|e| e.kind());
    assert_eq!(
        first.is_ok(),
        valid.is_ok(),
        "Toolkit and Validator disagree"
    );
    assert_eq!(first, second, "a cached validation differs from the first");
});
