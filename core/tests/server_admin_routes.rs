//! Every admin route a test kit drives (clock, tenants, keys, faults, claim
//! mappings) has the admin API's protections: loopback peers or the admin
//! token only, JSON bodies only, no CORS, the Host check. One table of
//! routes, each attacked the same ways.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream, UdpSocket};

use oatk::server::{self, Options};

/// Method, path, a body the route accepts.
const ROUTES: [(&str, &str, &str); 13] = [
    ("GET", "/admin/clock", ""),
    ("POST", "/admin/clock", r#"{"advance": 60}"#),
    ("GET", "/admin/tenants", ""),
    ("POST", "/admin/tenants", r#"{"name": "acme"}"#),
    ("POST", "/admin/keys/rotate", r#"{"retire_after": 0}"#),
    ("POST", "/admin/keys/retire", "{}"),
    ("GET", "/admin/faults", ""),
    (
        "POST",
        "/admin/faults",
        r#"{"endpoint": "jwks", "kind": "error"}"#,
    ),
    ("DELETE", "/admin/faults", ""),
    ("GET", "/admin/claim-mappings", ""),
    ("POST", "/admin/claim-mappings", r#"{"claims": {"a": 1}}"#),
    ("DELETE", "/admin/claim-mappings", ""),
    ("GET", "/admin/users", ""),
];

/// A raw HTTP/1.1 request: status line and the whole answer.
fn raw(to: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(to).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://")
        .replace("localhost", "127.0.0.1")
}

#[test]
fn every_admin_route_is_loopback_json_only_without_cors() {
    let server = server::start(None, &Options::embedded()).unwrap();
    let to = host_port(server.url());
    for (method, path, body) in ROUTES {
        let json = [("Host", "localhost"), ("Content-Type", "application/json")];
        let (status, answer) = raw(&to, method, path, &json, body);
        assert!([200, 204].contains(&status), "{method} {path}: {answer}");
        assert!(!answer
            .to_ascii_lowercase()
            .contains("access-control-allow-origin"));

        // A cross-site page: an Origin, a simple content type, no preflight.
        let cross = [
            ("Host", "localhost"),
            ("Origin", "https://evil.example"),
            ("Content-Type", "text/plain"),
        ];
        let (status, answer) = raw(&to, method, path, &cross, body);
        if method == "POST" {
            assert_eq!(status, 415, "{method} {path}: {answer}");
        }
        assert!(
            !answer
                .to_ascii_lowercase()
                .contains("access-control-allow-origin"),
            "{method} {path}: {answer}"
        );
        let preflight = [
            ("Host", "localhost"),
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", method),
        ];
        let (status, answer) = raw(&to, "OPTIONS", path, &preflight, "");
        assert_ne!(status, 204, "{path}: {answer}");
        assert!(!answer
            .to_ascii_lowercase()
            .contains("access-control-allow-origin"));

        // DNS rebinding: a page on evil.example that resolves to loopback.
        let rebound = [
            ("Host", "evil.example"),
            ("Content-Type", "application/json"),
        ];
        assert_eq!(
            raw(&to, method, path, &rebound, body).0,
            421,
            "{method} {path}"
        );
    }
}

fn network_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("10.255.255.255:1").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn network_peers_need_the_admin_token_on_every_admin_route() {
    let token = "a-long-admin-token-for-the-kit-routes";
    let mut options = Options::embedded();
    options.host = "0.0.0.0".into();
    options.admin_token = Some(token.into());
    let server = server::start(None, &options).unwrap();
    let Some(ip) = network_ip() else {
        eprintln!("no non-loopback address on this machine: network part skipped");
        return;
    };
    let port = server.url().rsplit(':').next().unwrap().to_string();
    let to = format!("{ip}:{port}");
    let host = to.clone();
    let bearer = format!("Bearer {token}");
    for (method, path, body) in ROUTES {
        let plain = [
            ("Host", host.as_str()),
            ("Content-Type", "application/json"),
        ];
        let (status, answer) = raw(&to, method, path, &plain, body);
        assert_eq!(status, 403, "{method} {path}: {answer}");
        let wrong = [
            ("Host", host.as_str()),
            ("Content-Type", "application/json"),
            (
                "Authorization",
                "Bearer a-long-admin-token-for-the-kit-routez",
            ),
        ];
        assert_eq!(
            raw(&to, method, path, &wrong, body).0,
            401,
            "{method} {path}"
        );
        let right = [
            ("Host", host.as_str()),
            ("Content-Type", "application/json"),
            ("Authorization", bearer.as_str()),
        ];
        let (status, answer) = raw(&to, method, path, &right, body);
        assert!([200, 204].contains(&status), "{method} {path}: {answer}");
    }
    // Nothing a refused peer sent took effect: the faults are only those
    // the token holder added (and cleared).
    assert!(server.faults().is_empty());
    assert_eq!(
        server.clock().offset / 60,
        1,
        "one advance, by the token holder"
    );
}
