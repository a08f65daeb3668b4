//! `Toolkit`: a thread-safe handle on one `oatk::Toolkit`, plus the pieces of
//! `oatk::guard` the Flask decorators use (`Requirement`, `Denial`).

use std::path::PathBuf;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use oatk::guard::{self, Decision};
use oatk::{Algorithm, Claims};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{dict_to_map, map_to_py};
use crate::errors::{core, Failure, IntoPy};

/// One `oatk::Toolkit`. Setters take the write lock; minting and validation
/// take the read lock with the interpreter detached, so many threads verify
/// tokens at once.
#[pyclass(frozen, module = "oatk._oatk")]
pub struct Toolkit {
    inner: RwLock<oatk::Toolkit>,
}

impl Toolkit {
    pub fn read(&self) -> RwLockReadGuard<'_, oatk::Toolkit> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, oatk::Toolkit> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Apply a fallible setter.
    fn set(&self, f: impl FnOnce(&mut oatk::Toolkit) -> oatk::Result<()>) -> Result<(), Failure> {
        core(|| f(&mut self.write()))
    }
}

// `from_file` / `from_clipboard` are the original's names.
#[allow(clippy::wrong_self_convention)]
#[pymethods]
impl Toolkit {
    #[new]
    fn new() -> Toolkit {
        Toolkit {
            inner: RwLock::new(oatk::Toolkit::new()),
        }
    }

    fn with_private(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let key = py
            .detach(|| core(|| oatk::key::load_private(&path)))
            .py_err_file(py, &path)?;
        self.write().with_private_key(key);
        Ok(())
    }

    fn with_private_pem(&self, py: Python<'_>, pem: &str) -> PyResult<()> {
        self.set(|t| t.with_private_pem(pem).map(drop)).py_err(py)
    }

    fn with_public(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.set(|t| t.with_public(&path).map(drop))
            .py_err_file(py, &path)
    }

    fn with_public_pem(&self, py: Python<'_>, pem: &str) -> PyResult<()> {
        self.set(|t| t.with_public_pem(pem).map(drop)).py_err(py)
    }

    /// A JWKS file path or the JSON text itself.
    fn with_jwks(&self, py: Python<'_>, path_or_json: &str) -> PyResult<()> {
        let set = py.detach(|| core(|| oatk::JwkSet::load(path_or_json)));
        let is_path = !path_or_json.trim_start().starts_with('{');
        let set = if is_path {
            set.py_err_file(py, std::path::Path::new(path_or_json))?
        } else {
            set.py_err(py)?
        };
        self.write().with_jwk_set(set);
        Ok(())
    }

    /// OIDC discovery and the provider's JWKS, fetched without holding the interpreter.
    fn using_provider(&self, py: Python<'_>, url: &str) -> PyResult<()> {
        let provider = py
            .detach(|| core(|| oatk::provider::Provider::discover(url)))
            .py_err(py)?;
        self.write().with_provider(provider);
        Ok(())
    }

    fn with_client_id(&self, client_id: &str) {
        self.write().with_client_id(client_id);
    }

    fn with_issuer(&self, issuer: &str) {
        self.write().with_issuer(issuer);
    }

    fn with_algorithm(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let Some(alg) = Algorithm::from_name(name) else {
            let e = oatk::Error::new(
                oatk::ErrorKind::InvalidArgument,
                format!("unknown algorithm {name:?}"),
            );
            return Err(crate::errors::to_pyerr(py, Failure::Core(e), None));
        };
        self.set(|t| t.with_algorithm(alg).map(drop)).py_err(py)
    }

    /// Remember up to `capacity` verified tokens (0: off, the default).
    fn with_cache(&self, capacity: usize) {
        self.write().with_cache(capacity);
    }

    /// Tokens currently remembered by the cache.
    #[getter]
    fn cached_tokens(&self) -> usize {
        self.read().cache().map_or(0, |c| c.len())
    }

    #[getter]
    fn leeway(&self) -> u64 {
        self.read().validator().leeway
    }
    #[setter]
    fn set_leeway(&self, seconds: u64) {
        self.write().validator_mut().leeway = seconds;
    }
    #[getter]
    fn require_exp(&self) -> bool {
        self.read().validator().require_exp
    }
    #[setter]
    fn set_require_exp(&self, required: bool) {
        self.write().validator_mut().require_exp = required;
    }
    #[getter]
    fn audience(&self) -> Option<String> {
        self.read().validator().audience.clone()
    }
    #[getter]
    fn issuer(&self) -> Option<String> {
        self.read().validator().issuer.clone()
    }
    /// The validation clock (seconds since the epoch); None is the system clock.
    #[getter]
    fn now(&self) -> Option<i64> {
        self.read().validator().now
    }
    #[setter]
    fn set_now(&self, now: Option<i64>) {
        self.write().validator_mut().now = now;
    }

    fn from_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.set(|t| t.from_file(&path).map(drop))
            .py_err_file(py, &path)
    }

    fn from_clipboard(&self, py: Python<'_>) -> PyResult<()> {
        let text = py.detach(|| {
            core(|| {
                oatk::Toolkit::new()
                    .from_clipboard()
                    .map(|t| t.current_token().map(str::to_string))
            })
        });
        if let Some(token) = text.py_err(py)? {
            self.write().with_token(&token);
        }
        Ok(())
    }

    fn with_token(&self, text: &str) {
        self.write().with_token(text);
    }

    #[getter]
    fn current_token(&self) -> Option<String> {
        self.read().current_token().map(str::to_string)
    }

    fn claims(&self, claims: &Bound<'_, PyDict>) -> PyResult<()> {
        let map = dict_to_map(claims)?;
        self.write().claims(map);
        Ok(())
    }

    #[getter]
    fn pending_claims<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        map_to_py(py, self.read().pending_claims())
    }

    /// A token for the pending claims; None without a private key.
    fn token(&self, py: Python<'_>) -> PyResult<Option<String>> {
        py.detach(|| core(|| self.read().token())).py_err(py)
    }

    /// A token for exactly these claims.
    fn mint(&self, py: Python<'_>, claims: &Bound<'_, PyDict>) -> PyResult<String> {
        let map = dict_to_map(claims)?;
        py.detach(|| core(|| self.read().mint(&map))).py_err(py)
    }

    fn jwks(&self, py: Python<'_>) -> PyResult<String> {
        core(|| self.read().jwks()).py_err(py)
    }

    /// The `alg` and `kid` tokens are minted with.
    fn signing_identity(&self) -> (String, String) {
        let (alg, kid) = self.read().signing_identity();
        (alg.name().to_string(), kid)
    }

    #[pyo3(signature = (token=None))]
    fn validate<'py>(
        &self,
        py: Python<'py>,
        token: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let claims = py
            .detach(|| core(|| self.read().validate(token.as_deref())))
            .py_err(py)?;
        map_to_py(py, &claims)
    }

    #[pyo3(signature = (token, required))]
    fn validate_with_claims<'py>(
        &self,
        py: Python<'py>,
        token: Option<String>,
        required: &Bound<'py, Requirement>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let required = required.get();
        let claims = py
            .detach(|| {
                core(|| {
                    self.read()
                        .validate_with_claims(token.as_deref(), &required.claims)
                })
            })
            .py_err(py)?;
        map_to_py(py, &claims)
    }

    #[pyo3(signature = (token=None))]
    fn decode<'py>(&self, py: Python<'py>, token: Option<String>) -> PyResult<Bound<'py, PyDict>> {
        let claims = core(|| self.read().decode(token.as_deref())).py_err(py)?;
        map_to_py(py, &claims)
    }

    #[pyo3(signature = (token=None))]
    fn header<'py>(&self, py: Python<'py>, token: Option<String>) -> PyResult<Bound<'py, PyDict>> {
        let header = core(|| self.read().header(token.as_deref())).py_err(py)?;
        map_to_py(py, &header)
    }

    /// `oatk::guard::check` on an `Authorization` header value: the claims
    /// (a dict) when allowed, a `Denial` when not. Setup failures raise.
    fn check<'py>(
        &self,
        py: Python<'py>,
        authorization: Option<&str>,
        required: &Bound<'py, Requirement>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let required = required.get();
        let decision = py
            .detach(|| core(|| guard::check(&self.read(), authorization, &required.claims)))
            .py_err(py)?;
        match decision {
            Decision::Allow(claims) => Ok(map_to_py(py, &claims)?.into_any()),
            Decision::Deny(denial) => Ok(Bound::new(py, Denial::from(denial))?.into_any()),
        }
    }

    #[getter]
    fn version(&self) -> &'static str {
        oatk::VERSION
    }
}

/// Required claims, converted once when a route is decorated.
#[pyclass(frozen, module = "oatk._oatk")]
pub struct Requirement {
    claims: Claims,
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
/// `WWW-Authenticate` value (RFC 6750 3) and the error code, if any.
#[pyclass(frozen, get_all, module = "oatk._oatk")]
pub struct Denial {
    status: u16,
    body: String,
    www_authenticate: Option<String>,
    code: Option<&'static str>,
}

impl From<guard::Denial> for Denial {
    fn from(d: guard::Denial) -> Denial {
        Denial {
            status: d.status,
            body: d.body,
            www_authenticate: d.www_authenticate,
            code: d.kind.map(|k| k.code()),
        }
    }
}

#[pymethods]
impl Denial {
    fn __repr__(&self) -> String {
        let code = self
            .code
            .map_or_else(|| "None".to_string(), |c| format!("'{c}'"));
        format!(
            "Denial(status={}, body={:?}, code={code})",
            self.status, self.body
        )
    }
}

/// The 403 for a claim a Python predicate needs that the token lacks.
#[pyfunction]
pub fn missing_denial(name: &str) -> Denial {
    guard::missing(name).into()
}

/// The 403 for a Python predicate that returned false.
#[pyfunction]
pub fn rejected_denial(name: &str) -> Denial {
    guard::rejected(name).into()
}

/// Used by `Server.issue_token` and friends.
pub fn optional_map(dict: Option<&Bound<'_, PyDict>>) -> PyResult<Claims> {
    dict.map(dict_to_map)
        .transpose()
        .map(Option::unwrap_or_default)
}
