//! Minting and validation per algorithm, with keys parsed once and held, as
//! the toolkit holds them. `bench/core.sh` runs this beside `openssl speed`.
//!
//! Times are the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID` on Linux), as
//! `openssl speed` counts by default: on a shared machine, time slices taken
//! by other processes then change neither side.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use oatk::{Algorithm, Claims, PrivateKey, Toolkit};
use serde_json::json;

fn claims() -> Claims {
    json!({"sub": "xtof", "username": "xtof", "scope": "openid profile", "exp": 4_102_444_800u64, "iat": 1_700_000_000})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn tokens(c: &mut Criterion<ThreadCpu>) {
    let claims = claims();
    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let mut toolkit = Toolkit::new();
        toolkit.with_private_key(PrivateKey::generate(alg, None).expect("key"));
        toolkit.with_algorithm(alg).expect("alg");
        let token = toolkit.mint(&claims).expect("mint");
        c.bench_with_input(
            BenchmarkId::new("mint", alg.name()),
            &claims,
            |b, claims| b.iter(|| toolkit.mint(claims).expect("mint")),
        );
        c.bench_with_input(
            BenchmarkId::new("validate", alg.name()),
            &token,
            |b, token| b.iter(|| toolkit.validate(Some(token)).expect("valid")),
        );
        // The signature check alone: what parsing and the claims checks add is the difference.
        let jws = oatk::token::parse(&token).expect("parse");
        let keys = toolkit.verification_keys();
        let key = keys.find(jws.kid().expect("kid")).expect("key");
        c.bench_with_input(
            BenchmarkId::new("verify_only", alg.name()),
            &jws,
            |b, jws| b.iter(|| assert!(key.verify(jws.signing_input.as_bytes(), &jws.signature))),
        );
        if alg == Algorithm::RS256 {
            // The verified-token cache: the same token again (exp still checked).
            toolkit.with_cache(1024);
            c.bench_with_input(
                BenchmarkId::new("validate_warm", alg.name()),
                &token,
                |b, token| b.iter(|| toolkit.validate(Some(token)).expect("valid")),
            );
        }
    }
}

/// The calling thread's CPU time in nanoseconds.
#[cfg(target_os = "linux")]
fn thread_cpu_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a plain libc call writing the struct it is given.
    unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Elsewhere, wall time since the first call.
#[cfg(not(target_os = "linux"))]
fn thread_cpu_ns() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Criterion measurement: thread CPU time, shown as a duration.
struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WallTime.formatter()
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(ThreadCpu)
        .sample_size(30)
        .measurement_time(std::time::Duration::from_secs(3));
    targets = tokens
}
criterion_main!(benches);
