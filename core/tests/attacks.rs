//! The attack suite: one test per finding of the security audit (issue 10),
//! each written to fail before its fix. HTTP-level attacks on the fake server
//! are in tests/server.rs; these are the validation and guard paths.

use oatk::guard::{self, Decision, Denial};
use oatk::key::{Algorithm, PrivateKey};
use oatk::{b64, Claims, ErrorKind, JwkSet, Toolkit};
use serde_json::{json, Value};

fn signer() -> Toolkit {
    let mut t = Toolkit::new();
    t.with_private_key(PrivateKey::generate(Algorithm::ES256, None).unwrap());
    t
}

fn deny(t: &Toolkit, header: &str) -> Denial {
    match guard::check(t, Some(header), &Claims::new()).unwrap() {
        Decision::Deny(d) => d,
        Decision::Allow(c) => panic!("allowed: {c:?}"),
    }
}

/// A token with this header and claims and a junk signature.
fn forged(header: Value, claims: Value) -> String {
    format!(
        "{}.{}.{}",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(claims.to_string().as_bytes()),
        b64::encode(b"not a signature")
    )
}

/// RFC 6750 3: error_description is %x20-21 / %x23-5B / %x5D-7E.
fn assert_header_safe(d: &Denial) {
    let value = d.www_authenticate.as_deref().unwrap_or("");
    let description = value
        .split_once("error_description=\"")
        .map(|(_, rest)| rest.trim_end_matches('"'))
        .unwrap_or("");
    assert!(
        description
            .chars()
            .all(|c| matches!(c, ' ' | '!' | '#'..='[' | ']'..='~')),
        "unsafe characters in {value:?}"
    );
    assert!(value.len() <= 300, "{} byte challenge", value.len());
    assert!(d.body.len() <= 300, "{} byte body", d.body.len());
}

#[test]
fn finding_1_attacker_text_never_reaches_a_header_unescaped_or_unbounded() {
    let t = signer();
    let euro = forged(
        json!({"alg": "ES256", "kid": "k€y\r\nX-Evil: 1"}),
        json!({"sub": "a"}),
    );
    let d = deny(&t, &format!("Bearer {euro}"));
    assert_eq!(d.status, 401);
    assert_header_safe(&d);
    assert!(
        !d.body.contains('\n') && !d.body.contains('€'),
        "{:?}",
        d.body
    );

    let long_kid = "k".repeat(47_000);
    let long = forged(
        json!({"alg": "ES256", "kid": long_kid}),
        json!({"sub": "a"}),
    );
    let d = deny(&t, &format!("Bearer {long}"));
    assert_header_safe(&d);

    let alg = forged(json!({"alg": "€S256\"\\"}), json!({"sub": "a"}));
    assert_header_safe(&deny(&t, &format!("Bearer {alg}")));

    let crit = forged(
        json!({"alg": "ES256", "crit": ["\u{1b}]52;c;cHduZWQ=\u{7}".repeat(50)]}),
        json!({}),
    );
    assert_header_safe(&deny(&t, &format!("Bearer {crit}")));
}

#[test]
fn finding_1_the_configured_audience_and_issuer_are_not_revealed() {
    let mut t = signer();
    let token = t
        .mint(
            &json!({"sub": "a", "aud": "other", "iss": "https://evil", "exp": 4_000_000_000i64})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
    t.with_client_id("secret-audience-42");
    let d = deny(&t, &format!("Bearer {token}"));
    assert_eq!(d.kind, Some(ErrorKind::InvalidAudience));
    assert!(!d.body.contains("secret-audience-42"), "{}", d.body);
    assert!(!d.www_authenticate.unwrap().contains("secret-audience-42"));

    let mut t2 = signer();
    let token = t2
        .mint(
            &json!({"sub": "a", "iss": "https://evil", "exp": 4_000_000_000i64})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
    t2.with_issuer("https://internal-issuer.corp");
    let d = deny(&t2, &format!("Bearer {token}"));
    assert_eq!(d.kind, Some(ErrorKind::InvalidIssuer));
    assert!(!d.body.contains("internal-issuer"), "{}", d.body);
}

#[test]
fn finding_4_bearer_bearer_is_malformed() {
    let t = signer();
    let token = t.mint(&Claims::new()).unwrap();
    let d = deny(&t, &format!("Bearer Bearer {token}"));
    assert_eq!((d.status, d.kind), (401, Some(ErrorKind::Malformed)));
    let d = deny(&t, &format!("Bearer {token} extra"));
    assert_eq!((d.status, d.kind), (401, Some(ErrorKind::Malformed)));
}

fn jwks(key: Value) -> Result<JwkSet, oatk::Error> {
    JwkSet::from_json(&json!({"keys": [key]}).to_string())
}

#[test]
fn finding_4_small_order_ed25519_keys_are_refused() {
    // The identity point (y = 1) and other small-order points: with R = identity
    // and S = 0, "signatures" verify under them for any message.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let zero = [0u8; 32];
    let mut order2 = [0xffu8; 32]; // y = -1 (p - 1)
    order2[0] = 0xec;
    order2[31] = 0x7f;
    let order8 = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x85, // sign bit set: the same point's other x
    ];
    for point in [identity, zero, order2, order8] {
        let err =
            jwks(json!({"kty": "OKP", "crv": "Ed25519", "x": b64::encode(point), "kid": "weak"}))
                .err()
                .unwrap_or_else(|| panic!("small-order key {point:?} accepted"));
        assert!(err.message().contains("small order"), "{err}");
    }
}

#[test]
fn finding_4_short_rsa_keys_are_refused_with_their_size() {
    // A 1024-bit modulus (top bit set); e = 65537.
    let n_bytes: Vec<u8> = (0..128u32).map(|i| (i as u8) | 0x80).collect();
    let err = jwks(json!({"kty": "RSA", "n": b64::encode(&n_bytes), "e": "AQAB", "kid": "short"}))
        .expect_err("1024-bit RSA key accepted");
    assert!(err.message().contains("1024"), "{err}");
}

#[test]
fn finding_4_ec_coordinates_of_the_wrong_length_are_refused() {
    let t = {
        let mut t = Toolkit::new();
        t.with_private_key(PrivateKey::generate(Algorithm::ES256, None).unwrap());
        t
    };
    let set: Value = serde_json::from_str(&t.jwks().unwrap()).unwrap();
    let mut key = set["keys"][0].clone();
    let x = b64::decode(key["x"].as_str().unwrap()).unwrap();
    let mut short = x.clone();
    short.remove(0);
    key["x"] = json!(b64::encode(&short));
    let err = jwks(key.clone()).expect_err("31-byte P-256 x accepted");
    assert!(err.message().contains("32 bytes"), "{err}");
    let mut long = vec![0u8];
    long.extend_from_slice(&x);
    key["x"] = json!(b64::encode(&long));
    assert!(jwks(key).is_err(), "33-byte P-256 x accepted");
}

#[test]
fn finding_4_a_small_order_key_would_verify_a_forgery() {
    // Why the refusal matters: with the identity as the key, R = identity and
    // S = 0 is a "signature" of any message. Checked on the raw verifier, so
    // the test shows the forgery that the JWK refusal keeps out.
    use aws_lc_rs::signature::{UnparsedPublicKey, ED25519};
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut forged_signature = [0u8; 64];
    forged_signature[0] = 1;
    let verifies = UnparsedPublicKey::new(&ED25519, identity)
        .verify(b"any message", &forged_signature)
        .is_ok();
    let refused = oatk::PublicKey::Ed25519 {
        x: identity.to_vec(),
    }
    .check()
    .is_err();
    assert!(
        refused,
        "small-order key accepted (raw verifier accepts forgery: {verifies})"
    );
}

/// Run the real `oatk` binary; its stdout and stderr.
fn oatk_cli(args: &[&str]) -> (String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oatk"))
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn finding_5_the_cli_never_prints_control_characters_from_a_token() {
    let osc52 = "\u{1b}]52;c;cHduZWQ=\u{7}";
    let dir = std::env::temp_dir().join(format!("oatk-attacks-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = signer();
    let token = t
        .mint(
            json!({"sub": osc52, "\u{1b}[2J": "x\u{9b}y"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
    let path = dir.join("token.txt");
    std::fs::write(&path, &token).unwrap();
    let (stdout, _) = oatk_cli(&["from_file", path.to_str().unwrap(), "decode"]);
    assert!(
        stdout.contains("sub: \\u{1b}]52;c;cHduZWQ=\\u{7}"),
        "{stdout:?}"
    );
    assert!(
        !stdout.chars().any(|c| c.is_control() && c != '\n'),
        "{stdout:?}"
    );

    let crit = forged(json!({"alg": "ES256", "crit": [osc52]}), json!({}));
    std::fs::write(&path, &crit).unwrap();
    let jwks_path = dir.join("certs.json");
    std::fs::write(&jwks_path, t.jwks().unwrap()).unwrap();
    let (_, stderr) = oatk_cli(&[
        "with_jwks",
        jwks_path.to_str().unwrap(),
        "from_file",
        path.to_str().unwrap(),
        "validate",
    ]);
    assert!(stderr.contains("critical"), "{stderr:?}");
    assert!(
        !stderr.chars().any(|c| c.is_control() && c != '\n'),
        "{stderr:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A minimal identity provider on loopback: discovery plus a key set that
/// the test swaps, served with `Cache-Control: max-age=1`.
fn tiny_provider(
    jwks: std::sync::Arc<std::sync::Mutex<String>>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let fetches = std::sync::Arc::new(AtomicUsize::new(0));
    let (base, count) = (url.clone(), fetches.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request);
            let body = if text.starts_with("GET /jwks") || text.starts_with("GET /keys.json") {
                count.fetch_add(1, Ordering::SeqCst);
                jwks.lock().unwrap().clone()
            } else if text.starts_with("GET /common/") {
                // A multi-tenant provider's shared endpoint, as Microsoft's.
                json!({"issuer": format!("{base}/{{tenantid}}/v2.0"), "jwks_uri": format!("{base}/jwks")})
                    .to_string()
            } else {
                json!({"issuer": base, "jwks_uri": format!("{base}/jwks")}).to_string()
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, fetches)
}

#[test]
fn finding_2_a_key_the_provider_removes_stops_validating_after_max_age() {
    use std::sync::atomic::Ordering;
    use std::time::Duration;
    let old = signer();
    let new = signer();
    let published = std::sync::Arc::new(std::sync::Mutex::new(old.jwks().unwrap()));
    let (url, fetches) = tiny_provider(published.clone());
    let provider = oatk::provider::Provider::discover(&url)
        .unwrap()
        .with_keys_ttl_bounds(Duration::from_secs(1), Duration::from_secs(3600));
    let mut t = Toolkit::new();
    t.with_provider(provider).accept_any_audience();
    let claims = |iss: &str| {
        json!({"sub": "a", "iss": iss, "exp": 4_000_000_000i64})
            .as_object()
            .unwrap()
            .clone()
    };
    let token = old.mint(&claims(&url)).unwrap();
    t.validate(Some(&token)).unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    // The provider rotates: the old key is gone from its JWKS.
    *published.lock().unwrap() = new.jwks().unwrap();
    t.validate(Some(&token))
        .expect("within max-age the cached set still applies");
    std::thread::sleep(Duration::from_millis(1100));
    let err = t.validate(Some(&token)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey, "{err}");
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "one refetch when max-age passed"
    );
    t.validate(Some(&new.mint(&claims(&url)).unwrap())).unwrap();
}

fn provider_claims(v: Value) -> Claims {
    v.as_object().unwrap().clone()
}

#[test]
fn finding_3_a_provider_needs_an_audience_or_a_waiver_and_exp() {
    let idp = signer();
    let published = std::sync::Arc::new(std::sync::Mutex::new(idp.jwks().unwrap()));
    let (url, _) = tiny_provider(published);
    let token = idp
        .mint(&provider_claims(
            json!({"sub": "a", "iss": url, "aud": "api", "exp": 4_000_000_000i64}),
        ))
        .unwrap();
    let mut t = Toolkit::new();
    t.using_provider(&url).unwrap();
    let err = t.validate(Some(&token)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(
        err.message().contains("with_client_id") && err.message().contains("accept_any_audience"),
        "{err}"
    );
    t.with_client_id("api");
    t.validate(Some(&token)).unwrap();
    let mut waived = Toolkit::new();
    waived.using_provider(&url).unwrap().accept_any_audience();
    waived.validate(Some(&token)).unwrap();

    // exp is required of a provider's tokens.
    let no_exp = idp
        .mint(&provider_claims(
            json!({"sub": "a", "iss": url, "aud": "api"}),
        ))
        .unwrap();
    assert_eq!(
        t.validate(Some(&no_exp)).unwrap_err().kind(),
        ErrorKind::MissingClaim
    );
}

#[test]
fn finding_3_a_bare_jwks_url_needs_an_issuer_or_a_waiver() {
    let idp = signer();
    let published = std::sync::Arc::new(std::sync::Mutex::new(idp.jwks().unwrap()));
    let (url, _) = tiny_provider(published);
    let token = idp
        .mint(&provider_claims(
            json!({"sub": "a", "iss": url, "aud": "api", "exp": 4_000_000_000i64}),
        ))
        .unwrap();
    let mut t = Toolkit::new();
    t.using_provider(&format!("{url}/keys.json"))
        .unwrap()
        .with_client_id("api");
    let err = t.validate(Some(&token)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("with_issuer"), "{err}");
    t.with_issuer(&url);
    t.validate(Some(&token)).unwrap();
    let mut waived = Toolkit::new();
    waived
        .using_provider(&format!("{url}/keys.json"))
        .unwrap()
        .with_client_id("api")
        .accept_any_issuer();
    waived.validate(Some(&token)).unwrap();
}

#[test]
fn finding_3_the_discovered_issuer_must_be_where_it_was_discovered() {
    let server = oatk::server::start(
        None,
        &oatk::server::Options {
            issuer: Some("https://elsewhere.example".into()),
            ..oatk::server::Options::embedded()
        },
    )
    .unwrap();
    let err = Toolkit::new().using_provider(server.url()).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.message().contains("Discovery 4.3"), "{err}");
    let err = Toolkit::new()
        .using_provider(&server.discovery_url())
        .err()
        .unwrap();
    assert!(err.message().contains("https://elsewhere.example"), "{err}");
}

#[test]
fn finding_3_a_templated_issuer_is_checked_with_the_tokens_tid() {
    let idp = signer();
    let published = std::sync::Arc::new(std::sync::Mutex::new(idp.jwks().unwrap()));
    let (url, _) = tiny_provider(published);
    let mut t = Toolkit::new();
    t.using_provider(&format!("{url}/common/v2.0"))
        .unwrap()
        .with_client_id("api");
    let token = |iss: String, tid: Option<&str>| {
        let mut c =
            provider_claims(json!({"sub": "a", "iss": iss, "aud": "api", "exp": 4_000_000_000i64}));
        if let Some(tid) = tid {
            c.insert("tid".into(), json!(tid));
        }
        idp.mint(&c).unwrap()
    };
    t.validate(Some(&token(format!("{url}/t1/v2.0"), Some("t1"))))
        .unwrap();
    for (iss, tid) in [
        (format!("{url}/t1/v2.0"), Some("t2")),
        (format!("{url}/t1/v2.0"), None),
        (format!("{url}/{{tenantid}}/v2.0"), Some("{tenantid}")),
        (format!("{url}/a/b/v2.0"), Some("a/b")),
    ] {
        let err = t.validate(Some(&token(iss.clone(), tid))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidIssuer, "{iss} {tid:?}");
    }
}

/// Found by `cargo fuzz` (pem target): a compressed EC point in an SPKI
/// made the key import panic on a slice below zero.
#[test]
fn fuzz_finding_compressed_ec_public_keys_are_refused_not_a_panic() {
    let compressed = "-----BEGIN PUBLIC KEY-----\nMDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADi3tvu9Eg6wZ18tdsuu64LuFA1v9v\nX9hecL02iMHnvhk=\n-----END PUBLIC KEY-----\n";
    let err = oatk::PublicKey::from_pem(compressed.as_bytes()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Key);
    assert!(err.message().contains("compressed"), "{err}");
    for dir in [
        "crash-compressed-p256.pub.pem",
        "crash-compressed-p384.pub.pem",
        "crash-compressed-p256-point.der",
    ] {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/pem/").to_string() + dir;
        let bytes = std::fs::read(&path).unwrap();
        assert!(oatk::PublicKey::from_pem(&bytes).is_err(), "{path}");
        assert!(oatk::PublicKey::from_spki_der(&bytes).is_err(), "{path}");
    }
}

/// Found by `cargo fuzz` (pem target): a P-384 SPKI whose last 97 bytes read
/// as `04 || x || y` with a point off the curve passed `check()`, then failed
/// to export. `check()` now parses the point (SEC1 3.2.2.1).
#[test]
fn fuzz_finding_ec_points_off_the_curve_are_refused_by_check() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/corpus/pem/crash-off-curve-p384.pub.pem"
    );
    let key = oatk::PublicKey::from_pem(&std::fs::read(path).unwrap()).unwrap();
    let err = key.check().unwrap_err();
    assert!(err.message().contains("not a point on the curve"), "{err}");
}
