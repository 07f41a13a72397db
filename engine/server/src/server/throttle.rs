//! Slowing down guessing: failed authentications are counted per client address (and, for
//! sign-in, per account); past a few, each failure blocks that address for a growing delay,
//! answered with 429 and `Retry-After`.
//!
//! Several processes on one database count together ([`Throttle::across_processes`]): each
//! failure is added to the installation's count in the store, and a block earned on one
//! process holds on every other, so that a second process gives a guesser no second
//! allowance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::store::Store;

/// Failures allowed before any delay, by default.
pub const FREE_FAILURES: u32 = 5;
/// The longest block.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures older than this are forgotten.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses tracked at once; past it the stalest are forgotten first.
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// The block the `failures`-th failure earns when `free` pass without one: the n-th failure
/// past the free ones blocks for 2^(n-1) seconds, at most [`MAX_DELAY`].
fn delay_for(failures: u32, free: u32) -> Option<Duration> {
    let past = failures.checked_sub(free.saturating_add(1))?;
    Some(Duration::from_secs(1u64 << past.min(20)).min(MAX_DELAY))
}

/// Failure counts by client (an address, or `account:<id>`), in memory, and, when several
/// processes share the store, in the store too.
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
    free: u32,
    /// The store the processes share, and this throttle's name in it.
    shared: Option<(Arc<dyn Store>, &'static str)>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("free", &self.free)
            .field("shared", &self.shared.as_ref().map(|(_, name)| name))
            .finish_non_exhaustive()
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new(FREE_FAILURES)
    }
}

/// Milliseconds since 1970.
fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Says once while the store cannot be reached, and once when it can again.
fn reached<T>(r: Result<T, crate::store::StoreError>) -> Option<T> {
    use std::sync::atomic::{AtomicBool, Ordering};
    static FAILING: AtomicBool = AtomicBool::new(false);
    match r {
        Ok(v) => {
            if FAILING.swap(false, Ordering::Relaxed) {
                tracing::info!("failed attempts: counted with the other processes again");
            }
            Some(v)
        }
        Err(e) => {
            if !FAILING.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "failed attempts: the shared counts cannot be reached ({e}); counting in this process until they can"
                );
            }
            None
        }
    }
}

impl Throttle {
    /// A throttle that lets `free` failures pass before it delays, counting in this process.
    pub fn new(free: u32) -> Self {
        Self {
            entries: Mutex::default(),
            free,
            shared: None,
        }
    }

    /// A throttle that lets `free` failures pass before it delays, counting with every
    /// process on `store` under `name` (each throttle its own).
    pub fn across_processes(free: u32, name: &'static str, store: Arc<dyn Store>) -> Self {
        Self {
            shared: Some((store, name)),
            ..Self::new(free)
        }
    }

    /// The failures allowed before any delay.
    pub fn free(&self) -> u32 {
        self.free
    }

    /// How long `client` must still wait, if it is blocked, as this process knows.
    pub fn blocked(&self, client: &str, now: Instant) -> Option<Duration> {
        let entries = self.entries.lock().ok()?;
        let until = entries.get(client)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    /// Records a failure of `client` in this process; returns the block it now has, if any.
    /// The n-th failure past the free ones blocks for 2^(n-1) seconds, at most [`MAX_DELAY`].
    pub fn failed(&self, client: &str, now: Instant) -> Option<Duration> {
        let Ok(mut entries) = self.entries.lock() else {
            return None;
        };
        if entries.len() >= CAPACITY && !entries.contains_key(client) {
            entries.retain(|_, e| now.duration_since(e.last) < WINDOW);
            if entries.len() >= CAPACITY {
                let stalest = entries
                    .iter()
                    .min_by_key(|(_, e)| e.last)
                    .map(|(k, _)| k.clone());
                if let Some(k) = stalest {
                    entries.remove(&k);
                }
            }
        }
        let e = entries.entry(client.to_owned()).or_insert(Entry {
            failures: 0,
            last: now,
            blocked_until: None,
        });
        if now.duration_since(e.last) >= WINDOW {
            e.failures = 0;
            e.blocked_until = None;
        }
        e.failures = e.failures.saturating_add(1);
        e.last = now;
        let delay = delay_for(e.failures, self.free)?;
        e.blocked_until = Some(now + delay);
        Some(delay)
    }

    /// Holds a block the installation gave `client` in this process too.
    fn hold(&self, client: &str, now: Instant, wait: Duration) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some(e) = entries.get_mut(client)
        {
            e.blocked_until = e.blocked_until.max(Some(now + wait));
        }
    }

    /// How long `client` must still wait, if it is blocked here or, when the store is
    /// shared, by any process.
    pub async fn blocked_now(&self, client: &str) -> Option<Duration> {
        let now = Instant::now();
        if let Some(wait) = self.blocked(client, now) {
            return Some(wait);
        }
        let (store, name) = self.shared.as_ref()?;
        let (store, who) = (store.clone(), format!("{name}:{client}"));
        let until = tokio::task::spawn_blocking(move || store.failure_block(&who))
            .await
            .ok()
            .and_then(reached)
            .flatten()?;
        let wait = until.checked_sub(unix_ms()).filter(|w| *w > 0)?;
        Some(Duration::from_millis(u64::try_from(wait).ok()?))
    }

    /// Records a failure of `client`, here and, when the store is shared, in the
    /// installation's count: the block it now has, if any. Counted here alone while the store
    /// cannot be reached.
    pub async fn failed_now(&self, client: &str) -> Option<Duration> {
        let now = Instant::now();
        let local = self.failed(client, now);
        let Some((store, name)) = self.shared.as_ref() else {
            return local;
        };
        let (store, who, free) = (store.clone(), format!("{name}:{client}"), self.free);
        let at = unix_ms();
        let forget = i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX);
        let until = tokio::task::spawn_blocking(move || {
            store.add_failure(&who, at, forget, &|failures| {
                delay_for(failures, free).and_then(|d| i64::try_from(d.as_millis()).ok())
            })
        })
        .await
        .ok()
        .and_then(reached)
        .flatten();
        let Some(until) = until else {
            return local;
        };
        let wait = until
            .checked_sub(at)
            .filter(|w| *w > 0)
            .and_then(|w| u64::try_from(w).ok())
            .map(Duration::from_millis);
        if let Some(wait) = wait {
            self.hold(client, now, wait);
        }
        wait.max(local)
    }
}

/// Whole seconds to wait, rounded up (for `Retry-After`).
pub fn retry_after(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_free_failures_and_are_forgotten() {
        let t = Throttle::default();
        let start = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(t.failed("a", start), None);
        }
        assert_eq!(t.blocked("a", start), None);
        assert_eq!(t.failed("a", start), Some(Duration::from_secs(1)));
        assert_eq!(t.failed("a", start), Some(Duration::from_secs(2)));
        assert_eq!(t.failed("a", start), Some(Duration::from_secs(4)));
        assert_eq!(
            t.blocked("a", start + Duration::from_secs(1)),
            Some(Duration::from_secs(3))
        );
        assert_eq!(t.blocked("b", start), None, "addresses are apart");
        for _ in 0..40 {
            t.failed("a", start);
        }
        assert_eq!(t.blocked("a", start), Some(MAX_DELAY));
        let later = start + WINDOW + MAX_DELAY;
        assert_eq!(t.blocked("a", later), None);
        assert_eq!(t.failed("a", later), None, "old failures are forgotten");
        assert_eq!(retry_after(Duration::from_millis(1_001)), 2);
        assert_eq!(retry_after(Duration::from_secs(2)), 2);
    }
}
