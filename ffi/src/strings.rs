//! C strings both ways: borrowed arguments in (NULL and invalid UTF-8 refused
//! by name), owned results out through `char **` (freed by `oatk_string_free`).

use std::ffi::{c_char, CStr, CString};

use oatk_core::{Error, ErrorKind};

use crate::errors::{infallible, invalid};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::oatk_last_error;
    use crate::oatk_status::*;
    use crate::tokens::oatk_decode;
    use std::ptr;

    #[test]
    fn null_and_bad_utf8_are_invalid_arguments() {
        let mut out = ptr::null_mut();
        assert_eq!(
            unsafe { oatk_decode(ptr::null(), &mut out) },
            OATK_ERR_INVALID_ARGUMENT
        );
        assert!(out.is_null(), "outputs are written only on success");
        let bad = b"\xff\xfe.e30.x\0";
        assert_eq!(
            unsafe { oatk_decode(bad.as_ptr().cast(), &mut out) },
            OATK_ERR_INVALID_ARGUMENT
        );
        let message = unsafe { CStr::from_ptr(oatk_last_error()) };
        assert!(message.to_str().unwrap().contains("UTF-8"));
        assert_eq!(
            unsafe { oatk_decode(c"a.b.c".as_ptr(), ptr::null_mut()) },
            OATK_ERR_INVALID_ARGUMENT
        );
        unsafe { oatk_string_free(ptr::null_mut()) };
    }
}
