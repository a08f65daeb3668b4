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
/// How long a fetched key set is trusted before it is fetched again: the JWKS
/// response's `Cache-Control: max-age` (RFC 9111 5.2.2.1), held within these
/// bounds, so a key the provider removed stops validating within a day at
/// most, and a provider saying `no-cache` is not asked on every token.
pub const MIN_KEYS_TTL: Duration = Duration::from_secs(5 * 60);
pub const MAX_KEYS_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Bound on every request: a provider that is down is an error, never a hang.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Discovery documents and key sets are small; refuse anything huge.
const MAX_BODY: u64 = 1024 * 1024;

#[derive(Debug)]
pub struct Provider {
    metadata: Value,
    jwks_uri: String,
    keys: RwLock<Arc<JwkSet>>,
    last_fetch: Mutex<Instant>,
    /// When the current key set was fetched, and its `max-age`.
    keys_fetched: Mutex<(Instant, Option<Duration>)>,
    ttl_bounds: (Duration, Duration),
    min_refresh: Duration,
    agent: ureq::Agent,
}

/// What a provider URL means: the document to fetch for it. A `.well-known`
/// URL, the original oatk's `/oauth/well-known` or a `.json` file is used as
/// is; anything else is an issuer, whose configuration lives at
/// `{issuer}/.well-known/openid-configuration` (OIDC Discovery 4). The
/// browser script (`oatk.js`) applies the same rule; tests/vectors/provider-urls.json
/// holds the cases both run.
pub fn discovery_url(url: &str) -> String {
    let url = url.trim();
    if url.contains("/.well-known/") || url.ends_with("/oauth/well-known") || url.ends_with(".json")
    {
        url.to_string()
    } else {
        format!(
            "{}/.well-known/openid-configuration",
            url.trim_end_matches('/')
        )
    }
}

/// OIDC Discovery 4.3: the `issuer` a discovery document names must be the
/// URL it was discovered from (the part before `/.well-known/...`, or before
/// the original oatk's `/oauth/well-known`), trailing slash aside. A
/// templated issuer (`https://login.microsoftonline.com/{tenantid}/v2.0`)
/// matches with any one path segment in place of `{tenantid}`. A `.json`
/// document at another path has no URL to compare with.
fn check_issuer(given: &str, discovery_url: &str, document: &Value) -> Result<()> {
    let given = given.trim();
    let base = match given.split_once("/.well-known/") {
        Some((base, _)) => base,
        None if given.ends_with("/oauth/well-known") => given.trim_end_matches("/oauth/well-known"),
        None if given.ends_with(".json") => return Ok(()),
        None => given,
    }
    .trim_end_matches('/');
    let issuer = document
        .get("issuer")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::network(format!("{discovery_url}: discovery document has no issuer"))
        })?;
    let wanted = issuer.trim_end_matches('/');
    let matches = match wanted.split_once(crate::validate::TENANT_TEMPLATE) {
        Some((prefix, suffix)) => base
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|tenant| !tenant.is_empty() && !tenant.contains('/')),
        None => base == wanted,
    };
    if matches {
        Ok(())
    } else {
        Err(Error::network(format!(
            "{discovery_url} names the issuer {issuer:?}, not {base:?} it was discovered from \
             (OpenID Connect Discovery 4.3): use the provider's own issuer URL"
        )))
    }
}

impl Provider {
    /// Read the provider's discovery document and keys. `url` is an issuer
    /// (`https://accounts.google.com`), a `.well-known/...` URL, or a JWKS URL.
    pub fn discover(url: &str) -> Result<Provider> {
        Provider::discover_with_timeout(url, DEFAULT_TIMEOUT)
    }

    /// [`Provider::discover`] with another bound on each request to the
    /// provider, this one and every later refetch (default
    /// [`DEFAULT_TIMEOUT`]): for tests of a provider that is slow or silent.
    pub fn discover_with_timeout(url: &str, timeout: Duration) -> Result<Provider> {
        let agent = agent(timeout);
        if !(url.trim().starts_with("http://") || url.trim().starts_with("https://")) {
            return Err(Error::invalid_argument(format!(
                "provider URL must start with http:// or https://, got {url:?}"
            )));
        }
        let discovery_url = discovery_url(url);
        let document = get_json(&agent, &discovery_url)?;
        let (metadata, jwks_uri, keys) = if document.body.get("keys").is_some() {
            // The URL was a JWKS itself.
            let keys = JwkSet::from_value(&document.body).map_err(|e| e.context(&discovery_url))?;
            (
                Value::Null,
                discovery_url.clone(),
                Fetched {
                    body: keys,
                    max_age: document.max_age,
                },
            )
        } else {
            let document = document.body;
            check_issuer(url, &discovery_url, &document)?;
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
            keys_fetched: Mutex::new((Instant::now(), keys.max_age)),
            keys: RwLock::new(Arc::new(keys.body)),
            last_fetch: Mutex::new(Instant::now()),
            ttl_bounds: (MIN_KEYS_TTL, MAX_KEYS_TTL),
            min_refresh: DEFAULT_MIN_REFRESH,
            agent,
        })
    }

    /// Change the bounds on a key set's `max-age` (tests shorten them).
    pub fn with_keys_ttl_bounds(mut self, min: Duration, max: Duration) -> Provider {
        self.ttl_bounds = (min, max.max(min));
        self
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

    /// The current set if it needs no refetch now: what a caller that must
    /// not wait on the network (a cache hit) can verify against.
    pub fn keys_if_fresh(&self) -> Option<Arc<JwkSet>> {
        let fetched = *self.keys_fetched.lock().unwrap_or_else(|p| p.into_inner());
        (!self.due(fetched)).then(|| self.keys())
    }

    /// Whether a set fetched at `fetched.0`, with `max-age` `fetched.1`, is to be fetched again.
    fn due(&self, fetched: (Instant, Option<Duration>)) -> bool {
        let (min, max) = self.ttl_bounds;
        fetched.0.elapsed() >= fetched.1.unwrap_or(min).clamp(min, max)
    }

    /// The keys to verify with now: the current set, fetched again first
    /// when its `max-age` has passed. One caller fetches while the others go
    /// on with the current set; when the fetch fails the current set stays (a
    /// provider blip must not fail every token) until the next expiry.
    pub fn fresh_keys(&self) -> Arc<JwkSet> {
        let due = {
            let mut fetched = self.keys_fetched.lock().unwrap_or_else(|p| p.into_inner());
            let due = self.due(*fetched);
            if due {
                fetched.0 = Instant::now(); // claimed: nobody else fetches now
            }
            due
        };
        if due {
            let _ = self.fetch();
        }
        self.keys()
    }

    /// Refetch the JWKS unless one was fetched less than `min_refresh` ago
    /// (for an unknown `kid`). Returns whether a new set was installed.
    pub fn refresh(&self) -> Result<bool> {
        {
            let mut last = self.last_fetch.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < self.min_refresh {
                return Ok(false);
            }
            *last = Instant::now();
        }
        self.fetch()?;
        Ok(true)
    }

    fn fetch(&self) -> Result<()> {
        let keys = fetch_keys(&self.agent, &self.jwks_uri)?;
        *self.keys_fetched.lock().unwrap_or_else(|p| p.into_inner()) =
            (Instant::now(), keys.max_age);
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys.body);
        Ok(())
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    // One crypto backend for everything: rustls on aws-lc-rs, like the JWT code.
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("oatk/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// A response body and how long it may be reused.
struct Fetched<T> {
    body: T,
    max_age: Option<Duration>,
}

/// `Cache-Control: max-age=N` (RFC 9111 5.2.2.1); `no-cache`/`no-store` mean 0.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let directive = directive.trim();
        match directive.split_once('=') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("max-age") => value
                .trim()
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs),
            None if directive.eq_ignore_ascii_case("no-cache")
                || directive.eq_ignore_ascii_case("no-store") =>
            {
                Some(Duration::ZERO)
            }
            _ => None,
        }
    })
}

fn fetch_keys(agent: &ureq::Agent, url: &str) -> Result<Fetched<JwkSet>> {
    let fetched = get_json(agent, url)?;
    Ok(Fetched {
        body: JwkSet::from_value(&fetched.body).map_err(|e| e.context(url))?,
        max_age: fetched.max_age,
    })
}

fn get_json(agent: &ureq::Agent, url: &str) -> Result<Fetched<Value>> {
    let mut response = agent
        .get(url)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| Error::network(format!("cannot reach {url}: {e}")))?;
    let status = response.status();
    let max_age = response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
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
    let body = serde_json::from_str(&body)
        .map_err(|e| Error::network(format!("{url} did not return JSON: {e}")))?;
    Ok(Fetched { body, max_age })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_max_age() {
        let secs = |s: &str| max_age(s).map(|d| d.as_secs());
        assert_eq!(secs("public, max-age=19204, must-revalidate"), Some(19204));
        assert_eq!(secs("Max-Age = \"60\""), Some(60));
        assert_eq!(secs("no-cache"), Some(0));
        assert_eq!(secs("private"), None);
        assert_eq!(secs("max-age=-1"), None);
    }
}
