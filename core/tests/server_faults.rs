//! Faults on purpose, and oatk's own provider code facing each: a clear
//! `NETWORK` error naming the URL, no hang past its timeout, and recovery
//! when the fault is over.

mod support;

use std::time::{Duration, Instant};

use oatk::provider::Provider;
use oatk::server::{Fault, FaultEndpoint, FaultKind, Server, MAX_DELAY_MS};
use oatk::{ErrorKind, Toolkit};
use serde_json::json;
use support::*;

fn fault(server: &Server, endpoint: FaultEndpoint, kind: FaultKind) {
    server.inject_fault(Fault::new(endpoint, kind)).unwrap();
}

fn discovery_error(server: &Server, timeout: Duration) -> (oatk::Error, Duration) {
    let started = Instant::now();
    let err = Provider::discover_with_timeout(server.url(), timeout).unwrap_err();
    (err, started.elapsed())
}

#[test]
fn discovery_faults_are_clear_network_errors_then_recover() {
    let server = start_with("", "faults-discovery");
    let doc_url = server.discovery_url();

    fault(&server, FaultEndpoint::Discovery, FaultKind::Error);
    let (err, _) = discovery_error(&server, Duration::from_secs(5));
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(err.message(), format!("{doc_url} answered HTTP 500"));
    assert!(
        Provider::discover(server.url()).is_ok(),
        "one request, then over"
    );

    fault(&server, FaultEndpoint::Discovery, FaultKind::Malformed);
    let (err, _) = discovery_error(&server, Duration::from_secs(5));
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(
        err.message()
            .starts_with(&format!("{doc_url} did not return JSON")),
        "{err}"
    );

    // Held past the client's timeout: the client gives up in time.
    server
        .inject_fault(Fault::new(FaultEndpoint::Discovery, FaultKind::Timeout).delay_ms(5_000))
        .unwrap();
    let (err, took) = discovery_error(&server, Duration::from_millis(700));
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(
        err.message()
            .starts_with(&format!("cannot reach {doc_url}")),
        "{err}"
    );
    assert!(took < Duration::from_secs(3), "gave up after {took:?}");

    // Held shorter than the client waits, then closed without an answer.
    server
        .inject_fault(Fault::new(FaultEndpoint::Discovery, FaultKind::Timeout).delay_ms(200))
        .unwrap();
    let (err, took) = discovery_error(&server, Duration::from_secs(5));
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(
        err.message()
            .starts_with(&format!("cannot reach {doc_url}")),
        "{err}"
    );
    assert!(took >= Duration::from_millis(200), "{took:?}");

    // Slow: late, then the normal answer; too slow: the timeout.
    server
        .inject_fault(Fault::new(FaultEndpoint::Discovery, FaultKind::Slow).delay_ms(400))
        .unwrap();
    let started = Instant::now();
    assert!(Provider::discover_with_timeout(server.url(), Duration::from_secs(5)).is_ok());
    assert!(started.elapsed() >= Duration::from_millis(400));
    server
        .inject_fault(Fault::new(FaultEndpoint::Discovery, FaultKind::Slow).delay_ms(3_000))
        .unwrap();
    let (err, took) = discovery_error(&server, Duration::from_millis(500));
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(took < Duration::from_secs(2), "{took:?}");

    assert!(server.faults().is_empty(), "every fault used up");
    assert!(Provider::discover(server.url()).is_ok());
}

/// The provider's own default timeout (10 s) holds against a provider that
/// never answers (the fault holds for 60 s).
#[test]
fn the_default_timeout_never_hangs_on_a_silent_provider() {
    let server = start_with("", "faults-silent");
    fault(&server, FaultEndpoint::Discovery, FaultKind::Timeout);
    assert_eq!(server.faults()[0].delay_ms, None, "held the most: 60 s");
    let started = Instant::now();
    let err = Provider::discover(server.url()).unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(
        took >= oatk::provider::DEFAULT_TIMEOUT - Duration::from_millis(200)
            && took < oatk::provider::DEFAULT_TIMEOUT + Duration::from_secs(3),
        "{took:?}"
    );
    // The server still holds that request; stopping does not wait for it.
    let started = Instant::now();
    server.stop();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// A JWKS that fails while a validator needs it: the validation fails with
/// the JWKS URL named, the cached keys keep serving tokens they know, and
/// the next refetch after the fault succeeds.
#[test]
fn jwks_faults_during_a_rotation() {
    let server = start_with("", "faults-jwks");
    let jwks_url = format!("{}/oauth/certs", server.url());
    let provider = Provider::discover_with_timeout(server.url(), Duration::from_millis(700))
        .unwrap()
        .with_min_refresh(Duration::ZERO)
        .with_keys_ttl_bounds(Duration::ZERO, Duration::ZERO);
    let mut app = Toolkit::new();
    app.with_provider(provider).with_client_id("test");
    let old_token = access_token(&server, "xtof");
    server.rotate_keys(None).unwrap();
    let new_token = access_token(&server, "xtof");

    for (kind, message) in [
        (FaultKind::Error, format!("{jwks_url} answered HTTP 500")),
        (
            FaultKind::Malformed,
            format!("{jwks_url} did not return JSON"),
        ),
        (FaultKind::Timeout, format!("cannot reach {jwks_url}")),
    ] {
        // Two requests: the max-age refetch (its failure keeps the cached
        // keys), then the unknown-kid refetch (its failure is the answer).
        let held = |f: Fault| match kind {
            FaultKind::Timeout => f.delay_ms(1_500),
            _ => f,
        };
        server
            .inject_fault(held(Fault::new(FaultEndpoint::Jwks, kind).count(2)))
            .unwrap();
        let started = Instant::now();
        let err = app.validate(Some(&new_token)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{kind:?}: {err}");
        assert!(err.message().starts_with(&message), "{kind:?}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{kind:?}: {:?}",
            started.elapsed()
        );
        // The JWKS is down, yet a token of a cached key still validates.
        server
            .inject_fault(held(Fault::new(FaultEndpoint::Jwks, kind)))
            .unwrap();
        assert!(app.validate(Some(&old_token)).is_ok(), "{kind:?}");
    }
    assert!(server.faults().is_empty());
    assert!(app.validate(Some(&new_token)).is_ok(), "recovered");
}

#[test]
fn token_and_userinfo_faults_over_http_and_the_admin_api() {
    let server = start_with(
        "[[clients]]\nclient_id = \"svc\"\nclient_secret = \"s3cret-svc\"\ngrant_types = [\"client_credentials\"]\nscope = \"api\"\n",
        "faults-http",
    );
    let url = server.url();
    let token = access_token(&server, "xtof");
    let added = admin(
        &format!("{url}/admin/faults"),
        &json!({"endpoint": "token", "kind": "error", "count": 2}),
    );
    assert_eq!(added.status, 200, "{}", added.body);
    admin(
        &format!("{url}/admin/faults"),
        &json!({"endpoint": "userinfo", "kind": "malformed"}),
    );
    let listed = get(&format!("{url}/admin/faults"), &[]).json();
    assert_eq!(
        listed,
        json!([{"endpoint": "token", "kind": "error", "count": 2},
               {"endpoint": "userinfo", "kind": "malformed", "count": 1}])
    );
    let cc = [
        ("grant_type", "client_credentials"),
        ("client_id", "svc"),
        ("client_secret", "s3cret-svc"),
    ];
    // The fault answers even a browser app's request, CORS included.
    let failed = form(
        &format!("{url}/oauth/token"),
        &cc,
        &[("origin", "https://app.example")],
    );
    assert_eq!(failed.status, 500);
    assert_eq!(failed.json()["error"], "server_error");
    assert_eq!(
        failed.header("access-control-allow-origin"),
        "https://app.example"
    );
    // Tenants' endpoints count too.
    assert_eq!(
        form(&format!("{url}/acme/oauth/token"), &cc, &[]).status,
        500
    );
    assert_eq!(form(&format!("{url}/oauth/token"), &cc, &[]).status, 200);
    let broken = userinfo(url, &token);
    assert_eq!(broken.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&broken.body).is_err());
    assert_eq!(userinfo(url, &token).status, 200);
    // A preflight is never one of the requests a fault counts.
    admin(
        &format!("{url}/admin/faults"),
        &json!({"endpoint": "jwks", "kind": "error"}),
    );
    let preflight = oatk_options(&format!("{url}/oauth/certs"));
    assert_eq!(preflight, 204);
    assert_eq!(get(&format!("{url}/oauth/certs"), &[]).status, 500);

    // Bad faults are refused with the reason; DELETE clears; limits hold.
    for (bad, reason) in [
        (
            json!({"endpoint": "authorize", "kind": "error"}),
            "unknown variant `authorize`",
        ),
        (
            json!({"endpoint": "jwks", "kind": "error", "count": 0}),
            "at least 1",
        ),
        (
            json!({"endpoint": "jwks", "kind": "error", "delay_ms": 5}),
            "delay_ms",
        ),
        (json!({"endpoint": "jwks"}), "missing field `kind`"),
    ] {
        let reply = admin(&format!("{url}/admin/faults"), &bad);
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.body.contains(reason), "{bad}: {}", reply.body);
    }
    let capped = admin(
        &format!("{url}/admin/faults"),
        &json!({"endpoint": "jwks", "kind": "slow", "delay_ms": 3_600_000}),
    );
    assert_eq!(capped.json()["delay_ms"], MAX_DELAY_MS);
    assert_eq!(delete(&format!("{url}/admin/faults")).status, 204);
    assert_eq!(get(&format!("{url}/admin/faults"), &[]).json(), json!([]));
    let as_text = post(
        &format!("{url}/admin/faults"),
        "text/plain",
        r#"{"endpoint": "jwks", "kind": "error"}"#,
        &[],
    );
    assert_eq!(as_text.status, 415);
    assert!(server.faults().is_empty());
}

/// A CORS preflight's status.
fn oatk_options(url: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let request = ureq::http::Request::builder()
        .method("OPTIONS")
        .uri(url)
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .body(())
        .unwrap();
    agent.run(request).unwrap().status().as_u16()
}
