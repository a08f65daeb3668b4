//! `--config oatk.toml`: issuer, lifetimes, users and pre-registered clients,
//! so a test suite can start a server with everything in place and no clicks.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
    pub users: Vec<User>,
    pub clients: Vec<Client>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            issuer: None,
            access_token_lifetime: 300,
            id_token_lifetime: 300,
            refresh_token_lifetime: 86_400,
            code_lifetime: 60,
            users: Vec::new(),
            clients: Vec::new(),
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

    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.client_id
        } else {
            &self.name
        }
    }
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
        let config: Config = toml::from_str(text)
            .map_err(|e| Error::invalid_argument(e.to_string().trim_end().to_string()))?;
        for client in &config.clients {
            if client.client_id.is_empty() {
                return Err(Error::invalid_argument("a client has an empty client_id"));
            }
        }
        for user in &config.users {
            if user.username.trim().is_empty() {
                return Err(Error::invalid_argument("a user has an empty username"));
            }
        }
        Ok(config)
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
    fn empty_path_equals_slash() {
        let client = Client {
            redirect_uris: vec!["http://localhost:5001".into()],
            ..Client::default()
        };
        assert!(client.has_redirect_uri("http://localhost:5001/"));
        assert!(!client.has_redirect_uri("http://localhost:5001/x"));
        assert!(!client.has_redirect_uri("http://localhost:50011/"));
    }
}
