//! `oatk._oatk.cli`: the `oatk` command line (`python -m oatk`, the console script).

use pyo3::prelude::*;

use crate::errors;

/// Run the `oatk` command line (the same as the Rust binary) and return its exit code.
#[pyfunction]
pub fn cli(py: Python<'_>, args: Vec<String>) -> i32 {
    py.detach(|| errors::catch(|| Ok(oatk::cli::run(&args))))
        .unwrap_or_else(|failure| {
            eprintln!("oatk: {failure}");
            70 // EX_SOFTWARE
        })
}
