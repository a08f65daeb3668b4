//! The fake OAuth2 / OpenID Connect server (axum + tokio), startable from the
//! CLI (`oatk server run`) or in-process from any binding with [`start`].

pub mod cli;
pub mod config;
mod discovery;
mod http;
mod issue;
mod login;
mod pages;
mod registration;
mod router;
pub mod store;
pub use router::{OATK_JS, STYLE_CSS};
mod token_endpoint;

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::key::{Algorithm, PrivateKey};
use crate::toolkit::Toolkit;
use config::{Client, Config, User};
use store::Store;

/// The client tokens are issued for when a test names none: the seed's demo client.
pub const DEFAULT_CLIENT_ID: &str = "test";
/// The scope tokens are issued with when a test names none.
pub const DEFAULT_SCOPE: &str = "openid profile";

/// How to start the server. Defaults match `oatk server run`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Default "localhost" (bound on 127.0.0.1).
    pub host: String,
    /// Default 5000; 0 picks any free port.
    pub port: u16,
    /// `iss`, byte for byte. Default: `http://{host}:{port}`.
    pub issuer: Option<String>,
    pub config: Option<PathBuf>,
    /// SQLite database and generated key. Default `./.oatk`.
    pub data_dir: PathBuf,
    /// Keep everything in memory; write nothing to disk.
    pub memory: bool,
    /// No request log.
    pub quiet: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            host: "localhost".into(),
            port: 5000,
            issuer: None,
            config: None,
            data_dir: PathBuf::from(".oatk"),
            memory: false,
            quiet: false,
        }
    }
}

/// Shared by every request.
pub(crate) struct State {
    pub issuer: String,
    pub config: Config,
    pub store: Store,
    /// Signs tokens; validates our own access tokens (issuer enforced).
    pub toolkit: Toolkit,
    /// Rendered once; a clone is a reference count, not a copy.
    pub jwks_json: axum::body::Bytes,
    pub discovery_json: axum::body::Bytes,
    pub quiet: bool,
}

/// A running server. Dropping it stops it.
pub struct Server {
    url: String,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Start the server on a background runtime and return once it is listening.
/// `toolkit` supplies the signing key and the published JWKS; without one (or
/// without a private key in it) a key is generated and, unless `memory`, kept
/// in the data directory so tokens stay valid across restarts.
pub fn start(toolkit: Option<&Toolkit>, options: &Options) -> Result<Server> {
    let mut config = match &options.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if options.issuer.is_some() {
        config.issuer = options.issuer.clone();
    }
    let listener = bind(&options.host, options.port)?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::server(format!("cannot read listen address: {e}")))?;
    let url_host = match options.host.as_str() {
        "0.0.0.0" | "::" | "" => "localhost".to_string(),
        h if h.contains(':') => format!("[{h}]"),
        h => h.to_string(),
    };
    let url = format!("http://{url_host}:{}", addr.port());
    let issuer = config.issuer.clone().unwrap_or_else(|| url.clone());

    if !options.memory {
        std::fs::create_dir_all(&options.data_dir)
            .map_err(|e| Error::io("create data directory", &options.data_dir, &e))?;
    }
    let mut signer = match toolkit {
        Some(t) if t.signing_key().is_some() => t.keys_only(),
        _ => {
            let mut t = Toolkit::new();
            t.with_private_key(server_key(options)?);
            t
        }
    };
    signer.with_issuer(&issuer);
    let store = Store::open(
        (!options.memory)
            .then(|| options.data_dir.join("oatk.sqlite3"))
            .as_deref(),
    )?;
    for user in &config.users {
        store.upsert_user(user)?;
    }
    for client in &config.clients {
        store.upsert_client(client)?;
    }
    let jwks_json = signer.jwk_set().to_value().to_string().into();
    let discovery_json = discovery::document(&issuer, &signer).to_string().into();
    let state = Arc::new(State {
        issuer,
        config,
        store,
        toolkit: signer,
        jwks_json,
        discovery_json,
        quiet: options.quiet,
    });

    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("oatk-server")
        .build()
        .map_err(|e| Error::server(format!("cannot start runtime: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::server(format!("cannot configure socket: {e}")))?;
    let app = router::router(state.clone());
    let thread = std::thread::Builder::new()
        .name("oatk-server".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => return eprintln!("oatk server: {e}"),
                };
                let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                    let _ = stopped.await;
                });
                if let Err(e) = serve.await {
                    eprintln!("oatk server: {e}");
                }
            });
            // Do not wait for idle keep-alive connections after shutdown.
            runtime.shutdown_background();
        })
        .map_err(|e| Error::server(format!("cannot start server thread: {e}")))?;
    Ok(Server {
        url,
        state,
        shutdown: Some(shutdown),
        thread: Some(thread),
    })
}

fn bind(host: &str, port: u16) -> Result<TcpListener> {
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::server(format!("cannot resolve host {host:?}: {e}")))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpListener::bind(addr) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some((addr, e)),
        }
    }
    Err(match last {
        Some((addr, e)) if e.kind() == std::io::ErrorKind::AddrInUse => {
            Error::server(format!("cannot listen on {addr}: the port is in use (choose another with --port, or 0 for any)"))
        }
        Some((addr, e)) => Error::server(format!("cannot listen on {addr}: {e}")),
        None => Error::server(format!("host {host:?} has no address")),
    })
}

/// The generated signing key: kept in the data directory, or in memory only.
fn server_key(options: &Options) -> Result<PrivateKey> {
    if options.memory {
        return PrivateKey::generate(Algorithm::RS256, None);
    }
    let path = options.data_dir.join("signing_key.pem");
    if path.exists() {
        return crate::key::load_private(&path);
    }
    let key = PrivateKey::generate(Algorithm::RS256, None)?;
    crate::key::write_private(&path, key.to_pkcs8_pem()?.as_bytes())?;
    Ok(key)
}

impl Server {
    /// Where it listens, e.g. `http://localhost:5000`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `iss` of its tokens.
    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }

    /// The JWKS it publishes at `/oauth/certs`.
    pub fn jwks(&self) -> &str {
        std::str::from_utf8(&self.state.jwks_json).unwrap_or_default()
    }

    /// Add or replace a user and their extra claims.
    pub fn upsert_user(&self, username: &str, claims: Map<String, Value>) -> Result<()> {
        self.state.store.upsert_user(&User {
            username: username.to_string(),
            claims,
        })
    }

    /// Add or replace a client registration.
    pub fn upsert_client(&self, client: &Client) -> Result<()> {
        self.state.store.upsert_client(client)
    }

    /// Issue tokens for a user as if they had logged in and consented, for
    /// tests that need no browser: the token endpoint's JSON response.
    /// `client_id` defaults to [`DEFAULT_CLIENT_ID`], `scope` to [`DEFAULT_SCOPE`].
    pub fn issue_token(
        &self,
        username: &str,
        claims: Map<String, Value>,
        client_id: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Value> {
        let client_id = client_id.unwrap_or(DEFAULT_CLIENT_ID);
        let scope = scope.unwrap_or(DEFAULT_SCOPE);
        if !claims.is_empty() {
            self.upsert_user(username, claims)?;
        } else {
            self.state.store.ensure_user(username)?;
        }
        let client = self
            .state
            .store
            .client(client_id)?
            .unwrap_or_else(|| Client {
                client_id: client_id.to_string(),
                ..Client::default()
            });
        let grant = issue::Grant {
            client: &client,
            username: Some(username),
            scope,
            nonce: None,
            auth_time: crate::time::now(),
            origin: None,
        };
        issue::tokens(&self.state, &grant, true)
    }

    /// Stop serving and wait for the server thread to end.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}
