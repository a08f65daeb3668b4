//! Validated claims on their way to JavaScript (`ClaimsObject`), by the
//! cheapest route that builds exactly the object napi-rs would build.

use std::cell::RefCell;
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::{Result, ToNapiValue, TypeName, ValueType};
use napi::sys;
use oatk::packed::{Packed, Scalar};
use oatk::Claims;
use serde::Serialize;
use serde_json::Value;

/// Claims on their way to JavaScript, by the cheapest route that builds
/// exactly the object N-API (napi-rs) would: a constructor per set of claim
/// names for claims whose values are all scalars (the usual access token),
/// `JSON.parse` for other plain claims, N-API property by property otherwise.
/// Claims shared with the verified-token cache are read, never copied.
pub enum ClaimsJs {
    /// Scalar values only, packed on the worker that validated them: a
    /// constructor per shape, else `JSON.parse`.
    Packed(Packed),
    /// Scalar values only: a constructor per shape, else `JSON.parse`.
    Flat(Arc<Claims>),
    /// Serialized already (on a worker thread), for `JSON.parse`.
    Json(String, Arc<Claims>),
    /// To serialize on the JavaScript thread, into a buffer kept for the next call.
    Plain(Arc<Claims>),
    /// Built through N-API, property by property.
    Map(Arc<Claims>),
}

/// Integers beyond this become a `BigInt` through N-API (napi-rs), a lossy
/// `Number` through `JSON.parse`: such claims keep the N-API path.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;
/// napi-rs refuses values nested deeper than 128; keep its answer for them.
const MAX_JSON_DEPTH: usize = 64;
/// Claims sets with more names than this are not given a constructor.
const MAX_FLAT_CLAIMS: usize = 32;

thread_local! {
    /// The JSON text of the claims the JavaScript thread converts next.
    static JSON_TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn flat(claims: &Claims) -> bool {
    claims.len() <= MAX_FLAT_CLAIMS
        && claims
            .values()
            .all(|v| !matches!(v, Value::Array(_) | Value::Object(_)))
}

impl ClaimsJs {
    /// Decide where the claims are made, which for `validateAsync` is a
    /// worker thread: what can be packed or serialized there is.
    pub fn new(claims: impl Into<Arc<Claims>>) -> ClaimsJs {
        let claims = claims.into();
        if !plain_object(&claims, MAX_JSON_DEPTH) {
            return ClaimsJs::Map(claims);
        }
        if flat(&claims) {
            // Held by nobody else (no cache): packed, and the map freed here,
            // by the thread that allocated it. Freed on the JavaScript thread,
            // each of its ~2 allocations per claim would take this worker's
            // glibc arena lock, which the worker wants for its next token.
            return match Arc::try_unwrap(claims) {
                Ok(claims) => match Packed::new(&claims) {
                    Some(packed) => ClaimsJs::Packed(packed),
                    None => ClaimsJs::Flat(Arc::new(claims)),
                },
                Err(shared) => ClaimsJs::Flat(shared),
            };
        }
        match serde_json::to_string(&*claims) {
            Ok(json) => ClaimsJs::Json(json, claims),
            Err(_) => ClaimsJs::Map(claims),
        }
    }

    /// For claims made on the JavaScript thread.
    pub fn here(claims: impl Into<Arc<Claims>>) -> ClaimsJs {
        let claims = claims.into();
        if !plain_object(&claims, MAX_JSON_DEPTH) {
            ClaimsJs::Map(claims)
        } else if flat(&claims) {
            ClaimsJs::Flat(claims)
        } else {
            ClaimsJs::Plain(claims)
        }
    }

    /// # Safety
    /// On the JavaScript thread of `env`.
    unsafe fn into_js(self, env: sys::napi_env) -> Result<sys::napi_value> {
        let claims = match self {
            ClaimsJs::Packed(packed) => {
                let pairs = packed.iter().map(|(name, value)| (name, Some(value)));
                if let Some(value) = unsafe { construct(env, packed.len(), pairs) } {
                    return Ok(value);
                }
                // No constructor (refused, or too many shapes).
                if let Some(value) = unsafe { parse_here(env, &packed) } {
                    return Ok(value);
                }
                Arc::new(packed.unpack())
            }
            ClaimsJs::Flat(claims) => match unsafe { remembered(env, &claims) } {
                Some(value) => return Ok(value),
                None => match unsafe { parse_here(env, &*claims) } {
                    Some(value) => return Ok(value),
                    None => claims,
                },
            },
            ClaimsJs::Json(json, claims) => match unsafe { json_parse(env, json.as_bytes()) } {
                Some(value) => return Ok(value),
                None => claims,
            },
            ClaimsJs::Plain(claims) => match unsafe { parse_here(env, &*claims) } {
                Some(value) => return Ok(value),
                None => claims,
            },
            ClaimsJs::Map(claims) => claims,
        };
        unsafe { serde_json::Map::to_napi_value(env, Arc::unwrap_or_clone(claims)) }
    }
}

/// Serialize into this thread's buffer, then `JSON.parse`.
unsafe fn parse_here(env: sys::napi_env, claims: &impl Serialize) -> Option<sys::napi_value> {
    JSON_TEXT.with(|buffer| {
        let mut buffer = buffer.try_borrow_mut().ok()?;
        buffer.clear();
        serde_json::to_writer(&mut *buffer, claims).ok()?;
        unsafe { json_parse(env, &buffer) }
    })
}

/// Per environment: a constructor for each set of claim names seen (a
/// token issuer's access tokens all have the same), `function (v0, v1, ...)
/// { return { "iss": v0, "sub": v1, ... } }`. An object literal is the fastest
/// object V8 makes, with the same properties in the same order as N-API
/// would set them; the values are made one N-API call each. None when the
/// engine will not compile them (`napi_run_script` fails: an embedder that
/// refuses it; Node's `--disallow-code-generation-from-strings` only stops
/// `eval` and `new Function`, not this).
struct Shapes {
    env: usize,
    /// Set when compiling failed: `JSON.parse` from then on.
    refused: bool,
    known: Vec<(Vec<String>, sys::napi_ref)>,
}

/// Constructors kept per environment; more shapes than this use `JSON.parse`.
const MAX_SHAPES: usize = 32;

thread_local! {
    static SHAPES: RefCell<Shapes> = const {
        RefCell::new(Shapes { env: 0, refused: false, known: Vec::new() })
    };
}

unsafe fn shape_constructor<'a>(
    env: sys::napi_env,
    len: usize,
    names: impl Iterator<Item = &'a str> + Clone,
) -> Option<sys::napi_value> {
    SHAPES.with(|shapes| {
        let mut shapes = shapes.try_borrow_mut().ok()?;
        if shapes.env != env as usize {
            // Another environment on this thread: the references belonged to the old one.
            *shapes = Shapes {
                env: env as usize,
                refused: false,
                known: Vec::new(),
            };
        }
        if shapes.refused {
            return None;
        }
        let mut value = ptr::null_mut();
        for (known, reference) in &shapes.known {
            if known.len() == len && known.iter().zip(names.clone()).all(|(a, b)| a == b) {
                let status = unsafe { sys::napi_get_reference_value(env, *reference, &mut value) };
                return (status == sys::Status::napi_ok && !value.is_null()).then_some(value);
            }
        }
        if shapes.known.len() >= MAX_SHAPES {
            return None;
        }
        // JSON string literals are JavaScript string literals; `__proto__`
        // (which a literal would take as the prototype) never gets here.
        let mut source = String::from("(function(");
        let params: Vec<String> = (0..len).map(|i| format!("v{i}")).collect();
        source.push_str(&params.join(","));
        source.push_str("){return{");
        for (i, name) in names.clone().enumerate() {
            let literal = serde_json::to_string(name).ok()?;
            source.push_str(&format!("{}{literal}:v{i}", if i > 0 { "," } else { "" }));
        }
        source.push_str("}})");
        let Some((value, reference)) = (unsafe { compile(env, &source) }) else {
            shapes.refused = true;
            return None;
        };
        shapes
            .known
            .push((names.map(String::from).collect(), reference));
        Some(value)
    })
}

/// Objects already made for claims the verified-token cache shares, per
/// environment: a hit returning the very same claims (the same `Arc`) gets
/// `{...kept}`, one call, instead of a new object built value by value.
/// Only scalar claims get here ([`ClaimsJs::Flat`]), so the copy is as
/// independent as a new object. Decides nothing: core validated the claims.
struct Kept {
    env: usize,
    /// `(function (o) { return { ...o } })`; `None` until made, or when refused.
    copy: Option<sys::napi_ref>,
    refused: bool,
    /// One per slot, picked by the claims' address; holding the claims keeps
    /// their address from being reused meanwhile.
    slots: Vec<Option<(Arc<Claims>, sys::napi_ref)>>,
}

/// Objects kept per environment.
const KEPT_BITS: u32 = 6;

thread_local! {
    static KEPT: RefCell<Kept> = const {
        RefCell::new(Kept { env: 0, copy: None, refused: false, slots: Vec::new() })
    };
}

/// The claims object: a copy of the one kept for these very claims, else
/// made by [`construct_map`] (and a copy of it kept when the cache shares the
/// claims); `None` to take another route.
unsafe fn remembered(env: sys::napi_env, claims: &Arc<Claims>) -> Option<sys::napi_value> {
    if Arc::strong_count(claims) == 1 {
        // Nobody else holds these claims (no cache): they are never seen again.
        return unsafe { construct_map(env, claims) };
    }
    KEPT.with(|kept| {
        let Ok(mut kept) = kept.try_borrow_mut() else {
            return unsafe { construct_map(env, claims) };
        };
        if kept.env != env as usize {
            // Another environment on this thread: the references belonged to the old one.
            *kept = Kept {
                env: env as usize,
                copy: None,
                refused: false,
                slots: (0..1 << KEPT_BITS).map(|_| None).collect(),
            };
        }
        let copy = match unsafe { kept.copy_function(env) } {
            Some(copy) => copy,
            None => return unsafe { construct_map(env, claims) },
        };
        let address = Arc::as_ptr(claims) as usize as u64;
        let slot = (address.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - KEPT_BITS)) as usize;
        if let Some((held, reference)) = &kept.slots[slot] {
            if Arc::ptr_eq(held, claims) {
                let mut object = ptr::null_mut();
                let status = unsafe { sys::napi_get_reference_value(env, *reference, &mut object) };
                if status == sys::Status::napi_ok && !object.is_null() {
                    return unsafe { call(env, copy, object) };
                }
            }
        }
        let object = unsafe { construct_map(env, claims) }?;
        let mut reference = ptr::null_mut();
        if let Some(copied) = unsafe { call(env, copy, object) } {
            if unsafe { sys::napi_create_reference(env, copied, 1, &mut reference) }
                == sys::Status::napi_ok
            {
                if let Some((_, old)) = kept.slots[slot].replace((claims.clone(), reference)) {
                    unsafe { sys::napi_delete_reference(env, old) };
                }
            }
        }
        Some(object)
    })
}

impl Kept {
    unsafe fn copy_function(&mut self, env: sys::napi_env) -> Option<sys::napi_value> {
        let mut value = ptr::null_mut();
        if let Some(reference) = self.copy {
            let status = unsafe { sys::napi_get_reference_value(env, reference, &mut value) };
            return (status == sys::Status::napi_ok && !value.is_null()).then_some(value);
        }
        if self.refused {
            return None;
        }
        let Some((value, reference)) = (unsafe { compile(env, "(function(o){return{...o}})") })
        else {
            self.refused = true;
            return None;
        };
        self.copy = Some(reference);
        Some(value)
    }
}

/// The function `source` evaluates to, and a reference that keeps it alive;
/// `None` (and no pending exception) where `napi_run_script` fails: callers
/// then build objects the plain way, each time.
unsafe fn compile(env: sys::napi_env, source: &str) -> Option<(sys::napi_value, sys::napi_ref)> {
    let (mut script, mut value, mut reference) =
        (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    let compiled = unsafe {
        sys::napi_create_string_utf8(
            env,
            source.as_ptr().cast(),
            source.len() as isize,
            &mut script,
        ) == sys::Status::napi_ok
            && sys::napi_run_script(env, script, &mut value) == sys::Status::napi_ok
            && sys::napi_create_reference(env, value, 1, &mut reference) == sys::Status::napi_ok
    };
    if compiled {
        return Some((value, reference));
    }
    let mut exception = ptr::null_mut();
    unsafe { sys::napi_get_and_clear_last_exception(env, &mut exception) };
    None
}

/// `function(argument)`; `None` (and no pending exception) when it throws.
unsafe fn call(
    env: sys::napi_env,
    function: sys::napi_value,
    argument: sys::napi_value,
) -> Option<sys::napi_value> {
    let (mut undefined, mut result) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe {
        sys::napi_get_undefined(env, &mut undefined);
        sys::napi_call_function(env, undefined, function, 1, &argument, &mut result)
    };
    if status == sys::Status::napi_ok {
        return Some(result);
    }
    let mut exception = ptr::null_mut();
    unsafe { sys::napi_get_and_clear_last_exception(env, &mut exception) };
    None
}

/// The claims object from its shape's constructor; `None` to take another route.
unsafe fn construct<'a>(
    env: sys::napi_env,
    len: usize,
    claims: impl Iterator<Item = (&'a str, Option<Scalar<&'a str>>)> + Clone,
) -> Option<sys::napi_value> {
    if len > MAX_FLAT_CLAIMS {
        return None;
    }
    let constructor = unsafe { shape_constructor(env, len, claims.clone().map(|(name, _)| name)) }?;
    let mut argv = [ptr::null_mut(); MAX_FLAT_CLAIMS];
    let mut filled = 0;
    for (slot, (_, value)) in argv.iter_mut().zip(claims) {
        if unsafe { scalar_to_js(value?, env, slot) } != sys::Status::napi_ok {
            return None;
        }
        filled += 1;
    }
    if filled != len {
        return None; // never a null argument
    }
    let (mut undefined, mut object) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe {
        sys::napi_get_undefined(env, &mut undefined);
        sys::napi_call_function(env, undefined, constructor, len, argv.as_ptr(), &mut object)
    };
    if status == sys::Status::napi_ok {
        return Some(object);
    }
    let mut exception = ptr::null_mut();
    unsafe { sys::napi_get_and_clear_last_exception(env, &mut exception) };
    None
}

/// [`construct`] from a map.
unsafe fn construct_map(env: sys::napi_env, claims: &Claims) -> Option<sys::napi_value> {
    let pairs = claims
        .iter()
        .map(|(name, value)| (name.as_str(), Scalar::of(value)));
    unsafe { construct(env, claims.len(), pairs) }
}

/// The value napi-rs makes for a scalar claim: a `Number` for safe integers
/// and doubles (BigInts never get here), a string, a boolean or `null`.
unsafe fn scalar_to_js(
    value: Scalar<&str>,
    env: sys::napi_env,
    slot: &mut sys::napi_value,
) -> sys::napi_status {
    unsafe {
        match value {
            Scalar::Null => sys::napi_get_null(env, slot),
            Scalar::Bool(b) => sys::napi_get_boolean(env, b, slot),
            Scalar::Int(i) => sys::napi_create_int64(env, i, slot),
            Scalar::Float(f) => sys::napi_create_double(env, f, slot),
            Scalar::Str(text) if text.is_ascii() => {
                sys::napi_create_string_latin1(env, text.as_ptr().cast(), text.len() as isize, slot)
            }
            Scalar::Str(text) => {
                sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, slot)
            }
        }
    }
}

/// True when `JSON.parse` of the claims' JSON gives the same object as
/// napi-rs's conversion: no integer a `BigInt` would carry, no `__proto__`
/// name (set through N-API it would change the object's prototype; `JSON.parse`
/// makes it an own property), no deep nesting.
fn plain_object(map: &Claims, depth: usize) -> bool {
    depth > 0
        && map
            .iter()
            .all(|(name, value)| name != "__proto__" && plain_value(value, depth - 1))
}

fn plain_value(value: &Value, depth: usize) -> bool {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => true,
        Value::Number(n) => match n.as_i64() {
            Some(i) => (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i),
            None => n.is_f64(),
        },
        Value::Array(items) => depth > 0 && items.iter().all(|v| plain_value(v, depth - 1)),
        Value::Object(map) => plain_object(map, depth),
    }
}

thread_local! {
    /// `JSON.parse` of the environment on this thread (each JavaScript
    /// environment, the main one or a worker's, has its own thread).
    static JSON_PARSE: RefCell<Option<(usize, sys::napi_ref)>> = const { RefCell::new(None) };
}

/// `JSON.parse(json)`; `None` when that fails (the caller then builds the
/// object through N-API). Tokens are ASCII, so the text is usually copied
/// into a one-byte string as it is.
unsafe fn json_parse(env: sys::napi_env, json: &[u8]) -> Option<sys::napi_value> {
    let parse = unsafe { json_parse_function(env) }?;
    let mut text = ptr::null_mut();
    let status = if json.is_ascii() {
        unsafe {
            sys::napi_create_string_latin1(
                env,
                json.as_ptr().cast(),
                json.len() as isize,
                &mut text,
            )
        }
    } else {
        unsafe {
            sys::napi_create_string_utf8(env, json.as_ptr().cast(), json.len() as isize, &mut text)
        }
    };
    if status != sys::Status::napi_ok {
        return None;
    }
    // Only a replaced JSON.parse can throw here; `call` clears what it threw.
    unsafe { call(env, parse, text) }
}

unsafe fn json_parse_function(env: sys::napi_env) -> Option<sys::napi_value> {
    JSON_PARSE.with(|cached| {
        let mut cached = cached.borrow_mut();
        let mut value = ptr::null_mut();
        if let Some((owner, reference)) = *cached {
            if owner == env as usize
                && unsafe { sys::napi_get_reference_value(env, reference, &mut value) }
                    == sys::Status::napi_ok
                && !value.is_null()
            {
                return Some(value);
            }
        }
        let (mut global, mut json) = (ptr::null_mut(), ptr::null_mut());
        let mut reference = ptr::null_mut();
        let ok = unsafe {
            sys::napi_get_global(env, &mut global) == sys::Status::napi_ok
                && sys::napi_get_named_property(env, global, c"JSON".as_ptr(), &mut json)
                    == sys::Status::napi_ok
                && sys::napi_get_named_property(env, json, c"parse".as_ptr(), &mut value)
                    == sys::Status::napi_ok
                && sys::napi_create_reference(env, value, 1, &mut reference) == sys::Status::napi_ok
        };
        if !ok {
            return None;
        }
        // The reference lives as long as its environment (one per thread).
        *cached = Some((env as usize, reference));
        Some(value)
    })
}

/// Validated claims, as the plain object JavaScript receives.
pub struct ClaimsObject(pub ClaimsJs);

impl ClaimsObject {
    /// Claims made on a worker thread (serialized there).
    pub fn new(claims: impl Into<Arc<Claims>>) -> ClaimsObject {
        ClaimsObject(ClaimsJs::new(claims))
    }

    /// Claims made on the JavaScript thread.
    pub fn here(claims: impl Into<Arc<Claims>>) -> ClaimsObject {
        ClaimsObject(ClaimsJs::here(claims))
    }
}

impl TypeName for ClaimsObject {
    fn type_name() -> &'static str {
        "Record<string, any>"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for ClaimsObject {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        unsafe { val.0.into_js(env) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Claims {
        v.as_object().cloned().unwrap()
    }

    /// JSON.parse is used only where it builds what N-API would.
    #[test]
    fn plain_claims_take_the_json_path_and_others_do_not() {
        let plain = object(
            json!({"sub": "x", "n": 9007199254740991i64, "f": 1.5, "a": [1, {"b": null}], "t": true}),
        );
        assert!(plain_object(&plain, MAX_JSON_DEPTH));
        for claims in [
            json!({"big": 9007199254740992i64}), // a BigInt through N-API
            json!({"neg": -9007199254740992i64}),
            json!({"u": u64::MAX}),
            json!({"__proto__": {"admin": true}}), // sets the prototype through N-API
            json!({"a": [{"__proto__": 1}]}),
        ] {
            assert!(
                !plain_object(&object(claims.clone()), MAX_JSON_DEPTH),
                "{claims}"
            );
        }
        let mut deep = json!(1);
        for _ in 0..MAX_JSON_DEPTH {
            deep = json!([deep]);
        }
        assert!(!plain_object(&object(json!({ "d": deep })), MAX_JSON_DEPTH));
        assert!(matches!(ClaimsJs::new(plain.clone()), ClaimsJs::Json(..)));
        assert!(matches!(ClaimsJs::here(plain), ClaimsJs::Plain(..)));
        let scalars = object(json!({"iss": "i", "exp": 1, "ok": true, "x": null, "f": 0.5}));
        assert!(matches!(
            ClaimsJs::new(scalars.clone()),
            ClaimsJs::Packed(..)
        ));
        assert!(matches!(
            ClaimsJs::here(scalars.clone()),
            ClaimsJs::Flat(..)
        ));
        // Shared with the verified-token cache: kept whole, for its kept object.
        let shared = Arc::new(scalars);
        assert!(matches!(ClaimsJs::new(shared.clone()), ClaimsJs::Flat(..)));
        assert!(matches!(
            ClaimsJs::new(object(json!({"u": u64::MAX}))),
            ClaimsJs::Map(..)
        ));
    }
}
