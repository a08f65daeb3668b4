//! The attack suite for the fake server: one test per finding of the
//! security audit (issue 10, findings 7 to 14), each an attack over real HTTP
//! on loopback that succeeded before its fix.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use oatk::server::{self, Options, Server};
use serde_json::{json, Value};

mod support;
use support::{admin as json_post, agent, encode, form, get, post, reply, s256, temp_dir, Reply};

/// One request written by hand, for what a client library will not send
/// (another Host); the reply's status and body.
fn raw(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

fn get_with_host(addr: SocketAddr, path: &str, host: &str) -> (u16, String) {
    raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )
}

fn addr_of(server: &Server) -> SocketAddr {
    let port: u16 = server.url().rsplit(':').next().unwrap().parse().unwrap();
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn start_with(config: &str, name: &str, change: impl FnOnce(&mut Options)) -> Server {
    let dir = temp_dir(name);
    let path = dir.join("oatk.toml");
    std::fs::write(&path, config).unwrap();
    let mut options = Options::embedded();
    options.config = Some(path);
    change(&mut options);
    server::start(None, &options).unwrap()
}

fn base64_std(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

const CONFIG: &str = r#"
[[users]]
username = "victim"
claims = { role = "user" }

[[clients]]
client_id = "spa"
redirect_uris = ["http://localhost:5001/cb"]
post_logout_redirect_uris = ["http://localhost:5001/bye"]
scope = "openid profile"
public = true

[[clients]]
client_id = "svc"
client_secret = "s3cret-svc"
redirect_uris = ["https://svc.example/cb"]
grant_types = ["authorization_code", "client_credentials"]
scope = "openid profile api"

[[clients]]
client_id = "other"
client_secret = "s3cret-other"
redirect_uris = ["https://other.example/cb"]
grant_types = ["authorization_code", "client_credentials"]
scope = "openid profile api"
"#;

/// A browser signing in on the home page: GET the form (and its cookie), then post it.
fn sign_in(url: &str, username: &str) -> String {
    let page = get(&format!("{url}/"), &[]);
    let mut pairs = vec![("username", username)];
    let csrf = page.hidden("csrf");
    if let Some(csrf) = &csrf {
        pairs.push(("csrf", csrf));
    }
    let pre = page.cookie("oatk_login").unwrap_or_default();
    let signed = form(&format!("{url}/"), &pairs, &[("cookie", &pre)]);
    assert_eq!(signed.status, 302, "{}", signed.body);
    signed.cookie("oatk_session").expect("a session cookie")
}

/// The create-client form posted by a signed-in user, CSRF token included.
fn create_client(url: &str, session: &str, pairs: &[(&str, &str)]) -> Reply {
    let page = get(
        &format!("{url}/oauth/create-client"),
        &[("cookie", session)],
    );
    assert_eq!(page.status, 200);
    let mut pairs = pairs.to_vec();
    let csrf = page.hidden("csrf");
    if let Some(csrf) = &csrf {
        pairs.push(("csrf", csrf));
    }
    form(
        &format!("{url}/oauth/create-client"),
        &pairs,
        &[("cookie", session)],
    )
}

fn admin_clients(url: &str) -> Vec<Value> {
    get(&format!("{url}/admin/clients"), &[])
        .json()
        .as_array()
        .unwrap()
        .clone()
}

/// Authorize as `username` for `client_id` (login, consent), returning the redirect.
fn authorize(url: &str, username: &str, params: &[(&str, &str)]) -> Reply {
    let query = encode(params);
    let login = get(&format!("{url}/oauth/authorize?{query}"), &[]);
    assert_eq!(login.status, 200, "{}", login.body);
    let pre = login.cookie("oatk_login").unwrap_or_default();
    let mut posted = params.to_vec();
    posted.push(("username", username));
    let csrf = login.hidden("csrf");
    if let Some(csrf) = &csrf {
        posted.push(("csrf", csrf));
    }
    let consent = form(
        &format!("{url}/oauth/authorize"),
        &posted,
        &[("cookie", &pre)],
    );
    assert_eq!(consent.status, 200, "{}", consent.body);
    let session = consent.cookie("oatk_session").unwrap();
    let mut decision = params.to_vec();
    let csrf = consent.hidden("csrf").unwrap();
    decision.push(("csrf", &csrf));
    decision.push(("decision", "allow"));
    form(
        &format!("{url}/oauth/authorize"),
        &decision,
        &[("cookie", &session)],
    )
}

/// A local address other than loopback, to be a network peer of a server
/// bound on all interfaces. None on a machine without one.
fn network_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("10.255.255.255:1").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

// ---- The findings -----------------------------------------------------------

/// Finding 7: the admin API is not CORS-enabled, takes only JSON, and no
/// route answers a Host that is neither loopback nor the issuer's (DNS rebinding).
#[test]
fn finding_7_admin_api_is_same_origin_json_only_and_host_is_checked() {
    let server = server::start(None, &Options::embedded()).unwrap();
    let url = server.url();

    // A cross-site text/plain POST (no preflight) must not create a client.
    let sneaky = post(
        &format!("{url}/admin/clients"),
        "text/plain",
        r#"{"client_id": "evil", "client_secret": "x", "grant_types": ["client_credentials"]}"#,
        &[("origin", "https://evil.example")],
    );
    assert_eq!(sneaky.status, 415, "{}", sneaky.body);
    assert_eq!(sneaky.json()["error"], "invalid_request");
    assert!(sneaky.header("access-control-allow-origin").is_empty());
    let untyped = post(
        &format!("{url}/admin/users"),
        "",
        r#"{"username": "evil"}"#,
        &[],
    );
    assert_eq!(untyped.status, 415, "{}", untyped.body);
    assert!(!admin_clients(url).iter().any(|c| c["client_id"] == "evil"));

    // Reading the clients (secrets included) cross-origin: no CORS grant.
    let read = get(
        &format!("{url}/admin/clients"),
        &[("origin", "https://evil.example")],
    );
    assert_eq!(read.status, 200);
    assert!(read.header("access-control-allow-origin").is_empty());
    let preflight = reply(
        agent()
            .options(&format!("{url}/admin/clients"))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .call(),
    );
    assert!(preflight.header("access-control-allow-origin").is_empty());
    assert_ne!(preflight.status, 204);

    // JSON still works; the OAuth endpoints browsers call keep their CORS.
    let ok = json_post(
        &format!("{url}/admin/clients"),
        &json!({"client_id": "good", "client_secret": "x", "grant_types": ["client_credentials"]}),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    let ok = post(
        &format!("{url}/admin/users"),
        "application/json; charset=utf-8",
        r#"{"username": "u"}"#,
        &[],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    for path in [
        "/oauth/token",
        "/oauth/userinfo",
        "/oauth/certs",
        "/.well-known/openid-configuration",
    ] {
        let preflight = reply(
            agent()
                .options(&format!("{url}{path}"))
                .header("origin", "http://localhost:5001")
                .header("access-control-request-method", "POST")
                .call(),
        );
        assert_eq!(preflight.status, 204, "{path}");
        assert_eq!(
            preflight.header("access-control-allow-origin"),
            "http://localhost:5001",
            "{path}"
        );
    }
    let certs = get(
        &format!("{url}/oauth/certs"),
        &[("origin", "http://a.example")],
    );
    assert_eq!(
        certs.header("access-control-allow-origin"),
        "http://a.example"
    );

    // DNS rebinding: evil.example resolving to 127.0.0.1 is still evil.example.
    let addr = addr_of(&server);
    for path in ["/admin/clients", "/.well-known/openid-configuration", "/"] {
        let (status, body) = get_with_host(addr, path, "evil.example");
        assert_eq!(status, 421, "{path}: {body}");
        assert!(body.contains("Host"), "{body}");
    }
    assert_eq!(
        get_with_host(addr, "/admin/clients", "evil.example:80").0,
        421
    );
    assert_eq!(
        raw(
            addr,
            "GET /oauth/certs HTTP/1.1\r\nHost: localhost.evil.example\r\nConnection: close\r\n\r\n"
        )
        .0,
        421
    );
    for host in [
        "localhost",
        "localhost:1234",
        "127.0.0.1:9",
        "[::1]:80",
        "LOCALHOST",
    ] {
        assert_eq!(get_with_host(addr, "/oauth/certs", host).0, 200, "{host}");
    }

    // The configured issuer's host is served too.
    let mut options = Options::embedded();
    options.issuer = Some("https://idp.example:8443/realms/x".into());
    let behind_proxy = server::start(None, &options).unwrap();
    let addr = addr_of(&behind_proxy);
    assert_eq!(
        get_with_host(addr, "/oauth/certs", "idp.example:8443").0,
        200
    );
    assert_eq!(get_with_host(addr, "/oauth/certs", "idp.example").0, 200);
    assert_eq!(get_with_host(addr, "/oauth/certs", "evil.example").0, 421);
}

/// Finding 8: bound to all interfaces, the admin API refuses network peers
/// unless they present the configured admin token.
#[test]
fn finding_8_network_peers_need_the_admin_token() {
    let mut options = Options::embedded();
    options.host = "0.0.0.0".into();
    let open = server::start(None, &options).unwrap();
    let port = open.url().rsplit(':').next().unwrap().to_string();
    assert!(
        open.banner().contains(&format!("0.0.0.0:{port}")),
        "the real bound address is printed: {}",
        open.banner()
    );
    assert!(
        open.network_warning()
            .is_some_and(|w| w.contains("0.0.0.0") && w.contains("admin")),
        "{:?}",
        open.network_warning()
    );
    assert!(server::start(None, &Options::embedded())
        .unwrap()
        .network_warning()
        .is_none());
    // Loopback peers still manage it without a token.
    assert_eq!(
        get(&format!("http://127.0.0.1:{port}/admin/users"), &[]).status,
        200
    );
    let Some(ip) = network_ip() else {
        eprintln!("no non-loopback address on this machine: network part skipped");
        return;
    };
    let from_network = format!("http://{ip}:{port}");
    let refused = get(&format!("{from_network}/admin/clients"), &[]);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("admin"), "{}", refused.body);
    let refused = json_post(
        &format!("{from_network}/admin/users"),
        &json!({"username": "intruder"}),
    );
    assert_eq!(refused.status, 403);
    // The OAuth endpoints are for everyone.
    assert_eq!(get(&format!("{from_network}/oauth/certs"), &[]).status, 200);

    // With a token, a network peer that presents it is served.
    let token = "a-long-admin-token-for-the-test-0123";
    let mut options = Options::embedded();
    options.host = "0.0.0.0".into();
    options.admin_token = Some(token.into());
    let guarded = server::start(None, &options).unwrap();
    let port = guarded.url().rsplit(':').next().unwrap().to_string();
    let from_network = format!("http://{ip}:{port}");
    assert_eq!(get(&format!("{from_network}/admin/users"), &[]).status, 403);
    let wrong = get(
        &format!("{from_network}/admin/users"),
        &[(
            "authorization",
            "Bearer a-long-admin-token-for-the-test-0124",
        )],
    );
    assert!(
        wrong.status == 401 || wrong.status == 403,
        "{}",
        wrong.status
    );
    let bearer = format!("Bearer {token}");
    assert_eq!(
        get(
            &format!("{from_network}/admin/users"),
            &[("authorization", &bearer)]
        )
        .status,
        200
    );
    let put = post(
        &format!("{from_network}/admin/users"),
        "application/json",
        r#"{"username": "ops"}"#,
        &[("authorization", &bearer)],
    );
    assert_eq!(put.status, 200, "{}", put.body);
    // A too short token is refused at start.
    let mut options = Options::embedded();
    options.admin_token = Some("short".into());
    let err = server::start(None, &options).err().unwrap();
    assert!(err.message().contains("admin token"), "{err}");
}

/// Finding 9: a signed-in user cannot overwrite a client they do not own,
/// configured, admin-made or dynamically registered.
#[test]
fn finding_9_web_users_cannot_take_over_clients_they_do_not_own() {
    let server = start_with(CONFIG, "owners", |_| {});
    let url = server.url();
    let registered = json_post(
        &format!("{url}/oauth/register"),
        &json!({"redirect_uris": ["https://dyn.example/cb"]}),
    )
    .json();
    let dynamic = registered["client_id"].as_str().unwrap().to_string();
    json_post(
        &format!("{url}/admin/clients"),
        &json!({"client_id": "made", "client_secret": "x", "grant_types": ["client_credentials"]}),
    );
    let mallory = sign_in(url, "mallory");
    for target in ["svc", "made", dynamic.as_str()] {
        let hijack = create_client(
            url,
            &mallory,
            &[
                ("client_id", target),
                ("client_secret", "pwned"),
                ("redirect_uris", "http://localhost:6666/steal"),
                ("scope", "openid"),
                ("grant_types", "authorization_code"),
            ],
        );
        assert_ne!(hijack.status, 303, "{target} was overwritten");
        let stored = admin_clients(url)
            .into_iter()
            .find(|c| c["client_id"] == target)
            .unwrap();
        assert_ne!(stored["client_secret"], "pwned", "{target}");
        assert_ne!(stored["owner"], "mallory", "{target}");
    }
    // Her own clients she creates and changes; another user cannot.
    let mine = [
        ("client_id", "mallory-app"),
        ("redirect_uris", "http://localhost:7000/cb"),
        ("scope", "openid"),
        ("grant_types", "authorization_code"),
        ("public", "true"),
    ];
    assert_eq!(create_client(url, &mallory, &mine).status, 303);
    assert_eq!(create_client(url, &mallory, &mine).status, 303);
    let eve = sign_in(url, "eve");
    assert_ne!(create_client(url, &eve, &mine).status, 303);
}

/// Finding 10: redirect URIs are https, http on loopback, or a private-use
/// scheme (RFC 8252 7.1); nothing a browser would run or read locally.
#[test]
fn finding_10_redirect_uris_are_https_loopback_or_private_use() {
    let server = server::start(None, &Options::embedded()).unwrap();
    let url = server.url();
    let register = |uri: &str| {
        json_post(
            &format!("{url}/oauth/register"),
            &json!({"redirect_uris": [uri], "token_endpoint_auth_method": "none"}),
        )
    };
    for bad in [
        "javascript:alert(document.domain)//:/",
        "javascript://localhost/%0aalert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>:/",
        "file:///etc/passwd",
        "vbscript:msgbox(1)//:/",
        "myapp:/callback",
        "http://evil.example/cb",
        "http://localhost@evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "https://app.example/cb#frag",
        "https:///cb",
        "https://app.example/c b",
        "com.example.app:/cb#x",
        "/relative",
        "",
    ] {
        let refused = register(bad);
        assert_eq!(refused.status, 400, "{bad:?} accepted: {}", refused.body);
        assert_eq!(refused.json()["error"], "invalid_redirect_uri", "{bad:?}");
        // The same check on every path: the admin API and the bindings.
        let admin = json_post(
            &format!("{url}/admin/clients"),
            &json!({"client_id": "c", "redirect_uris": [bad]}),
        );
        assert_eq!(admin.status, 400, "admin took {bad:?}");
        let json = json!({"client_id": "c", "redirect_uris": [bad]}).to_string();
        assert!(server.upsert_client_json(&json).is_err(), "{bad:?}");
    }
    for good in [
        "https://app.example/cb",
        "https://app.example:8443/cb?x=1",
        "http://localhost:5001",
        "http://localhost/cb",
        "http://127.0.0.1:9/cb",
        "http://[::1]:8080/cb",
        "com.example.app:/oauth2redirect",
        "com.example.app:/",
    ] {
        let ok = register(good);
        assert_eq!(ok.status, 201, "{good:?} refused: {}", ok.body);
    }
    // A config may allow http on any host (a dev box on the LAN); nothing more.
    let lan = start_with(
        "allow_http_redirects = true\n[[clients]]\nclient_id = \"lan\"\nredirect_uris = [\"http://devbox.lan:3000/cb\"]\n",
        "lan",
        |_| {},
    );
    let ok = json_post(
        &format!("{}/oauth/register", lan.url()),
        &json!({"redirect_uris": ["http://devbox.lan:3000/cb"]}),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(
        json_post(
            &format!("{}/oauth/register", lan.url()),
            &json!({"redirect_uris": ["javascript:alert(1)//:/"]}),
        )
        .status,
        400
    );
    let err = oatk::server::config::Config::parse(
        "[[clients]]\nclient_id = \"x\"\nredirect_uris = [\"http://devbox.lan/cb\"]\n",
    )
    .unwrap_err();
    assert!(err.message().contains("allow_http_redirects"), "{err}");
}

/// Finding 11: the sign-in and create-client forms carry a CSRF token, and
/// logout without a client searches no client for a redirect target.
#[test]
fn finding_11_forms_need_csrf_and_logout_searches_no_clients() {
    let server = start_with(CONFIG, "csrf", |_| {});
    let url = server.url();
    let users = || get(&format!("{url}/admin/users"), &[]).json();

    // A cross-site POST replacing the victim's claims, on both login forms.
    let forged = form(
        &format!("{url}/"),
        &[("username", "victim"), ("claims", r#"{"role": "admin"}"#)],
        &[("origin", "https://evil.example")],
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.cookie("oatk_session").is_none());
    let authorize_params = [
        ("response_type", "code"),
        ("client_id", "spa"),
        ("redirect_uri", "http://localhost:5001/cb"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let mut posted = authorize_params.to_vec();
    posted.extend([("username", "victim"), ("claims", r#"{"role": "admin"}"#)]);
    let forged = form(&format!("{url}/oauth/authorize"), &posted, &[]);
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.cookie("oatk_session").is_none());
    // A token from another browser's cookie does not fit this one's.
    let page = get(&format!("{url}/"), &[]);
    let csrf = page
        .hidden("csrf")
        .expect("the sign-in form has a CSRF field");
    let stale = form(
        &format!("{url}/"),
        &[
            ("username", "victim"),
            ("claims", r#"{"role": "admin"}"#),
            ("csrf", &csrf),
        ],
        &[("cookie", "oatk_login=another-browsers-cookie")],
    );
    assert_eq!(stale.status, 403);
    assert!(
        users()
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "victim" && u["claims"]["role"] == "user"),
        "the victim's claims are unchanged"
    );

    // The real forms work.
    let session = sign_in(url, "victim");
    let back = authorize(url, "victim", &authorize_params);
    assert_eq!(back.status, 302, "{}", back.body);

    // The create-client form: a session cookie alone is not enough.
    let forged = form(
        &format!("{url}/oauth/create-client"),
        &[
            ("client_id", "planted"),
            ("redirect_uris", "http://localhost:7000/cb"),
            ("grant_types", "authorization_code"),
            ("public", "true"),
        ],
        &[("cookie", &session)],
    );
    assert_ne!(forged.status, 303);
    assert!(!admin_clients(url)
        .iter()
        .any(|c| c["client_id"] == "planted"));
    let made = create_client(
        url,
        &session,
        &[
            ("client_id", "planted"),
            ("redirect_uris", "http://localhost:7000/cb"),
            ("grant_types", "authorization_code"),
            ("public", "true"),
        ],
    );
    assert_eq!(made.status, 303, "{}", made.body);

    // Logout with a URI but no client: the signed-out page, whoever registered it.
    let out = get(
        &format!("{url}/oauth/logout?post_logout_redirect_uri=http://localhost:5001/bye"),
        &[],
    );
    assert_eq!(out.header("location"), "/");
    let out = get(
        &format!(
            "{url}/oauth/logout?post_logout_redirect_uri=http://localhost:5001/bye&client_id=spa&state=s"
        ),
        &[],
    );
    assert_eq!(out.header("location"), "http://localhost:5001/bye?state=s");
}

/// Finding 12: refresh-token reuse revokes the chain; redirect_uri is
/// required at the token endpoint when it was sent; public clients use S256;
/// an empty secret is no password; introspection is for confidential clients
/// and their own access and refresh tokens.
#[test]
fn finding_12_token_endpoint_rules() {
    let server = start_with(
        &format!(
            "{CONFIG}\n[[clients]]\nclient_id = \"legacy\"\nredirect_uris = [\"http://localhost:5002/cb\"]\npublic = true\nallow_plain_pkce = true\n"
        ),
        "tokenrules",
        |_| {},
    );
    let url = server.url();
    let token_url = format!("{url}/oauth/token");
    let refresh = |token: &str, client: &str| {
        form(
            &token_url,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", token),
                ("client_id", client),
            ],
            &[],
        )
    };

    // (a) A stolen refresh token replayed after rotation revokes the chain.
    let issued = server
        .issue_token("victim", Default::default(), Some("spa"), None)
        .unwrap();
    let first = issued["refresh_token"].as_str().unwrap();
    let second = refresh(first, "spa").json();
    let second = second["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(refresh(first, "spa").json()["error"], "invalid_grant");
    let after = refresh(&second, "spa");
    assert_eq!(
        after.json()["error"],
        "invalid_grant",
        "the legitimate holder's token dies with the chain"
    );

    // (b) redirect_uri was in the authorization request: required at the token endpoint.
    let verifier = "a-verifier-that-is-long-enough-to-be-valid-0123456789";
    let params = [
        ("response_type", "code"),
        ("client_id", "spa"),
        ("redirect_uri", "http://localhost:5001/cb"),
        ("scope", "openid"),
        ("code_challenge", &s256(verifier)),
        ("code_challenge_method", "S256"),
    ];
    let back = authorize(url, "victim", &params);
    let code = back.location_params()["code"].clone();
    let without = form(
        &token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "spa"),
            ("code_verifier", verifier),
        ],
        &[],
    );
    assert_eq!(without.status, 400, "{}", without.body);
    assert_eq!(without.json()["error"], "invalid_grant");
    let back = authorize(url, "victim", &params);
    let code = back.location_params()["code"].clone();
    let with = form(
        &token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "spa"),
            ("code_verifier", verifier),
            ("redirect_uri", "http://localhost:5001/cb"),
        ],
        &[],
    );
    assert_eq!(with.status, 200, "{}", with.body);
    let spa_tokens = with.json();
    // The same chain rule on a code's refresh tokens.
    let r1 = spa_tokens["refresh_token"].as_str().unwrap();
    let r2 = refresh(r1, "spa").json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(refresh(r1, "spa").status, 400);
    assert_eq!(refresh(&r2, "spa").status, 400);

    // (c) plain PKCE (explicit or by default) is refused to a public client...
    let plain = "plain-verifier-plain-verifier-plain-verifier-0123";
    for method in [Some("plain"), None] {
        let mut q = vec![
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", "http://localhost:5001/cb"),
            ("code_challenge", plain),
            ("state", "s"),
        ];
        if let Some(m) = method {
            q.push(("code_challenge_method", m));
        }
        let refused = get(&format!("{url}/oauth/authorize?{}", encode(&q)), &[]);
        assert_eq!(refused.status, 302, "{method:?}: {}", refused.body);
        assert_eq!(refused.location_params()["error"], "invalid_request");
        assert!(refused.location_params()["error_description"].contains("S256"));
    }
    // ...unless the client is configured for it.
    let legacy = authorize(
        url,
        "victim",
        &[
            ("response_type", "code"),
            ("client_id", "legacy"),
            ("redirect_uri", "http://localhost:5002/cb"),
            ("code_challenge", plain),
            ("code_challenge_method", "plain"),
        ],
    );
    assert!(
        legacy.location_params().contains_key("code"),
        "{:?}",
        legacy.header("location")
    );

    // (d) An empty client_secret is no password.
    let made = json_post(
        &format!("{url}/admin/clients"),
        &json!({"client_id": "empty", "client_secret": "", "grant_types": ["client_credentials"]}),
    );
    assert_eq!(made.status, 200, "{}", made.body);
    let basic = form(
        &token_url,
        &[("grant_type", "client_credentials")],
        &[("authorization", &format!("Basic {}", base64_std("empty:")))],
    );
    assert_eq!(basic.status, 401, "{}", basic.body);
    let posted = form(
        &token_url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "empty"),
            ("client_secret", ""),
        ],
        &[],
    );
    assert_eq!(posted.status, 401, "{}", posted.body);
    let stored = admin_clients(url)
        .into_iter()
        .find(|c| c["client_id"] == "empty")
        .unwrap();
    assert_eq!(stored["public"], true, "{stored}");

    // (e) Introspection: a confidential client, and only its own tokens.
    let introspect = format!("{url}/oauth/introspect");
    let spa_access = spa_tokens["access_token"].as_str().unwrap();
    let public = form(
        &introspect,
        &[("token", spa_access), ("client_id", "spa")],
        &[],
    );
    assert_eq!(public.status, 401, "{}", public.body);
    let svc = server
        .issue_token("victim", Default::default(), Some("svc"), Some("openid"))
        .unwrap();
    let as_client = |client: &str, secret: &str, token: &str| {
        form(
            &introspect,
            &[("token", token)],
            &[(
                "authorization",
                &format!("Basic {}", base64_std(&format!("{client}:{secret}"))),
            )],
        )
        .json()
    };
    let svc_access = svc["access_token"].as_str().unwrap();
    assert_eq!(as_client("svc", "s3cret-svc", svc_access)["active"], true);
    assert_eq!(
        as_client("other", "s3cret-other", svc_access),
        json!({"active": false}),
        "another client's access token"
    );
    assert_eq!(
        as_client(
            "other",
            "s3cret-other",
            svc["refresh_token"].as_str().unwrap()
        ),
        json!({"active": false}),
        "another client's refresh token"
    );
    assert_eq!(
        as_client("svc", "s3cret-svc", svc["id_token"].as_str().unwrap()),
        json!({"active": false}),
        "an id_token is not an access token"
    );
    assert_eq!(
        as_client("svc", "s3cret-svc", svc["refresh_token"].as_str().unwrap())["active"],
        true
    );
}

/// Finding 13: slow and idle connections cannot starve new requests; every
/// stored collection expires or has a bound.
#[test]
fn finding_13_slow_clients_and_storage_are_bounded() {
    // 600 connections that never finish their headers: more than the cap (512).
    let server = server::start(None, &Options::embedded()).unwrap();
    let addr = addr_of(&server);
    let mut slow = Vec::new();
    for _ in 0..600 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .unwrap();
        slow.push(s);
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let served = get(&format!("{}/oauth/certs", server.url()), &[]);
    assert_eq!(served.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a new request waited {:?}",
        started.elapsed()
    );
    drop(slow);

    // Header, idle and body timeouts (shortened here).
    let mut options = Options::embedded();
    options.limits.header_timeout = Duration::from_secs(1);
    options.limits.request_timeout = Duration::from_secs(1);
    let quick = server::start(None, &options).unwrap();
    let addr = addr_of(&quick);
    let closed_within = |mut s: TcpStream, limit: Duration| {
        s.set_read_timeout(Some(limit)).unwrap();
        let started = Instant::now();
        let mut buf = Vec::new();
        let done = s.read_to_end(&mut buf).is_ok();
        assert!(done, "still open after {limit:?}");
        (started.elapsed(), String::from_utf8_lossy(&buf).to_string())
    };
    let mut partial = TcpStream::connect(addr).unwrap();
    partial.write_all(b"GET / HTTP/1.1\r\nHost: local").unwrap();
    closed_within(partial, Duration::from_secs(5));
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /oauth/certs HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let (_, text) = closed_within(idle, Duration::from_secs(5));
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let mut body = TcpStream::connect(addr).unwrap();
    body.write_all(
        b"POST /oauth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=",
    )
    .unwrap();
    let (_, text) = closed_within(body, Duration::from_secs(5));
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");

    // Sessions expire.
    let short = start_with("session_lifetime = 1\n", "sessions", |_| {});
    let session = sign_in(short.url(), "ann");
    let home = get(&format!("{}/", short.url()), &[("cookie", &session)]);
    assert!(home.body.contains("Welcome"), "{}", home.body);
    std::thread::sleep(Duration::from_millis(2100));
    let home = get(&format!("{}/", short.url()), &[("cookie", &session)]);
    assert!(
        !home.body.contains("Welcome"),
        "the session outlived its lifetime"
    );

    // Claims are bounded wherever a user arrives.
    let url = server.url();
    let big = json!({"username": "big", "claims": {"blob": "x".repeat(20_000)}});
    let refused = json_post(&format!("{url}/admin/users"), &big);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("claims"), "{}", refused.body);
    assert!(server.upsert_user_json(&big.to_string()).is_err());
    let page = get(&format!("{url}/"), &[]);
    let login = form(
        &format!("{url}/"),
        &[
            ("username", "big"),
            ("claims", &json!({"blob": "x".repeat(20_000)}).to_string()),
            ("csrf", &page.hidden("csrf").unwrap_or_default()),
        ],
        &[("cookie", &page.cookie("oatk_login").unwrap_or_default())],
    );
    assert!(login.cookie("oatk_session").is_none(), "{}", login.status);
    let long_list = json!({"redirect_uris": (0..100).map(|i| format!("https://a.example/{i}")).collect::<Vec<_>>()});
    assert_eq!(
        json_post(&format!("{url}/oauth/register"), &long_list).status,
        400
    );

    // Registrations stop at a cap, with a clear 4xx.
    for i in 0..oatk::server::MAX_CLIENTS {
        server
            .upsert_client_json(&format!(
                r#"{{"client_id": "c{i}", "grant_types": ["client_credentials"], "client_secret": "s"}}"#
            ))
            .unwrap_or_else(|e| panic!("client {i}: {e}"));
    }
    let full = json_post(
        &format!("{url}/oauth/register"),
        &json!({"redirect_uris": ["https://a.example/cb"]}),
    );
    assert!(
        (400..500).contains(&full.status),
        "{} {}",
        full.status,
        full.body
    );
    assert!(full.body.contains("clients"), "{}", full.body);
    // Replacing an existing client is still fine.
    assert!(server
        .upsert_client_json(
            r#"{"client_id": "c1", "grant_types": ["client_credentials"], "client_secret": "t"}"#
        )
        .is_ok());
}

/// Finding 14: the data directory is 0700 and the database files 0600.
#[cfg(unix)]
#[test]
fn finding_14_data_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("perms");
    let data = dir.join("data");
    let server = server::start(None, &Options::embedded().persist_in(&data)).unwrap();
    server.upsert_user_json(r#"{"username": "erin"}"#).unwrap();
    server
        .issue_token("erin", Default::default(), None, None)
        .unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data directory");
    for name in [
        "oatk.sqlite3",
        "oatk.sqlite3-wal",
        "oatk.sqlite3-shm",
        "signing_key.pem",
    ] {
        let path = data.join(name);
        assert!(path.exists(), "{name} missing");
        assert_eq!(mode(&path), 0o600, "{name}");
    }
    drop(server);
    // Restarted on the same directory: still private.
    let again = server::start(None, &Options::embedded().persist_in(&data)).unwrap();
    for name in ["oatk.sqlite3", "oatk.sqlite3-wal", "oatk.sqlite3-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name} after a restart");
    }
    drop(again);
    std::fs::remove_dir_all(dir).unwrap();
}
