//! The in-memory store, for unit tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{AuditEntry, AuditRecord, Batch, Entries, GENESIS, Store, StoreError, Tree, json, now};

type Trees = BTreeMap<Tree, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Trees of ordered maps under one lock.
#[derive(Debug, Default)]
pub struct MemoryStore {
    trees: Mutex<Trees>,
}

impl Store for MemoryStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let trees = self
            .trees
            .lock()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(trees.get(&tree).and_then(|t| t.get(key).cloned()))
    }

    fn scan(&self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        let trees = self
            .trees
            .lock()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(trees
            .get(&tree)
            .map(|t| {
                t.range(prefix.to_vec()..)
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn commit(&self, batch: Batch, audit: AuditEntry) -> Result<AuditRecord, StoreError> {
        let mut trees = self
            .trees
            .lock()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let (seq, prev) = match trees.get(&Tree::Audit).and_then(|t| t.iter().next_back()) {
            Some((k, v)) => {
                let last: AuditRecord = serde_json::from_slice(v)
                    .map_err(|e| StoreError::Corrupt("audit", e.to_string()))?;
                (
                    u64::from_be_bytes(k.as_slice().try_into().unwrap_or_default()) + 1,
                    last.hash,
                )
            }
            None => (1, GENESIS.to_owned()),
        };
        let record = AuditRecord::chain(audit, seq, now(), prev);
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
            .insert(seq.to_be_bytes().to_vec(), json(&record));
        Ok(record)
    }
}
