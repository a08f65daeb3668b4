//! Errors across the C boundary: the `oatk_status` numbers, the one mapping
//! from core's `ErrorKind`, this thread's last message, and the panic boundary
//! every export runs in.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use oatk_core::error::panic_message;
use oatk_core::{Error, ErrorKind};

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
    /// The fake server could not start, failed while running, or is stopped.
    OATK_ERR_SERVER = 15,
    /// A bug in oatk: a Rust panic was caught at the boundary. The process is
    /// intact; the message says where it happened.
    OATK_ERR_PANIC = 16,
    /// A claim the validator requires (such as `exp`) is absent from the token.
    OATK_ERR_MISSING_CLAIM = 17,
}

/// The one mapping from core's error kinds: an exhaustive match, no
/// catch-all, so a new kind in core fails this build until it has a number.
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

/// An `oatk_status` as it arrives from C: read as a plain integer, so a value
/// that names no status is answered instead of being undefined behaviour.
/// cbindgen prints it as `oatk_status` (see cbindgen.toml).
pub type oatk_status_value = u32;

/// A status with its C name and its cross-language code, as C strings.
struct Names {
    status: oatk_status,
    name: CString,
    code: CString,
}

/// Every status, made once: `OATK_OK`, one per core kind in `ErrorKind::ALL`
/// (code from core), `OATK_ERR_PANIC`. The C name is the variant's name,
/// which is what cbindgen writes into the header.
fn names() -> &'static [Names] {
    static NAMES: OnceLock<Vec<Names>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let kinds = ErrorKind::ALL.map(|kind| (status_of(kind), kind.code()));
        [(oatk_status::OATK_OK, "OK")]
            .into_iter()
            .chain(kinds)
            .chain([(oatk_status::OATK_ERR_PANIC, "PANIC")])
            .map(|(status, code)| Names {
                status,
                name: CString::new(format!("{status:?}")).unwrap_or_default(),
                code: CString::new(code).unwrap_or_default(),
            })
            .collect()
    })
}

fn names_of(value: oatk_status_value) -> Option<&'static Names> {
    names().iter().find(|n| n.status as u32 == value)
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
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
/// on failure records core's message and returns the status for its kind; a
/// panic becomes `OATK_ERR_PANIC` with core's panic message (never
/// `panic = "abort"`: it would disable this).
pub(crate) fn ffi_boundary(body: impl FnOnce() -> Result<(), Error>) -> oatk_status {
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => oatk_status::OATK_OK,
        Ok(Err(error)) => {
            set_last_error(error.message());
            status_of(error.kind())
        }
        Err(payload) => {
            set_last_error(&panic_message(payload.as_ref()));
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

/// The message of this thread's most recent failed oatk call, or `""` when
/// the most recent call that can fail succeeded.
///
/// Every function returning `oatk_status` (or a handle) resets it when it
/// starts; this function, `oatk_status_name`, `oatk_status_code`,
/// `oatk_version`, the `_free`/`_stop`/`_shutdown` functions and the
/// `oatk_server_*` getters leave it alone. The pointer is owned by oatk and
/// stays valid until the next oatk call on this thread: copy it to keep it.
/// Never NULL.
///
/// Thread-safety: the message is per thread. From Go, read it in the same
/// cgo call as the failing function (see ffi/README.md).
#[no_mangle]
pub extern "C" fn oatk_last_error() -> *const c_char {
    infallible(c"".as_ptr(), || {
        LAST_ERROR
            .try_with(|cell| cell.borrow().as_ref().map_or(c"".as_ptr(), |m| m.as_ptr()))
            .unwrap_or(c"".as_ptr())
    })
}

/// The name of a status as written in this header, e.g. `"OATK_ERR_EXPIRED"`,
/// or `"OATK_UNKNOWN_STATUS"` for a value that is no status.
///
/// Static storage: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn oatk_status_name(status: oatk_status_value) -> *const c_char {
    infallible(c"OATK_UNKNOWN_STATUS".as_ptr(), || {
        names_of(status).map_or(c"OATK_UNKNOWN_STATUS".as_ptr(), |n| n.name.as_ptr())
    })
}

/// The error code shared by every oatk language binding, e.g. `"EXPIRED"`,
/// `"SIGNATURE"` (Python's `err.code`), `"OK"` for `OATK_OK`, `"PANIC"` for
/// `OATK_ERR_PANIC`, or `"UNKNOWN"` for a value that is no status.
///
/// Static storage: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn oatk_status_code(status: oatk_status_value) -> *const c_char {
    infallible(c"UNKNOWN".as_ptr(), || {
        names_of(status).map_or(c"UNKNOWN".as_ptr(), |n| n.code.as_ptr())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::ffi::CStr;

    fn text(p: *const c_char) -> String {
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
    }

    #[test]
    fn a_panic_becomes_a_status_and_core_s_message() {
        let status = ffi_boundary(|| panic!("boom"));
        assert_eq!(status, oatk_status::OATK_ERR_PANIC);
        assert_eq!(text(oatk_last_error()), panic_message(&"boom"));
        // The next call clears it.
        assert_eq!(ffi_boundary(|| Ok(())), oatk_status::OATK_OK);
        assert_eq!(text(oatk_last_error()), "");
        assert_eq!(infallible(7, || panic!("quiet")), 7);
    }

    #[test]
    fn every_core_kind_has_its_own_status_named_by_core_s_code() {
        let mut seen = HashSet::new();
        for kind in ErrorKind::ALL {
            let status = status_of(kind);
            assert!(seen.insert(status as u32), "{kind:?} shares a status");
            assert!(
                !matches!(status, oatk_status::OATK_OK | oatk_status::OATK_ERR_PANIC),
                "{kind:?}"
            );
            assert_eq!(
                text(oatk_status_code(status as u32)),
                kind.code(),
                "{kind:?}"
            );
            assert_eq!(
                text(oatk_status_name(status as u32)),
                format!("OATK_ERR_{}", kind.code()),
                "{kind:?}: the C name spells the code"
            );
            // The message core made crosses unchanged.
            let error = Error::new(kind, format!("{kind:?} happened"));
            assert_eq!(ffi_boundary(|| Err(error)), status);
            assert_eq!(text(oatk_last_error()), format!("{kind:?} happened"));
        }
        // The numbers are dense: every kind, plus OK and PANIC, and nothing else.
        assert_eq!(names().len(), ErrorKind::ALL.len() + 2);
        for value in 0..names().len() as u32 {
            assert!(names_of(value).is_some(), "{value} is no status");
        }
        assert_eq!(text(oatk_status_name(0)), "OATK_OK");
        assert_eq!(text(oatk_status_code(0)), "OK");
        assert_eq!(text(oatk_status_name(16)), "OATK_ERR_PANIC");
        assert_eq!(text(oatk_status_code(16)), "PANIC");
        let unknown = names().len() as u32;
        assert_eq!(text(oatk_status_name(unknown)), "OATK_UNKNOWN_STATUS");
        assert_eq!(text(oatk_status_code(u32::MAX)), "UNKNOWN");
    }
}
