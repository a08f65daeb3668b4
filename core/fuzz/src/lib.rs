//! What the fuzz targets share: the fixed keys (core/tests/fixtures), the
//! fixed clock, and the `router` target's request format and harness.

use std::sync::OnceLock;

use oatk::{Jwk, JwkSet, PrivateKey};

pub mod http;

/// The clock every validation runs at (2027-01-15T08:00:00Z), so a corpus
/// entry behaves the same whenever it runs. The seed tokens expire at 1.9e9.
pub const NOW: i64 = 1_800_000_000;

/// The fixture keys, one per family oatk signs with.
pub const PRIVATE_PEMS: [&str; 4] = [
    include_str!("../../tests/fixtures/rsa_pkcs8.pem"),
    include_str!("../../tests/fixtures/p256_pkcs8.pem"),
    include_str!("../../tests/fixtures/p384_sec1.pem"),
    include_str!("../../tests/fixtures/ed25519_pkcs8.pem"),
];

pub struct Keys {
    /// The fixture keys' public halves, `kid` = RFC 7638 thumbprint (what
    /// `oatk with_private KEY ... token` puts in the header).
    pub all: JwkSet,
    /// The RSA key alone: tokens without `kid` are checked against it.
    pub rsa: JwkSet,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut all = JwkSet::new();
        let mut rsa = JwkSet::new();
        for (i, pem) in PRIVATE_PEMS.iter().enumerate() {
            let key = PrivateKey::from_pem(pem.as_bytes()).expect("fixture key");
            let jwk = Jwk::new(key.public_key().clone(), None, None).expect("fixture jwk");
            if i == 0 {
                rsa.push(jwk.clone());
            }
            all.push(jwk);
        }
        Keys { all, rsa }
    })
}
