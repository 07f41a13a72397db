//! Storage behind a small trait: trees of byte keys and JSON values, conditional atomic
//! batches that append a hash-chained audit record covering what they wrote, and durable
//! commits. sled in one process (the default), PostgreSQL for several, memory for tests and
//! for verifying a snapshot.

mod audit;
pub mod audit_index;
#[cfg(test)]
pub(crate) mod counting;
mod derived;
pub(crate) mod folders;
pub mod grantees;
mod indexes;
pub mod key_index;
mod memory;
pub mod open_rounds;
mod pg_chain;
/// The tests' throwaway PostgreSQL cluster, shared with the integration tests.
#[cfg(test)]
#[path = "../../../../tests/support/postgres.rs"]
#[allow(dead_code)]
pub(crate) mod pg_cluster;
mod pg_conn;
mod pg_seal;
mod pg_store;
mod pg_tls;
mod pg_wire;
mod sled_store;
pub mod tally;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use audit::{AuditEntry, AuditRecord, GENESIS, Head, Write, last_writes, verify_store};
#[cfg(test)]
use audit::{verify_chain, verify_state};
pub use memory::MemoryStore;
pub use pg_store::{PgOptions, PgStore, may_block_here, redact};
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
    /// `name` -> facts about the store itself (the data key's fingerprint).
    Meta,
    /// `award \0 sequence (u64 BE)` -> an audit record of another server, kept when an award
    /// was imported from it.
    History,
    /// `award \0 endpoint` -> a webhook endpoint.
    Webhooks,
    /// `message` -> a message waiting to be delivered (the durable outbox).
    Outbox,
    /// `award \0 endpoint \0 message` -> a message delivered, or given up on, with its attempts.
    Deliveries,
    /// `person` -> a person.
    People,
    /// `MAC of an e-mail address` -> person id.
    PeopleByEmail,
    /// `SHA-256 of a sign-in token` -> the token's person and expiry.
    Tokens,
    /// `SHA-256 of a session token` -> a session.
    Sessions,
    /// `award \0 sha256` -> an applicant's uploaded file.
    Uploads,
    /// `kind \0 award \0 …` -> when a scheduled task last ran (a round's reminder before it
    /// closes, an award's digest).
    Timers,
    /// `award \0 owner` -> an application being written, sealed (one per owner and award).
    Drafts,
    /// `SHA-256 of the caller's credential \0 Idempotency-Key` -> the first answer, sealed.
    Idempotency,
    /// `award \0 number (u64 BE)` -> a signed results certificate with its public bundle.
    Certificates,
}

impl Tree {
    /// Every tree.
    pub const ALL: [Tree; 24] = [
        Tree::Awards,
        Tree::Versions,
        Tree::Applications,
        Tree::Results,
        Tree::Keys,
        Tree::Audit,
        Tree::Files,
        Tree::Judges,
        Tree::Rounds,
        Tree::RoundMarks,
        Tree::Meta,
        Tree::History,
        Tree::Webhooks,
        Tree::Outbox,
        Tree::Deliveries,
        Tree::People,
        Tree::PeopleByEmail,
        Tree::Tokens,
        Tree::Sessions,
        Tree::Uploads,
        Tree::Timers,
        Tree::Drafts,
        Tree::Idempotency,
        Tree::Certificates,
    ];

    /// The tree's name on disk and in audit records.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Awards => "awards",
            Tree::Versions => "versions",
            Tree::Applications => "applications",
            Tree::Results => "results",
            Tree::Keys => "keys",
            Tree::Audit => "audit",
            Tree::Files => "files",
            Tree::Judges => "judges",
            Tree::Rounds => "rounds",
            Tree::RoundMarks => "round_marks",
            Tree::Meta => "meta",
            Tree::History => "history",
            Tree::Webhooks => "webhooks",
            Tree::Outbox => "outbox",
            Tree::Deliveries => "deliveries",
            Tree::People => "people",
            Tree::PeopleByEmail => "people_by_email",
            Tree::Tokens => "tokens",
            Tree::Sessions => "sessions",
            Tree::Uploads => "uploads",
            Tree::Timers => "timers",
            Tree::Drafts => "drafts",
            Tree::Idempotency => "idempotency",
            Tree::Certificates => "certificates",
        }
    }

    /// The tree with this name.
    pub fn named(name: &str) -> Option<Tree> {
        Tree::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Its place in [`Tree::ALL`].
    pub fn index(self) -> usize {
        Tree::ALL.iter().position(|t| *t == self).unwrap_or(0)
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

/// A key as readable text: `\0` as `/`, printable ASCII as itself (but `%` and `/`), any other
/// byte as `%XX`. Reversible with [`unescape_key`].
pub fn escape_key(key: &[u8]) -> String {
    let mut out = String::with_capacity(key.len());
    for &b in key {
        match b {
            0 => out.push('/'),
            b'%' | b'/' => out.push_str(&format!("%{b:02X}")),
            0x21..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The key an [`escape_key`] text stands for.
pub fn unescape_key(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' => out.push(0),
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

/// The SHA-256 of a stored value, as the audit chain records it.
pub fn value_digest(value: &[u8]) -> String {
    hex::encode(Sha256::digest(value))
}

/// Writes applied together, or not at all, and only if what they depend on is unchanged.
#[derive(Debug, Default)]
pub struct Batch {
    pub(crate) writes: Vec<(Tree, Vec<u8>, Option<Vec<u8>>)>,
    /// Each key the batch depends on, with the value it must still have (`None`: absent).
    pub(crate) expects: Vec<(Tree, Vec<u8>, Option<Vec<u8>>)>,
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

    /// Commits only if `key` still holds `value` (`None`: is still absent).
    pub fn expect(&mut self, tree: Tree, key: Vec<u8>, value: Option<Vec<u8>>) -> &mut Self {
        self.expects.push((tree, key, value));
        self
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
    /// The storage cannot take requests now (a database down, out of space or every connection
    /// busy): nothing was written; try again.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The store stopped serving: the disk refused a write after commits were applied in
    /// memory, so what this process holds may be ahead of what is stored. Restarting reads back
    /// what the disk holds.
    #[error("the store stopped: {0}")]
    Stopped(String),
    /// A key the batch depends on changed since it was read: nothing was written.
    #[error("`{key}` in `{tree}` changed since it was read")]
    Conflict {
        /// The tree.
        tree: &'static str,
        /// The key, escaped.
        key: String,
    },
}

/// One entry: its key and value.
pub type Entry = (Vec<u8>, Vec<u8>);
/// Keys and values, in key order.
pub type Entries = Vec<Entry>;

/// Entries of several trees.
pub type TreeEntries = Vec<(Tree, Vec<u8>, Vec<u8>)>;

/// A small key-value store with conditional, atomic, durable, audited batches.
pub trait Store: Send + Sync {
    /// The value at `key`.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every entry whose key starts with `prefix`, in key order.
    fn scan(&self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        self.scan_from(tree, prefix, None, usize::MAX)
    }
    /// At most `limit` entries whose key starts with `prefix` and comes after `after` (all of
    /// them without), in key order: one page of a list read from the store, whatever its size.
    fn scan_from(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StoreError>;
    /// The keys (no values) under a prefix, in key order: one read, however many.
    fn keys(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self
            .scan(tree, prefix)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }
    /// The entry with the greatest key of `tree`, read without scanning the tree (the audit
    /// chain's head at any length).
    fn last(&self, tree: Tree) -> Result<Option<Entry>, StoreError>;
    /// Checks every expectation of `batch`, applies its writes and appends `audit` to the
    /// chain (with the digest of every value written) atomically, and makes all of it durable
    /// before returning. Fails with [`StoreError::Conflict`], writing nothing, when an
    /// expectation does not hold.
    fn commit(&self, batch: Batch, audit: AuditEntry) -> Result<AuditRecord, StoreError>;
    /// Writes entries as they are, audit records included, and flushes: for restoring a backup
    /// or a salvage into an empty store, never for ordinary writes.
    fn restore(&self, entries: TreeEntries) -> Result<(), StoreError>;
    /// What the store is and whether it answers now, for readiness checks (`{"store": "sled"}`,
    /// or the database's latency and schema version).
    fn status(&self) -> Result<StoreStatus, StoreError> {
        self.scan(Tree::Keys, b"\xff")?;
        Ok(StoreStatus {
            store: self.kind(),
            ..StoreStatus::default()
        })
    }
    /// The kind of store: `sled`, `postgres` or `memory`.
    fn kind(&self) -> &'static str;
    /// The commits applied and the flushes to the device that made them durable, since the
    /// store was opened (commits share flushes), when it flushes itself (`None`: the
    /// database does).
    fn flushes(&self) -> Option<(u64, u64)> {
        None
    }
    /// Whether several processes share this store, and so their rate limits' counts.
    fn shares_budgets(&self) -> bool {
        false
    }
    /// Adds requests to the counts every process on this store shares, in the rate limits'
    /// window `window`: the installation's totals after adding, in the same order (`None`:
    /// the store serves one process, whose counts are its own).
    fn add_requests(
        &self,
        _window: u64,
        _counts: &[(Vec<u8>, u64)],
    ) -> Result<Option<Vec<u64>>, StoreError> {
        Ok(None)
    }
    /// Adds a failed attempt of `who` at `now_ms` (milliseconds since 1970) to the count every
    /// process on this store shares, the count forgotten first when its last failure is
    /// `forget_ms` old; `delay` says how long a block the count earns, in milliseconds. The
    /// instant the installation's block of `who` ends (milliseconds since 1970, 0 for none)
    /// (`None`: the store serves one process, whose counts are its own).
    fn add_failure(
        &self,
        _who: &str,
        _now_ms: i64,
        _forget_ms: i64,
        _delay: &(dyn Fn(u32) -> Option<i64> + Sync),
    ) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }
    /// The instant the installation's block of `who` ends (milliseconds since 1970, 0 for
    /// none) (`None`: the store serves one process).
    fn failure_block(&self, _who: &str) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }
}

/// What a store says of itself when asked whether it answers.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct StoreStatus {
    /// `sled`, `postgres` or `memory`.
    pub store: &'static str,
    /// The database, its password left out (PostgreSQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// How long one round trip took, in milliseconds (PostgreSQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// The schema version the database is at (PostgreSQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<i32>,
    /// The newest schema version this build knows (PostgreSQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_latest: Option<i32>,
}

/// The last record of the audit chain, if any.
pub fn head(store: &dyn Store) -> Result<Option<AuditRecord>, StoreError> {
    store
        .last(Tree::Audit)?
        .map(|(_, v)| serde_json::from_slice(&v))
        .transpose()
        .map_err(|e| StoreError::Corrupt("audit", e.to_string()))
}

/// The next audit record after `last` (the tree's last entry), for `batch`: adds to the batch
/// first the audit index's entries for the record (`indexed_from`: the index's stored start,
/// see [`audit_index`]), so that the record covers them with every other value it writes.
pub(crate) fn next_record(
    last: Option<(&[u8], &[u8])>,
    entry: AuditEntry,
    batch: &mut Batch,
    indexed_from: Option<&[u8]>,
) -> Result<AuditRecord, StoreError> {
    let (seq, prev) = match last {
        Some((k, v)) => {
            let last: AuditRecord = serde_json::from_slice(v)
                .map_err(|e| StoreError::Corrupt("audit", e.to_string()))?;
            let seq = u64::from_be_bytes(
                k.try_into()
                    .map_err(|_| StoreError::Corrupt("audit", "bad key".into()))?,
            );
            (seq + 1, last.hash)
        }
        None => (1, GENESIS.to_owned()),
    };
    audit_index::add(batch, seq, indexed_from);
    Ok(AuditRecord::chain(
        entry,
        seq,
        now(),
        prev,
        writes_of(batch),
    ))
}

/// What a batch writes, as the audit chain records it.
pub(crate) fn writes_of(batch: &Batch) -> Vec<Write> {
    batch
        .writes
        .iter()
        .map(|(tree, key, value)| Write {
            tree: tree.name().to_owned(),
            key: escape_key(key),
            sha256: value.as_deref().map(value_digest),
        })
        .collect()
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

    /// The contract every store keeps.
    fn contract(store: &dyn Store) {
        let mut b = Batch::new();
        b.put(Tree::Awards, key(&[b"a"]), b"1".to_vec()).put(
            Tree::Versions,
            key(&[b"a", b"x"]),
            b"2".to_vec(),
        );
        let r1 = store.commit(b, entry(1)).unwrap();
        assert_eq!((r1.seq, r1.prev.as_str()), (1, GENESIS));
        // The batch's writes, then the audit index's: the award's entry for the record, and,
        // in the first record indexed, where the index starts.
        let written: Vec<(&str, &str)> = r1
            .writes
            .iter()
            .map(|w| (w.tree.as_str(), w.key.as_str()))
            .collect();
        assert_eq!(
            written,
            [
                ("awards", "a"),
                ("versions", "a/x"),
                ("meta", "audited/a////////%01"),
                ("meta", "audited"),
            ]
        );
        assert_eq!(audit_index::of_award(store, "a").unwrap(), [1]);
        let mut b = Batch::new();
        b.put(Tree::Versions, key(&[b"a", b"y"]), b"3".to_vec())
            .put(Tree::Versions, key(&[b"ab", b"z"]), b"4".to_vec());
        let r2 = store.commit(b, entry(2)).unwrap();
        assert_eq!((r2.seq, r2.prev.clone()), (2, r1.hash.clone()));
        assert_eq!(audit_index::of_award(store, "a").unwrap(), [1, 2]);
        assert_eq!(audit_index::of_award(store, "ab").unwrap(), [2]);
        assert_eq!(audit_index::indexed_from(store).unwrap(), Some(1));
        // A prefix scan stays within its award: `a\0` does not match `ab\0`.
        let scanned: Vec<Vec<u8>> = store
            .scan(Tree::Versions, &prefix(&[b"a"]))
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(scanned, vec![b"2".to_vec(), b"3".to_vec()]);
        // Its keys alone, the same way.
        assert_eq!(
            store.keys(Tree::Versions, &prefix(&[b"a"])).unwrap(),
            vec![key(&[b"a", b"x"]), key(&[b"a", b"y"])]
        );
        assert_eq!(
            store.keys(Tree::Versions, b"").unwrap().len(),
            3,
            "an empty prefix: every key"
        );
        // The greatest key of a tree, read without a scan; nothing in an empty tree.
        assert_eq!(
            store.last(Tree::Versions).unwrap().map(|(_, v)| v),
            Some(b"4".to_vec())
        );
        assert_eq!(store.last(Tree::Webhooks).unwrap(), None);
        // A page after a key, within the prefix, at most `limit`.
        let page = |after: Option<&[u8]>, limit| -> Vec<Vec<u8>> {
            store
                .scan_from(Tree::Versions, &prefix(&[b"a"]), after, limit)
                .unwrap()
                .into_iter()
                .map(|(_, v)| v)
                .collect()
        };
        assert_eq!(page(None, 1), vec![b"2".to_vec()]);
        assert_eq!(page(Some(&key(&[b"a", b"x"])), 5), vec![b"3".to_vec()]);
        assert_eq!(page(Some(&key(&[b"a", b"y"])), 5), Vec::<Vec<u8>>::new());
        assert_eq!(head(store).unwrap().map(|r| r.seq), Some(2));
        let mut b = Batch::new();
        b.delete_if_present(Tree::Versions, key(&[b"a", b"x"]));
        store.commit(b, entry(3)).unwrap();
        assert_eq!(
            store.get(Tree::Versions, &key(&[b"a", b"x"])).unwrap(),
            None
        );
        // Conditional commits: a stale expectation writes nothing, not even an audit record.
        let mut stale = Batch::new();
        stale
            .expect(Tree::Awards, key(&[b"a"]), Some(b"0".to_vec()))
            .put(Tree::Awards, key(&[b"a"]), b"9".to_vec());
        assert!(matches!(
            store.commit(stale, entry(4)),
            Err(StoreError::Conflict { .. })
        ));
        let mut exists = Batch::new();
        exists.expect(Tree::Awards, key(&[b"a"]), None).put(
            Tree::Awards,
            key(&[b"a"]),
            b"9".to_vec(),
        );
        assert!(store.commit(exists, entry(4)).is_err());
        assert_eq!(store.get(Tree::Awards, b"a").unwrap(), Some(b"1".to_vec()));
        let mut fresh = Batch::new();
        fresh
            .expect(Tree::Awards, key(&[b"a"]), Some(b"1".to_vec()))
            .expect(Tree::Awards, key(&[b"new"]), None)
            .put(Tree::Awards, key(&[b"a"]), b"5".to_vec());
        store.commit(fresh, entry(4)).unwrap();
        let chain: Vec<AuditRecord> = scan_json(store, Tree::Audit, b"").unwrap();
        assert_eq!(chain.len(), 4);
        assert!(verify_chain(&chain).is_empty());
        assert!(verify_state(store, &chain).unwrap().is_empty());
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

    use super::pg_cluster as cluster;

    #[test]
    fn postgres_store_keeps_the_contract() {
        let pg = cluster::Cluster::start();
        let url = pg.database();
        let store = PgStore::open(PgOptions::new(&url), true).unwrap();
        contract(&store);
        // Migrating again applies nothing; a second process opens the same database.
        assert!(store.migrate().unwrap().is_empty());
        let other = PgStore::open(PgOptions::new(&url), false).unwrap();
        assert_eq!(other.get(Tree::Awards, b"a").unwrap(), Some(b"5".to_vec()));
    }

    /// Failed attempts counted by two "processes" (two stores) on one database, from many
    /// threads at once, are one count: no failure lost, the block the count earns held for
    /// both, and the count forgotten once its last failure is old. A store that serves one
    /// process shares nothing.
    #[test]
    fn postgres_failures_are_one_count_across_stores() {
        let pg = cluster::Cluster::start();
        let url = pg.database();
        let a = PgStore::open(PgOptions::new(&url), true).unwrap();
        let b = PgStore::open(PgOptions::new(&url), false).unwrap();
        // Past three, the n-th failure blocks for n seconds.
        let delay = |n: u32| (n > 3).then(|| i64::from(n) * 1000);
        let (now, forget) = (1_000_000_i64, 60_000_i64);
        assert_eq!(
            a.failure_block("x").unwrap(),
            Some(0),
            "nothing counted yet"
        );
        std::thread::scope(|s| {
            for t in 0..8 {
                let store = if t % 2 == 0 { &a } else { &b };
                s.spawn(move || {
                    for _ in 0..5 {
                        store.add_failure("x", now, forget, &delay).unwrap();
                    }
                });
            }
        });
        // Forty failures: the forty-first blocks for 41 s.
        assert_eq!(
            b.add_failure("x", now, forget, &delay).unwrap(),
            Some(now + 41_000)
        );
        assert_eq!(a.failure_block("x").unwrap(), Some(now + 41_000));
        assert_eq!(
            a.failure_block("y").unwrap(),
            Some(0),
            "each client its own"
        );
        // A count whose last failure is a window old starts again: no block yet.
        let later = now + forget;
        assert_eq!(a.add_failure("x", later, forget, &delay).unwrap(), Some(0));
        for n in 2..=4 {
            let until = b.add_failure("x", later, forget, &delay).unwrap();
            assert_eq!(until, Some(if n > 3 { later + 4_000 } else { 0 }), "{n}");
        }
        let memory = MemoryStore::default();
        assert_eq!(memory.add_failure("x", now, forget, &delay).unwrap(), None);
        assert_eq!(memory.failure_block("x").unwrap(), None);
    }

    /// How many records the database's chain holds, read in one snapshot, after checking that
    /// it is gap-free and that every stored value is what it last wrote.
    fn intact_chain(store: &PgStore) -> usize {
        let memory = MemoryStore::default();
        memory.restore(store.snapshot().unwrap()).unwrap();
        let (records, problems) = verify_store(&memory, None).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            records
                .iter()
                .enumerate()
                .all(|(i, r)| r.seq == i as u64 + 1)
        );
        records.len()
    }

    /// Commits racing from many threads and two "processes" (two stores, two pools) on one
    /// database: every acknowledged conditional increment is there, none twice, and the audit
    /// chain is one gap-free sequence.
    #[test]
    fn postgres_commits_racing_from_two_stores_keep_one_chain() {
        let pg = cluster::Cluster::start();
        let url = pg.database();
        let a = PgStore::open(PgOptions::new(&url), true).unwrap();
        let b = PgStore::open(PgOptions::new(&url), false).unwrap();
        let acknowledged = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..8 {
                let store: &PgStore = if t % 2 == 0 { &a } else { &b };
                let acknowledged = &acknowledged;
                s.spawn(move || {
                    for _ in 0..25 {
                        loop {
                            let now = store.get(Tree::Meta, b"counter").unwrap();
                            let n: u64 = now
                                .as_deref()
                                .map_or(0, |v| String::from_utf8_lossy(v).parse().unwrap());
                            let mut batch = Batch::new();
                            batch
                                .expect(Tree::Meta, b"counter".to_vec(), now.clone())
                                .put(
                                    Tree::Meta,
                                    b"counter".to_vec(),
                                    (n + 1).to_string().into_bytes(),
                                );
                            match store.commit(batch, entry(t)) {
                                Ok(_) => {
                                    acknowledged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                    break;
                                }
                                Err(StoreError::Conflict { .. }) => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                });
            }
        });
        assert_eq!(acknowledged.into_inner(), 200);
        assert_eq!(
            a.get(Tree::Meta, b"counter").unwrap(),
            Some(b"200".to_vec())
        );
        assert_eq!(intact_chain(&a), 200);
    }

    /// Commits racing from two stores over a few shared keys (conditional updates, blind
    /// writes, removals) and on keys of their own: commits that share a key take turns in
    /// chain order, so the chain stays gap-free and every stored value is what the chain last
    /// wrote for its key; of eight simultaneous creations of one key exactly one succeeds,
    /// twenty times.
    #[test]
    fn postgres_commits_on_shared_and_separate_keys_keep_the_chain_true() {
        let pg = cluster::Cluster::start();
        let url = pg.database();
        let a = PgStore::open(PgOptions::new(&url), true).unwrap();
        let b = PgStore::open(PgOptions::new(&url), false).unwrap();
        let created: Vec<std::sync::atomic::AtomicUsize> = (0..20)
            .map(|_| std::sync::atomic::AtomicUsize::new(0))
            .collect();
        let committed = std::sync::atomic::AtomicUsize::new(0);
        let start = std::sync::Barrier::new(8);
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let store: &PgStore = if t % 2 == 0 { &a } else { &b };
                let (created, committed, start) = (&created[..], &committed, &start);
                s.spawn(move || {
                    let ok = |r: Result<AuditRecord, StoreError>| match r {
                        Ok(_) => {
                            committed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            true
                        }
                        Err(StoreError::Conflict { .. }) => false,
                        Err(e) => panic!("{e}"),
                    };
                    // Twenty rounds of eight simultaneous creations of one key, each thread
                    // on a connection it already holds open.
                    store.get(Tree::Meta, b"warm").unwrap();
                    for (round, created) in created.iter().enumerate() {
                        let once = format!("once{round}").into_bytes();
                        let mut batch = Batch::new();
                        batch.expect(Tree::Meta, once.clone(), None).put(
                            Tree::Meta,
                            once,
                            t.to_string().into_bytes(),
                        );
                        start.wait();
                        if ok(store.commit(batch, entry(0))) {
                            created.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                    let mut rng = t.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                    for i in 0..60u64 {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        let shared = format!("shared{}", rng % 4).into_bytes();
                        let own = format!("own{t}-{}", rng % 3).into_bytes();
                        let value = format!("{t}-{i}").into_bytes();
                        let mut batch = Batch::new();
                        match (rng >> 8) % 4 {
                            0 => {
                                let now = store.get(Tree::RoundMarks, &shared).unwrap();
                                batch.expect(Tree::RoundMarks, shared.clone(), now).put(
                                    Tree::RoundMarks,
                                    shared,
                                    value.clone(),
                                );
                            }
                            1 => {
                                batch.put(Tree::RoundMarks, shared, value.clone());
                            }
                            2 => {
                                batch.delete_if_present(Tree::RoundMarks, shared);
                            }
                            _ => {}
                        }
                        batch.put(Tree::Judges, own, value);
                        ok(store.commit(batch, entry(1)));
                    }
                });
            }
        });
        let winners: Vec<usize> = created.into_iter().map(|c| c.into_inner()).collect();
        assert_eq!(winners, vec![1; 20], "one creation of each key wins");
        assert_eq!(intact_chain(&a), committed.into_inner());
    }

    /// A batch of more keys than the database's lock table holds (an award imported whole)
    /// commits, while small commits go on beside it from another store.
    #[test]
    fn postgres_commits_a_batch_of_very_many_keys() {
        let pg = cluster::Cluster::start();
        let url = pg.database();
        let a = PgStore::open(PgOptions::new(&url), true).unwrap();
        let b = PgStore::open(PgOptions::new(&url), false).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for n in 0..50u32 {
                    let mut small = Batch::new();
                    small.put(
                        Tree::Judges,
                        key(&[b"small", &n.to_be_bytes()]),
                        b"1".to_vec(),
                    );
                    b.commit(small, entry(n)).unwrap();
                }
            });
            let mut big = Batch::new();
            for n in 0..40_000u32 {
                big.put(
                    Tree::RoundMarks,
                    key(&[b"big", &n.to_be_bytes()]),
                    b"7".to_vec(),
                );
            }
            a.commit(big, entry(0)).unwrap();
        });
        assert_eq!(
            a.keys(Tree::RoundMarks, &prefix(&[b"big"])).unwrap().len(),
            40_000
        );
        assert_eq!(intact_chain(&a), 51);
    }

    #[test]
    fn keys_escape_and_come_back() {
        for k in [
            key(&[b"seoul", b"app-001"]),
            key(&[b"a", &7u64.to_be_bytes()]),
            b"50%/x\xff".to_vec(),
        ] {
            assert_eq!(unescape_key(&escape_key(&k)), Some(k));
        }
        assert_eq!(escape_key(&key(&[b"seoul", b"app-001"])), "seoul/app-001");
    }

    #[test]
    fn verify_finds_altered_removed_and_unwritten_records() {
        let store = MemoryStore::default();
        for n in 0..4 {
            let mut b = Batch::new();
            b.put(
                Tree::RoundMarks,
                key(&[b"a", format!("m{n}").as_bytes()]),
                b"7".to_vec(),
            );
            store.commit(b, entry(n)).unwrap();
        }
        let chain: Vec<AuditRecord> = scan_json(&store, Tree::Audit, b"").unwrap();
        let mut altered = chain.clone();
        altered[1].target = "forged".into();
        assert!(verify_chain(&altered)[0].contains("record 2 was altered"));
        let mut removed = chain.clone();
        removed.remove(2);
        let problems = verify_chain(&removed);
        assert!(problems[0].contains("record 3 is missing"), "{problems:?}");
        // The data itself: a value changed behind the chain's back, one removed, one added.
        store
            .restore(vec![
                (Tree::RoundMarks, key(&[b"a", b"m1"]), b"10".to_vec()),
                (Tree::RoundMarks, key(&[b"a", b"zz"]), b"10".to_vec()),
            ])
            .unwrap();
        store.remove_for_tests(Tree::RoundMarks, &key(&[b"a", b"m2"]));
        let problems = verify_state(&store, &chain).unwrap();
        let text = problems.join("\n");
        assert!(text.contains("round_marks a/m1: altered"), "{text}");
        assert!(text.contains("round_marks a/m2: missing"), "{text}");
        assert!(
            text.contains("round_marks a/zz: written by no audit record"),
            "{text}"
        );
        assert_eq!(problems.len(), 3);
    }
}
