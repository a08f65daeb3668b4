//! PEM import: `PrivateKey::from_pem`, `PublicKey::from_pem`, and the DER
//! parsers under them on the raw bytes. A key that imports must export to a
//! PEM that imports to the same key, and a private key must make signatures
//! its public half verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oatk::{Jwk, PrivateKey, PublicKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = PrivateKey::from_pem(data) {
        let pem = key.to_pkcs8_pem().expect("a private key exports");
        let again = PrivateKey::from_pem(pem.as_bytes()).expect("an exported key imports");
        assert_eq!(again.public_key(), key.public_key());
        let alg = key.family().default_algorithm();
        let signature = key.sign(alg, b"header.payload").expect("signs");
        let jwk = Jwk::new(key.public_key().clone(), None, None).expect("its public half is a JWK");
        assert!(jwk.verify(b"header.payload", &signature));
        assert!(!jwk.verify(b"header.payloaD", &signature));
    }
    if let Ok(public) = PublicKey::from_pem(data) {
        round_trip(&public);
    }
    if let Ok(public) = PublicKey::from_spki_der(data) {
        round_trip(&public);
    }
    let _ = PrivateKey::from_pkcs8_der(data);
});

fn round_trip(public: &PublicKey) {
    // A key that imports but cannot be used (too short, small order) is refused later, by check().
    if public.check().is_ok() {
        let pem = public.to_pem().expect("a usable public key exports");
        let again = PublicKey::from_pem(pem.as_bytes()).expect("an exported key imports");
        assert_eq!(&again, public);
    }
}
