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

/// mimalloc for every Rust allocation of the addon, on Linux (see Cargo.toml
/// for why not on macOS; elsewhere the system's allocator). `validateAsync` hands
/// blocks between threads (the token and job to a worker; the packed claims
/// and result back), and glibc frees a block of another thread's arena under
/// that arena's lock: with 64 calls in flight, workers woke threads waiting
/// for those locks in 2.6% of the process's samples. mimalloc frees another
/// thread's block without a lock. Measured (bench A/B, 64 in flight ÷ a
/// `validate()` loop, alternating): 1.57-1.60x with glibc, 1.66-1.71x with
/// this; sync `validate()` the same or 1-2% faster. Memory V8, aws-lc or
/// SQLite allocates is theirs, and none changes hands with Rust's.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
