//! Issuers by path: `/{tenant}/...` serves a tenant with its own issuer and
//! keys, created on first use or declared in the config, while the root
//! keeps working as before. A token of one tenant never validates against
//! another's keys.

mod support;

use oatk::provider::Provider;
use oatk::server::{self, Options, TokenRequest, MAX_TENANTS};
use oatk::{ErrorKind, JwkSet, Toolkit, Validator};
use serde_json::json;
use support::*;

const CONFIG: &str = r#"
[[clients]]
client_id = "spa"
redirect_uris = ["http://localhost:5001/cb"]
scope = "openid profile"
public = true

[[clients]]
client_id = "svc"
client_secret = "s3cret-svc"
redirect_uris = ["https://svc.example/cb"]
grant_types = ["client_credentials"]
scope = "api"

[[tenants]]
name = "b2c"
issuer = "https://login.example/b2c/v2.0"
"#;

fn tenant_token(server: &server::Server, tenant: &str, username: &str) -> String {
    server
        .issue(&TokenRequest {
            username: Some(username.into()),
            tenant: Some(tenant.into()),
            ..TokenRequest::default()
        })
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A validator for one issuer, as an app would build it.
fn validator_for(url: &str) -> Toolkit {
    let mut t = Toolkit::new();
    t.using_provider(url).unwrap().with_client_id("test");
    t
}

#[test]
fn each_tenant_has_its_own_issuer_and_keys_and_the_root_is_unchanged() {
    let server = start_with(CONFIG, "tenants-keys");
    let url = server.url();
    let acme = get(&format!("{url}/acme/.well-known/openid-configuration"), &[]);
    assert_eq!(acme.status, 200, "{}", acme.body);
    let doc = acme.json();
    assert_eq!(doc["issuer"], format!("{url}/acme"));
    assert_eq!(doc["jwks_uri"], format!("{url}/acme/oauth/certs"));
    assert_eq!(doc["token_endpoint"], format!("{url}/acme/oauth/token"));
    assert_eq!(
        get(&format!("{url}/acme/oauth/well-known"), &[]).json(),
        doc,
        "the original's discovery path too"
    );
    let root = get(&format!("{url}/.well-known/openid-configuration"), &[]).json();
    assert_eq!(root["issuer"], url, "the root is as before");
    assert_eq!(root["jwks_uri"], format!("{url}/oauth/certs"));

    let root_kids = kids(&format!("{url}/oauth/certs"));
    let acme_kids = kids(&format!("{url}/acme/oauth/certs"));
    let beta_kids = kids(&format!("{url}/beta/oauth/certs"));
    assert_eq!(
        (root_kids.len(), acme_kids.len(), beta_kids.len()),
        (1, 1, 1)
    );
    assert!(root_kids[0] != acme_kids[0] && acme_kids[0] != beta_kids[0]);

    // Each validator accepts its issuer's tokens only.
    let from_root = access_token(&server, "xtof");
    let from_acme = tenant_token(&server, "acme", "xtof");
    let from_beta = tenant_token(&server, "beta", "xtof");
    assert_eq!(claims(&from_acme)["iss"], format!("{url}/acme"));
    assert_eq!(kid(&from_acme), acme_kids[0]);
    let for_acme = validator_for(&format!("{url}/acme"));
    let for_root = validator_for(url);
    assert_eq!(
        for_acme.validate(Some(&from_acme)).unwrap()["username"],
        "xtof"
    );
    assert!(for_root.validate(Some(&from_root)).is_ok());
    for (validator, foreign) in [
        (&for_acme, &from_root),
        (&for_acme, &from_beta),
        (&for_root, &from_acme),
    ] {
        assert_eq!(
            validator.validate(Some(foreign)).unwrap_err().kind(),
            ErrorKind::UnknownKey
        );
    }
    // Signature alone, with no issuer check: another tenant's JWKS never verifies it.
    let beta_set = JwkSet::from_json(&get(&format!("{url}/beta/oauth/certs"), &[]).body).unwrap();
    assert!(Validator::new().validate(&from_acme, &beta_set).is_err());

    // The tenant's userinfo takes its own tokens, not the root's, and back.
    assert_eq!(userinfo(&format!("{url}/acme"), &from_acme).status, 200);
    assert_eq!(userinfo(&format!("{url}/acme"), &from_root).status, 401);
    assert_eq!(userinfo(url, &from_acme).status, 401);

    // A declared tenant, with the issuer the config gives it.
    let b2c = server.issuer_info(Some("b2c")).unwrap();
    assert_eq!(b2c.issuer, "https://login.example/b2c/v2.0");
    assert_eq!(b2c.url, format!("{url}/b2c"));
    let doc = get(&b2c.discovery_url, &[]).json();
    assert_eq!(
        (doc["issuer"].as_str(), doc["userinfo_endpoint"].as_str()),
        (
            Some("https://login.example/b2c/v2.0"),
            Some(format!("{url}/b2c/oauth/userinfo").as_str())
        )
    );
    // The admin API lists the root first, then the tenants.
    let listed = get(&format!("{url}/admin/tenants"), &[]).json();
    let names: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant"].clone())
        .collect();
    assert_eq!(
        names,
        [json!(null), json!("acme"), json!("b2c"), json!("beta")]
    );
}

/// The whole code flow with PKCE at a tenant: its forms post back to its
/// own endpoint, its tokens carry its issuer, and what it issued is redeemed
/// nowhere else.
#[test]
fn code_flow_at_a_tenant_and_codes_stay_with_their_issuer() {
    let server = start_with(CONFIG, "tenants-flow");
    let url = server.url();
    let acme = format!("{url}/acme");
    let tokens = code_flow(&acme, "spa", "http://localhost:5001/cb", "xtof");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        (id["iss"].as_str(), id["nonce"].as_str()),
        (Some(acme.as_str()), Some("n1"))
    );
    let mut t = Toolkit::new();
    t.using_provider(&acme).unwrap().with_client_id("spa");
    assert!(t.validate(tokens["id_token"].as_str()).is_ok());

    // Its refresh token is refused at the root's token endpoint, then works at its own.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let pairs = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", "spa"),
    ];
    let at_root = form(&format!("{url}/oauth/token"), &pairs, &[]);
    assert_eq!(at_root.status, 400);
    assert!(
        at_root.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("another issuer"),
        "{}",
        at_root.body
    );
    let at_acme = form(&format!("{acme}/oauth/token"), &pairs, &[]);
    assert_eq!(at_acme.status, 200, "{}", at_acme.body);

    // A code from the root's endpoint is refused at the tenant's.
    let verifier = "w".repeat(50);
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
    let redeem = form(
        &format!("{acme}/oauth/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "spa"),
            ("redirect_uri", "http://localhost:5001/cb"),
            ("code_verifier", &verifier),
        ],
        &[],
    );
    assert_eq!(redeem.status, 400);
    assert_eq!(redeem.json()["error"], "invalid_grant");

    // client_credentials at a tenant: the tenant's issuer.
    let cc = form(
        &format!("{acme}/oauth/token"),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_secret", "s3cret-svc"),
        ],
        &[],
    );
    assert_eq!(cc.status, 200, "{}", cc.body);
    let access = claims(cc.json()["access_token"].as_str().unwrap());
    assert_eq!(
        (access["iss"].as_str(), access["sub"].as_str()),
        (Some(acme.as_str()), Some("svc"))
    );
}

/// Anonymous requests can name tenants, so names are one safe path segment
/// and their number is capped; tenant routes keep the server's protections.
#[test]
fn tenant_names_and_count_are_bounded_and_routes_keep_their_guards() {
    let server = start_ec("", "tenants-bounds");
    let url = server.url();
    for bad in [
        "/admin/oauth/certs",
        "/static/oauth/certs",
        "/debugger/oauth/certs",
        "/.x/oauth/certs",
        "/a%2Fb/oauth/certs",
        "/a%20b/oauth/certs",
        &format!("/{}/oauth/certs", "a".repeat(65)),
    ] {
        let reply = get(&format!("{url}{bad}"), &[("origin", "https://app.example")]);
        assert_eq!(reply.status, 404, "{bad}: {}", reply.body);
        assert_eq!(reply.header("access-control-allow-origin"), "", "{bad}");
    }
    for i in 0..MAX_TENANTS {
        assert_eq!(
            get(&format!("{url}/t{i}/oauth/certs"), &[]).status,
            200,
            "tenant {i}"
        );
    }
    let full = get(&format!("{url}/one-more/oauth/certs"), &[]);
    assert_eq!(full.status, 404);
    assert!(
        full.body
            .contains(&format!("at most {MAX_TENANTS} tenants")),
        "{}",
        full.body
    );
    assert_eq!(
        get(&format!("{url}/t0/oauth/certs"), &[]).status,
        200,
        "existing tenants still answer"
    );
    assert_eq!(server.issuers().len(), MAX_TENANTS + 1);

    // CORS as at the root, on the same endpoints only.
    let cors = get(
        &format!("{url}/t1/oauth/certs"),
        &[("origin", "https://app.example")],
    );
    assert_eq!(
        cors.header("access-control-allow-origin"),
        "https://app.example"
    );
    let no_cors = post(
        &format!("{url}/t1/oauth/introspect"),
        "application/x-www-form-urlencoded",
        "token=x",
        &[("origin", "https://app.example")],
    );
    assert_eq!(no_cors.header("access-control-allow-origin"), "");
    // The Host check covers tenant routes.
    let addr = server.listen_addr();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    stream
        .write_all(
            b"GET /t1/oauth/certs HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 421"), "{answer}");
    // The admin API refuses bad tenants as the routes do.
    let bad = admin(&format!("{url}/admin/tenants"), &json!({"name": "a/b"}));
    assert_eq!(bad.status, 400, "{}", bad.body);
}

/// A persisted server keeps each tenant's key in its data directory, 0600,
/// so tenant tokens survive a restart as root tokens do.
#[test]
fn tenant_keys_persist_with_the_data_dir() {
    let dir = temp_dir("tenants-persist");
    let options = Options::embedded().persist_in(dir.join("data"));
    let server = server::start(None, &options).unwrap();
    let token = tenant_token(&server, "acme", "xtof");
    let file = dir.join("data/tenants/acme.pem");
    assert!(file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    drop(server);
    let again = server::start(None, &options).unwrap();
    let provider = Provider::discover(&format!("{}/acme", again.url())).unwrap();
    // The port, so the issuer, changed with the restart; the key did not.
    let mut t = Toolkit::new();
    t.with_provider(provider)
        .with_client_id("test")
        .with_issuer(claims(&token)["iss"].as_str().unwrap());
    assert!(
        t.validate(Some(&token)).is_ok(),
        "the same key after a restart"
    );
    drop(again);
    std::fs::remove_dir_all(dir).unwrap();
}
