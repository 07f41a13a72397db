//! Memory a plugin call allocates, counted per thread by a global allocator that wraps the
//! program's own.
//!
//! rhai has no memory limit of its own: its size limits bound one string, array or map at a
//! time. So the program installs [`CountingAllocator`] as its global allocator; it adds every
//! allocation made on a thread to that thread's count. A rhai call notes the count when it
//! starts, checks it on every operation (the progress callback), and fails with the `memory`
//! limit as soon as the call holds more than its `memory_bytes`; the peak is checked again when
//! the call returns, so an allocation made inside one builtin (between two checks) is caught
//! too. The builtins that could allocate far more than their inputs in one step are replaced by
//! checked versions (`rhai_builtins.rs`), so that no single step can run away.
//!
//! A program that does not install the allocator (an integrator's) still gets every other
//! limit; [`memory_accounting`] tells whether it is on.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    /// Bytes allocated minus bytes freed on this thread since it started.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` since the last [`Meter::start`].
    static PEAK: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` since the last [`Meter::job`].
    static JOB_PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Called on a plugin thread after a job that held more than [`RELEASE_AFTER_BYTES`] at its
/// peak, so that the program's allocator can give the memory back to the system.
static RELEASE: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// A job that held more than this is followed by the release hook.
pub const RELEASE_AFTER_BYTES: u64 = 32 << 20;

/// Sets what gives freed memory back to the system after a job that held much (for glibc,
/// `malloc_trim(0)`; for mimalloc, `mi_collect(true)`). Once per program; later calls are
/// ignored.
pub fn set_memory_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// Runs the release hook, if one is set.
pub(crate) fn release() {
    if let Some(f) = RELEASE.get() {
        f();
    }
}

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A global allocator that counts, per thread, what is allocated through it, delegating to
/// `A` (the system allocator by default):
///
/// ```
/// #[global_allocator]
/// static ALLOCATOR: laurel::CountingAllocator = laurel::CountingAllocator::system();
///
/// fn main() {
///     assert!(laurel::memory_accounting());
/// }
/// ```
#[derive(Debug, Default)]
pub struct CountingAllocator<A = System> {
    inner: A,
}

impl CountingAllocator<System> {
    /// Counts what the system allocator allocates.
    pub const fn system() -> Self {
        Self { inner: System }
    }
}

impl<A> CountingAllocator<A> {
    /// Counts what `inner` allocates.
    pub const fn new(inner: A) -> Self {
        Self { inner }
    }
}

#[inline]
fn account(delta: isize) {
    // `const` thread locals without a destructor are always accessible, even while a thread
    // is being torn down, and never allocate.
    let _ = LIVE.try_with(|live| {
        let now = live.get().wrapping_add(delta);
        live.set(now);
        if delta > 0 {
            let _ = PEAK.try_with(|peak| {
                if now > peak.get() {
                    peak.set(now);
                }
            });
            let _ = JOB_PEAK.try_with(|peak| {
                if now > peak.get() {
                    peak.set(now);
                }
            });
        }
    });
}

#[inline]
fn size(layout: Layout) -> isize {
    isize::try_from(layout.size()).unwrap_or(isize::MAX)
}

// SAFETY: every method delegates to `inner` with the caller's arguments unchanged and returns
// its result unchanged; the bookkeeping touches only `Cell`s in `const` thread locals, which
// neither allocate nor unwind.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which `inner` has too.
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null() {
            account(size(layout));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if !p.is_null() {
            account(size(layout));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `inner` with `layout` (the caller's contract).
        unsafe { self.inner.dealloc(ptr, layout) };
        account(-size(layout));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract, which `inner` has too.
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let grown = isize::try_from(new_size).unwrap_or(isize::MAX) - size(layout);
            account(grown);
        }
        p
    }
}

/// Whether the program counts allocations (it installed [`CountingAllocator`]), so that
/// plugin calls have a memory limit beyond rhai's size limits.
pub fn memory_accounting() -> bool {
    if INSTALLED.load(Ordering::Relaxed) {
        return true;
    }
    // Any allocation through the counting allocator moves this thread's count.
    let before = LIVE.with(Cell::get);
    let probe = std::hint::black_box(vec![0u8; 64]);
    let during = LIVE.with(Cell::get);
    drop(probe);
    let on = during != before;
    if on {
        INSTALLED.store(true, Ordering::Relaxed);
    }
    on
}

/// Measures what the current thread allocates from now on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meter {
    base: isize,
}

impl Meter {
    /// Starts measuring: the peak is reset to what the thread holds now.
    pub(crate) fn start() -> Self {
        let base = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(base));
        Self { base }
    }

    /// Starts measuring a whole job, which may hold several calls' meters.
    pub(crate) fn job() -> Self {
        let base = LIVE.with(Cell::get);
        JOB_PEAK.with(|p| p.set(base));
        Self { base }
    }

    /// The most held at any moment since [`Meter::job`].
    pub(crate) fn job_peak(&self) -> u64 {
        u64::try_from(JOB_PEAK.with(Cell::get).saturating_sub(self.base)).unwrap_or(0)
    }

    /// Bytes held now beyond what the thread held at the start.
    pub(crate) fn held(&self) -> u64 {
        u64::try_from(LIVE.with(Cell::get).saturating_sub(self.base)).unwrap_or(0)
    }

    /// The most held at any moment since the start.
    pub(crate) fn peak(&self) -> u64 {
        u64::try_from(PEAK.with(Cell::get).saturating_sub(self.base)).unwrap_or(0)
    }
}
