//! The fake server's TOML config: `Config::parse`; and a config it accepts
//! must start a server (users and clients seeded into the store) that
//! answers discovery.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oatk::server::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if Config::parse(text).is_ok() {
        oatk_fuzz::http::start_and_probe(text);
    }
});
