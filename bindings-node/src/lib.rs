//! oatk for Node.js: napi-rs translations of core calls (crate oatk-core),
//! one file per concern. Registration is napi-derive's: each `#[napi]` item
//! registers itself. Every export runs inside the panic boundary
//! (`errors::run`, `#[napi(catch_unwind)]`); what JavaScript awaits runs off
//! its thread (`tasks`).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod args;
pub mod claims;
pub mod cli;
pub mod errors;
pub mod guard;
pub mod receiver;
pub mod server;
pub mod tasks;
pub mod toolkit;
