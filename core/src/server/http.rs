//! Request and response plumbing shared by the endpoints: parameters that may
//! come from a query, a form or JSON; RFC 6749 5.2 error bodies; cookies.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// An OAuth error response: RFC 6749 5.2 JSON with `Cache-Control: no-store`.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub www_authenticate: Option<String>,
}

impl OAuthError {
    pub fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> OAuthError {
        OAuthError {
            status,
            error,
            description: description.into(),
            www_authenticate: None,
        }
    }
    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
    pub fn invalid_grant(description: impl Into<String>) -> OAuthError {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }
    /// RFC 6749 5.2: 401, with a challenge when the client tried HTTP Basic.
    pub fn invalid_client(description: impl Into<String>, basic: bool) -> OAuthError {
        let mut e = OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", description);
        if basic {
            e.www_authenticate = Some("Basic realm=\"oatk\"".into());
        }
        e
    }
    /// RFC 6750 3.1.
    pub fn invalid_token(description: impl Into<String>) -> OAuthError {
        let description = description.into();
        let mut e = OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            description.clone(),
        );
        e.www_authenticate = Some(bearer_challenge("invalid_token", &description));
        e
    }
    pub fn server_error(description: impl std::fmt::Display) -> OAuthError {
        // Logged by the request log; the client only learns that it failed.
        eprintln!("oatk server error: {description}");
        OAuthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the fake server failed; see its log",
        )
    }
}

impl From<crate::Error> for OAuthError {
    /// A refused argument (a bad registration, a full store) is the
    /// request's fault: 400 with the reason. Anything else is ours: 500.
    fn from(e: crate::Error) -> OAuthError {
        if e.kind() == crate::ErrorKind::InvalidArgument {
            return OAuthError::invalid_request(e.message());
        }
        OAuthError::server_error(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, no_store(), axum::Json(body)).into_response();
        if let Some(challenge) = self
            .www_authenticate
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// `Bearer error="...", error_description="..."` (RFC 6750 3), quotes made safe.
pub fn bearer_challenge(error: &str, description: &str) -> String {
    let safe: String = description
        .chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect();
    format!("Bearer error=\"{error}\", error_description=\"{safe}\"")
}

/// RFC 6749 5.1: token responses must not be cached.
pub fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

pub fn json_ok(status: StatusCode, body: Value) -> Response {
    (status, no_store(), axum::Json(body)).into_response()
}

/// Request parameters, in order, from the query string and/or the body.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_query(query: Option<&str>) -> Params {
        Params(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// A form body (RFC 6749 4.1.3) or a JSON object (what the original browser script sent).
    pub fn from_body(headers: &HeaderMap, body: &Bytes) -> Result<Params, OAuthError> {
        if body.is_empty() {
            return Ok(Params::default());
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            let value: Value = serde_json::from_slice(body)
                .map_err(|_| OAuthError::invalid_request("request body is not valid JSON"))?;
            let Value::Object(map) = value else {
                return Err(OAuthError::invalid_request(
                    "JSON request body must be an object",
                ));
            };
            let pairs = map
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k, s)),
                    Value::Number(n) => Ok((k, n.to_string())),
                    Value::Bool(b) => Ok((k, b.to_string())),
                    _ => Err(OAuthError::invalid_request(format!(
                        "parameter {k} must be a string"
                    ))),
                })
                .collect::<Result<_, _>>()?;
            Ok(Params(pairs))
        } else if content_type.starts_with("application/x-www-form-urlencoded")
            || content_type.is_empty()
        {
            Ok(Params(form_urlencoded::parse(body).into_owned().collect()))
        } else {
            Err(OAuthError::invalid_request(format!(
                "unsupported content type {content_type:?}: use application/x-www-form-urlencoded"
            )))
        }
    }

    pub fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }

    /// One parameter. Empty means absent, and a repeated one is an error
    /// (RFC 6749 3.1: "MUST NOT be included more than once").
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found = self
            .0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str());
        let first = found.next();
        if found.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {name} is repeated"
            )));
        }
        Ok(first)
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter {name}")))
    }
}

pub const SESSION_COOKIE: &str = "oatk_session";
/// Binds a sign-in form to the browser that fetched it (login CSRF).
pub const LOGIN_COOKIE: &str = "oatk_login";

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn session_cookie(id: &str) -> String {
    format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax")
}

pub fn login_cookie(nonce: &str) -> String {
    format!("{LOGIN_COOKIE}={nonce}; Path=/; HttpOnly; SameSite=Lax")
}

/// A form's CSRF token: HMAC-SHA256 under the server's key of what the form
/// is for and what it is bound to (a session id, or the sign-in cookie), so
/// another site can neither read nor compute it.
pub fn csrf_token(key: &aws_lc_rs::hmac::Key, purpose: &str, binding: &str) -> String {
    let tag = aws_lc_rs::hmac::sign(key, format!("oatk-{purpose}\0{binding}").as_bytes());
    crate::b64::encode(&tag.as_ref()[..18])
}

/// Whether `given` is the form's CSRF token (compared in constant time).
pub fn csrf_ok(
    key: &aws_lc_rs::hmac::Key,
    purpose: &str,
    binding: &str,
    given: Option<&str>,
) -> bool {
    let expected = csrf_token(key, purpose, binding);
    given.is_some_and(|g| {
        aws_lc_rs::constant_time::verify_slices_are_equal(g.as_bytes(), expected.as_bytes()).is_ok()
    })
}

/// The host of a URL (`https://Idp.Example:8443/x` is `idp.example`), in
/// lower case, IPv6 in brackets.
pub fn url_host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host_name(authority)
}

/// The host of a `Host` header value (`host[:port]`), lower case and without
/// a trailing dot; `None` when it is not one.
pub fn host_name(value: &str) -> Option<String> {
    let (host, port) = match value.rfind(':') {
        Some(i) if !value[i..].contains(']') => (&value[..i], Some(&value[i + 1..])),
        _ => (value, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let valid = if let Some(inner) = host.strip_prefix('[') {
        inner.ends_with(']') && inner.len() > 1
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b))
    };
    valid.then_some(host)
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// `Authorization: Basic` client credentials (RFC 6749 2.3.1: each part form-urlencoded).
pub fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), OAuthError>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    use base64::Engine;
    let bad = || OAuthError::invalid_client("malformed Basic credentials", true);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad());
    Some(decoded.and_then(|bytes| {
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (id, secret) = text.split_once(':').ok_or_else(bad)?;
        let unescape = |s: &str| {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        Ok((
            unescape(id).unwrap_or_default(),
            unescape(secret).unwrap_or_default(),
        ))
    }))
}

/// The token of an `Authorization: Bearer` header (RFC 6750 2.1).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A random URL-safe identifier with `bytes` bytes of entropy.
pub fn random_id(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // aws-lc's RNG only fails if the OS has no entropy; an all-zero id would
    // then be caught by the primary keys, so it is not silently shared.
    let _ = aws_lc_rs::rand::fill(&mut buf);
    crate::b64::encode(buf)
}

pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Append query parameters to a URI that may already have some.
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        serializer.append_pair(k, v);
    }
    let query = serializer.finish();
    let (base, fragment) = match uri.split_once('#') {
        Some((b, _)) => (b, ""), // RFC 6749 3.1.2: no fragment in a redirect URI
        None => (uri, ""),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{query}{fragment}")
}
