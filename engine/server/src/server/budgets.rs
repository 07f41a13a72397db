//! Requests counted per credential in a window: the state behind `ratelimit`'s answers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window budgets are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Requests counted per credential in the current window.
#[derive(Debug)]
pub struct Budgets {
    /// Requests a credential may make per window.
    pub per_window: u64,
    counts: Mutex<HashMap<Vec<u8>, (Instant, u64)>>,
}

impl Budgets {
    /// `per_window` requests a minute for each credential.
    pub fn new(per_window: u64) -> Self {
        Self {
            per_window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `who` at `now`: what is left, and seconds until the window turns.
    pub fn take(&self, who: Vec<u8>, now: Instant) -> (Option<u64>, u64) {
        let Ok(mut counts) = self.counts.lock() else {
            return (Some(self.per_window), WINDOW.as_secs());
        };
        if counts.len() > 100_000 {
            counts.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = counts.entry(who).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        let reset = WINDOW
            .saturating_sub(now.duration_since(entry.0))
            .as_secs()
            .max(1);
        if entry.1 >= self.per_window {
            return (None, reset);
        }
        entry.1 += 1;
        (Some(self.per_window - entry.1), reset)
    }
}
