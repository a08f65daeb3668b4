//! The `router` target: up to eight HTTP requests, written the way they go
//! on the wire, sent in turn to a fresh fake server's router in process.
//!
//! ```text
//! POST /oauth/token
//! Host: localhost
//! Content-Type: application/x-www-form-urlencoded
//!
//! grant_type=client_credentials&client_id=svc&client_secret=svc-secret
//! ~~~
//! GET /oauth/userinfo
//! Host: localhost
//! Authorization: Bearer {{access_token}}
//! ```
//!
//! A request is a request line (method, then the target), header lines, an
//! empty line and the body; `\n~~~\n` separates requests. What an earlier
//! response handed out is substituted for `{{name}}` in the target, header
//! values and body, so one input can walk a whole flow: `{{login}}` and
//! `{{session}}` (the cookies), `{{csrf}}` (the last form's), `{{code}}`,
//! `{{access_token}}`, `{{refresh_token}}`, `{{id_token}}`, and from a
//! registration `{{client_id}}`, `{{client_secret}}` and `{{basic}}` (their
//! HTTP Basic credentials). The pseudo-header `X-Fuzz-Peer: remote` sends
//! the request from a network peer instead of loopback.
//!
//! Every response must have a status below 500 (but for the faults the admin
//! API injects on purpose, which say so) and a body that reads to the end;
//! nothing may panic.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::header::{
    HeaderName, HeaderValue, CONTENT_LENGTH, LOCATION, SET_COOKIE, TRANSFER_ENCODING,
};
use axum::http::{Method, Request, Uri};
use base64::Engine;
use oatk::Toolkit;
use serde_json::Value;
use tower::ServiceExt;

/// The fake server every input starts from: its users and clients.
pub const CONFIG: &str = include_str!("../router.toml");
pub const ISSUER: &str = "http://localhost:5000";
pub const SEPARATOR: &[u8] = b"\n~~~\n";
pub const MAX_REQUESTS: usize = 8;
const MAX_HEADERS: usize = 32;
const PEER_HEADER: &str = "x-fuzz-peer";
const LOOPBACK_PEER: ([u8; 4], u16) = ([127, 0, 0, 1], 41_000);
const REMOTE_PEER: ([u8; 4], u16) = ([192, 0, 2, 7], 41_000);
const LOCAL: ([u8; 4], u16) = ([127, 0, 0, 1], 5000);

/// The names `{{...}}` may use.
const VARS: [&str; 10] = [
    "session",
    "login",
    "csrf",
    "code",
    "access_token",
    "refresh_token",
    "id_token",
    "client_id",
    "client_secret",
    "basic",
];

/// What earlier responses handed out.
#[derive(Default, Debug)]
pub struct Vars([Option<String>; 10]);

impl Vars {
    fn set(&mut self, name: &str, value: &str) {
        if let Some(i) = VARS.iter().position(|v| *v == name) {
            if !value.is_empty() {
                self.0[i] = Some(value.to_string());
            }
        }
    }

    fn get(&self, name: &[u8]) -> Option<&str> {
        let i = VARS.iter().position(|v| v.as_bytes() == name)?;
        self.0[i].as_deref()
    }

    /// `text` with every `{{name}}` that is set replaced; others stay as written.
    pub fn substitute(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = find(rest, b"{{") {
            out.extend_from_slice(&rest[..start]);
            let after = &rest[start + 2..];
            match find(after, b"}}").and_then(|end| Some((end, self.get(&after[..end])?))) {
                Some((end, value)) => {
                    out.extend_from_slice(value.as_bytes());
                    rest = &after[end + 2..];
                }
                None => {
                    out.extend_from_slice(b"{{");
                    rest = after;
                }
            }
        }
        out.extend_from_slice(rest);
        out
    }

    /// Remember what a response hands out.
    fn capture(&mut self, headers: &axum::http::HeaderMap, body: &[u8]) {
        for cookie in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            for (name, var) in [("oatk_session=", "session"), ("oatk_login=", "login")] {
                if let Some(value) = cookie.strip_prefix(name) {
                    self.set(var, value.split(';').next().unwrap_or(""));
                }
            }
        }
        if let Some(location) = headers.get(LOCATION).and_then(|v| v.to_str().ok()) {
            if let Some((_, query)) = location.split_once('?') {
                for (name, value) in form_urlencoded::parse(query.as_bytes()) {
                    if name == "code" {
                        self.set("code", &value);
                    }
                }
            }
        }
        const CSRF: &[u8] = br#"name="csrf" value=""#;
        if let Some(at) = find(body, CSRF) {
            let value = &body[at + CSRF.len()..];
            let end = value.iter().position(|b| *b == b'"').unwrap_or(0);
            self.set("csrf", &String::from_utf8_lossy(&value[..end]));
        }
        if let Ok(Value::Object(json)) = serde_json::from_slice::<Value>(body) {
            for name in [
                "access_token",
                "refresh_token",
                "id_token",
                "client_id",
                "client_secret",
            ] {
                if let Some(value) = json.get(name).and_then(Value::as_str) {
                    self.set(name, value);
                }
            }
            if let (Some(id), Some(secret)) = (
                json.get("client_id").and_then(Value::as_str),
                json.get("client_secret").and_then(Value::as_str),
            ) {
                let basic =
                    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
                self.set("basic", &basic);
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One request of the input, before it is built.
pub struct Raw<'a> {
    pub method: &'a [u8],
    pub target: &'a [u8],
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    pub body: &'a [u8],
}

/// The requests of an input, at most [`MAX_REQUESTS`].
pub fn split(data: &[u8]) -> Vec<Raw<'_>> {
    let mut requests = Vec::new();
    let mut rest = data;
    while requests.len() < MAX_REQUESTS {
        let (chunk, next) = match find(rest, SEPARATOR) {
            Some(i) => (&rest[..i], Some(&rest[i + SEPARATOR.len()..])),
            None => (rest, None),
        };
        requests.push(parse(chunk));
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    requests
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', tail @ ..] = s {
        s = tail;
    }
    while let [head @ .., b' ' | b'\t'] = s {
        s = head;
    }
    s
}

fn parse(chunk: &[u8]) -> Raw<'_> {
    let (line, mut rest) = match chunk.iter().position(|b| *b == b'\n') {
        Some(i) => (strip_cr(&chunk[..i]), &chunk[i + 1..]),
        None => (strip_cr(chunk), &chunk[chunk.len()..]),
    };
    let (method, target) = match line.iter().position(|b| *b == b' ') {
        Some(i) => (&line[..i], trim(&line[i + 1..])),
        None => (line, &b"/"[..]),
    };
    let target = target.strip_suffix(b" HTTP/1.1").unwrap_or(target);
    let mut headers = Vec::new();
    let body = loop {
        let Some(i) = rest.iter().position(|b| *b == b'\n') else {
            // No empty line: the rest is one last header, and no body.
            if !rest.is_empty() {
                headers.push(header_line(strip_cr(rest)));
            }
            break &rest[rest.len()..];
        };
        let line = strip_cr(&rest[..i]);
        rest = &rest[i + 1..];
        if line.is_empty() {
            break rest;
        }
        headers.push(header_line(line));
    };
    Raw {
        method,
        target,
        headers,
        body,
    }
}

fn header_line(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|b| *b == b':') {
        Some(i) => (&line[..i], trim(&line[i + 1..])),
        None => (line, &b""[..]),
    }
}

/// The method: a standard one, or any token hyper would accept; else GET.
fn method(name: &[u8]) -> Method {
    Method::from_bytes(name).unwrap_or(Method::GET)
}

/// The request as hyper would hand it to the router, or `None` when hyper
/// would have refused it itself (a target that is not a URI). Headers that
/// are not valid HTTP are left out; the framing headers are hyper's, so
/// `Content-Length` is the body's.
pub fn build(raw: &Raw<'_>, vars: &Vars) -> Option<Request<Body>> {
    let uri = Uri::try_from(vars.substitute(raw.target)).ok()?;
    let mut request = Request::new(Body::empty());
    *request.method_mut() = method(raw.method);
    *request.uri_mut() = uri;
    let mut peer = LOOPBACK_PEER;
    for (name, value) in raw.headers.iter().take(MAX_HEADERS) {
        let Ok(name) = HeaderName::from_bytes(name) else {
            continue;
        };
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        if name.as_str() == PEER_HEADER {
            if value.eq_ignore_ascii_case(b"remote") {
                peer = REMOTE_PEER;
            }
            continue;
        }
        if let Ok(value) = HeaderValue::from_bytes(&vars.substitute(value)) {
            request.headers_mut().append(name, value);
        }
    }
    let body = vars.substitute(raw.body);
    if !body.is_empty() {
        request
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        *request.body_mut() = Body::from(body);
    }
    oatk::server::fuzzing::connect(
        &mut request,
        SocketAddr::from(peer),
        SocketAddr::from(LOCAL),
    );
    Some(request)
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

fn toolkit() -> &'static Toolkit {
    static TOOLKIT: OnceLock<Toolkit> = OnceLock::new();
    TOOLKIT.get_or_init(|| {
        let mut toolkit = Toolkit::new();
        // Ed25519: the fastest signer, so a flow that mints tokens still
        // leaves time for mutations (the endpoints do not depend on the alg).
        toolkit
            .with_private_pem(crate::PRIVATE_PEMS[3])
            .expect("fixture key");
        toolkit
    })
}

/// Send the input's requests, in turn, to a fresh server.
pub fn run(data: &[u8]) {
    let app = oatk::server::fuzzing::router(toolkit(), CONFIG, ISSUER).expect("fuzz server");
    let mut vars = Vars::default();
    let mut faults_armed = false;
    for (i, raw) in split(data).iter().enumerate() {
        let Some(request) = build(raw, &vars) else {
            continue;
        };
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let shown = format!(
            "{} {} {:?} ({} body bytes)",
            request.method(),
            request.uri(),
            request.headers(),
            request
                .headers()
                .get(CONTENT_LENGTH)
                .map_or("0", |v| v.to_str().unwrap_or("?"))
        );
        let response = runtime()
            .block_on(app.clone().oneshot(request))
            .unwrap_or_else(|never| match never {});
        let (parts, body) = response.into_parts();
        let body = runtime()
            .block_on(axum::body::to_bytes(body, usize::MAX))
            .unwrap_or_else(|e| panic!("request {i}: {shown}: the response body failed: {e}"));
        // A fault armed by an earlier request (POST /admin/faults) answers
        // 500 or 504 on purpose, and says so; no other 5xx is allowed.
        let injected = faults_armed && find(&body, b"injected fault").is_some();
        assert!(
            !parts.status.is_server_error() || injected,
            "request {i}: {shown} answered {}: {}",
            parts.status,
            String::from_utf8_lossy(&body)
        );
        if method == Method::POST && path.ends_with("/admin/faults") && parts.status.is_success() {
            faults_armed = true;
        }
        if trace() {
            eprintln!(
                "[{i}] {} -> {} {:?}",
                shown.split(' ').take(2).collect::<Vec<_>>().join(" "),
                parts.status,
                parts.headers.get(LOCATION)
            );
        }
        vars.capture(&parts.headers, &body);
    }
}

/// `OATK_FUZZ_TRACE=1`: print each request's status, to check what a seed reaches.
fn trace() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("OATK_FUZZ_TRACE").is_some_and(|v| v == "1"))
}

/// The `config` target: a config `Config::parse` accepted starts a server,
/// which answers discovery and lists its users and clients (read back from
/// the store) without a server error.
pub fn start_and_probe(config: &str) {
    let app = oatk::server::fuzzing::router(toolkit(), config, ISSUER)
        .unwrap_or_else(|e| panic!("a config that parses does not start: {e}"));
    for (path, want_ok) in [
        ("/.well-known/openid-configuration", true),
        ("/oauth/certs", true),
        ("/admin/users", false),
        ("/admin/clients", false),
    ] {
        let mut request = Request::new(Body::empty());
        *request.uri_mut() = Uri::from_static(path);
        request.headers_mut().insert(
            axum::http::header::HOST,
            HeaderValue::from_static("localhost"),
        );
        oatk::server::fuzzing::connect(
            &mut request,
            SocketAddr::from(LOOPBACK_PEER),
            SocketAddr::from(LOCAL),
        );
        let response = runtime()
            .block_on(app.clone().oneshot(request))
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let body = runtime()
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .unwrap_or_else(|e| panic!("GET {path}: the response body failed: {e}"));
        assert!(
            !status.is_server_error() && (!want_ok || status.is_success()),
            "GET {path} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
}
