//! Where an award's audit records are: an index written by the commit that appends each record,
//! in its own batch, so that the record vouches for its index entries as for everything else it
//! wrote, and an award's export reads the award's records rather than the whole chain.
//!
//! Keys in [`Tree::Meta`] (values empty but the first):
//! - `audited` -> the number of the first record indexed, in decimal: the records before it
//!   (an installation older than the index) are found by reading the chain up to it;
//! - `audited \0 award \0 seq (u64 BE)`: record `seq` wrote one of the award's own entries
//!   (see [`OWN_TREES`]);
//! - `writers \0 tree \0 key \0 seq (u64 BE)`: record `seq` wrote `key` of `tree`, for the
//!   trees whose entries an export carries without their keys naming the award (plugin files,
//!   API keys).

use std::collections::BTreeSet;

use super::{Batch, Store, StoreError, Tree, key, prefix};

/// The key of the first record indexed.
pub(crate) const FROM: &[u8] = b"audited";

/// The trees whose keys start with their award's id (`award \0 …`), besides `awards` itself
/// (keyed by the id alone): an award's own entries.
pub const OWN_TREES: [Tree; 7] = [
    Tree::Versions,
    Tree::Applications,
    Tree::Results,
    Tree::Judges,
    Tree::Rounds,
    Tree::RoundMarks,
    Tree::History,
];

/// The trees whose writers are indexed by key.
const BY_KEY: [Tree; 2] = [Tree::Files, Tree::Keys];

fn writer_prefix(tree: Tree, entry: &[u8]) -> Vec<u8> {
    prefix(&[b"writers", tree.name().as_bytes(), entry])
}

/// Adds to `batch` the index entries of the record `seq` that will chain it; `from` is the
/// stored `audited` value (`None`: nothing is indexed yet, and this record is the first).
pub(crate) fn add(batch: &mut Batch, seq: u64, from: Option<&[u8]>) {
    let number = seq.to_be_bytes();
    let mut entries: BTreeSet<Vec<u8>> = BTreeSet::new();
    for (tree, k, _) in &batch.writes {
        if *tree == Tree::Awards {
            entries.insert(key(&[b"audited", k, &number]));
        } else if OWN_TREES.contains(tree) {
            if let Some(award) = k.split(|b| *b == 0).next() {
                entries.insert(key(&[b"audited", award, &number]));
            }
        } else if BY_KEY.contains(tree) {
            let mut e = writer_prefix(*tree, k);
            e.extend_from_slice(&number);
            entries.insert(e);
        }
    }
    for e in entries {
        batch.writes.push((Tree::Meta, e, Some(Vec::new())));
    }
    if from.is_none() {
        batch.writes.push((
            Tree::Meta,
            FROM.to_vec(),
            Some(seq.to_string().into_bytes()),
        ));
    }
}

/// The number of the first record indexed (`None`: none yet).
pub fn indexed_from(store: &dyn Store) -> Result<Option<u64>, StoreError> {
    store
        .get(Tree::Meta, FROM)?
        .map(|v| {
            std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| StoreError::Corrupt("meta", "the audit index's start".into()))
        })
        .transpose()
}

/// The numbers of the index's entries under `p`, which end in one.
fn numbers(store: &dyn Store, p: &[u8]) -> Result<Vec<u64>, StoreError> {
    Ok(store
        .keys(Tree::Meta, p)?
        .into_iter()
        .filter_map(|k| {
            let tail = k.get(p.len()..)?;
            Some(u64::from_be_bytes(tail.try_into().ok()?))
        })
        .collect())
}

/// The records (from [`indexed_from`] on) that wrote one of `award`'s own entries.
pub fn of_award(store: &dyn Store, award: &str) -> Result<Vec<u64>, StoreError> {
    numbers(store, &prefix(&[b"audited", award.as_bytes()]))
}

/// The records (from [`indexed_from`] on) that wrote `entry` of `tree` (plugin files and API
/// keys; none for other trees).
pub fn writers(store: &dyn Store, tree: Tree, entry: &[u8]) -> Result<Vec<u64>, StoreError> {
    if !BY_KEY.contains(&tree) {
        return Ok(Vec::new());
    }
    numbers(store, &writer_prefix(tree, entry))
}
