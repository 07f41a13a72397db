//! Everything a commit derives from what it writes, in one place for the three stores: the
//! tally (counts and standings), the people by award, the open rounds and the API keys, each
//! kept in the same atomic, audited batch as what it derives from.

use super::tally::Reads;
use super::{Batch, StoreError, Tree};

/// Adds to `batch` every derived value its writes change: the tally (counts and
/// standings), the people by award, the open rounds, the API keys. Called by each store under
/// its commit lock, before the audit record is made, so that the audit covers them.
pub(crate) fn keep_all(batch: &mut Batch, store: &mut dyn Reads) -> Result<(), StoreError> {
    super::tally::keep(batch, store)?;
    super::grantees::keep(batch, store)?;
    super::open_rounds::keep(batch, store)?;
    super::key_index::keep(batch, store)
}

/// The keys [`keep_all`] may read for `batch`, each once, in order.
pub(crate) fn reads_all(batch: &Batch) -> Vec<(Tree, Vec<u8>)> {
    let mut ahead = super::tally::reads(batch);
    ahead.extend(super::grantees::reads(batch));
    ahead.extend(super::open_rounds::reads(batch));
    ahead.extend(super::key_index::reads(batch));
    ahead.sort_unstable();
    ahead.dedup();
    ahead
}
