//! Per-request token shaping (claim mappings from the config and the admin
//! API, with templates), and the token debugger page.

mod support;

use oatk::server::TokenRequest;
use serde_json::{json, Value};
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
grant_types = ["authorization_code", "client_credentials"]
scope = "openid profile api"

[[claim_mappings]]
client_id = "svc"
claims = { roles = ["reader"], on_behalf_of = "${sub}", who = "${username}", "api/scope" = "${scope} via ${client_id}" }

[[claim_mappings]]
scope = "api"
claims = { aud = "https://api.example", tier = "gold" }
"#;

fn client_credentials(url: &str, scope: Option<&str>) -> Value {
    let mut pairs = vec![
        ("grant_type", "client_credentials"),
        ("client_id", "svc"),
        ("client_secret", "s3cret-svc"),
    ];
    if let Some(scope) = scope {
        pairs.push(("scope", scope));
    }
    let reply = form(&format!("{url}/oauth/token"), &pairs, &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    claims(reply.json()["access_token"].as_str().unwrap())
}

#[test]
fn config_mappings_shape_client_credentials_tokens() {
    let server = start_with(CONFIG, "mappings-config");
    let url = server.url();
    let access = client_credentials(url, None);
    assert_eq!(access["roles"], json!(["reader"]));
    assert_eq!(
        access["on_behalf_of"], "svc",
        "${{sub}} of a client is its id"
    );
    assert_eq!(access["api/scope"], "profile api via svc");
    assert!(
        access.get("who").is_none(),
        "no user: the claim is left out"
    );
    // The scope matcher: aud replaced, tier added; not without the scope.
    assert_eq!(
        (access["aud"].as_str(), access["tier"].as_str()),
        (Some("https://api.example"), Some("gold"))
    );
    let narrow = client_credentials(url, Some("profile"));
    assert_eq!(
        (narrow["aud"].as_str(), narrow.get("tier")),
        (Some("svc"), None)
    );
    assert_eq!(
        narrow["roles"],
        json!(["reader"]),
        "the client matcher still applies"
    );
    // What the server keeps to itself is untouched.
    assert_eq!(access["iss"], url);
    assert_eq!(access["typ"], "Bearer");
}

#[test]
fn admin_mappings_shape_user_tokens_and_id_tokens() {
    let server = start_with(CONFIG, "mappings-admin");
    let url = server.url();
    let added = admin(
        &format!("{url}/admin/claim-mappings"),
        &json!({"username": "xtof", "scope": "openid", "claims": {"groups": ["admins"], "email": "${username}@corp.example", "aud": "other"}}),
    );
    assert_eq!(added.status, 200, "{}", added.body);
    let listed = get(&format!("{url}/admin/claim-mappings"), &[]).json();
    assert_eq!(
        listed.as_array().unwrap().len(),
        3,
        "the config's two, then this one"
    );

    let tokens = code_flow(url, "spa", "http://localhost:5001/cb", "xtof");
    let access = claims(tokens["access_token"].as_str().unwrap());
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(access["groups"], json!(["admins"]));
    assert_eq!(access["email"], "xtof@corp.example");
    assert_eq!(
        access["aud"], "other",
        "an access token's aud may be mapped"
    );
    assert_eq!(id["groups"], json!(["admins"]));
    assert_eq!(id["aud"], "spa", "an id_token keeps the claims OIDC needs");
    // The mapping wins over the user's own extra claims; userinfo is the user's.
    let issued = server
        .issue_token(
            "xtof",
            serde_json::from_value(json!({"groups": ["mine"]})).unwrap(),
            Some("spa"),
            Some("openid"),
        )
        .unwrap();
    assert_eq!(
        claims(issued["access_token"].as_str().unwrap())["groups"],
        json!(["admins"])
    );
    // Another user: no match.
    let other = code_flow(url, "spa", "http://localhost:5001/cb", "frank");
    assert!(claims(other["access_token"].as_str().unwrap())
        .get("groups")
        .is_none());
    // The Rust API, for a client acting for itself, with extra claims.
    let client = server
        .issue(&TokenRequest {
            client_id: Some("svc".into()),
            claims: serde_json::from_value(json!({"extra": 1})).unwrap(),
            ..TokenRequest::default()
        })
        .unwrap();
    assert!(client.get("refresh_token").is_none() && client.get("id_token").is_none());
    let access = claims(client["access_token"].as_str().unwrap());
    assert_eq!(
        (access["extra"].clone(), access["roles"].clone()),
        (json!(1), json!(["reader"]))
    );
    assert_eq!(access["sub"], "svc");

    // Refused with the reason: unknown templates, what the server sets.
    for (bad, reason) in [
        (
            json!({"claims": {"a": "${user}"}}),
            "unknown template ${user}",
        ),
        (json!({"claims": {"exp": 1}}), "cannot set exp"),
        (json!({"claims": {"a": "${sub"}}), "unterminated"),
        (
            json!({"client": "x", "claims": {"a": 1}}),
            "unknown field `client`",
        ),
    ] {
        let reply = admin(&format!("{url}/admin/claim-mappings"), &bad);
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.body.contains(reason), "{bad}: {}", reply.body);
    }
    assert_eq!(delete(&format!("{url}/admin/claim-mappings")).status, 204);
    assert!(server.claim_mappings().is_empty());
    assert!(client_credentials(url, None).get("roles").is_none());
    let added = server
        .add_claim_mapping_json(r#"{"client_id": "svc", "claims": {"back": true}}"#)
        .unwrap();
    assert_eq!(added.client_id.as_deref(), Some("svc"));
    assert_eq!(client_credentials(url, None)["back"], true);
}

/// The debugger's form, as a browser gets it: the page, its CSRF token and cookie.
struct DebuggerForm {
    url: String,
    csrf: String,
    cookie: String,
}

impl DebuggerForm {
    fn open(url: &str) -> DebuggerForm {
        let page = get(&format!("{url}/debugger"), &[]);
        assert_eq!(page.status, 200);
        DebuggerForm {
            url: format!("{url}/debugger"),
            csrf: page.hidden("csrf").expect("a CSRF token"),
            cookie: page.cookie("oatk_login").expect("a form cookie"),
        }
    }

    fn submit(&self, token: &str) -> Reply {
        form(
            &self.url,
            &[("token", token), ("csrf", &self.csrf)],
            &[("cookie", &self.cookie)],
        )
    }
}

/// The text of the element with this id (to the end of its tag's content).
fn element(page: &Reply, id: &str) -> String {
    let start = page
        .body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {}", page.body));
    let rest = &page.body[start..];
    rest[rest.find('>').unwrap() + 1..]
        .split("</")
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn the_debugger_decodes_validates_and_explains() {
    let server = start_with(CONFIG, "debugger");
    let url = server.url();
    // Linked from every page, the home page included.
    let home = get(&format!("{url}/"), &[("cookie", &sign_in(url, "xtof"))]);
    assert!(home.body.contains("href=\"/debugger\""));

    let page = DebuggerForm::open(url);
    let token = access_token(&server, "xtof");
    let valid = page.submit(&format!("Bearer {token}\n"));
    assert_eq!(valid.status, 200, "{}", valid.body);
    assert!(
        valid
            .body
            .contains("<strong>Valid</strong>Signed by the root issuer"),
        "{}",
        valid.body
    );
    assert!(element(&valid, "claims").contains("&quot;username&quot;: &quot;xtof&quot;"));
    assert!(element(&valid, "header").contains("&quot;kid&quot;"));
    let exp = claims(&token)["exp"].as_f64().unwrap();
    assert!(element(&valid, "time-exp").starts_with(&oatk::time::rfc3339(exp)));
    assert!(valid.body.contains("(in 5 min)"), "readable relative time");

    // The server's clock passes exp: not valid, and core's reason.
    server.advance_clock(301).unwrap();
    let expired = page.submit(&token);
    let verdict = element(&expired, "verdict");
    assert!(verdict.contains("Not valid here"), "{verdict}");
    assert!(
        expired.body.contains("EXPIRED</code> token expired at"),
        "{}",
        expired.body
    );
    server.reset_clock();

    // A tenant's token: valid for the tenant, refused by the root, and why.
    let from_acme = server
        .issue(&TokenRequest {
            username: Some("xtof".into()),
            tenant: Some("acme".into()),
            ..TokenRequest::default()
        })
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let tenant = page.submit(&from_acme);
    assert!(
        tenant.body.contains("Signed by tenant &quot;acme&quot;"),
        "{}",
        tenant.body
    );
    let table = tenant.body.split("id=\"issuers\"").nth(1).unwrap();
    let table = table.split("</table>").next().unwrap();
    let rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    assert!(
        rows[0].contains("the root issuer") && rows[0].contains("UNKNOWN_KEY"),
        "{table}"
    );
    assert!(
        rows[1].contains("tenant &quot;acme&quot;") && rows[1].contains(">valid<"),
        "{table}"
    );

    // Tampered: the signature does not verify.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut forged = claims(&token);
    forged["username"] = json!("admin");
    parts[1] = oatk::b64::encode(forged.to_string());
    let tampered = page.submit(&parts.join("."));
    assert!(tampered.body.contains("SIGNATURE"), "{}", tampered.body);

    // Not a JWT, and hostile text: shown escaped, never run.
    let garbage = page.submit("<script>alert(1)</script>");
    assert!(element(&garbage, "verdict").contains("Not a JWT"));
    assert!(!garbage.body.contains("<script>alert"));
    assert!(garbage
        .body
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let evil = format!(
        "{}.{}.c2ln",
        oatk::b64::encode(r#"{"alg":"RS256","kid":"<img src=x onerror=alert(1)>"}"#),
        oatk::b64::encode(r#"{"sub":"</pre><script>x()</script>"}"#)
    );
    let shown = page.submit(&evil);
    assert!(
        !shown.body.contains("<img src=x") && !shown.body.contains("<script>x()"),
        "{}",
        shown.body
    );

    // The form needs its CSRF token, bound to this browser's cookie.
    let forged_post = form(&format!("{url}/debugger"), &[("token", &token)], &[]);
    assert_eq!(forged_post.status, 403);
    assert!(!forged_post.body.contains("&quot;username&quot;"));
    let other_browser = form(
        &format!("{url}/debugger"),
        &[("token", &token), ("csrf", &page.csrf)],
        &[("cookie", "oatk_login=AAAAAAAAAAAAAAAAAAAAAA")],
    );
    assert_eq!(other_browser.status, 403);

    // The keys card lists every issuer's keys.
    server.rotate_keys(None).unwrap();
    let keys = DebuggerForm::open(url);
    let page = get(&format!("{url}/debugger"), &[("cookie", &keys.cookie)]);
    let card = &page.body[page.body.find("id=\"keys\"").unwrap()..];
    assert_eq!(card.matches("the root issuer").count(), 2, "{card}");
    assert!(card.contains("signing") && card.contains("until retired"));
}
