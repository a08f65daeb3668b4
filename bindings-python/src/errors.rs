//! Core errors to Python exceptions, and the panic boundary.
//!
//! The classes live in `oatk/errors.py`, each with its kind's `code`;
//! `oatk.errors.ERROR_CLASSES` (code -> class) is the one table. This file
//! resolves it once for every kind in `ErrorKind::ALL` and fills in
//! `filename`; the message is always core's.

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
    /// A Rust panic, caught at the boundary, with core's text for it.
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
            Failure::Panic(message) => f.write_str(message),
        }
    }
}

/// Run `f`, turning a panic into [`Failure::Panic`]: no panic crosses into Python.
pub fn catch<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(Failure::Panic(oatk::error::panic_message(payload.as_ref()))))
}

/// [`catch`] for a plain core call.
pub fn core<T>(f: impl FnOnce() -> oatk::Result<T>) -> Result<T, Failure> {
    catch(|| f().map_err(Failure::Core))
}

/// `(code, summary)` for every kind, in core's order: `oatk._oatk.ERROR_KINDS`.
pub fn kinds() -> Vec<(&'static str, &'static str)> {
    ErrorKind::ALL
        .iter()
        .map(|k| (k.code(), k.summary()))
        .collect()
}

/// `oatk.errors` and its class for each kind, in `ErrorKind::ALL`'s order.
struct Classes {
    module: Py<PyModule>,
    by_kind: Vec<Py<PyAny>>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let module = py.import("oatk.errors")?;
        let table = module.getattr("ERROR_CLASSES")?;
        let by_kind = ErrorKind::ALL
            .iter()
            .map(|kind| Ok(table.get_item(kind.code())?.unbind()))
            .collect::<PyResult<_>>()?;
        Ok(Classes {
            module: module.unbind(),
            by_kind,
        })
    })
}

fn class_for<'py>(py: Python<'py>, error: &oatk::Error) -> PyResult<Bound<'py, PyAny>> {
    let classes = classes(py)?;
    if error.is_missing_file() {
        return classes.module.bind(py).getattr("MissingFileError");
    }
    let class = ErrorKind::ALL
        .iter()
        .zip(&classes.by_kind)
        .find(|(kind, _)| **kind == error.kind())
        .map(|(_, class)| class.bind(py).clone());
    // ALL lists every kind, so the base class is only a formality.
    class.map_or_else(|| classes.module.bind(py).getattr("OatkError"), Ok)
}

/// The Python exception for a failure. `file` is the path the call was
/// given, if any: it becomes `filename` when core's message names it.
pub fn to_pyerr(py: Python<'_>, failure: Failure, file: Option<&Path>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let exception = match &failure {
            Failure::Core(e) => {
                let exception = class_for(py, e)?.call1((e.message(),))?;
                let file = file.map(|p| p.to_string_lossy());
                if let Some(file) = file.filter(|f| names_file(e, f)) {
                    exception.setattr("filename", file.as_ref())?;
                }
                exception
            }
            Failure::Panic(message) => {
                let base = classes(py)?.module.bind(py).getattr("OatkError")?;
                let exception = base.call1((message,))?;
                exception.setattr("code", "PANIC")?;
                exception
            }
        };
        Ok(PyErr::from_value(exception))
    };
    build().unwrap_or_else(|e| e)
}

/// A file error whose message names the file the call was given (core puts
/// the path in every error about a file it read).
fn names_file(e: &oatk::Error, file: &str) -> bool {
    matches!(e.kind(), ErrorKind::Io | ErrorKind::Key | ErrorKind::Jwks)
        && !file.is_empty()
        && e.message().contains(file)
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

/// For the test suite only: a deliberate panic, which must reach Python as
/// `OatkError(code="PANIC")`, never as a crash or a `PanicException`.
#[pyfunction]
#[allow(clippy::panic)]
pub fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    py.detach(|| catch(|| -> Result<(), Failure> { panic!("deliberate test panic") }))
        .py_err(py)
}
