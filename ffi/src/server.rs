//! `oatk_server`: the fake OAuth2 / OpenID Connect server, in-process. Core's
//! `Options::embedded()` preset with the C options on top, and core's shared
//! `Server` handle behind an opaque pointer.

use std::ffi::{c_char, CString};
use std::path::PathBuf;
use std::ptr;

use oatk_core::server::{self, Options, Server};
use oatk_core::toolkit::parse_object;
use oatk_core::{Claims, Error};

use crate::errors::{ffi_boundary, infallible, invalid, oatk_status};
use crate::strings::{arg_opt_str, arg_str, json_text, out_param, put_string};
use crate::toolkit::{oatk_toolkit, toolkit_ref};

/// A fake server. Opaque; stop and free it with `oatk_server_stop`.
///
/// Its getters, `oatk_server_issue_token`, `oatk_server_upsert_*` and
/// `oatk_server_shutdown` may be called from many threads.
pub struct oatk_server {
    server: Server,
    url: CString,
    issuer: CString,
    discovery_url: CString,
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
        .map(|s| &s.server)
        .ok_or_else(|| invalid("server is NULL"))
}

/// Core's in-process preset, with what the C caller set on top.
unsafe fn options_from(o: Option<&oatk_server_options>) -> Result<Options, Error> {
    let mut options = Options::embedded();
    let Some(o) = o else {
        return Ok(options);
    };
    // SAFETY: the struct's strings are NULL or C strings, per the contract.
    unsafe {
        if let Some(host) = arg_opt_str(o.host, "options.host")? {
            options.host = host.to_string();
        }
        options.issuer = arg_opt_str(o.issuer, "options.issuer")?.map(str::to_string);
        options.config = arg_opt_str(o.config_path, "config_path")?.map(PathBuf::from);
        if let Some(dir) = arg_opt_str(o.data_dir, "options.data_dir")? {
            options = options.persist_in(dir);
        }
    }
    options.port = o.port;
    options.quiet = !o.log_requests;
    Ok(options)
}

fn c_text(text: &str, what: &str) -> Result<CString, Error> {
    CString::new(text).map_err(|_| invalid(format!("{what} contains a NUL byte")))
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
        issuer: ptr::null(),
        config_path,
        data_dir: ptr::null(),
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
        let options = unsafe { options_from(options.as_ref()) }?;
        let toolkit = if t.is_null() {
            None
        } else {
            // SAFETY: non-NULL, the caller passes a live handle.
            Some(unsafe { toolkit_ref(t) }?)
        };
        let server = server::start(toolkit, &options)?;
        let handle = Box::new(oatk_server {
            url: c_text(server.url(), "server URL")?,
            issuer: c_text(server.issuer(), "issuer")?,
            discovery_url: c_text(&server.discovery_url(), "discovery URL")?,
            jwks: c_text(server.jwks(), "JWKS")?,
            server,
        });
        // SAFETY: checked by out_param above.
        unsafe { *server_out = Box::into_raw(handle) };
        Ok(())
    })
}

/// A string owned by the handle, or NULL for a NULL handle.
unsafe fn field(
    s: *const oatk_server,
    get: impl FnOnce(&oatk_server) -> &CString,
) -> *const c_char {
    infallible(ptr::null(), || {
        // SAFETY: NULL or a live handle.
        unsafe { s.as_ref() }.map_or(ptr::null(), |s| get(s).as_ptr())
    })
}

/// The server's base URL, e.g. `"http://localhost:39321"`; its discovery
/// document is at `oatk_server_discovery_url`.
///
/// Owned by `s`: valid until `oatk_server_stop(s)` (a shutdown keeps it);
/// never free it. NULL when `s` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_url(s: *const oatk_server) -> *const c_char {
    // SAFETY: forwarded caller contract.
    unsafe { field(s, |s| &s.url) }
}

/// The `iss` of the server's tokens (the URL unless configured otherwise).
///
/// Owned by `s`, like `oatk_server_url`. NULL when `s` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_issuer(s: *const oatk_server) -> *const c_char {
    // SAFETY: forwarded caller contract.
    unsafe { field(s, |s| &s.issuer) }
}

/// Its OpenID Connect discovery document's URL (OIDC Discovery 4), e.g.
/// `"http://localhost:39321/.well-known/openid-configuration"`: what to give
/// `oatk_using_provider` or any OIDC client library.
///
/// Owned by `s`, like `oatk_server_url`. NULL when `s` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_discovery_url(s: *const oatk_server) -> *const c_char {
    // SAFETY: forwarded caller contract.
    unsafe { field(s, |s| &s.discovery_url) }
}

/// The JWKS the server publishes at `/oauth/certs` (compact JSON).
///
/// Owned by `s`, like `oatk_server_url`. NULL when `s` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_jwks(s: *const oatk_server) -> *const c_char {
    // SAFETY: forwarded caller contract.
    unsafe { field(s, |s| &s.jwks) }
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
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (username, claims),
/// `OATK_ERR_SERVER` after `oatk_server_shutdown`. Thread-safe.
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

/// Add or replace a user, checked as the admin API checks them.
///
/// - `user_json`: `{"username": "xtof", "claims": {"name": "Christophe VG"}}`;
///   `claims` (the extra claims of the user's tokens) may be left out.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (not JSON, an unknown field, an empty
/// or over-long username), `OATK_ERR_SERVER` after `oatk_server_shutdown`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_upsert_user(
    s: *const oatk_server,
    user_json: *const c_char,
) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see server_ref, arg_str.
        let server = unsafe { server_ref(s) }?;
        let json = unsafe { arg_str(user_json, "user_json") }?;
        server.upsert_user_json(json).map(drop)
    })
}

/// Add or replace a client registration, checked as the admin API checks them.
///
/// - `client_json`: the config file's client fields, e.g.
///   `{"client_id": "svc", "client_secret": "s3cret", "grant_types":
///   ["client_credentials"], "scope": "api"}`, or with `redirect_uris` for
///   the authorization-code flow.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (not JSON, an unknown field, no
/// `client_id`, a redirect URI that is not absolute or has a fragment,
/// `authorization_code` without a redirect URI), `OATK_ERR_SERVER` after
/// `oatk_server_shutdown`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_upsert_client(
    s: *const oatk_server,
    client_json: *const c_char,
) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see server_ref, arg_str.
        let server = unsafe { server_ref(s) }?;
        let json = unsafe { arg_str(client_json, "client_json") }?;
        server.upsert_client_json(json).map(drop)
    })
}

/// Stop serving and wait for the server thread to end, keeping the handle:
/// its URL, issuer and JWKS stay readable, and the calls that need a running
/// server (`oatk_server_issue_token`, `oatk_server_upsert_*`) fail with
/// `OATK_ERR_SERVER` ("the fake server is stopped"). Safe to call again and
/// from several threads. Free the handle with `oatk_server_stop`. NULL is a
/// no-op.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_shutdown(s: *const oatk_server) {
    infallible((), || {
        // SAFETY: NULL or a live handle.
        if let Some(s) = unsafe { s.as_ref() } {
            s.server.stop();
        }
    })
}

/// Stop the server (unless `oatk_server_shutdown` did), wait for its thread
/// to end, and free the handle. NULL is a no-op. No other thread may be
/// using `s`.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_stop(s: *mut oatk_server) {
    if s.is_null() {
        return;
    }
    infallible((), || {
        // SAFETY: a handle from oatk_server_start, freed once.
        let handle = unsafe { Box::from_raw(s) };
        handle.server.stop();
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::oatk_last_error;
    use crate::oatk_status::*;
    use crate::strings::oatk_string_free;
    use std::ffi::CStr;

    fn text(p: *const c_char) -> String {
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
    }

    #[test]
    fn start_issue_stop() {
        unsafe {
            let mut s = ptr::null_mut();
            assert_eq!(
                oatk_server_start(ptr::null(), ptr::null(), 0, ptr::null(), &mut s),
                OATK_OK
            );
            let url = text(oatk_server_url(s));
            assert!(url.starts_with("http://localhost:"), "{url}");
            assert_eq!(
                text(oatk_server_discovery_url(s)),
                format!("{url}/.well-known/openid-configuration")
            );
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
            assert!(text(json).contains("\"id_token\""));
            oatk_string_free(json);
            oatk_server_stop(s);
            oatk_server_stop(ptr::null_mut());
            assert!(oatk_server_url(ptr::null()).is_null());
        }
    }

    /// The C options go on top of core's embedded preset.
    #[test]
    fn options_start_from_the_embedded_preset() {
        let embedded = Options::embedded();
        let none = unsafe { options_from(None) }.unwrap();
        let zeroed = oatk_server_options {
            host: ptr::null(),
            port: 0,
            issuer: ptr::null(),
            config_path: ptr::null(),
            data_dir: ptr::null(),
            log_requests: false,
        };
        let from_zeroed = unsafe { options_from(Some(&zeroed)) }.unwrap();
        for o in [&none, &from_zeroed] {
            assert_eq!(
                (&o.host, o.port, o.memory, o.quiet, &o.issuer, &o.config),
                (
                    &embedded.host,
                    embedded.port,
                    embedded.memory,
                    embedded.quiet,
                    &embedded.issuer,
                    &embedded.config
                )
            );
        }
        let set = oatk_server_options {
            data_dir: c"/tmp/oatk-data".as_ptr(),
            log_requests: true,
            port: 8123,
            ..zeroed
        };
        let o = unsafe { options_from(Some(&set)) }.unwrap();
        let persisted = Options::embedded().persist_in("/tmp/oatk-data");
        assert_eq!(
            (o.memory, &o.data_dir, o.quiet, o.port),
            (persisted.memory, &persisted.data_dir, false, 8123)
        );
    }

    #[test]
    fn upserts_are_checked_by_core_and_a_shut_down_server_says_so() {
        unsafe {
            let mut s = ptr::null_mut();
            assert_eq!(
                oatk_server_start_with(ptr::null(), ptr::null(), &mut s),
                OATK_OK
            );
            assert_eq!(
                oatk_server_upsert_user(
                    s,
                    c"{\"username\":\"xtof\",\"claims\":{\"a\":1}}".as_ptr()
                ),
                OATK_OK
            );
            assert_eq!(
                oatk_server_upsert_user(s, c"{\"username\":\"\"}".as_ptr()),
                OATK_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                oatk_server_upsert_client(
                    s,
                    c"{\"client_id\":\"svc\",\"grant_types\":[\"client_credentials\"]}".as_ptr()
                ),
                OATK_OK
            );
            assert_eq!(
                oatk_server_upsert_client(s, c"{\"client_id\":\"web\"}".as_ptr()),
                OATK_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                oatk_server_upsert_client(ptr::null(), c"{}".as_ptr()),
                OATK_ERR_INVALID_ARGUMENT
            );
            oatk_server_shutdown(s);
            oatk_server_shutdown(s);
            assert!(text(oatk_server_url(s)).starts_with("http://"));
            assert_eq!(
                oatk_server_upsert_user(s, c"{\"username\":\"xtof\"}".as_ptr()),
                OATK_ERR_SERVER
            );
            assert_eq!(text(oatk_last_error()), "the fake server is stopped");
            oatk_server_stop(s);
        }
    }
}
