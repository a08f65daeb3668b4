/*
 * oatk.js - a small, readable browser client for the OAuth 2.0 authorization
 * code flow with PKCE (RFC 6749 4.1 + RFC 7636), with OpenID Connect discovery.
 *
 * No build step, no dependencies. Load it with a classic script tag:
 *
 *   <script src="http://localhost:5000/static/oatk.js"></script>
 *   <script>
 *     oatk.with_authenticated_user(function(user, http, logout) { ... });
 *   </script>
 *
 * The provider defaults to the origin this script was loaded from, the client
 * id to "test". Open the devtools console to follow the flow ("oatk: ...").
 * Note: crypto.subtle (for PKCE) only exists on https:// or localhost pages.
 */
(function (root) {
  "use strict";

  // Captured now: document.currentScript is only set while this file runs.
  const script_src = (typeof document !== "undefined" && document.currentScript)
    ? document.currentScript.src : null;

  const config = {
    provider:     script_src ? new URL(script_src).origin : null,
    client_id:    "test",
    redirect_uri: null,              // null: current page, without query/hash
    scope:        "openid profile"
  };

  const MAX_AUTO_LOGINS = 3;         // without getting a token: stop, never loop
  const EXPIRY_MARGIN_MS = 10 * 1000;

  let discovery = null;              // { url, promise } of the provider metadata
  let flow_in_progress = null;       // Promise of the running apply_flow()
  let refresh_in_progress = null;    // Promise of the running token refresh
  let user_cache = null;             // { access_token, user }

  // ---- small helpers ------------------------------------------------------

  function storage_key(kind) {
    return "oatk." + kind + "." + config.provider + "|" + config.client_id;
  }

  function load(storage, kind) {
    try { return JSON.parse(storage.getItem(storage_key(kind))); }
    catch (e) { return null; }
  }

  function save(storage, kind, value) {
    storage.setItem(storage_key(kind), JSON.stringify(value));
  }

  function forget(storage, kind) {
    storage.removeItem(storage_key(kind));
  }

  function redirect_uri() {
    return config.redirect_uri || (location.origin + location.pathname);
  }

  function base64url_encode(bytes) {
    const binary = Array.from(bytes, function (b) { return String.fromCharCode(b); }).join("");
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function base64url_decode_to_text(text) {
    let base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    const bytes = Uint8Array.from(atob(base64), function (c) { return c.charCodeAt(0); });
    return new TextDecoder("utf-8").decode(bytes);   // claims are UTF-8 JSON
  }

  // The claims of a JWT (e.g. the id_token). NOT verified: the signature is
  // not checked here. The browser got the token straight from the token
  // endpoint over TLS (OIDC Core 3.1.3.7); servers must verify tokens themselves.
  function decode_jwt_payload(jwt) {
    return JSON.parse(base64url_decode_to_text(jwt.split(".")[1]));
  }

  function random_string(byte_count) {
    return base64url_encode(crypto.getRandomValues(new Uint8Array(byte_count)));
  }

  // RFC 7636 4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier)))
  async function code_challenge(verifier) {
    if (!crypto.subtle) { throw oatk_error("no crypto.subtle: serve this page over https or localhost"); }
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return base64url_encode(new Uint8Array(digest));
  }

  // Like Promise.prototype.finally (ES2018), which we avoid to stay ES2017.
  function when_done(promise, cleanup) {
    return promise.then(
      function (value) { cleanup(); return value; },
      function (error) { cleanup(); throw error; });
  }

  function oatk_error(message, details) {
    return Object.assign(new Error("oatk: " + message), details || {});
  }

  function report(error, on_error) {
    console.error(error && error.message ? error.message : "oatk:", error);
    if (typeof on_error === "function") { on_error(error); }
  }

  // ---- discovery (OpenID Connect Discovery 1.0, section 4) ----------------

  // The same rule as core's provider::discovery_url (tests/vectors/provider-urls.json):
  // a .well-known URL, the original's /oauth/well-known or a .json file as is,
  // anything else is an issuer.
  function discovery_url(provider) {
    const url = provider.trim();
    if (url.indexOf("/.well-known/") >= 0 || /\/oauth\/well-known$/.test(url) || /\.json$/.test(url)) {
      return url;
    }
    return url.replace(/\/+$/, "") + "/.well-known/openid-configuration";
  }

  function well_known_url() {
    if (!config.provider) { throw oatk_error("no provider; call oatk.using_provider(url)"); }
    return discovery_url(config.provider);
  }

  function discover() {
    const url = well_known_url();
    if (!discovery || discovery.url !== url) {
      console.log("oatk: discovering provider configuration at " + url);
      const promise = fetch(url, { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw oatk_error("discovery failed: HTTP " + response.status); }
          return response.json();
        });
      promise.catch(function () { discovery = null; });   // allow a later retry
      discovery = { url: url, promise: promise };
    }
    return discovery.promise;
  }

  // ---- token storage -------------------------------------------------------

  function load_tokens() {
    return load(localStorage, "tokens");
  }

  function jwt_expiry_ms(token) {
    try { return decode_jwt_payload(token).exp * 1000 || null; } catch (e) { return null; }
  }

  // RFC 6749 5.1 (and 6: a refresh response without refresh_token keeps the old one)
  function store_tokens(response, previous) {
    previous = previous || {};
    const tokens = {
      access_token:  response.access_token,
      token_type:    response.token_type,
      refresh_token: response.refresh_token || previous.refresh_token || null,
      id_token:      response.id_token || previous.id_token || null,
      scope:         response.scope || previous.scope || null,
      expires_at:    response.expires_in
        ? Date.now() + Number(response.expires_in) * 1000
        : jwt_expiry_ms(response.access_token)
    };
    save(localStorage, "tokens", tokens);
    return tokens;
  }

  function clear_tokens() {
    forget(localStorage, "tokens");
    user_cache = null;
  }

  function is_expired(tokens) {
    return !!tokens.expires_at && Date.now() >= tokens.expires_at - EXPIRY_MARGIN_MS;
  }

  function have_authenticated_user() {
    const tokens = load_tokens();
    return !!tokens && (!!tokens.refresh_token || (!!tokens.access_token && !is_expired(tokens)));
  }

  // ---- the token endpoint (RFC 6749 3.2, form-encoded POST) -----------------

  async function call_token_endpoint(params) {
    const meta = await discover();
    const response = await fetch(meta.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams(params).toString()
    });
    const body = await read_body(response);
    if (!response.ok) {   // RFC 6749 5.2 error response
      const reason = (body && body.error) || ("HTTP " + response.status);
      throw oatk_error("token request failed: " + reason, { status: response.status, body: body });
    }
    return body;
  }

  // RFC 6749 6: refreshing an access token
  function refresh_tokens() {
    if (!refresh_in_progress) {
      refresh_in_progress = when_done(do_refresh(), function () { refresh_in_progress = null; });
    }
    return refresh_in_progress;
  }

  async function do_refresh() {
    const old = load_tokens();
    try {
      const response = await call_token_endpoint({
        grant_type: "refresh_token", refresh_token: old.refresh_token, client_id: config.client_id
      });
      console.log("oatk: refreshed token");
      return store_tokens(response, old).access_token;
    } catch (error) {
      report(oatk_error("refreshing the token failed; logging in again", { cause: error }));
      clear_tokens();
      auto_login().catch(report);
      return null;
    }
  }

  // A usable access token, refreshed when (nearly) expired; null if there is none.
  async function get_access_token() {
    const tokens = load_tokens();
    if (!tokens) { return null; }
    if (!is_expired(tokens)) { return tokens.access_token; }
    if (tokens.refresh_token) { return refresh_tokens(); }
    clear_tokens();
    return null;
  }

  // ---- step 1: the authorization request (RFC 6749 4.1.1, RFC 7636 4.1-4.3,
  //      OIDC Core 3.1.2.1) -------------------------------------------------

  async function login() {
    const meta = await discover();
    const pending = {
      state:         random_string(16),
      nonce:         random_string(16),
      code_verifier: random_string(32),   // RFC 7636 4.1: 43 chars of [A-Za-z0-9-_]
      redirect_uri:  redirect_uri()
    };
    save(sessionStorage, "login", pending);
    const url = new URL(meta.authorization_endpoint);
    const params = {
      response_type: "code", client_id: config.client_id, redirect_uri: pending.redirect_uri,
      scope: config.scope, state: pending.state, nonce: pending.nonce,
      code_challenge: await code_challenge(pending.code_verifier), code_challenge_method: "S256"
    };
    Object.keys(params).forEach(function (name) { url.searchParams.set(name, params[name]); });
    console.log("oatk: redirecting to login at " + meta.authorization_endpoint);
    location.assign(url.toString());
  }

  // login() started by oatk itself; refuses to bounce between pages forever.
  function auto_login() {
    const attempts = load(sessionStorage, "attempts") || 0;
    if (attempts >= MAX_AUTO_LOGINS) {
      report(oatk_error("no token after " + attempts + " login attempts; giving up " +
                        "(reload the page to try again)"));
      forget(sessionStorage, "attempts");
      return Promise.resolve();
    }
    save(sessionStorage, "attempts", attempts + 1);
    return login();
  }

  // ---- step 2: the authorization response (RFC 6749 4.1.2) and the token
  //      request (RFC 6749 4.1.3, RFC 7636 4.5) -----------------------------

  // Removes the OAuth response parameters, keeping the page's own query
  // parameters (byte for byte) and the hash.
  function clean_address_bar() {
    const oauth_params = ["code", "state", "session_state", "iss",
                          "error", "error_description", "error_uri"];
    const kept = location.search.slice(1).split("&").filter(function (part) {
      return part && oauth_params.indexOf(part.split("=")[0]) < 0;
    });
    const search = kept.length ? "?" + kept.join("&") : "";
    history.replaceState(history.state, "", location.pathname + search + location.hash);
  }

  // Resolves true when a token is available afterwards; rejects on an error
  // response, a state mismatch or a failed exchange.
  function apply_flow(legacy_flow_name) {
    if (legacy_flow_name && legacy_flow_name !== "code") {
      console.warn("oatk: only the authorization code flow with PKCE is supported, ignoring '" +
                   legacy_flow_name + "'");
    }
    if (!flow_in_progress) {
      flow_in_progress = when_done(handle_redirect_back(), function () { flow_in_progress = null; });
    }
    return flow_in_progress;
  }

  async function handle_redirect_back() {
    const params = new URLSearchParams(location.search);
    if (!params.has("code") && !params.has("error")) { return have_authenticated_user(); }
    const pending = load(sessionStorage, "login");
    forget(sessionStorage, "login");            // the state and verifier are single use
    clean_address_bar();
    if (params.has("error")) {                  // RFC 6749 4.1.2.1
      throw oatk_error("authorization failed: " + params.get("error") +
                       (params.get("error_description") ? " - " + params.get("error_description") : ""),
                       { error: params.get("error"), error_description: params.get("error_description") });
    }
    if (!pending || params.get("state") !== pending.state) {   // RFC 6749 10.12 (CSRF)
      throw oatk_error("state mismatch; ignoring the authorization code", { error: "invalid_state" });
    }
    console.log("oatk: exchanging authorization code for tokens");
    const response = await call_token_endpoint({
      grant_type: "authorization_code", code: params.get("code"), redirect_uri: pending.redirect_uri,
      client_id: config.client_id, code_verifier: pending.code_verifier
    });
    check_nonce(response.id_token, pending.nonce);
    store_tokens(response, null);
    forget(sessionStorage, "attempts");
    return true;
  }

  // OIDC Core 3.1.3.7 step 11: we always send a nonce, so the id_token must
  // carry exactly it; one without a nonce could be replayed from another login.
  function check_nonce(id_token, nonce) {
    if (!id_token) { return; }
    const claims = decode_jwt_payload(id_token);
    if (claims.nonce !== nonce) {
      throw oatk_error("id_token nonce mismatch", { error: "invalid_nonce" });
    }
  }

  // ---- the user: id_token claims + userinfo (OIDC Core 5.3) ---------------

  async function get_user_info() {
    const access_token = await get_access_token();
    if (!access_token) { return null; }
    if (user_cache && user_cache.access_token === access_token) { return user_cache.user; }
    const tokens = load_tokens();
    const claims = tokens.id_token ? decode_jwt_payload(tokens.id_token) : {};
    let userinfo = {};
    const meta = await discover();
    if (meta.userinfo_endpoint) {
      try { userinfo = await http.getJSON(meta.userinfo_endpoint); }
      catch (error) { report(oatk_error("userinfo request failed", { cause: error })); }
    }
    const user = Object.assign({}, claims, userinfo);
    user_cache = { access_token: access_token, user: user };
    return user;
  }

  // ---- the http helper: bearer token (RFC 6750 2.1), one retry on 401 -----

  async function read_body(response) {
    const text = await response.text();
    try { return text ? JSON.parse(text) : null; } catch (e) { return text; }
  }

  function send(method, url, data, access_token) {
    const headers = { Accept: "application/json" };
    if (access_token) { headers.Authorization = "Bearer " + access_token; }
    const options = { method: method, headers: headers };
    if (data !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = typeof data === "string" ? data : JSON.stringify(data);
    }
    return fetch(url, options);
  }

  async function request(method, url, data) {
    let response;
    try {
      response = await send(method, url, data, await get_access_token());
      const tokens = load_tokens();
      if (response.status === 401 && tokens && tokens.refresh_token) {
        console.log("oatk: got 401 from " + url + ", refreshing the token and retrying once");
        response = await send(method, url, data, await refresh_tokens());
      }
    } catch (error) {
      throw { status: 0, body: null, error: error };   // network or CORS failure
    }
    const body = await read_body(response);
    if (!response.ok) {
      throw { status: response.status, body: body, error: (body && body.error) || response.statusText };
    }
    return body;
  }

  // With callbacks: ok(json) / err({status, body, error}); the Promise then
  // never rejects. Without callbacks: use the returned Promise.
  function with_callbacks(promise, ok, err) {
    if (!ok && !err) { return promise; }
    return promise.then(
      function (result) { if (ok) { ok(result); } return result; },
      function (error) {
        if (err) { err(error); } else { console.error("oatk: request failed", error); }
      });
  }

  const http = {
    getJSON: function (url, ok, err) {
      return with_callbacks(request("GET", url), ok, err);
    },
    postJSON: function (url, data, ok, err) {
      return with_callbacks(request("POST", url, data), ok, err);
    }
  };

  // ---- the main entry point and logout --------------------------------------

  async function with_authenticated_user(callback, on_error) {
    let user;
    try {
      await apply_flow();
      if (!have_authenticated_user()) { await auto_login(); return; }
      user = await get_user_info();
    } catch (error) {
      return report(error, on_error);
    }
    if (user) { callback(user, http, logout); }   // null: a new login is under way
  }

  // RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0, section 2)
  async function logout(after) {
    const tokens = load_tokens();
    clear_tokens();
    forget(sessionStorage, "login");
    forget(sessionStorage, "attempts");
    console.log("oatk: logged out, tokens cleared");
    if (typeof after === "function") { return after(); }
    let meta = null;
    try { meta = await discover(); } catch (error) { report(error); }
    if (!meta || !meta.end_session_endpoint) { return location.reload(); }
    const url = new URL(meta.end_session_endpoint);
    url.searchParams.set("post_logout_redirect_uri", redirect_uri());
    url.searchParams.set("client_id", config.client_id);
    if (tokens && tokens.id_token) { url.searchParams.set("id_token_hint", tokens.id_token); }
    console.log("oatk: redirecting to end the session at " + meta.end_session_endpoint);
    location.assign(url.toString());
  }

  // ---- public API -----------------------------------------------------------

  const oatk = {
    using_provider:          function (url) { config.provider = url; },
    using_client_id:         function (id) { config.client_id = id; },
    using_redirect_uri:      function (uri) { config.redirect_uri = uri; },
    using_scope:             function (scope) { config.scope = scope; },
    apply_flow:              apply_flow,
    with_authenticated_user: with_authenticated_user,
    have_authenticated_user: have_authenticated_user,
    get_user_info:           get_user_info,
    login:                   login,
    logout:                  logout,
    http:                    http,
    // for tests only; not a stable API
    _internal: {
      config: config, code_challenge: code_challenge, base64url_encode: base64url_encode,
      decode_jwt_payload: decode_jwt_payload, random_string: random_string,
      storage_key: storage_key, discover: discover, discovery_url: discovery_url, check_nonce: check_nonce,
      refresh_tokens: refresh_tokens
    }
  };

  root.oatk = oatk;
  if (typeof module !== "undefined" && module.exports) { module.exports = oatk; }
})(typeof window !== "undefined" ? window : this);
