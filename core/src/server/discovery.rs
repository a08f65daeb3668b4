//! OpenID Provider metadata (OIDC Discovery 1.0 3, RFC 8414 2) and the JWKS,
//! for the root issuer and each tenant. Both are rendered when the keys
//! change, not per request: these are the hottest endpoints.

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{json, Value};
use std::sync::Arc;

use super::issuers::{At, JWKS_CACHE_CONTROL};
use super::State;
use crate::key::Algorithm;

pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The metadata of `issuer`, whose endpoints are under `base`.
pub fn document(issuer: &str, base: &str, alg: Algorithm) -> Value {
    let base = base.trim_end_matches('/');
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "userinfo_endpoint": format!("{base}/oauth/userinfo"),
        "jwks_uri": format!("{base}/oauth/certs"),
        "end_session_endpoint": format!("{base}/oauth/logout"),
        "registration_endpoint": format!("{base}/oauth/register"),
        "introspection_endpoint": format!("{base}/oauth/introspect"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [alg.name()],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp",
            "preferred_username", "name", "email", "email_verified", "username", "permission_groups"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
}

fn json_text(body: Bytes) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

pub async fn metadata(at: At) -> impl IntoResponse {
    // The discovery document names no key, so retirement does not change it.
    json_text(at.current().discovery_json.clone())
}

/// The JWKS, with `Cache-Control: max-age` so clients reuse it a while
/// (RFC 9111 5.2.2.1); core's provider honours it.
pub async fn certs(AxState(state): AxState<Arc<State>>, at: At) -> impl IntoResponse {
    let keys = at.keys(state.clock.now());
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, JWKS_CACHE_CONTROL),
        ],
        keys.jwks_json.clone(),
    )
}
