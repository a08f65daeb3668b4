//! Work that JavaScript awaits, run off the JavaScript thread inside the
//! panic boundary: the promise resolves to the result or rejects with an
//! `OatkError`.
//!
//! Two executors. [`Work`] and [`Chain`] are napi's `AsyncTask` on the libuv
//! thread pool, for the occasional call that may block on the network
//! (provider discovery, the fake server). [`spawn`] is for the hot path,
//! `validateAsync`: a signature check is pure CPU, and the libuv round trip
//! (a work object, a mutex shared with four pool threads, a condition
//! variable signal and a completion per call) cost the JavaScript thread
//! about as much as the check itself costs a worker. [`spawn`] instead queues
//! to one worker per core, wakes a worker only when one is asleep, and hands
//! results back in batches: one threadsafe-function wake-up settles every
//! promise that finished meanwhile. Claims cross as JSON text and become an
//! object with the engine's `JSON.parse` ([`ClaimsJs`]), several times
//! cheaper than building the object property by property through N-API.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};

use napi::bindgen_prelude::{
    AsyncTask, Env, FromNapiValue, ObjectRef, Result, This, ToNapiValue, TypeName, ValueType,
};
use napi::{check_status, sys, Task};
use oatk::Claims;
use serde_json::Value;

use crate::errors::{boundary, js_error, Outcome};

type Job<T> = Box<dyn FnOnce() -> Outcome<T> + Send>;

fn compute<T>(job: &mut Option<Job<T>>) -> Result<Outcome<T>> {
    let job = job
        .take()
        .ok_or_else(|| napi::Error::from_reason("oatk: a task ran twice"))?;
    Ok(boundary(job))
}

/// A promise of `T`, computed by `job` off the JavaScript thread.
pub struct Work<T> {
    job: Option<Job<T>>,
}

impl<T: ToNapiValue + TypeName + Send + 'static> Work<T> {
    pub fn spawn(job: impl FnOnce() -> Outcome<T> + Send + 'static) -> AsyncTask<Work<T>> {
        AsyncTask::new(Work {
            job: Some(Box::new(job)),
        })
    }
}

impl<T: ToNapiValue + TypeName + Send + 'static> Task for Work<T> {
    type Output = Outcome<T>;
    type JsValue = T;

    fn compute(&mut self) -> Result<Self::Output> {
        compute(&mut self.job)
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<T> {
        output.map_err(|failure| js_error(&env, failure))
    }
}

/// A promise of the object the method was called on (`await
/// toolkit.usingProvider(url)` is the toolkit), once `job` has changed it.
pub struct Chain {
    job: Option<Job<()>>,
    this: Option<ObjectRef<false>>,
}

impl Chain {
    pub fn spawn(
        this: This<'_>,
        job: impl FnOnce() -> Outcome<()> + Send + 'static,
    ) -> Result<AsyncTask<Chain>> {
        Ok(AsyncTask::new(Chain {
            job: Some(Box::new(job)),
            this: Some(this.object.create_ref::<false>()?),
        }))
    }
}

impl Task for Chain {
    type Output = Outcome<()>;
    type JsValue = ThisObject;

    fn compute(&mut self) -> Result<Self::Output> {
        compute(&mut self.job)
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ThisObject> {
        output.map_err(|failure| js_error(&env, failure))?;
        let this = self
            .this
            .take()
            .ok_or_else(|| napi::Error::from_reason("oatk: a task resolved twice"))?;
        Ok(ThisObject(this))
    }

    fn finally(mut self, env: Env) -> Result<()> {
        if let Some(this) = self.this.take() {
            this.unref(&env)?;
        }
        Ok(())
    }
}

/// The object a [`Chain`] resolves to.
pub struct ThisObject(ObjectRef<false>);

impl TypeName for ThisObject {
    fn type_name() -> &'static str {
        "this"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for ThisObject {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // Consumes the reference (deletes it after reading the value).
        unsafe { ObjectRef::to_napi_value(env, val.0) }
    }
}

// ---------------------------------------------------------------------------
// Claims to JavaScript

/// Claims on their way to JavaScript, by the cheapest route that builds
/// exactly the object N-API (napi-rs) would: a constructor per set of claim
/// names for claims whose values are all scalars (the usual access token),
/// `JSON.parse` for other plain claims, N-API property by property otherwise.
/// The claims may be shared with the verified-token cache: read, never copied.
pub enum ClaimsJs {
    /// Scalar values only: [`shape_constructor`], else `JSON.parse`.
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
    /// worker thread: what can be serialized there is.
    pub fn new(claims: impl Into<Arc<Claims>>) -> ClaimsJs {
        let claims = claims.into();
        if !plain_object(&claims, MAX_JSON_DEPTH) {
            return ClaimsJs::Map(claims);
        }
        if flat(&claims) {
            return ClaimsJs::Flat(claims);
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
            ClaimsJs::Flat(claims) => match unsafe { remembered(env, &claims) } {
                Some(value) => return Ok(value),
                None => match unsafe { parse_here(env, &claims) } {
                    Some(value) => return Ok(value),
                    None => claims,
                },
            },
            ClaimsJs::Json(json, claims) => match unsafe { json_parse(env, json.as_bytes()) } {
                Some(value) => return Ok(value),
                None => claims,
            },
            ClaimsJs::Plain(claims) => match unsafe { parse_here(env, &claims) } {
                Some(value) => return Ok(value),
                None => claims,
            },
            ClaimsJs::Map(claims) => claims,
        };
        unsafe { serde_json::Map::to_napi_value(env, Arc::unwrap_or_clone(claims)) }
    }
}

/// Serialize into this thread's buffer, then `JSON.parse`.
unsafe fn parse_here(env: sys::napi_env, claims: &Claims) -> Option<sys::napi_value> {
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
/// engine refuses to compile code (`--disallow-code-generation-from-strings`).
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

unsafe fn shape_constructor(env: sys::napi_env, claims: &Claims) -> Option<sys::napi_value> {
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
        for (names, reference) in &shapes.known {
            if names.len() == claims.len() && names.iter().zip(claims.keys()).all(|(a, b)| a == b) {
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
        let params: Vec<String> = (0..claims.len()).map(|i| format!("v{i}")).collect();
        source.push_str(&params.join(","));
        source.push_str("){return{");
        for (i, name) in claims.keys().enumerate() {
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
            .push((claims.keys().cloned().collect(), reference));
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
/// made by [`construct`] (and a copy of it kept when the cache shares the
/// claims); `None` to take another route.
unsafe fn remembered(env: sys::napi_env, claims: &Arc<Claims>) -> Option<sys::napi_value> {
    if Arc::strong_count(claims) == 1 {
        // Nobody else holds these claims (no cache): they are never seen again.
        return unsafe { construct(env, claims) };
    }
    KEPT.with(|kept| {
        let Ok(mut kept) = kept.try_borrow_mut() else {
            return unsafe { construct(env, claims) };
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
            None => return unsafe { construct(env, claims) },
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
        let object = unsafe { construct(env, claims) }?;
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
/// `None` (and no pending exception) where the embedder refuses code from
/// strings (`--disallow-code-generation-from-strings`): callers then build
/// objects the plain way, each time.
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
unsafe fn construct(env: sys::napi_env, claims: &Claims) -> Option<sys::napi_value> {
    let constructor = unsafe { shape_constructor(env, claims) }?;
    let mut argv = [ptr::null_mut(); MAX_FLAT_CLAIMS];
    for (slot, value) in argv.iter_mut().zip(claims.values()) {
        let status = unsafe {
            match value {
                Value::Null => sys::napi_get_null(env, slot),
                Value::Bool(b) => sys::napi_get_boolean(env, *b, slot),
                // Safe integers and doubles: the Number napi-rs makes (BigInts never get here).
                Value::Number(n) => match n.as_i64() {
                    Some(i) => sys::napi_create_int64(env, i, slot),
                    None => sys::napi_create_double(env, n.as_f64()?, slot),
                },
                Value::String(text) if text.is_ascii() => sys::napi_create_string_latin1(
                    env,
                    text.as_ptr().cast(),
                    text.len() as isize,
                    slot,
                ),
                Value::String(text) => sys::napi_create_string_utf8(
                    env,
                    text.as_ptr().cast(),
                    text.len() as isize,
                    slot,
                ),
                Value::Array(_) | Value::Object(_) => return None,
            }
        };
        if status != sys::Status::napi_ok {
            return None;
        }
    }
    let (mut undefined, mut object) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe {
        sys::napi_get_undefined(env, &mut undefined);
        sys::napi_call_function(
            env,
            undefined,
            constructor,
            claims.len(),
            argv.as_ptr(),
            &mut object,
        )
    };
    if status == sys::Status::napi_ok {
        return Some(object);
    }
    let mut exception = ptr::null_mut();
    unsafe { sys::napi_get_and_clear_last_exception(env, &mut exception) };
    None
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

// ---------------------------------------------------------------------------
// Token arguments

/// A token (or `Authorization` header) argument: `string | undefined | null`.
/// Read with one N-API call into a buffer this thread keeps, where napi-rs's
/// `Option<String>` measures the string, allocates a zeroed buffer and copies
/// (two calls). Anything but a string or nothing is converted by napi-rs, so
/// the error for a wrong type is its own.
pub struct TokenArg(Option<Text>);

enum Text {
    /// The thread's buffer, handed back when the argument is dropped.
    Pooled(String),
    Owned(String),
}

/// Longer text takes napi-rs's path (a token is refused past 64 KiB anyway).
const TOKEN_BUFFER: usize = 16 * 1024;

thread_local! {
    static TOKEN_TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl TokenArg {
    pub fn as_deref(&self) -> Option<&str> {
        match &self.0 {
            None => None,
            Some(Text::Pooled(text) | Text::Owned(text)) => Some(text),
        }
    }

    /// The text, owned (for a worker thread).
    pub fn into_string(mut self) -> Option<String> {
        match self.0.take()? {
            Text::Owned(text) => Some(text),
            Text::Pooled(text) => {
                let owned = text.clone();
                give_back(text.into_bytes());
                Some(owned)
            }
        }
    }
}

fn give_back(mut bytes: Vec<u8>) {
    bytes.clear();
    TOKEN_TEXT.with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            if slot.capacity() < bytes.capacity() {
                *slot = bytes;
            }
        }
    });
}

impl Drop for TokenArg {
    fn drop(&mut self) {
        if let Some(Text::Pooled(text)) = self.0.take() {
            give_back(text.into_bytes());
        }
    }
}

impl FromNapiValue for TokenArg {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut kind = 0;
        check_status!(
            unsafe { sys::napi_typeof(env, value, &mut kind) },
            "Failed to convert napi value into rust type `Option<T>`"
        )?;
        match kind {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => {
                return Ok(TokenArg(None))
            }
            sys::ValueType::napi_string => {}
            _ => {
                return Ok(TokenArg(Some(Text::Owned(unsafe {
                    String::from_napi_value(env, value)?
                }))))
            }
        }
        let mut buffer = TOKEN_TEXT
            .with(|slot| slot.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)))
            .unwrap_or_default();
        buffer.clear();
        buffer.reserve(TOKEN_BUFFER);
        let mut written = 0;
        let status = unsafe {
            sys::napi_get_value_string_utf8(
                env,
                value,
                buffer.as_mut_ptr().cast(),
                buffer.capacity(),
                &mut written,
            )
        };
        // Filled up to the last 4 bytes: maybe cut short (whole characters only).
        if status != sys::Status::napi_ok || written + 4 >= buffer.capacity() {
            give_back(buffer);
            return Ok(TokenArg(Some(Text::Owned(unsafe {
                String::from_napi_value(env, value)?
            }))));
        }
        // SAFETY: napi wrote `written` bytes (and a NUL after them).
        unsafe { buffer.set_len(written) };
        match String::from_utf8(buffer) {
            Ok(text) => Ok(TokenArg(Some(Text::Pooled(text)))),
            Err(e) => {
                give_back(e.into_bytes());
                let text = unsafe { String::from_napi_value(env, value)? };
                Ok(TokenArg(Some(Text::Owned(text))))
            }
        }
    }
}

impl TypeName for TokenArg {
    fn type_name() -> &'static str {
        "string | undefined | null"
    }
    fn value_type() -> ValueType {
        ValueType::String
    }
}

// ---------------------------------------------------------------------------
// The worker pool

type PoolJob = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<PoolState>,
    wake: Condvar,
    /// Workers that started; with none, `submit` runs each job itself.
    threads: AtomicUsize,
    /// Jobs waiting for a worker (`jobs.len()`, readable without the lock).
    queued: AtomicUsize,
}

#[derive(Default)]
struct PoolState {
    jobs: VecDeque<PoolJob>,
    /// Workers waiting on `wake`, and how many of them were already signalled,
    /// so a burst of calls wakes each sleeping worker once, not once per call.
    sleeping: usize,
    signalled: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One worker per core, started on first use; they live as long as the process.
fn pool() -> &'static Pool {
    static POOL: OnceLock<&'static Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            state: Mutex::new(PoolState::default()),
            wake: Condvar::new(),
            threads: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
        }));
        let wanted = std::thread::available_parallelism().map_or(2, usize::from);
        for i in 0..wanted {
            let started = std::thread::Builder::new()
                .name(format!("oatk-worker-{i}"))
                .spawn(move || worker(pool));
            if started.is_ok() {
                pool.threads.fetch_add(1, Ordering::Relaxed);
            }
        }
        pool
    })
}

fn worker(pool: &'static Pool) {
    loop {
        let job = {
            let mut state = lock(&pool.state);
            loop {
                if let Some(job) = state.jobs.pop_front() {
                    pool.queued.store(state.jobs.len(), Ordering::Relaxed);
                    break job;
                }
                state.sleeping += 1;
                state = pool
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                state.sleeping -= 1;
                state.signalled = state.signalled.saturating_sub(1);
            }
        };
        // Jobs catch their own panics (`boundary`); this one is for the pool.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

fn submit(job: PoolJob) {
    let pool = pool();
    if pool.threads.load(Ordering::Relaxed) == 0 {
        let _ = catch_unwind(AssertUnwindSafe(job));
        return;
    }
    let mut state = lock(&pool.state);
    state.jobs.push_back(job);
    pool.queued.store(state.jobs.len(), Ordering::Relaxed);
    let wake = state.sleeping > state.signalled;
    if wake {
        state.signalled += 1;
    }
    drop(state);
    if wake {
        pool.wake.notify_one();
    }
}

// ---------------------------------------------------------------------------
// Settling promises on their JavaScript thread

/// Turns a worker's result into the value a promise settles with; runs on the
/// JavaScript thread. `Err` rejects.
type Settle = Box<dyn FnOnce(sys::napi_env) -> Result<sys::napi_value> + Send>;

/// A promise's resolver, handed to a worker and back: only ever used on the
/// JavaScript thread that made it.
struct Deferred(sys::napi_deferred);
// SAFETY: the pointer is only carried by other threads, never dereferenced there.
unsafe impl Send for Deferred {}

/// Per JavaScript environment: the finished jobs waiting to settle, and the
/// threadsafe function that wakes the environment's thread to settle them.
struct Settler {
    state: Mutex<SettleState>,
    /// Held (shared) by a worker while it calls the threadsafe function; the
    /// environment's cleanup hook takes it exclusively to close: after that,
    /// node may free the threadsafe function, and nothing calls it again.
    gate: RwLock<bool>,
    tsfn: AtomicPtr<sys::napi_threadsafe_function__>,
    /// Jobs submitted and not yet finished (workers decrement, under `state`).
    running: AtomicUsize,
    /// Promises not yet settled; the threadsafe function keeps the event loop
    /// alive only while there are some. Touched on the JavaScript thread only.
    in_flight: AtomicUsize,
}

#[derive(Default)]
struct SettleState {
    done: Vec<(Deferred, Settle)>,
    /// A wake-up is on its way: later results just join `done`.
    scheduled: bool,
}

/// While jobs are queued behind the running ones (a backlog), results are
/// handed to the JavaScript thread in batches of this many: one wake-up of the
/// event loop settles them all. Without a backlog, or when this environment
/// has no other job running, each result goes at once. A result held back
/// waits at most for this environment's next job to finish, which may be
/// queued behind other environments' jobs (the queue is shared).
const SETTLE_BATCH: usize = 16;

impl Settler {
    fn closed(&self) -> bool {
        *self.gate.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// From a worker: queue the result, and wake the JavaScript thread when
    /// a batch is ready and no wake-up is already on its way.
    fn finish(&self, deferred: Deferred, settle: Settle) {
        let wake = {
            let mut state = lock(&self.state);
            // Counted under the lock, with the push: of two jobs finishing
            // together, the one that sees no other running pushes last, so
            // its wake-up (or one already on its way) settles both. Counted
            // before the lock, the other could finish and be settled between
            // the count and the push, and this result would wait for a
            // wake-up that no later job of this environment brings.
            let others_running = self.running.fetch_sub(1, Ordering::AcqRel) > 1;
            state.done.push((deferred, settle));
            let backlog = pool().queued.load(Ordering::Relaxed) > 0;
            let ready = !others_running || !backlog || state.done.len() >= SETTLE_BATCH;
            let wake = ready && !state.scheduled;
            state.scheduled |= wake;
            wake
        };
        if !wake {
            return;
        }
        let closed = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        if !*closed {
            // Non-blocking on an unbounded queue: cannot block, fails only while closing.
            let status = unsafe {
                sys::napi_call_threadsafe_function(
                    self.tsfn.load(Ordering::Acquire),
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
            if status != sys::Status::napi_ok {
                // No wake-up is on its way after all: let the next result try.
                lock(&self.state).scheduled = false;
            }
        }
    }
}

thread_local! {
    /// The settler of the environment on this thread.
    static SETTLER: RefCell<Option<(usize, Arc<Settler>)>> = const { RefCell::new(None) };
}

fn settler(env: sys::napi_env) -> Result<Arc<Settler>> {
    SETTLER.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some((owner, settler)) = slot.as_ref() {
            if *owner == env as usize && !settler.closed() {
                return Ok(settler.clone());
            }
        }
        let settler = unsafe { new_settler(env) }?;
        *slot = Some((env as usize, settler.clone()));
        Ok(settler)
    })
}

unsafe fn new_settler(env: sys::napi_env) -> Result<Arc<Settler>> {
    let settler = Arc::new(Settler {
        state: Mutex::new(SettleState::default()),
        gate: RwLock::new(false),
        tsfn: AtomicPtr::new(ptr::null_mut()),
        running: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
    });
    let mut name = ptr::null_mut();
    let label = "oatk.validateAsync";
    check_status!(
        unsafe {
            sys::napi_create_string_utf8(
                env,
                label.as_ptr().cast(),
                label.len() as isize,
                &mut name,
            )
        },
        "oatk: cannot name the settling function"
    )?;
    // The threadsafe function's context owns one reference, released by its finalizer.
    let context = Arc::into_raw(settler.clone()) as *mut c_void;
    let mut tsfn = ptr::null_mut();
    let status = unsafe {
        sys::napi_create_threadsafe_function(
            env,
            ptr::null_mut(),
            ptr::null_mut(),
            name,
            0,
            1,
            context,
            Some(finalize_settler),
            context,
            Some(settle_finished),
            &mut tsfn,
        )
    };
    if status != sys::Status::napi_ok {
        drop(unsafe { Arc::from_raw(context as *const Settler) });
        return Err(napi::Error::from_reason(
            "oatk: cannot create the settling function",
        ));
    }
    settler.tsfn.store(tsfn, Ordering::Release);
    // Idle until a promise is pending.
    unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
    // Registered after the threadsafe function, so it runs before node's own
    // teardown of it (cleanup hooks run last-in, first-out).
    let hook = Arc::into_raw(settler.clone()) as *mut c_void;
    if unsafe { sys::napi_add_env_cleanup_hook(env, Some(close_settler), hook) }
        != sys::Status::napi_ok
    {
        drop(unsafe { Arc::from_raw(hook as *const Settler) });
    }
    Ok(settler)
}

/// Environment teardown: stop calling the threadsafe function; node frees it.
unsafe extern "C" fn close_settler(arg: *mut c_void) {
    let settler = unsafe { Arc::from_raw(arg as *const Settler) };
    *settler.gate.write().unwrap_or_else(PoisonError::into_inner) = true;
    lock(&settler.state).done.clear();
}

unsafe extern "C" fn finalize_settler(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    let settler = unsafe { Arc::from_raw(data as *const Settler) };
    *settler.gate.write().unwrap_or_else(PoisonError::into_inner) = true;
}

/// On the JavaScript thread: settle every promise whose job has finished.
unsafe extern "C" fn settle_finished(
    env: sys::napi_env,
    _callback: sys::napi_value,
    context: *mut c_void,
    _data: *mut c_void,
) {
    if env.is_null() || context.is_null() {
        return; // the threadsafe function is being finalized
    }
    // SAFETY: the context is the Settler the threadsafe function owns a reference to.
    let settler = unsafe { &*(context as *const Settler) };
    let done = {
        let mut state = lock(&settler.state);
        state.scheduled = false;
        std::mem::take(&mut state.done)
    };
    let settled = done.len();
    for (deferred, settle) in done {
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
            settle_one(env, deferred, settle)
        }));
    }
    if settled > 0 && settler.in_flight.fetch_sub(settled, Ordering::Relaxed) == settled {
        let tsfn = settler.tsfn.load(Ordering::Acquire);
        unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
    }
}

unsafe fn settle_one(env: sys::napi_env, deferred: Deferred, settle: Settle) {
    let mut scope = ptr::null_mut();
    unsafe { sys::napi_open_handle_scope(env, &mut scope) };
    match settle(env) {
        Ok(value) => unsafe {
            sys::napi_resolve_deferred(env, deferred.0, value);
        },
        Err(error) => unsafe {
            // Hands back the OatkError js_error made (a retained value).
            if let Ok(rejection) = ToNapiValue::to_napi_value(env, error) {
                sys::napi_reject_deferred(env, deferred.0, rejection);
            }
        },
    }
    unsafe { sys::napi_close_handle_scope(env, scope) };
}

/// A promise (its `napi_value`) returned to JavaScript as it is.
pub struct PromiseValue(sys::napi_value);

impl TypeName for PromiseValue {
    fn type_name() -> &'static str {
        "Promise"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for PromiseValue {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

/// A promise of `T`, computed by `job` on a worker (inside the panic
/// boundary) and settled on this environment's thread: resolved with `T`
/// converted, or rejected with an `OatkError`.
pub fn spawn<T: ToNapiValue + Send + 'static>(
    env: &Env,
    job: impl FnOnce() -> Outcome<T> + Send + 'static,
) -> Result<PromiseValue> {
    let raw = env.raw();
    let settler = settler(raw)?;
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    check_status!(
        unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) },
        "oatk: cannot create a promise"
    )?;
    if settler.in_flight.fetch_add(1, Ordering::Relaxed) == 0 {
        let tsfn = settler.tsfn.load(Ordering::Acquire);
        unsafe { sys::napi_ref_threadsafe_function(raw, tsfn) };
    }
    let deferred = Deferred(deferred);
    settler.running.fetch_add(1, Ordering::AcqRel);
    submit(Box::new(move || {
        let outcome = boundary(job);
        let settle: Settle = Box::new(move |env| match outcome {
            Ok(value) => unsafe { T::to_napi_value(env, value) },
            Err(failure) => Err(js_error(&Env::from_raw(env), failure)),
        });
        settler.finish(deferred, settle);
    }));
    Ok(PromiseValue(promise))
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
        assert!(matches!(ClaimsJs::new(scalars.clone()), ClaimsJs::Flat(..)));
        assert!(matches!(ClaimsJs::here(scalars), ClaimsJs::Flat(..)));
        assert!(matches!(
            ClaimsJs::new(object(json!({"u": u64::MAX}))),
            ClaimsJs::Map(..)
        ));
    }
}
