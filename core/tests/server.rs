//! The fake server over real HTTP on loopback: every route, the whole
//! authorization-code flow with PKCE, and bad input on each endpoint.

use std::collections::HashMap;
use std::path::PathBuf;

use oatk::server::{self, Options, Server};
use oatk::{ErrorKind, Toolkit};
use serde_json::{json, Value};

mod support;

use support::{agent, encode, form, get, post, reply, s256, temp_dir, Reply};

/// A hidden field's value on a page (the forms' CSRF tokens).
fn hidden(page: &Reply, name: &str) -> String {
    page.hidden(name)
        .unwrap_or_else(|| panic!("no hidden {name} in {}", page.body))
}

/// `name=value` of the reply's Set-Cookie.
fn set_cookie(reply: &Reply) -> String {
    reply
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Post a form as a browser does: fetch the page at `page_url` for its CSRF
/// token and cookie, then post `pairs` with them to `url`.
fn form_from_page(page_url: &str, url: &str, pairs: &[(&str, &str)], cookie: &str) -> Reply {
    let page = get(page_url, &[("cookie", cookie)]);
    let csrf = hidden(&page, "csrf");
    let cookie = if cookie.is_empty() {
        set_cookie(&page)
    } else {
        cookie.to_string()
    };
    let mut pairs = pairs.to_vec();
    pairs.push(("csrf", &csrf));
    form(url, &pairs, &[("cookie", &cookie)])
}

const CONFIG: &str = r#"
[[users]]
username = "xtof"
claims = { name = "Christophe VG", groups = ["admin"] }

[[clients]]
client_id = "test"
client_secret = "test"
name = "Test App"
redirect_uris = ["http://localhost:5001"]
post_logout_redirect_uris = ["http://localhost:5001/bye"]
scope = "openid profile email"
permission_groups = ["Group1", "Group2"]
public = true
# The original script's plain PKCE: only for a client configured for it.
allow_plain_pkce = true

[[clients]]
client_id = "svc"
client_secret = "s3cret"
redirect_uris = ["http://127.0.0.1:9/cb"]
grant_types = ["authorization_code", "client_credentials"]
scope = "openid profile api"
"#;

fn start_with(config: &str, name: &str, memory: bool) -> (Server, PathBuf) {
    let dir = temp_dir(name);
    let path = dir.join("oatk.toml");
    std::fs::write(&path, config).unwrap();
    let options = Options {
        port: 0,
        config: Some(path),
        data_dir: dir.join("data"),
        memory,
        quiet: true,
        ..Options::default()
    };
    (server::start(None, &options).unwrap(), dir)
}

fn start(name: &str) -> Server {
    start_with(CONFIG, name, true).0
}

/// Log in as xtof and consent, as a browser would; returns the redirect's parameters and the session cookie.
fn authorize(server: &Server, extra: &[(&str, &str)]) -> (HashMap<String, String>, String) {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", "test"),
        ("redirect_uri", "http://localhost:5001"),
        ("scope", "openid profile email"),
        ("state", "st@te/1"),
        ("nonce", "n-0S6_WzA2Mj"),
    ];
    params.extend_from_slice(extra);
    let url = format!("{}/oauth/authorize?{}", server.url(), encode(&params));
    let login = get(&url, &[]);
    assert_eq!(login.status, 200);
    assert!(
        login.body.contains("name=\"username\""),
        "login page expected"
    );
    let login_cookie = set_cookie(&login);
    let login_csrf = hidden(&login, "csrf");
    let mut posted = params.clone();
    posted.push(("username", "xtof"));
    posted.push(("csrf", &login_csrf));
    let consent = form(
        &format!("{}/oauth/authorize", server.url()),
        &posted,
        &[("cookie", &login_cookie)],
    );
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(
        consent.body.contains("Test App"),
        "consent names the client"
    );
    let cookie = consent
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = consent
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let mut decision = params.clone();
    decision.push(("decision", "allow"));
    decision.push(("csrf", &csrf));
    let back = form(
        &format!("{}/oauth/authorize", server.url()),
        &decision,
        &[("cookie", &cookie)],
    );
    assert_eq!(back.status, 302, "{}", back.body);
    assert!(
        back.header("location")
            .starts_with("http://localhost:5001?")
            || back
                .header("location")
                .starts_with("http://localhost:5001/?")
    );
    (back.location_params(), cookie)
}

#[test]
fn discovery_and_jwks() {
    let server = start("discovery");
    let doc = get(
        &format!("{}/.well-known/openid-configuration", server.url()),
        &[],
    )
    .json();
    assert_eq!(doc["issuer"], server.url());
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/oauth/token", server.url())
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        json!(["S256", "plain"])
    );
    for path in [
        "/oauth/well-known",
        "/.well-known/oauth-authorization-server",
    ] {
        assert_eq!(get(&format!("{}{path}", server.url()), &[]).json(), doc);
    }
    let jwks = get(
        &doc["jwks_uri"]
            .as_str()
            .unwrap()
            .replace("localhost", "127.0.0.1"),
        &[],
    )
    .json();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert!(jwks["keys"][0].get("d").is_none());
    let issued = server
        .issue_token("alice", Default::default(), None, Some("openid"))
        .unwrap();
    let mut t = Toolkit::new();
    t.with_jwks(&jwks.to_string())
        .unwrap()
        .with_issuer(server.url())
        .with_client_id("test");
    let claims = t.validate(issued["access_token"].as_str()).unwrap();
    assert_eq!(claims["username"], "alice");
}

#[test]
fn issuer_is_exactly_as_configured() {
    let (server, _) = start_with(
        &format!("issuer = \"http://idp.example/realms/x/\"\n{CONFIG}"),
        "issuer",
        true,
    );
    let doc = get(
        &format!("{}/.well-known/openid-configuration", server.url()),
        &[],
    )
    .json();
    assert_eq!(doc["issuer"], "http://idp.example/realms/x/");
    assert_eq!(doc["jwks_uri"], "http://idp.example/realms/x/oauth/certs");
    let issued = server
        .issue_token("bob", Default::default(), Some("test"), Some("openid"))
        .unwrap();
    let claims = oatk::token::decode(issued["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["iss"], "http://idp.example/realms/x/");
}

#[test]
fn authorization_code_flow_with_pkce_refresh_revoke_logout() {
    let server = start("flow");
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = s256(verifier);
    assert_eq!(
        challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "RFC 7636 appendix B"
    );
    let (back, cookie) = authorize(
        &server,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    assert_eq!(back["state"], "st@te/1", "state returned untouched");
    let code = &back["code"];
    let token_url = format!("{}/oauth/token", server.url());
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://localhost:5001"),
        ("client_id", "test"),
        ("code_verifier", verifier),
    ];
    let tokens = form(&token_url, &exchange, &[]);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.header("cache-control"), "no-store");
    let tokens = tokens.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 300);
    let access = oatk::token::decode(tokens["access_token"].as_str().unwrap()).unwrap();
    for claim in [
        "iss",
        "sub",
        "aud",
        "azp",
        "exp",
        "iat",
        "auth_time",
        "jti",
        "scope",
        "typ",
        "username",
        "permission_groups",
        "allowed-origins",
    ] {
        assert!(access.contains_key(claim), "access token lacks {claim}");
    }
    assert_eq!(
        access["groups"],
        json!(["admin"]),
        "per-user claims from the config"
    );
    let id = oatk::token::decode(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["aud"], "test");
    assert_eq!(id["name"], "Christophe VG");
    assert_eq!(id["sub"], access["sub"]);
    assert!(id["at_hash"].is_string());

    // Userinfo with the bearer token.
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let info = get(
        &format!("{}/oauth/userinfo", server.url()),
        &[("authorization", &bearer)],
    );
    assert_eq!(info.status, 200);
    let info = info.json();
    assert_eq!(
        (info["sub"].clone(), info["preferred_username"].clone()),
        (access["sub"].clone(), json!("xtof"))
    );

    // Refresh rotates: the old refresh token stops working.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let renewed = form(
        &token_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "test"),
        ],
        &[],
    );
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    let renewed = renewed.json();
    assert_ne!(renewed["refresh_token"], tokens["refresh_token"]);

    // Introspection and revocation.
    let introspect = format!("{}/oauth/introspect", server.url());
    let active = form(
        &introspect,
        &[
            ("token", renewed["access_token"].as_str().unwrap()),
            ("client_id", "test"),
            ("client_secret", "test"),
        ],
        &[],
    )
    .json();
    assert_eq!(active["active"], true);
    assert_eq!(active["username"], "xtof");
    let revoke = format!("{}/oauth/revoke", server.url());
    let new_refresh = renewed["refresh_token"].as_str().unwrap();
    assert_eq!(
        form(
            &revoke,
            &[("token", new_refresh), ("client_id", "test")],
            &[]
        )
        .status,
        200
    );
    let after = form(
        &token_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", new_refresh),
            ("client_id", "test"),
        ],
        &[],
    );
    assert_eq!(after.json()["error"], "invalid_grant");
    let access2 = renewed["access_token"].as_str().unwrap();
    assert_eq!(
        form(&revoke, &[("token", access2), ("client_id", "test")], &[]).status,
        200
    );
    let info = get(
        &format!("{}/oauth/userinfo", server.url()),
        &[("authorization", &format!("Bearer {access2}"))],
    );
    assert_eq!(info.status, 401);
    assert!(info.header("www-authenticate").contains("invalid_token"));
    assert_eq!(
        form(
            &introspect,
            &[
                ("token", access2),
                ("client_id", "test"),
                ("client_secret", "test")
            ],
            &[]
        )
        .json(),
        json!({"active": false})
    );

    // The rotated-out refresh token no longer works (and its reuse would
    // revoke the whole chain: tests/server_attacks.rs, finding 12).
    let replay = form(
        &token_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "test"),
        ],
        &[],
    );
    assert_eq!(replay.json()["error"], "invalid_grant");

    // Still signed in: the next authorization skips the login page and, having consented, the consent page.
    let url = format!(
        "{}/oauth/authorize?{}",
        server.url(),
        encode(&[
            ("response_type", "code"),
            ("client_id", "test"),
            ("redirect_uri", "http://localhost:5001"),
            ("scope", "openid profile email"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256")
        ])
    );
    let direct = get(&url, &[("cookie", &cookie)]);
    assert_eq!(direct.status, 302);
    assert!(direct.location_params().contains_key("code"));

    // Logout ends the session and goes to the registered post-logout URI only.
    let out = get(
        &format!(
            "{}/oauth/logout?post_logout_redirect_uri=http://localhost:5001/bye&client_id=test",
            server.url()
        ),
        &[("cookie", &cookie)],
    );
    assert_eq!(
        (out.status, out.header("location")),
        (302, "http://localhost:5001/bye")
    );
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let evil = get(
        &format!(
            "{}/oauth/logout?post_logout_redirect_uri=https://evil.example/",
            server.url()
        ),
        &[],
    );
    assert_eq!(evil.header("location"), "/");
    let relogin = get(&url, &[("cookie", &cookie)]);
    assert_eq!(relogin.status, 200, "session gone: login page again");
}

/// RFC 6749 4.1.2: a code works once, and replaying it revokes every token it
/// led to, including those a refresh made since.
#[test]
fn a_replayed_code_revokes_what_it_gave() {
    let server = start("replay");
    let token_url = format!("{}/oauth/token", server.url());
    let verifier = "replay-verifier-replay-verifier-replay-verifier-01";
    let (back, _) = authorize(
        &server,
        &[
            ("code_challenge", &s256(verifier)),
            ("code_challenge_method", "S256"),
        ],
    );
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", back["code"].as_str()),
        ("redirect_uri", "http://localhost:5001"),
        ("client_id", "test"),
        ("code_verifier", verifier),
    ];
    let first = form(&token_url, &exchange, &[]).json();
    let refreshed = form(
        &token_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ("client_id", "test"),
        ],
        &[],
    )
    .json();
    let userinfo = |token: &Value| {
        get(
            &format!("{}/oauth/userinfo", server.url()),
            &[(
                "authorization",
                &format!("Bearer {}", token.as_str().unwrap()),
            )],
        )
        .status
    };
    assert_eq!(userinfo(&refreshed["access_token"]), 200);

    let again = form(&token_url, &exchange, &[]);
    assert_eq!(
        (again.status, again.json()["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo(&first["access_token"]), 401);
    assert_eq!(userinfo(&refreshed["access_token"]), 401);
    let refresh = form(
        &token_url,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                refreshed["refresh_token"].as_str().unwrap(),
            ),
            ("client_id", "test"),
        ],
        &[],
    );
    assert_eq!(refresh.json()["error"], "invalid_grant");
}

#[test]
fn pkce_is_enforced() {
    let server = start("pkce");
    let token_url = format!("{}/oauth/token", server.url());
    let challenge = s256("a-verifier-that-is-long-enough-to-be-valid-0123456789");
    let (back, _) = authorize(
        &server,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let wrong = form(
        &token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", &back["code"]),
            ("redirect_uri", "http://localhost:5001"),
            ("client_id", "test"),
            (
                "code_verifier",
                "another-verifier-that-is-long-enough-to-be-valid-0123",
            ),
        ],
        &[],
    );
    assert_eq!(
        (wrong.status, wrong.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
    let (back, _) = authorize(
        &server,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let missing = form(
        &token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", &back["code"]),
            ("redirect_uri", "http://localhost:5001"),
            ("client_id", "test"),
        ],
        &[],
    );
    assert_eq!(missing.json()["error"], "invalid_grant");
    // plain works when asked for; JSON bodies, as the original script sent, are accepted.
    let plain = "plain-verifier-plain-verifier-plain-verifier-0123";
    let (back, _) = authorize(
        &server,
        &[
            ("code_challenge", plain),
            ("code_challenge_method", "plain"),
        ],
    );
    let body =
        json!({"grant_type": "authorization_code", "code": back["code"], "code_verifier": plain,
               "redirect_uri": "http://localhost:5001"})
        .to_string();
    let ok = post(&token_url, "application/json", &body, &[]);
    assert_eq!(ok.status, 200, "{}", ok.body);
    // A public client must use PKCE at all.
    let url = format!(
        "{}/oauth/authorize?{}",
        server.url(),
        encode(&[
            ("response_type", "code"),
            ("client_id", "test"),
            ("state", "s")
        ])
    );
    let refused = get(&url, &[]);
    assert_eq!(refused.status, 302);
    assert_eq!(refused.location_params()["error"], "invalid_request");
    assert_eq!(refused.location_params()["state"], "s");
}

#[test]
fn untrusted_redirects_are_never_followed() {
    let server = start("redirects");
    for query in [
        encode(&[
            ("response_type", "code"),
            ("client_id", "test"),
            ("redirect_uri", "https://evil.example/cb"),
        ]),
        encode(&[
            ("response_type", "code"),
            ("client_id", "test"),
            ("redirect_uri", "http://localhost:5001.evil.example"),
        ]),
        encode(&[
            ("response_type", "code"),
            ("client_id", "nobody"),
            ("redirect_uri", "http://localhost:5001"),
        ]),
        encode(&[("response_type", "code")]),
    ] {
        let page = get(&format!("{}/oauth/authorize?{query}", server.url()), &[]);
        assert_eq!(page.status, 400, "{query}");
        assert!(page.header("location").is_empty());
        assert!(page.body.contains("<html"));
    }
    // After the redirect URI is trusted, errors go back to it (RFC 6749 4.1.2.1).
    let q = encode(&[
        ("response_type", "token"),
        ("client_id", "svc"),
        ("state", "xyz"),
    ]);
    let back = get(&format!("{}/oauth/authorize?{q}", server.url()), &[]);
    assert_eq!(back.status, 302);
    assert_eq!(back.location_params()["error"], "unsupported_response_type");
    let q = encode(&[
        ("response_type", "code"),
        ("client_id", "svc"),
        ("prompt", "none"),
        ("state", "xyz"),
    ]);
    let back = get(&format!("{}/oauth/authorize?{q}", server.url()), &[]);
    assert_eq!(
        (
            back.location_params()["error"].as_str(),
            back.location_params()["state"].as_str()
        ),
        ("login_required", "xyz")
    );
}

#[test]
fn client_credentials_and_client_authentication() {
    let server = start("clientcreds");
    let token_url = format!("{}/oauth/token", server.url());
    let basic = format!("Basic {}", base64_std("svc:s3cret"));
    let ok = form(
        &token_url,
        &[("grant_type", "client_credentials")],
        &[("authorization", &basic)],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    let ok = ok.json();
    assert!(ok.get("refresh_token").is_none() && ok.get("id_token").is_none());
    let claims = oatk::token::decode(ok["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(
        (claims["sub"].as_str(), claims["scope"].as_str()),
        (Some("svc"), Some("profile api"))
    );
    let post_auth = form(
        &token_url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_secret", "s3cret"),
            ("scope", "api"),
        ],
        &[],
    );
    assert_eq!(post_auth.status, 200);
    let wrong = form(
        &token_url,
        &[("grant_type", "client_credentials")],
        &[(
            "authorization",
            &format!("Basic {}", base64_std("svc:nope")),
        )],
    );
    assert_eq!(
        (wrong.status, wrong.json()["error"].clone()),
        (401, json!("invalid_client"))
    );
    assert!(wrong.header("www-authenticate").starts_with("Basic"));
    let public = form(
        &token_url,
        &[("grant_type", "client_credentials"), ("client_id", "test")],
        &[],
    );
    assert_eq!(public.json()["error"], "invalid_client");
    let scope = form(
        &token_url,
        &[("grant_type", "client_credentials"), ("scope", "admin")],
        &[("authorization", &basic)],
    );
    assert_eq!(scope.json()["error"], "invalid_scope");
    let unsupported = form(
        &token_url,
        &[("grant_type", "password"), ("username", "x")],
        &[("authorization", &basic)],
    );
    assert_eq!(unsupported.json()["error"], "unsupported_grant_type");
}

fn base64_std(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn bad_input_gets_4xx_and_rfc_json() {
    let server = start("badinput");
    let url = server.url();
    let token_url = format!("{url}/oauth/token");
    let cases: Vec<(Reply, u16, &str)> = vec![
        (form(&token_url, &[], &[]), 400, "invalid_request"),
        (
            form(
                &token_url,
                &[
                    ("grant_type", "authorization_code"),
                    ("grant_type", "authorization_code"),
                ],
                &[],
            ),
            400,
            "invalid_request",
        ),
        (
            form(
                &token_url,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", "nope"),
                    ("client_id", "test"),
                ],
                &[],
            ),
            400,
            "invalid_grant",
        ),
        (
            post(
                &token_url,
                "text/plain",
                "grant_type=client_credentials",
                &[],
            ),
            400,
            "invalid_request",
        ),
        (
            post(&token_url, "application/json", "{not json", &[]),
            400,
            "invalid_request",
        ),
        (
            post(&token_url, "application/json", "[1,2]", &[]),
            400,
            "invalid_request",
        ),
        (
            post(
                &token_url,
                "application/json",
                r#"{"grant_type": {"a": 1}}"#,
                &[],
            ),
            400,
            "invalid_request",
        ),
        (
            post(
                &token_url,
                "application/x-www-form-urlencoded",
                &"a".repeat(200_000),
                &[],
            ),
            413,
            "invalid_request",
        ),
        (get(&token_url, &[]), 405, "invalid_request"),
        (get(&format!("{url}/nope"), &[]), 404, "not_found"),
        (
            get(
                &format!("{url}/oauth/userinfo"),
                &[("authorization", "Bearer garbage")],
            ),
            401,
            "invalid_token",
        ),
        (
            get(
                &format!("{url}/oauth/userinfo"),
                &[("authorization", "Bearer a.b.c")],
            ),
            401,
            "invalid_token",
        ),
        (
            form(&format!("{url}/oauth/introspect"), &[("token", "x")], &[]),
            401,
            "invalid_client",
        ),
        (
            form(
                &format!("{url}/oauth/revoke"),
                &[("client_id", "test")],
                &[],
            ),
            400,
            "invalid_request",
        ),
        (
            post(
                &format!("{url}/oauth/register"),
                "application/json",
                r#"{"redirect_uris": ["nope#frag"]}"#,
                &[],
            ),
            400,
            "invalid_redirect_uri",
        ),
        (
            post(
                &format!("{url}/oauth/register"),
                "application/json",
                r#"{"redirect_uris": "x"}"#,
                &[],
            ),
            400,
            "invalid_client_metadata",
        ),
        (
            post(
                &format!("{url}/admin/users"),
                "application/json",
                r#"{"username": 3}"#,
                &[],
            ),
            400,
            "invalid_request",
        ),
        (
            post(
                &format!("{url}/admin/clients"),
                "application/json",
                r#"{"client_id": ""}"#,
                &[],
            ),
            400,
            "invalid_client_metadata",
        ),
    ];
    for (i, (reply, status, error)) in cases.into_iter().enumerate() {
        assert_eq!(reply.status, status, "case {i}: {}", reply.body);
        assert_eq!(reply.json()["error"], error, "case {i}");
    }
    let introspected = form(
        &format!("{url}/oauth/introspect"),
        &[
            ("token", "garbage"),
            ("client_id", "test"),
            ("client_secret", "test"),
        ],
        &[],
    );
    assert_eq!(introspected.json(), json!({"active": false}));
    let repeated = get(
        &format!("{url}/oauth/authorize?client_id=test&client_id=test"),
        &[],
    );
    assert_eq!(repeated.status, 400);
}

#[test]
fn registration_admin_and_cors() {
    let server = start("registration");
    let url = server.url();
    let reg = post(
        &format!("{url}/oauth/register"),
        "application/json",
        r#"{"redirect_uris": ["http://127.0.0.1:8080/cb"], "client_name": "dyn", "token_endpoint_auth_method": "client_secret_post"}"#,
        &[],
    );
    assert_eq!(reg.status, 201, "{}", reg.body);
    let reg = reg.json();
    assert!(reg["client_secret"].is_string());
    let public = post(
        &format!("{url}/oauth/register"),
        "application/json",
        r#"{"redirect_uris": ["http://127.0.0.1:8080/cb"], "token_endpoint_auth_method": "none"}"#,
        &[],
    )
    .json();
    assert!(public.get("client_secret").is_none());

    // Change a user's claims at run time: the next token carries them.
    let put = post(
        &format!("{url}/admin/users"),
        "application/json",
        r#"{"username": "carol", "claims": {"role": "auditor"}}"#,
        &[],
    );
    assert_eq!(put.status, 200);
    let issued = server
        .issue_token("carol", Default::default(), Some("test"), None)
        .unwrap();
    assert_eq!(
        oatk::token::decode(issued["access_token"].as_str().unwrap()).unwrap()["role"],
        "auditor"
    );
    let users = get(&format!("{url}/admin/users"), &[]).json();
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["username"] == "carol"));
    assert_eq!(
        agent()
            .delete(&format!("{url}/admin/users/carol"))
            .call()
            .unwrap()
            .status(),
        204
    );

    let preflight = reply(
        agent()
            .options(&format!("{url}/oauth/token"))
            .header("origin", "http://localhost:5001")
            .header("access-control-request-method", "POST")
            .call(),
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        "http://localhost:5001"
    );
    assert!(preflight
        .header("access-control-allow-headers")
        .contains("Authorization"));
    let certs = get(
        &format!("{url}/oauth/certs"),
        &[("origin", "http://a.example")],
    );
    assert_eq!(
        certs.header("access-control-allow-origin"),
        "http://a.example"
    );
}

#[test]
fn pages_and_static_files() {
    let server = start("pages");
    let url = server.url();
    let js = get(&format!("{url}/static/oatk.js"), &[]);
    assert_eq!(js.status, 200);
    assert_eq!(js.body, oatk::server::OATK_JS);
    assert!(js
        .header("content-type")
        .starts_with("application/javascript"));
    assert_eq!(get(&format!("{url}/static/style.css"), &[]).status, 200);
    let home = get(&format!("{url}/"), &[]);
    assert!(home.body.contains("Sign in"));
    let home_url = format!("{url}/");
    let signed = form_from_page(
        &home_url,
        &home_url,
        &[("username", "dave"), ("claims", r#"{"team": "blue"}"#)],
        "",
    );
    assert_eq!(signed.status, 302, "{}", signed.body);
    let cookie = set_cookie(&signed);
    let bad_claims = form_from_page(
        &home_url,
        &home_url,
        &[("username", "dave"), ("claims", "[1]")],
        "",
    );
    assert!(bad_claims.body.contains("JSON object"));
    let escaped = form_from_page(
        &home_url,
        &home_url,
        &[("username", "<script>alert(1)</script>")],
        "",
    );
    let cookie2 = escaped
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = get(&format!("{url}/"), &[("cookie", &cookie2)]);
    assert!(
        !page.body.contains("<script>alert"),
        "usernames are escaped"
    );
    let created = form_from_page(
        &format!("{url}/oauth/create-client"),
        &format!("{url}/oauth/create-client"),
        &[
            ("client_id", "mine"),
            ("client_secret", "x"),
            ("redirect_uris", "http://localhost:7000/cb"),
            ("scope", "openid"),
            ("grant_types", "authorization_code"),
            ("public", "true"),
        ],
        &cookie,
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let home = get(&format!("{url}/"), &[("cookie", &cookie)]);
    assert!(home.body.contains("mine") && home.body.contains("dave"));
    assert!(
        get(&format!("{url}/oauth/create-client"), &[]).status == 302,
        "needs a login"
    );
}

#[test]
fn state_survives_a_restart() {
    let (server, dir) = start_with(CONFIG, "restart", false);
    let jwks = server.jwks().to_string();
    post(
        &format!("{}/admin/users", server.url()),
        "application/json",
        r#"{"username": "erin", "claims": {"k": 1}}"#,
        &[],
    );
    let issued = server
        .issue_token("erin", Default::default(), Some("test"), None)
        .unwrap();
    server.stop();
    let options = Options {
        port: 0,
        config: Some(dir.join("oatk.toml")),
        data_dir: dir.join("data"),
        quiet: true,
        ..Options::default()
    };
    let again = server::start(None, &options).unwrap();
    assert_eq!(
        again.jwks(),
        jwks,
        "the generated key is kept in the data directory"
    );
    let users = get(&format!("{}/admin/users", again.url()), &[]).json();
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["username"] == "erin" && u["claims"]["k"] == 1));
    let refreshed = form(
        &format!("{}/oauth/token", again.url()),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", issued["refresh_token"].as_str().unwrap()),
            ("client_id", "test"),
        ],
        &[],
    );
    assert_eq!(
        refreshed.status, 200,
        "refresh tokens survive: {}",
        refreshed.body
    );
    again.stop();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_config_and_busy_port_are_clear_errors() {
    let dir = temp_dir("badconfig");
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[[clients]]\nclient_id = \"a\"\nredirect_uri = \"typo\"\n",
    )
    .unwrap();
    let options = Options {
        port: 0,
        config: Some(path.clone()),
        memory: true,
        quiet: true,
        ..Options::default()
    };
    let err = server::start(None, &options).err().unwrap();
    assert!(
        err.message().contains("bad.toml") && err.message().contains("line 3"),
        "{err}"
    );
    let first = start("busy");
    let port: u16 = first.url().rsplit(':').next().unwrap().parse().unwrap();
    let busy = Options {
        port,
        memory: true,
        quiet: true,
        ..Options::default()
    };
    let err = server::start(None, &busy).err().unwrap();
    assert!(err.message().contains("in use"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn provider_discovery_and_rate_limited_refresh() {
    let server = start("provider");
    let mut t = Toolkit::new();
    t.using_provider(server.url())
        .unwrap()
        .with_client_id("test");
    let issued = server
        .issue_token("frank", Default::default(), Some("test"), None)
        .unwrap();
    assert_eq!(
        t.validate(issued["access_token"].as_str()).unwrap()["username"],
        "frank"
    );
    // An unknown kid triggers at most one refetch within the interval, then fails.
    let other = oatk::PrivateKey::generate(oatk::Algorithm::RS256, None).unwrap();
    let forged = oatk::token::mint(
        &other,
        oatk::Algorithm::RS256,
        Some("rotated"),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(
        t.validate(Some(&forged)).unwrap_err().kind(),
        oatk::ErrorKind::UnknownKey
    );
    // The refetch itself: refused within the interval, done once it is over.
    let provider = oatk::provider::Provider::discover(server.url()).unwrap();
    assert!(
        !provider.refresh().unwrap(),
        "rate limited right after discovery"
    );
    let eager = provider.with_min_refresh(std::time::Duration::ZERO);
    assert!(eager.refresh().unwrap());
    assert_eq!(eager.keys().len(), 1);
    let down = Toolkit::new()
        .using_provider("http://127.0.0.1:9")
        .map(|_| ())
        .unwrap_err();
    assert_eq!(down.kind(), oatk::ErrorKind::Network);
}

/// A token signed with the provider's key for another issuer (two servers
/// sharing one key, as tenants share a provider's JWKS) is refused.
#[test]
fn provider_issuer_is_enforced() {
    let mut keys = Toolkit::new();
    keys.with_private_key(oatk::PrivateKey::generate(oatk::Algorithm::ES256, None).unwrap());
    // Each issuer defaults to its own address: same key, two issuers.
    let options = Options {
        port: 0,
        memory: true,
        quiet: true,
        ..Options::default()
    };
    let a = server::start(Some(&keys), &options).unwrap();
    let b = server::start(Some(&keys), &options).unwrap();
    let mut t = Toolkit::new();
    t.using_provider(&format!("{}/.well-known/openid-configuration", a.url()))
        .unwrap()
        .accept_any_audience();
    let from_a = a.issue_token("x", Default::default(), None, None).unwrap();
    let from_b = b.issue_token("x", Default::default(), None, None).unwrap();
    assert!(t.validate(from_a["access_token"].as_str()).is_ok());
    assert_eq!(
        t.validate(from_b["access_token"].as_str())
            .unwrap_err()
            .kind(),
        oatk::ErrorKind::InvalidIssuer
    );
    // An explicit issuer wins over the discovered one.
    let mut explicit = Toolkit::new();
    explicit.with_issuer(b.issuer()).with_client_id("test");
    explicit
        .using_provider(&format!("{}/.well-known/openid-configuration", a.url()))
        .unwrap();
    assert!(explicit.validate(from_b["access_token"].as_str()).is_ok());
    // A second provider replaces the first one's issuer, not an explicit one.
    t.using_provider(b.url()).unwrap();
    assert!(t.validate(from_b["access_token"].as_str()).is_ok());
    explicit.using_provider(a.url()).unwrap();
    assert!(explicit.validate(from_b["access_token"].as_str()).is_ok());
}

#[test]
fn embedded_server_is_one_shared_handle() {
    let server = server::start(None, &Options::embedded()).unwrap();
    assert!(server.url().starts_with("http://localhost:"));
    assert_ne!(server.url(), "http://localhost:5000");
    assert_eq!(
        server.discovery_url(),
        format!("{}/.well-known/openid-configuration", server.url())
    );
    assert!(
        server.banner().contains("storage:   memory"),
        "{}",
        server.banner()
    );
    assert_eq!(get(&server.discovery_url(), &[]).status, 200);

    // The bindings' upserts run the admin API's checks.
    let err = server.upsert_user_json(r#"{"username": " "}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(err.message(), "username is required");
    let err = server
        .upsert_client_json(r#"{"client_id": "spa", "redirect_uris": ["no-scheme"]}"#)
        .unwrap_err();
    assert!(err.message().contains("must be absolute"), "{err}");
    let err = server
        .upsert_client_json(r#"{"client_id": "x", "secret": 1}"#)
        .unwrap_err();
    assert!(
        err.message()
            .starts_with("invalid client: unknown field `secret`"),
        "{err}"
    );
    let client = server
        .upsert_client_json(
            r#"{"client_id": "svc", "client_secret": "s", "grant_types": ["client_credentials"]}"#,
        )
        .unwrap();
    assert_eq!(client.client_id, "svc");
    let user = server
        .upsert_user_json(r#"{"username": "xtof", "claims": {"groups": ["admin"]}}"#)
        .unwrap();
    assert_eq!(user.claims["groups"][0], "admin");
    let issued = server
        .issue_token("xtof", Default::default(), Some("svc"), None)
        .unwrap();
    assert!(issued["access_token"].is_string());

    // stop is safe twice; after it, one "stopped" error.
    server.stop();
    server.stop();
    assert!(!server.is_running());
    let err = server
        .issue_token("xtof", Default::default(), None, None)
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Server, "the fake server is stopped")
    );
    assert_eq!(
        server
            .upsert_user_json(r#"{"username": "a"}"#)
            .unwrap_err()
            .message(),
        "the fake server is stopped"
    );
}

#[test]
fn persisted_server_writes_its_data_dir() {
    let dir = temp_dir("persist");
    let server = server::start(None, &Options::embedded().persist_in(dir.join("data"))).unwrap();
    assert!(dir.join("data/oatk.sqlite3").exists());
    assert!(server
        .banner()
        .contains(&dir.join("data").display().to_string()));
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}
