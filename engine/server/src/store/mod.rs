//! Storage behind a small trait: trees of byte keys and JSON values, atomic batches that append
//! a hash-chained audit record, and durable commits. sled in production, memory in unit tests.

#[cfg(test)]
mod memory;
mod sled_store;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[cfg(test)]
pub use memory::MemoryStore;
pub use sled_store::SledStore;

/// The trees (tables) of the store. Keys are designed for prefix scans: `award \0 rest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tree {
    /// `award` -> award record.
    Awards,
    /// `award \0 version (u32 BE)` -> published version.
    Versions,
    /// `award \0 application` -> application record.
    Applications,
    /// `award \0 application \0 judge` -> evaluation.
    Marks,
    /// `award \0 judge` -> assignment.
    Assignments,
    /// `award \0 sequence (u64 BE)` -> stored results.
    Results,
    /// `sha256(key)` -> API key record.
    Keys,
    /// `sequence (u64 BE)` -> audit record.
    Audit,
    /// `sha256 (hex)` -> plugin file bytes (content-addressed).
    Files,
    /// `award \0 judge` -> judge.
    Judges,
    /// `award \0 round` -> round record.
    Rounds,
    /// `award \0 round \0 application \0 judge` -> evaluation.
    RoundMarks,
}

impl Tree {
    /// Every tree.
    pub const ALL: [Tree; 12] = [
        Tree::Awards,
        Tree::Versions,
        Tree::Applications,
        Tree::Marks,
        Tree::Assignments,
        Tree::Results,
        Tree::Keys,
        Tree::Audit,
        Tree::Files,
        Tree::Judges,
        Tree::Rounds,
        Tree::RoundMarks,
    ];

    /// The tree's name on disk.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Awards => "awards",
            Tree::Versions => "versions",
            Tree::Applications => "applications",
            Tree::Marks => "marks",
            Tree::Assignments => "assignments",
            Tree::Results => "results",
            Tree::Keys => "keys",
            Tree::Audit => "audit",
            Tree::Files => "files",
            Tree::Judges => "judges",
            Tree::Rounds => "rounds",
            Tree::RoundMarks => "round_marks",
        }
    }
}

/// A key made of parts separated by `\0` (ids never contain it).
pub fn key(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(p);
    }
    out
}

/// The prefix of every key that starts with `parts`.
pub fn prefix(parts: &[&[u8]]) -> Vec<u8> {
    let mut k = key(parts);
    k.push(0);
    k
}

/// Writes applied together, or not at all.
#[derive(Debug, Default)]
pub struct Batch {
    pub(crate) writes: Vec<(Tree, Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, tree: Tree, key: Vec<u8>, value: Vec<u8>) -> &mut Self {
        self.writes.push((tree, key, Some(value)));
        self
    }

    /// Removes `key` (nothing happens if it is absent).
    pub fn delete_if_present(&mut self, tree: Tree, key: Vec<u8>) -> &mut Self {
        self.writes.push((tree, key, None));
        self
    }

    /// Removes `key`.
    #[cfg(test)]
    pub fn delete(&mut self, tree: Tree, key: Vec<u8>) -> &mut Self {
        self.writes.push((tree, key, None));
        self
    }
}

/// What happened, by whom, before it is chained.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Who: an API key's id and role, or `system`.
    pub actor: String,
    /// What: `award.create`, `application.submit`, `marks.update`, ...
    pub action: String,
    /// On what: `award/application`, ...
    pub target: String,
    /// Details, never personal data.
    pub detail: serde_json::Value,
}

/// An audit record: an entry with its place in the chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditRecord {
    /// 1, 2, 3, ... without gaps.
    pub seq: u64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Details.
    pub detail: serde_json::Value,
    /// The previous record's hash (64 zeros for the first).
    pub prev: String,
    /// SHA-256 of this record's other fields, in canonical JSON.
    pub hash: String,
}

/// The hash of the first record's predecessor.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditRecord {
    /// Chains `entry` after a record with sequence `seq - 1` and hash `prev`.
    pub fn chain(entry: AuditEntry, seq: u64, at: String, prev: String) -> Self {
        let mut record = AuditRecord {
            seq,
            at,
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            detail: entry.detail,
            prev,
            hash: String::new(),
        };
        record.hash = record.digest();
        record
    }

    /// The hash this record should have.
    pub fn digest(&self) -> String {
        let body = serde_json::json!({
            "seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
            "target": self.target, "detail": self.detail, "prev": self.prev,
        });
        hex::encode(Sha256::digest(body.to_string().as_bytes()))
    }
}

/// Storage failures. Messages never contain stored data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed.
    #[error("storage failed: {0}")]
    Backend(String),
    /// A stored value does not decode.
    #[error("a stored value in `{0}` is corrupt: {1}")]
    Corrupt(&'static str, String),
}

/// Keys and values, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// A small key-value store with atomic, durable, audited batches.
pub trait Store: Send + Sync {
    /// The value at `key`.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every entry whose key starts with `prefix`, in key order.
    fn scan(&self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError>;
    /// Applies `batch` and appends `audit` to the chain atomically, and makes both durable
    /// before returning.
    fn commit(&self, batch: Batch, audit: AuditEntry) -> Result<AuditRecord, StoreError>;
}

/// Reads a JSON value.
pub fn get_json<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    tree: Tree,
    key: &[u8],
) -> Result<Option<T>, StoreError> {
    match store.get(tree, key)? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(tree.name(), e.to_string())),
        None => Ok(None),
    }
}

/// Reads every JSON value under a prefix.
pub fn scan_json<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    tree: Tree,
    prefix: &[u8],
) -> Result<Vec<T>, StoreError> {
    store
        .scan(tree, prefix)?
        .into_iter()
        .map(|(_, v)| {
            serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt(tree.name(), e.to_string()))
        })
        .collect()
}

/// Encodes a value for a batch.
pub fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The current time as RFC 3339 in UTC, with milliseconds.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Checks a chain of audit records: consecutive sequence numbers from 1, each record's hash,
/// and each link to its predecessor. Returns the problems found, first to last.
pub fn verify_chain(records: &[AuditRecord]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut prev_hash = GENESIS.to_owned();
    let mut expected = 1u64;
    for r in records {
        if r.seq != expected {
            problems.push(format!(
                "record {expected} is missing (found {} after {})",
                r.seq,
                expected - 1
            ));
        }
        if r.prev != prev_hash {
            problems.push(format!(
                "record {} does not follow its predecessor (prev {} != {})",
                r.seq,
                short(&r.prev),
                short(&prev_hash)
            ));
        }
        let digest = r.digest();
        if digest != r.hash {
            problems.push(format!(
                "record {} was altered (hash {} != {})",
                r.seq,
                short(&r.hash),
                short(&digest)
            ));
        }
        prev_hash = r.hash.clone();
        expected = r.seq + 1;
    }
    problems
}

fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u32) -> AuditEntry {
        AuditEntry {
            actor: "admin".into(),
            action: "test".into(),
            target: format!("t{n}"),
            detail: serde_json::json!({ "n": n }),
        }
    }

    fn contract(store: &dyn Store) {
        let mut b = Batch::new();
        b.put(Tree::Awards, key(&[b"a"]), b"1".to_vec()).put(
            Tree::Applications,
            key(&[b"a", b"x"]),
            b"2".to_vec(),
        );
        let r1 = store.commit(b, entry(1)).unwrap();
        assert_eq!((r1.seq, r1.prev.as_str()), (1, GENESIS));
        let mut b = Batch::new();
        b.put(Tree::Applications, key(&[b"a", b"y"]), b"3".to_vec())
            .put(Tree::Applications, key(&[b"ab", b"z"]), b"4".to_vec());
        let r2 = store.commit(b, entry(2)).unwrap();
        assert_eq!((r2.seq, r2.prev.clone()), (2, r1.hash.clone()));
        // A prefix scan stays within its award: `a\0` does not match `ab\0`.
        let scanned: Vec<Vec<u8>> = store
            .scan(Tree::Applications, &prefix(&[b"a"]))
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(scanned, vec![b"2".to_vec(), b"3".to_vec()]);
        let mut b = Batch::new();
        b.delete(Tree::Applications, key(&[b"a", b"x"]));
        store.commit(b, entry(3)).unwrap();
        assert_eq!(
            store.get(Tree::Applications, &key(&[b"a", b"x"])).unwrap(),
            None
        );
        let chain: Vec<AuditRecord> = scan_json(store, Tree::Audit, b"").unwrap();
        assert_eq!(chain.len(), 3);
        assert!(verify_chain(&chain).is_empty());
    }

    #[test]
    fn memory_store_keeps_the_contract() {
        contract(&MemoryStore::default());
    }

    #[test]
    fn sled_store_keeps_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        contract(&SledStore::open(dir.path()).unwrap());
    }

    #[test]
    fn verify_finds_altered_and_removed_records() {
        let store = MemoryStore::default();
        for n in 0..4 {
            store.commit(Batch::new(), entry(n)).unwrap();
        }
        let chain: Vec<AuditRecord> = scan_json(&store, Tree::Audit, b"").unwrap();
        let mut altered = chain.clone();
        altered[1].target = "forged".into();
        assert!(verify_chain(&altered)[0].contains("record 2 was altered"));
        let mut removed = chain.clone();
        removed.remove(2);
        let problems = verify_chain(&removed);
        assert!(problems[0].contains("record 3 is missing"), "{problems:?}");
    }
}
