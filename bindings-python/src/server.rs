//! `Server`: core's fake OAuth2 / OpenID Connect server, in process, from
//! core's embedded preset (`Options::embedded()`).

use std::path::PathBuf;

use oatk::server::Options;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{map_to_py, optional_map, to_py};
use crate::errors::{core, IntoPy};
use crate::toolkit::Toolkit;

/// A running fake server; `stop()` (or garbage collection) stops it.
#[pyclass(frozen, module = "oatk._oatk")]
pub struct Server {
    inner: oatk::server::Server,
}

#[pymethods]
impl Server {
    /// Start serving on a background thread; returns once it listens.
    /// With `toolkit`, its private key signs and its JWKS is published.
    /// Unset options are the embedded preset's (any free port on localhost,
    /// in memory, quiet); `data_dir` keeps the state there instead.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, each optional
    #[pyo3(signature = (toolkit=None, host=None, port=None, issuer=None, config=None,
                        data_dir=None, quiet=None))]
    fn start(
        py: Python<'_>,
        toolkit: Option<&Bound<'_, Toolkit>>,
        host: Option<String>,
        port: Option<u16>,
        issuer: Option<String>,
        config: Option<PathBuf>,
        data_dir: Option<PathBuf>,
        quiet: Option<bool>,
    ) -> PyResult<Server> {
        let mut options = Options::embedded();
        options.host = host.unwrap_or(options.host);
        options.port = port.unwrap_or(options.port);
        options.quiet = quiet.unwrap_or(options.quiet);
        options.issuer = issuer;
        options.config.clone_from(&config);
        if let Some(dir) = data_dir {
            options = options.persist_in(dir);
        }
        let toolkit = toolkit.map(Bound::get);
        let started = py.detach(|| {
            core(|| match toolkit {
                Some(t) => oatk::server::start(Some(&t.read()), &options),
                None => oatk::server::start(None, &options),
            })
        });
        let inner = match &config {
            Some(path) => started.py_err_file(py, path)?,
            None => started.py_err(py)?,
        };
        Ok(Server { inner })
    }

    /// Where it listens, e.g. `http://localhost:5000`.
    #[getter]
    fn url(&self) -> &str {
        self.inner.url()
    }

    /// The `iss` of its tokens.
    #[getter]
    fn issuer(&self) -> &str {
        self.inner.issuer()
    }

    /// Its OpenID Connect discovery document URL.
    #[getter]
    fn discovery_url(&self) -> String {
        self.inner.discovery_url()
    }

    /// The JWKS it publishes at `/oauth/certs` (JSON text).
    #[getter]
    fn jwks(&self) -> &str {
        self.inner.jwks()
    }

    /// What `oatk server run` prints to stderr at start.
    #[getter]
    fn banner(&self) -> String {
        self.inner.banner()
    }

    #[getter]
    fn running(&self) -> bool {
        self.inner.is_running()
    }

    /// Add or replace a user: `{"username": ..., "claims": {...}}`, checked by core.
    fn upsert_user(&self, py: Python<'_>, json: &str) -> PyResult<()> {
        core(|| self.inner.upsert_user_json(json).map(drop)).py_err(py)
    }

    /// Register a client: the fields of a `[[clients]]` entry, checked by core.
    fn upsert_client(&self, py: Python<'_>, json: &str) -> PyResult<()> {
        core(|| self.inner.upsert_client_json(json).map(drop)).py_err(py)
    }

    /// Tokens for `username` as if they had logged in and consented: the
    /// token endpoint's JSON (`access_token`, `id_token`, `refresh_token`...).
    #[pyo3(signature = (username, claims=None, client_id=None, scope=None))]
    fn issue_token<'py>(
        &self,
        py: Python<'py>,
        username: &str,
        claims: Option<&Bound<'py, PyDict>>,
        client_id: Option<&str>,
        scope: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let claims = optional_map(claims)?;
        let response = py
            .detach(|| core(|| self.inner.issue_token(username, claims, client_id, scope)))
            .py_err(py)?;
        match &response {
            serde_json::Value::Object(map) => Ok(map_to_py(py, map)?.into_any()),
            other => to_py(py, other),
        }
    }

    /// Stop serving; waits for the server thread. Stopping twice is fine.
    fn stop(&self, py: Python<'_>) {
        py.detach(|| self.inner.stop());
    }
}
