//! `Server`: the core fake OAuth2 / OpenID Connect server, in process.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use oatk::server::{config::Client, Options};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{dict_to_map, map_to_py, to_py};
use crate::errors::{core, to_pyerr, Failure, IntoPy};
use crate::toolkit::{optional_map, Toolkit};

/// A running fake server; `stop()` (or garbage collection) stops it.
#[pyclass(frozen, module = "oatk._oatk")]
pub struct Server {
    inner: Mutex<Option<oatk::server::Server>>,
    url: String,
    issuer: String,
    jwks: String,
}

impl Server {
    fn with<T>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&oatk::server::Server) -> oatk::Result<T>,
    ) -> PyResult<T> {
        let guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(server) = guard.as_ref() else {
            let e = oatk::Error::new(oatk::ErrorKind::Server, "the server has been stopped");
            return Err(to_pyerr(py, Failure::Core(e), None));
        };
        core(|| f(server)).py_err(py)
    }
}

#[pymethods]
impl Server {
    /// Start serving on a background thread; returns once it listens.
    /// With `toolkit`, its private key signs and its JWKS is published.
    #[staticmethod]
    /// `data_dir` defaults to `./.oatk` (unused when `memory`).
    #[pyo3(signature = (toolkit=None, host="localhost", port=5000, issuer=None, config=None,
                        data_dir=None, memory=false, quiet=true))]
    #[allow(clippy::too_many_arguments)]
    fn start(
        py: Python<'_>,
        toolkit: Option<&Bound<'_, Toolkit>>,
        host: &str,
        port: u16,
        issuer: Option<String>,
        config: Option<PathBuf>,
        data_dir: Option<PathBuf>,
        memory: bool,
        quiet: bool,
    ) -> PyResult<Server> {
        let data_dir = data_dir.unwrap_or_else(|| Options::default().data_dir);
        let options = Options {
            host: host.to_string(),
            port,
            issuer,
            config: config.clone(),
            data_dir,
            memory,
            quiet,
        };
        let toolkit = toolkit.map(Bound::get);
        let started = py.detach(|| {
            core(|| match toolkit {
                Some(t) => oatk::server::start(Some(&t.read()), &options),
                None => oatk::server::start(None, &options),
            })
        });
        let server = match &config {
            Some(path) => started.py_err_file(py, path)?,
            None => started.py_err(py)?,
        };
        Ok(Server {
            url: server.url().to_string(),
            issuer: server.issuer().to_string(),
            jwks: server.jwks().to_string(),
            inner: Mutex::new(Some(server)),
        })
    }

    /// Where it listens, e.g. `http://localhost:5000`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The `iss` of its tokens.
    #[getter]
    fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The JWKS it publishes at `/oauth/certs` (JSON text).
    #[getter]
    fn jwks(&self) -> &str {
        &self.jwks
    }

    #[getter]
    fn running(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    #[pyo3(signature = (username, claims=None))]
    fn upsert_user(
        &self,
        py: Python<'_>,
        username: &str,
        claims: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let claims = optional_map(claims)?;
        self.with(py, |s| s.upsert_user(username, claims))
    }

    /// Register a client: the fields of a `[[clients]]` entry in the config file.
    fn upsert_client(&self, py: Python<'_>, client: &Bound<'_, PyDict>) -> PyResult<()> {
        let value = serde_json::Value::Object(dict_to_map(client)?);
        let client: Client = serde_json::from_value(value).map_err(|e| {
            let e = oatk::Error::new(
                oatk::ErrorKind::InvalidArgument,
                format!("invalid client: {e}"),
            );
            to_pyerr(py, Failure::Core(e), None)
        })?;
        self.with(py, |s| s.upsert_client(&client))
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
        let response =
            py.detach(|| self.with_detached(|s| s.issue_token(username, claims, client_id, scope)));
        let response = response.py_err(py)?;
        match &response {
            serde_json::Value::Object(map) => Ok(map_to_py(py, map)?.into_any()),
            other => to_py(py, other),
        }
    }

    /// Stop serving; waits for the server thread. Stopping twice is fine.
    fn stop(&self, py: Python<'_>) {
        let server = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(server) = server {
            py.detach(|| server.stop());
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "<oatk fake server {} ({})>",
            self.url,
            if self.running() { "running" } else { "stopped" }
        )
    }
}

impl Server {
    fn with_detached<T>(
        &self,
        f: impl FnOnce(&oatk::server::Server) -> oatk::Result<T>,
    ) -> Result<T, Failure> {
        let guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match guard.as_ref() {
            Some(server) => core(|| f(server)),
            None => Err(Failure::Core(oatk::Error::new(
                oatk::ErrorKind::Server,
                "the server has been stopped",
            ))),
        }
    }
}
