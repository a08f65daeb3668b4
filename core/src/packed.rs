//! Claims packed for the thread that builds a binding's object from them.
//!
//! A `serde_json` map of claims is about two heap blocks per claim (a name, a
//! string value, the map's tables). A binding that validates on one thread
//! (a Node worker; Python with its interpreter lock released) and builds the
//! language's object on another thread, or under a lock, packs the claims
//! first and frees the map where it was made: the builder then reads the pack
//! and frees two blocks, whatever the number of claims. Decides nothing:
//! core validated the claims, this only carries them.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::token::Claims;

/// A claim's value that is neither an array nor an object. `S` is how its
/// string is held: borrowed (`&str`), or in a [`Packed`], where it ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar<S> {
    Null,
    Bool(bool),
    /// A `Number` that fits an `i64`.
    Int(i64),
    /// A `Number` serde_json holds as a double: written with a fraction or
    /// an exponent, or `-0`, or an integer past `u64`.
    Float(f64),
    Str(S),
}

impl<S> Scalar<S> {
    /// The same value, its string held another way.
    pub fn map_str<T>(self, f: impl FnOnce(S) -> T) -> Scalar<T> {
        match self {
            Scalar::Null => Scalar::Null,
            Scalar::Bool(b) => Scalar::Bool(b),
            Scalar::Int(i) => Scalar::Int(i),
            Scalar::Float(f) => Scalar::Float(f),
            Scalar::Str(text) => Scalar::Str(f(text)),
        }
    }
}

impl<'a> Scalar<&'a str> {
    /// `None` for an array, an object, or an integer past `i64` (which a
    /// binding converts exactly by its own route).
    pub fn of(value: &'a Value) -> Option<Scalar<&'a str>> {
        Some(match value {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Scalar::Int(i),
                None if n.is_f64() => Scalar::Float(n.as_f64()?),
                None => return None,
            },
            Value::String(text) => Scalar::Str(text),
            Value::Array(_) | Value::Object(_) => return None,
        })
    }

    pub fn to_value(self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => Value::from(i),
            Scalar::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            Scalar::Str(text) => Value::String(text.to_owned()),
        }
    }
}

/// Scalar claims in two allocations, whatever their number: their names and
/// string values back to back in one string, and per claim where its name
/// ends and its value.
#[derive(Debug)]
pub struct Packed {
    text: String,
    /// Where the name ends in `text`, and the value; a string value is
    /// `text` from the name's end to the end `Str` holds.
    claims: Vec<(usize, Scalar<usize>)>,
}

impl Packed {
    /// `None` when a value is not a [`Scalar`].
    pub fn new(claims: &Claims) -> Option<Packed> {
        let size = claims
            .iter()
            .map(|(name, value)| name.len() + value.as_str().map_or(0, str::len))
            .sum();
        let mut packed = Packed {
            text: String::with_capacity(size),
            claims: Vec::with_capacity(claims.len()),
        };
        for (name, value) in claims {
            packed.text.push_str(name);
            let end = packed.text.len();
            let value = Scalar::of(value)?.map_str(|text| {
                packed.text.push_str(text);
                packed.text.len()
            });
            packed.claims.push((end, value));
        }
        Some(packed)
    }

    pub fn len(&self) -> usize {
        self.claims.len()
    }

    pub fn is_empty(&self) -> bool {
        self.claims.is_empty()
    }

    /// The claims in order, as the map had them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Scalar<&str>)> + Clone {
        let text = self.text.as_str();
        let mut at = 0;
        self.claims.iter().map(move |&(name_end, value)| {
            let name = &text[at..name_end];
            at = name_end;
            let value = value.map_str(|end| {
                at = end;
                &text[name_end..end]
            });
            (name, value)
        })
    }

    /// The map again.
    pub fn unpack(&self) -> Claims {
        self.iter()
            .map(|(name, value)| (name.to_owned(), value.to_value()))
            .collect()
    }
}

/// The JSON text the map would give.
impl Serialize for Packed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, &value)?;
        }
        map.end()
    }
}

impl Serialize for Scalar<&str> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Scalar::Null => serializer.serialize_unit(),
            Scalar::Bool(b) => serializer.serialize_bool(b),
            Scalar::Int(i) => serializer.serialize_i64(i),
            Scalar::Float(f) => serializer.serialize_f64(f),
            Scalar::Str(text) => serializer.serialize_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Claims {
        v.as_object().cloned().unwrap()
    }

    /// A pack reads back as the very claims, in their order, value for value.
    #[test]
    fn packed_claims_read_back_as_they_were() {
        let claims = object(json!({
            "iss": "https://issuer.example", "": "empty name", "e": "",
            "exp": 1796140838, "neg": -9007199254740991i64, "min": i64::MIN, "f": -0.5, "big": 1e300,
            "ok": true, "no": false, "x": null, "uni": "ünï 😀", "ü": "name not ASCII",
        }));
        let packed = Packed::new(&claims).unwrap();
        assert_eq!(packed.len(), claims.len());
        let read: Vec<(&str, Scalar<&str>)> = packed.iter().collect();
        let expected: Vec<(&str, Scalar<&str>)> = claims
            .iter()
            .map(|(n, v)| (n.as_str(), Scalar::of(v).unwrap()))
            .collect();
        assert_eq!(read, expected);
        let json = serde_json::to_string(&claims).unwrap();
        assert_eq!(serde_json::to_string(&packed.unpack()).unwrap(), json);
        assert_eq!(serde_json::to_string(&packed).unwrap(), json);
        // Iterating a clone does not disturb the original.
        let pairs = packed.iter();
        assert_eq!(pairs.clone().count(), claims.len());
        assert_eq!(pairs.map(|(n, _)| n).last(), Some("ü"));
        let empty = Packed::new(&Claims::new()).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.unpack().len(), 0);
    }

    #[test]
    fn only_scalars_that_convert_exactly_are_packed() {
        for claims in [
            json!({"a": [1]}),
            json!({"o": {}}),
            json!({"u": u64::MAX}),
            json!({"u": i64::MAX as u64 + 1}),
        ] {
            assert!(Packed::new(&object(claims.clone())).is_none(), "{claims}");
        }
        let edge = Packed::new(&object(json!({"i": i64::MAX, "f": 1.0, "z": -0.0}))).unwrap();
        let values: Vec<_> = edge.iter().map(|(_, v)| v).collect();
        assert_eq!(values[0], Scalar::Int(i64::MAX));
        assert!(matches!(values[1], Scalar::Float(f) if f == 1.0));
        assert!(matches!(values[2], Scalar::Float(f) if f == 0.0 && f.is_sign_negative()));
    }
}
