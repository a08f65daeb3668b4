//! The fake OAuth2 / OpenID Connect server in this process: core's embedded
//! preset with the caller's options on top, and its shared handle.

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Env, Result};
use napi_derive::napi;
use oatk::server::{IssuerInfo, Options, Server, TokenRequest};
use serde_json::{json, Map, Value};

use crate::errors::{run, Failure, Outcome};
use crate::tasks::Work;
use crate::toolkit::{read, OAuthToolkit};

/// Options for `startFakeServer`. Left out, each is core's embedded preset:
/// a free port on loopback, everything in memory, no request log.
#[napi(object)]
pub struct FakeServerOptions {
    /// Interface to listen on; default `localhost` (bound on 127.0.0.1).
    pub host: Option<String>,
    /// Port; default 0, a free one.
    pub port: Option<u32>,
    /// The `iss` of its tokens, byte for byte; default `http://HOST:PORT`.
    pub issuer: Option<String>,
    /// A TOML file with issuer, lifetimes, users and clients.
    pub config: Option<String>,
    /// Keep the SQLite database and generated key in this folder (created
    /// when missing), so they survive a restart; default: in memory.
    pub data_dir: Option<String>,
    /// Keep everything in memory, write nothing; default true unless `dataDir` is given.
    pub memory: Option<bool>,
    /// No request log on stderr; default true.
    pub quiet: Option<bool>,
}

fn server_options(given: Option<FakeServerOptions>) -> Outcome<Options> {
    let options = Options::embedded();
    let Some(given) = given else {
        return Ok(options);
    };
    let mut options = match given.data_dir {
        Some(dir) => options.persist_in(dir),
        None => options,
    };
    if let Some(host) = given.host {
        options.host = host;
    }
    if let Some(port) = given.port {
        options.port = u16::try_from(port)
            .map_err(|_| Failure::invalid_argument(format!("port {port} is out of range")))?;
    }
    options.issuer = given.issuer;
    options.config = given.config.map(Into::into);
    options.memory = given.memory.unwrap_or(options.memory);
    options.quiet = given.quiet.unwrap_or(options.quiet);
    Ok(options)
}

/// Start the fake OAuth2 / OpenID Connect server in this process (on its own
/// threads). With a toolkit holding a private key, it signs with that key.
#[napi(catch_unwind, ts_return_type = "Promise<FakeServer>")]
pub fn start_fake_server(
    env: Env,
    options: Option<FakeServerOptions>,
    toolkit: Option<&OAuthToolkit>,
) -> Result<AsyncTask<Work<FakeServer>>> {
    let options = run(&env, || server_options(options))?;
    let toolkit = toolkit.map(|t| t.inner.clone());
    Ok(Work::spawn(move || {
        let toolkit = toolkit.as_deref().map(read);
        let server = oatk::server::start(toolkit.as_deref(), &options)?;
        Ok(FakeServer {
            server: Arc::new(server),
        })
    }))
}

/// A running fake server. `await server.stop()` ends it; so does the end of
/// the process.
#[napi]
pub struct FakeServer {
    server: Arc<Server>,
}

#[napi]
impl FakeServer {
    /// Where it listens, e.g. `http://localhost:41234`.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.server.url().to_string()
    }

    /// The `iss` of its tokens.
    #[napi(getter)]
    pub fn issuer(&self) -> String {
        self.server.issuer().to_string()
    }

    /// Its OpenID Connect discovery document, what `usingProvider` is given:
    /// `{url}/.well-known/openid-configuration`.
    #[napi(getter)]
    pub fn discovery_url(&self) -> String {
        self.server.discovery_url()
    }

    /// The JWKS it publishes at `/oauth/certs`, as JSON text.
    #[napi(getter)]
    pub fn jwks(&self) -> String {
        self.server.jwks().to_string()
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
        claims: Option<Map<String, Value>>,
        client_id: Option<String>,
        scope: Option<String>,
    ) -> Result<Value> {
        run(&env, || {
            let claims = claims.unwrap_or_default();
            Ok(self.server.issue_token(
                &username,
                claims,
                client_id.as_deref(),
                scope.as_deref(),
            )?)
        })
    }

    /// Add or replace a user and their extra claims, checked as the admin API checks them.
    #[napi(catch_unwind)]
    pub fn upsert_user(
        &self,
        env: Env,
        username: String,
        claims: Option<Map<String, Value>>,
    ) -> Result<()> {
        let user = json!({ "username": username, "claims": claims.unwrap_or_default() });
        run(&env, || {
            self.server.upsert_user_json(&user.to_string())?;
            Ok(())
        })
    }

    /// Add or replace a client registration, checked as the admin API checks
    /// it: `{ client_id, client_secret?, name?, redirect_uris,
    /// post_logout_redirect_uris?, allowed_origins?, scope?, grant_types?,
    /// response_types?, public? }` (the TOML fields).
    #[napi(catch_unwind)]
    pub fn upsert_client(&self, env: Env, client: Map<String, Value>) -> Result<()> {
        let client = Value::Object(client);
        run(&env, || {
            self.server.upsert_client_json(&client.to_string())?;
            Ok(())
        })
    }

    /// Tokens as the token endpoint would issue them: for a user as if they
    /// had signed in and consented (as `issueToken`), or with no `username`
    /// for the client acting for itself (`client_credentials`). `tenant`
    /// picks a tenant's issuer and keys (created on first use).
    #[napi(catch_unwind)]
    pub fn issue(&self, env: Env, request: Option<FakeTokenRequest>) -> Result<Value> {
        let request = request.unwrap_or_default();
        let request = TokenRequest {
            username: request.username,
            claims: request.claims.unwrap_or_default(),
            client_id: request.client_id,
            scope: request.scope,
            tenant: request.tenant,
        };
        run(&env, || Ok(self.server.issue(&request)?))
    }

    /// The server's now, in seconds since the epoch: the system clock unless
    /// advanced or frozen.
    #[napi(getter)]
    pub fn now(&self) -> i64 {
        self.server.now()
    }

    /// Move the server's clock `seconds` ahead (behind when negative), so
    /// tokens, codes and sessions age without sleeping. Returns the new now.
    #[napi(catch_unwind)]
    pub fn advance_clock(&self, env: Env, seconds: i64) -> Result<i64> {
        run(&env, || Ok(self.server.advance_clock(seconds)?))
    }

    /// Stop the server's clock at `epoch` (seconds) until advanced or reset.
    #[napi(catch_unwind)]
    pub fn freeze_clock(&self, env: Env, epoch: i64) -> Result<()> {
        run(&env, || Ok(self.server.freeze_clock(epoch)?))
    }

    /// Back to the system clock.
    #[napi(catch_unwind)]
    pub fn reset_clock(&self) {
        self.server.reset_clock();
    }

    /// The root issuer (no `tenant`) or a tenant, created on first use as a
    /// request to `/{tenant}/...` creates it.
    #[napi(catch_unwind)]
    pub fn issuer_info(&self, env: Env, tenant: Option<String>) -> Result<FakeIssuer> {
        run(&env, || {
            Ok(self.server.issuer_info(tenant.as_deref())?.into())
        })
    }

    /// Publish a new signing key beside the old ones (of the root, or of
    /// `tenant`) and sign new tokens with it. The old keys stay in the JWKS
    /// until `retireOldKeys`, or retire by themselves `retireAfter` seconds
    /// later on the server's clock. Returns the new key's `kid`.
    #[napi(catch_unwind)]
    pub fn rotate_keys(
        &self,
        env: Env,
        tenant: Option<String>,
        retire_after: Option<u32>,
    ) -> Result<String> {
        run(&env, || {
            Ok(match retire_after {
                Some(seconds) => self
                    .server
                    .rotate_keys_retiring(tenant.as_deref(), seconds.into())?,
                None => self.server.rotate_keys(tenant.as_deref())?,
            })
        })
    }

    /// Remove every key but the signing one from the JWKS (of the root, or
    /// of `tenant`): tokens they signed stop validating. Returns how many went.
    #[napi(catch_unwind)]
    pub fn retire_old_keys(&self, env: Env, tenant: Option<String>) -> Result<u32> {
        run(&env, || {
            let retired = self.server.retire_old_keys(tenant.as_deref())?;
            Ok(u32::try_from(retired).unwrap_or(u32::MAX))
        })
    }

    /// Stop serving; resolves once its threads have ended. Stopping twice is
    /// fine; afterwards the other calls throw `ERR_OATK_SERVER`.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn stop(&self) -> AsyncTask<Work<()>> {
        let server = self.server.clone();
        Work::spawn(move || {
            server.stop();
            Ok(())
        })
    }
}

/// What `FakeServer.issue` makes tokens for; every field is optional.
#[napi(object)]
#[derive(Default)]
pub struct FakeTokenRequest {
    /// The user, as if they had signed in and consented; left out: the
    /// client acting for itself (`client_credentials`).
    pub username: Option<String>,
    /// For a user: their extra claims from now on. For a client: extra
    /// claims of this token.
    pub claims: Option<Map<String, Value>>,
    /// The audience; default `test`, the seed's demo client (need not be registered).
    pub client_id: Option<String>,
    /// Default `openid profile` for a user, the client's scope for a client.
    pub scope: Option<String>,
    /// A tenant's issuer and keys instead of the root's (created on first use).
    pub tenant: Option<String>,
}

/// One key an issuer publishes.
#[napi(object)]
pub struct FakeIssuerKey {
    pub kid: String,
    pub alg: String,
    /// New tokens are signed with it.
    pub signing: bool,
    /// When it leaves the JWKS (server clock, seconds); absent: when retired on request.
    pub retire_at: Option<i64>,
}

/// The root issuer (no `tenant`) or a tenant of the fake server.
#[napi(object)]
pub struct FakeIssuer {
    pub tenant: Option<String>,
    /// The `iss` of its tokens.
    pub issuer: String,
    /// Where its endpoints are served: what `usingProvider` is given.
    pub url: String,
    pub discovery_url: String,
    pub jwks_uri: String,
    /// The published keys, the signing one first.
    pub keys: Vec<FakeIssuerKey>,
}

impl From<IssuerInfo> for FakeIssuer {
    fn from(info: IssuerInfo) -> FakeIssuer {
        FakeIssuer {
            tenant: info.tenant,
            issuer: info.issuer,
            url: info.url,
            discovery_url: info.discovery_url,
            jwks_uri: info.jwks_uri,
            keys: info
                .keys
                .into_iter()
                .map(|k| FakeIssuerKey {
                    kid: k.kid,
                    alg: k.alg,
                    signing: k.signing,
                    retire_at: k.retire_at,
                })
                .collect(),
        }
    }
}

/// The browser client, oatk.js: the same file the fake server serves at
/// `/static/oatk.js`.
#[napi(catch_unwind)]
pub fn browser_script() -> &'static str {
    oatk::server::OATK_JS
}
