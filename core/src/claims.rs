//! Required-claims matching: the one rule the Flask, Express and Go glue all call.

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::token::Claims;

/// Why a claim does not meet a route's requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmet {
    /// The token has no such claim.
    Missing,
    /// A required scalar differs from the claim.
    NotEqual,
    /// A required list names a value the claim does not hold.
    MissingValue,
    /// A binding's own predicate (a Python or JS function) said no, or raised.
    Rejected,
}

impl Unmet {
    /// The name bindings hand to their glue: `missing`, `not_equal`, `missing_value`, `rejected`.
    pub fn name(self) -> &'static str {
        match self {
            Unmet::Missing => "missing",
            Unmet::NotEqual => "not_equal",
            Unmet::MissingValue => "missing_value",
            Unmet::Rejected => "rejected",
        }
    }
}

/// A claim that does not meet the requirement, and why: what a 403 is
/// made of. Framework glue that must keep an older wording (FastAPI's
/// 0.2.1 `detail`) words it from this; the decision does not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub claim: String,
    pub unmet: Unmet,
}

impl Refusal {
    /// The original oatk's message for it.
    pub fn message(&self) -> String {
        let name = &self.claim;
        match self.unmet {
            Unmet::Missing => format!("required claim {name} is missing"),
            Unmet::NotEqual => format!("claim {name} doesn't equal required value"),
            Unmet::MissingValue => format!("claim {name} is missing required value"),
            Unmet::Rejected => format!("claim {name} doesn't satisfy the required check"),
        }
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Error {
        Error::new(ErrorKind::Claims, refusal.message())
    }
}

/// Check `claims` against `required`:
/// - a required scalar (string, number, bool, object) must equal the claim;
/// - a required list means the claim must contain every listed value, where
///   the claim is a list, or a string of space-separated values (as `scope`,
///   RFC 6749 3.3).
///
/// Messages are the original oatk's.
pub fn require(claims: &Claims, required: &Claims) -> std::result::Result<(), Refusal> {
    for (name, want) in required {
        let have = claims
            .get(name)
            .ok_or_else(|| refusal(name, Unmet::Missing))?;
        let met = match want {
            Value::Array(wanted) => wanted.iter().all(|w| contains(have, w)),
            _ => have == want,
        };
        if !met {
            let unmet = if want.is_array() {
                Unmet::MissingValue
            } else {
                Unmet::NotEqual
            };
            return Err(refusal(name, unmet));
        }
    }
    Ok(())
}

fn contains(have: &Value, wanted: &Value) -> bool {
    match (have, wanted) {
        (Value::Array(items), _) => items.contains(wanted),
        (Value::String(text), Value::String(w)) => text.split(' ').any(|part| part == w),
        _ => false,
    }
}

/// The refusal of claim `name` for `unmet`.
pub fn refusal(name: &str, unmet: Unmet) -> Refusal {
    Refusal {
        claim: name.to_string(),
        unmet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Claims {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn messages_match_the_original() {
        let claims =
            obj(json!({"username": "notxtof", "groups": ["a", "b"], "scope": "openid profile"}));
        let msg = |req: Value| require(&claims, &obj(req)).unwrap_err().message();
        let unmet = |req: Value| require(&claims, &obj(req)).unwrap_err().unmet;
        assert_eq!(
            msg(json!({"username": "xtof"})),
            "claim username doesn't equal required value"
        );
        assert_eq!(
            msg(json!({"email": "x"})),
            "required claim email is missing"
        );
        assert_eq!(
            msg(json!({"groups": ["a", "c"]})),
            "claim groups is missing required value"
        );
        assert!(require(
            &claims,
            &obj(json!({"groups": ["b", "a"], "scope": ["profile"]}))
        )
        .is_ok());
        assert_eq!(unmet(json!({"scope": ["prof"]})), Unmet::MissingValue);
        assert_eq!(unmet(json!({"email": "x"})), Unmet::Missing);
        assert_eq!(unmet(json!({"username": "xtof"})), Unmet::NotEqual);
    }
}
