//! `/debugger`: paste a token, see its header and claims decoded, its times
//! readable, and whether this server's keys (the root's and each tenant's)
//! validate it, with core's reason when not. The token is posted with a
//! CSRF token bound to the browser's sign-in cookie, decoded on the server,
//! and every value shown goes through `html_escape`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::http::{self, html_escape as esc, OAuthError, Params};
use super::issuers::Issuer;
use super::pages;
use super::State;
use crate::time::rfc3339;

/// The claims shown as times.
const TIME_CLAIMS: [(&str, &str); 4] = [
    ("exp", "expires"),
    ("nbf", "not before"),
    ("iat", "issued"),
    ("auth_time", "signed in"),
];

/// `GET /debugger`.
pub async fn page(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
    render(&state, &headers, "", None, StatusCode::OK)
}

/// `POST /debugger`: the pasted token, decoded and validated.
pub async fn decode(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let body = body.map_err(|e| OAuthError::new(e.status(), "invalid_request", e.body_text()))?;
    let params = Params::from_body(&headers, &body)?;
    let token = params.get("token")?.unwrap_or("");
    let nonce = http::cookie(&headers, http::LOGIN_COOKIE).filter(|n| super::login::valid_nonce(n));
    let csrf = params.get("csrf")?;
    if !nonce.is_some_and(|n| http::csrf_ok(&state.csrf_key, "debugger", &n, csrf)) {
        let refusal = r#"<div class="alert error" id="verdict">This form expired or was sent from another site: submit it again.</div>"#;
        return render(
            &state,
            &headers,
            token,
            Some(refusal.to_string()),
            StatusCode::FORBIDDEN,
        );
    }
    let result = if token.trim().is_empty() {
        r#"<div class="alert error" id="verdict">Paste a token first.</div>"#.to_string()
    } else {
        analysis(&state, token)
    };
    render(&state, &headers, token, Some(result), StatusCode::OK)
}

/// The page: the form (with this browser's CSRF token), the result if
/// any, and the keys the server publishes.
fn render(
    state: &State,
    headers: &HeaderMap,
    token: &str,
    result: Option<String>,
    status: StatusCode,
) -> Result<Response, OAuthError> {
    let existing =
        http::cookie(headers, http::LOGIN_COOKIE).filter(|n| super::login::valid_nonce(n));
    let nonce = existing.clone().unwrap_or_else(|| http::random_id(16));
    let csrf = http::csrf_token(&state.csrf_key, "debugger", &nonce);
    let user = super::login::session_user(state, headers)?.map(|(_, name, _)| name);
    let body = format!(
        r#"<section class="card wide">
<h1>Token debugger</h1>
<p class="muted">Paste a JWT to see its header and claims, its times in UTC, and whether this server's keys validate it. Nothing is stored.</p>
<form method="post" action="/debugger">
<input type="hidden" name="csrf" value="{csrf}">
<div class="form-row"><label for="token">Token</label>
<textarea id="token" name="token" rows="5" spellcheck="false" autocomplete="off" placeholder="eyJhbGciOiJSUzI1NiIs...">{token}</textarea>
<p class="hint">A <code>Bearer </code> prefix and surrounding spaces are ignored.</p></div>
<div class="actions"><button type="submit" class="btn btn-primary" id="decode">Decode and validate</button></div>
</form>
{result}
</section>
{keys}"#,
        csrf = esc(&csrf),
        token = esc(token.trim()),
        result = result
            .map(|r| format!(r#"<div class="result" id="result">{r}</div>"#))
            .unwrap_or_default(),
        keys = keys_card(state),
    );
    let mut page = pages::page("Token debugger", user.as_deref(), &body);
    *page.status_mut() = status;
    if existing.is_none() {
        if let Ok(cookie) = HeaderValue::from_str(&http::login_cookie(&nonce)) {
            page.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    Ok(page)
}

/// The verdict, the decoded parts, the times, and each issuer's answer.
fn analysis(state: &State, token: &str) -> String {
    let text = crate::token::clean(token);
    let jws = match crate::token::parse(text) {
        Ok(jws) => jws,
        Err(e) => {
            return format!(
                r#"<div class="alert error" id="verdict"><strong>Not a JWT</strong>{}</div>"#,
                esc(e.message())
            )
        }
    };
    let claims = jws.claims();
    let now = state.clock.now();
    let issuers = state.issuers.all();
    let answers: Vec<(Arc<Issuer>, Result<(), crate::Error>)> = issuers
        .iter()
        .map(|i| (i.clone(), i.validate(text, now).map(drop)))
        .collect();
    let pretty = |v: &serde_json::Map<String, Value>| {
        esc(&serde_json::to_string_pretty(v).unwrap_or_default())
    };
    let claims_html = match &claims {
        Ok(c) => format!(r#"<pre id="claims"><code>{}</code></pre>"#, pretty(c)),
        Err(e) => format!(r#"<div class="alert error">{}</div>"#, esc(e.message())),
    };
    format!(
        r#"{verdict}
<div class="debug-grid">
<div><h2>Header</h2><pre id="header"><code>{header}</code></pre></div>
<div><h2>Claims</h2>{claims_html}</div>
</div>
{times}
<h2>This server's issuers</h2>
<div class="table-wrap"><table class="clients" id="issuers"><thead><tr><th>Issuer</th><th>Result</th></tr></thead><tbody>{rows}</tbody></table></div>"#,
        verdict = verdict(&jws, claims.as_ref().ok(), &answers),
        header = jws.header().map(|h| pretty(&h)).unwrap_or_default(),
        times = claims.as_ref().map(|c| times(c, now)).unwrap_or_default(),
        rows = answers
            .iter()
            .map(|(issuer, answer)| issuer_row(issuer, answer))
            .collect::<String>(),
    )
}

/// Valid for one issuer, or the reason from the issuer the token names (by
/// `iss`, else by `kid`, else the root).
fn verdict(
    jws: &crate::token::Jws<'_>,
    claims: Option<&serde_json::Map<String, Value>>,
    answers: &[(Arc<Issuer>, Result<(), crate::Error>)],
) -> String {
    if let Some((issuer, _)) = answers.iter().find(|(_, a)| a.is_ok()) {
        return format!(
            r#"<div class="alert info" id="verdict"><strong>Valid</strong>Signed by {} (<code>{}</code>); its time and issuer check out.</div>"#,
            esc(&issuer.describe()),
            esc(&issuer.issuer)
        );
    }
    let iss = claims.and_then(|c| c.get("iss")).and_then(Value::as_str);
    let kid = jws.kid().ok().flatten();
    let relevant = answers
        .iter()
        .find(|(i, _)| Some(i.issuer.as_str()) == iss)
        .or_else(|| {
            answers
                .iter()
                .find(|(i, _)| kid.is_some_and(|k| i.current().verify.find(Some(k)).is_ok()))
        })
        .or(answers.first());
    let reason = relevant
        .and_then(|(i, a)| a.as_ref().err().map(|e| (i, e)))
        .map(|(i, e)| {
            format!(
                "{} says: <code>{}</code> {}",
                esc(&capitalized(&i.describe())),
                esc(e.kind().code()),
                esc(e.message())
            )
        })
        .unwrap_or_default();
    format!(
        r#"<div class="alert error" id="verdict"><strong>Not valid here</strong>{reason}</div>"#
    )
}

/// `exp`, `nbf`, `iat`, `auth_time` as UTC, and how far from the server's now.
fn times(claims: &serde_json::Map<String, Value>, now: i64) -> String {
    let rows: String = TIME_CLAIMS
        .iter()
        .filter_map(|(name, label)| {
            let at = claims.get(*name)?.as_f64()?;
            Some(format!(
                r#"<dt><code>{name}</code> {label}</dt><dd id="time-{name}">{} <span class="muted">({})</span></dd>"#,
                rfc3339(at),
                relative(at as i64 - now)
            ))
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!(
        r#"<h2>Times</h2><dl class="details">{rows}<dt>server now</dt><dd>{}</dd></dl>"#,
        rfc3339(now as f64)
    )
}

/// "in 5 min", "2 h 3 min ago", "now": seconds under a minute, else
/// rounded to the nearest minute.
fn relative(delta: i64) -> String {
    let n = delta.unsigned_abs();
    let minutes = (n + 30) / 60;
    let span = match n {
        0 => return "now".to_string(),
        1..=59 => format!("{n} s"),
        _ if minutes < 60 => format!("{minutes} min"),
        _ if minutes < 24 * 60 && minutes.is_multiple_of(60) => format!("{} h", minutes / 60),
        _ if minutes < 24 * 60 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} d {} h", minutes / 1440, minutes % 1440 / 60),
    };
    if delta > 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn issuer_row(issuer: &Issuer, answer: &Result<(), crate::Error>) -> String {
    let result = match answer {
        Ok(()) => r#"<span class="pill ok">valid</span>"#.to_string(),
        Err(e) => format!(
            r#"<span class="pill fail">{}</span> {}"#,
            esc(e.kind().code()),
            esc(e.message())
        ),
    };
    format!(
        "<tr><td>{}<br><code>{}</code></td><td>{result}</td></tr>",
        esc(&issuer.describe()),
        esc(&issuer.issuer)
    )
}

/// Every issuer's published keys, the signing one marked.
fn keys_card(state: &State) -> String {
    let now = state.clock.now();
    let clock = state.clock.state();
    let rows: String = state
        .issuers
        .all()
        .iter()
        .flat_map(|issuer| {
            let info = issuer.info(now);
            let who = issuer.describe();
            info.keys.into_iter().map(move |key| {
                let status = if key.signing {
                    r#"<span class="pill ok">signing</span>"#.to_string()
                } else {
                    match key.retire_at {
                        Some(at) => format!(
                            r#"<span class="pill">published</span> retires {}"#,
                            rfc3339(at as f64)
                        ),
                        None => r#"<span class="pill">published</span> until retired"#.to_string(),
                    }
                };
                format!(
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{status}</td></tr>",
                    esc(&who),
                    esc(&key.kid),
                    esc(&key.alg)
                )
            })
        })
        .collect();
    let shifted = match (clock.frozen, clock.offset) {
        (true, _) => " (frozen)".to_string(),
        (false, 0) => String::new(),
        (false, offset) => format!(" (shifted {offset:+} s)"),
    };
    format!(
        r#"<section class="card wide" id="keys">
<h2>This server's keys</h2>
<p class="muted">Server time {now}{shifted}. Rotate with <code>POST /admin/keys/rotate</code>; retire old keys with <code>POST /admin/keys/retire</code>.</p>
<div class="table-wrap"><table class="clients"><thead><tr><th>Issuer</th><th>Key id</th><th>Algorithm</th><th>Status</th></tr></thead><tbody>{rows}</tbody></table></div>
</section>"#,
        now = rfc3339(clock.now as f64),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn relative_times() {
        assert_eq!(super::relative(0), "now");
        assert_eq!(super::relative(59), "in 59 s");
        assert_eq!(super::relative(-300), "5 min ago");
        assert_eq!(super::relative(298), "in 5 min");
        assert_eq!(super::relative(3600 + 120), "in 1 h 2 min");
        assert_eq!(super::relative(-3601), "1 h ago");
        assert_eq!(super::relative(-2 * 86_400), "2 d 0 h ago");
    }
}
