//! The fake OAuth2 / OpenID Connect server in this process: core's embedded
//! preset with the caller's options on top, and its shared handle.

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Env, Result};
use napi_derive::napi;
use oatk::server::{Options, Server};
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

/// The browser client, oatk.js: the same file the fake server serves at
/// `/static/oatk.js`.
#[napi(catch_unwind)]
pub fn browser_script() -> &'static str {
    oatk::server::OATK_JS
}
