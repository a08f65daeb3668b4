//! Work a coroutine awaits: core calls run on oatk's worker threads, which
//! never touch Python; an event loop learns that results are ready from one
//! socket it watches (asyncio's `add_reader`) and converts them on its own
//! thread. So a validation costs the loop a submit and a delivery, and no
//! GIL handoff to a thread and back (what a Python thread pool would cost).
//!
//! `oatk/_guard.py` keeps one `Completions` per event loop; where a loop
//! cannot watch a socket (Windows' proactor, another event loop library) it
//! uses a Python worker thread instead.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;

use oatk::guard;
use pyo3::prelude::*;

use crate::claims::ClaimsPy;
use crate::errors::{core, Failure, IntoPy};
use crate::guard::{Answer, Requirement};
use crate::toolkit::Toolkit;

/// A result to hand to Python, made into a Python object on the loop's thread.
type Done = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;
type Job = Box<dyn FnOnce() + Send>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The worker threads, shared by every loop: as many as there are CPUs (at
/// least 2, at most 8), started on first use, and again in a forked child
/// (gunicorn's `--preload`), which inherits the channel but not the threads.
static POOL: Mutex<Option<(u32, Sender<Job>)>> = Mutex::new(None);

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = lock(rx).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Start the workers: the channel to them, or None if no thread could start.
fn start_pool() -> Option<Sender<Job>> {
    let (tx, rx) = channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let size = thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8);
    let started = (0..size)
        .filter(|i| {
            let rx = Arc::clone(&rx);
            thread::Builder::new()
                .name(format!("oatk-worker-{i}"))
                .spawn(move || work(&rx))
                .is_ok()
        })
        .count();
    (started > 0).then_some(tx)
}

/// Run `job` on a worker; on the caller's thread if no worker could start.
fn spawn(job: Job) {
    let sender = {
        let mut pool = lock(&POOL);
        let pid = std::process::id();
        if !matches!(&*pool, Some((owner, _)) if *owner == pid) {
            *pool = start_pool().map(|tx| (pid, tx));
        }
        pool.as_ref().map(|(_, tx)| tx.clone())
    };
    let job = match sender {
        Some(tx) => match tx.send(job) {
            Ok(()) => return,
            Err(returned) => returned.0,
        },
        None => job,
    };
    job();
}

/// What the workers share with one loop: finished results and the socket
/// that wakes the loop.
struct Shared {
    done: Mutex<Vec<(u64, Done)>>,
    /// Set when the loop has been woken and has not drained yet: one wake-up
    /// byte per batch of results, however many finish meanwhile.
    signaled: AtomicBool,
    wake: UnixStream,
}

impl Shared {
    fn finish(&self, ticket: u64, done: Done) {
        lock(&self.done).push((ticket, done));
        if !self.signaled.swap(true, Ordering::AcqRel) {
            // A full socket buffer (WouldBlock) already means "wake up".
            let _ = (&self.wake).write(&[1]);
        }
    }
}

/// The native results of one event loop: `check(...)` and `validate(...)`
/// start the work and return a ticket; when `fileno()` is readable,
/// `drain()` gives `(ticket, ok, value)` for what is done, the value being
/// the result or the exception to raise.
#[pyclass(frozen, module = "oatk._oatk")]
pub struct Completions {
    shared: Arc<Shared>,
    ready: UnixStream,
    next: AtomicU64,
}

impl Completions {
    fn start(&self, job: impl FnOnce() -> Done + Send + 'static) -> u64 {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::clone(&self.shared);
        spawn(Box::new(move || {
            let done = job();
            shared.finish(ticket, done);
        }));
        ticket
    }
}

#[pymethods]
impl Completions {
    #[new]
    fn new() -> PyResult<Completions> {
        let (ready, wake) = UnixStream::pair()?;
        ready.set_nonblocking(true)?;
        wake.set_nonblocking(true)?;
        Ok(Completions {
            shared: Arc::new(Shared {
                done: Mutex::new(Vec::new()),
                signaled: AtomicBool::new(false),
                wake,
            }),
            ready,
            next: AtomicU64::new(0),
        })
    }

    /// The socket to watch: readable when results are ready.
    fn fileno(&self) -> i32 {
        self.ready.as_raw_fd()
    }

    /// `guard::check`, as `oatk._oatk.check`, on a worker: its ticket.
    fn check(
        &self,
        toolkit: Py<Toolkit>,
        authorization: Option<String>,
        required: Py<Requirement>,
    ) -> u64 {
        self.start(move || {
            let answer: Result<Answer, Failure> = core(|| {
                guard::check(
                    &toolkit.get().read(),
                    authorization.as_deref(),
                    required.get().claims(),
                )
            })
            .map(Answer::from);
            // The Python references go back to the loop's thread to be dropped there.
            Box::new(move |py| {
                drop(required);
                let answer = answer.py_err(py)?.into_python(py, toolkit.get())?;
                Ok(answer.unbind())
            })
        })
    }

    /// `Toolkit.validate` on a worker: its ticket.
    #[pyo3(signature = (toolkit, token=None))]
    fn validate(&self, toolkit: Py<Toolkit>, token: Option<String>) -> u64 {
        self.start(move || {
            let claims =
                core(|| toolkit.get().read().validate_shared(token.as_deref())).map(ClaimsPy::new);
            Box::new(move |py| {
                let dict = toolkit.get().dicts.dict(py, claims.py_err(py)?)?;
                Ok(dict.into_any().unbind())
            })
        })
    }

    /// What is done: `(ticket, True, result)` or `(ticket, False, exception)`.
    fn drain(&self, py: Python<'_>) -> Vec<(u64, bool, Py<PyAny>)> {
        let mut sink = [0u8; 256];
        loop {
            match (&self.ready).read(&mut sink) {
                Ok(n) if n > 0 => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                _ => break,
            }
        }
        // Clear the flag before taking the results: one finished after this wakes the loop again.
        self.shared.signaled.store(false, Ordering::Release);
        let done = std::mem::take(&mut *lock(&self.shared.done));
        done.into_iter()
            .map(|(ticket, done)| match done(py) {
                Ok(value) => (ticket, true, value),
                Err(error) => (ticket, false, error.into_value(py).into_any()),
            })
            .collect()
    }
}
