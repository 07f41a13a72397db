//! Indexes derived from one tree's values and kept in [`Tree::Meta`] by every commit that
//! writes that tree, in the same atomic, audited batch (the people by award, the open rounds):
//! a reader finds a few entries without reading the whole tree, and the index never drifts
//! from what it indexes, whoever writes it.
//!
//! An index is complete once its `built` key exists. A store written before the index was kept
//! lacks it: the first commit that writes the tree then indexes every entry stored before it,
//! and until then readers read the tree whole. An index entry's value is the key of the entry
//! it stands for. Indexes narrow, they never decide: readers load each entry named and check
//! it (on PostgreSQL two processes building an index at once may each write an entry the other
//! has just removed, which then only costs a read).

use std::collections::{BTreeMap, BTreeSet};

use super::tally::{Reads, before, unexpected, written};
use super::{Batch, Store, StoreError, Tree};

/// An index of `tree` kept in [`Tree::Meta`].
pub(crate) struct Derived {
    /// The tree indexed.
    pub tree: Tree,
    /// The key that says the index is complete.
    pub built: &'static [u8],
    /// The index keys of an entry of `tree` (its key, its value).
    pub entries: fn(&[u8], &[u8]) -> BTreeSet<Vec<u8>>,
}

impl Derived {
    /// Adds to `batch` the index entries its writes of the tree change: called by each store
    /// under its commit lock, before the audit record is made. An entry's old value is the
    /// one the batch expects or, without an expectation, the one stored now.
    pub(crate) fn keep(&self, batch: &mut Batch, store: &mut dyn Reads) -> Result<(), StoreError> {
        let writes = written(batch, self.tree);
        if writes.is_empty() {
            return Ok(());
        }
        // The last word on each index key wins.
        let mut last: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        if store.get(Tree::Meta, self.built)?.is_none() {
            // Once, from everything stored before this batch.
            for (k, v) in store.scan(self.tree, b"")? {
                for e in (self.entries)(&k, &v) {
                    last.insert(e, Some(k.clone()));
                }
            }
            last.insert(self.built.to_vec(), Some(b"complete".to_vec()));
        }
        // Values as this batch leaves them so far (a batch may write one key twice).
        let mut now: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        for (k, new) in writes {
            let old = before(batch, &now, store, self.tree, &k)?;
            let was = old.map(|v| (self.entries)(&k, &v)).unwrap_or_default();
            let is = new
                .as_deref()
                .map(|v| (self.entries)(&k, v))
                .unwrap_or_default();
            for gone in was.difference(&is) {
                last.insert(gone.clone(), None);
            }
            for added in is.difference(&was) {
                last.insert(added.clone(), Some(k.clone()));
            }
            now.insert(k, new);
        }
        for (k, v) in last {
            batch.writes.push((Tree::Meta, k, v));
        }
        Ok(())
    }

    /// The keys [`Derived::keep`] may read for `batch` (see [`super::tally::reads`]): whether
    /// the index is built, and the entries the batch writes without expecting a value.
    pub(crate) fn reads(&self, batch: &Batch) -> Vec<(Tree, Vec<u8>)> {
        let mut keys = unexpected(batch, self.tree);
        if batch.writes.iter().any(|(t, _, _)| *t == self.tree) {
            keys.push((Tree::Meta, self.built.to_vec()));
        }
        keys
    }

    /// The keys (of the indexed tree) the index names under `prefix`, in order; `None` while
    /// the index is not built.
    pub(crate) fn named(
        &self,
        store: &dyn Store,
        prefixes: &[Vec<u8>],
    ) -> Result<Option<BTreeSet<Vec<u8>>>, StoreError> {
        if store.get(Tree::Meta, self.built)?.is_none() {
            return Ok(None);
        }
        let mut keys = BTreeSet::new();
        for p in prefixes {
            keys.extend(store.scan(Tree::Meta, p)?.into_iter().map(|(_, v)| v));
        }
        Ok(Some(keys))
    }
}
