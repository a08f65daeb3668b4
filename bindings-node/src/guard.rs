//! Route protection: core's `guard::check` and `guard::predicate` as plain
//! decision objects, which express.js (or any framework) sends as they are.

use std::sync::Arc;

use napi::bindgen_prelude::{Env, JsObjectValue, Object, Result, ToNapiValue};
use napi::sys;
use napi_derive::napi;
use oatk::guard::{Decision, Denial, Predicate};
use oatk::Claims;
use serde_json::{Map, Value};

use crate::args::TokenArg;
use crate::claims::{ClaimsJs, ClaimsObject};
use crate::errors::{error_code, run, Failure};
use crate::tasks::{spawn, PromiseValue};
use crate::toolkit::{read, OAuthToolkit, Shared};

/// The outcome of `RouteGuard.check`: allowed with the validated claims, or
/// denied with the HTTP status, body and `WWW-Authenticate` value to send.
#[napi(object)]
pub struct GuardDecision {
    /// True when the request may go on; `claims` then holds the token's claims.
    pub allow: bool,
    pub claims: Option<Map<String, Value>>,
    /// 401 (no or invalid token) or 403 (claims not satisfied) when denied.
    pub status: Option<u16>,
    /// The response body when denied, e.g. `Missing Authorization`.
    pub body: Option<String>,
    /// The `WWW-Authenticate` header value (RFC 6750 3), when there is one.
    pub www_authenticate: Option<String>,
    /// The `ERR_OATK_*` code of the reason, when there is one.
    pub code: Option<String>,
    /// For a 403: the required claim the token does not satisfy.
    pub claim: Option<String>,
    /// For a 403: how the claim falls short of the requirement (core's
    /// `claims::Unmet`), the same names as Python's `Denial.unmet`.
    #[napi(ts_type = "'missing' | 'not_equal' | 'missing_value' | 'rejected'")]
    pub unmet: Option<String>,
}

impl From<Decision> for GuardDecision {
    fn from(decision: Decision) -> GuardDecision {
        match decision {
            Decision::Allow(claims) => GuardDecision::allowed(Some(claims)),
            Decision::Deny(denial) => denial.into(),
        }
    }
}

impl GuardDecision {
    fn allowed(claims: Option<Claims>) -> GuardDecision {
        GuardDecision {
            allow: true,
            claims,
            status: None,
            body: None,
            www_authenticate: None,
            code: None,
            claim: None,
            unmet: None,
        }
    }

    /// Core's predicate decision as a whole decision object.
    fn of_predicate(claim: &str, outcome: Predicate) -> GuardDecision {
        oatk::guard::predicate(claim, outcome)
            .map_or_else(|| GuardDecision::allowed(None), GuardDecision::from)
    }
}

impl From<Denial> for GuardDecision {
    fn from(denial: Denial) -> GuardDecision {
        let (claim, unmet) = denial
            .refusal
            .map(|r| (r.claim, r.unmet.name().to_string()))
            .unzip();
        GuardDecision {
            allow: false,
            claims: None,
            status: Some(denial.status),
            body: Some(denial.body),
            www_authenticate: denial.www_authenticate,
            code: denial.kind.map(error_code),
            claim,
            unmet,
        }
    }
}

/// Decides on requests for one route: the core's `guard::check`, the same
/// rule as the Flask decorator and the Go middleware. Framework-neutral: pass
/// the `Authorization` header value, send the denial it returns.
#[napi]
pub struct RouteGuard {
    toolkit: Shared,
    required: Arc<Claims>,
}

#[napi]
impl RouteGuard {
    /// Decide on a request from its `Authorization` header value. Throws an
    /// `OatkError` only for setup failures (no key configured, provider down).
    #[napi(catch_unwind)]
    pub fn check(&self, env: Env, authorization: Option<String>) -> Result<GuardDecision> {
        run(&env, || {
            let toolkit = read(&self.toolkit);
            oatk::guard::check(&toolkit, authorization.as_deref(), &self.required)
                .map(GuardDecision::from)
                .map_err(Failure::from)
        })
    }

    /// `check`'s decision when it needs no signature check: no token, a
    /// header refused as it stands, or a token the `withCache` cache verified
    /// (its `exp`, `aud` and `iss` checked now); `null` otherwise (then call
    /// `checkAsync`). Never blocks. The Express middleware tries it first.
    #[napi(
        catch_unwind,
        ts_args_type = "authorization?: string | undefined | null",
        ts_return_type = "GuardDecision | null"
    )]
    pub fn check_cached(&self, env: Env, authorization: TokenArg) -> Result<Option<GuardDecision>> {
        self.check_here(&env, authorization)
    }

    /// `check` with the token verified on oatk's worker threads (one per
    /// core), so the event loop stays free during the signature check.
    /// Resolves to the same decision; rejects with an `OatkError` only for
    /// setup failures. The Express middleware uses it.
    #[napi(
        catch_unwind,
        ts_args_type = "authorization?: string | undefined | null",
        ts_return_type = "Promise<GuardDecision>"
    )]
    pub fn check_async(&self, env: Env, authorization: TokenArg) -> Result<PromiseValue> {
        self.check_on_worker(&env, authorization)
    }
}

/// The bodies of `checkCached` and `checkAsync`, for their methods and for
/// `receiver.rs`'s functions, which `index.js` puts in their place.
impl RouteGuard {
    pub(crate) fn check_here(
        &self,
        env: &Env,
        authorization: TokenArg,
    ) -> Result<Option<GuardDecision>> {
        let authorization = authorization.into_string();
        run(env, || {
            let toolkit = read(&self.toolkit);
            oatk::guard::check_cached(&toolkit, authorization.as_deref(), &self.required)
                .transpose()
                .map(|decision| decision.map(GuardDecision::from))
                .map_err(Failure::from)
        })
    }

    pub(crate) fn check_on_worker(
        &self,
        env: &Env,
        authorization: TokenArg,
    ) -> Result<PromiseValue> {
        let authorization = authorization.into_string();
        let toolkit = self.toolkit.clone();
        let required = self.required.clone();
        spawn(env, move || {
            let toolkit = read(&toolkit);
            match oatk::guard::check(&toolkit, authorization.as_deref(), &required) {
                Ok(Decision::Allow(claims)) => Ok(AsyncDecision::Allow(ClaimsJs::new(claims))),
                Ok(Decision::Deny(denial)) => Ok(AsyncDecision::Deny(denial.into())),
                Err(e) => Err(Failure::from(e)),
            }
        })
    }
}

/// What `checkAsync` resolves to: a `GuardDecision`, its claims made with
/// the fast conversion of `ClaimsJs`.
enum AsyncDecision {
    Allow(ClaimsJs),
    Deny(GuardDecision),
}

impl ToNapiValue for AsyncDecision {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        match val {
            AsyncDecision::Deny(decision) => unsafe { GuardDecision::to_napi_value(env, decision) },
            AsyncDecision::Allow(claims) => {
                let env = Env::from_raw(env);
                let mut decision = Object::new(&env)?;
                decision.set_named_property("allow", true)?;
                decision.set_named_property("claims", ClaimsObject(claims))?;
                unsafe { Object::to_napi_value(env.raw(), decision) }
            }
        }
    }
}

#[napi]
impl OAuthToolkit {
    /// A route guard for these required claims (see `RouteGuard`); the
    /// Express middleware is built on it.
    #[napi(catch_unwind)]
    pub fn guard(&self, required: Option<Map<String, Value>>) -> RouteGuard {
        RouteGuard {
            toolkit: self.inner.clone(),
            required: Arc::new(required.unwrap_or_default()),
        }
    }
}

/// The decision for a predicate (a function given as a required claim's
/// value), from what it made of the token: `absent` (the claim is missing,
/// the predicate was not called), `accepted` (truthy), `refused` (falsy) or
/// `raised` (it threw, or its promise rejected). `null` when the request may
/// go on; otherwise the 403 to send. The rule is core's, the same in Flask,
/// FastAPI and Express.
#[napi(
    catch_unwind,
    ts_args_type = "claim: string, outcome: 'absent' | 'accepted' | 'refused' | 'raised'"
)]
pub fn predicate_denial(env: Env, claim: String, outcome: String) -> Result<Option<GuardDecision>> {
    run(&env, || {
        let outcome = Predicate::from_name(&outcome).ok_or_else(|| {
            Failure::invalid_argument(format!("unknown predicate outcome {outcome:?}"))
        })?;
        Ok(oatk::guard::predicate(&claim, outcome).map(GuardDecision::from))
    })
}

/// The 403 denial for a claim that a predicate needs but the token lacks:
/// `predicateDenial(name, 'absent')`.
#[napi(catch_unwind)]
pub fn deny_missing_claim(name: String) -> GuardDecision {
    GuardDecision::of_predicate(&name, Predicate::Absent)
}

/// The 403 denial for a claim that a predicate refused:
/// `predicateDenial(name, 'refused')`.
#[napi(catch_unwind)]
pub fn deny_rejected_claim(name: String) -> GuardDecision {
    GuardDecision::of_predicate(&name, Predicate::Refused)
}
