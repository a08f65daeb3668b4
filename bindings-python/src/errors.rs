//! Core errors to Python exceptions. The classes live in `oatk/errors.py`
//! (so users can read, subclass and catch them); this file picks the class
//! for each [`ErrorKind`] in one exhaustive match and fills in `filename`.

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use oatk::ErrorKind;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

/// What a call into core can end with besides success.
#[derive(Debug)]
pub enum Failure {
    Core(oatk::Error),
    /// A Rust panic, caught at the boundary: never crosses into Python as a panic.
    Panic(String),
}

impl From<oatk::Error> for Failure {
    fn from(e: oatk::Error) -> Failure {
        Failure::Core(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Core(e) => f.write_str(e.message()),
            Failure::Panic(message) => write!(
                f,
                "internal error (a bug in oatk, please report it): {message}"
            ),
        }
    }
}

/// Run `f`, turning a panic into [`Failure::Panic`].
pub fn catch<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(Failure::Panic(panic_text(payload.as_ref()))))
}

/// [`catch`] for a plain core call.
pub fn core<T>(f: impl FnOnce() -> oatk::Result<T>) -> Result<T, Failure> {
    catch(|| f().map_err(Failure::Core))
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// The `oatk.errors` class for each kind. No `_` arm: a new kind in core
/// fails this build until it is mapped here (and added to errors.py).
pub fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument => "InvalidArgumentError",
        ErrorKind::Io => "FileError",
        ErrorKind::Key => "InvalidKeyError",
        ErrorKind::Jwks => "InvalidJwksError",
        ErrorKind::Malformed => "MalformedTokenError",
        ErrorKind::UnsupportedAlgorithm => "UnsupportedAlgorithmError",
        ErrorKind::UnknownKey => "UnknownKeyError",
        ErrorKind::InvalidSignature => "InvalidSignatureError",
        ErrorKind::Expired => "ExpiredTokenError",
        ErrorKind::NotYetValid => "NotYetValidError",
        ErrorKind::InvalidAudience => "InvalidAudienceError",
        ErrorKind::InvalidIssuer => "InvalidIssuerError",
        ErrorKind::MissingClaim => "MissingClaimError",
        ErrorKind::Claims => "ClaimsError",
        ErrorKind::Network => "NetworkError",
        ErrorKind::Server => "ServerError",
    }
}

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS
        .get_or_try_init(py, || Ok::<_, PyErr>(py.import("oatk.errors")?.unbind()))
        .map(|m| m.bind(py))
}

/// The Python exception for a failure. `file` is the path the call was given,
/// if any: it becomes the exception's `filename`, and a file that does not
/// exist gets `MissingFileError` (a `FileNotFoundError`).
pub fn to_pyerr(py: Python<'_>, failure: Failure, file: Option<&Path>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let module = errors_module(py)?;
        let (name, message, code) = match &failure {
            Failure::Core(e) => {
                let kind = e.kind();
                let missing = kind == ErrorKind::Io && file.is_some_and(|p| !p.exists());
                (
                    if missing {
                        "MissingFileError"
                    } else {
                        class_name(kind)
                    },
                    e.message().to_string(),
                    None,
                )
            }
            Failure::Panic(_) => ("OatkError", failure.to_string(), Some("PANIC")),
        };
        let exception = module.getattr(name)?.call1((message,))?;
        if let Some(code) = code {
            exception.setattr("code", code)?;
        }
        if let (Failure::Core(e), Some(path)) = (&failure, file) {
            if matches!(e.kind(), ErrorKind::Io | ErrorKind::Key | ErrorKind::Jwks) {
                exception.setattr("filename", path.to_string_lossy().as_ref())?;
            }
        }
        Ok(PyErr::from_value(exception))
    };
    build().unwrap_or_else(|e| e)
}

/// `Result<T, Failure>` to `PyResult<T>`.
pub trait IntoPy<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
    fn py_err_file(self, py: Python<'_>, file: &Path) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, Failure> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|f| to_pyerr(py, f, None))
    }
    fn py_err_file(self, py: Python<'_>, file: &Path) -> PyResult<T> {
        self.map_err(|f| to_pyerr(py, f, Some(file)))
    }
}
