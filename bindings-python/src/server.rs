//! `Server`: core's fake OAuth2 / OpenID Connect server, in process, from
//! core's embedded preset (`Options::embedded()`).

use std::path::PathBuf;

use oatk::server::Options;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{map_to_py, optional_map, to_py};
use crate::errors::{core, IntoPy};
use crate::toolkit::Toolkit;
use oatk::server::TokenRequest;

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
    fn jwks(&self) -> String {
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

    /// Tokens as the token endpoint would issue them, for a user (as
    /// `issue_token`) or, with no `username`, for the client acting for
    /// itself (`client_credentials`); `tenant` picks a tenant's issuer and
    /// keys (created on first use).
    #[pyo3(signature = (username=None, claims=None, client_id=None, scope=None, tenant=None))]
    fn issue<'py>(
        &self,
        py: Python<'py>,
        username: Option<String>,
        claims: Option<&Bound<'py, PyDict>>,
        client_id: Option<String>,
        scope: Option<String>,
        tenant: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = TokenRequest {
            username,
            claims: optional_map(claims)?,
            client_id,
            scope,
            tenant,
        };
        let response = py
            .detach(|| core(|| self.inner.issue(&request)))
            .py_err(py)?;
        to_py(py, &response)
    }

    // The clock

    /// The server's now, in seconds since the epoch.
    #[getter]
    fn now(&self) -> i64 {
        self.inner.now()
    }

    /// Move the server's clock `seconds` ahead (behind when negative);
    /// returns the new now.
    fn advance_clock(&self, py: Python<'_>, seconds: i64) -> PyResult<i64> {
        core(|| self.inner.advance_clock(seconds)).py_err(py)
    }

    /// Stop the server's clock at `epoch` seconds until advanced or reset.
    fn freeze_clock(&self, py: Python<'_>, epoch: i64) -> PyResult<()> {
        core(|| self.inner.freeze_clock(epoch)).py_err(py)
    }

    /// Back to the system clock.
    fn reset_clock(&self) {
        self.inner.reset_clock();
    }

    // Issuers and keys

    /// The root issuer (`None`) or a tenant (created on first use): its
    /// `issuer`, `url`, `discovery_url`, `jwks_uri` and `keys`.
    #[pyo3(signature = (tenant=None))]
    fn issuer_info<'py>(
        &self,
        py: Python<'py>,
        tenant: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let info = core(|| self.inner.issuer_info(tenant)).py_err(py)?;
        info_to_py(py, &info)
    }

    /// Publish a new signing key beside the old ones (of the root or a
    /// tenant) and sign new tokens with it; the old keys retire on
    /// `retire_old_keys`, or by themselves `retire_after` seconds later on
    /// the server's clock. Returns the new key's `kid`.
    #[pyo3(signature = (tenant=None, retire_after=None))]
    fn rotate_keys(
        &self,
        py: Python<'_>,
        tenant: Option<&str>,
        retire_after: Option<u64>,
    ) -> PyResult<String> {
        py.detach(|| {
            core(|| match retire_after {
                Some(seconds) => self.inner.rotate_keys_retiring(tenant, seconds),
                None => self.inner.rotate_keys(tenant),
            })
        })
        .py_err(py)
    }

    /// Remove every key but the signing one from the JWKS (of the root or a
    /// tenant): tokens they signed stop validating. Returns how many went.
    #[pyo3(signature = (tenant=None))]
    fn retire_old_keys(&self, py: Python<'_>, tenant: Option<&str>) -> PyResult<usize> {
        core(|| self.inner.retire_old_keys(tenant)).py_err(py)
    }

    /// Stop serving; waits for the server thread. Stopping twice is fine.
    fn stop(&self, py: Python<'_>) {
        py.detach(|| self.inner.stop());
    }
}

/// An issuer as a dict, the admin API's JSON.
fn info_to_py<'py>(
    py: Python<'py>,
    info: &oatk::server::IssuerInfo,
) -> PyResult<Bound<'py, PyAny>> {
    let value = core(|| {
        serde_json::to_value(info)
            .map_err(|e| oatk::Error::new(oatk::ErrorKind::Server, e.to_string()))
    })
    .py_err(py)?;
    to_py(py, &value)
}
