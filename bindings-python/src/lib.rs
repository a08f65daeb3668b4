//! `oatk._oatk`: the private native module behind the `oatk` Python package.
//!
//! Each file translates one concern of `oatk-core` (arguments in, results or
//! errors out); CPU work (signature checks, minting) and blocking work (HTTP,
//! the server) runs with the interpreter detached. `tasks.rs` runs the checks
//! a coroutine awaits on oatk's own worker threads, which never take the GIL.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod claims;
mod cli;
mod convert;
mod errors;
mod guard;
mod server;
#[cfg(unix)]
mod tasks;
mod toolkit;

#[pyo3::pymodule]
mod _oatk {
    use pyo3::prelude::*;

    #[pymodule_export]
    use super::cli::cli;
    #[pymodule_export]
    use super::errors::_panic_for_tests;
    #[pymodule_export]
    use super::guard::{check, check_cached, predicate_denial, Denial, Requirement};
    #[pymodule_export]
    use super::server::Server;
    #[cfg(unix)]
    #[pymodule_export]
    use super::tasks::Completions;
    #[pymodule_export]
    use super::toolkit::{generate_key, Toolkit};

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", oatk::VERSION)?;
        m.add("ERROR_KINDS", super::errors::kinds())?;
        m.add("OATK_JS", oatk::server::OATK_JS)?;
        Ok(())
    }
}
