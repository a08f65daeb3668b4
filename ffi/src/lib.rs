//! oatk's C ABI (`liboatk`). Every export converts its arguments, calls one
//! core function and converts the result; no behaviour lives here.
//!
//! The contract every function follows is in `ffi/README.md`; in short:
//! handles are opaque and freed once by their `_free`/`_stop`; arguments are
//! borrowed; strings are NUL-terminated UTF-8; NULL or bad UTF-8 gives
//! `OATK_ERR_INVALID_ARGUMENT`; returned strings are freed with
//! `oatk_string_free`; every export runs inside [`ffi_boundary`].
#![allow(non_camel_case_types, clippy::missing_safety_doc)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![deny(unsafe_op_in_unsafe_fn)]

// The order of these modules is the order of include/oatk.h (cbindgen follows
// it); the blank lines keep rustfmt from sorting them.
mod toolkit; // oatk_toolkit: keys, minting, validation

mod tokens; // decode, header, key generation: no toolkit needed

mod guard; // oatk_guard: the 401/403 decision for a request

mod server; // oatk_server: the fake OAuth2 / OIDC server

mod common; // last error, names, version, oatk_string_free

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use oatk_core::{Error, ErrorKind};

pub use common::*;
pub use guard::*;
pub use server::*;
pub use tokens::*;
pub use toolkit::*;

/// The outcome of every fallible oatk call.
///
/// The numbers are fixed: once released, a value keeps its meaning and is
/// never reused; a new kind of failure gets a new number at the end.
/// `oatk_status_code()` gives the error code shared with Python and Node
/// (`"EXPIRED"`, `"SIGNATURE"`...); `oatk_last_error()` the message.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oatk_status {
    /// Success.
    OATK_OK = 0,
    /// An argument was NULL where it may not be, not valid UTF-8, or unusable
    /// (bad JSON text, unknown algorithm name...).
    OATK_ERR_INVALID_ARGUMENT = 1,
    /// A file could not be read or written; the message names it.
    OATK_ERR_IO = 2,
    /// A key could not be parsed, is of the wrong type, or none is loaded.
    OATK_ERR_KEY = 3,
    /// A JWK or JWKS document could not be used.
    OATK_ERR_JWKS = 4,
    /// The token is not a well-formed compact JWS (RFC 7515 7.1).
    OATK_ERR_MALFORMED = 5,
    /// The token's `alg` is not allowed for the key (RFC 8725 3.1), or unsupported.
    OATK_ERR_UNSUPPORTED_ALGORITHM = 6,
    /// No key in the set matches the token's `kid`.
    OATK_ERR_UNKNOWN_KEY = 7,
    /// The token's signature does not verify (for instance, it was tampered with).
    OATK_ERR_SIGNATURE = 8,
    /// `exp` is in the past (RFC 7519 4.1.4).
    OATK_ERR_EXPIRED = 9,
    /// `nbf` is in the future (RFC 7519 4.1.5).
    OATK_ERR_NOT_YET_VALID = 10,
    /// `aud` does not name the configured client id (RFC 7519 4.1.3).
    OATK_ERR_AUDIENCE = 11,
    /// `iss` is not the configured issuer (RFC 7519 4.1.1).
    OATK_ERR_ISSUER = 12,
    /// The token is valid but its claims do not satisfy the required claims.
    OATK_ERR_CLAIMS = 13,
    /// A provider could not be reached or answered with something unusable.
    OATK_ERR_NETWORK = 14,
    /// The fake server could not start or failed while running.
    OATK_ERR_SERVER = 15,
    /// A bug in oatk: a Rust panic was caught at the boundary. The process is
    /// intact; the message says where it happened.
    OATK_ERR_PANIC = 16,
    /// A claim the validator requires (such as `exp`) is absent from the token.
    OATK_ERR_MISSING_CLAIM = 17,
}

/// The status for a core error kind: one exhaustive match, no catch-all, so
/// a new kind in core fails this build until it has a number here.
pub(crate) fn status_of(kind: ErrorKind) -> oatk_status {
    use oatk_status::*;
    match kind {
        ErrorKind::InvalidArgument => OATK_ERR_INVALID_ARGUMENT,
        ErrorKind::Io => OATK_ERR_IO,
        ErrorKind::Key => OATK_ERR_KEY,
        ErrorKind::Jwks => OATK_ERR_JWKS,
        ErrorKind::Malformed => OATK_ERR_MALFORMED,
        ErrorKind::UnsupportedAlgorithm => OATK_ERR_UNSUPPORTED_ALGORITHM,
        ErrorKind::UnknownKey => OATK_ERR_UNKNOWN_KEY,
        ErrorKind::InvalidSignature => OATK_ERR_SIGNATURE,
        ErrorKind::Expired => OATK_ERR_EXPIRED,
        ErrorKind::NotYetValid => OATK_ERR_NOT_YET_VALID,
        ErrorKind::InvalidAudience => OATK_ERR_AUDIENCE,
        ErrorKind::InvalidIssuer => OATK_ERR_ISSUER,
        ErrorKind::MissingClaim => OATK_ERR_MISSING_CLAIM,
        ErrorKind::Claims => OATK_ERR_CLAIMS,
        ErrorKind::Network => OATK_ERR_NETWORK,
        ErrorKind::Server => OATK_ERR_SERVER,
    }
}

/// Every status with its C name and its cross-language code.
const STATUSES: [(oatk_status, &CStr, &CStr); 18] = {
    use oatk_status::*;
    [
        (OATK_OK, c"OATK_OK", c"OK"),
        (
            OATK_ERR_INVALID_ARGUMENT,
            c"OATK_ERR_INVALID_ARGUMENT",
            c"INVALID_ARGUMENT",
        ),
        (OATK_ERR_IO, c"OATK_ERR_IO", c"IO"),
        (OATK_ERR_KEY, c"OATK_ERR_KEY", c"KEY"),
        (OATK_ERR_JWKS, c"OATK_ERR_JWKS", c"JWKS"),
        (OATK_ERR_MALFORMED, c"OATK_ERR_MALFORMED", c"MALFORMED"),
        (
            OATK_ERR_UNSUPPORTED_ALGORITHM,
            c"OATK_ERR_UNSUPPORTED_ALGORITHM",
            c"UNSUPPORTED_ALGORITHM",
        ),
        (
            OATK_ERR_UNKNOWN_KEY,
            c"OATK_ERR_UNKNOWN_KEY",
            c"UNKNOWN_KEY",
        ),
        (OATK_ERR_SIGNATURE, c"OATK_ERR_SIGNATURE", c"SIGNATURE"),
        (OATK_ERR_EXPIRED, c"OATK_ERR_EXPIRED", c"EXPIRED"),
        (
            OATK_ERR_NOT_YET_VALID,
            c"OATK_ERR_NOT_YET_VALID",
            c"NOT_YET_VALID",
        ),
        (OATK_ERR_AUDIENCE, c"OATK_ERR_AUDIENCE", c"AUDIENCE"),
        (OATK_ERR_ISSUER, c"OATK_ERR_ISSUER", c"ISSUER"),
        (OATK_ERR_CLAIMS, c"OATK_ERR_CLAIMS", c"CLAIMS"),
        (OATK_ERR_NETWORK, c"OATK_ERR_NETWORK", c"NETWORK"),
        (OATK_ERR_SERVER, c"OATK_ERR_SERVER", c"SERVER"),
        (OATK_ERR_PANIC, c"OATK_ERR_PANIC", c"PANIC"),
        (
            OATK_ERR_MISSING_CLAIM,
            c"OATK_ERR_MISSING_CLAIM",
            c"MISSING_CLAIM",
        ),
    ]
};

/// An `oatk_status` as it arrives from C: read as a plain integer, so a value
/// that names no status is answered instead of being undefined behaviour.
/// cbindgen prints it as `oatk_status` (see cbindgen.toml).
pub type oatk_status_value = u32;

pub(crate) fn status_entry(
    value: oatk_status_value,
) -> Option<&'static (oatk_status, &'static CStr, &'static CStr)> {
    STATUSES.iter().find(|(s, _, _)| *s as u32 == value)
}

thread_local! {
    pub(crate) static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: &str) {
    // A message cannot carry a NUL into C; none of core's do, but be sure.
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|cell| *cell.borrow_mut() = Some(text));
}

fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|cell| *cell.borrow_mut() = None);
}

/// The one panic boundary. Every export that can fail runs its body here:
/// it clears this thread's last error, runs `body` under `catch_unwind`, and
/// on failure records the message and returns the status for its kind; a
/// panic becomes `OATK_ERR_PANIC` (never `panic = "abort"`: it would disable this).
pub(crate) fn ffi_boundary(body: impl FnOnce() -> Result<(), Error>) -> oatk_status {
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => oatk_status::OATK_OK,
        Ok(Err(error)) => {
            set_last_error(error.message());
            status_of(error.kind())
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            set_last_error(&format!(
                "internal error (a bug in oatk, please report it): {what}"
            ));
            oatk_status::OATK_ERR_PANIC
        }
    }
}

/// For the exports that cannot fail (getters, `_free`): catch a panic so it
/// never crosses into C, and leave the last error as it was.
pub(crate) fn infallible<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// A borrowed string argument; NULL and invalid UTF-8 are refused by name.
pub(crate) unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(invalid(format!("{name} is NULL")));
    }
    // SAFETY: the caller promises a NUL-terminated string that outlives the call.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| invalid(format!("{name} is not valid UTF-8")))
}

/// A string argument that may be NULL.
pub(crate) unsafe fn arg_opt_str<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: as for arg_str.
    unsafe { arg_str(ptr, name) }.map(Some)
}

/// Check an output parameter before any work is done.
pub(crate) fn out_param<T>(out: *mut *mut T, name: &str) -> Result<(), Error> {
    if out.is_null() {
        return Err(invalid(format!("{name} is NULL")));
    }
    Ok(())
}

/// A string for C, freed by `oatk_string_free`.
pub(crate) fn c_string(text: String) -> Result<*mut c_char, Error> {
    CString::new(text)
        .map(CString::into_raw)
        .map_err(|_| Error::new(ErrorKind::InvalidArgument, "result contains a NUL byte"))
}

/// Write a string to an output parameter already checked by `out_param`;
/// a NULL `out` (an optional output) drops it.
pub(crate) unsafe fn put_string(out: *mut *mut c_char, text: String) -> Result<(), Error> {
    if out.is_null() {
        return Ok(());
    }
    let ptr = c_string(text)?;
    // SAFETY: out is non-NULL and the caller promises it is writable.
    unsafe { *out = ptr };
    Ok(())
}

pub(crate) fn json_text(value: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::new(ErrorKind::InvalidArgument, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    fn last_error() -> String {
        unsafe { CStr::from_ptr(oatk_last_error()) }
            .to_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = ffi_boundary(|| panic!("boom"));
        assert_eq!(status, oatk_status::OATK_ERR_PANIC);
        assert!(last_error().contains("boom"));
        // The next call clears it.
        assert_eq!(ffi_boundary(|| Ok(())), oatk_status::OATK_OK);
        assert_eq!(last_error(), "");
        assert_eq!(infallible(7, || panic!("quiet")), 7);
    }

    #[test]
    fn every_kind_has_its_own_number_and_a_name() {
        use ErrorKind::*;
        let kinds = [
            InvalidArgument,
            Io,
            Key,
            Jwks,
            Malformed,
            UnsupportedAlgorithm,
            UnknownKey,
            InvalidSignature,
            Expired,
            NotYetValid,
            InvalidAudience,
            InvalidIssuer,
            MissingClaim,
            Claims,
            Network,
            Server,
        ];
        let mut seen = std::collections::HashSet::new();
        for kind in kinds {
            let status = status_of(kind);
            assert!(seen.insert(status as u32), "{kind:?}");
            let code = unsafe { CStr::from_ptr(oatk_status_code(status as u32)) };
            assert_eq!(code.to_str().unwrap(), kind.code(), "{kind:?}");
        }
        for (i, (status, _, _)) in STATUSES.iter().enumerate() {
            assert_eq!(*status as usize, i, "statuses are listed in number order");
        }
        assert_eq!(oatk_status::OATK_ERR_PANIC as u32, 16);
        assert_eq!(oatk_status::OATK_ERR_MISSING_CLAIM as u32, 17);
        let unknown = unsafe { CStr::from_ptr(oatk_status_name(999)) };
        assert_eq!(unknown.to_str().unwrap(), "OATK_UNKNOWN_STATUS");
    }

    #[test]
    fn null_and_bad_utf8_are_invalid_arguments() {
        let mut out = ptr::null_mut();
        assert_eq!(
            unsafe { oatk_decode(ptr::null(), &mut out) },
            oatk_status::OATK_ERR_INVALID_ARGUMENT
        );
        assert!(out.is_null(), "outputs are written only on success");
        let bad = b"\xff\xfe.e30.x\0";
        assert_eq!(
            unsafe { oatk_decode(bad.as_ptr().cast(), &mut out) },
            oatk_status::OATK_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("UTF-8"));
        assert_eq!(
            unsafe { oatk_decode(c"a.b.c".as_ptr(), ptr::null_mut()) },
            oatk_status::OATK_ERR_INVALID_ARGUMENT
        );
        unsafe { oatk_string_free(ptr::null_mut()) };
    }
}
