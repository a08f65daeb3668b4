//! Browser-facing endpoints: sign-in at `/`, the authorization endpoint with
//! its login and consent pages (RFC 6749 4.1.1, OIDC Core 3.1.2), and logout.

use std::sync::Arc;

use aws_lc_rs::digest;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::config::{Client, User};
use super::discovery::SCOPES;
use super::http::{self, OAuthError, Params};
use super::store::Code;
use super::{pages, State};
use crate::time;

/// Who is signed in on this browser.
struct Session {
    id: String,
    username: String,
    auth_time: i64,
}

fn session(state: &State, headers: &HeaderMap) -> Result<Option<Session>, OAuthError> {
    let Some(id) = http::cookie(headers, http::SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state
        .store
        .session(&id)?
        .map(|(username, auth_time)| Session {
            id,
            username,
            auth_time,
        }))
}

/// Sign in (or up) from the login form: a username and optional claims JSON.
fn sign_in(state: &State, params: &Params) -> Result<Result<Session, String>, OAuthError> {
    let username = params.get("username")?.unwrap_or("").trim();
    if username.is_empty() {
        return Ok(Err("Enter a username.".into()));
    }
    if username.len() > 128 || username.chars().any(char::is_control) {
        return Ok(Err("A username is at most 128 printable characters.".into()));
    }
    match params
        .get("claims")?
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(claims)) => state.store.upsert_user(&User {
                username: username.into(),
                claims,
            })?,
            _ => {
                return Ok(Err(
                    "Extra claims must be a JSON object, like {\"groups\": [\"admin\"]}.".into(),
                ))
            }
        },
        None => drop(state.store.ensure_user(username)?),
    }
    let session = Session {
        id: http::random_id(32),
        username: username.to_string(),
        auth_time: time::now(),
    };
    state
        .store
        .create_session(&session.id, &session.username, session.auth_time)?;
    Ok(Ok(session))
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the redirect address is not valid",
        ),
    }
}

fn body_params(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Params, OAuthError> {
    let body = body.map_err(|e| OAuthError::new(e.status(), "invalid_request", e.body_text()))?;
    Params::from_body(headers, &body)
}

/// The query's parameters, and on POST the form's too (OIDC Core 3.1.2.1 allows both).
fn request_params(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Params, OAuthError> {
    let mut params = Params::from_query(uri.query());
    if method == Method::POST {
        params.extend(body_params(headers, body)?);
    }
    Ok(params)
}

/// `GET /`: the user's home, or the sign-in page.
pub async fn home(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    let result = (|| -> Result<Response, OAuthError> {
        Ok(match session(&state, &headers)? {
            Some(s) => {
                let clients: Vec<Client> = state
                    .store
                    .clients()?
                    .into_iter()
                    .filter(|c| c.owner.as_deref().is_none_or(|o| o == s.username))
                    .collect();
                pages::home(&s.username, &clients)
            }
            None => pages::login("/", &[], None, None),
        })
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /`: sign in, then back home.
pub async fn home_sign_in(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = (|| -> Result<Response, OAuthError> {
        let params = body_params(&headers, body)?;
        Ok(match sign_in(&state, &params)? {
            Ok(s) => with_cookie(redirect("/"), &http::session_cookie(&s.id)),
            Err(note) => pages::login("/", &[], None, Some(&note)),
        })
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

/// A validated authorization request. Until `redirect_uri` is trusted, errors
/// are shown as a page; after, they go back to the client (RFC 6749 4.1.2.1).
struct AuthRequest {
    client: Client,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: Vec<String>,
    login_hint: Option<String>,
}

enum Refusal {
    /// Shown to the user; never redirected.
    Page(Box<Response>),
    /// Sent back to the client's redirect_uri.
    Redirect(String),
}

impl AuthRequest {
    fn parse(state: &State, params: &Params) -> Result<AuthRequest, Refusal> {
        let page = |error: &str, description: &str| {
            Refusal::Page(Box::new(pages::error(
                StatusCode::BAD_REQUEST,
                error,
                description,
            )))
        };
        let get = |name: &str| params.get(name).map_err(|e| page(e.error, &e.description));
        let client_id = get("client_id")?
            .ok_or_else(|| page("invalid_request", "missing parameter client_id"))?;
        let client = match state.store.client(client_id) {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Err(page(
                    "invalid_client",
                    &format!("unknown client {client_id:?}"),
                ))
            }
            Err(e) => return Err(Refusal::Page(Box::new(OAuthError::from(e).into_response()))),
        };
        let redirect_uri = match get("redirect_uri")? {
            Some(uri) if client.has_redirect_uri(uri) => uri.to_string(),
            Some(uri) => {
                return Err(page(
                    "invalid_request",
                    &format!("redirect_uri {uri:?} is not registered for client {client_id:?}"),
                ))
            }
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => return Err(page("invalid_request", "missing parameter redirect_uri")),
        };
        let state_param = params.get("state").ok().flatten().map(str::to_owned);
        let back = |error: &str, description: &str| {
            let mut pairs = vec![("error", error), ("error_description", description)];
            if let Some(s) = &state_param {
                pairs.push(("state", s));
            }
            Refusal::Redirect(http::with_query(&redirect_uri, &pairs))
        };
        let get = |name: &str| params.get(name).map_err(|e| back(e.error, &e.description));

        match get("response_type")? {
            Some("code") => {}
            Some(other) => {
                return Err(back(
                    "unsupported_response_type",
                    &format!("response_type {other} is not supported; use code"),
                ))
            }
            None => return Err(back("invalid_request", "missing parameter response_type")),
        }
        let scope = get("scope")?
            .unwrap_or(&client.scope)
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>();
        for s in &scope {
            let known = SCOPES.contains(s) || client.scope.split(' ').any(|c| c == *s);
            if !known {
                return Err(back(
                    "invalid_scope",
                    &format!("scope {s} is not available to this client"),
                ));
            }
        }
        // RFC 7636 4.2 and 4.3: the challenge is 43-128 unreserved characters; plain by default.
        let code_challenge = get("code_challenge")?.map(str::to_owned);
        let code_challenge_method = match (get("code_challenge_method")?, &code_challenge) {
            (Some(m @ ("S256" | "plain")), Some(_)) => Some(m.to_string()),
            (Some(m), Some(_)) => {
                return Err(back(
                    "invalid_request",
                    &format!("code_challenge_method {m} is not supported; use S256"),
                ))
            }
            (Some(_), None) => {
                return Err(back(
                    "invalid_request",
                    "code_challenge_method without code_challenge",
                ))
            }
            (None, Some(_)) => Some("plain".to_string()),
            (None, None) => None,
        };
        if let Some(challenge) = &code_challenge {
            let valid = (43..=128).contains(&challenge.len())
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !valid {
                return Err(back(
                    "invalid_request",
                    "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]",
                ));
            }
        } else if client.public {
            return Err(back(
                "invalid_request",
                "a public client must use PKCE: send code_challenge (RFC 7636)",
            ));
        }
        let prompt = get("prompt")?
            .unwrap_or("")
            .split(' ')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>();
        if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
            return Err(back(
                "invalid_request",
                "prompt=none cannot be combined with other values",
            ));
        }
        Ok(AuthRequest {
            scope: scope.join(" "),
            state: state_param.clone(),
            nonce: get("nonce")?.map(str::to_owned),
            code_challenge,
            code_challenge_method,
            prompt,
            login_hint: get("login_hint")?.map(str::to_owned),
            client,
            redirect_uri,
        })
    }

    /// The request, carried through the login and consent forms.
    fn hidden(&self) -> Vec<(String, String)> {
        let mut fields = vec![
            ("response_type".to_string(), "code".to_string()),
            ("client_id".to_string(), self.client.client_id.clone()),
            ("redirect_uri".to_string(), self.redirect_uri.clone()),
            ("scope".to_string(), self.scope.clone()),
        ];
        for (name, value) in [
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
        ] {
            if let Some(v) = value {
                fields.push((name.to_string(), v.clone()));
            }
        }
        fields
    }

    fn prompts(&self, value: &str) -> bool {
        self.prompt.iter().any(|p| p == value)
    }

    fn back(&self, pairs: &[(&str, &str)]) -> Response {
        let mut pairs = pairs.to_vec();
        if let Some(s) = &self.state {
            pairs.push(("state", s));
        }
        redirect(&http::with_query(&self.redirect_uri, &pairs))
    }

    /// Issue the code and send the browser back (RFC 6749 4.1.2).
    fn grant(&self, state: &State, session: &Session) -> Result<Response, OAuthError> {
        let code = http::random_id(32);
        state.store.insert_code(
            &code,
            &Code {
                client_id: self.client.client_id.clone(),
                redirect_uri: self.redirect_uri.clone(),
                username: session.username.clone(),
                scope: self.scope.clone(),
                nonce: self.nonce.clone(),
                code_challenge: self.code_challenge.clone(),
                code_challenge_method: self.code_challenge_method.clone(),
                auth_time: session.auth_time,
                expires_at: time::now() + state.config.code_lifetime as i64,
            },
        )?;
        Ok(self.back(&[("code", &code)]))
    }
}

/// Binds the consent form to the login session, so another site cannot post it.
fn csrf_token(session_id: &str) -> String {
    let d = digest::digest(
        &digest::SHA256,
        format!("oatk-consent:{session_id}").as_bytes(),
    );
    crate::b64::encode(&d.as_ref()[..18])
}

/// `GET|POST /oauth/authorize`.
pub async fn authorize(
    AxState(state): AxState<Arc<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = (|| -> Result<Response, OAuthError> {
        let params = request_params(&method, &uri, &headers, body)?;
        let request = match AuthRequest::parse(&state, &params) {
            Ok(r) => r,
            Err(Refusal::Page(page)) => return Ok(*page),
            Err(Refusal::Redirect(location)) => return Ok(redirect(&location)),
        };
        let hidden = request.hidden();
        let login_page = |note: Option<&str>| {
            pages::login(
                "/oauth/authorize",
                &hidden,
                request.login_hint.as_deref(),
                note,
            )
        };

        // The login form was posted: sign in, then ask for consent.
        if method == Method::POST && params.get("username")?.is_some() {
            return Ok(match sign_in(&state, &params)? {
                Ok(session) => {
                    let cookie = http::session_cookie(&session.id);
                    with_cookie(consent_or_grant(&state, &request, &session, true)?, &cookie)
                }
                Err(note) => login_page(Some(&note)),
            });
        }
        let session = session(&state, &headers)?;
        let Some(session) = session.filter(|_| !request.prompts("login")) else {
            if request.prompts("none") {
                return Ok(request.back(&[
                    ("error", "login_required"),
                    ("error_description", "the user is not signed in"),
                ]));
            }
            return Ok(login_page(None));
        };
        // The consent form was posted.
        if method == Method::POST {
            if let Some(decision) = params.get("decision")? {
                if params.get("csrf")? != Some(csrf_token(&session.id).as_str()) {
                    return Ok(pages::error(
                        StatusCode::FORBIDDEN,
                        "access_denied",
                        "the consent form is stale or came from another site; start again",
                    ));
                }
                if decision != "allow" {
                    return Ok(request.back(&[
                        ("error", "access_denied"),
                        ("error_description", "the user denied the request"),
                    ]));
                }
                state.store.grant_consent(
                    &session.username,
                    &request.client.client_id,
                    &request.scope,
                )?;
                return request.grant(&state, &session);
            }
        }
        consent_or_grant(&state, &request, &session, false)
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Ask for consent unless it was given before for these scopes (and not re-asked).
fn consent_or_grant(
    state: &State,
    request: &AuthRequest,
    session: &Session,
    always_ask: bool,
) -> Result<Response, OAuthError> {
    let known =
        state
            .store
            .has_consent(&session.username, &request.client.client_id, &request.scope)?;
    if known && !always_ask && !request.prompts("consent") {
        return request.grant(state, session);
    }
    if request.prompts("none") {
        return Ok(request.back(&[
            ("error", "consent_required"),
            (
                "error_description",
                "the user has not consented to this client",
            ),
        ]));
    }
    let mut hidden = request.hidden();
    hidden.push(("csrf".into(), csrf_token(&session.id)));
    Ok(pages::consent(
        &request.client,
        &request.scope,
        &session.username,
        &hidden,
    ))
}

/// `GET|POST /oauth/logout` (OIDC RP-Initiated Logout 1.0 2): end the session,
/// then go to a registered post-logout URI, or home.
pub async fn logout(
    AxState(state): AxState<Arc<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = (|| -> Result<Response, OAuthError> {
        let params = request_params(&method, &uri, &headers, body)?;
        if let Some(id) = http::cookie(&headers, http::SESSION_COOKIE) {
            state.store.delete_session(&id)?;
        }
        let target = params
            .get("post_logout_redirect_uri")?
            .or(params.get("redirect_uri")?);
        let client_id = match params.get("client_id")? {
            Some(id) => Some(id.to_string()),
            None => params
                .get("id_token_hint")?
                .and_then(|t| crate::token::decode(t).ok())
                .and_then(|c: Map<String, Value>| {
                    c.get("aud").and_then(Value::as_str).map(str::to_owned)
                }),
        };
        let mut location = "/".to_string();
        if let Some(target) = target {
            let clients = match client_id {
                Some(id) => state.store.client(&id)?.into_iter().collect(),
                None => state.store.clients()?,
            };
            if clients.iter().any(|c| c.has_logout_uri(target)) {
                location = match params.get("state")? {
                    Some(s) => http::with_query(target, &[("state", s)]),
                    None => target.to_string(),
                };
            }
        }
        Ok(with_cookie(
            redirect(&location),
            &http::clear_session_cookie(),
        ))
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}
