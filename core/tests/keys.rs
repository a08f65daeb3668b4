//! Key families: every PEM form `openssl` writes loads, signs and verifies.
//! Fixtures and the commands that made them: tests/fixtures/make-fixtures.sh.

use oatk::{Algorithm, ErrorKind, Jwk, PrivateKey, PublicKey};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn roundtrip(private: &str, public: &str, algs: &[Algorithm]) {
    let key = PrivateKey::from_pem(&fixture(private)).unwrap_or_else(|e| panic!("{private}: {e}"));
    let public = PublicKey::from_pem(&fixture(public)).unwrap_or_else(|e| panic!("{public}: {e}"));
    assert_eq!(
        key.public_key(),
        &public,
        "{private}: derived public key differs from openssl's"
    );
    for alg in algs {
        let sig = key.sign(*alg, b"signing input").unwrap();
        let jwk = Jwk::new(public.clone(), Some(*alg), None).unwrap();
        assert!(jwk.verify(b"signing input", &sig), "{private} {alg}");
        assert!(
            !jwk.verify(b"signing inpuT", &sig),
            "{private} {alg} tampered"
        );
    }
}

#[test]
fn rsa_pkcs1_and_pkcs8() {
    let all = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ];
    roundtrip("rsa_pkcs1.pem", "rsa_spki.pub.pem", &all);
    roundtrip("rsa_pkcs8.pem", "rsa_pkcs1.pub.pem", &all);
}

#[test]
fn ec_sec1_and_pkcs8() {
    roundtrip("p256_sec1.pem", "p256.pub.pem", &[Algorithm::ES256]);
    roundtrip("p256_pkcs8.pem", "p256.pub.pem", &[Algorithm::ES256]);
    roundtrip("p384_sec1.pem", "p384.pub.pem", &[Algorithm::ES384]);
}

#[test]
fn ed25519_pkcs8() {
    roundtrip("ed25519_pkcs8.pem", "ed25519.pub.pem", &[Algorithm::EdDSA]);
}

#[test]
fn refused_keys_say_why() {
    let small = PrivateKey::from_pem(&fixture("rsa1024_pkcs1.pem")).unwrap_err();
    assert_eq!(small.kind(), ErrorKind::Key);
    let curve = PrivateKey::from_pem(&fixture("k256_sec1.pem")).unwrap_err();
    assert_eq!(curve.kind(), ErrorKind::Key);
    assert!(curve.message().contains("P-256"), "{curve}");
    let public_as_private = PrivateKey::from_pem(&fixture("rsa_spki.pub.pem")).unwrap_err();
    assert!(
        public_as_private.message().contains("public key"),
        "{public_as_private}"
    );
}

#[test]
fn file_errors_name_the_file() {
    let missing = oatk::key::load_private("/nonexistent/key.pem").unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Io);
    assert!(
        missing.message().contains("/nonexistent/key.pem"),
        "{missing}"
    );
    let dir = std::env::temp_dir().join(format!("oatk-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let err = oatk::key::load_private(&garbage).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Key);
    assert!(err.message().contains("garbage.pem"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn generated_private_key_file_is_0600() {
    let dir = std::env::temp_dir().join(format!("oatk-gen-{}", std::process::id()));
    let key = PrivateKey::generate(Algorithm::EdDSA, None).unwrap();
    let (private, public) = oatk::key::write_pair(&key, &dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(oatk::key::load_public(&public).unwrap(), *key.public_key());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rsa_sizes_generate() {
    for bits in [2048, 3072] {
        let key = PrivateKey::generate(Algorithm::RS256, Some(bits)).unwrap();
        let PublicKey::Rsa { n, .. } = key.public_key() else {
            panic!()
        };
        assert_eq!(n.len() * 8, bits as usize);
    }
    assert_eq!(
        PrivateKey::generate(Algorithm::RS256, Some(1000))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn pem_output_uses_lf_line_endings_as_openssl_does() {
    let key = oatk::PrivateKey::generate(oatk::Algorithm::ES256, None).unwrap();
    let private = key.to_pkcs8_pem().unwrap();
    let public = key.public_key().to_pem().unwrap();
    for pem in [private, public] {
        assert!(!pem.contains('\r'), "{pem:?}");
        assert!(pem.ends_with("-----\n"), "{pem:?}");
    }
}
