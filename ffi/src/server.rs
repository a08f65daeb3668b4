//! `oatk_server`: the fake OAuth2 / OpenID Connect server, in-process.

use std::ffi::{c_char, CString};
use std::path::PathBuf;

use oatk_core::server::{self, Options, Server};
use oatk_core::toolkit::parse_object;
use oatk_core::{Claims, Error};

use crate::toolkit::{oatk_toolkit, toolkit_ref};
use crate::{
    arg_opt_str, arg_str, ffi_boundary, infallible, invalid, json_text, oatk_status, out_param,
    put_string,
};

/// A running fake server. Opaque; stop (and free) it with `oatk_server_stop`.
///
/// Its getters and `oatk_server_issue_token` may be called from many threads.
pub struct oatk_server {
    server: Option<Server>,
    url: CString,
    issuer: CString,
    jwks: CString,
}

/// How to start the fake server with `oatk_server_start_with`. A zeroed
/// struct (`oatk_server_options o = {0};`) means: localhost, any free port,
/// issuer = the URL, no config, everything in memory, no request log.
#[repr(C)]
pub struct oatk_server_options {
    /// Host to bind; NULL: `"localhost"` (bound on 127.0.0.1).
    pub host: *const c_char,
    /// Port; 0: any free port (read it back from `oatk_server_url`).
    pub port: u16,
    /// The exact `iss` of its tokens; NULL: the server's URL.
    pub issuer: *const c_char,
    /// A TOML config (issuer, token lifetimes, users, clients; see
    /// examples/oatk.toml); NULL: none.
    pub config_path: *const c_char,
    /// A directory for the SQLite database and the generated signing key,
    /// created when missing; NULL: keep everything in memory, write nothing.
    pub data_dir: *const c_char,
    /// Log each request to stderr.
    pub log_requests: bool,
}

unsafe fn server_ref<'a>(s: *const oatk_server) -> Result<&'a Server, Error> {
    // SAFETY: the caller passes NULL or a live handle from oatk_server_start.
    unsafe { s.as_ref() }
        .and_then(|s| s.server.as_ref())
        .ok_or_else(|| invalid("server is NULL"))
}

fn start(
    toolkit: *const oatk_toolkit,
    options: Options,
    server_out: *mut *mut oatk_server,
) -> Result<(), Error> {
    let toolkit = if toolkit.is_null() {
        None
    } else {
        // SAFETY: non-NULL, caller passes a live handle.
        Some(unsafe { toolkit_ref(toolkit) }?)
    };
    let server = server::start(toolkit, &options)?;
    let url = CString::new(server.url()).map_err(|_| invalid("server URL contains a NUL byte"))?;
    let issuer =
        CString::new(server.issuer()).map_err(|_| invalid("issuer contains a NUL byte"))?;
    let jwks = CString::new(server.jwks()).map_err(|_| invalid("JWKS contains a NUL byte"))?;
    let handle = Box::new(oatk_server {
        server: Some(server),
        url,
        issuer,
        jwks,
    });
    // SAFETY: checked by the callers with out_param.
    unsafe { *server_out = Box::into_raw(handle) };
    Ok(())
}

/// Start the fake OAuth2 / OpenID Connect server on a background thread and
/// return once it is listening.
///
/// - `t`: may be NULL; otherwise the server signs with its private key and
///   publishes its JWKS (without a private key, a fresh RSA key is generated).
///   The toolkit is only read during the call.
/// - `host`: interface to bind; NULL means `"localhost"` (127.0.0.1).
/// - `port`: 0 picks any free port.
/// - `config_path`: a TOML config with users and clients; may be NULL.
/// - `server_out`: receives the handle; stop it with `oatk_server_stop`.
///
/// The server keeps everything in memory, writes nothing to disk and logs
/// nothing: use `oatk_server_start_with` for a data directory, an issuer or
/// a request log.
///
/// Errors: `OATK_ERR_SERVER` (port in use...), `OATK_ERR_IO` and
/// `OATK_ERR_INVALID_ARGUMENT` (config file). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_start(
    t: *const oatk_toolkit,
    host: *const c_char,
    port: u16,
    config_path: *const c_char,
    server_out: *mut *mut oatk_server,
) -> oatk_status {
    let options = oatk_server_options {
        host,
        port,
        issuer: std::ptr::null(),
        config_path,
        data_dir: std::ptr::null(),
        log_requests: false,
    };
    // SAFETY: forwarded caller contract; options lives for the call.
    unsafe { oatk_server_start_with(t, &options, server_out) }
}

/// Start the fake server with explicit options (see `oatk_server_options`);
/// `options` may be NULL for all defaults. Otherwise as `oatk_server_start`.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_start_with(
    t: *const oatk_toolkit,
    options: *const oatk_server_options,
    server_out: *mut *mut oatk_server,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(server_out, "server_out")?;
        // SAFETY: NULL or a valid struct, per the contract.
        let mut opts = Options {
            port: 0,
            memory: true,
            quiet: true,
            ..Options::default()
        };
        if let Some(o) = unsafe { options.as_ref() } {
            // SAFETY: the struct's strings are NULL or C strings.
            unsafe {
                if let Some(host) = arg_opt_str(o.host, "options.host")? {
                    opts.host = host.to_string();
                }
                opts.issuer = arg_opt_str(o.issuer, "options.issuer")?.map(str::to_string);
                opts.config = arg_opt_str(o.config_path, "config_path")?.map(PathBuf::from);
                if let Some(dir) = arg_opt_str(o.data_dir, "options.data_dir")? {
                    opts.data_dir = PathBuf::from(dir);
                    opts.memory = false;
                }
            }
            opts.port = o.port;
            opts.quiet = !o.log_requests;
        }
        start(t, opts, server_out)
    })
}

/// The server's base URL, e.g. `"http://localhost:39321"`: discovery is at
/// `{url}/.well-known/openid-configuration`.
///
/// Owned by `s`: valid until `oatk_server_stop(s)`; never free it. NULL
/// when `s` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_url(s: *const oatk_server) -> *const c_char {
    // SAFETY: NULL or a live handle.
    infallible(std::ptr::null(), || {
        unsafe { s.as_ref() }.map_or(std::ptr::null(), |s| s.url.as_ptr())
    })
}

/// The `iss` of the server's tokens (the URL unless configured otherwise).
///
/// Owned by `s`, like `oatk_server_url`. NULL when `s` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_issuer(s: *const oatk_server) -> *const c_char {
    // SAFETY: NULL or a live handle.
    infallible(std::ptr::null(), || {
        unsafe { s.as_ref() }.map_or(std::ptr::null(), |s| s.issuer.as_ptr())
    })
}

/// The JWKS the server publishes at `/oauth/certs` (compact JSON).
///
/// Owned by `s`, like `oatk_server_url`. NULL when `s` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_jwks(s: *const oatk_server) -> *const c_char {
    // SAFETY: NULL or a live handle.
    infallible(std::ptr::null(), || {
        unsafe { s.as_ref() }.map_or(std::ptr::null(), |s| s.jwks.as_ptr())
    })
}

/// Issue tokens for a user as if they had logged in and consented, for tests
/// that need no browser.
///
/// - `username`: created when unknown.
/// - `claims_json`: extra claims for the user (a JSON object, replacing the
///   user's stored ones); NULL keeps what the user has.
/// - `client_id`: the audience; an unregistered id is used as is. NULL: `"test"`,
///   the seed's demo client.
/// - `scope`: e.g. `"openid profile"` (the default when NULL); `openid` adds an `id_token`.
/// - `json_out`: receives the token endpoint's JSON response (`access_token`,
///   `token_type`, `expires_in`, `scope`, `refresh_token`, `id_token`...);
///   free with `oatk_string_free`.
///
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_issue_token(
    s: *const oatk_server,
    username: *const c_char,
    claims_json: *const c_char,
    client_id: *const c_char,
    scope: *const c_char,
    json_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(json_out, "json_out")?;
        // SAFETY: see server_ref, arg_str.
        let server = unsafe { server_ref(s) }?;
        let (username, claims, client_id, scope) = unsafe {
            (
                arg_str(username, "username")?,
                arg_opt_str(claims_json, "claims_json")?,
                arg_opt_str(client_id, "client_id")?,
                arg_opt_str(scope, "scope")?,
            )
        };
        let claims = claims
            .map(|c| parse_object(c, "claims"))
            .transpose()?
            .unwrap_or_else(Claims::new);
        let response = server.issue_token(username, claims, client_id, scope)?;
        // SAFETY: checked above.
        unsafe { put_string(json_out, json_text(&response)?) }
    })
}

/// Stop the server, wait for its thread to end, and free the handle.
/// NULL is a no-op. No other thread may be using `s`.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_stop(s: *mut oatk_server) {
    if s.is_null() {
        return;
    }
    infallible((), || {
        // SAFETY: a handle from oatk_server_start, stopped once.
        let mut handle = unsafe { Box::from_raw(s) };
        if let Some(server) = handle.server.take() {
            server.stop();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{oatk_status::*, oatk_string_free};
    use std::ffi::CStr;
    use std::ptr;

    #[test]
    fn start_issue_stop() {
        unsafe {
            let mut s = ptr::null_mut();
            assert_eq!(
                oatk_server_start(ptr::null(), ptr::null(), 0, ptr::null(), &mut s),
                OATK_OK
            );
            let url = CStr::from_ptr(oatk_server_url(s)).to_str().unwrap();
            assert!(url.starts_with("http://localhost:"), "{url}");
            let mut json = ptr::null_mut();
            let status = oatk_server_issue_token(
                s,
                c"xtof".as_ptr(),
                ptr::null(),
                c"test".as_ptr(),
                c"openid".as_ptr(),
                &mut json,
            );
            assert_eq!(status, OATK_OK);
            assert!(CStr::from_ptr(json)
                .to_str()
                .unwrap()
                .contains("\"id_token\""));
            oatk_string_free(json);
            oatk_server_stop(s);
            oatk_server_stop(ptr::null_mut());
            assert!(oatk_server_url(ptr::null()).is_null());
        }
    }
}
