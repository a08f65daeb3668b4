//! Core errors to JavaScript `OatkError`s, and the panic boundary.
//!
//! `err.code` is `ERR_OATK_` followed by the core kind's stable code, for
//! every kind in `ErrorKind::ALL`; a caught panic is `ERR_OATK_PANIC`. The
//! message is core's.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::{
    Env, FnArgs, Function, FunctionRef, JsObjectValue, Result, Status, Unknown,
};
use napi::JsValue;
use napi_derive::napi;
use oatk::ErrorKind;

/// A panic caught at the boundary (a bug in oatk, never the caller's fault).
pub const PANIC_CODE: &str = "ERR_OATK_PANIC";

/// The JavaScript `err.code` for a core error kind.
pub fn error_code(kind: ErrorKind) -> String {
    format!("ERR_OATK_{}", kind.code())
}

/// Every code an `OatkError` can carry: one per core kind, in core's order,
/// then `ERR_OATK_PANIC`. index.js exports it as `ERROR_CODES`.
#[napi(catch_unwind)]
pub fn error_codes() -> Vec<String> {
    ErrorKind::ALL
        .into_iter()
        .map(error_code)
        .chain([PANIC_CODE.to_string()])
        .collect()
}

/// What a call failed with, before it becomes a JavaScript `OatkError`.
#[derive(Debug)]
pub struct Failure {
    /// `None` for a caught panic.
    kind: Option<ErrorKind>,
    message: String,
}

impl From<oatk::Error> for Failure {
    fn from(e: oatk::Error) -> Failure {
        Failure {
            kind: Some(e.kind()),
            message: e.message().to_string(),
        }
    }
}

impl Failure {
    pub fn invalid_argument(message: impl Into<String>) -> Failure {
        Failure {
            kind: Some(ErrorKind::InvalidArgument),
            message: message.into(),
        }
    }

    pub fn code(&self) -> String {
        self.kind.map_or_else(|| PANIC_CODE.to_string(), error_code)
    }
}

pub type Outcome<T> = std::result::Result<T, Failure>;

/// Run an export body: a panic becomes a `Failure` with `ERR_OATK_PANIC` and
/// core's panic text.
pub fn boundary<T>(f: impl FnOnce() -> Outcome<T>) -> Outcome<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(Failure {
            kind: None,
            message: oatk::error::panic_message(payload.as_ref()),
        })
    })
}

/// Run an export body on the JavaScript thread and convert its failure.
pub fn run<T>(env: &Env, f: impl FnOnce() -> Outcome<T>) -> Result<T> {
    boundary(f).map_err(|failure| js_error(env, failure))
}

/// The `OatkError` class registered by index.js, kept per environment (main
/// thread and each worker have their own).
struct ErrorClass(FunctionRef<FnArgs<(String, String)>, Unknown<'static>>);

/// Register the JavaScript `OatkError` class that failures are thrown as.
/// Called once by index.js; not part of the public API.
#[napi(
    js_name = "_setErrorClass",
    catch_unwind,
    ts_args_type = "errorClass: new (message: string, code: string) => Error"
)]
pub fn set_error_class(
    env: Env,
    error_class: Function<'_, FnArgs<(String, String)>, Unknown<'static>>,
) -> Result<()> {
    let reference = error_class.create_ref()?;
    env.set_instance_data(ErrorClass(reference), (), |_| {})
}

/// Turn a failure into the JavaScript value napi throws or rejects with:
/// `new OatkError(message, code)`, or a plain `Error` with the same `code`
/// when the class was never registered (the raw binding used directly).
pub fn js_error(env: &Env, failure: Failure) -> napi::Error {
    match error_value(env, &failure) {
        Ok(value) => napi::Error::from(value),
        Err(_) => napi::Error::new(Status::GenericFailure, failure.message),
    }
}

fn error_value<'e>(env: &'e Env, failure: &Failure) -> Result<Unknown<'e>> {
    if let Some(class) = env.get_instance_data::<ErrorClass>()? {
        let constructor = class.0.borrow_back(env)?;
        return constructor.new_instance(FnArgs::from((failure.message.clone(), failure.code())));
    }
    let mut error = env.create_error(napi::Error::new(
        Status::GenericFailure,
        failure.message.clone(),
    ))?;
    error.set_named_property("code", failure.code())?;
    Ok(error.to_unknown())
}

/// Panics inside the boundary, to prove a panic becomes an `OatkError` with
/// code `ERR_OATK_PANIC` instead of ending the process. Tests only.
#[napi(js_name = "_panicForTest", catch_unwind)]
pub fn panic_for_test(env: Env) -> Result<()> {
    #[allow(clippy::panic)]
    run(&env, || -> Outcome<()> {
        panic!("deliberate panic for the test suite")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_core_codes_prefixed_then_panic() {
        let codes = error_codes();
        assert_eq!(codes.len(), ErrorKind::ALL.len() + 1);
        for (kind, code) in ErrorKind::ALL.into_iter().zip(&codes) {
            assert_eq!(*code, format!("ERR_OATK_{}", kind.code()));
            assert_eq!(Failure::from(oatk::Error::new(kind, "x")).code(), *code);
        }
        assert_eq!(codes.last().map(String::as_str), Some(PANIC_CODE));
    }

    #[test]
    fn panics_become_failures_with_core_text() {
        let failure = boundary(|| -> Outcome<()> { panic!("boom") }).unwrap_err();
        assert_eq!(failure.code(), PANIC_CODE);
        assert_eq!(failure.message, oatk::error::panic_message(&"boom"));
    }
}
