//! `oatk [with_private KEY with_jwks JWKS] server run [options]`.

use std::path::PathBuf;

use super::Options;
use crate::error::{Error, Result};
use crate::toolkit::Toolkit;

pub const USAGE: &str = "\
Usage: oatk [with_private KEY [with_jwks JWKS]] server run [OPTIONS]

Run the fake OAuth2 / OpenID Connect server. The first line printed is its URL.

Options:
  --host HOST      interface to listen on (default localhost)
  --port PORT      port (default 5000; 0 picks a free one)
  --issuer URL     the iss of its tokens, byte for byte (default http://HOST:PORT)
  --config FILE    a TOML file with issuer, lifetimes, users, clients, tenants
                   and claim mappings
  --data DIR       where the SQLite database and generated key live (default ./.oatk)
  --memory         keep everything in memory, write nothing
  --quiet          no request log on stderr
  --admin-token T  let network peers use the admin API with Authorization: Bearer T
                   (at least 16 characters; admin_token in --config keeps it out of ps)
  --help           this text

Without with_private, a signing key is generated (and kept in --data).
Tenants are served by path (/{tenant}/.well-known/openid-configuration ...);
/debugger decodes and validates a pasted token. The admin API (/admin/users,
clients, clock, tenants, keys/rotate, keys/retire, faults, claim-mappings)
answers loopback peers, or peers presenting the admin token.
Bound beyond loopback (--host 0.0.0.0), it warns at start.
";

/// `Ok(None)` means `--help` was asked for.
pub fn parse(args: &[String]) -> std::result::Result<Option<Options>, String> {
    let mut options = Options::default();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = || {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--host" => options.host = value()?,
            "--port" => {
                let text = value()?;
                options.port = text
                    .parse()
                    .map_err(|_| format!("--port {text:?} is not a port number"))?;
            }
            "--issuer" => options.issuer = Some(value()?),
            "--config" => options.config = Some(PathBuf::from(value()?)),
            "--data" => options.data_dir = PathBuf::from(value()?),
            "--memory" => options.memory = true,
            "--quiet" => options.quiet = true,
            "--admin-token" => options.admin_token = Some(value()?),
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown server option {other:?}")),
        }
    }
    Ok(Some(options))
}

/// Serve until Ctrl-C or SIGTERM.
pub fn run(toolkit: &Toolkit, options: Options) -> Result<()> {
    let server = super::start(Some(toolkit), &options)?;
    println!("{}", server.url());
    if !options.quiet {
        eprintln!("{}", server.banner());
    }
    wait_for_signal()?;
    if !options.quiet {
        eprintln!("oatk server stopping");
    }
    server.stop();
    Ok(())
}

fn wait_for_signal() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::server(format!("cannot wait for signals: {e}")))?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term =
                signal(SignalKind::terminate()).map_err(|e| Error::server(e.to_string()))?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        Ok(())
    })
}
