//! The fake OAuth2 / OpenID Connect server (axum + tokio), startable from the
//! CLI (`oatk server run`) or in-process from any binding with [`start`].

mod admin;
pub mod cli;
mod clock;
pub mod config;
mod debugger;
mod discovery;
mod faults;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod http;
mod issue;
mod issuers;
mod login;
mod mappings;
mod pages;
mod registration;
mod router;
mod serve;
mod store;
pub use clock::{ClockState, MAX_EPOCH};
pub use faults::{Fault, FaultEndpoint, FaultKind, MAX_DELAY_MS, MAX_FAULTS};
pub use issuers::{IssuerInfo, KeyInfo, MAX_KEYS, MAX_TENANTS};
pub use mappings::{ClaimMapping, MAX_MAPPINGS};
pub use router::{OATK_JS, STYLE_CSS};
mod token_endpoint;

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::key::{Algorithm, PrivateKey};
use crate::toolkit::Toolkit;
use clock::Clock;
use config::{Client, Config, User};
use faults::Faults;
use issuers::{Issuers, TenantConfig};
use mappings::ClaimMappings;
use store::Store;

/// The client tokens are issued for when a test names none: the seed's demo client.
pub const DEFAULT_CLIENT_ID: &str = "test";
/// The scope tokens are issued with when a test names none.
pub const DEFAULT_SCOPE: &str = "openid profile";
/// The most client registrations the server keeps.
pub const MAX_CLIENTS: usize = 10_000;

/// How to start the server. `Options::default()` is `oatk server run`'s
/// (port 5000, kept in `./.oatk`, request log on); [`Options::embedded`] is
/// what every binding and test kit starts.
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
    /// Lets network peers use the admin API when they send it as
    /// `Authorization: Bearer <token>`. Overrides the config's `admin_token`.
    pub admin_token: Option<String>,
    /// Connection and request limits.
    pub limits: Limits,
}

/// How many connections the server holds and how long it waits for each.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections held open at once; at the cap, a new connection replaces
    /// the one idle the longest. Default 512.
    pub max_connections: usize,
    /// Time allowed to send a request's headers, and for an idle keep-alive
    /// connection to start the next request. Default 10 s.
    pub header_timeout: std::time::Duration,
    /// Time allowed to send a request's body and get the answer. Default 30 s.
    pub request_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            header_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(30),
        }
    }
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
            admin_token: None,
            limits: Limits::default(),
        }
    }
}

impl Options {
    /// The in-process preset: any free port on loopback, everything in
    /// memory, no request log. A test starts many of these side by side.
    pub fn embedded() -> Options {
        Options {
            port: 0,
            memory: true,
            quiet: true,
            ..Options::default()
        }
    }

    /// Keep the database and the generated signing key in `dir` (created
    /// when missing) instead of memory, so tokens survive a restart.
    pub fn persist_in(mut self, dir: impl Into<PathBuf>) -> Options {
        self.data_dir = dir.into();
        self.memory = false;
        self
    }

    /// Where the state lives, as the start banner says it.
    pub fn storage(&self) -> String {
        if self.memory {
            "memory".to_string()
        } else {
            self.data_dir.display().to_string()
        }
    }
}

/// Shared by every request.
pub(crate) struct State {
    pub config: Config,
    pub store: Store,
    /// The root issuer and the tenants, with their keys and documents.
    pub issuers: Issuers,
    /// The server's now: every time-based rule reads it.
    pub clock: Clock,
    pub faults: Faults,
    pub mappings: ClaimMappings,
    pub quiet: bool,
    /// Keys the CSRF tokens of the forms; new at every start.
    pub csrf_key: aws_lc_rs::hmac::Key,
    /// What a network peer presents to use the admin API.
    pub admin_token: Option<String>,
    /// The `Host` names served besides loopback: the issuer's and the listen host.
    pub hosts: Vec<String>,
}

/// What [`Server::issue`] makes tokens for; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenRequest {
    /// The user, as if they had signed in and consented; `None`: the client
    /// acting for itself (as `client_credentials`).
    pub username: Option<String>,
    /// For a user, when not empty: their extra claims from now on (as
    /// [`Server::upsert_user`]). For a client: extra claims of this token.
    pub claims: Map<String, Value>,
    /// Default [`DEFAULT_CLIENT_ID`]; need not be registered.
    pub client_id: Option<String>,
    /// Default [`DEFAULT_SCOPE`] for a user; the client's scope without
    /// `openid` for a client.
    pub scope: Option<String>,
    /// A tenant's issuer and keys instead of the root's (created on first use).
    pub tenant: Option<String>,
}

/// A running server, shared by reference: every method takes `&self`, so a
/// binding may hold it in an `Arc` and call it from many threads. `stop` is
/// safe to call twice; after it, the calls that need the server fail with
/// one "stopped" error. Dropping it stops it.
pub struct Server {
    url: String,
    listen_addr: SocketAddr,
    warning: Option<String>,
    storage: String,
    state: Arc<State>,
    running: Mutex<Option<Running>>,
}

/// What `stop` ends: the shutdown signal and the thread serving requests.
struct Running {
    shutdown: tokio::sync::watch::Sender<bool>,
    thread: JoinHandle<()>,
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
    config::check_admin_token(options.admin_token.as_deref())?;
    let listener = bind(&options.host, options.port)?;
    let url = listen_url(&options.host, &listener)?;
    let listen_addr = listener
        .local_addr()
        .map_err(|e| Error::server(format!("cannot read listen address: {e}")))?;
    let issuer = config.issuer.clone().unwrap_or_else(|| url.clone());
    if !options.memory {
        create_private_dir(&options.data_dir)?;
    }
    let state = Arc::new(initial_state(toolkit, options, config, issuer)?);
    let warning = network_warning(listen_addr, state.admin_token.is_some());
    if let Some(warning) = &warning {
        eprintln!("{warning}");
    }
    let running = serve(listener, state.clone(), options.limits.clone())?;
    Ok(Server {
        url,
        listen_addr,
        warning,
        storage: options.storage(),
        state,
        running: Mutex::new(Some(running)),
    })
}

/// Said at start when the server is reachable beyond this machine.
fn network_warning(addr: SocketAddr, admin_token: bool) -> Option<String> {
    if addr.ip().is_loopback() {
        return None;
    }
    let admin = if admin_token {
        "the admin API answers network peers only with the admin token"
    } else {
        "the admin API answers loopback peers only (set --admin-token to manage it from the network)"
    };
    Some(format!(
        "WARNING: oatk's fake server listens on {addr}, reachable from the network: anyone who reaches it can sign in as anyone and get tokens; {admin}. It is a development tool."
    ))
}

/// The data directory, created 0700 (it holds the signing key, client
/// secrets, sessions and refresh tokens).
fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| Error::io("create data directory", dir, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Whatever the umask: only the owner.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io("restrict data directory", dir, &e))?;
    }
    Ok(())
}

/// The URL clients use: the bound port, and "localhost" for a wildcard host.
fn listen_url(host: &str, listener: &TcpListener) -> Result<String> {
    let addr = listener
        .local_addr()
        .map_err(|e| Error::server(format!("cannot read listen address: {e}")))?;
    let url_host = match host {
        "0.0.0.0" | "::" | "" => "localhost".to_string(),
        h if h.contains(':') => format!("[{h}]"),
        h => h.to_string(),
    };
    Ok(format!("http://{url_host}:{}", addr.port()))
}

/// The issuers and their keys, the store seeded from the config, the clock.
fn initial_state(
    toolkit: Option<&Toolkit>,
    options: &Options,
    config: Config,
    issuer: String,
) -> Result<State> {
    let persisted = !options.memory;
    let (signer, key_file) = match toolkit {
        Some(t) if t.signing_key().is_some() => (t.keys_only(), None),
        _ => {
            let mut t = Toolkit::new();
            t.with_private_key(server_key(options)?);
            (t, persisted.then(|| options.data_dir.join(KEY_FILE)))
        }
    };
    let issuers = Issuers::new(
        &signer,
        issuer.clone(),
        key_file,
        persisted.then(|| options.data_dir.join("tenants")),
    )?;
    for tenant in &config.tenants {
        issuers.create(tenant)?;
    }
    let store = Store::open(
        persisted
            .then(|| options.data_dir.join("oatk.sqlite3"))
            .as_deref(),
    )?;
    for user in &config.users {
        store.upsert_user(user)?;
    }
    for client in &config.clients {
        store.upsert_client(client)?;
    }
    let clock = Clock::default();
    store.purge(clock.now(), config.session_lifetime)?;
    let admin_token = options.admin_token.clone().or(config.admin_token.clone());
    let mut hosts: Vec<String> = [issuer.as_str(), &format!("http://{}", options.host)]
        .iter()
        .filter_map(|url| http::url_host(url))
        .collect();
    hosts.retain(|h| !h.is_empty() && !matches!(h.as_str(), "0.0.0.0" | "[::]"));
    let csrf_secret = csrf_secret(options)?;
    Ok(State {
        mappings: ClaimMappings::new(config.claim_mappings.clone()),
        config,
        store,
        issuers,
        clock,
        faults: Faults::default(),
        quiet: options.quiet,
        csrf_key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &csrf_secret),
        admin_token,
        hosts,
    })
}

/// Serve on its own runtime and thread until the shutdown signal, purging
/// what has expired from the store every minute.
fn serve(listener: TcpListener, state: Arc<State>, limits: Limits) -> Result<Running> {
    let (shutdown, stop) = tokio::sync::watch::channel(false);
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
                tokio::spawn(purge_every_minute(state));
                serve::run(listener, app, limits, stop).await;
            });
            // Do not wait for the purge timer or connections left after the drain.
            runtime.shutdown_background();
        })
        .map_err(|e| Error::server(format!("cannot start server thread: {e}")))?;
    Ok(Running { shutdown, thread })
}

/// Expired sessions, codes, refresh tokens and revocations leave the store.
async fn purge_every_minute(state: Arc<State>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = state
            .store
            .purge(state.clock.now(), state.config.session_lifetime)
        {
            eprintln!("oatk server: purge failed: {e}");
        }
    }
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

/// The generated root signing key's file in the data directory.
const KEY_FILE: &str = "signing_key.pem";

/// The generated signing key: kept in the data directory, or in memory only.
fn server_key(options: &Options) -> Result<PrivateKey> {
    if options.memory {
        return PrivateKey::generate(Algorithm::RS256, None);
    }
    let path = options.data_dir.join(KEY_FILE);
    if path.exists() {
        return crate::key::load_private(&path);
    }
    let key = PrivateKey::generate(Algorithm::RS256, None)?;
    crate::key::write_private(&path, key.to_pkcs8_pem()?.as_bytes())?;
    Ok(key)
}

/// The key CSRF tokens are made with: like the signing key, kept in the data
/// directory (0600), so a form served before a restart is still accepted
/// after it; fresh for every in-memory server.
fn csrf_secret(options: &Options) -> Result<Vec<u8>> {
    let fresh = || -> Result<Vec<u8>> {
        let mut secret = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut secret)
            .map_err(|_| Error::server("no randomness for the CSRF key"))?;
        Ok(secret)
    };
    if options.memory {
        return fresh();
    }
    let path = options.data_dir.join("csrf.key");
    if let Some(secret) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| crate::b64::decode(text.trim()).ok())
        .filter(|secret| secret.len() == 32)
    {
        return Ok(secret);
    }
    let secret = fresh()?;
    crate::key::write_private(&path, crate::b64::encode(&secret).as_bytes())?;
    Ok(secret)
}

impl Server {
    /// Where it listens, e.g. `http://localhost:5000`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `iss` of its tokens (of the root issuer; see [`Server::issuer_info`]
    /// for a tenant's).
    pub fn issuer(&self) -> &str {
        &self.state.issuers.root.issuer
    }

    /// Its OpenID Connect discovery document (OIDC Discovery 4): what
    /// `using_provider` is given.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.url)
    }

    /// The address it is bound to, e.g. `0.0.0.0:5000` or `127.0.0.1:5000`.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen_addr
    }

    /// The JWKS it publishes at `/oauth/certs` now (it changes when the keys
    /// rotate); a tenant's is in [`Server::issuer_info`].
    pub fn jwks(&self) -> String {
        let keys = self.state.issuers.root.keys(self.state.clock.now());
        String::from_utf8_lossy(&keys.jwks_json).into_owned()
    }

    /// What `oatk server run` prints to stderr at start, for every front end
    /// that runs the server in the foreground.
    pub fn banner(&self) -> String {
        let listening = match &self.warning {
            Some(_) => format!(
                "\n  listening: {}, reachable from the network",
                self.listen_addr
            ),
            None => String::new(),
        };
        format!(
            "oatk fake OAuth server at {} (issuer {})\n  discovery: {}\n  storage:   {}{listening}\nPress Ctrl-C to stop.",
            self.url,
            self.issuer(),
            self.discovery_url(),
            self.storage
        )
    }

    /// The warning printed at start when the server listens beyond loopback.
    pub fn network_warning(&self) -> Option<String> {
        self.warning.clone()
    }

    /// False once `stop` was called.
    pub fn is_running(&self) -> bool {
        self.lock_running().is_some()
    }

    /// Add or replace a user and their extra claims; checked as the admin API checks.
    pub fn upsert_user(&self, user: &User) -> Result<()> {
        self.ensure_running()?;
        user.check()?;
        self.state.store.upsert_user(user)
    }

    /// [`Server::upsert_user`] from JSON: `{"username": "xtof", "claims": {...}}`.
    pub fn upsert_user_json(&self, json: &str) -> Result<User> {
        let user = User::from_json(json)?;
        self.upsert_user(&user)?;
        Ok(user)
    }

    /// Add or replace a client registration; checked as the admin API checks.
    pub fn upsert_client(&self, client: &Client) -> Result<()> {
        self.ensure_running()?;
        let mut client = client.clone();
        client.normalize();
        client.check_with(self.state.config.allow_http_redirects)?;
        self.state.store.upsert_client(&client)
    }

    /// [`Server::upsert_client`] from JSON with the config file's fields.
    pub fn upsert_client_json(&self, json: &str) -> Result<Client> {
        let client = Client::parse_json(json)?;
        self.upsert_client(&client)?;
        Ok(client)
    }

    /// Issue tokens for a user as if they had logged in and consented, for
    /// tests that need no browser: the token endpoint's JSON response.
    /// `claims`, when not empty, replace the user's extra claims.
    /// `client_id` defaults to [`DEFAULT_CLIENT_ID`], `scope` to [`DEFAULT_SCOPE`].
    /// [`Server::issue`] does the same for a tenant or a client acting for itself.
    pub fn issue_token(
        &self,
        username: &str,
        claims: Map<String, Value>,
        client_id: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Value> {
        self.issue(&TokenRequest {
            username: Some(username.to_string()),
            claims,
            client_id: client_id.map(str::to_owned),
            scope: scope.map(str::to_owned),
            tenant: None,
        })
    }

    /// Issue tokens as the token endpoint would, with no browser and no
    /// client secret: for a user as if they had signed in and consented
    /// (access token, refresh token, and an id_token when the scope has
    /// `openid`), or with no `username` for the client acting for itself
    /// (`client_credentials`: an access token only). Claim mappings apply.
    pub fn issue(&self, request: &TokenRequest) -> Result<Value> {
        self.ensure_running()?;
        let issuer = self.state.issuers.get(request.tenant.as_deref())?;
        let client_id = request.client_id.as_deref().unwrap_or(DEFAULT_CLIENT_ID);
        let client = self
            .state
            .store
            .client(client_id)?
            .unwrap_or_else(|| Client {
                client_id: client_id.to_string(),
                ..Client::default()
            });
        let Some(username) = request.username.as_deref() else {
            let scope = request
                .scope
                .clone()
                .unwrap_or_else(|| issue::client_scope(&client));
            let grant = issue::Grant {
                issuer: &issuer,
                client: &client,
                username: None,
                scope: &scope,
                nonce: None,
                auth_time: self.state.clock.now(),
                origin: None,
                extra_claims: Some(&request.claims),
            };
            return issue::tokens(&self.state, &grant, false);
        };
        let user = User {
            username: username.to_string(),
            claims: request.claims.clone(),
        };
        user.check()?;
        if request.claims.is_empty() {
            self.state.store.ensure_user(username)?;
        } else {
            self.state.store.upsert_user(&user)?;
        }
        // Its own grant, so a reused refresh token can revoke its chain.
        let origin = format!("issued:{}", http::random_id(16));
        let grant = issue::Grant {
            issuer: &issuer,
            client: &client,
            username: Some(username),
            scope: request.scope.as_deref().unwrap_or(DEFAULT_SCOPE),
            nonce: None,
            auth_time: self.state.clock.now(),
            origin: Some(&origin),
            extra_claims: None,
        };
        issue::tokens(&self.state, &grant, true)
    }

    /// [`Server::issue`] from JSON: `{"username": "xtof", "claims": {...},
    /// "client_id": "test", "scope": "openid", "tenant": "acme"}`, every field optional.
    pub fn issue_json(&self, json: &str) -> Result<Value> {
        let request: TokenRequest = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("invalid token request: {e}")))?;
        self.issue(&request)
    }

    // The clock

    /// The server's now, in seconds since the epoch: the system clock unless
    /// shifted or frozen.
    pub fn now(&self) -> i64 {
        self.state.clock.now()
    }

    /// Where the clock stands: now, its offset from the system clock, frozen or not.
    pub fn clock(&self) -> ClockState {
        self.state.clock.state()
    }

    /// Move the server's clock `seconds` ahead (behind when negative), so a
    /// test sees tokens, codes, refresh tokens and sessions age without
    /// sleeping. Returns the new now. A frozen clock stays frozen, moved.
    pub fn advance_clock(&self, seconds: i64) -> Result<i64> {
        self.ensure_running()?;
        Ok(self.state.clock.advance(seconds)?.now)
    }

    /// Stop the server's clock at `epoch` (seconds) until advanced or reset.
    pub fn freeze_clock(&self, epoch: i64) -> Result<()> {
        self.ensure_running()?;
        self.state.clock.freeze(epoch).map(drop)
    }

    /// Back to the system clock.
    pub fn reset_clock(&self) {
        self.state.clock.reset();
    }

    // Issuers and keys

    /// The root issuer (`None`) or a tenant, created on first use as a
    /// request to `/{tenant}/...` creates it: its issuer, URL and keys.
    pub fn issuer_info(&self, tenant: Option<&str>) -> Result<IssuerInfo> {
        self.ensure_running()?;
        let issuer = self.state.issuers.get(tenant)?;
        Ok(issuer.info(self.state.clock.now()))
    }

    /// Create a tenant with its own issuer string (default
    /// `{root issuer}/{name}`), as `[[tenants]]` in the config does.
    pub fn add_tenant(&self, name: &str, issuer: Option<&str>) -> Result<IssuerInfo> {
        self.ensure_running()?;
        let created = self.state.issuers.create(&TenantConfig {
            name: name.to_string(),
            issuer: issuer.map(str::to_owned),
        })?;
        Ok(created.info(self.state.clock.now()))
    }

    /// The root issuer, then every tenant by name.
    pub fn issuers(&self) -> Vec<IssuerInfo> {
        let now = self.state.clock.now();
        self.state
            .issuers
            .all()
            .iter()
            .map(|i| i.info(now))
            .collect()
    }

    /// Publish a new signing key beside the old ones for the root (`None`)
    /// or a tenant, and sign new tokens with it; the old keys stay in the
    /// JWKS until [`Server::retire_old_keys`]. Returns the new key's `kid`.
    pub fn rotate_keys(&self, tenant: Option<&str>) -> Result<String> {
        self.rotate(tenant, None)
    }

    /// [`Server::rotate_keys`], the old keys retiring by themselves
    /// `retire_after` seconds later on the server's clock (0: at once).
    pub fn rotate_keys_retiring(&self, tenant: Option<&str>, retire_after: u64) -> Result<String> {
        self.rotate(tenant, Some(retire_after))
    }

    fn rotate(&self, tenant: Option<&str>, retire_after: Option<u64>) -> Result<String> {
        self.ensure_running()?;
        let issuer = self.state.issuers.get(tenant)?;
        issuer.rotate(self.state.clock.now(), retire_after)
    }

    /// Remove every key but the signing one from the JWKS of the root
    /// (`None`) or a tenant: tokens they signed stop validating. Returns how
    /// many went.
    pub fn retire_old_keys(&self, tenant: Option<&str>) -> Result<usize> {
        self.ensure_running()?;
        Ok(self.state.issuers.get(tenant)?.retire())
    }

    // Faults

    /// Make an endpoint misbehave for its next requests (see [`Fault`]).
    pub fn inject_fault(&self, fault: Fault) -> Result<()> {
        self.ensure_running()?;
        self.state.faults.add(fault).map(drop)
    }

    /// [`Server::inject_fault`] from the admin API's JSON:
    /// `{"endpoint": "jwks", "kind": "timeout", "delay_ms": 5000, "count": 2}`.
    pub fn inject_fault_json(&self, json: &str) -> Result<Fault> {
        self.ensure_running()?;
        self.state.faults.add(Fault::from_json(json)?)
    }

    /// The faults still waiting, with how many requests each has left.
    pub fn faults(&self) -> Vec<Fault> {
        self.state.faults.list()
    }

    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    // Claim mappings

    /// Add extra claims for matching tokens, after the config's mappings.
    pub fn add_claim_mapping(&self, mapping: ClaimMapping) -> Result<()> {
        self.ensure_running()?;
        self.state.mappings.add(mapping)
    }

    /// [`Server::add_claim_mapping`] from JSON, the config's fields:
    /// `{"client_id": "svc", "claims": {"roles": ["reader"], "on_behalf_of": "${sub}"}}`.
    pub fn add_claim_mapping_json(&self, json: &str) -> Result<ClaimMapping> {
        let mapping = ClaimMapping::from_json(json)?;
        self.add_claim_mapping(mapping.clone())?;
        Ok(mapping)
    }

    pub fn claim_mappings(&self) -> Vec<ClaimMapping> {
        self.state.mappings.list()
    }

    /// Remove every mapping, the config's included (a restart brings those back).
    pub fn clear_claim_mappings(&self) {
        self.state.mappings.clear();
    }

    /// Stop serving and wait for the server thread to end. Safe to call
    /// again (and from several threads): later calls do nothing.
    pub fn stop(&self) {
        let running = self.lock_running().take();
        if let Some(Running { shutdown, thread }) = running {
            let _ = shutdown.send(true);
            let _ = thread.join();
        }
    }

    fn ensure_running(&self) -> Result<()> {
        if self.is_running() {
            Ok(())
        } else {
            Err(Error::server("the fake server is stopped"))
        }
    }

    fn lock_running(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        // A panic while holding this lock left nothing half-written.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
