//! Slowing down guessing: failed authentications are counted per client address (and, for
//! sign-in, per account); past a few, each failure blocks that address for a growing delay,
//! answered with 429 and `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Failure counts by client (an address, or `account:<id>`), in memory: a restart forgets
/// them, and each process of a shared database keeps its own.
#[derive(Debug)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
    free: u32,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new(FREE_FAILURES)
    }
}

impl Throttle {
    /// A throttle that lets `free` failures pass before it delays.
    pub fn new(free: u32) -> Self {
        Self {
            entries: Mutex::default(),
            free,
        }
    }

    /// How long `client` must still wait, if it is blocked.
    pub fn blocked(&self, client: &str, now: Instant) -> Option<Duration> {
        let entries = self.entries.lock().ok()?;
        let until = entries.get(client)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    /// Records a failure of `client`; returns the block it now has, if any. The n-th failure
    /// past the free ones blocks for 2^(n-1) seconds, at most [`MAX_DELAY`].
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
        let past = e.failures.checked_sub(self.free.saturating_add(1))?;
        let delay = Duration::from_secs(1u64 << past.min(20)).min(MAX_DELAY);
        e.blocked_until = Some(now + delay);
        Some(delay)
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
