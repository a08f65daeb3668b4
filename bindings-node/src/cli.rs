//! `npx oatk ...`: core's command line, run from the package's bin script.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi_derive::napi;

/// Run the `oatk` command line with these arguments (without the program
/// name); returns the exit code. Meant for the `oatk` bin script: it blocks
/// the calling thread, and it gives SIGINT and SIGTERM back their default
/// action for this process, as in the Rust binary (`server run` then stops
/// gracefully on them; any other step is simply ended).
#[napi(catch_unwind)]
pub fn run_cli(args: Vec<String>) -> i32 {
    default_signal_actions();
    let code = catch_unwind(AssertUnwindSafe(|| oatk::cli::run(&args))).unwrap_or_else(|payload| {
        eprintln!("oatk: {}", oatk::error::panic_message(payload.as_ref()));
        70 // EX_SOFTWARE
    });
    // Node, not Rust's runtime, ends this process: flush what the CLI printed.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    code
}

/// Node's own SIGINT/SIGTERM handler resets stdio and raises the signal again,
/// expecting its one-shot registration to have restored the default action.
/// Tokio's signal handling (`server run`) installs a handler that forwards to
/// the previous one, so that raise would come straight back to it, forever.
/// With the default action restored first, tokio sees the signal and stops
/// the server, and the other steps end on Ctrl-C as the Rust binary does.
fn default_signal_actions() {
    #[cfg(unix)]
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installing SIG_DFL with a zeroed sigaction is always valid.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}
