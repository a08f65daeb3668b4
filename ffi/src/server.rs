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
            jwks: c_text(&server.jwks(), "JWKS")?,
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

/// The JWKS the server published at `/oauth/certs` when it started (compact
/// JSON). After `oatk_server_rotate_keys` the server publishes more: read
/// `/oauth/certs` or `oatk_server_issuer_info` for the current keys.
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

/// Issue tokens as the token endpoint would, with no browser and no client
/// secret: for a user as if they had signed in and consented (as
/// `oatk_server_issue_token`), or with no `username` for the client acting
/// for itself (`client_credentials`: an access token only), and from a
/// tenant's issuer with `tenant` (created on first use).
///
/// - `request_json`: `{"username": "xtof", "claims": {...}, "client_id":
///   "test", "scope": "openid", "tenant": "acme"}`, every field optional.
/// - `json_out`: receives the token endpoint's JSON response; free with
///   `oatk_string_free`.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (not JSON, an unknown field, a bad
/// username or tenant name), `OATK_ERR_SERVER` after `oatk_server_shutdown`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_issue(
    s: *const oatk_server,
    request_json: *const c_char,
    json_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(json_out, "json_out")?;
        // SAFETY: see server_ref, arg_str.
        let server = unsafe { server_ref(s) }?;
        let json = unsafe { arg_str(request_json, "request_json") }?;
        let response = server.issue_json(json)?;
        // SAFETY: checked above.
        unsafe { put_string(json_out, json_text(&response)?) }
    })
}

/// Move the server's clock `seconds` ahead (behind when negative), so a C
/// test sees tokens, codes, refresh tokens and sessions age without
/// sleeping. A frozen clock stays frozen, moved.
///
/// - `now_out`: may be NULL; otherwise receives the server's new now
///   (seconds since the epoch), for `oatk_with_now` on a validator.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (the clock would leave 1970..9999),
/// `OATK_ERR_SERVER` after `oatk_server_shutdown`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_advance_clock(
    s: *const oatk_server,
    seconds: i64,
    now_out: *mut i64,
) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see server_ref.
        let server = unsafe { server_ref(s) }?;
        let now = server.advance_clock(seconds)?;
        if !now_out.is_null() {
            // SAFETY: non-NULL, the caller passes a writable int64_t.
            unsafe { *now_out = now };
        }
        Ok(())
    })
}

/// Stop the server's clock at `epoch` (seconds since the epoch) until it is
/// advanced or reset.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (outside 1970..9999),
/// `OATK_ERR_SERVER` after `oatk_server_shutdown`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_freeze_clock(
    s: *const oatk_server,
    epoch: i64,
) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see server_ref.
        let server = unsafe { server_ref(s) }?;
        server.freeze_clock(epoch)
    })
}

/// Put the server's clock back on the system clock.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` when `s` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_reset_clock(s: *const oatk_server) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see server_ref.
        let server = unsafe { server_ref(s) }?;
        server.reset_clock();
        Ok(())
    })
}

/// The server's now, in seconds since the epoch: the system clock unless
/// advanced or frozen.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` when `s` or `now_out` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_now(s: *const oatk_server, now_out: *mut i64) -> oatk_status {
    ffi_boundary(|| {
        if now_out.is_null() {
            return Err(invalid("now_out is NULL"));
        }
        // SAFETY: see server_ref.
        let server = unsafe { server_ref(s) }?;
        // SAFETY: non-NULL, the caller passes a writable int64_t.
        unsafe { *now_out = server.now() };
        Ok(())
    })
}

/// The root issuer (`tenant` NULL) or a tenant, created on first use as a
/// request to `/{tenant}/...` creates it.
///
/// - `json_out`: receives `{"tenant": "acme", "issuer": ..., "url": ...,
///   "discovery_url": ..., "jwks_uri": ..., "keys": [{"kid", "alg",
///   "signing", "retire_at"}...]}` (the admin API's JSON; the signing key
///   first); free with `oatk_string_free`. A tenant's `url` is what to give
///   `oatk_using_provider`.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (a tenant name that is not a short
/// path segment, too many tenants), `OATK_ERR_SERVER` after
/// `oatk_server_shutdown`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_issuer_info(
    s: *const oatk_server,
    tenant: *const c_char,
    json_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        out_param(json_out, "json_out")?;
        // SAFETY: see server_ref, arg_opt_str.
        let server = unsafe { server_ref(s) }?;
        let tenant = unsafe { arg_opt_str(tenant, "tenant") }?;
        let info = server.issuer_info(tenant)?;
        // SAFETY: checked above.
        unsafe { put_string(json_out, json_text(&info)?) }
    })
}

/// Publish a new signing key beside the old ones, for the root issuer
/// (`tenant` NULL) or a tenant, and sign new tokens with it. The old keys
/// stay in the JWKS at `/oauth/certs` until `oatk_server_retire_old_keys`,
/// so tokens they signed keep validating meanwhile. (`oatk_server_jwks`
/// keeps the key set of the start; read `/oauth/certs` or
/// `oatk_server_issuer_info` for the current one.)
///
/// - `kid_out`: may be NULL; otherwise receives the new key's `kid`; free
///   with `oatk_string_free`.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (a bad tenant name, too many keys
/// published), `OATK_ERR_SERVER` after `oatk_server_shutdown`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_rotate_keys(
    s: *const oatk_server,
    tenant: *const c_char,
    kid_out: *mut *mut c_char,
) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see server_ref, arg_opt_str.
        let server = unsafe { server_ref(s) }?;
        let tenant = unsafe { arg_opt_str(tenant, "tenant") }?;
        let kid = server.rotate_keys(tenant)?;
        // SAFETY: NULL (skipped) or a writable char *.
        unsafe { put_string(kid_out, kid) }
    })
}

/// Remove every key but the signing one from the JWKS of the root issuer
/// (`tenant` NULL) or a tenant: tokens they signed stop validating, at the
/// server at once and at a validator once it fetches the key set again.
///
/// - `count_out`: may be NULL; otherwise receives how many keys went.
///
/// Errors: `OATK_ERR_INVALID_ARGUMENT` (a bad tenant name),
/// `OATK_ERR_SERVER` after `oatk_server_shutdown`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn oatk_server_retire_old_keys(
    s: *const oatk_server,
    tenant: *const c_char,
    count_out: *mut usize,
) -> oatk_status {
    ffi_boundary(|| {
        // SAFETY: see server_ref, arg_opt_str.
        let server = unsafe { server_ref(s) }?;
        let tenant = unsafe { arg_opt_str(tenant, "tenant") }?;
        let count = server.retire_old_keys(tenant)?;
        if !count_out.is_null() {
            // SAFETY: non-NULL, the caller passes a writable size_t.
            unsafe { *count_out = count };
        }
        Ok(())
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

    /// Clock, rotation and tenants: core's calls, with NULL and a stopped
    /// server refused by status.
    #[test]
    fn clock_keys_and_tenants() {
        unsafe {
            let mut s = ptr::null_mut();
            assert_eq!(
                oatk_server_start_with(ptr::null(), ptr::null(), &mut s),
                OATK_OK
            );
            let mut now = 0i64;
            assert_eq!(oatk_server_now(s, &mut now), OATK_OK);
            let mut later = 0i64;
            assert_eq!(oatk_server_advance_clock(s, 3600, &mut later), OATK_OK);
            assert!((later - now - 3600).abs() <= 1, "{now} -> {later}");
            assert_eq!(oatk_server_advance_clock(s, 60, ptr::null_mut()), OATK_OK);
            assert_eq!(oatk_server_freeze_clock(s, 1_000_000), OATK_OK);
            assert_eq!(oatk_server_now(s, &mut now), OATK_OK);
            assert_eq!(now, 1_000_000);
            assert_eq!(
                oatk_server_advance_clock(s, -2_000_000, &mut now),
                OATK_ERR_INVALID_ARGUMENT
            );
            assert_eq!(now, 1_000_000, "written only on success");
            assert_eq!(oatk_server_reset_clock(s), OATK_OK);
            assert_eq!(
                oatk_server_reset_clock(ptr::null()),
                OATK_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                oatk_server_now(s, ptr::null_mut()),
                OATK_ERR_INVALID_ARGUMENT
            );

            let mut kid = ptr::null_mut();
            assert_eq!(oatk_server_rotate_keys(s, ptr::null(), &mut kid), OATK_OK);
            let mut info = ptr::null_mut();
            assert_eq!(oatk_server_issuer_info(s, ptr::null(), &mut info), OATK_OK);
            let parsed: serde_json::Value = serde_json::from_str(&text(info)).unwrap();
            assert_eq!(parsed["keys"][0]["kid"], text(kid).as_str());
            assert_eq!(parsed["keys"].as_array().unwrap().len(), 2);
            oatk_string_free(info);
            oatk_string_free(kid);
            let mut retired = 0usize;
            assert_eq!(
                oatk_server_retire_old_keys(s, ptr::null(), &mut retired),
                OATK_OK
            );
            assert_eq!(retired, 1);

            let mut tenant = ptr::null_mut();
            assert_eq!(
                oatk_server_issuer_info(s, c"acme".as_ptr(), &mut tenant),
                OATK_OK
            );
            let acme: serde_json::Value = serde_json::from_str(&text(tenant)).unwrap();
            oatk_string_free(tenant);
            assert_eq!(acme["tenant"], "acme");
            assert_eq!(
                oatk_server_issuer_info(s, c"not a tenant".as_ptr(), &mut tenant),
                OATK_ERR_INVALID_ARGUMENT
            );
            let mut response = ptr::null_mut();
            assert_eq!(
                oatk_server_issue(
                    s,
                    c"{\"username\":\"xtof\",\"tenant\":\"acme\"}".as_ptr(),
                    &mut response
                ),
                OATK_OK
            );
            let tokens: serde_json::Value = serde_json::from_str(&text(response)).unwrap();
            oatk_string_free(response);
            let access = tokens["access_token"].as_str().unwrap();
            let claims = oatk_core::Toolkit::new().decode(Some(access)).unwrap();
            assert_eq!(claims["iss"], acme["issuer"]);
            assert_eq!(
                oatk_server_issue(s, c"{\"nope\":1}".as_ptr(), &mut response),
                OATK_ERR_INVALID_ARGUMENT
            );

            oatk_server_shutdown(s);
            assert_eq!(
                oatk_server_advance_clock(s, 1, ptr::null_mut()),
                OATK_ERR_SERVER
            );
            assert_eq!(
                oatk_server_rotate_keys(s, ptr::null(), ptr::null_mut()),
                OATK_ERR_SERVER
            );
            oatk_server_stop(s);
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
