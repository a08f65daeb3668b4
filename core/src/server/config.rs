//! `--config oatk.toml`: issuer, lifetimes, users and pre-registered clients,
//! so a test suite can start a server with everything in place and no clicks.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use super::issuers::TenantConfig;
use super::issuers::MAX_TENANTS;
pub use super::mappings::ClaimMapping;
use super::mappings::MAX_MAPPINGS;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Exactly what goes into `iss`, byte for byte. Default: derived from the listen address.
    pub issuer: Option<String>,
    /// Seconds. The original's access tokens lived 300 s.
    pub access_token_lifetime: u64,
    pub id_token_lifetime: u64,
    pub refresh_token_lifetime: u64,
    /// Seconds an authorization code stays usable (RFC 6749 4.1.2 recommends at most 600).
    pub code_lifetime: u64,
    /// Seconds a sign-in lasts. Default 12 hours.
    pub session_lifetime: u64,
    /// Allow `http` redirect URIs on any host, not only loopback.
    pub allow_http_redirects: bool,
    /// Lets network peers use the admin API with `Authorization: Bearer <token>`.
    pub admin_token: Option<String>,
    pub users: Vec<User>,
    pub clients: Vec<Client>,
    /// Tenants served by path (`/{name}/...`) from the start; others are
    /// created on first use.
    pub tenants: Vec<TenantConfig>,
    /// Extra claims for matching tokens (see [`ClaimMapping`]).
    pub claim_mappings: Vec<ClaimMapping>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            issuer: None,
            access_token_lifetime: 300,
            id_token_lifetime: 300,
            refresh_token_lifetime: 86_400,
            code_lifetime: 60,
            session_lifetime: 12 * 3600,
            allow_http_redirects: false,
            admin_token: None,
            users: Vec::new(),
            clients: Vec::new(),
            tenants: Vec::new(),
            claim_mappings: Vec::new(),
        }
    }
}

/// A user who can log in (by username, no password), with extra claims that
/// go into their tokens and userinfo.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub username: String,
    #[serde(default)]
    pub claims: Map<String, Value>,
}

/// Longest username accepted, in bytes.
const MAX_USERNAME: usize = 256;
/// Largest set of extra claims per user, in bytes of JSON: they go into every
/// token, and a token must fit in an `Authorization` header.
pub const MAX_CLAIMS: usize = 8 * 1024;
/// Longest client id, and longest name, URI or scope of a registration, in bytes.
const MAX_CLIENT_ID: usize = 256;
const MAX_TEXT: usize = 2048;
/// Most entries in each list of a registration (redirect URIs, grant types...).
const MAX_LIST: usize = 32;

impl User {
    /// Read a user from JSON (`{"username": "xtof", "claims": {...}}`) and check it.
    pub fn from_json(json: &str) -> Result<User> {
        let user: User = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("invalid user: {e}")))?;
        user.check()?;
        Ok(user)
    }

    /// What every way of adding a user enforces: the config file, the admin
    /// API, the sign-in form and the bindings' `upsert_user`.
    pub fn check(&self) -> Result<()> {
        if self.username.trim().is_empty() {
            return Err(Error::invalid_argument("username is required"));
        }
        if self.username.len() > MAX_USERNAME || self.username.chars().any(char::is_control) {
            return Err(Error::invalid_argument(format!(
                "username must be at most {MAX_USERNAME} bytes with no control characters"
            )));
        }
        let size = Value::Object(self.claims.clone()).to_string().len();
        if size > MAX_CLAIMS {
            return Err(Error::invalid_argument(format!(
                "the user's claims take {size} bytes as JSON; at most {MAX_CLAIMS} are kept (they go into every token)"
            )));
        }
        Ok(())
    }
}

/// A client registration (RFC 7591 2 metadata, plus the original's extras).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Client {
    pub client_id: String,
    /// None for a public client that only authenticates with PKCE.
    pub client_secret: Option<String>,
    #[serde(alias = "client_name")]
    pub name: String,
    #[serde(alias = "client_uri")]
    pub uri: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub scope: String,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub permission_groups: Vec<String>,
    /// A browser app: may use the token endpoint without a secret, PKCE required.
    pub public: bool,
    /// The user who registered it on the web form, if any.
    pub owner: Option<String>,
    /// Accept `code_challenge_method=plain` from this public client (RFC 7636 4.2);
    /// otherwise a public client must use S256.
    pub allow_plain_pkce: bool,
}

impl Default for Client {
    fn default() -> Client {
        Client {
            client_id: String::new(),
            client_secret: None,
            name: String::new(),
            uri: String::new(),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            allowed_origins: Vec::new(),
            scope: "openid profile email".into(),
            grant_types: vec![
                "authorization_code".into(),
                "refresh_token".into(),
                "client_credentials".into(),
            ],
            response_types: vec!["code".into()],
            permission_groups: Vec::new(),
            public: false,
            owner: None,
            allow_plain_pkce: false,
        }
    }
}

impl Client {
    pub fn allows_grant(&self, grant: &str) -> bool {
        // A public client has no credentials to act on its own (RFC 6749 4.4).
        if self.public && grant == "client_credentials" {
            return false;
        }
        // A refresh token is part of the authorization-code grant (RFC 6749 1.5).
        self.grant_types.iter().any(|g| g == grant)
            || (grant == "refresh_token" && self.allows_grant("authorization_code"))
    }

    /// Exact match (RFC 6749 3.1.2.3, RFC 9700 4.1.3), where an empty path equals
    /// "/" (RFC 3986 6.2.3): `http://localhost:5001` and `http://localhost:5001/` are one URI.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| same_uri(r, uri))
    }

    pub fn has_logout_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .chain(&self.redirect_uris)
            .any(|r| same_uri(r, uri))
    }

    /// Read a client registration from JSON (the config file's fields), with
    /// [`Client::normalize`] applied; unchecked.
    pub fn parse_json(json: &str) -> Result<Client> {
        let mut client: Client = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("invalid client: {e}")))?;
        client.normalize();
        Ok(client)
    }

    /// Read a client registration from JSON (the config file's fields) and
    /// check it with the default policy (`http` redirect URIs on loopback only).
    pub fn from_json(json: &str) -> Result<Client> {
        let client = Client::parse_json(json)?;
        client.check()?;
        Ok(client)
    }

    /// A client without a secret, or with an empty one, is public: it never
    /// authenticates with an empty password.
    pub fn normalize(&mut self) {
        if self.client_secret.as_deref().is_some_and(str::is_empty) {
            self.client_secret = None;
        }
        if self.client_secret.is_none() {
            self.public = true;
        }
    }

    /// The secret it authenticates with; never an empty one.
    pub fn secret(&self) -> Option<&str> {
        self.client_secret.as_deref().filter(|s| !s.is_empty())
    }

    /// A public client has no secret to prove who it is (RFC 6749 2.1).
    pub fn is_public(&self) -> bool {
        self.public || self.secret().is_none()
    }

    /// [`Client::check_with`] the default policy: `http` redirect URIs on loopback only.
    pub fn check(&self) -> Result<()> {
        self.check_with(false)
    }

    /// What every registration must satisfy, whichever way it arrives: the
    /// config file, the admin API, the web form, dynamic registration and the
    /// bindings' `upsert_client`. `allow_http` is the config's
    /// `allow_http_redirects`: `http` redirect URIs on any host.
    pub fn check_with(&self, allow_http: bool) -> Result<()> {
        if self.client_id.is_empty() {
            return Err(Error::invalid_argument("client id is required"));
        }
        if self.client_id.len() > MAX_CLIENT_ID || self.client_id.chars().any(char::is_control) {
            return Err(Error::invalid_argument(format!(
                "client id must be at most {MAX_CLIENT_ID} bytes with no control characters"
            )));
        }
        for (what, text) in [
            ("name", &self.name),
            ("uri", &self.uri),
            ("scope", &self.scope),
        ] {
            if text.len() > MAX_TEXT {
                return Err(Error::invalid_argument(format!(
                    "{what} must be at most {MAX_TEXT} bytes"
                )));
            }
        }
        for (what, list) in [
            ("redirect URIs", &self.redirect_uris),
            ("post-logout redirect URIs", &self.post_logout_redirect_uris),
            ("allowed origins", &self.allowed_origins),
            ("grant types", &self.grant_types),
            ("response types", &self.response_types),
            ("permission groups", &self.permission_groups),
        ] {
            if list.len() > MAX_LIST {
                return Err(Error::invalid_argument(format!(
                    "at most {MAX_LIST} {what} per client"
                )));
            }
            if let Some(long) = list.iter().find(|s| s.len() > MAX_TEXT) {
                return Err(Error::invalid_argument(format!(
                    "{what}: {:?}... is longer than {MAX_TEXT} bytes",
                    long.chars().take(40).collect::<String>()
                )));
            }
        }
        if self.grant_types.iter().any(|g| g == "authorization_code")
            && self.redirect_uris.is_empty()
        {
            return Err(Error::invalid_argument(
                "at least one redirect URI is required for authorization_code",
            ));
        }
        for uri in self
            .redirect_uris
            .iter()
            .chain(&self.post_logout_redirect_uris)
        {
            check_redirect_uri(uri, allow_http).map_err(Error::invalid_argument)?;
        }
        Ok(())
    }

    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.client_id
        } else {
            &self.name
        }
    }
}

/// Where a browser may be sent back to (RFC 6749 3.1.2, RFC 9700 2.1, RFC 8252
/// 7.1): `https`; `http` on a loopback host (any host with `allow_http`); or
/// a native app's private-use scheme, which has a dot (`com.example.app:/cb`).
/// Never a fragment, and never a scheme a browser runs or reads locally
/// (`javascript:`, `data:`, `file:`...).
pub fn check_redirect_uri(uri: &str, allow_http: bool) -> std::result::Result<(), String> {
    if uri.contains('#') {
        return Err(format!("redirect URI {uri:?} must have no fragment"));
    }
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "redirect URI {uri:?} must have no spaces or control characters"
        ));
    }
    let absolute = || {
        format!(
            "redirect URI {uri:?} must be absolute: https, http on loopback, or a private-use scheme like com.example.app:/callback"
        )
    };
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(absolute());
    };
    let valid_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !valid_scheme || rest.is_empty() {
        return Err(absolute());
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => authority_host(rest)
            .map(drop)
            .ok_or_else(|| format!("redirect URI {uri:?} needs a host")),
        "http" => {
            let host = authority_host(rest)
                .ok_or_else(|| format!("redirect URI {uri:?} needs a host"))?;
            if allow_http || is_loopback_host(host) {
                Ok(())
            } else {
                Err(format!(
                    "redirect URI {uri:?}: http is for loopback hosts only (localhost, 127.0.0.1, [::1]); use https, or set allow_http_redirects = true in the config"
                ))
            }
        }
        // RFC 8252 7.1: a reverse domain name, so it has a dot.
        private if private.contains('.') => Ok(()),
        _ => Err(format!(
            "redirect URI {uri:?}: the {scheme}: scheme is not allowed; use https, http on loopback, or a private-use scheme with a dot (com.example.app:/callback, RFC 8252 7.1)"
        )),
    }
}

/// The host of `//host[:port]/...`, without user info; `None` when there is none.
fn authority_host(rest: &str) -> Option<&str> {
    let after = rest.strip_prefix("//")?;
    let authority = after.split(['/', '?']).next().unwrap_or("");
    if authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = if host.starts_with('[') {
        host.len() > 2 && host.ends_with(']')
    } else {
        !host.is_empty() && !host.contains([':', '[', ']'])
    };
    (host_ok && port_ok).then_some(host)
}

/// `localhost`, `127.0.0.1` or `[::1]` (RFC 8252 7.3), in any case.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
}

fn same_uri(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

fn normalize(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest))
            if !rest.contains('/') && !rest.contains('?') && !rest.contains('#') =>
        {
            format!("{scheme}://{rest}/")
        }
        _ => uri.to_string(),
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read config", path, &e))?;
        Config::parse(&text).map_err(|e| e.context(path.display()))
    }

    pub fn parse(text: &str) -> Result<Config> {
        let mut config: Config = toml::from_str(text)
            .map_err(|e| Error::invalid_argument(e.to_string().trim_end().to_string()))?;
        for client in &mut config.clients {
            client.normalize();
            let which = format!("client {:?}", client.client_id);
            client
                .check_with(config.allow_http_redirects)
                .map_err(|e| e.context(which))?;
        }
        if config.admin_token.is_some() {
            check_admin_token(config.admin_token.as_deref())
                .map_err(|e| e.context("admin_token"))?;
        }
        for user in &config.users {
            user.check().map_err(|e| e.context("a user"))?;
        }
        config.check_tenants()?;
        if config.claim_mappings.len() > MAX_MAPPINGS {
            return Err(Error::invalid_argument(format!(
                "at most {MAX_MAPPINGS} claim_mappings"
            )));
        }
        for (i, mapping) in config.claim_mappings.iter().enumerate() {
            mapping
                .check()
                .map_err(|e| e.context(format!("claim_mappings[{i}]")))?;
        }
        Ok(config)
    }

    fn check_tenants(&self) -> Result<()> {
        if self.tenants.len() > MAX_TENANTS {
            return Err(Error::invalid_argument(format!(
                "at most {MAX_TENANTS} tenants"
            )));
        }
        for (i, tenant) in self.tenants.iter().enumerate() {
            tenant
                .check()
                .map_err(|e| e.context(format!("tenants[{i}]")))?;
            if self.tenants[..i].iter().any(|t| t.name == tenant.name) {
                return Err(Error::invalid_argument(format!(
                    "tenants[{i}]: tenant {:?} is declared twice",
                    tenant.name
                )));
            }
        }
        Ok(())
    }
}

/// Shortest admin token accepted: it guards the admin API from the network.
pub const MIN_ADMIN_TOKEN: usize = 16;

/// An admin token, when given, must be long enough to guess at no rate.
pub fn check_admin_token(token: Option<&str>) -> Result<()> {
    match token {
        Some(t)
            if t.len() < MIN_ADMIN_TOKEN
                || t.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Err(Error::invalid_argument(format!(
                "the admin token must be at least {MIN_ADMIN_TOKEN} characters, with no spaces"
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_config_names_line_and_reason() {
        let err = Config::parse("issuer = \"x\"\n[[clients]]\nclient_idd = \"t\"\n").unwrap_err();
        assert!(err.message().contains("line 3"), "{err}");
        assert!(err.message().contains("client_idd"), "{err}");
    }

    #[test]
    fn tenants_and_claim_mappings_are_checked_at_load() {
        let config = Config::parse(
            "[[tenants]]\nname = \"acme\"\n[[tenants]]\nname = \"b2c\"\nissuer = \"https://login.example/b2c/v2.0\"\n\
             [[claim_mappings]]\nclient_id = \"svc\"\nclaims = { roles = [\"reader\"], on_behalf = \"${sub}\" }\n",
        )
        .unwrap();
        assert_eq!(config.tenants.len(), 2);
        assert_eq!(config.claim_mappings[0].client_id.as_deref(), Some("svc"));
        for (text, reason) in [
            ("[[tenants]]\nname = \"../x\"\n", "tenants[0]: tenant name"),
            (
                "[[tenants]]\nname = \"a\"\n[[tenants]]\nname = \"a\"\n",
                "declared twice",
            ),
            (
                "[[tenants]]\nname = \"admin\"\n",
                "taken by the server's own routes",
            ),
            (
                "[[claim_mappings]]\nclaims = { a = \"${user}\" }\n",
                "claim_mappings[0]: claim a: unknown template ${user}",
            ),
        ] {
            let err = Config::parse(text).unwrap_err();
            assert!(err.message().contains(reason), "{text}: {err}");
        }
    }

    #[test]
    fn empty_path_equals_slash() {
        let client = Client {
            redirect_uris: vec!["http://localhost:5001".into()],
            ..Client::default()
        };
        assert!(client.has_redirect_uri("http://localhost:5001/"));
        assert!(!client.has_redirect_uri("http://localhost:5001/x"));
        assert!(!client.has_redirect_uri("http://localhost:50011/"));
    }

    #[test]
    fn redirect_uri_policy() {
        for ok in [
            "https://a.example/cb",
            "HTTPS://A.example:443/cb?x=1",
            "http://localhost:5001",
            "http://LOCALHOST./cb",
            "http://127.0.0.1/cb",
            "http://[::1]:1/cb",
            "com.example.app:/cb",
        ] {
            assert!(check_redirect_uri(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://a.example/cb",
            "http://[::1/cb",
            "http://localhost:/cb",
            "http://localhost:80x/cb",
            "https://user@a.example/cb",
            "javascript:alert(1)",
            "data:,x",
            "file:///etc/passwd",
            "myapp:/cb",
            "1com.example:/cb",
            "com.example.app:",
            "https://a.example/cb#",
        ] {
            assert!(check_redirect_uri(bad, false).is_err(), "{bad}");
        }
        assert!(check_redirect_uri("http://a.example/cb", true).is_ok());
        assert!(check_redirect_uri("javascript:alert(1)", true).is_err());
    }

    #[test]
    fn an_empty_secret_makes_a_public_client() {
        let mut client = Client::parse_json(r#"{"client_id": "c", "client_secret": ""}"#).unwrap();
        assert_eq!(
            (client.client_secret.as_deref(), client.public),
            (None, true)
        );
        client.client_secret = Some(String::new());
        client.public = false;
        assert!(client.is_public() && client.secret().is_none());
    }
}
