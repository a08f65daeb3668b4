//! `Toolkit`: a thread-safe handle on one `oatk::Toolkit`, and key generation.

use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use oatk::{Algorithm, PrivateKey};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyDict;

use crate::claims::{ClaimsPy, Dicts};
use crate::convert::{dict_to_map, map_to_py};
use crate::errors::{core, Failure, IntoPy};

/// One `oatk::Toolkit`. Setters take the write lock; minting and validation
/// take the read lock with the interpreter detached, so many threads verify
/// tokens at once.
#[pyclass(frozen, module = "oatk._oatk")]
pub struct Toolkit {
    inner: RwLock<oatk::Toolkit>,
    /// How validated claims become dicts.
    pub(crate) dicts: Dicts,
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
            dicts: Dicts::new(),
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

    /// A JWKS file path or the JSON text itself (core tells them apart).
    fn with_jwks(&self, py: Python<'_>, path_or_json: &str) -> PyResult<()> {
        let set = py
            .detach(|| core(|| oatk::JwkSet::load(path_or_json)))
            .py_err_file(py, Path::new(path_or_json))?;
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
        self.set(|t| t.with_algorithm(name.parse()?).map(drop))
            .py_err(py)
    }

    fn with_leeway(&self, seconds: u64) {
        self.write().with_leeway(seconds);
    }

    fn with_require_exp(&self, required: bool) {
        self.write().with_require_exp(required);
    }

    /// The validation clock (seconds since the epoch); None is the system clock.
    fn with_now(&self, now: Option<i64>) {
        self.write().with_now(now);
    }

    /// Waive the audience check a provider otherwise requires.
    fn accept_any_audience(&self) {
        self.write().accept_any_audience();
    }

    /// Waive the issuer a bare JWKS URL otherwise requires.
    fn accept_any_issuer(&self) {
        self.write().accept_any_issuer();
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

    /// A token the cache holds is answered with the interpreter held (a hit
    /// takes well under a microsecond, less than detaching would); only a
    /// signature check lets other threads run meanwhile.
    #[pyo3(signature = (token=None))]
    fn validate<'py>(
        &self,
        py: Python<'py>,
        token: Option<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let token = token.as_deref();
        let cached = core(|| self.read().validate_cached(token).transpose()).py_err(py)?;
        let claims = match cached {
            Some(claims) => ClaimsPy::Shared(claims),
            None => py
                .detach(|| core(|| self.read().validate_uncached(token)).map(ClaimsPy::new))
                .py_err(py)?,
        };
        self.dicts.dict(py, claims)
    }

    /// `validate`, then `required` (values must be equal, lists contained).
    fn validate_with_claims<'py>(
        &self,
        py: Python<'py>,
        token: Option<String>,
        required: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let required = dict_to_map(required)?;
        let claims = py
            .detach(|| {
                core(|| {
                    self.read()
                        .validate_with_claims(token.as_deref(), &required)
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
}

/// A new key pair for `alg`: (private key as PKCS#8 PEM, public key as SPKI PEM).
#[pyfunction]
#[pyo3(signature = (alg="RS256"))]
pub fn generate_key(py: Python<'_>, alg: &str) -> PyResult<(String, String)> {
    py.detach(|| {
        core(|| {
            let key = PrivateKey::generate(alg.parse::<Algorithm>()?, None)?;
            Ok((key.to_pkcs8_pem()?, key.public_key().to_pem()?))
        })
    })
    .py_err(py)
}
