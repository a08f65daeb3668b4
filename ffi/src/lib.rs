//! oatk's C ABI (`liboatk`): one file per concern, each export a translation
//! of a core call. The calling contract is in `ffi/README.md`.
#![allow(non_camel_case_types, clippy::missing_safety_doc)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![deny(unsafe_op_in_unsafe_fn)]

// The order of these modules is the order of include/oatk.h (cbindgen follows
// it); the blank lines keep rustfmt from sorting them.
mod toolkit; // oatk_toolkit: keys, minting, validation, version

mod tokens; // decode, header, key generation: no toolkit needed

mod guard; // oatk_guard: the 401/403 decision for a request

mod server; // oatk_server: the fake OAuth2 / OIDC server

mod errors; // oatk_status, the ErrorKind mapping, last error, the panic boundary

mod strings; // C strings in and out, oatk_string_free

pub use errors::*;
pub use guard::*;
pub use server::*;
pub use strings::*;
pub use tokens::*;
pub use toolkit::*;
