//! Issuers: the root one and the tenants served by path (`/{tenant}/...`, as
//! navikt's mock-oauth2-server does), each with its own `iss` and signing
//! keys. Key rotation and retirement, and the JWKS and discovery documents,
//! rendered again whenever the keys change (a reader clones an `Arc`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;

use super::discovery;
use super::State;
use crate::error::{Error, Result};
use crate::jwk::{Jwk, JwkSet};
use crate::key::{Algorithm, PrivateKey};
use crate::token::Claims;
use crate::toolkit::Toolkit;
use crate::validate::Validator;

/// The most tenants served: a request naming a new one creates it, so the
/// count is what bounds the state anonymous requests can make.
pub const MAX_TENANTS: usize = 100;
/// Longest tenant name, in bytes.
pub const MAX_TENANT_NAME: usize = 64;
/// The most keys one issuer publishes; retire old ones to rotate again.
pub const MAX_KEYS: usize = 10;
/// How long a client may reuse the JWKS (RFC 9111 5.2.2.1): a rotation adds
/// the new key beside the old, so a cached set only needs an unknown-`kid`
/// refetch, which clients do anyway.
pub const JWKS_CACHE_CONTROL: &str = "public, max-age=300";
/// First path segments the server's own routes use.
const RESERVED: [&str; 4] = ["admin", "oauth", "static", "debugger"];
/// Longest issuer string a tenant may be given.
const MAX_ISSUER: usize = 2048;

/// A tenant name is one path segment: 1 to 64 of `[A-Za-z0-9._-]`, starting
/// with a letter or digit (so never `.` or `..`), and not one of the
/// server's own first segments.
pub fn check_tenant_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= MAX_TENANT_NAME
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !valid {
        return Err(Error::invalid_argument(format!(
            "tenant name {:?} is not valid: 1 to {MAX_TENANT_NAME} characters of A-Z a-z 0-9 . _ -, starting with a letter or digit",
            name.chars().take(80).collect::<String>()
        )));
    }
    if RESERVED.contains(&name) {
        return Err(Error::invalid_argument(format!(
            "tenant name {name:?} is taken by the server's own routes ({})",
            RESERVED.join(", ")
        )));
    }
    Ok(())
}

/// A request path as (tenant, path within it): `/acme/oauth/token` is
/// `(Some("acme"), "/oauth/token")`; `/oauth/token` is `(None, "/oauth/token")`.
pub fn split_tenant(path: &str) -> (Option<&str>, &str) {
    let Some((first, rest)) = path
        .strip_prefix('/')
        .and_then(|after| after.find('/').map(|slash| after.split_at(slash)))
    else {
        return (None, path);
    };
    if check_tenant_name(first).is_ok() {
        (Some(first), rest)
    } else {
        (None, path)
    }
}

/// One key an issuer publishes, as the admin API and [`IssuerInfo`] show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    /// New tokens are signed with it.
    pub signing: bool,
    /// When it leaves the JWKS (server clock); `None`: when retired on request.
    pub retire_at: Option<i64>,
}

/// An issuer: the root (`tenant: None`) or a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuerInfo {
    pub tenant: Option<String>,
    /// The `iss` of its tokens.
    pub issuer: String,
    /// Where its endpoints are served: what `using_provider` is given.
    pub url: String,
    pub discovery_url: String,
    pub jwks_uri: String,
    /// The published keys, the signing one first.
    pub keys: Vec<KeyInfo>,
}

/// An issuer's keys at one moment, with the documents that publish them.
#[derive(Clone)]
pub(crate) struct Keyring {
    pub signer: Arc<PrivateKey>,
    pub alg: Algorithm,
    pub kid: String,
    /// What the JWKS publishes.
    published: JwkSet,
    /// What its tokens are verified with: the published keys and the signer's own.
    pub verify: Arc<JwkSet>,
    /// Keys published beside the signing one, and when each retires.
    older: Vec<(String, Option<i64>)>,
    pub jwks_json: Bytes,
    pub discovery_json: Bytes,
}

impl Keyring {
    fn new(signer: Arc<PrivateKey>, alg: Algorithm, kid: String, published: JwkSet) -> Keyring {
        let mut verify = published.clone();
        if verify.find_public(signer.public_key()).is_none() {
            if let Ok(own) = Jwk::new(signer.public_key().clone(), Some(alg), Some(kid.clone())) {
                verify.push(own);
            }
        }
        let older = published
            .keys()
            .iter()
            .map(|k| k.kid().to_string())
            .filter(|k| *k != kid)
            .map(|k| (k, None))
            .collect();
        Keyring {
            signer,
            alg,
            kid,
            published,
            verify: Arc::new(verify),
            older,
            jwks_json: Bytes::new(),
            discovery_json: Bytes::new(),
        }
    }

    /// A fresh key of `alg`, published alone.
    fn generate(alg: Algorithm) -> Result<Keyring> {
        let key = PrivateKey::generate(alg, None)?;
        let jwk = Jwk::new(key.public_key().clone(), Some(alg), None)?;
        let mut published = JwkSet::new();
        let kid = jwk.kid().to_string();
        published.push(jwk);
        Ok(Keyring::new(Arc::new(key), alg, kid, published))
    }

    /// The same keys without those `gone` names; the signing key always stays.
    fn without(&self, gone: impl Fn(&str) -> bool) -> Keyring {
        let keep = |jwk: &Jwk| {
            jwk.kid() == self.kid
                || jwk.public_key() == self.signer.public_key()
                || !gone(jwk.kid())
        };
        let filter = |set: &JwkSet| {
            let mut kept = JwkSet::new();
            for jwk in set.keys().iter().filter(|j| keep(j)) {
                kept.push(jwk.clone());
            }
            kept
        };
        Keyring {
            published: filter(&self.published),
            verify: Arc::new(filter(&self.verify)),
            older: self
                .older
                .iter()
                .filter(|(kid, _)| !gone(kid))
                .cloned()
                .collect(),
            ..self.clone()
        }
    }

    fn next_retirement(&self) -> i64 {
        self.older
            .iter()
            .filter_map(|(_, at)| *at)
            .min()
            .unwrap_or(i64::MAX)
    }

    fn key_infos(&self) -> Vec<KeyInfo> {
        let retire_at = |kid: &str| {
            self.older
                .iter()
                .find(|(k, _)| k == kid)
                .and_then(|(_, at)| *at)
        };
        let mut keys: Vec<KeyInfo> = self
            .published
            .keys()
            .iter()
            .map(|k| KeyInfo {
                kid: k.kid().to_string(),
                alg: k.alg().name().to_string(),
                signing: k.kid() == self.kid,
                retire_at: retire_at(k.kid()),
            })
            .collect();
        keys.sort_by_key(|k| !k.signing);
        keys
    }
}

/// The root issuer or a tenant.
pub(crate) struct Issuer {
    pub tenant: Option<String>,
    /// The `iss` of its tokens, byte for byte.
    pub issuer: String,
    /// Where its endpoints are: the root's base URL, plus `/{tenant}`.
    pub base: String,
    keyring: RwLock<Arc<Keyring>>,
    /// The earliest `retire_at` of its older keys; `i64::MAX` when none.
    next_retirement: AtomicI64,
    /// Where its current key is kept, when the server generated it on disk.
    key_file: Option<PathBuf>,
}

impl Issuer {
    fn new(
        tenant: Option<String>,
        issuer: String,
        base: String,
        mut keyring: Keyring,
        key_file: Option<PathBuf>,
    ) -> Issuer {
        render(&mut keyring, &issuer, &base);
        Issuer {
            tenant,
            issuer,
            base,
            next_retirement: AtomicI64::new(keyring.next_retirement()),
            keyring: RwLock::new(Arc::new(keyring)),
            key_file,
        }
    }

    /// The tenant's name; empty for the root (as the store keeps it).
    pub fn name(&self) -> &str {
        self.tenant.as_deref().unwrap_or("")
    }

    /// The path its endpoints are under: empty for the root, `/acme` for a tenant.
    pub fn path(&self) -> String {
        self.tenant
            .as_ref()
            .map(|name| format!("/{name}"))
            .unwrap_or_default()
    }

    /// Its name in messages: `the root issuer` or `tenant "acme"`.
    pub fn describe(&self) -> String {
        match &self.tenant {
            Some(name) => format!("tenant {name:?}"),
            None => "the root issuer".to_string(),
        }
    }

    /// Its keys as they are, retirements not applied.
    pub fn current(&self) -> Arc<Keyring> {
        match self.keyring.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Its keys at `now` (server clock): older keys whose time came are gone.
    pub fn keys(&self, now: i64) -> Arc<Keyring> {
        if now >= self.next_retirement.load(Ordering::Acquire) {
            self.change(|k| Ok(k.without(|kid| retires_by(k, kid, now))))
                .ok();
        }
        self.current()
    }

    /// Replace the keyring with what `f` makes of it, and publish it.
    fn change(&self, f: impl FnOnce(&Keyring) -> Result<Keyring>) -> Result<Arc<Keyring>> {
        let mut slot = self.keyring.write().unwrap_or_else(|p| p.into_inner());
        let mut next = f(&slot)?;
        render(&mut next, &self.issuer, &self.base);
        self.next_retirement
            .store(next.next_retirement(), Ordering::Release);
        let next = Arc::new(next);
        *slot = next.clone();
        Ok(next)
    }

    /// Publish a new signing key beside the old ones and sign with it from
    /// now on. The old ones retire `retire_after` seconds later (server
    /// clock), or with `None` when [`Issuer::retire`] is called.
    pub fn rotate(&self, now: i64, retire_after: Option<u64>) -> Result<String> {
        let alg = self.current().alg;
        let key = PrivateKey::generate(alg, None)?;
        let jwk = Jwk::new(key.public_key().clone(), Some(alg), None)?;
        let pem = match &self.key_file {
            Some(_) => Some(key.to_pkcs8_pem()?),
            None => None,
        };
        let retire_at = retire_after.map(|s| now.saturating_add(s.min(i64::MAX as u64) as i64));
        let changed = self.change(|old| {
            if old.published.len() >= MAX_KEYS {
                return Err(Error::invalid_argument(format!(
                    "{} publishes {MAX_KEYS} keys, the most it keeps: retire the old ones first (POST /admin/keys/retire)",
                    self.describe()
                )));
            }
            if let (Some(path), Some(pem)) = (&self.key_file, &pem) {
                replace_key_file(path, pem.as_bytes())?;
            }
            let mut older = old.older.clone();
            older.push((old.kid.clone(), None));
            if let Some(at) = retire_at {
                for (_, when) in &mut older {
                    *when = Some(when.map_or(at, |w| w.min(at)));
                }
            }
            let mut published = old.published.clone();
            let mut verify = (*old.verify).clone();
            published.push(jwk.clone());
            verify.push(jwk.clone());
            Ok(Keyring {
                signer: Arc::new(key),
                alg,
                kid: jwk.kid().to_string(),
                published,
                verify: Arc::new(verify),
                older,
                ..old.clone()
            })
        })?;
        // With retire_after 0 the old keys go at once.
        self.keys(now);
        Ok(changed.kid.clone())
    }

    /// Remove every key but the signing one; returns how many went.
    pub fn retire(&self) -> usize {
        let before = self.current().published.len();
        let after = self
            .change(|k| Ok(k.without(|_| true)))
            .map(|k| k.published.len())
            .unwrap_or(before);
        before.saturating_sub(after)
    }

    /// Verify one of its own tokens: its keys, its `iss`, the server's clock.
    pub fn validate(&self, token: &str, now: i64) -> Result<Claims> {
        let keys = self.keys(now);
        Validator {
            issuer: Some(self.issuer.clone()),
            now: Some(now),
            ..Validator::default()
        }
        .validate(token, &keys.verify)
    }

    pub fn info(&self, now: i64) -> IssuerInfo {
        IssuerInfo {
            tenant: self.tenant.clone(),
            issuer: self.issuer.clone(),
            url: self.base.clone(),
            discovery_url: format!("{}/.well-known/openid-configuration", self.base),
            jwks_uri: format!("{}/oauth/certs", self.base),
            keys: self.keys(now).key_infos(),
        }
    }
}

/// Whether `kid`, an older key of `keys`, is due to retire at `now`.
fn retires_by(keys: &Keyring, kid: &str, now: i64) -> bool {
    keys.older
        .iter()
        .any(|(k, at)| k == kid && at.is_some_and(|at| now >= at))
}

fn render(keyring: &mut Keyring, issuer: &str, base: &str) {
    keyring.jwks_json = keyring.published.to_value().to_string().into();
    keyring.discovery_json = discovery::document(issuer, base, keyring.alg)
        .to_string()
        .into();
}

/// Write a key file whole or not at all: a crash never leaves half a key.
fn replace_key_file(path: &std::path::Path, pem: &[u8]) -> Result<()> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".new");
    let temp = PathBuf::from(temp);
    crate::key::write_private(&temp, pem)?;
    std::fs::rename(&temp, path).map_err(|e| Error::io("replace", path, &e))
}

/// A tenant as the config file declares it.
#[derive(Debug, Clone, serde::Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub name: String,
    /// Default `{root issuer}/{name}`.
    #[serde(default)]
    pub issuer: Option<String>,
}

impl TenantConfig {
    pub fn check(&self) -> Result<()> {
        check_tenant_name(&self.name)?;
        if let Some(issuer) = &self.issuer {
            if issuer.is_empty()
                || issuer.len() > MAX_ISSUER
                || issuer.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(Error::invalid_argument(format!(
                    "tenant {:?}: issuer must be 1 to {MAX_ISSUER} bytes with no spaces or control characters",
                    self.name
                )));
            }
        }
        Ok(())
    }
}

/// The root issuer and the tenants, created on first use up to [`MAX_TENANTS`].
pub(crate) struct Issuers {
    pub root: Arc<Issuer>,
    tenants: RwLock<BTreeMap<String, Arc<Issuer>>>,
    /// Where tenants keep their generated keys, when the server persists.
    key_dir: Option<PathBuf>,
}

impl Issuers {
    /// The root signs with `signer`'s key and publishes its JWKS; its key
    /// file is where a generated key lives (rotation replaces it).
    pub fn new(
        signer: &Toolkit,
        issuer: String,
        key_file: Option<PathBuf>,
        key_dir: Option<PathBuf>,
    ) -> Result<Issuers> {
        let key = signer
            .signing_key()
            .cloned()
            .ok_or_else(|| Error::key("the fake server needs a private key to sign with"))?;
        let (alg, kid) = signer.signing_identity();
        let keyring = Keyring::new(key, alg, kid, signer.jwk_set());
        let base = issuer.trim_end_matches('/').to_string();
        Ok(Issuers {
            root: Arc::new(Issuer::new(None, issuer, base, keyring, key_file)),
            tenants: RwLock::new(BTreeMap::new()),
            key_dir,
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Issuer>>> {
        self.tenants.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The root (`None`) or the named tenant, created on first use.
    pub fn get(&self, tenant: Option<&str>) -> Result<Arc<Issuer>> {
        match tenant {
            None => Ok(self.root.clone()),
            Some(name) => match self.existing(name) {
                Some(found) => Ok(found),
                None => self.create(&TenantConfig {
                    name: name.to_string(),
                    issuer: None,
                }),
            },
        }
    }

    pub fn existing(&self, name: &str) -> Option<Arc<Issuer>> {
        self.read().get(name).cloned()
    }

    /// The root first, then the tenants by name.
    pub fn all(&self) -> Vec<Arc<Issuer>> {
        let mut all = vec![self.root.clone()];
        all.extend(self.read().values().cloned());
        all
    }

    /// Create a tenant (or return it when it exists with that issuer).
    pub fn create(&self, tenant: &TenantConfig) -> Result<Arc<Issuer>> {
        tenant.check()?;
        let issuer = tenant
            .issuer
            .clone()
            .unwrap_or_else(|| format!("{}/{}", self.root.base, tenant.name));
        if let Some(existing) = self.existing(&tenant.name) {
            return same_issuer(existing, &issuer);
        }
        if self.read().len() >= MAX_TENANTS {
            return Err(full());
        }
        // Outside the lock: an RSA key takes a moment to make.
        let (keyring, key_file) = self.tenant_keys(&tenant.name)?;
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = tenants.get(&tenant.name) {
            return same_issuer(existing.clone(), &issuer);
        }
        if tenants.len() >= MAX_TENANTS {
            return Err(full());
        }
        let base = format!("{}/{}", self.root.base, tenant.name);
        let created = Arc::new(Issuer::new(
            Some(tenant.name.clone()),
            issuer,
            base,
            keyring,
            key_file,
        ));
        tenants.insert(tenant.name.clone(), created.clone());
        Ok(created)
    }

    /// A tenant's key: in `{data}/tenants/{name}.pem` when the server
    /// persists (kept across restarts, as the root's), else new in memory.
    /// The root's algorithm.
    fn tenant_keys(&self, name: &str) -> Result<(Keyring, Option<PathBuf>)> {
        let alg = self.root.current().alg;
        let Some(dir) = &self.key_dir else {
            return Ok((Keyring::generate(alg)?, None));
        };
        let path = dir.join(format!("{name}.pem"));
        let key = if path.exists() {
            crate::key::load_private(&path)?
        } else {
            super::create_private_dir(dir)?;
            let key = PrivateKey::generate(alg, None)?;
            crate::key::write_private(&path, key.to_pkcs8_pem()?.as_bytes())?;
            key
        };
        let alg = if key.family() == alg.family() {
            alg
        } else {
            key.family().default_algorithm()
        };
        let jwk = Jwk::new(key.public_key().clone(), Some(alg), None)?;
        let mut published = JwkSet::new();
        let kid = jwk.kid().to_string();
        published.push(jwk);
        Ok((Keyring::new(Arc::new(key), alg, kid, published), Some(path)))
    }
}

fn full() -> Error {
    Error::invalid_argument(format!(
        "the fake server serves at most {MAX_TENANTS} tenants, and has them"
    ))
}

fn same_issuer(existing: Arc<Issuer>, issuer: &str) -> Result<Arc<Issuer>> {
    if existing.issuer == issuer {
        return Ok(existing);
    }
    Err(Error::invalid_argument(format!(
        "{} exists with the issuer {:?}",
        existing.describe(),
        existing.issuer
    )))
}

/// The issuer a request is for: the tenant its path names (the tenant
/// routes' layer puts it in the request), else the root.
pub(crate) struct At(pub Arc<Issuer>);

impl FromRequestParts<Arc<State>> for At {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<State>,
    ) -> Result<At, Self::Rejection> {
        Ok(At(parts
            .extensions
            .get::<Arc<Issuer>>()
            .cloned()
            .unwrap_or_else(|| state.issuers.root.clone())))
    }
}

impl std::ops::Deref for At {
    type Target = Issuer;
    fn deref(&self) -> &Issuer {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_paths() {
        assert_eq!(
            split_tenant("/acme/oauth/token"),
            (Some("acme"), "/oauth/token")
        );
        assert_eq!(split_tenant("/oauth/token"), (None, "/oauth/token"));
        assert_eq!(split_tenant("/admin/clients"), (None, "/admin/clients"));
        assert_eq!(
            split_tenant("/.well-known/openid-configuration"),
            (None, "/.well-known/openid-configuration")
        );
        assert_eq!(split_tenant("/acme"), (None, "/acme"));
        assert_eq!(split_tenant("/"), (None, "/"));
    }

    #[test]
    fn tenant_names() {
        for ok in ["acme", "a", "Tenant-1.v2_x", &"a".repeat(MAX_TENANT_NAME)] {
            assert!(check_tenant_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "-x",
            "a/b",
            "a b",
            "a%2fb",
            "ä",
            "admin",
            "oauth",
            "static",
            "debugger",
            &"a".repeat(MAX_TENANT_NAME + 1),
        ] {
            assert!(check_tenant_name(bad).is_err(), "{bad}");
        }
    }

    fn root() -> Issuers {
        let mut signer = Toolkit::new();
        signer.with_private_key(PrivateKey::generate(Algorithm::ES256, None).unwrap());
        Issuers::new(&signer, "http://localhost:1".into(), None, None).unwrap()
    }

    #[test]
    fn rotation_publishes_then_retires() {
        let issuers = root();
        let root = &issuers.root;
        let first = root.keys(0).kid.clone();
        let second = root.rotate(100, None).unwrap();
        assert_ne!(first, second);
        let keys = root.keys(100);
        assert_eq!(
            (keys.kid.as_str(), keys.published.len()),
            (second.as_str(), 2)
        );
        assert!(String::from_utf8_lossy(&keys.jwks_json).contains(&first));
        assert_eq!(root.retire(), 1);
        assert_eq!(root.keys(100).published.len(), 1);

        // With a grace period: gone when the (server) clock passes it.
        let third = root.rotate(1000, Some(60)).unwrap();
        assert_eq!(root.keys(1059).published.len(), 2);
        let after = root.keys(1060);
        assert_eq!(
            (after.kid.as_str(), after.published.len()),
            (third.as_str(), 1)
        );
        assert_eq!(after.verify.len(), 1, "a retired key verifies nothing");
        // retire_after 0: at once.
        root.rotate(2000, Some(0)).unwrap();
        assert_eq!(root.keys(2000).published.len(), 1);
    }

    #[test]
    fn at_most_max_keys() {
        let issuers = root();
        for _ in 1..MAX_KEYS {
            issuers.root.rotate(0, None).unwrap();
        }
        let err = issuers.root.rotate(0, None).unwrap_err();
        assert!(err.message().contains("retire"), "{err}");
    }

    #[test]
    fn tenants_are_capped_and_keep_their_issuer() {
        let issuers = root();
        let acme = issuers.get(Some("acme")).unwrap();
        assert_eq!(acme.issuer, "http://localhost:1/acme");
        assert!(Arc::ptr_eq(&acme, &issuers.get(Some("acme")).unwrap()));
        let clash = issuers.create(&TenantConfig {
            name: "acme".into(),
            issuer: Some("https://elsewhere".into()),
        });
        assert!(clash.is_err());
        for i in 1..MAX_TENANTS {
            issuers.get(Some(&format!("t{i}"))).unwrap();
        }
        let err = issuers.get(Some("one-too-many")).err().unwrap();
        assert!(err.message().contains("at most"), "{err}");
        assert_eq!(issuers.all().len(), MAX_TENANTS + 1);
    }
}
