//! Work that JavaScript awaits, run off the JavaScript thread inside the
//! panic boundary: the promise resolves to the result or rejects with an
//! `OatkError`.
//!
//! Two executors. [`Work`] and [`Chain`] are napi's `AsyncTask` on the libuv
//! thread pool, for the occasional call that may block on the network
//! (provider discovery, the fake server). [`spawn`] is for the hot path,
//! `validateAsync`: a signature check is pure CPU, and the libuv round trip
//! (a work object, a mutex shared with four pool threads, a condition
//! variable signal and a completion per call) cost the JavaScript thread
//! about as much as the check itself costs a worker. [`spawn`] instead queues
//! to one worker per core, wakes a worker only when one is asleep, and hands
//! results back in batches: one threadsafe-function wake-up settles every
//! promise that finished meanwhile. What a promise resolves to is converted
//! on the JavaScript thread (claims: `crate::claims`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};

use napi::bindgen_prelude::{
    AsyncTask, Env, ObjectRef, Result, This, ToNapiValue, TypeName, ValueType,
};
use napi::{check_status, sys, Task};

use crate::errors::{boundary, js_error, Outcome};

type Job<T> = Box<dyn FnOnce() -> Outcome<T> + Send>;

fn compute<T>(job: &mut Option<Job<T>>) -> Result<Outcome<T>> {
    let job = job
        .take()
        .ok_or_else(|| napi::Error::from_reason("oatk: a task ran twice"))?;
    Ok(boundary(job))
}

/// A promise of `T`, computed by `job` off the JavaScript thread.
pub struct Work<T> {
    job: Option<Job<T>>,
}

impl<T: ToNapiValue + TypeName + Send + 'static> Work<T> {
    pub fn spawn(job: impl FnOnce() -> Outcome<T> + Send + 'static) -> AsyncTask<Work<T>> {
        AsyncTask::new(Work {
            job: Some(Box::new(job)),
        })
    }
}

impl<T: ToNapiValue + TypeName + Send + 'static> Task for Work<T> {
    type Output = Outcome<T>;
    type JsValue = T;

    fn compute(&mut self) -> Result<Self::Output> {
        compute(&mut self.job)
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<T> {
        output.map_err(|failure| js_error(&env, failure))
    }
}

/// A promise of the object the method was called on (`await
/// toolkit.usingProvider(url)` is the toolkit), once `job` has changed it.
pub struct Chain {
    job: Option<Job<()>>,
    this: Option<ObjectRef<false>>,
}

impl Chain {
    pub fn spawn(
        this: This<'_>,
        job: impl FnOnce() -> Outcome<()> + Send + 'static,
    ) -> Result<AsyncTask<Chain>> {
        Ok(AsyncTask::new(Chain {
            job: Some(Box::new(job)),
            this: Some(this.object.create_ref::<false>()?),
        }))
    }
}

impl Task for Chain {
    type Output = Outcome<()>;
    type JsValue = ThisObject;

    fn compute(&mut self) -> Result<Self::Output> {
        compute(&mut self.job)
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ThisObject> {
        output.map_err(|failure| js_error(&env, failure))?;
        let this = self
            .this
            .take()
            .ok_or_else(|| napi::Error::from_reason("oatk: a task resolved twice"))?;
        Ok(ThisObject(this))
    }

    fn finally(mut self, env: Env) -> Result<()> {
        if let Some(this) = self.this.take() {
            this.unref(&env)?;
        }
        Ok(())
    }
}

/// The object a [`Chain`] resolves to.
pub struct ThisObject(ObjectRef<false>);

impl TypeName for ThisObject {
    fn type_name() -> &'static str {
        "this"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for ThisObject {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // Consumes the reference (deletes it after reading the value).
        unsafe { ObjectRef::to_napi_value(env, val.0) }
    }
}

// ---------------------------------------------------------------------------
// The worker pool

type PoolJob = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<PoolState>,
    wake: Condvar,
    /// Workers that started; with none, `submit` runs each job itself.
    threads: AtomicUsize,
    /// Jobs waiting for a worker (`jobs.len()`, readable without the lock).
    queued: AtomicUsize,
}

#[derive(Default)]
struct PoolState {
    jobs: VecDeque<PoolJob>,
    /// Workers waiting on `wake`, and how many of them were already signalled,
    /// so a burst of calls wakes each sleeping worker once, not once per call.
    sleeping: usize,
    signalled: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One worker per core, started on first use; they live as long as the process.
fn pool() -> &'static Pool {
    static POOL: OnceLock<&'static Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            state: Mutex::new(PoolState::default()),
            wake: Condvar::new(),
            threads: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
        }));
        let wanted = std::thread::available_parallelism().map_or(2, usize::from);
        for i in 0..wanted {
            let started = std::thread::Builder::new()
                .name(format!("oatk-worker-{i}"))
                .spawn(move || worker(pool));
            if started.is_ok() {
                pool.threads.fetch_add(1, Ordering::Relaxed);
            }
        }
        pool
    })
}

fn worker(pool: &'static Pool) {
    loop {
        let job = {
            let mut state = lock(&pool.state);
            loop {
                if let Some(job) = state.jobs.pop_front() {
                    pool.queued.store(state.jobs.len(), Ordering::Relaxed);
                    break job;
                }
                state.sleeping += 1;
                state = pool
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                state.sleeping -= 1;
                state.signalled = state.signalled.saturating_sub(1);
            }
        };
        // Jobs catch their own panics (`boundary`); this one is for the pool.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

fn submit(job: PoolJob) {
    let pool = pool();
    if pool.threads.load(Ordering::Relaxed) == 0 {
        let _ = catch_unwind(AssertUnwindSafe(job));
        return;
    }
    let mut state = lock(&pool.state);
    state.jobs.push_back(job);
    pool.queued.store(state.jobs.len(), Ordering::Relaxed);
    let wake = state.sleeping > state.signalled;
    if wake {
        state.signalled += 1;
    }
    drop(state);
    if wake {
        pool.wake.notify_one();
    }
}

// ---------------------------------------------------------------------------
// Settling promises on their JavaScript thread

/// Turns a worker's result into the value a promise settles with; runs on the
/// JavaScript thread. `Err` rejects.
type Settle = Box<dyn FnOnce(sys::napi_env) -> Result<sys::napi_value> + Send>;

/// A promise's resolver, handed to a worker and back: only ever used on the
/// JavaScript thread that made it.
struct Deferred(sys::napi_deferred);
// SAFETY: the pointer is only carried by other threads, never dereferenced there.
unsafe impl Send for Deferred {}

/// Per JavaScript environment: the finished jobs waiting to settle, and the
/// threadsafe function that wakes the environment's thread to settle them.
struct Settler {
    state: Mutex<SettleState>,
    /// Held (shared) by a worker while it calls the threadsafe function; the
    /// environment's cleanup hook takes it exclusively to close: after that,
    /// node may free the threadsafe function, and nothing calls it again.
    gate: RwLock<bool>,
    tsfn: AtomicPtr<sys::napi_threadsafe_function__>,
    /// Jobs submitted and not yet finished (workers decrement, under `state`).
    running: AtomicUsize,
    /// Promises not yet settled; the threadsafe function keeps the event loop
    /// alive only while there are some. Touched on the JavaScript thread only.
    in_flight: AtomicUsize,
}

#[derive(Default)]
struct SettleState {
    done: Vec<(Deferred, Settle)>,
    /// A wake-up is on its way: later results just join `done`.
    scheduled: bool,
}

/// While jobs are queued behind the running ones (a backlog), results are
/// handed to the JavaScript thread in batches: one wake-up of the event loop
/// settles them all. A batch is three quarters of this environment's calls
/// not yet settled, between these bounds: while the JavaScript thread settles
/// it and its callers make new calls, the last quarter keeps the workers busy.
/// (64 calls in flight, batches of 48 instead of 16: the JavaScript thread's
/// CPU per call fell from 2.3 to 1.9 µs, and with mimalloc, throughput went
/// from 1.67-1.70x a `validate()` loop's to 1.80x.) Without a backlog, or when
/// this environment has no other job running, each result goes at once. A
/// result held back waits for at most `SETTLE_BATCH_MAX - 1` more of this
/// environment's jobs to finish (all of them, when fewer than
/// `SETTLE_BATCH_MIN` are unsettled), which may be queued behind other
/// environments' jobs (the queue is shared). "Unsettled": running, or
/// finished and waiting here; not the batch being settled.
const SETTLE_BATCH_MIN: usize = 16;
const SETTLE_BATCH_MAX: usize = 64;

fn settle_batch(unsettled: usize) -> usize {
    (unsettled * 3 / 4).clamp(SETTLE_BATCH_MIN, SETTLE_BATCH_MAX)
}

impl Settler {
    fn closed(&self) -> bool {
        *self.gate.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// From a worker: queue the result, and wake the JavaScript thread when
    /// a batch is ready and no wake-up is already on its way.
    fn finish(&self, deferred: Deferred, settle: Settle) {
        let wake = {
            let mut state = lock(&self.state);
            // Counted under the lock, with the push: of two jobs finishing
            // together, the one that sees no other running pushes last, so
            // its wake-up (or one already on its way) settles both. Counted
            // before the lock, the other could finish and be settled between
            // the count and the push, and this result would wait for a
            // wake-up that no later job of this environment brings.
            let running = self
                .running
                .fetch_sub(1, Ordering::AcqRel)
                .saturating_sub(1);
            state.done.push((deferred, settle));
            let backlog = pool().queued.load(Ordering::Relaxed) > 0;
            let ready = running == 0
                || !backlog
                || state.done.len() >= settle_batch(running + state.done.len());
            let wake = ready && !state.scheduled;
            state.scheduled |= wake;
            wake
        };
        if !wake {
            return;
        }
        let closed = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        if !*closed {
            // Non-blocking on an unbounded queue: cannot block, fails only while closing.
            let status = unsafe {
                sys::napi_call_threadsafe_function(
                    self.tsfn.load(Ordering::Acquire),
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
            if status != sys::Status::napi_ok {
                // No wake-up is on its way after all: let the next result try.
                lock(&self.state).scheduled = false;
            }
        }
    }
}

thread_local! {
    /// The settler of the environment on this thread.
    static SETTLER: RefCell<Option<(usize, Arc<Settler>)>> = const { RefCell::new(None) };
}

fn settler(env: sys::napi_env) -> Result<Arc<Settler>> {
    SETTLER.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some((owner, settler)) = slot.as_ref() {
            if *owner == env as usize && !settler.closed() {
                return Ok(settler.clone());
            }
        }
        let settler = unsafe { new_settler(env) }?;
        *slot = Some((env as usize, settler.clone()));
        Ok(settler)
    })
}

unsafe fn new_settler(env: sys::napi_env) -> Result<Arc<Settler>> {
    let settler = Arc::new(Settler {
        state: Mutex::new(SettleState::default()),
        gate: RwLock::new(false),
        tsfn: AtomicPtr::new(ptr::null_mut()),
        running: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
    });
    let mut name = ptr::null_mut();
    let label = "oatk.validateAsync";
    check_status!(
        unsafe {
            sys::napi_create_string_utf8(
                env,
                label.as_ptr().cast(),
                label.len() as isize,
                &mut name,
            )
        },
        "oatk: cannot name the settling function"
    )?;
    // The threadsafe function's context owns one reference, released by its finalizer.
    let context = Arc::into_raw(settler.clone()) as *mut c_void;
    let mut tsfn = ptr::null_mut();
    let status = unsafe {
        sys::napi_create_threadsafe_function(
            env,
            ptr::null_mut(),
            ptr::null_mut(),
            name,
            0,
            1,
            context,
            Some(finalize_settler),
            context,
            Some(settle_finished),
            &mut tsfn,
        )
    };
    if status != sys::Status::napi_ok {
        drop(unsafe { Arc::from_raw(context as *const Settler) });
        return Err(napi::Error::from_reason(
            "oatk: cannot create the settling function",
        ));
    }
    settler.tsfn.store(tsfn, Ordering::Release);
    // Idle until a promise is pending.
    unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
    // Registered after the threadsafe function, so it runs before node's own
    // teardown of it (cleanup hooks run last-in, first-out).
    let hook = Arc::into_raw(settler.clone()) as *mut c_void;
    if unsafe { sys::napi_add_env_cleanup_hook(env, Some(close_settler), hook) }
        != sys::Status::napi_ok
    {
        drop(unsafe { Arc::from_raw(hook as *const Settler) });
    }
    Ok(settler)
}

/// Environment teardown: stop calling the threadsafe function; node frees it.
unsafe extern "C" fn close_settler(arg: *mut c_void) {
    let settler = unsafe { Arc::from_raw(arg as *const Settler) };
    *settler.gate.write().unwrap_or_else(PoisonError::into_inner) = true;
    lock(&settler.state).done.clear();
}

unsafe extern "C" fn finalize_settler(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    let settler = unsafe { Arc::from_raw(data as *const Settler) };
    *settler.gate.write().unwrap_or_else(PoisonError::into_inner) = true;
}

/// On the JavaScript thread: settle every promise whose job has finished.
unsafe extern "C" fn settle_finished(
    env: sys::napi_env,
    _callback: sys::napi_value,
    context: *mut c_void,
    _data: *mut c_void,
) {
    if env.is_null() || context.is_null() {
        return; // the threadsafe function is being finalized
    }
    // SAFETY: the context is the Settler the threadsafe function owns a reference to.
    let settler = unsafe { &*(context as *const Settler) };
    let done = {
        let mut state = lock(&settler.state);
        state.scheduled = false;
        std::mem::take(&mut state.done)
    };
    let settled = done.len();
    for (deferred, settle) in done {
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
            settle_one(env, deferred, settle)
        }));
    }
    if settled > 0 && settler.in_flight.fetch_sub(settled, Ordering::Relaxed) == settled {
        let tsfn = settler.tsfn.load(Ordering::Acquire);
        unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
    }
}

unsafe fn settle_one(env: sys::napi_env, deferred: Deferred, settle: Settle) {
    let mut scope = ptr::null_mut();
    unsafe { sys::napi_open_handle_scope(env, &mut scope) };
    match settle(env) {
        Ok(value) => unsafe {
            sys::napi_resolve_deferred(env, deferred.0, value);
        },
        Err(error) => unsafe {
            // Hands back the OatkError js_error made (a retained value).
            if let Ok(rejection) = ToNapiValue::to_napi_value(env, error) {
                sys::napi_reject_deferred(env, deferred.0, rejection);
            }
        },
    }
    unsafe { sys::napi_close_handle_scope(env, scope) };
}

/// A promise (its `napi_value`) returned to JavaScript as it is.
pub struct PromiseValue(sys::napi_value);

impl TypeName for PromiseValue {
    fn type_name() -> &'static str {
        "Promise"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for PromiseValue {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

/// A promise of `T`, computed by `job` on a worker (inside the panic
/// boundary) and settled on this environment's thread: resolved with `T`
/// converted, or rejected with an `OatkError`.
pub fn spawn<T: ToNapiValue + Send + 'static>(
    env: &Env,
    job: impl FnOnce() -> Outcome<T> + Send + 'static,
) -> Result<PromiseValue> {
    let raw = env.raw();
    let settler = settler(raw)?;
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    check_status!(
        unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) },
        "oatk: cannot create a promise"
    )?;
    if settler.in_flight.fetch_add(1, Ordering::Relaxed) == 0 {
        let tsfn = settler.tsfn.load(Ordering::Acquire);
        unsafe { sys::napi_ref_threadsafe_function(raw, tsfn) };
    }
    let deferred = Deferred(deferred);
    settler.running.fetch_add(1, Ordering::AcqRel);
    submit(Box::new(move || {
        let outcome = boundary(job);
        let settle: Settle = Box::new(move |env| match outcome {
            Ok(value) => unsafe { T::to_napi_value(env, value) },
            Err(failure) => Err(js_error(&Env::from_raw(env), failure)),
        });
        settler.finish(deferred, settle);
    }));
    Ok(PromiseValue(promise))
}
