//! JSON values (claims, headers, token responses) to and from Python objects.

use oatk::packed::Scalar;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => map_to_py(py, map)?.into_any(),
        _ => match Scalar::of(value) {
            Some(scalar) => return scalar_to_py(py, scalar),
            // An integer past i64: a Python int, exact (a double would round it).
            None => match value.as_u64() {
                Some(u) => u.into_pyobject(py)?.into_any(),
                None => value
                    .as_f64()
                    .unwrap_or(f64::NAN)
                    .into_pyobject(py)?
                    .into_any(),
            },
        },
    })
}

pub fn map_to_py<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in map {
        dict.set_item(name(py, key), to_py(py, value)?)?;
    }
    Ok(dict)
}

/// A scalar JSON value as the Python object `json.loads` makes of it.
pub fn scalar_to_py<'py>(py: Python<'py>, value: Scalar<&str>) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Scalar::Null => py.None().into_bound(py),
        Scalar::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        Scalar::Int(i) => i.into_pyobject(py)?.into_any(),
        Scalar::Float(f) => f.into_pyobject(py)?.into_any(),
        Scalar::Str(text) => PyString::new(py, text).into_any(),
    })
}

/// A member name as a Python str. The names nearly every token carries (the
/// registered claims of RFC 7519 4.1, and OAuth's and OpenID Connect's
/// usual ones) are made once per interpreter and shared: no allocation, and
/// the dict reuses the hash the str keeps instead of hashing it again. A
/// fixed list, so names from tokens never grow it.
pub fn name<'py>(py: Python<'py>, name: &str) -> Bound<'py, PyString> {
    macro_rules! shared {
        ($($known:literal)*) => {
            match name {
                $($known => intern!(py, $known).clone(),)*
                _ => PyString::new(py, name),
            }
        };
    }
    shared!(
        "iss" "sub" "aud" "exp" "nbf" "iat" "jti"
        "scope" "client_id" "azp" "typ" "auth_time" "nonce" "sid" "acr" "amr"
        "name" "email" "email_verified" "preferred_username" "roles" "groups"
    )
}

/// A Python dict of claims (str keys, JSON-compatible values) as a JSON object.
pub fn dict_to_map(dict: &Bound<'_, PyDict>) -> PyResult<Map<String, Value>> {
    dict_to_map_at(dict, 0)
}

/// [`dict_to_map`], with `None` as no claims.
pub fn optional_map(dict: Option<&Bound<'_, PyDict>>) -> PyResult<Map<String, Value>> {
    dict.map(dict_to_map)
        .transpose()
        .map(Option::unwrap_or_default)
}

fn dict_to_map_at(dict: &Bound<'_, PyDict>, depth: usize) -> PyResult<Map<String, Value>> {
    let mut map = Map::with_capacity(dict.len());
    for (key, value) in dict.iter() {
        let Ok(key) = key.cast::<PyString>() else {
            return Err(PyTypeError::new_err(format!(
                "claim names must be str, not {}",
                key.get_type().name()?
            )));
        };
        let key = key.to_cow()?.into_owned();
        let value = from_py_at(&value, depth + 1).map_err(|e| in_claim(e, &key, value.py()))?;
        map.insert(key, value);
    }
    Ok(map)
}

fn in_claim(e: PyErr, key: &str, py: Python<'_>) -> PyErr {
    if e.is_instance_of::<PyTypeError>(py) {
        PyTypeError::new_err(format!("claim {key}: {}", e.value(py)))
    } else {
        e
    }
}

fn from_py_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err("claims are nested too deeply"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: True is an int in Python.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyValueError::new_err(
            "integer claim values must fit in 64 bits",
        ));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("NaN and infinity are not valid JSON numbers"));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        return Ok(Value::Object(dict_to_map_at(d, depth)?));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list
            .iter()
            .map(|item| from_py_at(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple
            .iter()
            .map(|item| from_py_at(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    Err(PyTypeError::new_err(format!(
        "a value of type {} is not JSON serializable",
        obj.get_type().name()?
    )))
}
