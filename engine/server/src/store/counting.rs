//! For tests: a memory store that counts what it is asked to read, by tree (entries read by
//! key, and entries read by scans), so that a test can require a request to read what its own
//! award holds and no more.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{
    AuditEntry, AuditRecord, Batch, Entries, Entry, MemoryStore, Store, StoreError, Tree,
    TreeEntries,
};

/// A memory store counting its reads.
#[derive(Default)]
pub struct Counting {
    inner: MemoryStore,
    /// By tree name: (entries read by key, entries read by scans).
    read: Mutex<BTreeMap<&'static str, (usize, usize)>>,
}

impl Counting {
    /// What was read since the last call, by tree name: (by key, by scans).
    pub fn taken(&self) -> BTreeMap<&'static str, (usize, usize)> {
        self.read
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    fn count(&self, tree: Tree, by_key: usize, by_scan: usize) {
        if let Ok(mut r) = self.read.lock() {
            let n = r.entry(tree.name()).or_default();
            n.0 += by_key;
            n.1 += by_scan;
        }
    }
}

impl Store for Counting {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.count(tree, 1, 0);
        self.inner.get(tree, key)
    }
    fn scan_from(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        let found = self.inner.scan_from(tree, prefix, after, limit)?;
        self.count(tree, 0, found.len());
        Ok(found)
    }
    fn last(&self, tree: Tree) -> Result<Option<Entry>, StoreError> {
        self.inner.last(tree)
    }
    fn commit(&self, batch: Batch, audit: AuditEntry) -> Result<AuditRecord, StoreError> {
        self.inner.commit(batch, audit)
    }
    fn restore(&self, entries: TreeEntries) -> Result<(), StoreError> {
        self.inner.restore(entries)
    }
    fn kind(&self) -> &'static str {
        "memory"
    }
}
