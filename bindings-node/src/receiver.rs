//! The hottest methods (`validate`, `validateAsync`, and the route guard's
//! `checkCached` and `checkAsync`), callable without napi-rs's per-call
//! borrow registry.
//!
//! For every `&self` method, napi-rs 3's glue records the borrow in a
//! process-wide registry (a mutex and a hash map entry taken and given back,
//! in a borrow scope opened and closed around the call) so that a `&mut self`
//! method could never run on the same instance meanwhile. On a `validate()`
//! answered by the verified-token cache (about 1 µs in all), that was 14-17%
//! of the samples; with the type tag check below in its place, 7.8% fewer
//! instructions per call. None of oatk's classes has a `&mut self` method (each
//! locks what it changes; the unit test below keeps it so), so there is no
//! aliasing for the registry to catch.
//!
//! The functions here take the same arguments as their methods and run the
//! same body; `index.js` puts them on the prototypes in place of the methods
//! napi-rs generated, whose declarations stay: they give the TypeScript types
//! and the documentation, and a caller of the raw binding still has them.
//!
//! V8 refuses a method napi-rs defined on a class when `this` was not made by
//! that class ("Illegal invocation"); a plain function has no such check, so
//! [`Receiver`] makes its own before it trusts the pointer `napi_unwrap`
//! gives: the object must carry the class's type tag, which napi-rs stamps on
//! every instance it constructs (N-API 8), and which script cannot forge.

use std::ffi::CString;

use napi::bindgen_prelude::{Env, FromNapiValue, Result, This, TypeName, TypeTag};
use napi::{sys, Error, Status};
use napi_derive::napi;

use crate::args::TokenArg;
use crate::claims::ClaimsObject;
use crate::guard::{GuardDecision, RouteGuard};
use crate::tasks::PromiseValue;
use crate::toolkit::OAuthToolkit;

/// `this`, checked to be an instance of `T` (one of oatk's classes). Only
/// ever the `This` of the functions below: the pointer is good for their call.
pub struct Receiver<T: 'static>(*const T);

// By name: napi-derive reads only the first segment of `This<…>`'s type.
type ThisToolkit = Receiver<OAuthToolkit>;
type ThisGuard = Receiver<RouteGuard>;

impl<T: TypeTag + 'static> Receiver<T> {
    fn get(&self) -> &T {
        // SAFETY: `from_napi_value` checked the pointer is the `T` napi-rs
        // wrapped in `this`, which the call's own stack keeps alive while the
        // receiver (an argument of that call) lives; only `&T` is ever made.
        unsafe { &*self.0 }
    }
}

impl<T: TypeTag + TypeName + 'static> FromNapiValue for Receiver<T> {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let tag = T::type_tag();
        let mut tagged = false;
        let mut wrapped = std::ptr::null_mut();
        let ok = unsafe {
            sys::napi_check_object_type_tag(env, value, &tag, &mut tagged) == sys::Status::napi_ok
                && tagged
                && sys::napi_unwrap(env, value, &mut wrapped) == sys::Status::napi_ok
                && !wrapped.is_null()
        };
        if ok {
            return Ok(Receiver(wrapped.cast_const().cast()));
        }
        // What V8 throws for a method called on the wrong object, naming the class.
        let message = format!(
            "Illegal invocation: `this` must be an instance of {}",
            T::type_name()
        );
        let message = CString::new(message).unwrap_or_default();
        unsafe { sys::napi_throw_type_error(env, std::ptr::null(), message.as_ptr()) };
        Err(Error::new(
            Status::PendingException,
            "Illegal invocation".to_owned(),
        ))
    }
}

/// `OAuthToolkit.prototype.validate` (index.js puts it there); not part of the public API.
#[napi(
    js_name = "_validate",
    catch_unwind,
    ts_args_type = "this: OAuthToolkit, token?: string | undefined | null",
    ts_return_type = "Record<string, any>"
)]
pub fn validate(this: This<ThisToolkit>, env: Env, token: TokenArg) -> Result<ClaimsObject> {
    this.object.get().validate_here(&env, token)
}

/// `OAuthToolkit.prototype.validateAsync` (index.js puts it there); not part of the public API.
#[napi(
    js_name = "_validateAsync",
    catch_unwind,
    ts_args_type = "this: OAuthToolkit, token?: string | undefined | null",
    ts_return_type = "Promise<Record<string, any>>"
)]
pub fn validate_async(this: This<ThisToolkit>, env: Env, token: TokenArg) -> Result<PromiseValue> {
    this.object.get().validate_on_worker(&env, token)
}

/// `RouteGuard.prototype.checkCached` (index.js puts it there); not part of the public API.
#[napi(
    js_name = "_checkCached",
    catch_unwind,
    ts_args_type = "this: RouteGuard, authorization?: string | undefined | null",
    ts_return_type = "GuardDecision | null"
)]
pub fn check_cached(
    this: This<ThisGuard>,
    env: Env,
    authorization: TokenArg,
) -> Result<Option<GuardDecision>> {
    this.object.get().check_here(&env, authorization)
}

/// `RouteGuard.prototype.checkAsync` (index.js puts it there); not part of the public API.
#[napi(
    js_name = "_checkAsync",
    catch_unwind,
    ts_args_type = "this: RouteGuard, authorization?: string | undefined | null",
    ts_return_type = "Promise<GuardDecision>"
)]
pub fn check_async(
    this: This<ThisGuard>,
    env: Env,
    authorization: TokenArg,
) -> Result<PromiseValue> {
    this.object.get().check_on_worker(&env, authorization)
}

#[cfg(test)]
mod tests {
    const SOURCES: [(&str, &str); 10] = [
        ("args.rs", include_str!("args.rs")),
        ("claims.rs", include_str!("claims.rs")),
        ("cli.rs", include_str!("cli.rs")),
        ("errors.rs", include_str!("errors.rs")),
        ("guard.rs", include_str!("guard.rs")),
        ("lib.rs", include_str!("lib.rs")),
        ("receiver.rs", include_str!("receiver.rs")),
        ("server.rs", include_str!("server.rs")),
        ("tasks.rs", include_str!("tasks.rs")),
        ("toolkit.rs", include_str!("toolkit.rs")),
    ];

    /// Any way napi-rs could lend an OAuthToolkit or a RouteGuard mutably
    /// (a `&mut self` method, a `&mut` class argument or
    /// `This`, `ClassInstance` or `Reference` with their `DerefMut`, the
    /// setter of a `pub` field) would let it run while one of these
    /// functions holds `&T`: the registry they skip is what prevents that.
    /// Names are built here so that this test does not find itself.
    #[test]
    fn nothing_can_borrow_a_class_mutably() {
        let mut forbidden: Vec<String> = Vec::new();
        for class in ["OAuthToolkit", "RouteGuard", "FakeServer"] {
            for pattern in ["&mut ", "ClassInstance<", "Reference<"] {
                forbidden.push(format!("{pattern}{class}"));
            }
        }
        for (file, text) in SOURCES {
            for pattern in &forbidden {
                assert!(!text.contains(pattern.as_str()), "{file} has {pattern}");
            }
        }
        let class_files = ["toolkit.rs", "guard.rs", "server.rs"];
        for (file, text) in SOURCES
            .iter()
            .filter(|(file, _)| class_files.contains(file))
        {
            assert!(
                !text.contains(concat!("&mut", " self")),
                "{file}: a method takes &mut self"
            );
        }
        // The classes' fields: none `pub`, so napi-rs makes no setter for them.
        for (file, class) in [
            ("toolkit.rs", "OAuthToolkit"),
            ("guard.rs", "RouteGuard"),
            ("server.rs", "FakeServer"),
        ] {
            let text = SOURCES
                .iter()
                .find(|(name, _)| *name == file)
                .map(|(_, text)| *text)
                .unwrap();
            let start = text.find(&format!("pub struct {class} {{")).unwrap();
            let body = &text[start..start + text[start..].find('}').unwrap()];
            assert!(
                !body
                    .lines()
                    .skip(1)
                    .any(|line| line.trim_start().starts_with("pub ")),
                "{class} has a pub field"
            );
        }
        // Every module is scanned.
        let modules = include_str!("lib.rs")
            .lines()
            .filter(|line| line.starts_with("pub mod "))
            .count();
        assert_eq!(
            modules,
            SOURCES.len() - 1,
            "a module of lib.rs is missing from SOURCES"
        );
    }
}
