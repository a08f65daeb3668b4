//! The fake server's HTTP router in process: requests built from the input
//! (see core/fuzz/src/http.rs for the format), sent with
//! `tower::ServiceExt::oneshot`. Never a panic, never a 5xx.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oatk_fuzz::http::run(data));
