//! Minting and validation per algorithm, with keys parsed once and held, as
//! the toolkit holds them. `bench/core.sh` runs this beside `openssl speed`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use oatk::{Algorithm, Claims, PrivateKey, Toolkit};
use serde_json::json;

fn claims() -> Claims {
    json!({"sub": "xtof", "username": "xtof", "scope": "openid profile", "exp": 4_102_444_800u64, "iat": 1_700_000_000})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn tokens(c: &mut Criterion) {
    let claims = claims();
    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let mut toolkit = Toolkit::new();
        toolkit.with_private_key(PrivateKey::generate(alg, None).expect("key"));
        toolkit.with_algorithm(alg).expect("alg");
        let token = toolkit.mint(&claims).expect("mint");
        c.bench_with_input(
            BenchmarkId::new("mint", alg.name()),
            &claims,
            |b, claims| b.iter(|| toolkit.mint(claims).expect("mint")),
        );
        c.bench_with_input(
            BenchmarkId::new("validate", alg.name()),
            &token,
            |b, token| b.iter(|| toolkit.validate(Some(token)).expect("valid")),
        );
        // The signature check alone: what parsing and the claims checks add is the difference.
        let jws = oatk::token::parse(&token).expect("parse");
        let keys = toolkit.verification_keys();
        let key = keys.find(jws.kid().expect("kid")).expect("key");
        c.bench_with_input(
            BenchmarkId::new("verify_only", alg.name()),
            &jws,
            |b, jws| b.iter(|| assert!(key.verify(jws.signing_input.as_bytes(), &jws.signature))),
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = tokens
}
criterion_main!(benches);
