//! Sealing on PostgreSQL. A commit that finds the chain's lock free seals, in its own
//! transaction, the entries waiting and its own. One that finds it held writes its audit entry
//! as *pending*, in the transaction that writes its data (so the entry is durable with what it
//! describes), and commits without waiting for the chain; then the first such commit of the
//! process to find nobody of its process sealing takes the chain's lock for all of them: their
//! entries sealed by another process meanwhile are read, and every entry waiting is sealed
//! (numbered, linked, hashed, indexed, written to the `audit` tree) in one durable
//! transaction, while the process's other commits wait for it in memory ([`Group`]). Commits
//! of different keys, from any process, thus no longer take turns through their own commit's
//! flush: one flush seals the entries of every commit that waited meanwhile (a group commit of
//! the chain), and the chain stays one gap-free sequence.
//!
//! The order is right for every key: a commit that writes a key another has written waited
//! for the other's locks, so its pending entry got a later number than the other's, and the
//! other's was visible (committed) before it; pending entries are sealed in their numbers'
//! order, and any entry sealed out of that order (committed after a later one was sealed)
//! shares no key it wrote with a commit sealed before it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Condvar, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::audit::{GENESIS, Write};
use super::{AuditEntry, AuditRecord, Batch, StoreError, Tree, audit_index, unescape_key};

/// The key of the chain's advisory lock ("laurel" in ASCII): held to seal, and by migrations
/// and restores.
pub(super) const COMMIT_LOCK: i64 = 0x0000_6c61_7572_656c;

/// The table of entries written but not yet chained (migration 2). `seq` is set when the entry
/// is sealed; the commit that wrote it then reads the number and removes the row.
pub(super) const PENDING_TABLE: &str = "CREATE TABLE IF NOT EXISTS laurel_audit_pending (
         id bigserial PRIMARY KEY,
         entry bytea NOT NULL,
         seq bigint,
         sealed_at timestamptz
     )";

/// Writes a commit's pending entry.
pub(super) const INSERT_PENDING: &str =
    "INSERT INTO laurel_audit_pending (entry) VALUES ($1) RETURNING id";

/// Of the entries `$1`, those sealed meanwhile by another process: removed, with their numbers
/// and records. (The record is read by a subquery, through the primary key whatever the plan.)
pub(super) const TAKE_SEALED: &str = "WITH done AS (
         DELETE FROM laurel_audit_pending WHERE id = ANY($1) AND seq IS NOT NULL
         RETURNING id, seq)
     SELECT done.id, done.seq,
         (SELECT a.value FROM laurel_kv a WHERE a.tree = 'audit' AND a.key = int8send(done.seq))
     FROM done";

/// Entries not sealed yet, in order (`$1`: the most at once).
pub(super) const UNSEALED: &str = "SELECT id, entry FROM laurel_audit_pending
     WHERE seq IS NULL ORDER BY id LIMIT $1";

/// Notes an entry's number, for the commit that wrote it.
pub(super) const MARK_SEALED: &str =
    "UPDATE laurel_audit_pending SET seq = $2, sealed_at = now() WHERE id = $1";

/// Removes sealed entries (the sealer's own: `$1`).
pub(super) const DELETE_PENDING: &str = "DELETE FROM laurel_audit_pending WHERE id = ANY($1)";

/// Sealed entries nobody came back for (their process stopped between its two transactions).
pub(super) const SWEEP: &str = "DELETE FROM laurel_audit_pending
     WHERE seq IS NOT NULL AND sealed_at < now() - interval '10 minutes'";

/// The most entries one transaction seals.
pub(super) const MOST_AT_ONCE: i64 = 4096;

/// An audit entry waiting for its place in the chain: everything of the record but its number
/// and links.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Pending {
    pub at: String,
    #[serde(flatten)]
    pub entry: AuditEntry,
    pub writes: Vec<Write>,
}

impl Pending {
    /// The pending entry of `entry`, for a batch writing `writes`, made at `at`.
    pub(super) fn new(entry: AuditEntry, writes: Vec<Write>, at: String) -> Self {
        Self { at, entry, writes }
    }

    /// The record it becomes as number `seq` after `prev` (unchained: `seq` 0), writing
    /// `writes`.
    pub(super) fn record(&self, seq: u64, prev: String, writes: Vec<Write>) -> AuditRecord {
        AuditRecord::chain(self.entry.clone(), seq, self.at.clone(), prev, writes)
    }
}

/// Entries sealed: each record, and every value to write (the records themselves, under
/// `audit`, and the audit index's entries), in order.
#[derive(Debug, Default)]
pub(super) struct Sealed {
    pub records: Vec<(i64, AuditRecord)>,
    pub writes: Vec<(Tree, Vec<u8>, Vec<u8>)>,
}

/// Chains `pending` (by their numbers, in order) after the chain's last record `last` (its key
/// and value), with the audit index's start `from` (see [`audit_index`]).
pub(super) fn seal(
    last: Option<(&[u8], &[u8])>,
    mut from: Option<Vec<u8>>,
    pending: &[(i64, Pending)],
) -> Result<Sealed, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt("audit", why);
    let (mut seq, mut prev) = match last {
        Some((k, v)) => {
            let last: AuditRecord =
                serde_json::from_slice(v).map_err(|e| corrupt(e.to_string()))?;
            let seq = u64::from_be_bytes(k.try_into().map_err(|_| corrupt("bad key".into()))?);
            (seq, last.hash)
        }
        None => (0, GENESIS.to_owned()),
    };
    let mut out = Sealed::default();
    for (id, entry) in pending {
        seq += 1;
        // The index's entries for this record, covered by it like every other value written.
        let mut index = Batch::new();
        for w in &entry.writes {
            if let (Some(tree), Some(key)) = (Tree::named(&w.tree), unescape_key(&w.key)) {
                index.writes.push((tree, key, None));
            }
        }
        let written = index.writes.len();
        audit_index::add(&mut index, seq, from.as_deref());
        index.writes.drain(..written);
        if from.is_none() {
            from = Some(seq.to_string().into_bytes());
        }
        let mut writes = entry.writes.clone();
        writes.extend(super::writes_of(&index));
        let record = entry.record(seq, prev, writes);
        prev = record.hash.clone();
        for (tree, key, value) in index.writes {
            out.writes.push((tree, key, value.unwrap_or_default()));
        }
        out.writes.push((
            Tree::Audit,
            seq.to_be_bytes().to_vec(),
            super::json(&record),
        ));
        out.records.push((*id, record));
    }
    Ok(out)
}

/// A process's commits whose entries wait for the chain: the first to find no other sealing
/// for them seals the entries of all that wait (its own among them), on its connection, in one
/// transaction; the others wait for it here and take their records, without a transaction of
/// their own.
#[derive(Default)]
pub(super) struct Group {
    state: Mutex<GroupState>,
    done: Condvar,
}

#[derive(Default)]
struct GroupState {
    /// Entries waiting for a sealer in this process.
    queued: Vec<i64>,
    /// Whether a commit of this process is sealing now.
    sealing: bool,
    /// Each entry sealed (or not, and why), until its commit takes it.
    sealed: HashMap<i64, Result<AuditRecord, String>>,
}

impl Group {
    /// The record of entry `id`, sealed by this commit (with `seal`, given every entry waiting
    /// in the process) or by another of the process's commits.
    pub(super) fn follow(
        &self,
        id: i64,
        seal: impl FnOnce(&[i64]) -> Result<BTreeMap<i64, AuditRecord>, StoreError>,
    ) -> Result<AuditRecord, String> {
        let mut seal = Some(seal);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.queued.push(id);
        loop {
            if let Some(sealed) = state.sealed.remove(&id) {
                return sealed;
            }
            if !state.sealing
                && let Some(seal) = seal.take()
            {
                state.sealing = true;
                let ids = std::mem::take(&mut state.queued);
                drop(state);
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| seal(&ids)))
                    .unwrap_or_else(|_| Err(StoreError::Backend("sealing failed".into())));
                state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                state.sealing = false;
                for i in ids {
                    let sealed = match &out {
                        Ok(records) => records
                            .get(&i)
                            .cloned()
                            .ok_or_else(|| format!("entry {i} was not sealed")),
                        Err(e) => Err(e.to_string()),
                    };
                    state.sealed.insert(i, sealed);
                }
                self.done.notify_all();
                continue;
            }
            state = self
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// How many entries wait for a sealer (tests).
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.state.lock().map(|s| s.queued.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, Store, audit, key, scan_json};

    fn entry(n: usize) -> AuditEntry {
        AuditEntry {
            actor: "system".into(),
            action: format!("test.{n}"),
            target: "a".into(),
            detail: serde_json::json!({ "n": n }),
        }
    }

    /// A record standing for entry `id` (tests of the group).
    fn record_of(id: i64) -> AuditRecord {
        Pending::new(entry(id as usize), Vec::new(), "t".into()).record(
            id as u64,
            "p".into(),
            Vec::new(),
        )
    }

    /// While one commit seals, the process's others queue; the first of them to find nobody
    /// sealing seals for all of them at once, and each takes its own record; a failure reaches
    /// every commit of the group that met it.
    #[test]
    fn commits_waiting_in_a_process_are_sealed_by_one_of_them() {
        let group = Group::default();
        let calls = Mutex::new(Vec::<Vec<i64>>::new());
        let release = std::sync::atomic::AtomicBool::new(false);
        let seal = |ids: &[i64]| {
            calls.lock().unwrap().push(ids.to_vec());
            // The first seal holds on until the other four wait behind it.
            while !release.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            if ids.contains(&4) {
                return Err(StoreError::Backend("the database went away".into()));
            }
            Ok(ids.iter().map(|i| (*i, record_of(*i))).collect())
        };
        let results: Vec<(i64, Result<AuditRecord, String>)> = std::thread::scope(|s| {
            let first = s.spawn(|| (0, group.follow(0, seal)));
            while calls.lock().unwrap().is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            let others: Vec<_> = (1..5)
                .map(|i| {
                    let group = &group;
                    s.spawn(move || (i, group.follow(i, seal)))
                })
                .collect();
            while group.queued() < 4 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            release.store(true, std::sync::atomic::Ordering::SeqCst);
            std::iter::once(first)
                .chain(others)
                .map(|h| h.join().unwrap())
                .collect()
        });
        let mut calls = calls.into_inner().unwrap();
        assert_eq!(calls.len(), 2, "{calls:?}");
        calls[1].sort_unstable();
        assert_eq!(calls, [vec![0], vec![1, 2, 3, 4]]);
        assert_eq!(results[0].1, Ok(record_of(0)));
        for (i, r) in &results[1..] {
            let failed = StoreError::Backend("the database went away".into()).to_string();
            assert_eq!(r, &Err(failed), "{i}");
        }
        assert!(group.state.lock().unwrap().sealed.is_empty());
    }

    /// Whether a key of `meta` is one of the audit index's, which the sealer writes.
    fn indexing(tree: Tree, key: &[u8]) -> bool {
        tree == Tree::Meta && (key.starts_with(b"audited") || key.starts_with(b"writers"))
    }

    /// Sealing pending entries gives the chain a store makes when it commits the same batches
    /// one by one: the same records, index entries and verdict, sealed in groups.
    #[test]
    fn sealing_pending_entries_chains_them_as_commits_would() {
        let direct = MemoryStore::default();
        for n in 0..7 {
            let mut b = Batch::new();
            b.put(
                Tree::Applications,
                key(&[
                    format!("award{}", n % 3).as_bytes(),
                    format!("app{n}").as_bytes(),
                ]),
                format!("{{\"n\":{n}}}").into_bytes(),
            );
            b.put(
                Tree::Keys,
                key(&[format!("k{}", n % 2).as_bytes()]),
                vec![n as u8],
            );
            direct.commit(b, entry(n)).unwrap();
        }
        let chain: Vec<AuditRecord> = scan_json(&direct, Tree::Audit, b"").unwrap();
        // The same data, without the chain and its index; each record as a pending entry.
        let sealed = MemoryStore::default();
        for tree in Tree::ALL {
            if tree == Tree::Audit {
                continue;
            }
            let kept = direct.scan(tree, b"").unwrap().into_iter();
            let kept: Vec<_> = kept
                .filter(|(k, _)| !indexing(tree, k))
                .map(|(k, v)| (tree, k, v))
                .collect();
            sealed.restore(kept).unwrap();
        }
        // Each as its row holds it: written as JSON and read back.
        let pending: Vec<(i64, Pending)> = chain
            .iter()
            .map(|r| {
                let writes = r
                    .writes
                    .iter()
                    .filter(|w| {
                        let k = unescape_key(&w.key).unwrap();
                        !indexing(Tree::named(&w.tree).unwrap(), &k)
                    })
                    .cloned()
                    .collect();
                let e = AuditEntry {
                    actor: r.actor.clone(),
                    action: r.action.clone(),
                    target: r.target.clone(),
                    detail: r.detail.clone(),
                };
                let row = super::super::json(&Pending::new(e, writes, r.at.clone()));
                (100 + r.seq as i64, serde_json::from_slice(&row).unwrap())
            })
            .collect();
        // Sealed in three groups, each after the chain as the one before left it.
        for group in [&pending[..2], &pending[2..3], &pending[3..]] {
            let last = sealed.last(Tree::Audit).unwrap();
            let from = sealed.get(Tree::Meta, audit_index::FROM).unwrap();
            let out = seal(
                last.as_ref().map(|(k, v)| (k.as_slice(), v.as_slice())),
                from,
                group,
            )
            .unwrap();
            assert_eq!(
                out.records.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                group.iter().map(|(id, _)| *id).collect::<Vec<_>>()
            );
            sealed.restore(out.writes).unwrap();
        }
        let resealed: Vec<AuditRecord> = scan_json(&sealed, Tree::Audit, b"").unwrap();
        assert_eq!(resealed, chain);
        assert!(audit::verify_chain(&resealed).is_empty());
        assert_eq!(
            audit::verify_state(&sealed, &resealed).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            direct.scan(Tree::Meta, b"").unwrap(),
            sealed.scan(Tree::Meta, b"").unwrap()
        );
    }
}
