//! Applications and drafts as stored: their keys.

use crate::store::key;

pub(crate) fn draft_key(award: &str, owner: &str) -> Vec<u8> {
    key(&[award.as_bytes(), owner.as_bytes()])
}
