//! The sled store: one tree per `Tree`, multi-tree transactions, and a flush before any commit
//! returns, so that an acknowledged write survives a crash.

use std::path::Path;
use std::sync::Mutex;

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{AuditEntry, AuditRecord, Batch, Entries, GENESIS, Store, StoreError, Tree, json, now};

/// A sled database.
pub struct SledStore {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    /// Commits are serialised: the audit chain is one sequence, and sled's optimistic
    /// transactions would otherwise retry against each other.
    commit: Mutex<()>,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SledStore {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new().path(dir).open().map_err(backend)?;
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        Ok(Self {
            db,
            trees,
            commit: Mutex::new(()),
        })
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        let i = Tree::ALL.iter().position(|t| *t == tree).unwrap_or(0);
        &self.trees[i]
    }
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tree(tree)
            .get(key)
            .map_err(backend)?
            .map(|v| v.to_vec()))
    }

    fn scan(&self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        self.tree(tree)
            .scan_prefix(prefix)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(backend))
            .collect()
    }

    fn commit(&self, batch: Batch, audit: AuditEntry) -> Result<AuditRecord, StoreError> {
        let _guard = self.commit.lock().map_err(backend)?;
        let audit_tree = self.tree(Tree::Audit);
        let (seq, prev) = match audit_tree.last().map_err(backend)? {
            Some((k, v)) => {
                let last: AuditRecord = serde_json::from_slice(&v)
                    .map_err(|e| StoreError::Corrupt("audit", e.to_string()))?;
                let seq = u64::from_be_bytes(
                    k.as_ref()
                        .try_into()
                        .map_err(|_| StoreError::Corrupt("audit", "bad key".into()))?,
                );
                (seq + 1, last.hash)
            }
            None => (1, GENESIS.to_owned()),
        };
        let record = AuditRecord::chain(audit, seq, now(), prev);
        let record_bytes = json(&record);
        let trees: Vec<sled::Tree> = self.trees.clone();
        let result: Result<(), TransactionError<()>> = trees.as_slice().transaction(|tx| {
            for (tree, key, value) in &batch.writes {
                let i = Tree::ALL.iter().position(|t| t == tree).unwrap_or(0);
                let t = &tx[i];
                match value {
                    Some(v) => {
                        t.insert(key.as_slice(), v.as_slice())?;
                    }
                    None => {
                        t.remove(key.as_slice())?;
                    }
                }
            }
            let i = Tree::ALL
                .iter()
                .position(|t| *t == Tree::Audit)
                .unwrap_or(0);
            tx[i].insert(&seq.to_be_bytes()[..], record_bytes.as_slice())?;
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        result.map_err(|e| backend(format!("{e:?}")))?;
        // Durable before it is acknowledged: sled only syncs every 500 ms on its own.
        self.db.flush().map_err(backend)?;
        Ok(record)
    }
}
