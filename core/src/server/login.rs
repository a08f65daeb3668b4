//! Browser-facing endpoints: sign-in at `/`, the authorization endpoint with
//! its login and consent pages (RFC 6749 4.1.1, OIDC Core 3.1.2), and logout.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::config::{Client, User};
use super::discovery::SCOPES;
use super::http::{self, OAuthError, Params};
use super::issuers::{At, Issuer};
use super::store::Code;
use super::{pages, State};

/// Who is signed in on this browser.
struct Session {
    id: String,
    username: String,
    auth_time: i64,
}

/// The signed-in user, unless the session has outlived `session_lifetime`.
pub(crate) fn session_user(
    state: &State,
    headers: &HeaderMap,
) -> Result<Option<(String, String, i64)>, OAuthError> {
    let Some(id) = http::cookie(headers, http::SESSION_COOKIE) else {
        return Ok(None);
    };
    let since = state
        .clock
        .now()
        .saturating_sub(state.config.session_lifetime.min(i64::MAX as u64) as i64);
    Ok(state
        .store
        .session(&id, since)?
        .map(|(username, auth_time)| (id, username, auth_time)))
}

fn session(state: &State, headers: &HeaderMap) -> Result<Option<Session>, OAuthError> {
    Ok(
        session_user(state, headers)?.map(|(id, username, auth_time)| Session {
            id,
            username,
            auth_time,
        }),
    )
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
    let stored = match params
        .get("claims")?
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(claims)) => {
                let user = User {
                    username: username.into(),
                    claims,
                };
                user.check().and_then(|()| state.store.upsert_user(&user))
            }
            _ => {
                return Ok(Err(
                    "Extra claims must be a JSON object, like {\"groups\": [\"admin\"]}.".into(),
                ))
            }
        },
        None => state.store.ensure_user(username).map(drop),
    };
    match stored {
        Ok(()) => {}
        Err(e) if e.kind() == crate::ErrorKind::InvalidArgument => {
            return Ok(Err(format!("Not signed in: {}.", e.message())))
        }
        Err(e) => return Err(e.into()),
    }
    let session = Session {
        id: http::random_id(32),
        username: username.to_string(),
        auth_time: state.clock.now(),
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

/// A sign-in form, bound to this browser against login CSRF: the
/// `oatk_login` cookie holds a random nonce (set here when missing), and the
/// form carries the server's keyed hash of it.
struct LoginForm<'a> {
    action: &'a str,
    hidden: Vec<(String, String)>,
    login_hint: Option<&'a str>,
}

impl LoginForm<'_> {
    fn page(&self, state: &State, headers: &HeaderMap, note: Option<&str>) -> Response {
        self.page_with_status(state, headers, note, StatusCode::OK)
    }

    fn page_with_status(
        &self,
        state: &State,
        headers: &HeaderMap,
        note: Option<&str>,
        status: StatusCode,
    ) -> Response {
        let existing = http::cookie(headers, http::LOGIN_COOKIE).filter(|n| valid_nonce(n));
        let nonce = existing.clone().unwrap_or_else(|| http::random_id(16));
        let mut hidden = self.hidden.clone();
        hidden.push((
            "csrf".into(),
            http::csrf_token(&state.csrf_key, "login", &nonce),
        ));
        let mut page = pages::login(self.action, &hidden, self.login_hint, note);
        *page.status_mut() = status;
        if existing.is_none() {
            page = with_cookie(page, &http::login_cookie(&nonce));
        }
        page
    }

    /// Unless the posted form's CSRF token fits this browser's cookie: the
    /// form again (403) with a fresh token.
    fn refusal(&self, state: &State, headers: &HeaderMap, params: &Params) -> Option<Response> {
        let nonce = http::cookie(headers, http::LOGIN_COOKIE).filter(|n| valid_nonce(n));
        let csrf = params.get("csrf").ok().flatten();
        if nonce.is_some_and(|n| http::csrf_ok(&state.csrf_key, "login", &n, csrf)) {
            return None;
        }
        Some(self.page_with_status(
            state,
            headers,
            Some("This sign-in form expired or was sent from another site: sign in again."),
            StatusCode::FORBIDDEN,
        ))
    }
}

/// A nonce this server could have set: URL-safe and short.
pub(crate) fn valid_nonce(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

const HOME_LOGIN: LoginForm<'static> = LoginForm {
    action: "/",
    hidden: Vec::new(),
    login_hint: None,
};

/// `GET /`: the user's home, or the sign-in page.
pub async fn home(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
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
        None => HOME_LOGIN.page(&state, &headers, None),
    })
}

/// `POST /`: sign in, then back home.
pub async fn home_sign_in(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let params = body_params(&headers, body)?;
    if let Some(page) = HOME_LOGIN.refusal(&state, &headers, &params) {
        return Ok(page);
    }
    Ok(match sign_in(&state, &params)? {
        Ok(s) => with_cookie(redirect("/"), &http::session_cookie(&s.id)),
        Err(note) => HOME_LOGIN.page(&state, &headers, Some(&note)),
    })
}

/// A validated authorization request. Until `redirect_uri` is trusted, errors
/// are shown as a page; after, they go back to the client (RFC 6749 4.1.2.1).
struct AuthRequest {
    /// The authorization endpoint it came to: the root's or a tenant's.
    action: String,
    /// Which tenant's endpoint; empty for the root.
    tenant: String,
    client: Client,
    redirect_uri: String,
    /// The request named it (rather than the client's only one being used).
    redirect_uri_given: bool,
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

/// An error page: the refusal before `redirect_uri` is trusted.
fn refusal_page(error: &str, description: &str) -> Refusal {
    Refusal::Page(Box::new(pages::error(
        StatusCode::BAD_REQUEST,
        error,
        description,
    )))
}

/// A parameter, with a repeated one refused as a page.
fn page_param<'p>(params: &'p Params, name: &str) -> Result<Option<&'p str>, Refusal> {
    params
        .get(name)
        .map_err(|e| refusal_page(e.error, &e.description))
}

/// The client, by `client_id`: unknown ones are shown, never redirected (RFC 6749 4.1.2.1).
fn requesting_client(state: &State, client_id: &str) -> Result<Client, Refusal> {
    match state.store.client(client_id) {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(refusal_page(
            "invalid_client",
            &format!("unknown client {client_id:?}"),
        )),
        Err(e) => Err(Refusal::Page(Box::new(OAuthError::from(e).into_response()))),
    }
}

/// The registered redirect URI the request names, or the only one (RFC 6749 3.1.2.3).
fn trusted_redirect_uri(
    params: &Params,
    client: &Client,
    client_id: &str,
) -> Result<String, Refusal> {
    match page_param(params, "redirect_uri")? {
        Some(uri) if client.has_redirect_uri(uri) => Ok(uri.to_string()),
        Some(uri) => Err(refusal_page(
            "invalid_request",
            &format!("redirect_uri {uri:?} is not registered for client {client_id:?}"),
        )),
        None if client.redirect_uris.len() == 1 => Ok(client.redirect_uris[0].clone()),
        None => Err(refusal_page(
            "invalid_request",
            "missing parameter redirect_uri",
        )),
    }
}

/// Once `redirect_uri` is trusted: errors go back to it, with `state` (RFC 6749 4.1.2.1).
struct Redirectable<'a> {
    params: &'a Params,
    redirect_uri: &'a str,
    state: Option<&'a str>,
}

impl<'a> Redirectable<'a> {
    fn refuse(&self, error: &str, description: &str) -> Refusal {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = self.state {
            pairs.push(("state", s));
        }
        Refusal::Redirect(http::with_query(self.redirect_uri, &pairs))
    }

    /// A parameter, with a repeated one refused back to the client.
    fn get(&self, name: &str) -> Result<Option<&'a str>, Refusal> {
        self.params
            .get(name)
            .map_err(|e| self.refuse(e.error, &e.description))
    }
}

/// Only the code flow is supported (RFC 6749 3.1.1, 4.1.1).
fn check_response_type(back: &Redirectable<'_>) -> Result<(), Refusal> {
    match back.get("response_type")? {
        Some("code") => Ok(()),
        Some(other) => Err(back.refuse(
            "unsupported_response_type",
            &format!("response_type {other} is not supported; use code"),
        )),
        None => Err(back.refuse("invalid_request", "missing parameter response_type")),
    }
}

/// The requested scopes, each known or registered for the client (RFC 6749 3.3).
fn requested_scope<'a>(
    back: &Redirectable<'a>,
    client: &'a Client,
) -> Result<Vec<&'a str>, Refusal> {
    let scope = back
        .get("scope")?
        .unwrap_or(&client.scope)
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>();
    for s in &scope {
        let known = SCOPES.contains(s) || client.scope.split(' ').any(|c| c == *s);
        if !known {
            return Err(back.refuse(
                "invalid_scope",
                &format!("scope {s} is not available to this client"),
            ));
        }
    }
    Ok(scope)
}

/// The PKCE challenge and its method (RFC 7636 4.2, 4.3), required of public clients.
fn pkce_challenge(
    back: &Redirectable<'_>,
    client: &Client,
) -> Result<(Option<String>, Option<String>), Refusal> {
    // RFC 7636 4.2 and 4.3: the challenge is 43-128 unreserved characters; plain by default.
    let code_challenge = back.get("code_challenge")?.map(str::to_owned);
    let code_challenge_method = match (back.get("code_challenge_method")?, &code_challenge) {
        (Some(m @ ("S256" | "plain")), Some(_)) => Some(m.to_string()),
        (Some(m), Some(_)) => {
            return Err(back.refuse(
                "invalid_request",
                &format!("code_challenge_method {m} is not supported; use S256"),
            ))
        }
        (Some(_), None) => {
            return Err(back.refuse(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ))
        }
        (None, Some(_)) => Some("plain".to_string()),
        (None, None) => None,
    };
    // RFC 9700 2.1.1: plain protects nothing once the challenge leaks; a
    // public client has no secret to make up for it.
    if code_challenge_method.as_deref() == Some("plain")
        && client.is_public()
        && !client.allow_plain_pkce
    {
        return Err(back.refuse(
            "invalid_request",
            "a public client must use code_challenge_method=S256 (plain only for clients registered with allow_plain_pkce)",
        ));
    }
    if let Some(challenge) = &code_challenge {
        let valid = (43..=128).contains(&challenge.len())
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !valid {
            return Err(back.refuse(
                "invalid_request",
                "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]",
            ));
        }
    } else if client.is_public() {
        return Err(back.refuse(
            "invalid_request",
            "a public client must use PKCE: send code_challenge (RFC 7636)",
        ));
    }
    Ok((code_challenge, code_challenge_method))
}

/// The `prompt` values; `none` stands alone (OIDC Core 3.1.2.1).
fn prompt_values(back: &Redirectable<'_>) -> Result<Vec<String>, Refusal> {
    let prompt = back
        .get("prompt")?
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect::<Vec<_>>();
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return Err(back.refuse(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

impl AuthRequest {
    fn parse(state: &State, issuer: &Issuer, params: &Params) -> Result<AuthRequest, Refusal> {
        let client_id = page_param(params, "client_id")?
            .ok_or_else(|| refusal_page("invalid_request", "missing parameter client_id"))?;
        let client = requesting_client(state, client_id)?;
        let redirect_uri = trusted_redirect_uri(params, &client, client_id)?;
        let redirect_uri_given = params.get("redirect_uri").ok().flatten().is_some();
        let state_param = params.get("state").ok().flatten().map(str::to_owned);
        let back = Redirectable {
            params,
            redirect_uri: &redirect_uri,
            state: state_param.as_deref(),
        };

        check_response_type(&back)?;
        let scope = requested_scope(&back, &client)?.join(" ");
        let (code_challenge, code_challenge_method) = pkce_challenge(&back, &client)?;
        let prompt = prompt_values(&back)?;
        let nonce = back.get("nonce")?.map(str::to_owned);
        let login_hint = back.get("login_hint")?.map(str::to_owned);
        Ok(AuthRequest {
            action: format!("{}/oauth/authorize", issuer.path()),
            tenant: issuer.name().to_string(),
            scope,
            state: state_param,
            nonce,
            code_challenge,
            code_challenge_method,
            prompt,
            login_hint,
            client,
            redirect_uri,
            redirect_uri_given,
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

    /// The login form, carrying the request.
    fn login_form(&self) -> LoginForm<'_> {
        LoginForm {
            action: &self.action,
            hidden: self.hidden(),
            login_hint: self.login_hint.as_deref(),
        }
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
                expires_at: state.clock.now() + state.config.code_lifetime as i64,
                redirect_uri_given: self.redirect_uri_given,
                tenant: self.tenant.clone(),
            },
        )?;
        Ok(self.back(&[("code", &code)]))
    }
}

/// Binds a form to the login session, so another site cannot post it.
pub(crate) fn csrf_token(state: &State, purpose: &str, session_id: &str) -> String {
    http::csrf_token(&state.csrf_key, purpose, session_id)
}

/// `GET|POST /oauth/authorize` (and `/{tenant}/oauth/authorize`).
pub async fn authorize(
    AxState(state): AxState<Arc<State>>,
    at: At,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let params = request_params(&method, &uri, &headers, body)?;
    let request = match AuthRequest::parse(&state, &at, &params) {
        Ok(r) => r,
        Err(Refusal::Page(page)) => return Ok(*page),
        Err(Refusal::Redirect(location)) => return Ok(redirect(&location)),
    };

    // The login form was posted: sign in, then ask for consent.
    if method == Method::POST && params.get("username")?.is_some() {
        return login_posted(&state, &headers, &request, &params);
    }
    let session = session(&state, &headers)?;
    let Some(session) = session.filter(|_| !request.prompts("login")) else {
        return Ok(login_required(&state, &headers, &request));
    };
    // The consent form was posted.
    if method == Method::POST {
        if let Some(decision) = params.get("decision")? {
            return consent_posted(&state, &request, &session, &params, decision);
        }
    }
    consent_or_grant(&state, &request, &session, false)
}

/// Sign in from the authorization request's login form, then always ask for consent.
fn login_posted(
    state: &State,
    headers: &HeaderMap,
    request: &AuthRequest,
    params: &Params,
) -> Result<Response, OAuthError> {
    let form = request.login_form();
    if let Some(page) = form.refusal(state, headers, params) {
        return Ok(page);
    }
    Ok(match sign_in(state, params)? {
        Ok(session) => {
            let cookie = http::session_cookie(&session.id);
            with_cookie(consent_or_grant(state, request, &session, true)?, &cookie)
        }
        Err(note) => form.page(state, headers, Some(&note)),
    })
}

/// No usable session: the login form, or with `prompt=none` an error (OIDC Core 3.1.2.6).
fn login_required(state: &State, headers: &HeaderMap, request: &AuthRequest) -> Response {
    if request.prompts("none") {
        return request.back(&[
            ("error", "login_required"),
            ("error_description", "the user is not signed in"),
        ]);
    }
    request.login_form().page(state, headers, None)
}

/// The user's answer on the consent form: checked against CSRF, then granted
/// or denied (RFC 6749 4.1.2.1 `access_denied`).
fn consent_posted(
    state: &State,
    request: &AuthRequest,
    session: &Session,
    params: &Params,
    decision: &str,
) -> Result<Response, OAuthError> {
    if !http::csrf_ok(&state.csrf_key, "consent", &session.id, params.get("csrf")?) {
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
    state
        .store
        .grant_consent(&session.username, &request.client.client_id, &request.scope)?;
    request.grant(state, session)
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
    hidden.push(("csrf".into(), csrf_token(state, "consent", &session.id)));
    Ok(pages::consent(
        &request.action,
        &request.client,
        &request.scope,
        &session.username,
        &hidden,
    ))
}

/// `GET|POST /oauth/logout` (OIDC RP-Initiated Logout 1.0 2): end the session,
/// then go to a post-logout URI registered for the client the request names
/// (`client_id`, or the `aud` of `id_token_hint`), or else to the
/// signed-out page. No client named, no redirect: the URI is never looked up
/// among every client's.
pub async fn logout(
    AxState(state): AxState<Arc<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
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
    if let (Some(target), Some(client_id)) = (target, client_id) {
        let client = state.store.client(&client_id)?;
        if client.is_some_and(|c| c.has_logout_uri(target)) {
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
}
