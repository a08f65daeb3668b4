//! The admin API for what a test drives at run time: the clock, tenants and
//! their keys, faults, claim mappings. The router's guard lets only loopback
//! peers (or a peer presenting the admin token) in, and only JSON bodies;
//! no CORS. Each handler is one call of what [`super::Server`] offers the
//! bindings, so both check the same way.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use super::config::ClaimMapping;
use super::faults::Fault;
use super::http::{json_ok, OAuthError};
use super::issuers::TenantConfig;
use super::State;

/// The JSON body as `T`; an empty body is `{}`.
fn body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<T, OAuthError> {
    let body = body.map_err(|e| OAuthError::new(e.status(), "invalid_request", e.body_text()))?;
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &body
    };
    serde_json::from_slice(text)
        .map_err(|e| OAuthError::invalid_request(format!("invalid {what}: {e}")))
}

/// The body as text, for the parsers the bindings use too.
fn text(body: Result<Bytes, BytesRejection>) -> Result<String, OAuthError> {
    let body = body.map_err(|e| OAuthError::new(e.status(), "invalid_request", e.body_text()))?;
    String::from_utf8(body.to_vec())
        .map_err(|_| OAuthError::invalid_request("the body must be UTF-8 JSON"))
}

// The clock

/// `GET /admin/clock`: `{"now": ..., "offset": ..., "frozen": false}`.
pub async fn clock(AxState(state): AxState<Arc<State>>) -> Response {
    json_ok(StatusCode::OK, json!(state.clock.state()))
}

/// One change: `{"advance": 3600}`, `{"freeze": 1767225600}` or `{"reset": true}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance: Option<i64>,
    freeze: Option<i64>,
    reset: Option<bool>,
}

/// `POST /admin/clock`.
pub async fn set_clock(
    AxState(state): AxState<Arc<State>>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let change: ClockChange = body(raw, "clock change")?;
    let after = match (change.advance, change.freeze, change.reset) {
        (Some(seconds), None, None) => state.clock.advance(seconds)?,
        (None, Some(epoch), None) => state.clock.freeze(epoch)?,
        (None, None, Some(true)) => state.clock.reset(),
        _ => return Err(OAuthError::invalid_request(
            "send one of {\"advance\": seconds}, {\"freeze\": epoch seconds}, {\"reset\": true}",
        )),
    };
    Ok(json_ok(StatusCode::OK, json!(after)))
}

// Tenants and keys

/// `GET /admin/tenants`: the root issuer, then each tenant, with their keys.
pub async fn tenants(AxState(state): AxState<Arc<State>>) -> Response {
    let now = state.clock.now();
    let all: Vec<_> = state.issuers.all().iter().map(|i| i.info(now)).collect();
    json_ok(StatusCode::OK, json!(all))
}

/// `POST /admin/tenants` `{"name": "acme", "issuer": "https://..."}` (issuer optional).
pub async fn add_tenant(
    AxState(state): AxState<Arc<State>>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let tenant: TenantConfig = body(raw, "tenant")?;
    let created = state.issuers.create(&tenant)?;
    Ok(json_ok(
        StatusCode::OK,
        json!(created.info(state.clock.now())),
    ))
}

/// Which issuer a key operation is for; no tenant is the root.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyChange {
    tenant: Option<String>,
    retire_after: Option<u64>,
}

/// `POST /admin/keys/rotate` `{"tenant": "acme", "retire_after": 600}` (both optional).
pub async fn rotate_keys(
    AxState(state): AxState<Arc<State>>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let change: KeyChange = body(raw, "key rotation")?;
    let issuer = state.issuers.get(change.tenant.as_deref())?;
    let now = state.clock.now();
    issuer.rotate(now, change.retire_after)?;
    Ok(json_ok(StatusCode::OK, json!(issuer.info(now))))
}

/// `POST /admin/keys/retire` `{"tenant": "acme"}` (optional): every key but
/// the signing one leaves the JWKS.
pub async fn retire_keys(
    AxState(state): AxState<Arc<State>>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let change: KeyChange = body(raw, "key retirement")?;
    if change.retire_after.is_some() {
        return Err(OAuthError::invalid_request(
            "retire_after belongs to /admin/keys/rotate; /admin/keys/retire retires now",
        ));
    }
    let issuer = state.issuers.get(change.tenant.as_deref())?;
    issuer.retire();
    Ok(json_ok(
        StatusCode::OK,
        json!(issuer.info(state.clock.now())),
    ))
}

// Faults

/// `GET /admin/faults`: those still waiting, with the requests each has left.
pub async fn faults(AxState(state): AxState<Arc<State>>) -> Response {
    json_ok(StatusCode::OK, json!(state.faults.list()))
}

/// `POST /admin/faults` `{"endpoint": "jwks", "kind": "error", "count": 2}`.
pub async fn add_fault(
    AxState(state): AxState<Arc<State>>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let fault = Fault::from_json(&text(raw)?)?;
    let added = state.faults.add(fault)?;
    Ok(json_ok(StatusCode::OK, json!(added)))
}

/// `DELETE /admin/faults`.
pub async fn clear_faults(AxState(state): AxState<Arc<State>>) -> Response {
    state.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

// Claim mappings

/// `GET /admin/claim-mappings`: the config's, then those added.
pub async fn claim_mappings(AxState(state): AxState<Arc<State>>) -> Response {
    json_ok(StatusCode::OK, json!(state.mappings.list()))
}

/// `POST /admin/claim-mappings` `{"client_id": "svc", "claims": {"roles": ["reader"]}}`.
pub async fn add_claim_mapping(
    AxState(state): AxState<Arc<State>>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let mapping = ClaimMapping::from_json(&text(raw)?)?;
    state.mappings.add(mapping.clone())?;
    Ok(json_ok(StatusCode::OK, json!(mapping)))
}

/// `DELETE /admin/claim-mappings`: all of them, the config's included.
pub async fn clear_claim_mappings(AxState(state): AxState<Arc<State>>) -> Response {
    state.mappings.clear();
    StatusCode::NO_CONTENT.into_response()
}
