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

fn signed_in(state: &State, headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    let Some(id) = http::cookie(headers, http::SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state.store.session(&id)?.map(|(username, _)| username))
}

fn to_home() -> Response {
    (StatusCode::FOUND, [(header::LOCATION, "/")]).into_response()
}

/// `GET /oauth/create-client`.
pub async fn create_client_form(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
) -> Response {
    match signed_in(&state, &headers) {
        Ok(Some(user)) => pages::create_client(&user, None),
        Ok(None) => to_home(),
        Err(e) => e.into_response(),
    }
}

/// `POST /oauth/create-client`.
pub async fn create_client(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = (|| -> Result<Response, OAuthError> {
        let Some(user) = signed_in(&state, &headers)? else {
            return Ok(to_home());
        };
        let body =
            body.map_err(|e| OAuthError::new(e.status(), "invalid_request", e.body_text()))?;
        let params = Params::from_body(&headers, &body)?;
        let text = |name: &str| -> Result<String, OAuthError> {
            Ok(params.get(name)?.unwrap_or("").trim().to_string())
        };
        let list = |name: &str| -> Result<Vec<String>, OAuthError> {
            Ok(text(name)?.split_whitespace().map(str::to_owned).collect())
        };
        let client = Client {
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
            owner: Some(user.clone()),
        };
        if let Err(problem) = check(&client) {
            return Ok(pages::create_client(&user, Some(&problem)));
        }
        if let Some(existing) = state.store.client(&client.client_id)? {
            if existing.owner.as_deref().is_some_and(|o| o != user) {
                return Ok(pages::create_client(
                    &user,
                    Some("that client id belongs to another user"),
                ));
            }
        }
        state.store.upsert_client(&client)?;
        Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response())
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

/// What a registration must satisfy, whichever way it arrives.
fn check(client: &Client) -> Result<(), String> {
    if client.client_id.is_empty() {
        return Err("client id is required".into());
    }
    if client.grant_types.iter().any(|g| g == "authorization_code")
        && client.redirect_uris.is_empty()
    {
        return Err("at least one redirect URI is required for authorization_code".into());
    }
    for uri in &client.redirect_uris {
        // RFC 6749 3.1.2: absolute, no fragment.
        if !(uri.starts_with("http://") || uri.starts_with("https://") || uri.contains(":/"))
            || uri.contains('#')
        {
            return Err(format!(
                "redirect URI {uri:?} must be absolute and have no fragment"
            ));
        }
    }
    Ok(())
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
) -> Response {
    let result = (|| -> Result<Response, OAuthError> {
        let metadata = json_body(body)?;
        let bad =
            |error: &'static str, d: String| OAuthError::new(StatusCode::BAD_REQUEST, error, d);
        let strings = |name: &str| -> Result<Option<Vec<String>>, OAuthError> {
            match metadata.get(name) {
                None => Ok(None),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.as_str().map(str::to_owned).ok_or_else(|| {
                            bad(
                                "invalid_client_metadata",
                                format!("{name} must hold strings"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some),
                Some(_) => Err(bad(
                    "invalid_client_metadata",
                    format!("{name} must be an array"),
                )),
            }
        };
        let text = |name: &str| {
            metadata
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let auth_method =
            text("token_endpoint_auth_method").unwrap_or_else(|| "client_secret_basic".into());
        if !["client_secret_basic", "client_secret_post", "none"].contains(&auth_method.as_str()) {
            return Err(bad(
                "invalid_client_metadata",
                format!("token_endpoint_auth_method {auth_method} is not supported"),
            ));
        }
        let public = auth_method == "none";
        let defaults = Client::default();
        let client = Client {
            client_id: http::random_id(12),
            client_secret: (!public).then(|| http::random_id(24)),
            name: text("client_name").unwrap_or_default(),
            uri: text("client_uri").unwrap_or_default(),
            redirect_uris: strings("redirect_uris")?.unwrap_or_default(),
            post_logout_redirect_uris: strings("post_logout_redirect_uris")?.unwrap_or_default(),
            allowed_origins: Vec::new(),
            scope: text("scope").unwrap_or(defaults.scope),
            grant_types: strings("grant_types")?
                .unwrap_or_else(|| vec!["authorization_code".into()]),
            response_types: strings("response_types")?.unwrap_or_else(|| vec!["code".into()]),
            permission_groups: Vec::new(),
            public,
            owner: None,
        };
        if let Err(problem) = check(&client) {
            let error = if problem.contains("redirect") {
                "invalid_redirect_uri"
            } else {
                "invalid_client_metadata"
            };
            return Err(bad(error, problem));
        }
        state.store.upsert_client(&client)?;
        let mut response = json!({
            "client_id": client.client_id,
            "client_id_issued_at": crate::time::now(),
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
        Ok(json_ok(StatusCode::CREATED, response))
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

// The admin API. The server is a development tool bound to loopback by
// default; these endpoints have no authentication, on purpose.

pub async fn list_users(AxState(state): AxState<Arc<State>>) -> Response {
    match state.store.users() {
        Ok(users) => json_ok(StatusCode::OK, json!(users)),
        Err(e) => OAuthError::from(e).into_response(),
    }
}

/// `POST /admin/users` `{"username": "xtof", "claims": {...}}`: add or replace.
pub async fn put_user(
    AxState(state): AxState<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = (|| -> Result<Response, OAuthError> {
        let user: User = serde_json::from_value(json_body(body)?)
            .map_err(|e| OAuthError::invalid_request(format!("invalid user: {e}")))?;
        if user.username.trim().is_empty() {
            return Err(OAuthError::invalid_request("username is required"));
        }
        state.store.upsert_user(&user)?;
        Ok(json_ok(StatusCode::OK, json!(user)))
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

pub async fn delete_user(
    AxState(state): AxState<Arc<State>>,
    Path(username): Path<String>,
) -> Response {
    deleted(state.store.delete_user(&username), "user")
}

pub async fn list_clients(AxState(state): AxState<Arc<State>>) -> Response {
    match state.store.clients() {
        Ok(clients) => json_ok(StatusCode::OK, json!(clients)),
        Err(e) => OAuthError::from(e).into_response(),
    }
}

/// `POST /admin/clients` with a client registration (the config file's fields).
pub async fn put_client(
    AxState(state): AxState<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = (|| -> Result<Response, OAuthError> {
        let client: Client = serde_json::from_value(json_body(body)?).map_err(|e| {
            OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                format!("invalid client: {e}"),
            )
        })?;
        check(&client)
            .map_err(|p| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_client_metadata", p))?;
        state.store.upsert_client(&client)?;
        Ok(json_ok(StatusCode::OK, json!(client)))
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

pub async fn delete_client(
    AxState(state): AxState<Arc<State>>,
    Path(client_id): Path<String>,
) -> Response {
    deleted(state.store.delete_client(&client_id), "client")
}

fn deleted(result: crate::Result<bool>, what: &str) -> Response {
    match result {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => OAuthError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
        .into_response(),
        Err(e) => OAuthError::from(e).into_response(),
    }
}
