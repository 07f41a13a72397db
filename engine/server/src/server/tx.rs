//! Read-modify-write against the store: every value a request reads in order to change it
//! becomes a condition of its commit, so two requests racing on the same record cannot both
//! succeed: the second gets a 409 (or is retried), never a silent overwrite.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::server::state::AppState;
use crate::store::{AuditEntry, AuditRecord, Batch, Entries, Store, StoreError, Tree, json};

/// A batch being prepared, with the values it depends on.
pub struct Tx<'a> {
    store: &'a dyn Store,
    batch: Batch,
    outbox_wake: &'a tokio::sync::Notify,
    schedule_wake: &'a tokio::sync::Notify,
    witness: Option<&'a super::witness::Witness>,
    metrics: &'a super::metrics::Metrics,
    /// Whether the commit is traced.
    traces: bool,
    /// What [`Tx::scan_once`] read.
    scanned: Vec<(Tree, Vec<u8>, Entries)>,
}

impl<'a> Tx<'a> {
    /// A transaction on the state's store.
    pub fn new(state: &'a AppState) -> Self {
        Self {
            store: state.store.as_ref(),
            batch: Batch::new(),
            outbox_wake: state.outbox_wake.as_ref(),
            schedule_wake: state.schedule_wake.as_ref(),
            witness: state.witness.as_deref(),
            metrics: state.metrics.as_ref(),
            traces: state.traces,
            scanned: Vec::new(),
        }
    }

    /// Reads `key`; the commit then requires it to be unchanged (still absent, if absent).
    pub fn read<T: DeserializeOwned>(
        &mut self,
        tree: Tree,
        key: &[u8],
    ) -> Result<Option<T>, ApiError> {
        let bytes = self.store.get(tree, key)?;
        let value = match &bytes {
            Some(b) => Some(
                serde_json::from_slice(b)
                    .map_err(|e| StoreError::Corrupt(tree.name(), e.to_string()))?,
            ),
            None => None,
        };
        self.batch.expect(tree, key.to_vec(), bytes);
        Ok(value)
    }

    /// Reads `key`'s raw bytes (an index entry that is not JSON); the commit then requires
    /// them to be unchanged.
    pub fn read_raw(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, ApiError> {
        let bytes = self.store.get(tree, key)?;
        self.batch.expect(tree, key.to_vec(), bytes.clone());
        Ok(bytes)
    }

    /// Requires `key` to hold `bytes` at commit (`None`: to be absent): what the request read
    /// and checked before the transaction began, unchanged since.
    pub fn expect(&mut self, tree: Tree, key: &[u8], bytes: Option<Vec<u8>>) {
        self.batch.expect(tree, key.to_vec(), bytes);
    }

    /// Requires `key` to be absent at commit (what is created must not exist, whoever else
    /// creates it meanwhile); returns whether it is absent now, so that the caller can answer
    /// at once.
    pub fn absent(&mut self, tree: Tree, key: &[u8]) -> Result<bool, ApiError> {
        let absent = self.store.get(tree, key)?.is_none();
        self.batch.expect(tree, key.to_vec(), None);
        Ok(absent)
    }

    /// Every entry under `prefix`, read once per transaction: a second call answers from the
    /// first (what one request reads twice, such as an award's webhook endpoints for each
    /// event it emits). No condition of the commit.
    pub fn scan_once(&mut self, tree: Tree, prefix: &[u8]) -> Result<Entries, ApiError> {
        if let Some((_, _, entries)) = self
            .scanned
            .iter()
            .find(|(t, p, _)| *t == tree && p.as_slice() == prefix)
        {
            return Ok(entries.clone());
        }
        let entries = self.store.scan(tree, prefix)?;
        self.scanned.push((tree, prefix.to_vec(), entries.clone()));
        Ok(entries)
    }

    /// Sets `key` to `value`.
    pub fn put<T: Serialize>(&mut self, tree: Tree, key: Vec<u8>, value: &T) {
        self.batch.put(tree, key, json(value));
    }

    /// Sets `key` to raw bytes.
    pub fn put_raw(&mut self, tree: Tree, key: Vec<u8>, value: Vec<u8>) {
        self.batch.put(tree, key, value);
    }

    /// Removes `key`.
    pub fn delete(&mut self, tree: Tree, key: Vec<u8>) {
        self.batch.delete_if_present(tree, key);
    }

    /// Commits, if nothing read changed meanwhile; 409 otherwise, with nothing written.
    pub fn commit(self, audit: AuditEntry) -> Result<AuditRecord, ApiError> {
        Ok(self.commit_or_conflict(audit)?)
    }

    /// [`Tx::commit`], with the store's own error: a caller that can run its request again
    /// tells a conflict (and its key) from any other failure.
    pub fn commit_or_conflict(self, audit: AuditEntry) -> Result<AuditRecord, StoreError> {
        let queues = self
            .batch
            .writes
            .iter()
            .any(|(tree, _, _)| *tree == Tree::Outbox);
        let reschedules = self.batch.writes.iter().any(|(tree, _, _)| {
            matches!(
                tree,
                Tree::Awards | Tree::Versions | Tree::Rounds | Tree::People
            )
        });
        let started = std::time::Instant::now();
        // On the calling thread, which for a request is one of the writes' runtime's (see
        // `listen::may_commit`): its wait for the flush holds no thread that answers other
        // requests. (`block_in_place` here instead cost a third of the write throughput on two
        // cores, and did not bring `GET /v1/health` under load near its idle latency.)
        let span = if self.traces {
            tracing::info_span!(
                "commit",
                otel.name = "commit",
                laurel.store = self.store.kind(),
                laurel.writes = self.batch.writes.len(),
                laurel.action = audit.action.as_str(),
                laurel.audit_seq = tracing::field::Empty,
            )
        } else {
            tracing::Span::none()
        };
        let committed = span.in_scope(|| self.store.commit(self.batch, audit));
        if let Ok(record) = &committed {
            span.record("laurel.audit_seq", record.seq);
        }
        self.metrics.commit(started.elapsed(), committed.is_ok());
        let record = committed?;
        if queues {
            self.outbox_wake.notify_one();
        }
        if reschedules {
            self.schedule_wake.notify_one();
        }
        if let Some(w) = self.witness {
            w.note(&record.head());
        }
        Ok(record)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { tree, key } => ApiError::Conflict(format!(
                "`{key}` ({tree}) changed while this request was handled: nothing was written; \
                 read it again and retry"
            )),
            StoreError::Unavailable(why) => ApiError::Unavailable(format!(
                "the database cannot take requests now ({why}): nothing was written; try again"
            )),
            // Said as it is: whether the write was stored is not known.
            StoreError::Stopped(why) => ApiError::StorageFailed(why),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
