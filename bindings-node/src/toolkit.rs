//! `OAuthToolkit`: core's `Toolkit`, chainable from JavaScript, plus
//! `generateKey` and `version`.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use napi::bindgen_prelude::{AsyncTask, Env, Result, This};
use napi_derive::napi;
use oatk::{Algorithm, Claims, PrivateKey, Toolkit};
use serde_json::{Map, Value};

use crate::args::TokenArg;
use crate::claims::ClaimsObject;
use crate::errors::{run, Failure, Outcome};
use crate::tasks::{spawn, Chain, PromiseValue};

/// A toolkit shared with guards, tasks on the thread pool and the fake server.
pub type Shared = Arc<RwLock<Toolkit>>;

/// A panic while a lock was held leaves the toolkit usable: every setter
/// either completes or changes nothing, so the data is consistent.
pub fn read(lock: &RwLock<Toolkit>) -> RwLockReadGuard<'_, Toolkit> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write(lock: &RwLock<Toolkit>) -> RwLockWriteGuard<'_, Toolkit> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The one validate body, for `validate`, `validateAsync` and `validateWithClaims`.
/// The claims are shared with the verified-token cache (no copy on a hit).
fn validated(
    toolkit: &RwLock<Toolkit>,
    token: Option<&str>,
    required: Option<&Claims>,
) -> Outcome<Arc<Claims>> {
    let toolkit = read(toolkit);
    match required {
        Some(required) => toolkit.validate_with_claims(token, required).map(Arc::new),
        None => toolkit.validate_shared(token),
    }
    .map_err(Failure::from)
}

/// The bodies of `validate` and `validateAsync`, for their methods and for
/// `receiver.rs`'s functions, which `index.js` puts in their place.
impl OAuthToolkit {
    pub(crate) fn validate_here(&self, env: &Env, token: TokenArg) -> Result<ClaimsObject> {
        let token = token.as_deref();
        run(env, || {
            validated(&self.inner, token, None).map(ClaimsObject::here)
        })
    }

    pub(crate) fn validate_on_worker(&self, env: &Env, token: TokenArg) -> Result<PromiseValue> {
        let token = token.into_string();
        let toolkit = self.inner.clone();
        spawn(env, move || {
            validated(&toolkit, token.as_deref(), None).map(ClaimsObject::new)
        })
    }
}

/// Keys, claims and validation settings, chainable as in the original oatk:
/// `new OAuthToolkit().withPrivate('private_key.pem').withJwks('certs.json')`.
///
/// Setters return the toolkit itself. Minting and validating are safe to call
/// at any time; `validateAsync` verifies on oatk's worker threads.
#[napi(js_name = "OAuthToolkit")]
pub struct OAuthToolkit {
    pub(crate) inner: Shared,
}

#[napi]
impl OAuthToolkit {
    /// An empty toolkit: no keys, no claims.
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        OAuthToolkit {
            inner: Arc::new(RwLock::new(Toolkit::new())),
        }
    }

    /// Sign with the private key in this PEM file (RSA, EC P-256/P-384 or
    /// Ed25519, PKCS#1, SEC1 or PKCS#8). Its public half is published and
    /// trusted too, so a private key alone is enough to mint and validate.
    #[napi(catch_unwind)]
    pub fn with_private<'a>(&self, env: Env, this: This<'a>, path: String) -> Result<This<'a>> {
        self.set(&env, this, |t| t.with_private(&path))
    }

    /// Sign with the private key in this PEM text.
    #[napi(catch_unwind)]
    pub fn with_private_pem<'a>(&self, env: Env, this: This<'a>, pem: String) -> Result<This<'a>> {
        self.set(&env, this, |t| t.with_private_pem(&pem))
    }

    /// Trust (and publish) the public key in this PEM file.
    #[napi(catch_unwind)]
    pub fn with_public<'a>(&self, env: Env, this: This<'a>, path: String) -> Result<This<'a>> {
        self.set(&env, this, |t| t.with_public(&path))
    }

    /// Trust (and publish) the public key in this PEM text.
    #[napi(catch_unwind)]
    pub fn with_public_pem<'a>(&self, env: Env, this: This<'a>, pem: String) -> Result<This<'a>> {
        self.set(&env, this, |t| t.with_public_pem(&pem))
    }

    /// Publish and trust a JSON Web Key Set: a file path, the JSON text, or
    /// the parsed object (`{ keys: [...] }`). The first key's `kid` is used
    /// for minting unless the set holds our own key under another `kid`.
    #[napi(catch_unwind, ts_args_type = "pathOrJwks: string | { keys: object[] }")]
    pub fn with_jwks<'a>(&self, env: Env, this: This<'a>, path_or_jwks: Value) -> Result<This<'a>> {
        let text = match path_or_jwks {
            Value::String(text) => text,
            other => other.to_string(),
        };
        self.set(&env, this, |t| t.with_jwks(&text))
    }

    /// Trust the keys of an OpenID provider: fetches
    /// `{url}/.well-known/openid-configuration`, then its `jwks_uri`, on the
    /// thread pool. Resolves to this toolkit. Unknown `kid`s later trigger a
    /// rate-limited refetch.
    #[napi(catch_unwind, ts_return_type = "Promise<this>")]
    pub fn using_provider(&self, this: This<'_>, url: String) -> Result<AsyncTask<Chain>> {
        let toolkit = self.inner.clone();
        Chain::spawn(this, move || {
            // Network first, without holding the lock; then a short write.
            let provider = oatk::provider::Provider::discover(&url)?;
            write(&toolkit).with_provider(provider);
            Ok(())
        })
    }

    /// Tokens must name this client in `aud` (RFC 7519 4.1.3).
    #[napi(catch_unwind)]
    pub fn with_client_id<'a>(
        &self,
        env: Env,
        this: This<'a>,
        client_id: String,
    ) -> Result<This<'a>> {
        self.set(&env, this, |t| Ok(t.with_client_id(&client_id)))
    }

    /// Tokens must carry exactly this `iss` (RFC 7519 4.1.1).
    #[napi(catch_unwind)]
    pub fn with_issuer<'a>(&self, env: Env, this: This<'a>, issuer: String) -> Result<This<'a>> {
        self.set(&env, this, |t| Ok(t.with_issuer(&issuer)))
    }

    /// Sign with this algorithm instead of the key's default (RS256 for an
    /// RSA key): RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA.
    #[napi(catch_unwind)]
    pub fn with_algorithm<'a>(
        &self,
        env: Env,
        this: This<'a>,
        algorithm: String,
    ) -> Result<This<'a>> {
        self.set(&env, this, |t| t.with_algorithm(algorithm.parse()?))
    }

    /// Accept `exp` and `nbf` this many seconds off (clock skew). Default 0.
    #[napi(catch_unwind)]
    pub fn with_leeway<'a>(&self, env: Env, this: This<'a>, seconds: u32) -> Result<This<'a>> {
        self.set(&env, this, |t| Ok(t.with_leeway(u64::from(seconds))))
    }

    /// Refuse tokens without `exp` (true), or accept them (false, the
    /// default: the original's tokens carry none).
    #[napi(catch_unwind)]
    pub fn with_require_exp<'a>(
        &self,
        env: Env,
        this: This<'a>,
        required: bool,
    ) -> Result<This<'a>> {
        self.set(&env, this, |t| Ok(t.with_require_exp(required)))
    }

    /// Validate as if the time were `seconds` since the epoch, so expiry
    /// tests never sleep; `null` goes back to the system clock.
    #[napi(catch_unwind)]
    pub fn with_now<'a>(&self, env: Env, this: This<'a>, seconds: Option<i64>) -> Result<This<'a>> {
        self.set(&env, this, |t| Ok(t.with_now(seconds)))
    }

    /// Waive the audience check `usingProvider` otherwise requires: tokens
    /// the provider issued to any of its clients are accepted.
    #[napi(catch_unwind)]
    pub fn accept_any_audience<'a>(&self, env: Env, this: This<'a>) -> Result<This<'a>> {
        self.set(&env, this, |t| Ok(t.accept_any_audience()))
    }

    /// Waive the issuer a provider given as a bare JWKS URL otherwise
    /// requires (`withIssuer`).
    #[napi(catch_unwind)]
    pub fn accept_any_issuer<'a>(&self, env: Env, this: This<'a>) -> Result<This<'a>> {
        self.set(&env, this, |t| Ok(t.accept_any_issuer()))
    }

    /// Remember up to `capacity` verified tokens, so a repeated token skips
    /// the signature check (`exp`, `nbf`, `aud` and `iss` are still checked
    /// every time; new keys empty it). 0 turns the cache off (the default).
    #[napi(catch_unwind)]
    pub fn with_cache<'a>(&self, env: Env, this: This<'a>, capacity: u32) -> Result<This<'a>> {
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX);
        self.set(&env, this, |t| Ok(t.with_cache(capacity)))
    }

    /// `withLeeway`, `withRequireExp` and `withNow` in one call: `leeway`
    /// seconds of clock skew, `requireExp`, `now` (seconds since the epoch).
    /// Fields left out keep their current value.
    #[napi(catch_unwind)]
    pub fn with_validation<'a>(
        &self,
        env: Env,
        this: This<'a>,
        options: ValidationOptions,
    ) -> Result<This<'a>> {
        self.set(&env, this, |t| {
            if let Some(leeway) = options.leeway {
                t.with_leeway(u64::from(leeway));
            }
            if let Some(required) = options.require_exp {
                t.with_require_exp(required);
            }
            if let Some(now) = options.now {
                t.with_now(Some(now));
            }
            Ok(t)
        })
    }

    /// Read the token to work on (for `validate()`, `decode()`, `header()`
    /// without an argument) from a file.
    #[napi(catch_unwind)]
    pub fn from_file<'a>(&self, env: Env, this: This<'a>, path: String) -> Result<This<'a>> {
        self.set(&env, this, |t| t.from_file(&path))
    }

    /// Work on this token text (a leading `Bearer ` is dropped).
    #[napi(catch_unwind)]
    pub fn with_token<'a>(&self, env: Env, this: This<'a>, token: String) -> Result<This<'a>> {
        self.set(&env, this, |t| Ok(t.with_token(&token)))
    }

    /// The claims that the `token` getter mints.
    #[napi(catch_unwind)]
    pub fn claims<'a>(
        &self,
        env: Env,
        this: This<'a>,
        claims: Map<String, Value>,
    ) -> Result<This<'a>> {
        self.set(&env, this, |t| Ok(t.claims(claims)))
    }

    /// A token for the claims given to `claims()`; `null` without a private key.
    #[napi(getter, catch_unwind)]
    pub fn token(&self, env: Env) -> Result<Option<String>> {
        run(&env, || read(&self.inner).token().map_err(Failure::from))
    }

    /// Mint a token for exactly these claims (needs a private key).
    #[napi(catch_unwind)]
    pub fn mint(&self, env: Env, claims: Map<String, Value>) -> Result<String> {
        run(&env, || {
            read(&self.inner).mint(&claims).map_err(Failure::from)
        })
    }

    /// The JSON Web Key Set to publish, as indented JSON text.
    #[napi(getter, catch_unwind)]
    pub fn jwks(&self, env: Env) -> Result<String> {
        run(&env, || read(&self.inner).jwks().map_err(Failure::from))
    }

    /// Verify a token (or the one read by `fromFile`) and return its claims:
    /// signature with the key its `kid` names, algorithm, `exp`/`nbf`, and
    /// `aud`/`iss` when configured. Throws an `OatkError` when it is not valid.
    #[napi(
        catch_unwind,
        ts_args_type = "token?: string | undefined | null",
        ts_return_type = "Record<string, any>"
    )]
    pub fn validate(&self, env: Env, token: TokenArg) -> Result<ClaimsObject> {
        self.validate_here(&env, token)
    }

    /// `validate` on oatk's worker threads (one per core): the main thread
    /// stays free while the signature is checked. Resolves to the claims;
    /// rejects with an `OatkError`.
    #[napi(
        catch_unwind,
        ts_args_type = "token?: string | undefined | null",
        ts_return_type = "Promise<Record<string, any>>"
    )]
    pub fn validate_async(&self, env: Env, token: TokenArg) -> Result<PromiseValue> {
        self.validate_on_worker(&env, token)
    }

    /// `validate`, then the claims must satisfy `required`: a value must be
    /// equal, a list must all be contained. Throws `ERR_OATK_CLAIMS` when
    /// they do not (functions are for the middleware, `authenticatedWithClaims`).
    #[napi(catch_unwind, ts_return_type = "Record<string, any>")]
    pub fn validate_with_claims(
        &self,
        env: Env,
        token: Option<String>,
        required: Map<String, Value>,
    ) -> Result<ClaimsObject> {
        run(&env, || {
            validated(&self.inner, token.as_deref(), Some(&required)).map(ClaimsObject::here)
        })
    }

    /// The claims, not verified.
    #[napi(catch_unwind, ts_return_type = "Record<string, any>")]
    pub fn decode(&self, env: Env, token: Option<String>) -> Result<ClaimsObject> {
        run(&env, || {
            read(&self.inner)
                .decode(token.as_deref())
                .map(ClaimsObject::here)
                .map_err(Failure::from)
        })
    }

    /// The JOSE header (`alg`, `kid`, `typ`), not verified.
    #[napi(catch_unwind)]
    pub fn header(&self, env: Env, token: Option<String>) -> Result<Map<String, Value>> {
        run(&env, || {
            read(&self.inner)
                .header(token.as_deref())
                .map_err(Failure::from)
        })
    }

    /// The oatk version.
    #[napi(getter, catch_unwind)]
    pub fn version(&self) -> &'static str {
        oatk::VERSION
    }
}

impl OAuthToolkit {
    /// A setter: change the toolkit under its write lock, then hand back
    /// `this`, so calls chain as in the original.
    fn set<'a>(
        &self,
        env: &Env,
        this: This<'a>,
        change: impl FnOnce(&mut Toolkit) -> oatk::Result<&mut Toolkit>,
    ) -> Result<This<'a>> {
        run(env, || {
            change(&mut write(&self.inner)).map_err(Failure::from)?;
            Ok(())
        })?;
        Ok(this)
    }
}

impl Default for OAuthToolkit {
    fn default() -> Self {
        Self::new()
    }
}

/// Options for `withValidation`.
#[napi(object)]
pub struct ValidationOptions {
    /// Seconds of clock skew tolerated on `exp` and `nbf`. Default 0.
    pub leeway: Option<u32>,
    /// Refuse tokens without `exp`. Default false.
    pub require_exp: Option<bool>,
    /// The clock, in seconds since the epoch. Default: the system clock.
    pub now: Option<i64>,
}

/// A new key pair, as PEM text.
#[napi(object)]
pub struct GeneratedKey {
    /// PKCS#8 (`BEGIN PRIVATE KEY`), for `withPrivatePem`.
    pub private_pem: String,
    /// SPKI (`BEGIN PUBLIC KEY`), for `withPublicPem`.
    pub public_pem: String,
}

/// Generate a key pair for `alg` (default RS256: RSA 2048; ES256: P-256,
/// ES384: P-384, EdDSA: Ed25519; any RS/PS name: RSA 2048), as
/// `oatk keys generate` does.
#[napi(catch_unwind)]
pub fn generate_key(env: Env, alg: Option<String>) -> Result<GeneratedKey> {
    run(&env, || {
        let alg: Algorithm = alg.as_deref().unwrap_or("RS256").parse()?;
        let key = PrivateKey::generate(alg, None)?;
        Ok(GeneratedKey {
            private_pem: key.to_pkcs8_pem()?,
            public_pem: key.public_key().to_pem()?,
        })
    })
}

/// The oatk version (from the Cargo workspace).
#[napi(catch_unwind)]
pub fn version() -> &'static str {
    oatk::VERSION
}
