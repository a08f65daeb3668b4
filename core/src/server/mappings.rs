//! Per-request token shaping, as navikt's request mappings: a client, a
//! scope or a login mapped to extra claims (`[[claim_mappings]]` in the
//! config, `POST /admin/claim-mappings`), whose string values may name
//! `${client_id}`, `${sub}`, `${username}` and `${scope}`.

use std::sync::RwLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::MAX_CLAIMS;
use crate::error::{Error, Result};

/// The most mappings kept.
pub const MAX_MAPPINGS: usize = 100;
/// What a template may name.
pub const PLACEHOLDERS: [&str; 4] = ["client_id", "sub", "username", "scope"];
/// Claims the server keeps to itself: its own bookkeeping and the token's life.
pub const PROTECTED: [&str; 7] = ["iss", "exp", "iat", "nbf", "jti", "auth_time", "typ"];

/// Extra claims for the tokens that match every matcher given (none given:
/// every token). Access tokens get them, replacing the standard claims of
/// the same name (`aud`, `sub`, `scope`...) and winning over the user's own
/// extra claims; id_tokens get those they do not already have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMapping {
    /// The client the tokens are for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Scopes the grant must include (space separated: all of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The user who signed in (never matches a client acting for itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The claims; string values anywhere in them may hold templates.
    pub claims: Map<String, Value>,
}

/// What the templates and matchers of a token see.
pub struct Subject<'a> {
    pub client_id: &'a str,
    pub scope: &'a str,
    pub username: Option<&'a str>,
    pub sub: &'a str,
}

impl ClaimMapping {
    /// Read a mapping from JSON (`{"client_id": "svc", "claims": {...}}`) and check it.
    pub fn from_json(json: &str) -> Result<ClaimMapping> {
        let mapping: ClaimMapping = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("invalid claim mapping: {e}")))?;
        mapping.check()?;
        Ok(mapping)
    }

    /// Claims to add, of a size a token carries, with known templates only.
    pub fn check(&self) -> Result<()> {
        if self.claims.is_empty() {
            return Err(Error::invalid_argument(
                "a claim mapping needs claims to add",
            ));
        }
        if let Some(name) = self.claims.keys().find(|n| PROTECTED.contains(&n.as_str())) {
            return Err(Error::invalid_argument(format!(
                "a claim mapping cannot set {name}: the server sets {}",
                PROTECTED.join(", ")
            )));
        }
        let size = Value::Object(self.claims.clone()).to_string().len()
            + [&self.client_id, &self.scope, &self.username]
                .iter()
                .map(|m| m.as_ref().map_or(0, String::len))
                .sum::<usize>();
        if size > MAX_CLAIMS {
            return Err(Error::invalid_argument(format!(
                "the claim mapping takes {size} bytes as JSON; at most {MAX_CLAIMS} are kept"
            )));
        }
        for (name, value) in &self.claims {
            check_templates(value).map_err(|e| e.context(format!("claim {name}")))?;
        }
        Ok(())
    }

    fn matches(&self, subject: &Subject<'_>) -> bool {
        self.client_id
            .as_deref()
            .is_none_or(|c| c == subject.client_id)
            && self
                .username
                .as_deref()
                .is_none_or(|u| Some(u) == subject.username)
            && self.scope.as_deref().is_none_or(|wanted| {
                wanted
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .all(|s| super::issue::has_scope(subject.scope, s))
            })
    }
}

/// Every `${name}` in the strings of `value` must be a known placeholder.
fn check_templates(value: &Value) -> Result<()> {
    match value {
        Value::String(text) => {
            let mut rest = text.as_str();
            while let Some(start) = rest.find("${") {
                let after = &rest[start + 2..];
                let end = after.find('}').ok_or_else(|| {
                    Error::invalid_argument(format!("unterminated ${{ in {text:?}"))
                })?;
                let name = &after[..end];
                if !PLACEHOLDERS.contains(&name) {
                    return Err(Error::invalid_argument(format!(
                        "unknown template ${{{name}}} in {text:?}: use ${{{}}}",
                        PLACEHOLDERS.join("}, ${")
                    )));
                }
                rest = &after[end + 1..];
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(check_templates),
        Value::Object(map) => map.values().try_for_each(check_templates),
        _ => Ok(()),
    }
}

/// `value` with its templates filled in, in one pass (a value put in is
/// never read again as a template); `None` when one names what this token
/// does not have (`${username}` for a client acting for itself).
fn fill(value: &Value, subject: &Subject<'_>) -> Option<Value> {
    Some(match value {
        Value::String(text) => {
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                let Some(end) = after.find('}') else {
                    break;
                };
                let replacement = match &after[..end] {
                    "client_id" => Some(subject.client_id),
                    "sub" => Some(subject.sub),
                    "scope" => Some(subject.scope),
                    "username" => Some(subject.username?),
                    _ => None,
                };
                match replacement {
                    Some(r) => out.push_str(r),
                    None => out.push_str(&rest[start..start + 2 + end + 1]),
                }
                rest = &after[end + 1..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| fill(v, subject))
                .collect::<Option<_>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| fill(v, subject).map(|v| (k.clone(), v)))
                .collect::<Option<_>>()?,
        ),
        other => other.clone(),
    })
}

/// The mappings in force, the config's first.
#[derive(Debug, Default)]
pub struct ClaimMappings {
    list: RwLock<Vec<ClaimMapping>>,
}

impl ClaimMappings {
    pub fn new(initial: Vec<ClaimMapping>) -> ClaimMappings {
        ClaimMappings {
            list: RwLock::new(initial),
        }
    }

    pub fn add(&self, mapping: ClaimMapping) -> Result<()> {
        mapping.check()?;
        let mut list = self.list.write().unwrap_or_else(|p| p.into_inner());
        if list.len() >= MAX_MAPPINGS {
            return Err(Error::invalid_argument(format!(
                "at most {MAX_MAPPINGS} claim mappings are kept: clear them first (DELETE /admin/claim-mappings)"
            )));
        }
        list.push(mapping);
        Ok(())
    }

    pub fn list(&self) -> Vec<ClaimMapping> {
        self.list.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn clear(&self) {
        self.list.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The claims every matching mapping adds, a later mapping winning over
    /// an earlier one.
    pub fn claims_for(&self, subject: &Subject<'_>) -> Map<String, Value> {
        let list = self.list.read().unwrap_or_else(|p| p.into_inner());
        let mut out = Map::new();
        for mapping in list.iter().filter(|m| m.matches(subject)) {
            for (name, value) in &mapping.claims {
                if let Some(value) = fill(value, subject) {
                    out.insert(name.clone(), value);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn subject<'a>(username: Option<&'a str>) -> Subject<'a> {
        Subject {
            client_id: "svc",
            scope: "openid api",
            username,
            sub: "s-1",
        }
    }

    #[test]
    fn templates_fill_once_and_skip_what_is_missing() {
        let mappings = ClaimMappings::default();
        mappings
            .add(
                ClaimMapping::from_json(
                    r#"{"claims": {"who": "${username}@${client_id}", "all": ["${sub}", {"s": "${scope}"}],
                        "n": 7, "lit": "$ {x} $}"}}"#,
                )
                .unwrap(),
            )
            .unwrap();
        let user = mappings.claims_for(&subject(Some("${sub}")));
        assert_eq!(
            user["who"], "${sub}@svc",
            "a value put in is not read again"
        );
        assert_eq!(user["all"], json!(["s-1", {"s": "openid api"}]));
        assert_eq!(
            (user["n"].clone(), user["lit"].clone()),
            (json!(7), json!("$ {x} $}"))
        );
        let client = mappings.claims_for(&subject(None));
        assert!(!client.contains_key("who"), "no username to fill in");
        assert!(client.contains_key("all"));
    }

    #[test]
    fn matchers_all_apply_and_later_wins() {
        let mappings = ClaimMappings::new(vec![
            ClaimMapping::from_json(r#"{"claims": {"tier": "any"}}"#).unwrap(),
            ClaimMapping::from_json(
                r#"{"client_id": "svc", "scope": "api", "claims": {"tier": "api"}}"#,
            )
            .unwrap(),
            ClaimMapping::from_json(r#"{"username": "xtof", "claims": {"admin": true}}"#).unwrap(),
            ClaimMapping::from_json(r#"{"scope": "api other", "claims": {"both": true}}"#).unwrap(),
        ]);
        let claims = mappings.claims_for(&subject(Some("xtof")));
        assert_eq!(
            claims,
            *json!({"tier": "api", "admin": true}).as_object().unwrap()
        );
        let claims = mappings.claims_for(&subject(None));
        assert_eq!(claims, *json!({"tier": "api"}).as_object().unwrap());
    }

    #[test]
    fn bad_mappings_are_refused_with_the_reason() {
        for (json, reason) in [
            (
                r#"{"claims": {"a": "${nope}"}}"#,
                "unknown template ${nope}",
            ),
            (r#"{"claims": {"a": ["${sub"]}}"#, "unterminated"),
            (r#"{"claims": {"exp": 1}}"#, "cannot set exp"),
            (r#"{"claims": {}}"#, "needs claims"),
            (
                r#"{"client": "x", "claims": {"a": 1}}"#,
                "unknown field `client`",
            ),
        ] {
            let err = ClaimMapping::from_json(json).unwrap_err();
            assert!(err.message().contains(reason), "{json}: {err}");
        }
        let big = format!(r#"{{"claims": {{"a": "{}"}}}}"#, "x".repeat(MAX_CLAIMS));
        assert!(ClaimMapping::from_json(&big).is_err());
    }
}
