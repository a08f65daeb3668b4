//! Protecting a route: `oatk::guard` for the Flask decorators. The decision
//! (401/403, bodies, the RFC 6750 challenge, required claims, what a
//! predicate's outcome means) is core's; `decorators.py` only reads the
//! request, calls the predicates and builds the response.

use oatk::guard::{self, Decision, Predicate};
use oatk::Claims;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::claims::ClaimsPy;
use crate::convert::{dict_to_map, map_to_py};
use crate::errors::{core, IntoPy};
use crate::toolkit::Toolkit;

/// Required claims (values and lists), converted once when a route is decorated.
#[pyclass(frozen, module = "oatk._oatk")]
pub struct Requirement {
    claims: Claims,
}

impl Requirement {
    pub fn claims(&self) -> &Claims {
        &self.claims
    }
}

#[pymethods]
impl Requirement {
    #[new]
    #[pyo3(signature = (claims=None))]
    fn new(claims: Option<&Bound<'_, PyDict>>) -> PyResult<Requirement> {
        let claims = match claims {
            Some(dict) => dict_to_map(dict)?,
            None => Claims::new(),
        };
        Ok(Requirement { claims })
    }

    fn __len__(&self) -> usize {
        self.claims.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Requirement({})",
            serde_json::Value::Object(self.claims.clone())
        )
    }
}

/// A refusal decided by core: the HTTP status, the plain-text body, the
/// `WWW-Authenticate` value (RFC 6750 3) and the error code, if any; for a
/// 403, the claim that is not met and how (`oatk::claims::Unmet`'s name).
#[pyclass(frozen, get_all, module = "oatk._oatk")]
pub struct Denial {
    status: u16,
    body: String,
    www_authenticate: Option<String>,
    code: Option<&'static str>,
    claim: Option<String>,
    unmet: Option<&'static str>,
}

impl From<guard::Denial> for Denial {
    fn from(d: guard::Denial) -> Denial {
        let unmet = d.refusal.as_ref().map(|r| r.unmet.name());
        Denial {
            status: d.status,
            body: d.body,
            www_authenticate: d.www_authenticate,
            code: d.kind.map(|k| k.code()),
            claim: d.refusal.map(|r| r.claim),
            unmet,
        }
    }
}

#[pymethods]
impl Denial {
    /// Python's own repr of each field, e.g. `Denial(status=403, body='…',
    /// code='CLAIMS', claim='role', unmet='not_equal')`.
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let repr = |s: Option<&str>| -> PyResult<String> {
            match s {
                Some(s) => Ok(PyString::new(py, s).repr()?.to_string()),
                None => Ok("None".to_string()),
            }
        };
        let mut out = format!(
            "Denial(status={}, body={}, code={}",
            self.status,
            repr(Some(&self.body))?,
            repr(self.code)?
        );
        if let (Some(claim), Some(unmet)) = (&self.claim, self.unmet) {
            out += &format!(
                ", claim={}, unmet={}",
                repr(Some(claim))?,
                repr(Some(unmet))?
            );
        }
        Ok(out + ")")
    }
}

/// `oatk::guard::check` on an `Authorization` header value: the claims (a
/// dict) when allowed, a `Denial` when not. Setup failures raise. An answer
/// that needs no signature check (`check_cached`) is given holding the
/// interpreter; only a signature check lets other threads run meanwhile.
#[pyfunction]
pub fn check<'py>(
    py: Python<'py>,
    toolkit: &Bound<'py, Toolkit>,
    authorization: Option<&str>,
    required: &Bound<'py, Requirement>,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(answer) = check_cached(py, toolkit, authorization, required)? {
        return Ok(answer);
    }
    let (toolkit, required) = (toolkit.get(), required.get());
    let answer = py
        .detach(|| {
            core(|| guard::check(&toolkit.read(), authorization, &required.claims))
                .map(Answer::from)
        })
        .py_err(py)?;
    answer.into_python(py, toolkit)
}

/// `oatk::guard::check_cached`: `check`'s answer when it needs no signature
/// check and no I/O (a header refused as it stands, a token the cache
/// verified), else `None`. Never blocks, so coroutines call it on the loop.
#[pyfunction]
pub fn check_cached<'py>(
    py: Python<'py>,
    toolkit: &Bound<'py, Toolkit>,
    authorization: Option<&str>,
    required: &Bound<'py, Requirement>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let (toolkit, required) = (toolkit.get(), required.get());
    let decision =
        core(|| guard::check_cached(&toolkit.read(), authorization, &required.claims).transpose())
            .py_err(py)?;
    decision.map(|d| decision_to_py(py, d)).transpose()
}

fn decision_to_py(py: Python<'_>, decision: Decision) -> PyResult<Bound<'_, PyAny>> {
    match decision {
        Decision::Allow(claims) => Ok(map_to_py(py, &claims)?.into_any()),
        Decision::Deny(denial) => Ok(Bound::new(py, Denial::from(denial))?.into_any()),
    }
}

/// A decision made off the GIL (released, or on a worker): the claims of an
/// allowed request packed there (`crate::claims`).
pub enum Answer {
    Allow(ClaimsPy),
    Deny(guard::Denial),
}

impl From<Decision> for Answer {
    fn from(decision: Decision) -> Answer {
        match decision {
            Decision::Allow(claims) => Answer::Allow(ClaimsPy::owned(claims)),
            Decision::Deny(denial) => Answer::Deny(denial),
        }
    }
}

impl Answer {
    /// The claims dict, or a `Denial`.
    pub fn into_python<'py>(
        self,
        py: Python<'py>,
        toolkit: &Toolkit,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Answer::Allow(claims) => Ok(toolkit.dicts.dict(py, claims)?.into_any()),
            Answer::Deny(denial) => Ok(Bound::new(py, Denial::from(denial))?.into_any()),
        }
    }
}

/// `oatk::guard::predicate`: the refusal, if any, for what a Python
/// predicate made of claim `name`: "absent", "accepted", "refused" or "raised".
#[pyfunction]
pub fn predicate_denial(name: &str, outcome: &str) -> PyResult<Option<Denial>> {
    let outcome = Predicate::from_name(outcome)
        .ok_or_else(|| PyValueError::new_err(format!("unknown predicate outcome {outcome:?}")))?;
    Ok(guard::predicate(name, outcome).map(Denial::from))
}
