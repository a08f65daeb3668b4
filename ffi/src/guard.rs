//! `oatk_guard`: the route-protection decision of core's `guard::check`, the
//! same one behind the Flask decorator, the Express and Go middlewares.

use std::borrow::Cow;
use std::ffi::{c_char, CStr};
use std::ptr;

use oatk_core::guard::{self, Decision};
use oatk_core::toolkit::parse_object;
use oatk_core::Claims;

use crate::errors::{ffi_boundary, infallible, oatk_status, status_of};
use crate::strings::{arg_opt_str, c_string, json_text, oatk_string_free, out_param};
use crate::toolkit::{oatk_toolkit, toolkit_ref};

/// What to answer a request: let it through, or refuse it with this status,
/// body and `WWW-Authenticate` header. Made by `oatk_guard`, freed (with
/// its strings) by `oatk_decision_free`; read the fields, never free them.
#[repr(C)]
pub struct oatk_decision {
    /// True: serve the request; `claims_json` holds the token's claims.
    pub allowed: bool,
    /// 200 when allowed; 401 (no or invalid token) or 403 (claims not
    /// satisfied) when refused.
    pub http_status: u16,
    /// Why it was refused, e.g. `OATK_ERR_EXPIRED` or `OATK_ERR_CLAIMS`;
    /// `OATK_OK` when allowed, and when the request had no Bearer token.
    pub reason: oatk_status,
    /// Allowed: the verified claims as a JSON object. Refused: NULL.
    pub claims_json: *mut c_char,
    /// Refused: the plain-text response body (e.g. `Missing Authorization`).
    /// Allowed: NULL.
    pub body: *mut c_char,
    /// Refused with 401: the `WWW-Authenticate` header value (RFC 6750 3),
    /// e.g. `Bearer error="invalid_token", error_description="..."`. Else NULL.
    pub www_authenticate: *mut c_char,
}

impl oatk_decision {
    fn empty() -> oatk_decision {
        oatk_decision {
            allowed: false,
            http_status: 0,
            reason: oatk_status::OATK_OK,
            claims_json: ptr::null_mut(),
            body: ptr::null_mut(),
            www_authenticate: ptr::null_mut(),
        }
    }
}

impl Drop for oatk_decision {
    fn drop(&mut self) {
        for s in [self.claims_json, self.body, self.www_authenticate] {
            // SAFETY: each is NULL or made by c_string.
            unsafe { oatk_string_free(s) };
        }
    }
}

/// Decide on an HTTP request from its `Authorization` header, as the Python
/// decorator and the Express middleware do:
/// - no header: 401 `Missing Authorization`, `WWW-Authenticate: Bearer`;
/// - not `Bearer <token>`, or an invalid, expired... token: 401 with the
///   reason and an RFC 6750 `invalid_token` challenge;
/// - a valid token whose claims miss `required_claims_json`: 403 with the
///   reason (e.g. `claim username doesn't equal required value`);
/// - else allowed, with the claims.
///
/// - `authorization_header`: the header's value, e.g. `"Bearer eyJ..."`;
///   may be NULL (header absent). Bytes that are not UTF-8 are replaced, so
///   such a header is refused with 401 rather than failing the call.
/// - `required_claims_json`: a JSON object (see `oatk_validate_with_claims`);
///   may be NULL for "any valid token".
/// - `decision_out`: receives the decision; free with `oatk_decision_free`.
///
/// Returns `OATK_OK` whenever a decision was made, allowed or not. Any other
/// status is a failure that is not the client's fault (no key configured,
/// provider unreachable, bad `required_claims_json`): answer it with a 500.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_guard(
    t: *const oatk_toolkit,
    authorization_header: *const c_char,
    required_claims_json: *const c_char,
    decision_out: *mut *mut oatk_decision,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(decision_out, "decision_out")?;
        // SAFETY: see toolkit_ref, arg_opt_str.
        let toolkit = unsafe { toolkit_ref(t) }?;
        let required = match unsafe { arg_opt_str(required_claims_json, "required_claims_json") }? {
            Some(json) => parse_object(json, "required claims")?,
            None => Claims::new(),
        };
        let header: Option<Cow<'_, str>> =
            // SAFETY: NULL or a C string that outlives the call.
            (!authorization_header.is_null()).then(|| unsafe { CStr::from_ptr(authorization_header) }.to_string_lossy());
        let mut decision = oatk_decision::empty();
        match guard::check(toolkit, header.as_deref(), &required)? {
            Decision::Allow(claims) => {
                decision.allowed = true;
                decision.http_status = 200;
                decision.claims_json = c_string(json_text(&claims)?)?;
            }
            Decision::Deny(denial) => {
                decision.http_status = denial.status;
                decision.reason = denial.kind.map_or(oatk_status::OATK_OK, status_of);
                decision.body = c_string(denial.body)?;
                if let Some(challenge) = denial.www_authenticate {
                    decision.www_authenticate = c_string(challenge)?;
                }
            }
        }
        // SAFETY: checked above.
        unsafe { *decision_out = Box::into_raw(Box::new(decision)) };
        Ok(())
    })
}

/// Free a decision and its strings. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn oatk_decision_free(d: *mut oatk_decision) {
    if d.is_null() {
        return;
    }
    infallible((), || {
        // SAFETY: a decision from oatk_guard, freed once.
        drop(unsafe { Box::from_raw(d) });
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oatk_status::*;
    use crate::toolkit::*;

    #[test]
    fn decisions() {
        unsafe {
            let t = oatk_toolkit_new();
            let mut pem = ptr::null_mut();
            assert_eq!(
                crate::oatk_generate_key(c"EdDSA".as_ptr(), &mut pem, ptr::null_mut()),
                OATK_OK
            );
            assert_eq!(oatk_with_private_pem(t, pem), OATK_OK);
            crate::oatk_string_free(pem);

            let mut d = ptr::null_mut();
            assert_eq!(oatk_guard(t, ptr::null(), ptr::null(), &mut d), OATK_OK);
            assert_eq!(((*d).allowed, (*d).http_status), (false, 401));
            assert_eq!(
                CStr::from_ptr((*d).body).to_str().unwrap(),
                "Missing Authorization"
            );
            oatk_decision_free(d);

            let bad = b"Bearer \xff.\xfe.x\0";
            assert_eq!(
                oatk_guard(t, bad.as_ptr().cast(), ptr::null(), &mut d),
                OATK_OK
            );
            assert_eq!(((*d).http_status, (*d).reason), (401, OATK_ERR_MALFORMED));
            oatk_decision_free(d);

            let mut token = ptr::null_mut();
            assert_eq!(
                oatk_mint(t, c"{\"username\":\"notxtof\"}".as_ptr(), &mut token),
                OATK_OK
            );
            let header = std::ffi::CString::new(format!(
                "Bearer {}",
                CStr::from_ptr(token).to_str().unwrap()
            ))
            .unwrap();
            crate::oatk_string_free(token);
            assert_eq!(
                oatk_guard(
                    t,
                    header.as_ptr(),
                    c"{\"username\":\"xtof\"}".as_ptr(),
                    &mut d
                ),
                OATK_OK
            );
            assert_eq!(((*d).http_status, (*d).reason), (403, OATK_ERR_CLAIMS));
            assert!((*d).www_authenticate.is_null());
            oatk_decision_free(d);
            assert_eq!(
                oatk_guard(
                    t,
                    header.as_ptr(),
                    c"{\"username\":\"notxtof\"}".as_ptr(),
                    &mut d
                ),
                OATK_OK
            );
            assert!((*d).allowed);
            oatk_decision_free(d);
            assert_eq!(
                oatk_guard(t, header.as_ptr(), c"[1]".as_ptr(), &mut d),
                OATK_ERR_INVALID_ARGUMENT
            );
            oatk_toolkit_free(t);
        }
    }
}
