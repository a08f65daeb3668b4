//! oatk for Node.js: a thin napi-rs layer over `oatk` (crate oatk-core).
//!
//! Every export converts its arguments, calls one core function and converts
//! the result, or maps the core error kind to an `OatkError` with a stable
//! `code` (see [`error_code`]). Every export body runs inside [`boundary`], so
//! a panic becomes an `OatkError` with code `ERR_OATK_PANIC` instead of
//! killing the process; `#[napi(catch_unwind)]` covers napi's own glue too.
//! CPU or network work that JavaScript may await (`validateAsync`,
//! `usingProvider`, starting and stopping the fake server) runs on the libuv
//! thread pool.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use napi::bindgen_prelude::{
    AsyncTask, Env, FnArgs, Function, FunctionRef, JsObjectValue, ObjectRef, Result, Status, This,
    ToNapiValue, TypeName, Unknown, ValueType,
};
use napi::{sys, JsValue, Task};
use napi_derive::napi;
use oatk::guard::{Decision, Denial};
use oatk::{Claims, ErrorKind, Toolkit};
use serde_json::Value;

// ---- errors -----------------------------------------------------------------

/// The JavaScript `err.code` for each core error kind: `ERR_OATK_` followed
/// by the kind's stable code. One exhaustive match, no catch-all: a new kind
/// in core fails this build until it is mapped here.
pub fn error_code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument => "ERR_OATK_INVALID_ARGUMENT",
        ErrorKind::Io => "ERR_OATK_IO",
        ErrorKind::Key => "ERR_OATK_KEY",
        ErrorKind::Jwks => "ERR_OATK_JWKS",
        ErrorKind::Malformed => "ERR_OATK_MALFORMED",
        ErrorKind::UnsupportedAlgorithm => "ERR_OATK_UNSUPPORTED_ALGORITHM",
        ErrorKind::UnknownKey => "ERR_OATK_UNKNOWN_KEY",
        ErrorKind::InvalidSignature => "ERR_OATK_SIGNATURE",
        ErrorKind::Expired => "ERR_OATK_EXPIRED",
        ErrorKind::NotYetValid => "ERR_OATK_NOT_YET_VALID",
        ErrorKind::InvalidAudience => "ERR_OATK_AUDIENCE",
        ErrorKind::InvalidIssuer => "ERR_OATK_ISSUER",
        ErrorKind::MissingClaim => "ERR_OATK_MISSING_CLAIM",
        ErrorKind::Claims => "ERR_OATK_CLAIMS",
        ErrorKind::Network => "ERR_OATK_NETWORK",
        ErrorKind::Server => "ERR_OATK_SERVER",
    }
}

/// A panic caught at the boundary (a bug in oatk, never the caller's fault).
pub const PANIC_CODE: &str = "ERR_OATK_PANIC";

/// What a call failed with, before it becomes a JavaScript `OatkError`.
#[derive(Debug)]
pub struct Failure {
    code: &'static str,
    message: String,
}

impl From<oatk::Error> for Failure {
    fn from(e: oatk::Error) -> Failure {
        Failure {
            code: error_code(e.kind()),
            message: e.message().to_string(),
        }
    }
}

impl Failure {
    fn invalid_argument(message: impl Into<String>) -> Failure {
        Failure {
            code: error_code(ErrorKind::InvalidArgument),
            message: message.into(),
        }
    }
}

type Outcome<T> = std::result::Result<T, Failure>;

/// Run an export body: a panic becomes a `Failure` with `ERR_OATK_PANIC`.
fn boundary<T>(f: impl FnOnce() -> Outcome<T>) -> Outcome<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(Failure {
                code: PANIC_CODE,
                message: format!("internal error (panic) in oatk: {what}"),
            })
        }
    }
}

/// The `OatkError` class registered by index.js, kept per environment (main
/// thread and each worker have their own).
struct ErrorClass(FunctionRef<FnArgs<(String, String)>, Unknown<'static>>);

/// Register the JavaScript `OatkError` class that failures are thrown as.
/// Called once by index.js; not part of the public API.
#[napi(
    js_name = "_setErrorClass",
    catch_unwind,
    ts_args_type = "errorClass: new (message: string, code: string) => Error"
)]
pub fn set_error_class(
    env: Env,
    error_class: Function<'_, FnArgs<(String, String)>, Unknown<'static>>,
) -> Result<()> {
    let reference = error_class.create_ref()?;
    env.set_instance_data(ErrorClass(reference), (), |_| {})
}

/// Turn a failure into the JavaScript value napi throws or rejects with:
/// `new OatkError(message, code)`, or a plain `Error` with the same `code`
/// when the class was never registered (the raw binding used directly).
fn js_error(env: &Env, failure: Failure) -> napi::Error {
    match error_value(env, &failure) {
        Ok(value) => napi::Error::from(value),
        Err(_) => napi::Error::new(Status::GenericFailure, failure.message),
    }
}

fn error_value<'e>(env: &'e Env, failure: &Failure) -> Result<Unknown<'e>> {
    if let Some(class) = env.get_instance_data::<ErrorClass>()? {
        let constructor = class.0.borrow_back(env)?;
        return constructor.new_instance(FnArgs::from((
            failure.message.clone(),
            failure.code.to_string(),
        )));
    }
    let mut error = env.create_error(napi::Error::new(
        Status::GenericFailure,
        failure.message.clone(),
    ))?;
    error.set_named_property("code", failure.code)?;
    Ok(error.to_unknown())
}

/// Convert a failure on the JavaScript thread.
fn run<T>(env: &Env, f: impl FnOnce() -> Outcome<T>) -> Result<T> {
    boundary(f).map_err(|failure| js_error(env, failure))
}

/// A panic while a lock was held leaves the toolkit usable: every setter
/// either completes or changes nothing, so the data is consistent.
fn read(lock: &RwLock<Toolkit>) -> RwLockReadGuard<'_, Toolkit> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write(lock: &RwLock<Toolkit>) -> RwLockWriteGuard<'_, Toolkit> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---- the toolkit --------------------------------------------------------------

/// Keys, claims and validation settings, chainable as in the original oatk:
/// `new OAuthToolkit().withPrivate('private_key.pem').withJwks('certs.json')`.
///
/// Setters return the toolkit itself. Minting and validating are safe to call
/// at any time; `validateAsync` verifies on the libuv thread pool.
#[napi(js_name = "OAuthToolkit")]
pub struct OAuthToolkit {
    inner: Arc<RwLock<Toolkit>>,
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
        self.set(&env, this, |t| t.with_private(&path).map(drop))
    }

    /// Sign with the private key in this PEM text.
    #[napi(catch_unwind)]
    pub fn with_private_pem<'a>(&self, env: Env, this: This<'a>, pem: String) -> Result<This<'a>> {
        self.set(&env, this, |t| t.with_private_pem(&pem).map(drop))
    }

    /// Trust (and publish) the public key in this PEM file.
    #[napi(catch_unwind)]
    pub fn with_public<'a>(&self, env: Env, this: This<'a>, path: String) -> Result<This<'a>> {
        self.set(&env, this, |t| t.with_public(&path).map(drop))
    }

    /// Trust (and publish) the public key in this PEM text.
    #[napi(catch_unwind)]
    pub fn with_public_pem<'a>(&self, env: Env, this: This<'a>, pem: String) -> Result<This<'a>> {
        self.set(&env, this, |t| t.with_public_pem(&pem).map(drop))
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
        self.set(&env, this, |t| t.with_jwks(&text).map(drop))
    }

    /// Trust the keys of an OpenID provider: fetches
    /// `{url}/.well-known/openid-configuration`, then its `jwks_uri`, on the
    /// thread pool. Resolves to this toolkit. Unknown `kid`s later trigger a
    /// rate-limited refetch.
    #[napi(catch_unwind, ts_return_type = "Promise<this>")]
    pub fn using_provider(&self, this: This<'_>, url: String) -> Result<AsyncTask<UsingProvider>> {
        let this_ref = this.object.create_ref::<false>()?;
        Ok(AsyncTask::new(UsingProvider {
            toolkit: self.inner.clone(),
            url,
            this: Some(this_ref),
        }))
    }

    /// Tokens must name this client in `aud` (RFC 7519 4.1.3).
    #[napi(catch_unwind)]
    pub fn with_client_id<'a>(
        &self,
        env: Env,
        this: This<'a>,
        client_id: String,
    ) -> Result<This<'a>> {
        self.set(&env, this, |t| {
            t.with_client_id(&client_id);
            Ok(())
        })
    }

    /// Tokens must carry exactly this `iss` (RFC 7519 4.1.1).
    #[napi(catch_unwind)]
    pub fn with_issuer<'a>(&self, env: Env, this: This<'a>, issuer: String) -> Result<This<'a>> {
        self.set(&env, this, |t| {
            t.with_issuer(&issuer);
            Ok(())
        })
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
        self.set(&env, this, |t| {
            t.with_algorithm(algorithm.parse()?).map(drop)
        })
    }

    /// Adjust validation (core's `Validator`): `leeway` seconds of clock
    /// skew on `exp`/`nbf` (default 0), `requireExp` refuses tokens without
    /// `exp` (default false: the original's tokens carry none), `now` fixes
    /// the clock in seconds since the epoch (default: the system clock), so
    /// expiry tests never sleep. Fields left out keep their current value.
    #[napi(catch_unwind)]
    pub fn with_validation<'a>(
        &self,
        env: Env,
        this: This<'a>,
        options: ValidationOptions,
    ) -> Result<This<'a>> {
        self.set(&env, this, |t| {
            let validator = t.validator_mut();
            if let Some(leeway) = options.leeway {
                validator.leeway = u64::from(leeway);
            }
            if let Some(require_exp) = options.require_exp {
                validator.require_exp = require_exp;
            }
            if let Some(now) = options.now {
                validator.now = Some(now);
            }
            Ok(())
        })
    }

    /// Read the token to work on (for `validate()`, `decode()`, `header()`
    /// without an argument) from a file.
    #[napi(catch_unwind)]
    pub fn from_file<'a>(&self, env: Env, this: This<'a>, path: String) -> Result<This<'a>> {
        self.set(&env, this, |t| t.from_file(&path).map(drop))
    }

    /// Work on this token text (a leading `Bearer ` is dropped).
    #[napi(catch_unwind)]
    pub fn with_token<'a>(&self, env: Env, this: This<'a>, token: String) -> Result<This<'a>> {
        self.set(&env, this, |t| {
            t.with_token(&token);
            Ok(())
        })
    }

    /// The claims that the `token` getter mints.
    #[napi(catch_unwind)]
    pub fn claims<'a>(
        &self,
        env: Env,
        this: This<'a>,
        claims: serde_json::Map<String, Value>,
    ) -> Result<This<'a>> {
        self.set(&env, this, |t| {
            t.claims(claims);
            Ok(())
        })
    }

    /// A token for the claims given to `claims()`; `null` without a private key.
    #[napi(getter, catch_unwind)]
    pub fn token(&self, env: Env) -> Result<Option<String>> {
        run(&env, || read(&self.inner).token().map_err(Failure::from))
    }

    /// Mint a token for exactly these claims (needs a private key).
    #[napi(catch_unwind)]
    pub fn mint(&self, env: Env, claims: serde_json::Map<String, Value>) -> Result<String> {
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
    #[napi(catch_unwind)]
    pub fn validate(
        &self,
        env: Env,
        token: Option<String>,
    ) -> Result<serde_json::Map<String, Value>> {
        run(&env, || {
            read(&self.inner)
                .validate(token.as_deref())
                .map_err(Failure::from)
        })
    }

    /// `validate` on the libuv thread pool: the main thread stays free while
    /// the signature is checked. Resolves to the claims; rejects with an `OatkError`.
    #[napi(catch_unwind, ts_return_type = "Promise<Record<string, any>>")]
    pub fn validate_async(&self, token: Option<String>) -> AsyncTask<ValidateTask> {
        AsyncTask::new(ValidateTask {
            toolkit: self.inner.clone(),
            token,
        })
    }

    /// The claims, not verified.
    #[napi(catch_unwind)]
    pub fn decode(
        &self,
        env: Env,
        token: Option<String>,
    ) -> Result<serde_json::Map<String, Value>> {
        run(&env, || {
            read(&self.inner)
                .decode(token.as_deref())
                .map_err(Failure::from)
        })
    }

    /// The JOSE header (`alg`, `kid`, `typ`), not verified.
    #[napi(catch_unwind)]
    pub fn header(
        &self,
        env: Env,
        token: Option<String>,
    ) -> Result<serde_json::Map<String, Value>> {
        run(&env, || {
            read(&self.inner)
                .header(token.as_deref())
                .map_err(Failure::from)
        })
    }

    /// The oatk version.
    #[napi(getter, catch_unwind)]
    pub fn version(&self) -> String {
        oatk::VERSION.to_string()
    }

    /// A route guard for these required claims (see `RouteGuard`); the
    /// Express middleware is built on it.
    #[napi(catch_unwind)]
    pub fn guard(&self, required: Option<serde_json::Map<String, Value>>) -> RouteGuard {
        RouteGuard {
            toolkit: self.inner.clone(),
            required: required.unwrap_or_default(),
        }
    }
}

impl OAuthToolkit {
    /// A setter: change the toolkit under its write lock, then hand back
    /// `this`, so calls chain as in the original.
    fn set<'a>(
        &self,
        env: &Env,
        this: This<'a>,
        change: impl FnOnce(&mut Toolkit) -> oatk::Result<()>,
    ) -> Result<This<'a>> {
        run(env, || {
            change(&mut write(&self.inner)).map_err(Failure::from)
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

/// `validateAsync`: the signature check on the thread pool.
pub struct ValidateTask {
    toolkit: Arc<RwLock<Toolkit>>,
    token: Option<String>,
}

/// Claims as the plain object a task resolves to.
pub struct ClaimsObject(Claims);

impl TypeName for ClaimsObject {
    fn type_name() -> &'static str {
        "Record<string, any>"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for ClaimsObject {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        unsafe { serde_json::Map::to_napi_value(env, val.0) }
    }
}

impl Task for ValidateTask {
    type Output = Outcome<Claims>;
    type JsValue = ClaimsObject;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(boundary(|| {
            read(&self.toolkit)
                .validate(self.token.as_deref())
                .map_err(Failure::from)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        output
            .map(ClaimsObject)
            .map_err(|failure| js_error(&env, failure))
    }
}

/// `usingProvider`: discovery and JWKS fetch on the thread pool.
pub struct UsingProvider {
    toolkit: Arc<RwLock<Toolkit>>,
    url: String,
    this: Option<ObjectRef<false>>,
}

/// The toolkit object `usingProvider` resolves to.
pub struct ToolkitObject(ObjectRef<false>);

impl TypeName for ToolkitObject {
    fn type_name() -> &'static str {
        "OAuthToolkit"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for ToolkitObject {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // Consumes the reference (deletes it after reading the value).
        unsafe { ObjectRef::to_napi_value(env, val.0) }
    }
}

impl Task for UsingProvider {
    type Output = Outcome<()>;
    type JsValue = ToolkitObject;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(boundary(|| {
            // Network first, without holding the lock; then a short write.
            let provider = oatk::provider::Provider::discover(&self.url)?;
            write(&self.toolkit).with_provider(provider);
            Ok(())
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        output.map_err(|failure| js_error(&env, failure))?;
        let this = self
            .this
            .take()
            .ok_or_else(|| napi::Error::from_reason("usingProvider resolved twice"))?;
        Ok(ToolkitObject(this))
    }

    fn finally(mut self, env: Env) -> Result<()> {
        if let Some(this) = self.this.take() {
            this.unref(&env)?;
        }
        Ok(())
    }
}

// ---- route protection -------------------------------------------------------

/// The outcome of `RouteGuard.check`: allowed with the validated claims, or
/// denied with the HTTP status, body and `WWW-Authenticate` value to send.
#[napi(object)]
pub struct GuardDecision {
    /// True when the request may go on; `claims` then holds the token's claims.
    pub allow: bool,
    pub claims: Option<serde_json::Map<String, Value>>,
    /// 401 (no or invalid token) or 403 (claims not satisfied) when denied.
    pub status: Option<u16>,
    /// The response body when denied, e.g. `Missing Authorization`.
    pub body: Option<String>,
    /// The `WWW-Authenticate` header value (RFC 6750 3), when there is one.
    pub www_authenticate: Option<String>,
    /// The `ERR_OATK_*` code of the reason, when there is one.
    pub code: Option<String>,
}

impl From<Decision> for GuardDecision {
    fn from(decision: Decision) -> GuardDecision {
        match decision {
            Decision::Allow(claims) => GuardDecision {
                allow: true,
                claims: Some(claims),
                status: None,
                body: None,
                www_authenticate: None,
                code: None,
            },
            Decision::Deny(denial) => denial.into(),
        }
    }
}

impl From<Denial> for GuardDecision {
    fn from(denial: Denial) -> GuardDecision {
        GuardDecision {
            allow: false,
            claims: None,
            status: Some(denial.status),
            body: Some(denial.body),
            www_authenticate: denial.www_authenticate,
            code: denial.kind.map(|k| error_code(k).to_string()),
        }
    }
}

/// Decides on requests for one route: the core's `guard::check`, the same
/// rule as the Flask decorator and the Go middleware. Framework-neutral: pass
/// the `Authorization` header value, send the denial it returns.
#[napi]
pub struct RouteGuard {
    toolkit: Arc<RwLock<Toolkit>>,
    required: Claims,
}

#[napi]
impl RouteGuard {
    /// Decide on a request from its `Authorization` header value. Throws an
    /// `OatkError` only for setup failures (no key configured, provider down).
    #[napi(catch_unwind)]
    pub fn check(&self, env: Env, authorization: Option<String>) -> Result<GuardDecision> {
        run(&env, || {
            let toolkit = read(&self.toolkit);
            oatk::guard::check(&toolkit, authorization.as_deref(), &self.required)
                .map(GuardDecision::from)
                .map_err(Failure::from)
        })
    }
}

/// The 403 denial for a claim that a predicate needs but the token lacks.
#[napi(catch_unwind)]
pub fn deny_missing_claim(name: String) -> GuardDecision {
    oatk::guard::missing(&name).into()
}

/// The 403 denial for a claim that a predicate rejected.
#[napi(catch_unwind)]
pub fn deny_rejected_claim(name: String) -> GuardDecision {
    oatk::guard::rejected(&name).into()
}

// ---- the fake server ----------------------------------------------------------

/// Options for `startFakeServer`; each defaults as `oatk server run` does.
#[napi(object)]
pub struct FakeServerOptions {
    /// Interface to listen on; default `localhost` (bound on 127.0.0.1).
    pub host: Option<String>,
    /// Port; default 5000, 0 picks a free one.
    pub port: Option<u32>,
    /// The `iss` of its tokens, byte for byte; default `http://HOST:PORT`.
    pub issuer: Option<String>,
    /// A TOML file with issuer, lifetimes, users and clients.
    pub config: Option<String>,
    /// Where the SQLite database and generated key live; default `./.oatk`.
    pub data_dir: Option<String>,
    /// Keep everything in memory, write nothing; default false.
    pub memory: Option<bool>,
    /// No request log on stderr; default false.
    pub quiet: Option<bool>,
}

/// Start the fake OAuth2 / OpenID Connect server in this process (on its own
/// threads). With a toolkit holding a private key, it signs with that key.
#[napi(catch_unwind, ts_return_type = "Promise<FakeServer>")]
pub fn start_fake_server(
    env: Env,
    options: Option<FakeServerOptions>,
    toolkit: Option<&OAuthToolkit>,
) -> Result<AsyncTask<StartServer>> {
    let options = run(&env, || server_options(options))?;
    Ok(AsyncTask::new(StartServer {
        options,
        toolkit: toolkit.map(|t| t.inner.clone()),
    }))
}

fn server_options(given: Option<FakeServerOptions>) -> Outcome<oatk::server::Options> {
    let mut options = oatk::server::Options::default();
    let Some(given) = given else {
        return Ok(options);
    };
    if let Some(host) = given.host {
        options.host = host;
    }
    if let Some(port) = given.port {
        options.port = u16::try_from(port)
            .map_err(|_| Failure::invalid_argument(format!("port {port} is out of range")))?;
    }
    options.issuer = given.issuer;
    options.config = given.config.map(PathBuf::from);
    if let Some(dir) = given.data_dir {
        options.data_dir = PathBuf::from(dir);
    }
    options.memory = given.memory.unwrap_or(options.memory);
    options.quiet = given.quiet.unwrap_or(options.quiet);
    Ok(options)
}

pub struct StartServer {
    options: oatk::server::Options,
    toolkit: Option<Arc<RwLock<Toolkit>>>,
}

impl Task for StartServer {
    type Output = Outcome<oatk::server::Server>;
    type JsValue = FakeServer;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(boundary(|| {
            let guard = self.toolkit.as_ref().map(|t| read(t));
            oatk::server::start(guard.as_deref(), &self.options).map_err(Failure::from)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        let server = output.map_err(|failure| js_error(&env, failure))?;
        Ok(FakeServer {
            url: server.url().to_string(),
            issuer: server.issuer().to_string(),
            jwks: server.jwks().to_string(),
            server: Arc::new(Mutex::new(Some(server))),
        })
    }
}

/// A running fake server. `await server.stop()` ends it; so does the end of
/// the process.
#[napi]
pub struct FakeServer {
    url: String,
    issuer: String,
    jwks: String,
    server: Arc<Mutex<Option<oatk::server::Server>>>,
}

impl FakeServer {
    fn with_server<T>(&self, f: impl FnOnce(&oatk::server::Server) -> Outcome<T>) -> Outcome<T> {
        let guard = self.server.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(server) => f(server),
            None => Err(Failure {
                code: error_code(ErrorKind::Server),
                message: "the fake server was stopped".into(),
            }),
        }
    }
}

#[napi]
impl FakeServer {
    /// Where it listens, e.g. `http://localhost:41234`.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The `iss` of its tokens.
    #[napi(getter)]
    pub fn issuer(&self) -> String {
        self.issuer.clone()
    }

    /// The JWKS it publishes at `/oauth/certs`, as JSON text.
    #[napi(getter)]
    pub fn jwks(&self) -> String {
        self.jwks.clone()
    }

    /// Issue tokens for a user as if they had logged in and consented, for
    /// tests that need no browser. `claims` are stored as the user's extra
    /// claims. Returns the token endpoint's JSON (`access_token`, `id_token`,
    /// `refresh_token`, `token_type`, `expires_in`, `scope`).
    #[napi(catch_unwind)]
    pub fn issue_token(
        &self,
        env: Env,
        username: String,
        claims: Option<serde_json::Map<String, Value>>,
        client_id: Option<String>,
        scope: Option<String>,
    ) -> Result<Value> {
        run(&env, || {
            self.with_server(|server| {
                server
                    .issue_token(
                        &username,
                        claims.unwrap_or_default(),
                        client_id.as_deref(),
                        scope.as_deref(),
                    )
                    .map_err(Failure::from)
            })
        })
    }

    /// Add or replace a user and their extra claims.
    #[napi(catch_unwind)]
    pub fn upsert_user(
        &self,
        env: Env,
        username: String,
        claims: Option<serde_json::Map<String, Value>>,
    ) -> Result<()> {
        run(&env, || {
            self.with_server(|server| {
                server
                    .upsert_user(&username, claims.unwrap_or_default())
                    .map_err(Failure::from)
            })
        })
    }

    /// Add or replace a client registration: `{ client_id, client_secret?,
    /// name?, redirect_uris, post_logout_redirect_uris?, allowed_origins?,
    /// scope?, grant_types?, response_types?, public? }` (the TOML fields).
    #[napi(catch_unwind)]
    pub fn upsert_client(&self, env: Env, client: serde_json::Map<String, Value>) -> Result<()> {
        run(&env, || {
            let client: oatk::server::config::Client =
                serde_json::from_value(Value::Object(client))
                    .map_err(|e| Failure::invalid_argument(format!("client: {e}")))?;
            self.with_server(|server| server.upsert_client(&client).map_err(Failure::from))
        })
    }

    /// Stop serving; resolves once its threads have ended. Stopping twice is fine.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn stop(&self) -> AsyncTask<StopServer> {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        AsyncTask::new(StopServer { server })
    }
}

pub struct StopServer {
    server: Option<oatk::server::Server>,
}

impl Task for StopServer {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        if let Some(server) = self.server.take() {
            let _ = catch_unwind(AssertUnwindSafe(|| server.stop()));
        }
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

// ---- module functions -----------------------------------------------------------

/// The browser client, oatk.js: the same file the fake server serves at
/// `/static/oatk.js`.
#[napi(catch_unwind)]
pub fn browser_script() -> &'static str {
    oatk::server::OATK_JS
}

/// The oatk version (from the Cargo workspace).
#[napi(catch_unwind)]
pub fn version() -> &'static str {
    oatk::VERSION
}

/// Run the `oatk` command line with these arguments (without the program
/// name); returns the exit code. Meant for the `oatk` bin script: it blocks
/// the calling thread, and it gives SIGINT and SIGTERM back their default
/// action for this process, as in the Rust binary (`server run` then stops
/// gracefully on them; any other step is simply ended).
#[napi(catch_unwind)]
pub fn run_cli(args: Vec<String>) -> i32 {
    default_signal_actions();
    let code = catch_unwind(AssertUnwindSafe(|| oatk::cli::run(&args))).unwrap_or(70); // EX_SOFTWARE after a panic
                                                                                       // Node, not Rust's runtime, ends this process: flush what the CLI printed.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    code
}

/// Node's own SIGINT/SIGTERM handler resets stdio and raises the signal again,
/// expecting its one-shot registration to have restored the default action.
/// Tokio's signal handling (`server run`) installs a handler that forwards to
/// the previous one, so that raise would come straight back to it, forever.
/// With the default action restored first, tokio sees the signal and stops
/// the server, and the other steps end on Ctrl-C as the Rust binary does.
fn default_signal_actions() {
    #[cfg(unix)]
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installing SIG_DFL with a zeroed sigaction is always valid.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Panics inside the boundary, to prove a panic becomes an `OatkError` with
/// code `ERR_OATK_PANIC` instead of ending the process. Tests only.
#[napi(js_name = "_panicForTest", catch_unwind)]
pub fn panic_for_test(env: Env) -> Result<()> {
    #[allow(clippy::panic)]
    run(&env, || -> Outcome<()> {
        panic!("deliberate panic for the test suite")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [ErrorKind; 16] = [
        ErrorKind::InvalidArgument,
        ErrorKind::Io,
        ErrorKind::Key,
        ErrorKind::Jwks,
        ErrorKind::Malformed,
        ErrorKind::UnsupportedAlgorithm,
        ErrorKind::UnknownKey,
        ErrorKind::InvalidSignature,
        ErrorKind::Expired,
        ErrorKind::NotYetValid,
        ErrorKind::InvalidAudience,
        ErrorKind::InvalidIssuer,
        ErrorKind::MissingClaim,
        ErrorKind::Claims,
        ErrorKind::Network,
        ErrorKind::Server,
    ];

    #[test]
    fn codes_are_the_core_codes_prefixed() {
        for kind in KINDS {
            assert_eq!(error_code(kind), format!("ERR_OATK_{}", kind.code()));
        }
    }

    #[test]
    fn panics_become_failures() {
        let failure = boundary(|| -> Outcome<()> { panic!("boom") }).unwrap_err();
        assert_eq!(failure.code, PANIC_CODE);
        assert!(failure.message.contains("boom"));
    }
}
