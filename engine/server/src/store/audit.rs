//! The audit chain: every commit appends a record that names who did what, links to the
//! previous record's hash, and commits to the digest of every value its batch wrote, so that
//! the chain vouches for the data as well as for itself.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Store, StoreError, Tree, escape_key, value_digest};

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

/// One value a batch wrote: its tree, its key (escaped) and its SHA-256 (`null`: removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(with = "(String, String, Option<String>)")]
#[serde(
    from = "(String, String, Option<String>)",
    into = "(String, String, Option<String>)"
)]
pub struct Write {
    /// The tree's name.
    pub tree: String,
    /// The key, escaped.
    pub key: String,
    /// The value's SHA-256, or `None` when the key was removed.
    pub sha256: Option<String>,
}

impl From<(String, String, Option<String>)> for Write {
    fn from((tree, key, sha256): (String, String, Option<String>)) -> Self {
        Self { tree, key, sha256 }
    }
}

impl From<Write> for (String, String, Option<String>) {
    fn from(w: Write) -> Self {
        (w.tree, w.key, w.sha256)
    }
}

/// An audit record: an entry with its place in the chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
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
    /// Every value the batch wrote.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<Write>,
    /// The previous record's hash (64 zeros for the first).
    pub prev: String,
    /// SHA-256 of this record's other fields, in canonical JSON.
    pub hash: String,
}

/// The hash of the first record's predecessor.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A point of the chain: its last record's number and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Head {
    /// The record's number.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

impl AuditRecord {
    /// Chains `entry` after a record with sequence `seq - 1` and hash `prev`.
    pub fn chain(
        entry: AuditEntry,
        seq: u64,
        at: String,
        prev: String,
        writes: Vec<Write>,
    ) -> Self {
        let mut record = AuditRecord {
            seq,
            at,
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            detail: entry.detail,
            writes,
            prev,
            hash: String::new(),
        };
        record.hash = record.digest();
        record
    }

    /// The hash this record should have.
    pub fn digest(&self) -> String {
        let mut body = serde_json::json!({
            "seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
            "target": self.target, "detail": self.detail, "prev": self.prev,
        });
        if !self.writes.is_empty() {
            body["writes"] = serde_json::to_value(&self.writes).unwrap_or_default();
        }
        hex::encode(Sha256::digest(body.to_string().as_bytes()))
    }

    /// Its place in the chain.
    pub fn head(&self) -> Head {
        Head {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }
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

/// What the chain says each key last held: its value's SHA-256 (`None`: removed) and the
/// record that wrote it.
pub fn last_writes(records: &[AuditRecord]) -> BTreeMap<(String, String), (Option<String>, u64)> {
    let mut last = BTreeMap::new();
    for r in records {
        for w in &r.writes {
            last.insert((w.tree.clone(), w.key.clone()), (w.sha256.clone(), r.seq));
        }
    }
    last
}

/// Checks that every stored value is what the chain last wrote for its key, and that every
/// key the chain says exists does. Returns one problem per key, by tree and key.
pub fn verify_state(store: &dyn Store, records: &[AuditRecord]) -> Result<Vec<String>, StoreError> {
    let last = last_writes(records);
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for tree in Tree::ALL {
        if tree == Tree::Audit {
            continue;
        }
        for (k, v) in store.scan(tree, b"")? {
            let key = escape_key(&k);
            let id = (tree.name().to_owned(), key.clone());
            match last.get(&id) {
                Some((Some(hash), _)) if *hash == value_digest(&v) => {}
                Some((Some(_), seq)) => problems.push(format!(
                    "{} {key}: altered (its value is not what record {seq} wrote)",
                    tree.name()
                )),
                Some((None, seq)) => problems.push(format!(
                    "{} {key}: present, but record {seq} removed it",
                    tree.name()
                )),
                None => problems.push(format!("{} {key}: written by no audit record", tree.name())),
            }
            seen.insert(id);
        }
    }
    for ((tree, key), (hash, seq)) in &last {
        if hash.is_some() && !seen.contains(&(tree.clone(), key.clone())) {
            problems.push(format!("{tree} {key}: missing (record {seq} wrote it)"));
        }
    }
    Ok(problems)
}

fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

/// Every problem of a store's chain and data: [`verify_chain`], [`verify_state`], and, given a
/// head noted earlier, whether the chain still holds it (a rollback to an older copy does
/// not). Returns the chain too.
pub fn verify_store(
    store: &dyn Store,
    head: Option<&str>,
) -> Result<(Vec<AuditRecord>, Vec<String>), StoreError> {
    let records: Vec<AuditRecord> = super::scan_json(store, Tree::Audit, b"")?;
    let mut problems = verify_chain(&records);
    problems.extend(verify_state(store, &records)?);
    if let Some(h) = head
        && !records.iter().any(|r| r.hash == h)
    {
        problems.push(format!(
            "the chain does not hold the head {h}: the data was rolled back to an older copy, \
             or the head is another server's"
        ));
    }
    Ok((records, problems))
}
