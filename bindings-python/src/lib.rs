//! `oatk._oatk`: the private native module behind the `oatk` Python package.
//!
//! Every function here converts its arguments, calls one core function and
//! converts the result or the error; the behaviour lives in `oatk-core`.
//! CPU work (signature checks, minting) and blocking work (HTTP, the server)
//! runs with the interpreter detached, so other Python threads keep running.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod convert;
mod errors;
mod server;
mod toolkit;

use pyo3::prelude::*;

/// Run the `oatk` command line (the same as the Rust binary) and return its exit code.
#[pyfunction]
fn cli(py: Python<'_>, args: Vec<String>) -> i32 {
    py.detach(|| errors::catch(|| Ok(oatk::cli::run(&args))))
        .unwrap_or_else(|failure| {
            eprintln!("oatk: {failure}");
            70 // EX_SOFTWARE
        })
}

/// For the test suite only: a deliberate panic, which must reach Python as
/// `OatkError(code="PANIC")`, never as a crash or a `PanicException`.
#[pyfunction]
#[allow(clippy::panic)]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    use errors::IntoPy;
    py.detach(|| {
        errors::catch(|| -> Result<(), errors::Failure> { panic!("deliberate test panic") })
    })
    .py_err(py)
}

#[pymodule]
mod _oatk {
    use pyo3::prelude::*;

    #[pymodule_export]
    use super::server::Server;
    #[pymodule_export]
    use super::toolkit::{missing_denial, rejected_denial, Denial, Requirement, Toolkit};
    #[pymodule_export]
    use super::{_panic_for_tests, cli};

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", oatk::VERSION)?;
        m.add("OATK_JS", oatk::server::OATK_JS)?;
        m.add("STYLE_CSS", oatk::server::STYLE_CSS)?;
        Ok(())
    }
}
