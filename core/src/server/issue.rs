//! Minting the fake server's tokens: access token, id_token, refresh token.

use aws_lc_rs::digest;
use serde_json::{json, Map, Value};

use super::config::Client;
use super::http::random_id;
use super::issuers::{Issuer, Keyring};
use super::mappings::{Subject, PROTECTED};
use super::store::RefreshToken;
use super::State;
use crate::error::Result;
use crate::key::Algorithm;

/// Who the tokens are for and what was granted.
pub struct Grant<'a> {
    /// Whose `iss` and keys: the root's or a tenant's.
    pub issuer: &'a Issuer,
    pub client: &'a Client,
    /// None for `client_credentials`: the client acts for itself.
    pub username: Option<&'a str>,
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    /// The grant the tokens descend from, directly or by refresh: an
    /// authorization code, or an id for tokens issued directly. If the code is
    /// replayed (RFC 6749 4.1.2), or a refresh token of the chain is reused
    /// after rotation (RFC 9700 4.14.2), they are all revoked.
    pub origin: Option<&'a str>,
    /// Claims for this token instead of the stored user's
    /// ([`super::Server::issue`] for a client acting for itself).
    pub extra_claims: Option<&'a Map<String, Value>>,
}

/// What a client acting for itself gets when it names no scope: its
/// registered scope, less `openid` (there is no user to identify).
pub fn client_scope(client: &Client) -> String {
    client
        .scope
        .split(' ')
        .filter(|s| !s.is_empty() && *s != "openid")
        .collect::<Vec<_>>()
        .join(" ")
}

/// A stable, opaque `sub` per user (OIDC Core 8): the same across restarts
/// and servers, so tests can rely on it.
pub fn subject(username: &str) -> String {
    let hash = digest::digest(&digest::SHA256, format!("oatk-user:{username}").as_bytes());
    crate::b64::encode(&hash.as_ref()[..16])
}

pub fn has_scope(scope: &str, name: &str) -> bool {
    scope.split(' ').any(|s| s == name)
}

/// The token endpoint's success body (RFC 6749 5.1, OIDC Core 3.1.3.3).
pub fn tokens(state: &State, grant: &Grant<'_>, with_refresh: bool) -> Result<Value> {
    let now = state.clock.now();
    // One set of keys for every token of the response.
    let keys = grant.issuer.keys(now);
    let lifetime = state.config.access_token_lifetime as i64;
    let user_claims = user_claims(state, grant)?;
    let client = grant.client;
    let sub = grant
        .username
        .map_or_else(|| client.client_id.clone(), subject);
    let mapped = state.mappings.claims_for(&Subject {
        client_id: &client.client_id,
        scope: grant.scope,
        username: grant.username,
        sub: &sub,
    });

    let jti = random_id(16);
    let mut access = access_token_claims(state, grant, &sub, &jti, now);
    for (name, value) in &mapped {
        if !PROTECTED.contains(&name.as_str()) {
            access.insert(name.clone(), value.clone());
        }
    }
    for (name, value) in &user_claims {
        access.entry(name.clone()).or_insert_with(|| value.clone());
    }
    let access_token = mint(&keys, &access)?;

    let mut response = Map::new();
    response.insert("access_token".into(), access_token.clone().into());
    response.insert("token_type".into(), "Bearer".into());
    response.insert("expires_in".into(), lifetime.into());
    response.insert("scope".into(), grant.scope.into());

    let mut refresh = None;
    if let Some(username) = grant.username {
        if with_refresh {
            let token = issue_refresh_token(state, grant, username, now)?;
            response.insert("refresh_token".into(), token.clone().into());
            refresh = Some(token);
        }
        if has_scope(grant.scope, "openid") {
            let mut id = id_token_claims(
                state,
                grant,
                username,
                &user_claims,
                &access_token,
                &keys,
                now,
            );
            for (name, value) in mapped {
                id.entry(name).or_insert(value);
            }
            response.insert("id_token".into(), mint(&keys, &id)?.into());
        }
    }
    record_descent(state, grant, &jti, refresh.as_deref(), now)?;
    Ok(Value::Object(response))
}

fn mint(keys: &Keyring, claims: &Map<String, Value>) -> Result<String> {
    crate::token::mint(&keys.signer, keys.alg, Some(&keys.kid), claims)
}

/// The stored claims of the user the tokens are for; none for a client acting for itself.
fn user_claims(state: &State, grant: &Grant<'_>) -> Result<Map<String, Value>> {
    if let Some(claims) = grant.extra_claims {
        return Ok(claims.clone());
    }
    Ok(match grant.username {
        Some(name) => state
            .store
            .user(name)?
            .map(|u| u.claims)
            .unwrap_or_default(),
        None => Map::new(),
    })
}

/// The access token's standard claims (RFC 9068 2.2, plus the original's
/// extras); mapped claims and the user's own are added after.
fn access_token_claims(
    state: &State,
    grant: &Grant<'_>,
    sub: &str,
    jti: &str,
    now: i64,
) -> Map<String, Value> {
    let client = grant.client;
    let lifetime = state.config.access_token_lifetime as i64;
    let mut access = Map::new();
    access.insert("iss".into(), grant.issuer.issuer.clone().into());
    access.insert("sub".into(), sub.into());
    access.insert("aud".into(), client.client_id.clone().into());
    access.insert("azp".into(), client.client_id.clone().into());
    access.insert("exp".into(), (now + lifetime).into());
    access.insert("iat".into(), now.into());
    access.insert("auth_time".into(), grant.auth_time.into());
    access.insert("jti".into(), jti.into());
    access.insert("scope".into(), grant.scope.into());
    access.insert("typ".into(), "Bearer".into());
    access.insert("client_id".into(), client.client_id.clone().into());
    if let Some(name) = grant.username {
        access.insert("username".into(), name.into());
    }
    access.insert("permission_groups".into(), json!(client.permission_groups));
    access.insert("allowed-origins".into(), json!(client.allowed_origins));
    access
}

/// Store a new refresh token (RFC 6749 1.5, 6) and return it.
fn issue_refresh_token(
    state: &State,
    grant: &Grant<'_>,
    username: &str,
    now: i64,
) -> Result<String> {
    let token = random_id(32);
    state.store.insert_refresh_token(
        &token,
        &RefreshToken {
            client_id: grant.client.client_id.clone(),
            username: username.to_string(),
            scope: grant.scope.to_string(),
            auth_time: grant.auth_time,
            expires_at: now + state.config.refresh_token_lifetime as i64,
            revoked: false,
            tenant: grant.issuer.name().to_string(),
        },
    )?;
    Ok(token)
}

/// The id_token's claims (OIDC Core 2, 3.1.3.6), with the profile claims the scope asks for.
fn id_token_claims(
    state: &State,
    grant: &Grant<'_>,
    username: &str,
    user_claims: &Map<String, Value>,
    access_token: &str,
    keys: &Keyring,
    now: i64,
) -> Map<String, Value> {
    let client = grant.client;
    let mut id = Map::new();
    id.insert("iss".into(), grant.issuer.issuer.clone().into());
    id.insert("sub".into(), subject(username).into());
    id.insert("aud".into(), client.client_id.clone().into());
    id.insert(
        "exp".into(),
        (now + state.config.id_token_lifetime as i64).into(),
    );
    id.insert("iat".into(), now.into());
    id.insert("auth_time".into(), grant.auth_time.into());
    id.insert("at_hash".into(), at_hash(keys.alg, access_token).into());
    id.insert("azp".into(), client.client_id.clone().into());
    // OIDC Core 3.1.3.7 11: nonce exactly as sent, and absent when none was.
    if let Some(nonce) = grant.nonce {
        id.insert("nonce".into(), nonce.into());
    }
    for (name, value) in profile_claims(username, user_claims, grant.scope) {
        id.insert(name, value);
    }
    id
}

/// Remember which tokens descend from the grant's authorization code, so a
/// replay of that code can revoke them (RFC 6749 4.1.2).
fn record_descent(
    state: &State,
    grant: &Grant<'_>,
    jti: &str,
    refresh: Option<&str>,
    now: i64,
) -> Result<()> {
    if let Some(code) = grant.origin {
        let expires_at = now
            + state
                .config
                .refresh_token_lifetime
                .max(state.config.access_token_lifetime) as i64;
        state
            .store
            .record_descendant(code, jti, refresh, expires_at)?;
    }
    Ok(())
}

/// Standard claims the scopes ask for (OIDC Core 5.4), from the user's claims
/// where set, else made up from the username.
pub fn profile_claims(
    username: &str,
    claims: &Map<String, Value>,
    scope: &str,
) -> Map<String, Value> {
    let mut out = Map::new();
    let pick = |name: &str, default: Value| claims.get(name).cloned().unwrap_or(default);
    if has_scope(scope, "profile") {
        out.insert(
            "preferred_username".into(),
            pick("preferred_username", username.into()),
        );
        out.insert("name".into(), pick("name", username.into()));
    }
    if has_scope(scope, "email") {
        out.insert(
            "email".into(),
            pick("email", format!("{username}@example.com").into()),
        );
        out.insert("email_verified".into(), pick("email_verified", true.into()));
    }
    out
}

/// OIDC Core 3.1.3.6: left half of the hash of the access token, base64url.
fn at_hash(alg: Algorithm, access_token: &str) -> String {
    let d = digest::digest(alg.hash(), access_token.as_bytes());
    crate::b64::encode(&d.as_ref()[..d.as_ref().len() / 2])
}
