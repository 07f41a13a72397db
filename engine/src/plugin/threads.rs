//! The threads plugin code runs on: a bounded pool of threads with a known, large stack, and
//! a coarse clock that plugin deadlines are read from.
//!
//! A plugin call never runs on its caller's thread unless that thread is one of the pool's:
//! the hosts hop onto the pool (see [`run_sandboxed`]), so a script's stack depth is measured
//! against [`STACK_BYTES`] whoever calls it (an async runtime's 2 MiB workers, a CLI's main
//! thread, an integrator's thread). A whole batch can be run on the pool with
//! [`run_sandboxed`] or [`spawn_sandboxed`], so that its plugin calls run in place, without a
//! hop each.
//!
//! A job may carry a deadline: every plugin call it makes stops at the earlier of its own
//! timeout and the job's deadline, and once the deadline has passed every further call fails at
//! once, so a batch whose plugins overrun is answered, with their errors, when the deadline
//! passes.

use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The stack of every plugin thread. Call and expression depth limits, and the nesting a value
/// can reach under the collection limit, are sized against it (see `limits.rs`); pages are
/// only committed when touched.
pub const STACK_BYTES: usize = 256 << 20;
/// Jobs that may wait for a thread; more are refused with [`Busy`].
pub const QUEUE_CAPACITY: usize = 4_096;
/// A thread whose stack use went past this is replaced after its job: the pages a deep
/// script touched stay resident for as long as their thread lives.
pub const RECYCLE_STACK_BYTES: usize = 16 << 20;
/// How often the plugin clock advances.
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// The pool is full: too many jobs wait for a plugin thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every plugin thread is busy and {QUEUE_CAPACITY} jobs are waiting")]
pub struct Busy;

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Pool {
    queue: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

thread_local! {
    /// Set on the pool's threads: the address near the bottom of the thread's stack.
    static STACK_BASE: Cell<usize> = const { Cell::new(0) };
    /// The deadline of the job running on this thread.
    static JOB_DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The most stack this thread has used, as seen by [`stack_used`].
    static STACK_HIGH: Cell<usize> = const { Cell::new(0) };
}

/// How many plugin threads there are: one per core, at least two.
pub fn plugin_threads() -> usize {
    std::thread::available_parallelism()
        .map(std::num::NonZeroUsize::get)
        .unwrap_or(2)
        .max(2)
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<&'static Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        }));
        for i in 0..plugin_threads() {
            start_worker(pool, i);
        }
        pool
    })
}

/// Starts plugin thread `i`. A thread that cannot be started leaves the others.
fn start_worker(pool: &'static Pool, i: usize) {
    let _ = std::thread::Builder::new()
        .name(format!("laurel-plugin-{i}"))
        .stack_size(STACK_BYTES)
        .spawn(move || worker(pool, i));
}

fn worker(pool: &'static Pool, i: usize) {
    let base = stack_address();
    STACK_BASE.with(|b| b.set(base));
    loop {
        let job = {
            let Ok(mut queue) = pool.queue.lock() else {
                return;
            };
            loop {
                if let Some(job) = queue.pop_front() {
                    break job;
                }
                queue = match pool.ready.wait(queue) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        // A job that panics loses its own answer (its caller sees the channel close); the
        // thread goes on with the next.
        let meter = super::memory::Meter::job();
        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
        JOB_DEADLINE.with(|d| d.set(None));
        if meter.job_peak() > super::memory::RELEASE_AFTER_BYTES {
            super::memory::release();
        }
        if STACK_HIGH.with(Cell::get) > RECYCLE_STACK_BYTES {
            // Its stack goes back to the system with it; a fresh thread takes its place.
            start_worker(pool, i);
            return;
        }
    }
}

/// An address on the current thread's stack.
#[inline(never)]
fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Whether the current thread is a plugin thread.
pub fn on_plugin_thread() -> bool {
    STACK_BASE.with(Cell::get) != 0
}

/// Bytes of stack in use on this plugin thread (0 elsewhere); noted as the thread's high
/// water.
pub(crate) fn stack_used() -> usize {
    let base = STACK_BASE.with(Cell::get);
    if base == 0 {
        return 0;
    }
    let used = base.saturating_sub(stack_address());
    STACK_HIGH.with(|h| {
        if used > h.get() {
            h.set(used);
        }
    });
    used
}

/// The deadline of the job running on this thread, if it has one.
pub(crate) fn job_deadline() -> Option<Instant> {
    JOB_DEADLINE.with(Cell::get)
}

fn enqueue(job: Job) -> Result<(), Busy> {
    let pool = pool();
    let Ok(mut queue) = pool.queue.lock() else {
        return Err(Busy);
    };
    if queue.len() >= QUEUE_CAPACITY {
        return Err(Busy);
    }
    queue.push_back(job);
    drop(queue);
    pool.ready.notify_one();
    Ok(())
}

fn with_deadline(deadline: Option<Instant>, f: impl FnOnce()) {
    let outer = JOB_DEADLINE.with(Cell::get);
    let effective = match (outer, deadline) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    JOB_DEADLINE.with(|d| d.set(effective));
    f();
    JOB_DEADLINE.with(|d| d.set(outer));
}

/// Runs `job` on a plugin thread, with `deadline` for every plugin call it makes, and calls
/// `done` there with its result. Returns at once; for callers that must not block (an async
/// runtime's workers).
pub fn spawn_sandboxed<R, F, D>(deadline: Option<Instant>, job: F, done: D) -> Result<(), Busy>
where
    F: FnOnce() -> R + Send + 'static,
    D: FnOnce(R) + Send + 'static,
{
    enqueue(Box::new(move || {
        let mut out = None;
        with_deadline(deadline, || out = Some(job()));
        if let Some(r) = out {
            done(r);
        }
    }))
}

/// Why [`run_sandboxed`] has no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    /// Too many jobs are waiting.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// The job panicked (a bug in Laurel, never a plugin's doing: plugin failures are values).
    #[error("the job failed on its plugin thread")]
    Failed,
}

/// Runs `job` on a plugin thread with `deadline` for its plugin calls, and waits for its
/// result. On a plugin thread already, runs it in place.
pub fn run_sandboxed<R, F>(deadline: Option<Instant>, job: F) -> Result<R, SandboxError>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    if on_plugin_thread() {
        let mut out = None;
        with_deadline(deadline, || out = Some(job()));
        return out.ok_or(SandboxError::Failed);
    }
    let inherited = JOB_DEADLINE.with(Cell::get);
    let deadline = match (inherited, deadline) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    spawn_sandboxed(deadline, job, move |r| {
        let _ = tx.send(r);
    })?;
    rx.recv().map_err(|_| SandboxError::Failed)
}

/// The plugin clock: milliseconds since it started, advanced by its own thread every
/// [`TICK`]. Reading it costs an atomic load, so a script's deadline can be checked on every
/// operation; a late tick only delays the stop, since every call's elapsed time is checked
/// again when it returns.
pub(crate) fn clock_ms() -> u64 {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let origin = Instant::now();
        let _ = std::thread::Builder::new()
            .name("laurel-plugin-clock".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(TICK);
                    let ms = u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX);
                    CLOCK_MS.store(ms, Ordering::Relaxed);
                    for hook in TICK_HOOKS.get().into_iter().flatten() {
                        hook();
                    }
                }
            });
        let _ = CLOCK_ORIGIN.set(origin);
    });
    CLOCK_MS.load(Ordering::Relaxed)
}

static CLOCK_MS: AtomicU64 = AtomicU64::new(0);
static CLOCK_ORIGIN: OnceLock<Instant> = OnceLock::new();
/// Called on every tick (the wasm engine's epoch).
pub(crate) static TICK_HOOKS: OnceLock<Vec<Box<dyn Fn() + Send + Sync>>> = OnceLock::new();

/// An instant as a reading of the plugin clock (rounded up).
pub(crate) fn clock_reading(at: Instant) -> u64 {
    clock_ms();
    let Some(origin) = CLOCK_ORIGIN.get() else {
        return u64::MAX;
    };
    let ms = at
        .saturating_duration_since(*origin)
        .as_micros()
        .div_ceil(1_000);
    u64::try_from(ms).unwrap_or(u64::MAX)
}
