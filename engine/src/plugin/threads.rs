//! The threads plugin code runs on: a bounded pool of threads with a known, large stack, shared
//! fairly between lanes, and a coarse clock that plugin deadlines are read from.
//!
//! A plugin call never runs on its caller's thread unless that thread is one of the pool's:
//! the hosts hop onto the pool (see [`run_sandboxed`]), so every call has the stack its wasm
//! stack limit assumes, whoever calls it (an async runtime's 2 MiB workers, a CLI's main
//! thread, an integrator's thread). A whole batch can be run on the pool with
//! [`run_sandboxed`] or [`spawn_sandboxed`], so that its plugin calls run in place, without a
//! hop each.
//!
//! **Lanes.** Jobs are queued by [`Lane`] (a server gives each award its own, and anonymous
//! validation one for all): the threads take jobs from the lanes in turn, a lane never runs on
//! more threads at once than its share, and never queues more than its bound, so one busy
//! award cannot starve the others. A full lane or pool refuses at once with [`Busy`].
//!
//! A job may carry a deadline: every plugin call it makes stops at the earlier of its own
//! timeout and the job's deadline, and once the deadline has passed every further call fails at
//! once, so a batch whose plugins overrun is answered, with their errors, when the deadline
//! passes.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The stack of every plugin thread: room for the wasm stack of a call
/// (`sandbox::WASM_STACK`) and the host's frames around it; pages are only committed when
/// touched.
pub const STACK_BYTES: usize = 64 << 20;
/// Jobs that may wait for a thread, all lanes together; more are refused with [`Busy`].
pub const QUEUE_CAPACITY: usize = 4_096;
/// Jobs that may wait in one bounded lane.
pub const LANE_CAPACITY: usize = 64;
/// How often the plugin clock advances.
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// The pool or the job's lane is full: refused at once rather than queued without end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every plugin thread is busy and too many jobs are waiting")]
pub struct Busy;

/// A queue of jobs sharing the plugin threads fairly with the others: those of one award, of
/// anonymous callers, of a command-line batch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lane {
    key: String,
    bounded: bool,
}

impl Lane {
    /// A lane with a bounded share: it runs on fewer threads than there are (one of two), and
    /// at most [`LANE_CAPACITY`] of its jobs wait.
    pub fn shared(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            bounded: true,
        }
    }

    /// The lane of a program that is the pool's only user (a command-line batch, an
    /// integrator's): every thread, and the pool's whole queue.
    pub fn whole() -> Self {
        Self {
            key: String::new(),
            bounded: false,
        }
    }

    fn share(&self) -> usize {
        if self.bounded {
            (plugin_threads() - 1).max(1)
        } else {
            usize::MAX
        }
    }

    fn capacity(&self) -> usize {
        if self.bounded {
            LANE_CAPACITY
        } else {
            QUEUE_CAPACITY
        }
    }
}

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct LaneState {
    queue: VecDeque<Job>,
    running: usize,
}

#[derive(Default)]
struct Queues {
    lanes: HashMap<Lane, LaneState>,
    /// Lanes with waiting jobs, in the order the threads serve them.
    turn: VecDeque<Lane>,
    waiting: usize,
}

impl Queues {
    /// The next job any thread may run: from the first lane in turn below its share.
    fn next(&mut self) -> Option<(Lane, Job)> {
        let at = self.turn.iter().position(|lane| {
            self.lanes
                .get(lane)
                .is_some_and(|s| s.running < lane.share())
        })?;
        let lane = self.turn.remove(at)?;
        let state = self.lanes.get_mut(&lane)?;
        let job = state.queue.pop_front()?;
        state.running += 1;
        self.waiting -= 1;
        if !state.queue.is_empty() {
            self.turn.push_back(lane.clone());
        }
        Some((lane, job))
    }

    fn finished(&mut self, lane: &Lane) {
        if let Some(state) = self.lanes.get_mut(lane) {
            state.running = state.running.saturating_sub(1);
            if state.running == 0 && state.queue.is_empty() {
                self.lanes.remove(lane);
            }
        }
    }
}

struct Pool {
    queues: Mutex<Queues>,
    ready: Condvar,
}

thread_local! {
    /// Set on the pool's threads.
    static ON_POOL: Cell<bool> = const { Cell::new(false) };
    /// The deadline of the job running on this thread.
    static JOB_DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Set when a call on this thread ran out of wasm stack: its pages stay resident, so the
    /// thread is replaced after its job.
    static DEEP: Cell<bool> = const { Cell::new(false) };
}

/// How many plugin threads there are: one per core, at least two. Read once: the standard
/// library reads the cgroup's quota from `/proc` and `/sys` on every call (a sixth of the CPU
/// of a plugin request when it was read per job).
pub fn plugin_threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map(std::num::NonZeroUsize::get)
            .unwrap_or(2)
            .max(2)
    })
}

static POOL: OnceLock<&'static Pool> = OnceLock::new();

fn pool() -> &'static Pool {
    POOL.get_or_init(|| {
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            queues: Mutex::new(Queues::default()),
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
    ON_POOL.with(|b| b.set(true));
    loop {
        let (lane, job) = {
            let Ok(mut queues) = pool.queues.lock() else {
                return;
            };
            loop {
                if let Some(next) = queues.next() {
                    break next;
                }
                queues = match pool.ready.wait(queues) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        // A job that panics loses its own answer (its caller sees the channel close); the
        // thread goes on with the next.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
        JOB_DEADLINE.with(|d| d.set(None));
        if let Ok(mut queues) = pool.queues.lock() {
            queues.finished(&lane);
        }
        // A lane below its share again may have jobs another thread can take.
        pool.ready.notify_all();
        if DEEP.with(Cell::get) {
            // Its stack goes back to the system with it; a fresh thread takes its place.
            start_worker(pool, i);
            return;
        }
    }
}

/// Notes that a call on this thread used its whole wasm stack.
pub(crate) fn note_deep_stack() {
    DEEP.with(|d| d.set(true));
}

/// Whether the current thread is a plugin thread.
pub fn on_plugin_thread() -> bool {
    ON_POOL.with(Cell::get)
}

/// The deadline of the job running on this thread, if it has one.
pub(crate) fn job_deadline() -> Option<Instant> {
    JOB_DEADLINE.with(Cell::get)
}

/// What the plugin threads have done since the process started: for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PoolStats {
    /// Plugin threads.
    pub threads: usize,
    /// Jobs waiting for a thread now.
    pub waiting: usize,
    /// Jobs running now.
    pub running: usize,
    /// Jobs started so far.
    pub started: u64,
    /// Jobs refused because their lane or the pool was full ([`Busy`]).
    pub refused: u64,
    /// Time jobs spent waiting for a thread, in all.
    pub waited: Duration,
}

static STARTED_JOBS: AtomicU64 = AtomicU64::new(0);
static REFUSED_JOBS: AtomicU64 = AtomicU64::new(0);
static WAITED_MICROS: AtomicU64 = AtomicU64::new(0);

/// What the plugin threads are doing and have done (all zeros before the first job).
pub fn pool_stats() -> PoolStats {
    let (waiting, running) = POOL
        .get()
        .and_then(|p| p.queues.lock().ok())
        .map_or((0, 0), |q| {
            (q.waiting, q.lanes.values().map(|l| l.running).sum())
        });
    PoolStats {
        threads: if POOL.get().is_some() {
            plugin_threads()
        } else {
            0
        },
        waiting,
        running,
        started: STARTED_JOBS.load(Ordering::Relaxed),
        refused: REFUSED_JOBS.load(Ordering::Relaxed),
        waited: Duration::from_micros(WAITED_MICROS.load(Ordering::Relaxed)),
    }
}

fn enqueue(lane: Lane, job: Job) -> Result<(), Busy> {
    let refused = || {
        REFUSED_JOBS.fetch_add(1, Ordering::Relaxed);
        Err(Busy)
    };
    let pool = pool();
    let Ok(mut queues) = pool.queues.lock() else {
        return refused();
    };
    if queues.waiting >= QUEUE_CAPACITY {
        return refused();
    }
    let capacity = lane.capacity();
    let state = queues.lanes.entry(lane.clone()).or_default();
    if state.queue.len() >= capacity {
        return refused();
    }
    let queued = Instant::now();
    let job: Job = Box::new(move || {
        let waited = u64::try_from(queued.elapsed().as_micros()).unwrap_or(u64::MAX);
        WAITED_MICROS.fetch_add(waited, Ordering::Relaxed);
        STARTED_JOBS.fetch_add(1, Ordering::Relaxed);
        job();
    });
    let first = state.queue.is_empty();
    state.queue.push_back(job);
    queues.waiting += 1;
    if first {
        queues.turn.push_back(lane);
    }
    drop(queues);
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

/// Runs `job` on a plugin thread in `lane`, with `deadline` for every plugin call it makes,
/// and calls `done` there with its result. Returns at once (for callers that must not block:
/// an async runtime's workers); [`Busy`] when the lane or the pool is full.
pub fn spawn_in_lane<R, F, D>(
    lane: Lane,
    deadline: Option<Instant>,
    job: F,
    done: D,
) -> Result<(), Busy>
where
    F: FnOnce() -> R + Send + 'static,
    D: FnOnce(R) + Send + 'static,
{
    enqueue(
        lane,
        Box::new(move || {
            let mut out = None;
            with_deadline(deadline, || out = Some(job()));
            if let Some(r) = out {
                done(r);
            }
        }),
    )
}

/// [`spawn_in_lane`] in the whole pool's lane.
pub fn spawn_sandboxed<R, F, D>(deadline: Option<Instant>, job: F, done: D) -> Result<(), Busy>
where
    F: FnOnce() -> R + Send + 'static,
    D: FnOnce(R) + Send + 'static,
{
    spawn_in_lane(Lane::whole(), deadline, job, done)
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

/// The plugin clock: its own thread advances the wasm engines' epochs (the deadline of running
/// calls) every [`TICK`] while a call is running, and for [`IDLE_TICKS`] after the last one
/// ended (calls in a stream then never wait for it to wake); then it sleeps until a call
/// starts, so that an idle process is never woken by it.
fn start_clock() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let _ = std::thread::Builder::new()
            .name("laurel-plugin-clock".to_owned())
            .spawn(|| {
                let (lock, started) = &CLOCK_WAKE;
                loop {
                    let mut held = lock.lock().unwrap_or_else(|e| e.into_inner());
                    CLOCK_PARKED.store(true, Ordering::SeqCst);
                    // Only this thread advances the ticks.
                    while RUNNING_CALLS.load(Ordering::SeqCst) == 0
                        && TICKS.load(Ordering::SeqCst)
                            > LAST_CALL_TICK.load(Ordering::SeqCst) + IDLE_TICKS
                    {
                        held = started.wait(held).unwrap_or_else(|e| e.into_inner());
                    }
                    CLOCK_PARKED.store(false, Ordering::SeqCst);
                    drop(held);
                    std::thread::sleep(TICK);
                    TICKS.fetch_add(1, Ordering::SeqCst);
                    if let Ok(hooks) = TICK_HOOKS.lock() {
                        for hook in hooks.iter() {
                            hook();
                        }
                    }
                }
            });
    });
}

/// How many ticks the clock goes on after the last call ended.
const IDLE_TICKS: u64 = 100;

/// A call that may need the plugin clock, from [`ticking`] until it is dropped: the clock
/// ticks meanwhile, so the call is interrupted at its epoch deadline.
#[must_use]
pub(crate) struct Ticking(());

/// Keeps the plugin clock ticking until the value returned is dropped (waking it if it sleeps).
pub(crate) fn ticking() -> Ticking {
    start_clock();
    RUNNING_CALLS.fetch_add(1, Ordering::SeqCst);
    // A clock about to sleep sees the call, or is sleeping (or about to) and is woken: it
    // holds the lock from before it says it sleeps until it waits.
    if CLOCK_PARKED.load(Ordering::SeqCst) {
        let (lock, started) = &CLOCK_WAKE;
        let _held = lock.lock().unwrap_or_else(|e| e.into_inner());
        started.notify_one();
    }
    Ticking(())
}

impl Drop for Ticking {
    fn drop(&mut self) {
        LAST_CALL_TICK.store(TICKS.load(Ordering::SeqCst), Ordering::SeqCst);
        RUNNING_CALLS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Ticks of the plugin clock so far.
static TICKS: AtomicU64 = AtomicU64::new(0);
/// Calls running that need the clock.
static RUNNING_CALLS: AtomicU64 = AtomicU64::new(0);
/// The tick at which the last call ended.
static LAST_CALL_TICK: AtomicU64 = AtomicU64::new(0);
/// Whether the clock sleeps (or is about to) until a call starts.
static CLOCK_PARKED: AtomicBool = AtomicBool::new(false);
/// Where the clock sleeps.
static CLOCK_WAKE: (Mutex<()>, Condvar) = (Mutex::new(()), Condvar::new());
type TickHook = Box<dyn Fn() + Send + Sync>;
/// Called on every tick (the wasm engines' epochs).
static TICK_HOOKS: Mutex<Vec<TickHook>> = Mutex::new(Vec::new());

/// Calls `hook` on every tick of the plugin clock, from now on.
pub(crate) fn on_tick(hook: TickHook) {
    if let Ok(mut hooks) = TICK_HOOKS.lock() {
        hooks.push(hook);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool's counts follow its jobs: a job started and its wait counted; a lane over its
    /// capacity refused and counted (other tests share the pool: counts only grow).
    #[test]
    fn the_pools_counts_follow_its_jobs() {
        let before = pool_stats();
        assert_eq!(run_sandboxed(None, || 7).ok(), Some(7));
        let after = pool_stats();
        assert!(after.started > before.started, "{before:?} then {after:?}");
        assert!(after.waited >= before.waited);
        assert_eq!(after.threads, plugin_threads());
        // A lane of its own, filled past its capacity while its jobs are held.
        let lane = Lane::shared("the-pools-counts");
        let gate = std::sync::Arc::new((Mutex::new(false), Condvar::new()));
        let mut refused = 0;
        for _ in 0..LANE_CAPACITY + plugin_threads() + 2 {
            let gate = gate.clone();
            let held = move || {
                let (open, turned) = &*gate;
                let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
                while !*open {
                    open = turned.wait(open).unwrap_or_else(|e| e.into_inner());
                }
            };
            if spawn_in_lane(lane.clone(), None, held, |()| ()).is_err() {
                refused += 1;
            }
        }
        let full = pool_stats();
        assert!(refused > 0);
        assert!(full.refused >= after.refused + refused, "{full:?}");
        assert!(full.waiting + full.running > 0, "{full:?}");
        let (open, turned) = &*gate;
        *open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        turned.notify_all();
    }

    #[test]
    fn a_bounded_lane_never_takes_every_thread_and_lanes_take_turns() {
        let mut q = Queues::default();
        let a = Lane::shared("a");
        let b = Lane::shared("b");
        for lane in [&a, &a, &a, &b] {
            let state = q.lanes.entry(lane.clone()).or_default();
            let first = state.queue.is_empty();
            state.queue.push_back(Box::new(|| {}));
            q.waiting += 1;
            if first {
                q.turn.push_back(lane.clone());
            }
        }
        let share = (plugin_threads() - 1).max(1);
        let mut taken = Vec::new();
        while let Some((lane, _)) = q.next() {
            taken.push(lane.key.clone());
        }
        // Lane `a` runs at most its share at once; `b` gets its turn after a's first job.
        assert_eq!(taken.iter().filter(|k| *k == "a").count(), share.min(3));
        assert_eq!(taken[1], "b");
        q.finished(&a);
        assert!(q.next().is_some_and(|(lane, _)| lane == a) || share >= 3);
    }
}
