//! The Rust core's figure for `bench/ffi.sh`: `Toolkit::validate` on the same
//! key and token the C benchmark validates through liboatk.
//!
//! Usage: core_validate [--warm [--shared]] PRIVATE_KEY_PEM TOKEN_FILE ITERATIONS ROUNDS
//! Prints one line per round: `core_validate_ns_per_call <float>`; with
//! `--warm`, through the verified-token cache (`with_cache`, the same token
//! again): `core_warm_ns_per_call <float>`; `--shared` calls
//! `validate_shared` (the claims the cache holds, not a copy of them).
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let warm = std::env::args().any(|a| a == "--warm");
    let shared = std::env::args().any(|a| a == "--shared");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [key, token_file, iterations, rounds] = args.as_slice() else {
        eprintln!("usage: core_validate PRIVATE_KEY_PEM TOKEN_FILE ITERATIONS ROUNDS");
        std::process::exit(2);
    };
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let mut toolkit = oatk_core::Toolkit::new();
        toolkit.with_private(key)?;
        if warm {
            toolkit.with_cache(1024);
        }
        let token = std::fs::read_to_string(token_file)?;
        let token = token.trim();
        let iterations: u32 = iterations.parse()?;
        let rounds: u32 = rounds.parse()?;
        toolkit.validate(Some(token))?;
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..iterations {
                if shared {
                    black_box(toolkit.validate_shared(Some(black_box(token)))?);
                } else {
                    black_box(toolkit.validate(Some(black_box(token)))?);
                }
            }
            let ns = start.elapsed().as_nanos() as f64 / f64::from(iterations);
            let name = if warm { "core_warm" } else { "core_validate" };
            println!("{name}_ns_per_call {ns:.1}");
        }
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("core_validate: {e}");
        std::process::exit(1);
    }
}
