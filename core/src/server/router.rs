//! Routes, and the layers every request passes: CORS, a body size limit, and
//! one log line per request.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State as AxState};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;

use super::http::OAuthError;
use super::{discovery, login, registration, token_endpoint, State};

/// The browser script and the stylesheet: one copy each, in the binary.
pub const OATK_JS: &str = include_str!("../../assets/oatk.js");
pub const STYLE_CSS: &str = include_str!("../../assets/style.css");

/// Requests bodies are forms and small JSON documents.
const MAX_BODY: usize = 64 * 1024;

pub fn router(state: Arc<State>) -> Router {
    let quiet = state.quiet;
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
        .layer(middleware::from_fn(cors))
        .with_state(state.clone());
    if quiet {
        router
    } else {
        router.layer(middleware::from_fn_with_state(state, log))
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

/// Open CORS, as the original: browser apps on any origin call the JSON
/// endpoints (token, userinfo, certs...). Preflights are answered here.
async fn cors(request: Request, next: Next) -> Response {
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
