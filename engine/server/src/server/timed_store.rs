//! The store as the server uses it: every read timed into `/metrics`
//! (`laurel_store_read_duration_seconds`, by operation), every other call passed through.

use std::sync::Arc;
use std::time::Instant;

use super::metrics::Metrics;
use crate::store::{
    AuditEntry, AuditRecord, Batch, Entries, Entry, Store, StoreError, StoreStatus, Tree,
    TreeEntries,
};

/// A store whose reads are timed.
pub struct TimedStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl TimedStore {
    /// `inner`, its reads timed into `metrics`.
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn timed<R>(&self, op: &'static str, f: impl FnOnce() -> R) -> R {
        let started = Instant::now();
        let out = f();
        self.metrics.store_read(op, started.elapsed());
        out
    }
}

impl Store for TimedStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.timed("get", || self.inner.get(tree, key))
    }

    fn scan_from(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.timed("scan", || self.inner.scan_from(tree, prefix, after, limit))
    }

    fn keys(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        self.timed("keys", || self.inner.keys(tree, prefix))
    }

    fn last(&self, tree: Tree) -> Result<Option<Entry>, StoreError> {
        self.timed("last", || self.inner.last(tree))
    }

    fn commit(&self, batch: Batch, audit: AuditEntry) -> Result<AuditRecord, StoreError> {
        self.inner.commit(batch, audit)
    }

    fn restore(&self, entries: TreeEntries) -> Result<(), StoreError> {
        self.inner.restore(entries)
    }

    fn status(&self) -> Result<StoreStatus, StoreError> {
        self.inner.status()
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn shares_budgets(&self) -> bool {
        self.inner.shares_budgets()
    }

    fn add_requests(
        &self,
        window: u64,
        counts: &[(Vec<u8>, u64)],
    ) -> Result<Option<Vec<u64>>, StoreError> {
        self.inner.add_requests(window, counts)
    }

    fn flushes(&self) -> Option<(u64, u64)> {
        self.inner.flushes()
    }

    fn add_failure(
        &self,
        who: &str,
        now_ms: i64,
        forget_ms: i64,
        delay: &(dyn Fn(u32) -> Option<i64> + Sync),
    ) -> Result<Option<i64>, StoreError> {
        self.inner.add_failure(who, now_ms, forget_ms, delay)
    }

    fn failure_block(&self, who: &str) -> Result<Option<i64>, StoreError> {
        self.inner.failure_block(who)
    }
}
