//! The sled store: one tree per `Tree`, multi-tree transactions, and a flush before any commit
//! returns, so that an acknowledged write survives a crash.

use std::path::Path;
use std::sync::Mutex;

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{
    AuditEntry, AuditRecord, Batch, Entries, Store, StoreError, Tree, escape_key, json,
    next_record, writes_of,
};

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
        &self.trees[tree.index()]
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
        let last = self.tree(Tree::Audit).last().map_err(backend)?;
        let record = next_record(
            last.as_ref().map(|(k, v)| (k.as_ref(), v.as_ref())),
            audit,
            writes_of(&batch),
        )?;
        let record_bytes = json(&record);
        let seq = record.seq;
        let result: Result<(), TransactionError<(Tree, Vec<u8>)>> =
            self.trees.as_slice().transaction(|tx| {
                for (tree, key, value) in &batch.expects {
                    let now = tx[tree.index()].get(key.as_slice())?;
                    if now.as_deref() != value.as_deref() {
                        return Err(ConflictableTransactionError::Abort((*tree, key.clone())));
                    }
                }
                for (tree, key, value) in &batch.writes {
                    let t = &tx[tree.index()];
                    match value {
                        Some(v) => {
                            t.insert(key.as_slice(), v.as_slice())?;
                        }
                        None => {
                            t.remove(key.as_slice())?;
                        }
                    }
                }
                tx[Tree::Audit.index()].insert(&seq.to_be_bytes()[..], record_bytes.as_slice())?;
                Ok(())
            });
        match result {
            Ok(()) => {}
            Err(TransactionError::Abort((tree, key))) => {
                return Err(StoreError::Conflict {
                    tree: tree.name(),
                    key: escape_key(&key),
                });
            }
            Err(e) => return Err(backend(format!("{e:?}"))),
        }
        // Durable before it is acknowledged: sled only syncs every 500 ms on its own.
        self.db.flush().map_err(backend)?;
        Ok(record)
    }

    fn restore(&self, entries: super::TreeEntries) -> Result<(), StoreError> {
        let _guard = self.commit.lock().map_err(backend)?;
        for (tree, key, value) in entries {
            self.tree(tree).insert(key, value).map_err(backend)?;
        }
        self.db.flush().map_err(backend)?;
        Ok(())
    }
}
