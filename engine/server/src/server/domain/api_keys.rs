//! Finding API keys through the store's index of them ([`crate::store::key_index`]): each key
//! the index names is read and checked, so an index that names too much costs a read and never
//! a wrong answer; before the index exists, every key is read and checked the same way.

use crate::server::records::{KeyRecord, Role};
use crate::store::key_index::{KeysBy, named};
use crate::store::{Store, StoreError, Tree};

/// The keys `by` asks for, each beside its entry's key in [`Tree::Keys`] (its secret's
/// digest), in that key's order.
pub(crate) fn find(
    store: &dyn Store,
    by: KeysBy<'_>,
) -> Result<Vec<(Vec<u8>, KeyRecord)>, StoreError> {
    Ok(find_stored(store, by)?
        .into_iter()
        .map(|(hash, _, key)| (hash, key))
        .collect())
}

/// A key found: its entry's key in [`Tree::Keys`], its value as stored, and the key read.
pub(crate) type Stored = (Vec<u8>, Vec<u8>, KeyRecord);

/// As [`find`], with each key's value as stored (what an export carries byte for byte).
pub(crate) fn find_stored(store: &dyn Store, by: KeysBy<'_>) -> Result<Vec<Stored>, StoreError> {
    let candidates = match named(store, by)? {
        Some(hashes) => {
            let mut found = Vec::with_capacity(hashes.len());
            for hash in hashes {
                if let Some(value) = store.get(Tree::Keys, &hash)? {
                    found.push((hash, value));
                }
            }
            found
        }
        None => store.scan(Tree::Keys, b"")?,
    };
    Ok(candidates
        .into_iter()
        .filter_map(|(hash, value)| {
            serde_json::from_slice::<KeyRecord>(&value)
                .ok()
                .filter(|k| is(k, by))
                .map(|k| (hash, value, k))
        })
        .collect())
}

/// Whether `key` is one `by` asks for.
fn is(key: &KeyRecord, by: KeysBy<'_>) -> bool {
    match by {
        KeysBy::Id(id) => key.id == id,
        KeysBy::Judge(award, judge) => {
            key.role == Role::Judge
                && key.award.as_deref().is_none_or(|a| a == award)
                && key
                    .subject
                    .as_deref()
                    .is_some_and(|s| judge.is_none_or(|j| j == s))
        }
        KeysBy::Owner(owner) => key.owner.as_ref().is_some_and(|o| o.id == owner),
        KeysBy::LiveAdmins => key.role == Role::Admin && !key.revoked,
    }
}
