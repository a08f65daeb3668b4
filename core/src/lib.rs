//! oatk: an OAuth toolkit. Keys and JWKS, JWT minting and validation, and a
//! fake OAuth2 / OpenID Connect server, behind one chainable [`Toolkit`].
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod b64;
pub mod cache;
pub mod claims;
pub mod cli;
mod clipboard;
pub mod error;
pub mod guard;
pub mod jwk;
pub mod key;
pub mod packed;
pub mod provider;
pub mod server;
pub mod time;
pub mod token;
pub mod toolkit;
pub mod validate;

pub use error::{Error, ErrorKind, Result};
pub use jwk::{Jwk, JwkSet};
pub use key::{Algorithm, KeyFamily, PrivateKey, PublicKey};
pub use token::Claims;
pub use toolkit::{Toolkit, VERSION};
pub use validate::Validator;
