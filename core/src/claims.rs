//! Required-claims matching: the one rule the Flask, Express and Go glue all call.

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::token::Claims;

/// Check `claims` against `required`:
/// - a required scalar (string, number, bool, object) must equal the claim;
/// - a required list means the claim must contain every listed value, where
///   the claim is a list, or a string of space-separated values (as `scope`,
///   RFC 6749 3.3).
///
/// Messages are the original oatk's.
pub fn require(claims: &Claims, required: &Claims) -> Result<()> {
    for (name, want) in required {
        let have = claims.get(name).ok_or_else(|| missing(name))?;
        match want {
            Value::Array(wanted) if !wanted.iter().all(|w| contains(have, w)) => {
                return Err(Error::new(
                    ErrorKind::Claims,
                    format!("claim {name} is missing required value"),
                ));
            }
            Value::Array(_) => {}
            _ if have != want => return Err(not_equal(name)),
            _ => {}
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

pub fn missing(name: &str) -> Error {
    Error::new(
        ErrorKind::Claims,
        format!("required claim {name} is missing"),
    )
}

pub fn not_equal(name: &str) -> Error {
    Error::new(
        ErrorKind::Claims,
        format!("claim {name} doesn't equal required value"),
    )
}

/// For a binding's own predicate (a Python or JS function) that said no.
pub fn rejected(name: &str) -> Error {
    Error::new(
        ErrorKind::Claims,
        format!("claim {name} doesn't satisfy the required check"),
    )
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
        let msg = |req: Value| require(&claims, &obj(req)).unwrap_err().to_string();
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
        assert!(require(&claims, &obj(json!({"scope": ["prof"]}))).is_err());
    }
}
