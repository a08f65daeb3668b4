//! Errors, names, version and memory: the functions every caller needs.

use std::ffi::{c_char, CStr, CString};

use crate::{infallible, oatk_status_value, status_entry, LAST_ERROR};

/// The message of this thread's most recent failed oatk call, or `""` when
/// the most recent call that can fail succeeded.
///
/// Every function returning `oatk_status` (or a handle) resets it when it
/// starts; this function, `oatk_status_name`, `oatk_status_code`,
/// `oatk_version`, the `_free`/`_stop` functions and the `oatk_server_*`
/// getters leave it alone. The pointer is owned by oatk and stays valid
/// until the next oatk call on this thread: copy it to keep it. Never NULL.
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
        status_entry(status).map_or(c"OATK_UNKNOWN_STATUS".as_ptr(), |(_, name, _)| {
            name.as_ptr()
        })
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
        status_entry(status).map_or(c"UNKNOWN".as_ptr(), |(_, _, code)| code.as_ptr())
    })
}

/// The version of liboatk, e.g. `"0.1.0"` (the workspace version).
///
/// Static storage: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn oatk_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"",
        };
    VERSION.as_ptr()
}

/// Free a string that oatk returned through an output parameter.
///
/// NULL is a no-op. Passing anything else than a string from oatk, or
/// freeing one twice, is undefined behaviour. Never use `free()` on them.
#[no_mangle]
pub unsafe extern "C" fn oatk_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    infallible((), || {
        // SAFETY: the caller promises `s` came from CString::into_raw in oatk.
        drop(unsafe { CString::from_raw(s) });
    })
}
