//! A remote identity provider: OIDC discovery (OpenID Connect Discovery 1.0 4,
//! RFC 8414 3) and its JWKS, refetched when a token names an unknown `kid`.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::jwk::JwkSet;

/// Refetch the JWKS at most this often, so a flood of tokens with made-up
/// `kid`s cannot turn into a flood of requests to the provider.
pub const DEFAULT_MIN_REFRESH: Duration = Duration::from_secs(30);
/// Bound on every request: a provider that is down is an error, never a hang.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Discovery documents and key sets are small; refuse anything huge.
const MAX_BODY: u64 = 1024 * 1024;

#[derive(Debug)]
pub struct Provider {
    metadata: Value,
    jwks_uri: String,
    keys: RwLock<Arc<JwkSet>>,
    last_fetch: Mutex<Instant>,
    min_refresh: Duration,
    agent: ureq::Agent,
}

impl Provider {
    /// Read the provider's discovery document and keys. `url` is an issuer
    /// (`https://accounts.google.com`), a `.well-known/...` URL, or a JWKS URL.
    pub fn discover(url: &str) -> Result<Provider> {
        let agent = agent();
        let url = url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::invalid_argument(format!(
                "provider URL must start with http:// or https://, got {url:?}"
            )));
        }
        let discovery_url = if url.contains("/.well-known/")
            || url.ends_with("/oauth/well-known")
            || url.ends_with(".json")
        {
            url.to_string()
        } else {
            format!(
                "{}/.well-known/openid-configuration",
                url.trim_end_matches('/')
            )
        };
        let document = get_json(&agent, &discovery_url)?;
        let (metadata, jwks_uri, keys) = if document.get("keys").is_some() {
            // The URL was a JWKS itself.
            let keys = JwkSet::from_value(&document).map_err(|e| e.context(&discovery_url))?;
            (Value::Null, discovery_url.clone(), keys)
        } else {
            let jwks_uri = document
                .get("jwks_uri")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Error::network(format!(
                        "{discovery_url}: discovery document has no jwks_uri"
                    ))
                })?
                .to_string();
            let keys = fetch_keys(&agent, &jwks_uri)?;
            (document, jwks_uri, keys)
        };
        Ok(Provider {
            metadata,
            jwks_uri,
            keys: RwLock::new(Arc::new(keys)),
            last_fetch: Mutex::new(Instant::now()),
            min_refresh: DEFAULT_MIN_REFRESH,
            agent,
        })
    }

    /// Change how often an unknown `kid` may trigger a refetch.
    pub fn with_min_refresh(mut self, interval: Duration) -> Provider {
        self.min_refresh = interval;
        self
    }

    /// The discovery document (`Null` when the URL was a JWKS).
    pub fn metadata(&self) -> &Value {
        &self.metadata
    }

    pub fn issuer(&self) -> Option<&str> {
        self.metadata.get("issuer").and_then(Value::as_str)
    }

    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }

    pub fn keys(&self) -> Arc<JwkSet> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Refetch the JWKS unless one was fetched less than `min_refresh` ago.
    /// Returns whether a new set was installed.
    pub fn refresh(&self) -> Result<bool> {
        {
            let mut last = self.last_fetch.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < self.min_refresh {
                return Ok(false);
            }
            *last = Instant::now();
        }
        let keys = fetch_keys(&self.agent, &self.jwks_uri)?;
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        Ok(true)
    }
}

fn agent() -> ureq::Agent {
    // One crypto backend for everything: rustls on aws-lc-rs, like the JWT code.
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .user_agent(concat!("oatk/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn fetch_keys(agent: &ureq::Agent, url: &str) -> Result<JwkSet> {
    JwkSet::from_value(&get_json(agent, url)?).map_err(|e| e.context(url))
}

fn get_json(agent: &ureq::Agent, url: &str) -> Result<Value> {
    let mut response = agent
        .get(url)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| Error::network(format!("cannot reach {url}: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::network(format!(
            "{url} answered HTTP {}",
            status.as_u16()
        )));
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string()
        .map_err(|e| Error::network(format!("cannot read {url}: {e}")))?;
    serde_json::from_str(&body)
        .map_err(|e| Error::network(format!("{url} did not return JSON: {e}")))
}
