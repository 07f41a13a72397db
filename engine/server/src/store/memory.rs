//! The in-memory store: the contract without a disk, for tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{
    AuditEntry, AuditRecord, Batch, Entries, Store, StoreError, Tree, escape_key, json, next_record,
};

type Trees = BTreeMap<Tree, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Trees of ordered maps under one lock.
#[derive(Debug, Default)]
pub struct MemoryStore {
    trees: Mutex<Trees>,
}

fn poisoned(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl MemoryStore {
    /// Removes a key behind the chain's back, as damage would.
    #[cfg(test)]
    pub fn remove_for_tests(&self, tree: Tree, key: &[u8]) {
        if let Ok(mut t) = self.trees.lock() {
            t.entry(tree).or_default().remove(key);
        }
    }
}

impl Store for MemoryStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let trees = self.trees.lock().map_err(poisoned)?;
        Ok(trees.get(&tree).and_then(|t| t.get(key).cloned()))
    }

    fn scan_from(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        let trees = self.trees.lock().map_err(poisoned)?;
        let start = match after {
            Some(a) => std::ops::Bound::Excluded(a.to_vec()),
            None => std::ops::Bound::Included(prefix.to_vec()),
        };
        Ok(trees
            .get(&tree)
            .map(|t| {
                t.range::<Vec<u8>, _>((start, std::ops::Bound::Unbounded))
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .take(limit)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn last(&self, tree: Tree) -> Result<Option<super::Entry>, StoreError> {
        let trees = self.trees.lock().map_err(poisoned)?;
        Ok(trees
            .get(&tree)
            .and_then(|t| t.last_key_value())
            .map(|(k, v)| (k.clone(), v.clone())))
    }

    fn commit(&self, mut batch: Batch, audit: AuditEntry) -> Result<AuditRecord, StoreError> {
        let mut trees = self.trees.lock().map_err(poisoned)?;
        for (tree, key, value) in &batch.expects {
            let now = trees.get(tree).and_then(|t| t.get(key));
            if now != value.as_ref() {
                return Err(StoreError::Conflict {
                    tree: tree.name(),
                    key: escape_key(key),
                });
            }
        }
        super::indexes::keep_all(&mut batch, &mut Locked(&trees))?;
        let record = next_record(
            trees
                .get(&Tree::Audit)
                .and_then(|t| t.iter().next_back())
                .map(|(k, v)| (k.as_slice(), v.as_slice())),
            audit,
            &mut batch,
            trees
                .get(&Tree::Meta)
                .and_then(|t| t.get(super::audit_index::FROM))
                .map(Vec::as_slice),
        )?;
        for (tree, key, value) in batch.writes {
            let t = trees.entry(tree).or_default();
            match value {
                Some(v) => {
                    t.insert(key, v);
                }
                None => {
                    t.remove(&key);
                }
            }
        }
        trees
            .entry(Tree::Audit)
            .or_default()
            .insert(record.seq.to_be_bytes().to_vec(), json(&record));
        Ok(record)
    }

    fn kind(&self) -> &'static str {
        "memory"
    }

    fn restore(&self, entries: super::TreeEntries) -> Result<(), StoreError> {
        let mut trees = self.trees.lock().map_err(poisoned)?;
        for (tree, key, value) in entries {
            trees.entry(tree).or_default().insert(key, value);
        }
        Ok(())
    }
}

/// The trees read under the store's lock.
struct Locked<'a>(&'a Trees);

impl super::tally::Reads for Locked<'_> {
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.get(&tree).and_then(|t| t.get(key).cloned()))
    }
    fn scan(&mut self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        Ok(self
            .0
            .get(&tree)
            .into_iter()
            .flat_map(|t| t.range(prefix.to_vec()..))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}
