//! Requests counted per credential in a window: the state behind `ratelimit`'s answers.
//!
//! A process alone counts each credential's minute from its first request. Several share the
//! clock's minutes (the same for every process), and each credential's count:
//! several on one database share each credential's count through the store
//! ([`crate::store::Store::add_requests`]): each process counts its own requests and adds
//! them to the shared count a few times a second (`share`); before answering a credential's
//! first request of a window, and any once it nears its budget, it adds them at once and reads
//! the installation's total, so that a budget is the installation's, not each process's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The window budgets are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// How often a process adds its requests to the shared counts.
pub const SHARE_EVERY: Duration = Duration::from_millis(250);

/// One credential's count in the current window.
#[derive(Debug, Default, Clone, Copy)]
struct Count {
    window: u64,
    /// This process's requests not yet added to the shared count.
    local: u64,
    /// Requests being added now.
    pending: u64,
    /// The installation's count as last read (this process's added requests included).
    shared: u64,
    /// Whether the installation's count was read in this window.
    read: bool,
}

impl Count {
    fn used(&self) -> u64 {
        self.shared + self.pending + self.local
    }
}

/// Requests counted per credential in the current window.
#[derive(Debug)]
pub struct Budgets {
    /// Requests a credential may make per window.
    pub per_window: u64,
    counts: Mutex<HashMap<Vec<u8>, Count>>,
    /// Windows are the clock's minutes, shared with other processes (else each credential's
    /// window starts at its first request).
    aligned: bool,
}

/// The window of the instant `unix` (seconds since 1970), and the seconds until it turns.
pub fn window_of(unix: u64) -> (u64, u64) {
    let w = WINDOW.as_secs();
    (unix / w, w - unix % w)
}

/// Requests to add to the shared counts: the window, and each credential's count.
pub type Unshared = (u64, Vec<(Vec<u8>, u64)>);

impl Budgets {
    /// `per_window` requests a minute for each credential.
    pub fn new(per_window: u64) -> Self {
        Self {
            per_window,
            counts: Mutex::new(HashMap::new()),
            aligned: false,
        }
    }

    /// `per_window` requests a minute for each credential, in the clock's minutes, counted
    /// with the other processes on the same store.
    pub fn across_processes(per_window: u64) -> Self {
        Self {
            aligned: true,
            ..Self::new(per_window)
        }
    }

    /// Counts a request of `who` at `unix` (seconds since 1970): what is left (`None`: over
    /// budget, not counted), and seconds until the window turns.
    pub fn take(&self, who: Vec<u8>, unix: u64) -> (Option<u64>, u64) {
        let w = WINDOW.as_secs();
        let Ok(mut counts) = self.counts.lock() else {
            return (Some(self.per_window), w);
        };
        let (window, reset) = if self.aligned {
            window_of(unix)
        } else {
            // The credential's own window, from its first request (`window` is its start).
            match counts.get(&who) {
                Some(c) if c.window <= unix && unix < c.window + w => {
                    (c.window, c.window + w - unix)
                }
                _ => (unix, w),
            }
        };
        if counts.len() > 100_000 {
            let aligned = self.aligned;
            counts.retain(|_, c| {
                if aligned {
                    c.window == window
                } else {
                    unix < c.window + w
                }
            });
        }
        let count = counts.entry(who).or_default();
        if count.window != window {
            *count = Count {
                window,
                ..Count::default()
            };
        }
        if count.used() >= self.per_window {
            return (None, reset);
        }
        count.local += 1;
        (Some(self.per_window - count.used()), reset)
    }

    /// Whether the installation's count of `who` is to be read before answering it: on its
    /// first request of the window here, and once it has used three quarters of its budget.
    pub fn to_read(&self, who: &[u8], unix: u64) -> bool {
        let (window, _) = window_of(unix);
        self.counts.lock().is_ok_and(|counts| {
            counts.get(who).is_none_or(|c| {
                c.window != window || !c.read || c.used() * 4 >= self.per_window * 3
            })
        })
    }

    /// This process's requests not yet shared, of the window of `unix`, for every credential
    /// counted in it (or `who` alone), now marked as being added.
    pub fn unshared(&self, who: Option<&[u8]>, unix: u64) -> Unshared {
        let (window, _) = window_of(unix);
        let mut out = Vec::new();
        if let Ok(mut counts) = self.counts.lock() {
            counts.retain(|_, c| c.window == window);
            if let Some(w) = who {
                counts.entry(w.to_vec()).or_insert(Count {
                    window,
                    ..Count::default()
                });
            }
            // Every credential of the window (to read what the other processes added), or
            // `who` alone.
            for (k, c) in counts.iter_mut() {
                if who.is_none_or(|w| w == k.as_slice()) {
                    c.pending += c.local;
                    out.push((k.clone(), c.local));
                    c.local = 0;
                }
            }
        }
        (window, out)
    }

    /// The installation's counts after adding `added` (from [`Budgets::unshared`]): `totals`
    /// in the same order, or `None` when adding failed (the requests count locally again).
    pub fn shared(&self, (window, added): &Unshared, totals: Option<&[u64]>) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        for (i, (k, n)) in added.iter().enumerate() {
            let Some(c) = counts.get_mut(k).filter(|c| c.window == *window) else {
                continue;
            };
            c.pending = c.pending.saturating_sub(*n);
            match totals.and_then(|t| t.get(i)) {
                Some(total) => {
                    c.shared = c.shared.max(*total);
                    c.read = true;
                }
                None => c.local += n,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Alone, a credential's minute starts at its first request, not at the clock's minute:
    /// a burst across the clock's minute gets no fresh budget.
    #[test]
    fn alone_a_window_starts_at_the_first_request() {
        let b = Budgets::new(2);
        assert_eq!(b.take(b"k".to_vec(), 100), (Some(1), 60));
        assert_eq!(b.take(b"k".to_vec(), 121), (Some(0), 39));
        assert_eq!(
            b.take(b"k".to_vec(), 159).0,
            None,
            "still the window of 100"
        );
        assert_eq!(
            b.take(b"k".to_vec(), 160),
            (Some(1), 60),
            "a new one from 160"
        );
        let shared = Budgets::across_processes(2);
        assert_eq!(
            shared.take(b"k".to_vec(), 100),
            (Some(1), 20),
            "the clock's minute"
        );
    }

    #[test]
    fn a_budget_runs_out_and_comes_back_with_the_window() {
        let b = Budgets::new(2);
        let t0 = 120;
        assert_eq!(b.take(b"k".to_vec(), t0), (Some(1), 60));
        assert_eq!(b.take(b"k".to_vec(), t0 + 1), (Some(0), 59));
        assert_eq!(b.take(b"k".to_vec(), t0).0, None, "over budget");
        assert_eq!(
            b.take(b"other".to_vec(), t0).0,
            Some(1),
            "budgets are per credential"
        );
        assert_eq!(b.take(b"k".to_vec(), t0 + 60).0, Some(1), "a new window");
    }

    /// Two processes' budgets over one shared count (what the store adds up): together they
    /// admit no more than the budget once each has read the other's requests.
    #[test]
    fn processes_sharing_counts_spend_one_budget() {
        let (a, b) = (Budgets::across_processes(10), Budgets::across_processes(10));
        let mut shared = 0u64;
        let mut share = |p: &Budgets, who: Option<&[u8]>| {
            let unshared = p.unshared(who, 0);
            let totals: Vec<u64> = unshared
                .1
                .iter()
                .map(|(_, n)| {
                    shared += n;
                    shared
                })
                .collect();
            p.shared(&unshared, Some(&totals));
        };
        for _ in 0..6 {
            assert!(a.take(b"k".to_vec(), 0).0.is_some());
        }
        share(&a, None);
        // B has not heard of A's six yet: it reads the shared count on the credential's first
        // request, and again near its budget.
        let mut admitted = 0;
        for _ in 0..10 {
            if b.to_read(b"k", 0) {
                share(&b, Some(b"k"));
            }
            if b.take(b"k".to_vec(), 0).0.is_some() {
                admitted += 1;
            }
            share(&b, None);
        }
        assert_eq!(admitted, 4, "B admits what A left of the budget");
        share(&a, None);
        assert_eq!(
            a.take(b"k".to_vec(), 0).0,
            None,
            "A now knows the budget is spent"
        );
        // A failed addition counts locally again, never lost.
        let c = Budgets::across_processes(10);
        c.take(b"k".to_vec(), 0);
        let unshared = c.unshared(None, 0);
        c.shared(&unshared, None);
        assert_eq!(c.unshared(None, 0).1, vec![(b"k".to_vec(), 1)]);
        // A budget of another minute starts afresh.
        assert_eq!(c.take(b"k".to_vec(), 60).0, Some(9));
    }
}
