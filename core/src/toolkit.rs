//! The chainable toolkit every front end wraps: the CLI, Python's
//! `OAuthToolkit`, Node's `OAuthToolkit`, C's `oatk_toolkit`.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::cache::TokenCache;
use crate::claims;
use crate::error::{Error, ErrorKind, Result};
use crate::jwk::{Jwk, JwkSet};
use crate::key::{self, Algorithm, PrivateKey, PublicKey};
use crate::provider::Provider;
use crate::token::{self, Claims};
use crate::validate::{self, Validator};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Keys, claims and validation settings. Setters take `&mut self`; minting and
/// validation take `&self` and are safe from many threads at once.
#[derive(Debug, Default)]
pub struct Toolkit {
    private: Option<Arc<PrivateKey>>,
    /// Our own public key (from `with_public`, or derived from `with_private`).
    own: Option<Jwk>,
    /// A loaded JWKS (`with_jwks`): what `jwks` publishes.
    published: Option<JwkSet>,
    provider: Option<Provider>,
    /// What tokens are verified against: published keys plus our own.
    verify_set: Arc<JwkSet>,
    algorithm: Option<Algorithm>,
    validator: Validator,
    claims: Claims,
    /// A token read by `from_file`, `from_clipboard` or `from_stdin`.
    current: Option<String>,
    /// The expected issuer came from a provider, not from `with_issuer`, so a
    /// later provider may replace it.
    issuer_from_provider: bool,
    /// `accept_any_audience` / `accept_any_issuer`: the provider rules waived.
    any_audience: bool,
    any_issuer: bool,
    /// Verified tokens, when `with_cache` asked for it.
    cache: Option<Arc<TokenCache>>,
}

impl Toolkit {
    pub fn new() -> Toolkit {
        Toolkit::default()
    }

    /// Sign with the private key in this PEM file; its public half is published
    /// and trusted too, so a private key alone is enough.
    pub fn with_private(&mut self, path: impl AsRef<Path>) -> Result<&mut Self> {
        let key = key::load_private(path)?;
        Ok(self.with_private_key(key))
    }

    pub fn with_private_pem(&mut self, pem: &str) -> Result<&mut Self> {
        let key = PrivateKey::from_pem(pem.as_bytes())?;
        Ok(self.with_private_key(key))
    }

    pub fn with_private_key(&mut self, key: PrivateKey) -> &mut Self {
        let public = key.public_key().clone();
        self.private = Some(Arc::new(key));
        self.set_own(public);
        self
    }

    pub fn with_public(&mut self, path: impl AsRef<Path>) -> Result<&mut Self> {
        let public = key::load_public(path)?;
        self.set_own(public);
        Ok(self)
    }

    pub fn with_public_pem(&mut self, pem: &str) -> Result<&mut Self> {
        let public = PublicKey::from_pem(pem.as_bytes())?;
        self.set_own(public);
        Ok(self)
    }

    /// Publish and trust this JWKS (a file path or the JSON text itself). Its
    /// first key's `kid` is used for minting, as the original did, unless the
    /// set holds our own key under another `kid`.
    pub fn with_jwks(&mut self, path_or_json: &str) -> Result<&mut Self> {
        let set = JwkSet::load(path_or_json)?;
        Ok(self.with_jwk_set(set))
    }

    pub fn with_jwk_set(&mut self, set: JwkSet) -> &mut Self {
        self.published = Some(set);
        self.rebuild();
        self
    }

    /// Trust the keys of a remote provider (OIDC discovery + `jwks_uri`).
    /// Tokens must then carry its `issuer` as `iss`, unless `with_issuer`
    /// names another (see [`Toolkit::with_provider`]).
    pub fn using_provider(&mut self, url: &str) -> Result<&mut Self> {
        Ok(self.with_provider(Provider::discover(url)?))
    }

    /// Keys that sign for one issuer may sign for others (a multi-tenant
    /// provider's shared JWKS), so the discovered issuer is enforced
    /// (RFC 8725 3.8); a templated one such as Microsoft's
    /// `https://login.microsoftonline.com/{tenantid}/v2.0` is matched with
    /// the token's `tid`. A provider's tokens must also carry `exp`, and
    /// validation refuses to run until an audience is set ([`Toolkit::with_client_id`])
    /// or waived ([`Toolkit::accept_any_audience`]): a provider signs tokens
    /// for every client it serves.
    pub fn with_provider(&mut self, provider: Provider) -> &mut Self {
        if self.validator.issuer.is_none() || self.issuer_from_provider {
            self.validator.issuer = provider.issuer().map(str::to_owned);
            self.issuer_from_provider = true;
        }
        self.validator.require_exp = true;
        self.provider = Some(provider);
        self
    }

    /// Waive the audience check a provider otherwise requires: tokens the
    /// provider issued to any client are accepted. For an API that really
    /// serves every client of its provider.
    pub fn accept_any_audience(&mut self) -> &mut Self {
        self.any_audience = true;
        self
    }

    /// Waive the issuer a provider given as a bare JWKS URL otherwise
    /// requires: any `iss` is accepted from tokens its keys signed.
    pub fn accept_any_issuer(&mut self) -> &mut Self {
        self.any_issuer = true;
        self
    }

    /// With a provider, what must be configured before a token is accepted.
    fn check_provider_setup(&self) -> Result<()> {
        let Some(provider) = &self.provider else {
            return Ok(());
        };
        if self.validator.audience.is_none() && !self.any_audience {
            return Err(Error::invalid_argument(
                "a provider signs tokens for all its clients: call with_client_id(\"<this API's client id>\") \
                 so only tokens meant for it (aud) pass, or accept_any_audience() to waive the check",
            ));
        }
        if self.validator.issuer.is_none() && !self.any_issuer {
            return Err(Error::invalid_argument(format!(
                "{} is a bare JWKS URL with no issuer: call with_issuer(\"<the provider's issuer>\"), \
                 or accept_any_issuer() to waive the check",
                provider.jwks_uri()
            )));
        }
        Ok(())
    }

    /// Tokens must then name this client in `aud` (RFC 7519 4.1.3).
    pub fn with_client_id(&mut self, client_id: &str) -> &mut Self {
        self.validator.audience = Some(client_id.to_string());
        self
    }

    /// Tokens must then carry exactly this `iss`.
    pub fn with_issuer(&mut self, issuer: &str) -> &mut Self {
        self.validator.issuer = Some(issuer.to_string());
        self.issuer_from_provider = false;
        self
    }

    /// Sign with this algorithm instead of the key family's default (RS256 for RSA).
    pub fn with_algorithm(&mut self, alg: Algorithm) -> Result<&mut Self> {
        if let Some(own) = &self.own {
            if own.public_key().family() != alg.family() {
                return Err(Error::key(format!("{alg} does not fit the loaded key")));
            }
        }
        self.algorithm = Some(alg);
        if let Some(own) = self.own.take() {
            self.set_own(own.public_key().clone());
        }
        Ok(self)
    }

    /// Validate as if the time were `now` (seconds since the epoch); `None`
    /// goes back to the system clock. For tests that need a token to expire
    /// or not be valid yet without sleeping.
    pub fn with_now(&mut self, now: Option<i64>) -> &mut Self {
        self.validator.now = now;
        self
    }

    /// Accept `exp` and `nbf` this many seconds off (RFC 7519 4.1.4 "some small leeway").
    pub fn with_leeway(&mut self, seconds: u64) -> &mut Self {
        self.validator.leeway = seconds;
        self
    }

    /// Require or allow (the default: the seed's tokens carry none) tokens without `exp`.
    pub fn with_require_exp(&mut self, required: bool) -> &mut Self {
        self.validator.require_exp = required;
        self
    }

    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// Leeway, required `exp`, clock: see [`Validator`].
    pub fn validator_mut(&mut self) -> &mut Validator {
        &mut self.validator
    }

    /// Read the token to work on from a file.
    pub fn from_file(&mut self, path: impl AsRef<Path>) -> Result<&mut Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, &e))?;
        Ok(self.with_token(&text))
    }

    /// Read the token to work on from the system clipboard.
    pub fn from_clipboard(&mut self) -> Result<&mut Self> {
        let text = crate::clipboard::read()?;
        Ok(self.with_token(&text))
    }

    pub fn from_stdin(&mut self) -> Result<&mut Self> {
        use std::io::Read;
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::io("read", Path::new("standard input"), &e))?;
        Ok(self.with_token(&text))
    }

    pub fn with_token(&mut self, text: &str) -> &mut Self {
        self.current = Some(token::clean(text).to_string());
        self
    }

    /// The token the `from_*` steps read, if any.
    pub fn current_token(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// The claims `token` mints.
    pub fn claims(&mut self, claims: Claims) -> &mut Self {
        self.claims = claims;
        self
    }

    pub fn claims_json(&mut self, json: &str) -> Result<&mut Self> {
        let claims = parse_object(json, "claims")?;
        Ok(self.claims(claims))
    }

    pub fn pending_claims(&self) -> &Claims {
        &self.claims
    }

    /// A token for the claims given to `claims`; `None` without a private key.
    pub fn token(&self) -> Result<Option<String>> {
        if self.private.is_none() {
            return Ok(None);
        }
        self.mint(&self.claims).map(Some)
    }

    /// Mint a token for exactly these claims.
    pub fn mint(&self, claims: &Claims) -> Result<String> {
        let private = self
            .private
            .as_ref()
            .ok_or_else(|| Error::key("no private key: call with_private first"))?;
        let (alg, kid) = self.signing_identity();
        token::mint(private, alg, Some(&kid), claims)
    }

    /// The algorithm and `kid` tokens are minted with.
    pub fn signing_identity(&self) -> (Algorithm, String) {
        let own = self.own.as_ref();
        let published = self.published.as_ref();
        let matching = own.and_then(|o| published.and_then(|p| p.find_public(o.public_key())));
        match (matching, published.and_then(|p| p.keys().first()), own) {
            (Some(jwk), _, _) => (jwk.alg(), jwk.kid().to_string()),
            (None, Some(first), Some(own)) => (own.alg(), first.kid().to_string()),
            (_, _, Some(own)) => (own.alg(), own.kid().to_string()),
            _ => (Algorithm::RS256, String::new()),
        }
    }

    pub fn signing_key(&self) -> Option<&Arc<PrivateKey>> {
        self.private.as_ref()
    }

    /// The JWKS to publish: the loaded set, else our own public key.
    pub fn jwk_set(&self) -> JwkSet {
        if let Some(published) = &self.published {
            return published.clone();
        }
        if let Some(provider) = &self.provider {
            return (*provider.keys()).clone();
        }
        (*self.verify_set).clone()
    }

    /// The JWKS as indented JSON.
    pub fn jwks(&self) -> Result<String> {
        let set = self.jwk_set();
        if set.is_empty() {
            return Err(Error::key(
                "no key loaded: use with_public, with_private, with_jwks or using_provider first",
            ));
        }
        Ok(set.to_json_pretty())
    }

    /// The keys tokens are verified against: the toolkit's own borrowed
    /// (threads validating at once then write no shared reference count), a
    /// provider's cloned (they may be replaced meanwhile).
    pub fn verification_keys(&self) -> Cow<'_, Arc<JwkSet>> {
        match &self.provider {
            Some(provider) => Cow::Owned(provider.fresh_keys()),
            None => Cow::Borrowed(&self.verify_set),
        }
    }

    /// Verify a token (or the one read by a `from_*` step) and return its claims.
    pub fn validate(&self, token: Option<&str>) -> Result<Claims> {
        self.validate_shared(token).map(Arc::unwrap_or_clone)
    }

    /// [`Toolkit::validate`], with the claims shared with the cache
    /// ([`Toolkit::with_cache`]): a hit copies none of them.
    pub fn validate_shared(&self, token: Option<&str>) -> Result<Arc<Claims>> {
        match self.validate_cached(token) {
            Some(answer) => answer,
            None => self.validate_uncached(token),
        }
    }

    /// The answer for a token the cache verified with the current keys, its
    /// time, audience and issuer checked now; `None` when the cache cannot
    /// answer without checking a signature or fetching keys (then call
    /// [`Toolkit::validate_uncached`]). Never blocks on I/O and never checks
    /// a signature, so a binding may call it without giving up its
    /// interpreter lock.
    pub fn validate_cached(&self, token: Option<&str>) -> Option<Result<Arc<Claims>>> {
        let cache = self.cache.as_deref()?;
        let text = match self
            .check_provider_setup()
            .and_then(|()| self.token_text(token))
        {
            Ok(text) => token::clean(text),
            Err(e) => return Some(Err(e)),
        };
        let claims = match &self.provider {
            Some(provider) => cache.get(text, &provider.keys_if_fresh()?)?,
            None => cache.get(text, &self.verify_set)?,
        };
        // Signature already verified with these very keys; time, aud and iss still checked.
        Some(self.validator.check_claims(&claims).map(|()| claims))
    }

    /// [`Toolkit::validate`] without looking in the cache (a verified token
    /// is still remembered): the rest of the work after
    /// [`Toolkit::validate_cached`] answered `None`.
    pub fn validate_uncached(&self, token: Option<&str>) -> Result<Arc<Claims>> {
        self.check_provider_setup()?;
        let text = token::clean(self.token_text(token)?);
        let mut keys = self.verification_keys();
        let jws = token::parse(text)?;
        if keys.is_empty() {
            return Err(Error::key("no key to validate with: use with_jwks, with_public, with_private or using_provider first"));
        }
        match validate::verify_signature(&jws, &keys) {
            // A provider may have rotated its keys: refetch once, rate limited.
            Err(e) if e.kind() == ErrorKind::UnknownKey => match &self.provider {
                Some(provider) if provider.refresh()? => {
                    keys = Cow::Owned(provider.keys());
                    validate::verify_signature(&jws, &keys)?
                }
                _ => return Err(e),
            },
            result => result?,
        }
        let claims = Arc::new(jws.claims()?);
        if let Some(cache) = &self.cache {
            cache.insert(text, &keys, &claims);
        }
        self.validator.check_claims(&claims)?;
        Ok(claims)
    }

    /// Remember up to `capacity` verified tokens, so a repeated token skips the
    /// signature check (`exp`, `nbf`, `aud` and `iss` are still checked every
    /// time; new keys invalidate it). 0 turns the cache off (the default).
    pub fn with_cache(&mut self, capacity: usize) -> &mut Self {
        self.cache = (capacity > 0).then(|| Arc::new(TokenCache::new(capacity)));
        self
    }

    pub fn cache(&self) -> Option<&TokenCache> {
        self.cache.as_deref()
    }

    /// Validate, then check the claims a route requires (see [`claims::require`]).
    pub fn validate_with_claims(&self, token: Option<&str>, required: &Claims) -> Result<Claims> {
        let claims = self.validate_shared(token)?;
        claims::require(&claims, required)?;
        Ok(Arc::unwrap_or_clone(claims))
    }

    /// The claims, unverified.
    pub fn decode(&self, token: Option<&str>) -> Result<Claims> {
        token::decode(self.token_text(token)?)
    }

    /// The JOSE header, unverified.
    pub fn header(&self, token: Option<&str>) -> Result<Claims> {
        token::header(self.token_text(token)?)
    }

    fn token_text<'a>(&'a self, token: Option<&'a str>) -> Result<&'a str> {
        token.or(self.current.as_deref()).ok_or_else(|| {
            Error::invalid_argument(
                "no token: pass one, or read one with from_file, from_clipboard or from_stdin",
            )
        })
    }

    fn set_own(&mut self, public: PublicKey) {
        let alg = self.algorithm.filter(|a| a.family() == public.family());
        // A key that fails here (RSA under 2048 bits) was already refused on load.
        self.own = Jwk::new(public, alg, None).ok();
        self.rebuild();
    }

    fn rebuild(&mut self) {
        let mut set = self.published.clone().unwrap_or_default();
        if let Some(own) = &self.own {
            if set.find_public(own.public_key()).is_none() {
                set.push(own.clone());
            }
        }
        self.verify_set = Arc::new(set);
    }
}

/// Parse JSON text that must be an object (claims, required claims).
pub fn parse_object(json: &str, what: &str) -> Result<Claims> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid_argument(format!(
            "{what} must be a JSON object"
        ))),
        Err(e) => Err(Error::invalid_argument(format!(
            "{what} is not valid JSON: {e}"
        ))),
    }
}

impl Toolkit {
    /// A toolkit with the same keys and published JWKS, and default everything
    /// else: what the fake server signs with.
    pub fn keys_only(&self) -> Toolkit {
        let mut t = Toolkit {
            private: self.private.clone(),
            own: self.own.clone(),
            published: self.published.clone(),
            algorithm: self.algorithm,
            ..Toolkit::default()
        };
        t.rebuild();
        t
    }
}
