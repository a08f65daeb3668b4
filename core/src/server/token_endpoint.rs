//! Back-channel endpoints: token (RFC 6749 3.2, 4.1.3, 4.4, 6), userinfo
//! (OIDC Core 5.3), introspection (RFC 7662) and revocation (RFC 7009).

use std::sync::Arc;

use aws_lc_rs::{constant_time, digest};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::config::Client;
use super::http::{self, json_ok, OAuthError, Params};
use super::issue::{self, Grant};
use super::issuers::{At, Issuer};
use super::store::{Code, Redeemed};
use super::State;

fn params(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Params, OAuthError> {
    let body = body.map_err(|e| OAuthError::new(e.status(), "invalid_request", e.body_text()))?;
    Params::from_body(headers, &body)
}

/// How the client proved who it is (RFC 6749 2.3.1).
#[derive(PartialEq)]
enum Auth {
    /// A secret, by `client_secret_basic` or `client_secret_post`.
    Secret,
    /// `none`: a public client naming itself by `client_id`.
    Public,
}

/// The calling client, or `None` when the request names no client at all.
fn authenticate(
    state: &State,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Option<(Client, Auth)>, OAuthError> {
    let (id, secret, basic) = match http::basic_credentials(headers) {
        Some(creds) => {
            let (id, secret) = creds?;
            if params.get("client_id")?.is_some_and(|p| p != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the Basic credentials",
                ));
            }
            (id, Some(secret), true)
        }
        None => match params.get("client_id")? {
            Some(id) => (
                id.to_string(),
                params.get("client_secret")?.map(str::to_owned),
                false,
            ),
            None => return Ok(None),
        },
    };
    let Some(client) = state.store.client(&id)? else {
        return Err(OAuthError::invalid_client(
            format!("unknown client {id:?}"),
            basic,
        ));
    };
    // An empty secret is no secret: never "authenticate with an empty password".
    let secret = secret.filter(|s| !s.is_empty());
    match (secret, client.secret()) {
        (Some(given), Some(expected)) => {
            if constant_time::verify_slices_are_equal(given.as_bytes(), expected.as_bytes())
                .is_err()
            {
                return Err(OAuthError::invalid_client(
                    "client authentication failed",
                    basic,
                ));
            }
            Ok(Some((client, Auth::Secret)))
        }
        (Some(_), None) => Err(OAuthError::invalid_client(
            "this client has no secret; authenticate with none and PKCE",
            basic,
        )),
        (None, _) if client.is_public() => Ok(Some((client, Auth::Public))),
        (None, _) => Err(OAuthError::invalid_client(
            "client authentication required",
            basic,
        )),
    }
}

/// `POST /oauth/token` (and `/{tenant}/oauth/token`).
pub async fn token(
    AxState(state): AxState<Arc<State>>,
    at: At,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let params = params(&headers, body)?;
    let client = authenticate(&state, &headers, &params)?;
    let grant_type = params.require("grant_type")?;
    let body = match grant_type {
        "authorization_code" => authorization_code(&state, &at, &params, client)?,
        "refresh_token" => refresh_token(&state, &at, &params, client)?,
        "client_credentials" => client_credentials(&state, &at, &params, client)?,
        other => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type {other} is not supported"),
            ))
        }
    };
    Ok(json_ok(StatusCode::OK, body))
}

fn ensure_grant(client: &Client, grant: &str) -> Result<(), OAuthError> {
    if client.allows_grant(grant) {
        return Ok(());
    }
    Err(OAuthError::new(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        format!("client {} may not use the {grant} grant", client.client_id),
    ))
}

/// The client a code or refresh token belongs to, checked against the caller.
fn bound_client(
    state: &State,
    caller: Option<(Client, Auth)>,
    owner: &str,
    what: &str,
) -> Result<Client, OAuthError> {
    match caller {
        Some((client, _)) if client.client_id == owner => Ok(client),
        Some(_) => Err(OAuthError::invalid_grant(format!(
            "{what} was issued to another client"
        ))),
        // No client named: the original browser script sent only the code.
        // Allowed for public clients only, whose id is no secret anyway.
        None => match state.store.client(owner)? {
            Some(client) if client.is_public() => Ok(client),
            _ => Err(OAuthError::invalid_client(
                "client authentication required",
                false,
            )),
        },
    }
}

/// RFC 6749 4.1.3 with RFC 7636 4.6.
fn authorization_code(
    state: &State,
    issuer: &Issuer,
    params: &Params,
    caller: Option<(Client, Auth)>,
) -> Result<Value, OAuthError> {
    let code_text = params.require("code")?;
    let code = redeem_code(state, code_text)?;
    same_issuer(issuer, &code.tenant, "authorization code")?;
    let client = bound_client(state, caller, &code.client_id, "authorization code")?;
    ensure_grant(&client, "authorization_code")?;
    check_redirect_uri(params, &code)?;
    verify_pkce(&code, params.get("code_verifier")?)?;
    let grant = Grant {
        issuer,
        client: &client,
        username: Some(&code.username),
        scope: &code.scope,
        nonce: code.nonce.as_deref(),
        auth_time: code.auth_time,
        origin: Some(code_text),
        extra_claims: None,
    };
    Ok(issue::tokens(state, &grant, true)?)
}

/// A code or refresh token is redeemed only where it was issued: the root's
/// token endpoint, or its own tenant's.
fn same_issuer(issuer: &Issuer, tenant: &str, what: &str) -> Result<(), OAuthError> {
    if issuer.name() == tenant {
        return Ok(());
    }
    Err(OAuthError::invalid_grant(format!(
        "{what} was issued by another issuer, not {}",
        issuer.describe()
    )))
}

/// The code, once and unexpired; a replay revokes what it gave (RFC 6749 4.1.2).
fn redeem_code(state: &State, code_text: &str) -> Result<Code, OAuthError> {
    let code = match state.store.redeem_code(code_text)? {
        Redeemed::Fresh(code) => *code,
        Redeemed::AlreadyUsed => {
            // RFC 6749 4.1.2: a replayed code may be stolen; take back what it gave.
            state.store.revoke_descendants(code_text)?;
            return Err(OAuthError::invalid_grant(
                "authorization code was already used",
            ));
        }
        Redeemed::Unknown => return Err(OAuthError::invalid_grant("unknown authorization code")),
    };
    if state.clock.now() >= code.expires_at {
        return Err(OAuthError::invalid_grant("authorization code expired"));
    }
    Ok(code)
}

/// `redirect_uri` is required when the authorization request had one, and
/// must then be the same (RFC 6749 4.1.3).
fn check_redirect_uri(params: &Params, code: &Code) -> Result<(), OAuthError> {
    let sent = params.get("redirect_uri")?;
    if sent.is_none() && code.redirect_uri_given {
        return Err(OAuthError::invalid_grant(
            "missing redirect_uri: the authorization request had one, so the token request must repeat it (RFC 6749 4.1.3)",
        ));
    }
    if let Some(uri) = sent {
        let probe = Client {
            redirect_uris: vec![code.redirect_uri.clone()],
            ..Client::default()
        };
        if !probe.has_redirect_uri(uri) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the authorization request's",
            ));
        }
    }
    Ok(())
}

/// The verifier must match the code's challenge, and come only with one (RFC 7636 4.6).
fn verify_pkce(code: &Code, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (&code.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) => {
            let computed = match code.code_challenge_method.as_deref() {
                Some("S256") => {
                    crate::b64::encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
                }
                _ => verifier.to_string(),
            };
            if constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes())
                .is_err()
            {
                return Err(OAuthError::invalid_grant(
                    "PKCE verification failed: code_verifier does not match code_challenge",
                ));
            }
            Ok(())
        }
        (Some(_), None) => Err(OAuthError::invalid_grant(
            "missing code_verifier (PKCE was used to get this code)",
        )),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent, but no code_challenge was",
        )),
        (None, None) => Ok(()),
    }
}

/// RFC 6749 6, with rotation: each refresh token works once.
fn refresh_token(
    state: &State,
    issuer: &Issuer,
    params: &Params,
    caller: Option<(Client, Auth)>,
) -> Result<Value, OAuthError> {
    let token = params.require("refresh_token")?;
    let Some(stored) = state.store.refresh_token(token)? else {
        return Err(OAuthError::invalid_grant("unknown refresh token"));
    };
    same_issuer(issuer, &stored.tenant, "refresh token")?;
    if stored.revoked {
        return Err(reused(state, token)?);
    }
    if state.clock.now() >= stored.expires_at {
        return Err(OAuthError::invalid_grant("refresh token expired"));
    }
    let client = bound_client(state, caller, &stored.client_id, "refresh token")?;
    ensure_grant(&client, "refresh_token")?;
    let scope = narrow_scope(params, &stored.scope, "was not granted")?
        .unwrap_or_else(|| stored.scope.clone());
    if !state.store.revoke_refresh_token(token)? {
        return Err(reused(state, token)?);
    }
    // The new tokens descend from the same authorization code as the old.
    let origin = state.store.code_of_refresh_token(token)?;
    let grant = Grant {
        issuer,
        client: &client,
        username: Some(&stored.username),
        scope: &scope,
        nonce: None,
        auth_time: stored.auth_time,
        origin: origin.as_deref(),
        extra_claims: None,
    };
    Ok(issue::tokens(state, &grant, true)?)
}

/// A refresh token used again after rotation (or revocation): whoever holds
/// it, the chain it belongs to may be stolen, so every token of the chain is
/// revoked (RFC 9700 4.14.2), the legitimate holder's current one included.
fn reused(state: &State, token: &str) -> Result<OAuthError, OAuthError> {
    if let Some(origin) = state.store.code_of_refresh_token(token)? {
        state.store.revoke_descendants(&origin)?;
    }
    Ok(OAuthError::invalid_grant(
        "refresh token was revoked or already used; its chain is revoked",
    ))
}

/// The `scope` parameter, which may only narrow what is allowed (RFC 6749 3.3, 6).
fn narrow_scope(
    params: &Params,
    allowed: &str,
    refusal: &str,
) -> Result<Option<String>, OAuthError> {
    let Some(requested) = params.get("scope")? else {
        return Ok(None);
    };
    match requested.split(' ').find(|s| !issue::has_scope(allowed, s)) {
        Some(extra) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("scope {extra} {refusal}"),
        )),
        None => Ok(Some(requested.to_string())),
    }
}

/// RFC 6749 4.4: a confidential client acting for itself.
fn client_credentials(
    state: &State,
    issuer: &Issuer,
    params: &Params,
    caller: Option<(Client, Auth)>,
) -> Result<Value, OAuthError> {
    let client = match caller {
        Some((client, Auth::Secret)) => client,
        _ => {
            return Err(OAuthError::invalid_client(
                "client_credentials needs client authentication with a secret",
                false,
            ))
        }
    };
    ensure_grant(&client, "client_credentials")?;
    let scope = match narrow_scope(params, &client.scope, "is not available to this client")? {
        Some(requested) => requested,
        None => issue::client_scope(&client),
    };
    let grant = Grant {
        issuer,
        client: &client,
        username: None,
        scope: &scope,
        nonce: None,
        auth_time: state.clock.now(),
        origin: None,
        extra_claims: None,
    };
    Ok(issue::tokens(state, &grant, false)?)
}

/// Validate one of the issuer's own access tokens: signature, issuer,
/// expiry (server clock), revocation, and that it is an access token (an
/// id_token is not).
fn access_claims(
    state: &State,
    issuer: &Issuer,
    token: &str,
) -> Result<Map<String, Value>, OAuthError> {
    let claims = issuer
        .validate(token, state.clock.now())
        .map_err(|e| OAuthError::invalid_token(e.message()))?;
    if claims.get("typ").and_then(Value::as_str) != Some("Bearer") {
        return Err(OAuthError::invalid_token("not an access token"));
    }
    if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
        if state.store.is_revoked(jti)? {
            return Err(OAuthError::invalid_token("token was revoked"));
        }
    }
    Ok(claims)
}

/// `GET|POST /oauth/userinfo`.
pub async fn userinfo(
    AxState(state): AxState<Arc<State>>,
    at: At,
    method: Method,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let form;
    let token = match http::bearer_token(&headers) {
        Some(token) => token,
        // RFC 6750 2.2: a form-encoded body parameter, on POST only.
        None if method == Method::POST => {
            form = params(&headers, body)?;
            form.get("access_token")?
                .ok_or_else(|| OAuthError::invalid_token("missing bearer token"))?
        }
        None => {
            let mut e = OAuthError::invalid_token("missing bearer token");
            e.www_authenticate = Some("Bearer realm=\"oatk\"".into());
            return Err(e);
        }
    };
    let claims = access_claims(&state, &at, token)?;
    let username = claims
        .get("username")
        .and_then(Value::as_str)
        .ok_or_else(|| OAuthError::invalid_token("token was issued to a client, not a user"))?;
    let user = state
        .store
        .user(username)?
        .map(|u| u.claims)
        .unwrap_or_default();
    let scope = claims.get("scope").and_then(Value::as_str).unwrap_or("");
    let mut info = Map::new();
    info.insert("sub".into(), issue::subject(username).into());
    info.insert("username".into(), username.into());
    info.extend(issue::profile_claims(username, &user, scope));
    for (name, value) in user {
        info.entry(name).or_insert(value);
    }
    Ok(json_ok(StatusCode::OK, Value::Object(info)))
}

/// The caller of introspection or revocation: a registered client.
fn require_client(
    state: &State,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Client, OAuthError> {
    authenticate(state, headers, params)?
        .map(|(client, _)| client)
        .ok_or_else(|| OAuthError::invalid_client("client authentication required", false))
}

/// `POST /oauth/introspect` (RFC 7662 2): for a confidential client, about
/// its own access and refresh tokens; anything else is `{"active": false}`.
pub async fn introspect(
    AxState(state): AxState<Arc<State>>,
    at: At,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let params = params(&headers, body)?;
    let caller = match authenticate(&state, &headers, &params)? {
        Some((client, Auth::Secret)) => client,
        _ => {
            return Err(OAuthError::invalid_client(
                "introspection needs client authentication with a secret (RFC 7662 2.1)",
                http::basic_credentials(&headers).is_some(),
            ))
        }
    };
    let token = params.require("token")?;
    let owned = |claims: &Map<String, Value>| {
        claims.get("client_id").and_then(Value::as_str) == Some(caller.client_id.as_str())
    };
    if let Some(claims) = access_claims(&state, &at, token).ok().filter(owned) {
        let mut body = Map::new();
        body.insert("active".into(), true.into());
        body.insert("token_type".into(), "Bearer".into());
        for name in [
            "scope",
            "client_id",
            "username",
            "sub",
            "aud",
            "iss",
            "exp",
            "iat",
            "nbf",
            "jti",
        ] {
            if let Some(v) = claims.get(name) {
                body.insert(name.into(), v.clone());
            }
        }
        return Ok(json_ok(StatusCode::OK, Value::Object(body)));
    }
    if let Some(rt) = state.store.refresh_token(token)? {
        if !rt.revoked
            && state.clock.now() < rt.expires_at
            && rt.client_id == caller.client_id
            && rt.tenant == at.name()
        {
            return Ok(json_ok(
                StatusCode::OK,
                json!({"active": true, "token_type": "refresh_token", "client_id": rt.client_id,
                       "username": rt.username, "sub": issue::subject(&rt.username), "scope": rt.scope,
                       "exp": rt.expires_at, "iss": at.issuer}),
            ));
        }
    }
    // RFC 7662 2.2: nothing else about a token that is not active.
    Ok(json_ok(StatusCode::OK, json!({"active": false})))
}

/// `POST /oauth/revoke` (RFC 7009 2). Unknown tokens also get 200 (2.2).
pub async fn revoke(
    AxState(state): AxState<Arc<State>>,
    at: At,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let params = params(&headers, body)?;
    let client = require_client(&state, &headers, &params)?;
    let token = params.require("token")?;
    if let Some(rt) = state.store.refresh_token(token)? {
        if rt.client_id == client.client_id {
            state.store.revoke_refresh_token(token)?;
        }
    } else if let Ok(claims) = access_claims(&state, &at, token) {
        let owner = claims
            .get("client_id")
            .or(claims.get("aud"))
            .and_then(Value::as_str);
        if let (Some(jti), Some(owner)) = (claims.get("jti").and_then(Value::as_str), owner) {
            if owner == client.client_id {
                let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
                state.store.revoke_jti(jti, exp)?;
            }
        }
    }
    Ok((StatusCode::OK, http::no_store()).into_response())
}
