//! HTTP helpers for the fake server's test-tool suites (tenants, clock,
//! keys, faults, claim mappings, debugger): real requests over loopback.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use oatk::server::{self, Options, Server};
use serde_json::Value;

pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
    /// `name=value` of the first Set-Cookie that sets `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get("set-cookie")
            .into_iter()
            .flat_map(|v| v.split('\n'))
            .filter_map(|c| c.split(';').next())
            .find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
            .map(str::to_owned)
    }
    pub fn location_params(&self) -> HashMap<String, String> {
        let location = self.header("location");
        let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
        query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), decode(v)))
            .collect()
    }
    /// A hidden form field's value, if the page has one.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        self.body
            .split(&marker)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(|v| v.replace("&amp;", "&"))
    }
}

pub fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

pub fn encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let esc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={esc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

pub fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("request failed");
    let mut headers: HashMap<String, String> = HashMap::new();
    for (k, v) in r.headers() {
        let v = v.to_str().unwrap_or("").to_string();
        headers
            .entry(k.as_str().to_string())
            .and_modify(|e| {
                e.push('\n');
                e.push_str(&v)
            })
            .or_insert(v);
    }
    Reply {
        status: r.status().as_u16(),
        headers,
        body: r.body_mut().read_to_string().unwrap_or_default(),
    }
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.call())
}

pub fn post(url: &str, content_type: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().post(url);
    if !content_type.is_empty() {
        req = req.header("content-type", content_type);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.send(body))
}

pub fn delete(url: &str) -> Reply {
    reply(agent().delete(url).call())
}

pub fn form(url: &str, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
    post(
        url,
        "application/x-www-form-urlencoded",
        &encode(pairs),
        headers,
    )
}

/// An admin API call: JSON in, JSON out.
pub fn admin(url: &str, body: &Value) -> Reply {
    post(url, "application/json", &body.to_string(), &[])
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oatk-tools-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An embedded server with this config file (TOML), in memory.
pub fn start_with(config: &str, name: &str) -> Server {
    let path = temp_dir(name).join("oatk.toml");
    std::fs::write(&path, config).unwrap();
    let options = Options {
        config: Some(path),
        ..Options::embedded()
    };
    server::start(None, &options).unwrap()
}

/// An embedded server whose keys are EC P-256: tenants' keys are made in
/// a blink (an RSA key takes a moment).
pub fn start_ec(config: &str, name: &str) -> Server {
    let path = temp_dir(name).join("oatk.toml");
    std::fs::write(&path, config).unwrap();
    let mut keys = oatk::Toolkit::new();
    keys.with_private_key(oatk::PrivateKey::generate(oatk::Algorithm::ES256, None).unwrap());
    let options = Options {
        config: Some(path),
        ..Options::embedded()
    };
    server::start(Some(&keys), &options).unwrap()
}

pub fn s256(verifier: &str) -> String {
    oatk::b64::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ))
}

/// A browser signing in on the home page: GET the form (and its cookie), then post it.
pub fn sign_in(url: &str, username: &str) -> String {
    let page = get(&format!("{url}/"), &[]);
    let csrf = page.hidden("csrf").unwrap();
    let pre = page.cookie("oatk_login").unwrap_or_default();
    let signed = form(
        &format!("{url}/"),
        &[("username", username), ("csrf", &csrf)],
        &[("cookie", &pre)],
    );
    assert_eq!(signed.status, 302, "{}", signed.body);
    signed.cookie("oatk_session").expect("a session cookie")
}

/// Authorize as `username` at `endpoint` (the root's or a tenant's
/// authorization endpoint): login, consent; returns the redirect. The forms
/// must post back to the endpoint they came from.
pub fn authorize(endpoint: &str, username: &str, params: &[(&str, &str)]) -> Reply {
    let path = endpoint
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .unwrap();
    let query = encode(params);
    let login = get(&format!("{endpoint}?{query}"), &[]);
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(
        login.body.contains(&format!("action=\"{path}\"")),
        "the login form posts to {path}: {}",
        login.body
    );
    let pre = login.cookie("oatk_login").unwrap_or_default();
    let mut posted = params.to_vec();
    posted.push(("username", username));
    let csrf = login.hidden("csrf").unwrap();
    posted.push(("csrf", &csrf));
    let consent = form(endpoint, &posted, &[("cookie", &pre)]);
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(consent.body.contains(&format!("action=\"{path}\"")));
    let session = consent.cookie("oatk_session").unwrap();
    let mut decision = params.to_vec();
    let csrf = consent.hidden("csrf").unwrap();
    decision.push(("csrf", &csrf));
    decision.push(("decision", "allow"));
    form(endpoint, &decision, &[("cookie", &session)])
}

/// A public client's whole code flow with PKCE at `base` (the root URL or a
/// tenant's): the token response.
pub fn code_flow(base: &str, client_id: &str, redirect_uri: &str, username: &str) -> Value {
    let verifier = "v".repeat(50);
    let challenge = s256(&verifier);
    let back = authorize(
        &format!("{base}/oauth/authorize"),
        username,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "openid profile"),
            ("state", "s1"),
            ("nonce", "n1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    assert_eq!(back.status, 302, "{}", back.body);
    let code = back.location_params()["code"].clone();
    let tokens = form(
        &format!("{base}/oauth/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("code_verifier", &verifier),
        ],
        &[],
    );
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    tokens.json()
}

/// The claims of a token, unverified.
pub fn claims(token: &str) -> Value {
    Value::Object(oatk::token::decode(token).unwrap())
}

/// The `kid` of a token's header.
pub fn kid(token: &str) -> String {
    oatk::token::header(token).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The access token [`Server::issue_token`] gives `username` (root issuer).
pub fn access_token(server: &Server, username: &str) -> String {
    server
        .issue_token(username, Default::default(), None, None)
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `GET /oauth/userinfo` (at `base`) with a bearer token.
pub fn userinfo(base: &str, token: &str) -> Reply {
    get(
        &format!("{base}/oauth/userinfo"),
        &[("authorization", &format!("Bearer {token}"))],
    )
}

/// The `kid`s a JWKS URL publishes.
pub fn kids(jwks_url: &str) -> Vec<String> {
    get(jwks_url, &[]).json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}
