//! The fake server's router in process, for the cargo-fuzz targets in
//! `core/fuzz` (feature `fuzzing`; never part of a normal build). Requests go
//! straight into the axum `Router` with `tower::ServiceExt::oneshot`: no
//! socket, no thread, a fresh in-memory store per router.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;

use super::config::Config;
use super::serve::LocalAddr;
use super::{initial_state, router, Options};
use crate::error::Result;
use crate::toolkit::Toolkit;

/// A new server state as [`super::start`] builds it, in memory and without
/// the request log: `toolkit`'s signing key, the users and clients of
/// `config` (the TOML of `--config`) seeded into the store, and `iss` from
/// the config or else `issuer`. Returns the router every request goes through.
pub fn router(toolkit: &Toolkit, config: &str, issuer: &str) -> Result<axum::Router> {
    let config = Config::parse(config)?;
    let issuer = config.issuer.clone().unwrap_or_else(|| issuer.to_string());
    let state = initial_state(Some(toolkit), &Options::embedded(), config, issuer)?;
    Ok(router::router(Arc::new(state)))
}

/// What the accept loop adds to every request before the router sees it:
/// the peer's address and the local address the connection arrived on.
pub fn connect<B>(request: &mut axum::http::Request<B>, peer: SocketAddr, local: SocketAddr) {
    request.extensions_mut().insert(ConnectInfo(peer));
    request.extensions_mut().insert(LocalAddr(local));
}
