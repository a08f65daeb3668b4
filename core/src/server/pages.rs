//! The fake server's HTML: login, consent, home, client registration, errors
//! (the token debugger's page is in `debugger.rs`, in this layout). Every
//! value from a request or the store goes through `html_escape`.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::config::Client;
use super::http::html_escape as esc;

fn layout(title: &str, user: Option<&str>, body: &str) -> Html<String> {
    let nav = match user {
        Some(name) => format!(
            r#"<nav><span class="muted">signed in as <strong>{}</strong></span> <a href="/oauth/logout">log out</a></nav>"#,
            esc(name)
        ),
        None => String::new(),
    };
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · oatk</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<header class="topbar"><a class="brand" href="/">oatk fake OAuth server</a><span class="badge">DEV ONLY</span>{nav}</header>
<main class="container">
{body}
</main>
<footer class="footer muted">oatk {version} · a fake OpenID Connect provider for development · <a href="/.well-known/openid-configuration">discovery</a> · <a href="/oauth/certs">JWKS</a> · <a href="/debugger" id="debugger-link">token debugger</a></footer>
</body>
</html>
"#,
        title = esc(title),
        version = crate::VERSION,
    ))
}

/// A page in the common layout.
pub(crate) fn page(title: &str, user: Option<&str>, body: &str) -> Response {
    layout(title, user, body).into_response()
}

fn hidden_fields(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                esc(k),
                esc(v)
            )
        })
        .collect()
}

/// Login or sign up by username only (no password), with optional extra claims.
pub fn login(
    action: &str,
    hidden: &[(String, String)],
    login_hint: Option<&str>,
    note: Option<&str>,
) -> Response {
    let note = note
        .map(|n| format!(r#"<div class="alert info">{}</div>"#, esc(n)))
        .unwrap_or_default();
    let body = format!(
        r#"<section class="card">
<h1>Sign in</h1>
<p class="muted">Any username works: a new one signs you up. There are no passwords here.</p>
{note}
<form method="post" action="{action}">
{hidden}
<div class="form-row"><label for="username">Username</label>
<input type="text" id="username" name="username" value="{hint}" autocomplete="username" autofocus required></div>
<div class="form-row"><label for="claims">Extra claims (JSON, optional)</label>
<textarea id="claims" name="claims" rows="3" placeholder='{{"groups": ["admin"], "name": "Christophe VG"}}'></textarea>
<p class="hint">Added to your tokens and user info. Leave empty to keep the claims you have.</p></div>
<div class="actions"><button type="submit" class="btn btn-primary" id="login">Sign in</button></div>
</form>
</section>"#,
        action = esc(action),
        hidden = hidden_fields(hidden),
        hint = esc(login_hint.unwrap_or("")),
    );
    layout("Sign in", None, &body).into_response()
}

fn scope_description(scope: &str) -> &'static str {
    match scope {
        "openid" => "Sign you in and know who you are",
        "profile" => "Your name and username",
        "email" => "Your email address",
        "offline_access" => "Stay signed in when you are away",
        _ => "An application-defined permission",
    }
}

/// Ask the user to allow the client the scopes (OIDC Core 3.1.2.4), posting
/// back to `action` (the root's or a tenant's authorization endpoint).
pub fn consent(
    action: &str,
    client: &Client,
    scope: &str,
    username: &str,
    hidden: &[(String, String)],
) -> Response {
    let scopes: String = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| {
            format!(
                r#"<li><span class="scope-name">{}</span> <span class="muted">{}</span></li>"#,
                esc(s),
                scope_description(s)
            )
        })
        .collect();
    let groups = if client.permission_groups.is_empty() {
        String::new()
    } else {
        format!(
            r#"<p class="muted">Permission groups: {}</p>"#,
            esc(&client.permission_groups.join(", "))
        )
    };
    let body = format!(
        r#"<section class="card">
<h1>Allow {name}?</h1>
<p><strong>{name}</strong> (<code>{id}</code>) wants to act on your behalf, <strong>{user}</strong>, with:</p>
<ul class="scopes">{scopes}</ul>
{groups}
<form method="post" action="{action}">
{hidden}
<div class="actions">
<button type="submit" name="decision" value="allow" class="btn btn-primary" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="btn btn-secondary" id="deny">Deny</button>
</div>
</form>
</section>"#,
        action = esc(action),
        name = esc(client.display_name()),
        id = esc(&client.client_id),
        user = esc(username),
        hidden = hidden_fields(hidden),
    );
    layout("Consent", Some(username), &body).into_response()
}

pub fn home(username: &str, clients: &[Client]) -> Response {
    let rows: String = clients
        .iter()
        .map(|c| {
            format!(
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(c.display_name()),
                esc(&c.client_id),
                esc(&c.redirect_uris.join(" ")),
                esc(&c.scope),
                if c.is_public() { "public (PKCE)" } else { "confidential" }
            )
        })
        .collect();
    let table = if clients.is_empty() {
        r#"<p class="muted">No client registrations yet.</p>"#.to_string()
    } else {
        format!(
            r#"<div class="table-wrap"><table class="clients"><thead><tr><th>Name</th><th>Client id</th><th>Redirect URIs</th><th>Scope</th><th>Type</th></tr></thead><tbody>{rows}</tbody></table></div>"#
        )
    };
    let body = format!(
        r#"<section class="card wide">
<h1>Welcome, {user}</h1>
<p class="muted">You are signed in. Applications that send you here will ask for your consent.</p>
<h2>Client registrations</h2>
{table}
<div class="actions"><a class="btn btn-primary" id="create-client" href="/oauth/create-client">Create client registration</a>
<a class="btn btn-secondary" id="debugger" href="/debugger">Token debugger</a>
<a class="btn btn-secondary" id="logout" href="/oauth/logout">Log out</a></div>
</section>"#,
        user = esc(username),
    );
    layout("Home", Some(username), &body).into_response()
}

/// The registration form, with the original's defaults and its CSRF token.
pub fn create_client(username: &str, csrf: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!(r#"<div class="alert error">{}</div>"#, esc(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<section class="card medium">
<h1>Create client registration</h1>
<p class="muted">Register an application that may ask this server for tokens. The defaults are the seed demo's.</p>
{error}
<form method="post" action="/oauth/create-client">
{csrf}
<div class="form-grid">
{fields}
<div class="form-row checkbox full"><label><input type="checkbox" name="public" value="true" checked> Public client</label>
<span class="hint">Browser apps and CLIs: no client secret needed at the token endpoint, PKCE required.</span></div>
</div>
<div class="actions end"><a class="btn btn-secondary" href="/">Cancel</a>
<button type="submit" class="btn btn-primary" id="submit">Submit</button></div>
</form>
</section>"#,
        fields = create_client_fields(),
        csrf = hidden_fields(&[("csrf".to_string(), csrf.to_string())]),
    );
    layout("Create client", Some(username), &body).into_response()
}

/// The registration form's text fields, with their defaults, in order.
fn create_client_fields() -> String {
    [
        form_row("name", "Name", "test", ""),
        form_row("client_id", "Client id", "test", ""),
        form_row(
            "client_secret",
            "Client secret",
            "test",
            "Leave empty for a client without a secret.",
        ),
        form_row("uri", "URI", "http://localhost:5001", ""),
        form_row(
            "redirect_uris",
            "Redirect URIs",
            "http://localhost:5001",
            "Space separated; matched exactly.",
        ),
        form_row(
            "allowed_origins",
            "Allowed origins",
            "http://localhost:5001",
            "Space separated.",
        ),
        form_row("scope", "Scope", "openid profile", ""),
        form_row(
            "grant_types",
            "Grant types",
            "authorization_code",
            "Space separated: authorization_code refresh_token client_credentials.",
        ),
        form_row("response_types", "Response types", "code", ""),
        form_row(
            "permission_groups",
            "Permission groups",
            "Group1 Group2 Group3",
            "Space separated; put into access tokens.",
        ),
    ]
    .concat()
}

/// One labelled text input; a row with a hint spans the form's width.
fn form_row(id: &str, label: &str, value: &str, hint: &str) -> String {
    let full = if hint.is_empty() { "" } else { " full" };
    format!(
        r#"<div class="form-row{full}"><label for="{id}">{label}</label><input type="text" id="{id}" name="{id}" value="{value}">{hint}</div>"#,
        hint = if hint.is_empty() {
            String::new()
        } else {
            format!(r#"<span class="hint">{hint}</span>"#)
        }
    )
}

/// An error we must not redirect (unknown client, untrusted redirect URI: RFC 6749 4.1.2.1).
pub fn error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = format!(
        r#"<section class="card">
<h1>Something is not right</h1>
<div class="alert error"><code>{}</code> {}</div>
<p class="muted">The request was not passed on to the application, so that nothing leaks to an address the client did not register.</p>
<div class="actions"><a class="btn btn-secondary" href="/">Home</a></div>
</section>"#,
        esc(error),
        esc(description)
    );
    (status, layout("Error", None, &body)).into_response()
}
