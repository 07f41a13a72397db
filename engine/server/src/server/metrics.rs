//! What the process counts for Prometheus (`GET /metrics`, served by `metrics_http.rs`):
//! requests and their latency per route template and status class, store commits and their
//! latency. Plain data, below everything that records into it.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// A latency histogram.
#[derive(Debug, Default, Clone)]
pub(crate) struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    pub(crate) fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += s;
    }

    pub(crate) fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// Latency by route template, then by method and status class: a lookup by the template's
/// text, so that a request allocates nothing once its series exists.
pub(crate) type Requests = std::collections::HashMap<
    String,
    std::collections::HashMap<(axum::http::Method, &'static str), Histogram>,
>;

/// What the process counts.
#[derive(Debug)]
pub struct Metrics {
    pub(crate) started: Instant,
    /// (method, route template, status class) -> latency; keys shared, not copied, per request.
    pub(crate) requests: Mutex<Requests>,
    pub(crate) commits: Mutex<Histogram>,
    pub(crate) commit_failures: Mutex<u64>,
    /// Passes of the clock's work (reminders, digests) since the process started.
    pub(crate) scheduler_passes: std::sync::atomic::AtomicU64,
    /// Looks of the outbox worker at the outbox since the process started.
    pub(crate) outbox_passes: std::sync::atomic::AtomicU64,
    /// Submissions and updates run again after meeting another's change of their award's
    /// limit groups.
    pub(crate) limit_reruns: std::sync::atomic::AtomicU64,
    /// Store reads by operation (`get`, `scan`, `last`).
    pub(crate) store_reads: Mutex<std::collections::BTreeMap<&'static str, Histogram>>,
    /// Delivery attempts by result (`delivered`, `retry`, `gave_up`).
    pub(crate) deliveries: Mutex<std::collections::BTreeMap<&'static str, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            requests: Mutex::default(),
            commits: Mutex::default(),
            commit_failures: Mutex::default(),
            scheduler_passes: std::sync::atomic::AtomicU64::default(),
            outbox_passes: std::sync::atomic::AtomicU64::default(),
            limit_reruns: std::sync::atomic::AtomicU64::default(),
            store_reads: Mutex::default(),
            deliveries: Mutex::default(),
        }
    }
}

impl Metrics {
    /// Notes a store read and how long it took.
    pub fn store_read(&self, op: &'static str, took: Duration) {
        if let Ok(mut reads) = self.store_reads.lock() {
            reads.entry(op).or_default().observe(took);
        }
    }

    /// Notes a delivery attempt's result: `delivered`, `retry` or `gave_up`.
    pub fn delivery(&self, result: &'static str) {
        if let Ok(mut d) = self.deliveries.lock() {
            *d.entry(result).or_default() += 1;
        }
    }

    /// Notes a store commit and how long it took (its flush included).
    pub fn commit(&self, took: Duration, ok: bool) {
        if let Ok(mut h) = self.commits.lock() {
            h.observe(took);
        }
        if !ok && let Ok(mut n) = self.commit_failures.lock() {
            *n += 1;
        }
    }
}

/// A status's class, as series name it.
pub(crate) fn class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}
