//! Time and keys, driven by a test: the server's clock shifted or frozen at
//! run time (tokens expire, codes, refresh tokens and sessions age, with no
//! sleeping), and signing keys rotated and retired, followed by a validator
//! that knows the provider only by its URL.

mod support;

use std::time::Duration;

use oatk::provider::Provider;
use oatk::server::{self, Options, TokenRequest, MAX_KEYS};
use oatk::{ErrorKind, Toolkit};
use serde_json::json;
use support::*;

const CONFIG: &str = r#"
access_token_lifetime = 300
refresh_token_lifetime = 3600
code_lifetime = 60
session_lifetime = 7200

[[clients]]
client_id = "spa"
redirect_uris = ["http://localhost:5001/cb"]
scope = "openid profile"
public = true

[[clients]]
client_id = "svc"
client_secret = "s3cret-svc"
redirect_uris = ["https://svc.example/cb"]
scope = "openid profile api"
"#;

#[test]
fn the_admin_clock_ages_tokens_codes_refresh_tokens_and_sessions() {
    let server = start_with(CONFIG, "clock");
    let url = server.url();
    let clock = get(&format!("{url}/admin/clock"), &[]).json();
    assert_eq!(
        (clock["offset"].as_i64(), clock["frozen"].as_bool()),
        (Some(0), Some(false))
    );

    // An access token expires when the clock passes its exp.
    let token = access_token(&server, "xtof");
    assert_eq!(userinfo(url, &token).status, 200);
    let moved = admin(&format!("{url}/admin/clock"), &json!({"advance": 301}));
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert!((moved.json()["offset"].as_i64().unwrap() - 301).abs() <= 1);
    let expired = userinfo(url, &token);
    assert_eq!(expired.status, 401);
    assert!(
        expired
            .header("www-authenticate")
            .contains("token expired at"),
        "{:?}",
        expired.headers
    );
    // Tokens issued now are stamped with the server's now.
    let later = access_token(&server, "xtof");
    assert!((claims(&later)["iat"].as_i64().unwrap() - server.now()).abs() <= 1);
    assert_eq!(userinfo(url, &later).status, 200);

    // Frozen: iat is exactly the frozen instant, and stays.
    let frozen = admin(
        &format!("{url}/admin/clock"),
        &json!({"freeze": 2_000_000_000}),
    );
    assert_eq!(frozen.json()["now"], 2_000_000_000);
    let at_freeze = server
        .issue_token("xtof", Default::default(), Some("svc"), None)
        .unwrap();
    let access = claims(at_freeze["access_token"].as_str().unwrap());
    assert_eq!(
        (access["iat"].as_i64(), access["exp"].as_i64()),
        (Some(2_000_000_000), Some(2_000_000_300))
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(server.now(), 2_000_000_000, "a frozen clock stands still");

    // A refresh token ages out, its chain's length in server time.
    let refresh = at_freeze["refresh_token"].as_str().unwrap();
    server.advance_clock(3600).unwrap();
    let aged = form(
        &format!("{url}/oauth/token"),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        &[("authorization", "Basic c3ZjOnMzY3JldC1zdmM=")],
    );
    assert_eq!(aged.status, 400);
    assert_eq!(aged.json()["error_description"], "refresh token expired");

    // A session ends when its lifetime has passed on the server's clock.
    let session = sign_in(url, "xtof");
    let home = get(&format!("{url}/"), &[("cookie", &session)]);
    assert!(home.body.contains("Welcome, xtof"));
    server.advance_clock(7200).unwrap();
    let home = get(&format!("{url}/"), &[("cookie", &session)]);
    assert!(
        home.body.contains("id=\"login\""),
        "signed out by the clock"
    );

    // Reset: the system clock again.
    let reset = admin(&format!("{url}/admin/clock"), &json!({"reset": true}));
    assert_eq!(reset.json()["frozen"], false);
    assert!((server.now() - oatk::time::now()).abs() <= 1);

    // Wrong bodies are refused with what to send; the guard is the admin API's.
    for bad in [
        json!({}),
        json!({"advance": 1, "reset": true}),
        json!({"reset": false}),
        json!({"freeze": -5}),
        json!({"advance": i64::MAX}),
        json!({"advance": "1h"}),
        json!({"rewind": 5}),
    ] {
        let reply = admin(&format!("{url}/admin/clock"), &bad);
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        assert_eq!(reply.json()["error"], "invalid_request");
    }
    let as_form = post(
        &format!("{url}/admin/clock"),
        "text/plain",
        "{\"advance\": 5}",
        &[],
    );
    assert_eq!(as_form.status, 415);
    assert!(
        (server.now() - oatk::time::now()).abs() <= 1,
        "nothing moved"
    );
}

#[test]
fn an_authorization_code_expires_on_the_server_clock() {
    let server = start_with(CONFIG, "clock-code");
    let url = server.url();
    let verifier = "v".repeat(50);
    let back = authorize(
        &format!("{url}/oauth/authorize"),
        "xtof",
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", "http://localhost:5001/cb"),
            ("code_challenge", &s256(&verifier)),
            ("code_challenge_method", "S256"),
        ],
    );
    let code = back.location_params()["code"].clone();
    server.advance_clock(61).unwrap();
    let late = form(
        &format!("{url}/oauth/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "spa"),
            ("redirect_uri", "http://localhost:5001/cb"),
            ("code_verifier", &verifier),
        ],
        &[],
    );
    assert_eq!(late.status, 400);
    assert_eq!(
        late.json()["error_description"],
        "authorization code expired"
    );
    // The Rust API refuses what the admin API refuses.
    assert!(server.freeze_clock(oatk::server::MAX_EPOCH + 1).is_err());
    assert_eq!(
        server.advance_clock(-server.now() - 1).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

/// A validator that knows the provider only by its URL follows a rotation
/// through its rate-limited refetch, and stops accepting the old key once it
/// is retired and the key set's max-age has passed.
#[test]
fn a_provider_validator_follows_a_rotation_and_drops_a_retired_key() {
    let server = start_with(CONFIG, "rotation");
    let url = server.url();
    let certs = get(&format!("{url}/oauth/certs"), &[]);
    assert_eq!(certs.header("cache-control"), "public, max-age=300");
    let old_kid = kids(&format!("{url}/oauth/certs"))[0].clone();
    let old_token = access_token(&server, "xtof");

    // An app's validator: refetches on an unknown kid at most every 2 s,
    // and keeps a key set for its max-age (300 s here).
    let mut app = Toolkit::new();
    app.with_provider(
        Provider::discover(url)
            .unwrap()
            .with_min_refresh(Duration::from_secs(2)),
    )
    .with_client_id("test");
    assert!(app.validate(Some(&old_token)).is_ok());
    // Another that holds a key set 1 s at most.
    let mut short = Toolkit::new();
    short
        .with_provider(
            Provider::discover(url)
                .unwrap()
                .with_min_refresh(Duration::ZERO)
                .with_keys_ttl_bounds(Duration::ZERO, Duration::from_secs(1)),
        )
        .with_client_id("test");

    // Rotate: both keys published, new tokens signed with the new one.
    let rotated = admin(&format!("{url}/admin/keys/rotate"), &json!({}));
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let info = rotated.json();
    let new_kid = info["keys"][0]["kid"].as_str().unwrap().to_string();
    assert_eq!(info["keys"][0]["signing"], true);
    assert_ne!(new_kid, old_kid);
    assert_eq!(
        kids(&format!("{url}/oauth/certs")),
        [old_kid.clone(), new_kid.clone()]
    );
    assert_eq!(server.jwks(), get(&format!("{url}/oauth/certs"), &[]).body);
    let new_token = access_token(&server, "xtof");
    assert_eq!(kid(&new_token), new_kid);
    assert_eq!(
        userinfo(url, &old_token).status,
        200,
        "the old key still verifies"
    );
    assert_eq!(userinfo(url, &new_token).status, 200);

    // The unknown kid makes the validator refetch, at most once per interval:
    // right after discovery it may not, then it does.
    assert_eq!(
        app.validate(Some(&new_token)).unwrap_err().kind(),
        ErrorKind::UnknownKey,
        "rate limited"
    );
    std::thread::sleep(Duration::from_millis(2100));
    assert!(
        app.validate(Some(&new_token)).is_ok(),
        "refetched after the interval"
    );
    assert!(
        app.validate(Some(&old_token)).is_ok(),
        "both keys are trusted"
    );
    assert!(short.validate(Some(&old_token)).is_ok());

    // Retire: the JWKS holds the new key only; the server refuses old tokens.
    let retired = admin(&format!("{url}/admin/keys/retire"), &json!({}));
    assert_eq!(retired.status, 200, "{}", retired.body);
    assert_eq!(kids(&format!("{url}/oauth/certs")), [new_kid.as_str()]);
    let refused = userinfo(url, &old_token);
    assert_eq!(refused.status, 401);
    assert!(refused
        .header("www-authenticate")
        .contains("no key with kid"));
    // A validator drops the old key when its cached set's max-age passes;
    // until then it still accepts it.
    assert!(
        app.validate(Some(&old_token)).is_ok(),
        "cached for its max-age"
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        short.validate(Some(&old_token)).unwrap_err().kind(),
        ErrorKind::UnknownKey
    );
    assert!(short.validate(Some(&new_token)).is_ok());
}

/// With a grace period the old keys retire by themselves, on the server's
/// clock; a tenant's rotation leaves the root alone; the number of keys is
/// bounded; the Rust API is the admin API's.
#[test]
fn grace_periods_tenants_and_limits() {
    let server = start_ec(CONFIG, "rotation-grace");
    let url = server.url();
    let old = access_token(&server, "xtof");
    let body = json!({"retire_after": 600});
    let rotated = admin(&format!("{url}/admin/keys/rotate"), &body);
    let retire_at = rotated.json()["keys"][1]["retire_at"].as_i64().unwrap();
    assert!(
        (retire_at - server.now() - 600).abs() <= 1,
        "{}",
        rotated.body
    );
    server.freeze_clock(retire_at - 1).unwrap();
    assert_eq!(kids(&format!("{url}/oauth/certs")).len(), 2);
    server.freeze_clock(retire_at).unwrap();
    assert_eq!(
        kids(&format!("{url}/oauth/certs")).len(),
        1,
        "retired on time"
    );
    server
        .freeze_clock(claims(&old)["iat"].as_i64().unwrap())
        .unwrap();
    assert_eq!(
        userinfo(url, &old).status,
        401,
        "its key is gone, whatever the time"
    );
    server.reset_clock();

    // A tenant rotates alone.
    let acme_before = server.issuer_info(Some("acme")).unwrap();
    let root_before = kids(&format!("{url}/oauth/certs"));
    let new_kid = server.rotate_keys(Some("acme")).unwrap();
    let acme_after = server.issuer_info(Some("acme")).unwrap();
    assert_eq!(acme_after.keys.len(), 2);
    assert_eq!(acme_after.keys[0].kid, new_kid);
    assert_eq!(acme_after.keys[1].kid, acme_before.keys[0].kid);
    assert_eq!(kids(&format!("{url}/oauth/certs")), root_before);
    let from_acme = server
        .issue(&TokenRequest {
            username: Some("xtof".into()),
            tenant: Some("acme".into()),
            ..TokenRequest::default()
        })
        .unwrap();
    assert_eq!(kid(from_acme["access_token"].as_str().unwrap()), new_kid);
    assert_eq!(server.retire_old_keys(Some("acme")).unwrap(), 1);
    // Rotate with retire_after 0: the old key goes at once.
    server.rotate_keys_retiring(None, 0).unwrap();
    assert_eq!(kids(&format!("{url}/oauth/certs")).len(), 1);

    // At most MAX_KEYS keys: then the error says what to do.
    for _ in 1..MAX_KEYS {
        server.rotate_keys(None).unwrap();
    }
    let full = admin(&format!("{url}/admin/keys/rotate"), &json!({}));
    assert_eq!(full.status, 400);
    assert!(full.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("/admin/keys/retire"));
    let bad = admin(
        &format!("{url}/admin/keys/retire"),
        &json!({"retire_after": 5}),
    );
    assert_eq!(bad.status, 400);
    let bad = admin(
        &format!("{url}/admin/keys/rotate"),
        &json!({"tenant": "../x"}),
    );
    assert_eq!(bad.status, 400);
}

/// A persisted server keeps signing with the rotated key after a restart.
#[test]
fn a_rotated_key_survives_a_restart() {
    let dir = temp_dir("rotation-persist");
    let options = Options::embedded().persist_in(dir.join("data"));
    let server = server::start(None, &options).unwrap();
    let kid = server.rotate_keys(None).unwrap();
    drop(server);
    let again = server::start(None, &options).unwrap();
    assert_eq!(
        kids(&format!("{}/oauth/certs", again.url())),
        [kid.as_str()]
    );
    let token = access_token(&again, "xtof");
    assert_eq!(support::kid(&token), kid);
    drop(again);
    std::fs::remove_dir_all(dir).unwrap();
}
