//! Functions that need no toolkit: decode, header, key generation.

use std::ffi::c_char;
use std::ptr;

use oatk_core::{Algorithm, PrivateKey};

use crate::errors::{ffi_boundary, oatk_status};
use crate::strings::{
    arg_opt_str, arg_str, c_string, json_text, oatk_string_free, out_param, put_string,
};

/// Decode a token's claims without verifying anything (for display and
/// debugging only: never trust them).
///
/// - `token`: the compact JWS; surrounding whitespace and a `Bearer ` prefix are ignored.
/// - `claims_json_out`: receives the claims as a JSON object; free with `oatk_string_free`.
///
/// Returns `OATK_ERR_MALFORMED` for text that is no JWT. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_decode(
    token: *const c_char,
    claims_json_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(claims_json_out, "claims_json_out")?;
        // SAFETY: caller passes a C string or NULL.
        let token = unsafe { arg_str(token, "token") }?;
        let claims = oatk_core::token::decode(token)?;
        // SAFETY: checked above.
        unsafe { put_string(claims_json_out, json_text(&claims)?) }
    })
}

/// Decode a token's JOSE header (`alg`, `kid`, `typ`...) without verifying anything.
///
/// - `header_json_out`: receives the header as a JSON object; free with `oatk_string_free`.
///
/// Returns `OATK_ERR_MALFORMED` for text that is no JWT. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_header(
    token: *const c_char,
    header_json_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(header_json_out, "header_json_out")?;
        // SAFETY: caller passes a C string or NULL.
        let token = unsafe { arg_str(token, "token") }?;
        let header = oatk_core::token::header(token)?;
        // SAFETY: checked above.
        unsafe { put_string(header_json_out, json_text(&header)?) }
    })
}

/// Generate a new key pair as PEM text.
///
/// - `alg`: the algorithm the key is for: `"RS256"` (RSA 2048), `"RS384"`,
///   `"RS512"`, `"PS256"`, `"PS384"`, `"PS512"`, `"ES256"` (P-256),
///   `"ES384"` (P-384) or `"EdDSA"` (Ed25519); case-sensitive. NULL means `"RS256"`.
/// - `private_pem_out`: receives the private key, PKCS#8 PEM (`BEGIN PRIVATE KEY`).
/// - `public_pem_out`: receives the public key, SPKI PEM (`BEGIN PUBLIC KEY`); may be NULL.
///
/// Free both with `oatk_string_free`. An unknown `alg` gives
/// `OATK_ERR_INVALID_ARGUMENT`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_generate_key(
    alg: *const c_char,
    private_pem_out: *mut *mut c_char,
    public_pem_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(private_pem_out, "private_pem_out")?;
        // SAFETY: caller passes a C string or NULL.
        let name = unsafe { arg_opt_str(alg, "alg") }?.unwrap_or("RS256");
        let alg = name.parse::<Algorithm>()?;
        let key = PrivateKey::generate(alg, None)?;
        let private_pem = c_string(key.to_pkcs8_pem()?)?;
        let public_pem = if public_pem_out.is_null() {
            ptr::null_mut()
        } else {
            match key.public_key().to_pem().and_then(c_string) {
                Ok(p) => p,
                Err(e) => {
                    // SAFETY: made by c_string just above.
                    unsafe { oatk_string_free(private_pem) };
                    return Err(e);
                }
            }
        };
        // SAFETY: private_pem_out checked above; public_pem_out written only when non-NULL.
        unsafe {
            *private_pem_out = private_pem;
            if !public_pem_out.is_null() {
                *public_pem_out = public_pem;
            }
        }
        Ok(())
    })
}
