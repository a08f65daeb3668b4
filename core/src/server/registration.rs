//! Client registration: the web form (the original's `/oauth/create-client`),
//! dynamic registration (RFC 7591), and the admin JSON API that lets a test
//! change users and clients without restarting.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::config::{Client, User};
use super::http::{self, json_ok, OAuthError, Params};
use super::{pages, State};

/// The signed-in user and their session id.
fn signed_in(state: &State, headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    Ok(super::login::session_user(state, headers)?.map(|(id, username, _)| (username, id)))
}

fn to_home() -> Response {
    (StatusCode::FOUND, [(header::LOCATION, "/")]).into_response()
}

/// `GET /oauth/create-client`.
pub async fn create_client_form(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
    Ok(match signed_in(&state, &headers)? {
        Some((user, session)) => pages::create_client(&user, &form_csrf(&state, &session), None),
        None => to_home(),
    })
}

fn form_csrf(state: &State, session: &str) -> String {
    super::login::csrf_token(state, "create-client", session)
}

/// `POST /oauth/create-client`.
pub async fn create_client(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let Some((user, session)) = signed_in(&state, &headers)? else {
        return Ok(to_home());
    };
    let body = body.map_err(|e| OAuthError::new(e.status(), "invalid_request", e.body_text()))?;
    let params = Params::from_body(&headers, &body)?;
    let csrf = form_csrf(&state, &session);
    let again = |status: StatusCode, problem: &str| {
        let mut page = pages::create_client(&user, &csrf, Some(problem));
        *page.status_mut() = status;
        page
    };
    if !http::csrf_ok(
        &state.csrf_key,
        "create-client",
        &session,
        params.get("csrf")?,
    ) {
        return Ok(again(
            StatusCode::FORBIDDEN,
            "This form expired or was sent from another site: submit it again.",
        ));
    }
    let client = client_from_form(&params, &user)?;
    if let Err(problem) = check(&state, &client) {
        return Ok(again(StatusCode::BAD_REQUEST, &problem));
    }
    // Only the user who registered a client here may change it; a client
    // from the config, the admin API or dynamic registration has no owner and
    // changes only through the admin API or the config.
    if let Some(existing) = state.store.client(&client.client_id)? {
        if existing.owner.as_deref() != Some(user.as_str()) {
            return Ok(again(
                StatusCode::FORBIDDEN,
                "That client id is taken, and only its owner may change it: choose another.",
            ));
        }
    }
    match state.store.upsert_client(&client) {
        Ok(()) => Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response()),
        Err(e) if e.kind() == crate::ErrorKind::InvalidArgument => {
            Ok(again(StatusCode::BAD_REQUEST, e.message()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The registration form's fields, as a client owned by the signed-in user.
fn client_from_form(params: &Params, user: &str) -> Result<Client, OAuthError> {
    let text = |name: &str| -> Result<String, OAuthError> {
        Ok(params.get(name)?.unwrap_or("").trim().to_string())
    };
    let list = |name: &str| -> Result<Vec<String>, OAuthError> {
        Ok(text(name)?.split_whitespace().map(str::to_owned).collect())
    };
    let mut client = Client {
        client_id: text("client_id")?,
        client_secret: Some(text("client_secret")?).filter(|s| !s.is_empty()),
        name: text("name")?,
        uri: text("uri")?,
        redirect_uris: list("redirect_uris")?,
        post_logout_redirect_uris: Vec::new(),
        allowed_origins: list("allowed_origins")?,
        scope: text("scope")?,
        grant_types: list("grant_types")?,
        response_types: list("response_types")?,
        permission_groups: list("permission_groups")?,
        public: params.get("public")?.is_some(),
        owner: Some(user.to_string()),
        allow_plain_pkce: false,
    };
    client.normalize();
    Ok(client)
}

/// A registration's problem as the page or RFC 7591 3.2.2 describes it,
/// under the config's redirect URI policy.
fn check(state: &State, client: &Client) -> Result<(), String> {
    client
        .check_with(state.config.allow_http_redirects)
        .map_err(|e| e.message().to_string())
}

/// The admin API's JSON body as text, for the same parsers the bindings use.
fn json_text(body: Result<Bytes, BytesRejection>) -> Result<String, OAuthError> {
    let body = body.map_err(|e| OAuthError::new(e.status(), "invalid_request", e.body_text()))?;
    String::from_utf8(body.to_vec())
        .map_err(|_| OAuthError::invalid_request("the body must be UTF-8 JSON"))
}

fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, OAuthError> {
    let body = body.map_err(|e| OAuthError::new(e.status(), "invalid_request", e.body_text()))?;
    serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| OAuthError::invalid_request("the body must be a JSON object"))
}

/// `POST /oauth/register` (RFC 7591 3.1, 3.2.1).
pub async fn register(
    AxState(state): AxState<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let metadata = json_body(body)?;
    let auth_method = auth_method(&metadata)?;
    let client = client_from_metadata(&metadata, &auth_method)?;
    if let Err(problem) = check(&state, &client) {
        return Err(registration_error(problem));
    }
    state
        .store
        .upsert_client(&client)
        .map_err(|e| match e.kind() {
            crate::ErrorKind::InvalidArgument => {
                bad_metadata("invalid_client_metadata", e.message().to_string())
            }
            _ => e.into(),
        })?;
    Ok(json_ok(
        StatusCode::CREATED,
        registration_response(&client, &auth_method, state.clock.now()),
    ))
}

fn bad_metadata(error: &'static str, description: String) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, error, description)
}

/// A metadata field that must be an array of strings (RFC 7591 2).
fn metadata_strings(metadata: &Value, name: &str) -> Result<Option<Vec<String>>, OAuthError> {
    match metadata.get(name) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    bad_metadata(
                        "invalid_client_metadata",
                        format!("{name} must hold strings"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad_metadata(
            "invalid_client_metadata",
            format!("{name} must be an array"),
        )),
    }
}

/// A string metadata field; anything else counts as absent.
fn metadata_text(metadata: &Value, name: &str) -> Option<String> {
    metadata
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `token_endpoint_auth_method`, `client_secret_basic` by default (RFC 7591 2).
fn auth_method(metadata: &Value) -> Result<String, OAuthError> {
    let auth_method = metadata_text(metadata, "token_endpoint_auth_method")
        .unwrap_or_else(|| "client_secret_basic".into());
    if !["client_secret_basic", "client_secret_post", "none"].contains(&auth_method.as_str()) {
        return Err(bad_metadata(
            "invalid_client_metadata",
            format!("token_endpoint_auth_method {auth_method} is not supported"),
        ));
    }
    Ok(auth_method)
}

/// The client the metadata describes, with a new id, and a secret unless it
/// authenticates with `none` (RFC 7591 3.2.1).
fn client_from_metadata(metadata: &Value, auth_method: &str) -> Result<Client, OAuthError> {
    let text = |name: &str| metadata_text(metadata, name);
    let strings = |name: &str| metadata_strings(metadata, name);
    let public = auth_method == "none";
    let defaults = Client::default();
    Ok(Client {
        client_id: http::random_id(12),
        client_secret: (!public).then(|| http::random_id(24)),
        name: text("client_name").unwrap_or_default(),
        uri: text("client_uri").unwrap_or_default(),
        redirect_uris: strings("redirect_uris")?.unwrap_or_default(),
        post_logout_redirect_uris: strings("post_logout_redirect_uris")?.unwrap_or_default(),
        allowed_origins: Vec::new(),
        scope: text("scope").unwrap_or(defaults.scope),
        grant_types: strings("grant_types")?.unwrap_or_else(|| vec!["authorization_code".into()]),
        response_types: strings("response_types")?.unwrap_or_else(|| vec!["code".into()]),
        permission_groups: Vec::new(),
        public,
        owner: None,
        allow_plain_pkce: false,
    })
}

/// A failed check, as the registration error it is (RFC 7591 3.2.2).
fn registration_error(problem: String) -> OAuthError {
    let error = if problem.contains("redirect") {
        "invalid_redirect_uri"
    } else {
        "invalid_client_metadata"
    };
    bad_metadata(error, problem)
}

/// The client information response (RFC 7591 3.2.1).
fn registration_response(client: &Client, auth_method: &str, now: i64) -> Value {
    let mut response = json!({
        "client_id": client.client_id,
        "client_id_issued_at": now,
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "grant_types": client.grant_types,
        "response_types": client.response_types,
        "scope": client.scope,
        "token_endpoint_auth_method": auth_method,
    });
    if let Some(secret) = &client.client_secret {
        response["client_secret"] = secret.clone().into();
        response["client_secret_expires_at"] = 0.into();
    }
    response
}

// The admin API. The router's guard lets only loopback peers (or a peer
// presenting the admin token) in, and only JSON bodies.

pub async fn list_users(AxState(state): AxState<Arc<State>>) -> Result<Response, OAuthError> {
    let users = state.store.users()?;
    Ok(json_ok(StatusCode::OK, json!(users)))
}

/// `POST /admin/users` `{"username": "xtof", "claims": {...}}`: add or replace.
pub async fn put_user(
    AxState(state): AxState<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let user =
        User::from_json(&json_text(body)?).map_err(|e| OAuthError::invalid_request(e.message()))?;
    state.store.upsert_user(&user)?;
    Ok(json_ok(StatusCode::OK, json!(user)))
}

pub async fn delete_user(
    AxState(state): AxState<Arc<State>>,
    Path(username): Path<String>,
) -> Result<Response, OAuthError> {
    deleted(state.store.delete_user(&username)?, "user")
}

pub async fn list_clients(AxState(state): AxState<Arc<State>>) -> Result<Response, OAuthError> {
    let clients = state.store.clients()?;
    Ok(json_ok(StatusCode::OK, json!(clients)))
}

/// `POST /admin/clients` with a client registration (the config file's fields).
pub async fn put_client(
    AxState(state): AxState<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let client = Client::parse_json(&json_text(body)?)
        .map_err(|e| bad_metadata("invalid_client_metadata", e.message().to_string()))?;
    check(&state, &client).map_err(|problem| bad_metadata("invalid_client_metadata", problem))?;
    state.store.upsert_client(&client)?;
    Ok(json_ok(StatusCode::OK, json!(client)))
}

pub async fn delete_client(
    AxState(state): AxState<Arc<State>>,
    Path(client_id): Path<String>,
) -> Result<Response, OAuthError> {
    deleted(state.store.delete_client(&client_id)?, "client")
}

/// 204 when the user or client was there to delete, else 404.
fn deleted(found: bool, what: &str) -> Result<Response, OAuthError> {
    if !found {
        return Err(OAuthError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
