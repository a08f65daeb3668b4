//! `oatk_toolkit`: the C face of `oatk::Toolkit` (Python's `OAuthToolkit`).

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use oatk_core::toolkit::parse_object;
use oatk_core::{Algorithm, Error, Toolkit, VERSION};

use crate::errors::{ffi_boundary, infallible, invalid, oatk_status};
use crate::strings::{arg_str, json_text, out_param, put_string};

/// A toolkit: keys, the claims to mint, and validation settings. Opaque.
///
/// Create with `oatk_toolkit_new`, free with `oatk_toolkit_free`. Minting,
/// validation and `oatk_guard` take a `const oatk_toolkit *` and may run
/// from many threads at once; the setters (`oatk_with_*`, `oatk_using_provider`,
/// `oatk_claims`) take a mutable one and need exclusive access.
pub struct oatk_toolkit {
    pub(crate) inner: Toolkit,
}

pub(crate) unsafe fn toolkit_ref<'a>(t: *const oatk_toolkit) -> Result<&'a Toolkit, Error> {
    // SAFETY: the caller passes NULL or a live handle from oatk_toolkit_new.
    unsafe { t.as_ref() }
        .map(|t| &t.inner)
        .ok_or_else(|| invalid("toolkit is NULL"))
}

unsafe fn toolkit_mut<'a>(t: *mut oatk_toolkit) -> Result<&'a mut Toolkit, Error> {
    // SAFETY: as above, and the caller guarantees exclusive access.
    unsafe { t.as_mut() }
        .map(|t| &mut t.inner)
        .ok_or_else(|| invalid("toolkit is NULL"))
}

/// Run a setter on the toolkit with one string argument.
unsafe fn set(
    t: *mut oatk_toolkit,
    value: *const c_char,
    name: &str,
    apply: impl FnOnce(&mut Toolkit, &str) -> Result<(), Error>,
) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see toolkit_mut and arg_str.
        let toolkit = unsafe { toolkit_mut(t) }?;
        let value = unsafe { arg_str(value, name) }?;
        apply(toolkit, value)
    })
}

/// A new, empty toolkit: no keys, no claims, default validation (signature
/// and time checks; audience and issuer checked only once set).
///
/// Returns NULL only if oatk failed internally (see `oatk_last_error`).
/// Free with `oatk_toolkit_free`.
#[no_mangle]
pub extern "C" fn oatk_toolkit_new() -> *mut oatk_toolkit {
    let mut handle = std::ptr::null_mut();
    ffi_boundary(|| {
        handle = Box::into_raw(Box::new(oatk_toolkit {
            inner: Toolkit::new(),
        }));
        Ok(())
    });
    handle
}

/// Free a toolkit. NULL is a no-op. No other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn oatk_toolkit_free(t: *mut oatk_toolkit) {
    if t.is_null() {
        return;
    }
    infallible((), || {
        // SAFETY: the caller passes a handle from oatk_toolkit_new, once.
        drop(unsafe { Box::from_raw(t) });
    })
}

/// Sign with the private key in this PEM file (PKCS#8, PKCS#1 or SEC1; RSA,
/// P-256, P-384 or Ed25519). Its public half is published and trusted too,
/// so a private key alone is enough to mint and validate.
///
/// Errors: `OATK_ERR_IO` (the message names the file), `OATK_ERR_KEY`.
/// Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_private(
    t: *mut oatk_toolkit,
    path: *const c_char,
) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set(t, path, "path", |t, path| t.with_private(path).map(drop)) }
}

/// Like `oatk_with_private`, with the PEM text itself.
///
/// Errors: `OATK_ERR_KEY`. Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_private_pem(
    t: *mut oatk_toolkit,
    pem: *const c_char,
) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set(t, pem, "pem", |t, pem| t.with_private_pem(pem).map(drop)) }
}

/// Trust (and publish with `oatk_jwks`) the public key in this PEM file; a
/// private key file gives its public half.
///
/// Errors: `OATK_ERR_IO`, `OATK_ERR_KEY`. Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_public(
    t: *mut oatk_toolkit,
    path: *const c_char,
) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set(t, path, "path", |t, path| t.with_public(path).map(drop)) }
}

/// Like `oatk_with_public`, with the PEM text itself (`BEGIN PUBLIC KEY` or
/// `BEGIN RSA PUBLIC KEY`).
///
/// Errors: `OATK_ERR_KEY`. Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_public_pem(
    t: *mut oatk_toolkit,
    pem: *const c_char,
) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set(t, pem, "pem", |t, pem| t.with_public_pem(pem).map(drop)) }
}

/// Publish and trust this JWKS: a file path, or the JSON text itself (text
/// starting with `{`). Tokens are minted with its first key's `kid`, as the
/// original did, unless the set holds the private key's public half.
///
/// Errors: `OATK_ERR_IO`, `OATK_ERR_JWKS`. Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_jwks(
    t: *mut oatk_toolkit,
    path_or_json: *const c_char,
) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        set(t, path_or_json, "path_or_json", |t, v| {
            t.with_jwks(v).map(drop)
        })
    }
}

/// From now on tokens must name this client in `aud` (RFC 7519 4.1.3),
/// else validation fails with `OATK_ERR_AUDIENCE`.
///
/// Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_client_id(
    t: *mut oatk_toolkit,
    client_id: *const c_char,
) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        set(t, client_id, "client_id", |t, id| {
            t.with_client_id(id);
            Ok(())
        })
    }
}

/// From now on tokens must carry exactly this `iss` (RFC 7519 4.1.1), else
/// validation fails with `OATK_ERR_ISSUER`.
///
/// Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_issuer(
    t: *mut oatk_toolkit,
    issuer: *const c_char,
) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        set(t, issuer, "issuer", |t, iss| {
            t.with_issuer(iss);
            Ok(())
        })
    }
}

/// Sign with this algorithm (e.g. `"PS256"`) instead of the key family's
/// default (`RS256` for RSA). It must fit the loaded key.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (unknown name), `OATK_ERR_KEY` (does
/// not fit the key). Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_algorithm(
    t: *mut oatk_toolkit,
    alg: *const c_char,
) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        set(t, alg, "alg", |t, name| {
            let alg = name.parse::<Algorithm>()?;
            t.with_algorithm(alg).map(drop)
        })
    }
}

/// Run a setter on the toolkit with no string argument.
unsafe fn set_value(
    t: *mut oatk_toolkit,
    apply: impl FnOnce(&mut Toolkit) -> &mut Toolkit,
) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see toolkit_mut.
        apply(unsafe { toolkit_mut(t) }?);
        Ok(())
    })
}

/// Tolerate this many seconds of clock skew on `exp` and `nbf`. Default 0.
///
/// Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_leeway(t: *mut oatk_toolkit, seconds: u64) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set_value(t, |t| t.with_leeway(seconds)) }
}

/// Validate as if the time were `seconds` since the epoch, so tests of `exp`
/// and `nbf` never sleep; a negative value returns to the system clock.
///
/// Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_now(t: *mut oatk_toolkit, seconds: i64) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set_value(t, |t| t.with_now((seconds >= 0).then_some(seconds))) }
}

/// Refuse tokens without `exp` (`OATK_ERR_MISSING_CLAIM`) when `require` is
/// true. Default false: the original's tokens carry no `exp`.
///
/// Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_require_exp(t: *mut oatk_toolkit, require: bool) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set_value(t, |t| t.with_require_exp(require)) }
}

/// Waive the audience check `oatk_using_provider` otherwise requires:
/// tokens the provider issued to any of its clients are accepted. Without
/// this or `oatk_with_client_id`, validating with a provider fails with
/// `OATK_ERR_INVALID_ARGUMENT` saying what to configure.
///
/// Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_accept_any_audience(t: *mut oatk_toolkit) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set_value(t, |t| t.accept_any_audience()) }
}

/// Waive the issuer a provider given as a bare JWKS URL otherwise requires
/// (`oatk_with_issuer`): any `iss` is accepted from tokens its keys signed.
///
/// Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_accept_any_issuer(t: *mut oatk_toolkit) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set_value(t, |t| t.accept_any_issuer()) }
}

/// Remember up to `capacity` verified tokens, so validating the same token
/// again skips the signature check (`exp`, `nbf`, `aud` and `iss` are still
/// checked every time; new keys invalidate it). 0 turns the cache off (the
/// default).
///
/// Needs exclusive access to `t`; the cache itself is shared safely by the
/// threads validating with `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_with_cache(t: *mut oatk_toolkit, capacity: usize) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set_value(t, |t| t.with_cache(capacity)) }
}

/// Trust the keys of an OpenID provider. `url` is its issuer (oatk fetches
/// `{url}/.well-known/openid-configuration`, then its `jwks_uri`), a
/// `.well-known/...` URL, or a JWKS URL. Keys are refetched, rate limited,
/// when a token names an unknown `kid`.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (not http or https), `OATK_ERR_NETWORK`,
/// `OATK_ERR_JWKS`. Blocks for the HTTP requests. Needs exclusive access to `t`.
#[no_mangle]
pub unsafe extern "C" fn oatk_using_provider(
    t: *mut oatk_toolkit,
    url: *const c_char,
) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe { set(t, url, "url", |t, url| t.using_provider(url).map(drop)) }
}

/// Set the claims `oatk_token` mints, as a JSON object, e.g. `{"hello": "world"}`.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (not JSON, or not an object).
/// Needs exclusive access to `t`; to mint from many threads use `oatk_mint`.
#[no_mangle]
pub unsafe extern "C" fn oatk_claims(
    t: *mut oatk_toolkit,
    claims_json: *const c_char,
) -> oatk_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        set(t, claims_json, "claims_json", |t, json| {
            t.claims_json(json).map(drop)
        })
    }
}

/// Mint a token for the claims set by `oatk_claims` (none: `{}`), signed with
/// the private key, header `{alg, kid, typ: "JWT"}`. The claims are used as
/// given: no `exp` or `iat` is added.
///
/// - `token_out`: receives the compact JWS; free with `oatk_string_free`.
///   Set to NULL (with `OATK_OK`) when the toolkit has no private key, as
///   Python's `token` is `None`; `oatk_mint` fails instead.
///
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_token(
    t: *const oatk_toolkit,
    token_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(token_out, "token_out")?;
        // SAFETY: see toolkit_ref.
        let token = unsafe { toolkit_ref(t) }?.token()?;
        match token {
            // SAFETY: checked above.
            Some(token) => unsafe { put_string(token_out, token) },
            None => {
                // SAFETY: checked above.
                unsafe { *token_out = std::ptr::null_mut() };
                Ok(())
            }
        }
    })
}

/// Mint a token for exactly these claims (a JSON object), leaving the
/// toolkit's own claims alone.
///
/// - `token_out`: receives the compact JWS; free with `oatk_string_free`.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (claims), `OATK_ERR_KEY` (no private
/// key). Thread-safe: the way to mint from many threads with one toolkit.
#[no_mangle]
pub unsafe extern "C" fn oatk_mint(
    t: *const oatk_toolkit,
    claims_json: *const c_char,
    token_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(token_out, "token_out")?;
        // SAFETY: see toolkit_ref and arg_str.
        let toolkit = unsafe { toolkit_ref(t) }?;
        let claims = parse_object(unsafe { arg_str(claims_json, "claims_json") }?, "claims")?;
        let token = toolkit.mint(&claims)?;
        // SAFETY: checked above.
        unsafe { put_string(token_out, token) }
    })
}

/// The JWKS to publish (indented JSON): the loaded set, else the public key.
///
/// - `jwks_json_out`: free with `oatk_string_free`.
///
/// Errors: `OATK_ERR_KEY` when no key is loaded. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_jwks(
    t: *const oatk_toolkit,
    jwks_json_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(jwks_json_out, "jwks_json_out")?;
        // SAFETY: see toolkit_ref.
        let jwks = unsafe { toolkit_ref(t) }?.jwks()?;
        // SAFETY: checked above.
        unsafe { put_string(jwks_json_out, jwks) }
    })
}

/// Validate a token: signature with the key its `kid` names (the algorithm
/// comes from the key, never from the token), then `exp`/`nbf`, and `aud`/`iss`
/// when configured.
///
/// - `token`: the compact JWS; whitespace and a `Bearer ` prefix are ignored.
/// - `claims_json_out`: may be NULL; else receives the verified claims as a
///   JSON object, to free with `oatk_string_free`.
///
/// Errors: `OATK_ERR_MALFORMED`, `OATK_ERR_UNSUPPORTED_ALGORITHM`,
/// `OATK_ERR_UNKNOWN_KEY`, `OATK_ERR_SIGNATURE`, `OATK_ERR_EXPIRED`,
/// `OATK_ERR_NOT_YET_VALID`, `OATK_ERR_AUDIENCE`, `OATK_ERR_ISSUER`,
/// `OATK_ERR_MISSING_CLAIM`; `OATK_ERR_KEY` when no key is loaded;
/// `OATK_ERR_NETWORK` when a provider's keys cannot be refetched.
/// Thread-safe: many threads may validate with one toolkit at once.
#[no_mangle]
pub unsafe extern "C" fn oatk_validate(
    t: *const oatk_toolkit,
    token: *const c_char,
    claims_json_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see toolkit_ref and arg_str.
        let toolkit = unsafe { toolkit_ref(t) }?;
        let token = unsafe { arg_str(token, "token") }?;
        // Shared with the cache: a hit copies nothing unless the JSON is asked for.
        let claims = toolkit.validate_shared(Some(token))?;
        if claims_json_out.is_null() {
            return Ok(());
        }
        // SAFETY: non-NULL, caller promises it is writable.
        unsafe { put_string(claims_json_out, json_text(&*claims)?) }
    })
}

/// Validate, then check the claims a route requires (a JSON object):
/// a required scalar must equal the claim; a required array means the claim
/// (an array, or a space-separated string such as `scope`) must contain
/// every listed value.
///
/// - `claims_json_out`: may be NULL; else receives the verified claims.
///
/// Errors: those of `oatk_validate`, then `OATK_ERR_CLAIMS` with the
/// original's message (e.g. `claim username doesn't equal required value`).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_validate_with_claims(
    t: *const oatk_toolkit,
    token: *const c_char,
    required_claims_json: *const c_char,
    claims_json_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see toolkit_ref and arg_str.
        let toolkit = unsafe { toolkit_ref(t) }?;
        let token = unsafe { arg_str(token, "token") }?;
        let required = parse_object(
            unsafe { arg_str(required_claims_json, "required_claims_json") }?,
            "required claims",
        )?;
        let claims = toolkit.validate_with_claims(Some(token), &required)?;
        if claims_json_out.is_null() {
            return Ok(());
        }
        // SAFETY: non-NULL, caller promises it is writable.
        unsafe { put_string(claims_json_out, json_text(&claims)?) }
    })
}

/// The version of liboatk, e.g. `"0.3.0"` (the workspace version).
///
/// Static storage: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn oatk_version() -> *const c_char {
    static TEXT: OnceLock<CString> = OnceLock::new();
    infallible(c"".as_ptr(), || {
        TEXT.get_or_init(|| CString::new(VERSION).unwrap_or_default())
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oatk_status::*;
    use crate::strings::oatk_string_free;
    use std::ffi::{CStr, CString};
    use std::ptr;

    #[test]
    fn mint_validate_and_free() {
        let t = oatk_toolkit_new();
        unsafe {
            let mut pem = ptr::null_mut();
            assert_eq!(
                crate::oatk_generate_key(c"ES256".as_ptr(), &mut pem, ptr::null_mut()),
                OATK_OK
            );
            assert_eq!(oatk_with_private_pem(t, pem), OATK_OK);
            oatk_string_free(pem);
            let mut token = ptr::null_mut();
            assert_eq!(
                oatk_mint(t, c"{\"hello\":\"world\"}".as_ptr(), &mut token),
                OATK_OK
            );
            let mut claims = ptr::null_mut();
            assert_eq!(oatk_validate(t, token, &mut claims), OATK_OK);
            assert_eq!(
                CStr::from_ptr(claims).to_str().unwrap(),
                "{\"hello\":\"world\"}"
            );
            oatk_string_free(claims);
            let need = CString::new("{\"hello\":\"mars\"}").unwrap();
            assert_eq!(
                oatk_validate_with_claims(t, token, need.as_ptr(), ptr::null_mut()),
                OATK_ERR_CLAIMS
            );
            oatk_string_free(token);
            assert_eq!(
                oatk_with_private(ptr::null_mut(), c"x".as_ptr()),
                OATK_ERR_INVALID_ARGUMENT
            );
            oatk_toolkit_free(t);
            oatk_toolkit_free(ptr::null_mut());
        }
    }

    /// The setters without a string reach core: the cache is on (core's own
    /// cache tests cover what it skips), and the clock and `exp` rules apply
    /// to cached tokens too.
    #[test]
    fn cache_clock_and_required_exp() {
        unsafe {
            let t = oatk_toolkit_new();
            let mut pem = ptr::null_mut();
            assert_eq!(
                crate::oatk_generate_key(c"EdDSA".as_ptr(), &mut pem, ptr::null_mut()),
                OATK_OK
            );
            assert_eq!(oatk_with_private_pem(t, pem), OATK_OK);
            oatk_string_free(pem);
            assert_eq!(oatk_with_cache(t, 8), OATK_OK);
            assert_eq!(
                (*t).inner.cache().map(|c| (c.capacity(), c.len())),
                Some((8, 0))
            );
            let mut token = ptr::null_mut();
            assert_eq!(
                oatk_mint(t, c"{\"exp\":1000}".as_ptr(), &mut token),
                OATK_OK
            );
            assert_eq!(oatk_with_now(t, 999), OATK_OK);
            assert_eq!(oatk_validate(t, token, ptr::null_mut()), OATK_OK);
            assert_eq!((*t).inner.cache().map(|c| c.len()), Some(1));
            assert_eq!(oatk_with_now(t, 1001), OATK_OK);
            assert_eq!(oatk_validate(t, token, ptr::null_mut()), OATK_ERR_EXPIRED);
            assert_eq!(oatk_with_leeway(t, 5), OATK_OK);
            assert_eq!(oatk_validate(t, token, ptr::null_mut()), OATK_OK);
            assert_eq!(oatk_with_now(t, -1), OATK_OK);
            assert_eq!(oatk_validate(t, token, ptr::null_mut()), OATK_ERR_EXPIRED);
            oatk_string_free(token);
            assert_eq!(oatk_mint(t, c"{}".as_ptr(), &mut token), OATK_OK);
            assert_eq!(oatk_with_require_exp(t, true), OATK_OK);
            assert_eq!(
                oatk_validate(t, token, ptr::null_mut()),
                OATK_ERR_MISSING_CLAIM
            );
            oatk_string_free(token);
            assert_eq!(oatk_with_cache(t, 0), OATK_OK);
            assert!((*t).inner.cache().is_none());
            assert_eq!(
                oatk_with_cache(ptr::null_mut(), 8),
                OATK_ERR_INVALID_ARGUMENT
            );
            oatk_toolkit_free(t);
        }
    }
}
