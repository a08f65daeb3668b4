//! Routes, and the layers every request passes: the `Host` check, CORS on
//! the endpoints browser apps call, the admin API's guard, a body size
//! limit, and one log line per request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::{constant_time, digest};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;

use super::http::{self, OAuthError};
use super::issuers::split_tenant;
use super::serve::LocalAddr;
use super::{admin, debugger, discovery, faults, login, registration, token_endpoint, State};

/// The browser script and the stylesheet: one copy each, in the binary.
pub const OATK_JS: &str = include_str!("../../assets/oatk.js");
pub const STYLE_CSS: &str = include_str!("../../assets/style.css");

/// Requests bodies are forms and small JSON documents.
const MAX_BODY: usize = 64 * 1024;
/// A declared body over [`MAX_BODY`] but under this is read and dropped
/// before the 413, so the client, still sending, gets the answer rather than
/// a reset connection.
const MAX_DRAIN: usize = 1024 * 1024;

/// The endpoints a browser app on another origin calls: discovery, keys,
/// token, userinfo, revocation, of the root and of each tenant. Nothing else
/// answers CORS.
const CORS_PATHS: [&str; 7] = [
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/oauth/well-known",
    "/oauth/certs",
    "/oauth/token",
    "/oauth/userinfo",
    "/oauth/revoke",
];

pub fn router(state: Arc<State>) -> Router {
    let quiet = state.quiet;
    let admin = Router::new()
        .route(
            "/admin/users",
            get(registration::list_users).post(registration::put_user),
        )
        .route("/admin/users/{username}", delete(registration::delete_user))
        .route(
            "/admin/clients",
            get(registration::list_clients).post(registration::put_client),
        )
        .route(
            "/admin/clients/{client_id}",
            delete(registration::delete_client),
        )
        .route("/admin/clock", get(admin::clock).post(admin::set_clock))
        .route(
            "/admin/tenants",
            get(admin::tenants).post(admin::add_tenant),
        )
        .route("/admin/keys/rotate", post(admin::rotate_keys))
        .route("/admin/keys/retire", post(admin::retire_keys))
        .route(
            "/admin/faults",
            get(admin::faults)
                .post(admin::add_fault)
                .delete(admin::clear_faults),
        )
        .route(
            "/admin/claim-mappings",
            get(admin::claim_mappings)
                .post(admin::add_claim_mapping)
                .delete(admin::clear_claim_mappings),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), admin_guard));
    // The protocol endpoints again under `/{tenant}`: the same handlers, told
    // the tenant by the layer (see issuers::At).
    let tenants = Router::new()
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(discovery::metadata),
        )
        .route(
            "/{tenant}/.well-known/oauth-authorization-server",
            get(discovery::metadata),
        )
        .route("/{tenant}/oauth/well-known", get(discovery::metadata))
        .route("/{tenant}/oauth/certs", get(discovery::certs))
        .route(
            "/{tenant}/oauth/authorize",
            get(login::authorize).post(login::authorize),
        )
        .route("/{tenant}/oauth/token", post(token_endpoint::token))
        .route(
            "/{tenant}/oauth/userinfo",
            get(token_endpoint::userinfo).post(token_endpoint::userinfo),
        )
        .route(
            "/{tenant}/oauth/introspect",
            post(token_endpoint::introspect),
        )
        .route("/{tenant}/oauth/revoke", post(token_endpoint::revoke))
        .route(
            "/{tenant}/oauth/logout",
            get(login::logout).post(login::logout),
        )
        .route("/{tenant}/oauth/register", post(registration::register))
        .route_layer(middleware::from_fn_with_state(state.clone(), tenant));
    let router = Router::new()
        .route("/", get(login::home).post(login::home_sign_in))
        .route(
            "/.well-known/openid-configuration",
            get(discovery::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata),
        )
        .route("/oauth/well-known", get(discovery::metadata))
        .route("/oauth/certs", get(discovery::certs))
        .route(
            "/oauth/authorize",
            get(login::authorize).post(login::authorize),
        )
        .route("/oauth/token", post(token_endpoint::token))
        .route(
            "/oauth/userinfo",
            get(token_endpoint::userinfo).post(token_endpoint::userinfo),
        )
        .route("/oauth/introspect", post(token_endpoint::introspect))
        .route("/oauth/revoke", post(token_endpoint::revoke))
        .route("/oauth/logout", get(login::logout).post(login::logout))
        .route(
            "/oauth/create-client",
            get(registration::create_client_form).post(registration::create_client),
        )
        .route("/oauth/register", post(registration::register))
        .route("/debugger", get(debugger::page).post(debugger::decode))
        .merge(admin)
        .merge(tenants)
        .route(
            "/static/oatk.js",
            get(|| async { static_file("application/javascript; charset=utf-8", OATK_JS) }),
        )
        .route(
            "/static/style.css",
            get(|| async { static_file("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .layer(middleware::from_fn(refuse_large_body))
        .layer(middleware::from_fn(cors))
        .layer(middleware::from_fn_with_state(state.clone(), check_host))
        .with_state(state.clone());
    if quiet {
        router
    } else {
        router.layer(middleware::from_fn_with_state(state, log))
    }
}

/// The tenant a `/{tenant}/...` route names, created on first use (up to
/// the cap), for the handler's `At`; a name that cannot be one is a 404.
async fn tenant(AxState(state): AxState<Arc<State>>, mut request: Request, next: Next) -> Response {
    let Some(name) = split_tenant(request.uri().path()).0.map(str::to_owned) else {
        return not_found().await;
    };
    let issuer = match state.issuers.existing(&name) {
        Some(issuer) => Ok(issuer),
        // A new key takes a moment (RSA): off the request threads.
        None => {
            let state = state.clone();
            tokio::task::spawn_blocking(move || state.issuers.get(Some(&name)))
                .await
                .unwrap_or_else(|e| {
                    Err(crate::Error::server(format!("tenant creation failed: {e}")))
                })
        }
    };
    match issuer {
        Ok(issuer) => {
            request.extensions_mut().insert(issuer);
            next.run(request).await
        }
        Err(e) if e.kind() == crate::ErrorKind::InvalidArgument => {
            OAuthError::new(StatusCode::NOT_FOUND, "not_found", e.message()).into_response()
        }
        Err(e) => OAuthError::from(e).into_response(),
    }
}

/// RFC 9110 15.5.14: a body declared larger than [`MAX_BODY`] gets 413 at once.
async fn refuse_large_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(length) if length > MAX_BODY => {
            if length <= MAX_DRAIN {
                let _ = axum::body::to_bytes(request.into_body(), MAX_DRAIN).await;
            }
            let error = OAuthError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                format!("the request body is larger than {MAX_BODY} bytes"),
            );
            let mut response = error.into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
        _ => next.run(request).await,
    }
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn not_found() -> Response {
    OAuthError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /.well-known/openid-configuration",
    )
    .into_response()
}

async fn method_not_allowed() -> Response {
    OAuthError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "method not allowed on this endpoint",
    )
    .into_response()
}

/// Refuse a `Host` that is neither loopback, nor the issuer's or the listen
/// host, nor the address the connection arrived on: a page on
/// `evil.example`, rebound to 127.0.0.1, names its own host (DNS rebinding).
async fn check_host(AxState(state): AxState<Arc<State>>, request: Request, next: Next) -> Response {
    let local = request.extensions().get::<LocalAddr>().map(|l| l.0.ip());
    let named = request
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().ok().and_then(http::host_name))
        .or_else(|| {
            request
                .uri()
                .authority()
                .map(|a| http::host_name(a.as_str()))
        });
    let refusal = match &named {
        None => Some("the request has no Host header".to_string()),
        Some(None) => Some("the Host header is not a host name".to_string()),
        Some(Some(host)) if !host_served(&state, host, local) => Some(format!(
            "Host {:?} is not served here: use localhost, 127.0.0.1, [::1] or the issuer's host{}",
            host.chars().take(100).collect::<String>(),
            state
                .hosts
                .iter()
                .find(|h| !super::config::is_loopback_host(h))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default()
        )),
        Some(Some(_)) => None,
    };
    // An absolute-form target names a host as well; it must agree.
    let target_ok = request.uri().authority().is_none_or(|a| {
        http::host_name(a.as_str()).is_some_and(|h| host_served(&state, &h, local))
    });
    match refusal {
        None if target_ok => next.run(request).await,
        None => OAuthError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "invalid_request",
            "the request target names a host not served here",
        )
        .into_response(),
        Some(description) => {
            let status = if named.as_ref().is_some_and(Option::is_some) {
                StatusCode::MISDIRECTED_REQUEST
            } else {
                StatusCode::BAD_REQUEST
            };
            OAuthError::new(status, "invalid_request", description).into_response()
        }
    }
}

/// Loopback names, the configured hosts, or the literal address the
/// connection arrived on (a client that dials an IP names that IP).
fn host_served(state: &State, host: &str, local: Option<IpAddr>) -> bool {
    if super::config::is_loopback_host(host) || state.hosts.iter().any(|h| h == host) {
        return true;
    }
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    match (literal.parse::<IpAddr>(), local) {
        (Ok(ip), Some(local)) => ip == local || Some(ip) == to_ipv4(local),
        _ => false,
    }
}

/// An IPv4 address carried as IPv6 (`::ffff:192.0.2.1`), as itself.
fn to_ipv4(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
        IpAddr::V4(_) => None,
    }
}

fn is_loopback_peer(peer: Option<SocketAddr>) -> bool {
    peer.is_some_and(|p| p.ip().is_loopback() || to_ipv4(p.ip()).is_some_and(|ip| ip.is_loopback()))
}

/// The admin API: loopback peers, or any peer presenting the admin token;
/// and its bodies are JSON, so a cross-site form or `text/plain` post (no
/// preflight) cannot reach it.
async fn admin_guard(
    AxState(state): AxState<Arc<State>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let presented = http::bearer_token(request.headers());
    let allowed = match (presented, state.admin_token.as_deref()) {
        (Some(given), Some(token)) => {
            if !same_secret(given, token) {
                let mut e = OAuthError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the admin token is wrong",
                );
                e.www_authenticate = Some("Bearer realm=\"oatk-admin\"".into());
                return e.into_response();
            }
            true
        }
        _ => is_loopback_peer(peer),
    };
    if !allowed {
        let how = if state.admin_token.is_some() {
            "send the admin token as Authorization: Bearer <token>"
        } else {
            "start the server with --admin-token (or admin_token in the config) and send it as Authorization: Bearer <token>"
        };
        return OAuthError::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            format!("the admin API answers loopback peers only; from the network, {how}"),
        )
        .into_response();
    }
    if request.method() == Method::POST && !is_json(request.headers()) {
        return OAuthError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "the admin API takes Content-Type: application/json",
        )
        .into_response();
    }
    next.run(request).await
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Compare secrets in constant time, their lengths included.
fn same_secret(given: &str, expected: &str) -> bool {
    let a = digest::digest(&digest::SHA256, given.as_bytes());
    let b = digest::digest(&digest::SHA256, expected.as_bytes());
    constant_time::verify_slices_are_equal(a.as_ref(), b.as_ref()).is_ok()
}

/// Open CORS on [`CORS_PATHS`], as the original: browser apps on any origin
/// call them (no credentials). Their preflights are answered here.
async fn cors(request: Request, next: Next) -> Response {
    if !CORS_PATHS.contains(&split_tenant(request.uri().path()).1) {
        return next.run(request).await;
    }
    let origin = request.headers().get(header::ORIGIN).cloned();
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(request).await
    };
    if let Some(origin) = origin {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// One line per request on stderr: method, path, status, time.
async fn log(AxState(_state): AxState<Arc<State>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    eprintln!(
        "{} {method} {path} {} {:.1}ms",
        crate::time::rfc3339(crate::time::now() as f64),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}
