//! The rounds open now, indexed, so that the clock's work (reminders before a round closes)
//! reads the open rounds rather than every round the installation has ever run, with their
//! assignments. Kept as [`super::derived`] keeps any index, from each write of a round.
//!
//! Keys in [`Tree::Meta`]: `open_round \0 award \0 round` -> the round's key;
//! `open_rounds` -> present once the index holds every round.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::derived::Derived;
use super::tally::Reads;
use super::{Batch, Store, StoreError, Tree, key};

/// The parts of a stored round the index rests on.
#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    status: String,
}

/// The index key of a stored round, if it is open.
fn entries(round: &[u8], value: &[u8]) -> BTreeSet<Vec<u8>> {
    match serde_json::from_slice::<Stored>(value) {
        Ok(s) if s.status == "open" => [key(&[b"open_round", round])].into(),
        _ => BTreeSet::new(),
    }
}

const INDEX: Derived = Derived {
    tree: Tree::Rounds,
    built: b"open_rounds",
    entries,
};

/// Adds to `batch` the index entries its writes of rounds change (see [`Derived::keep`]).
pub(crate) fn keep(batch: &mut Batch, store: &mut dyn Reads) -> Result<(), StoreError> {
    INDEX.keep(batch, store)
}

/// The keys [`keep`] may read for `batch` (see [`super::tally::reads`]).
pub(crate) fn reads(batch: &Batch) -> Vec<(Tree, Vec<u8>)> {
    INDEX.reads(batch)
}

/// The keys of the rounds the index names as open, in order; `None` while the index is not
/// built (readers then read every round). Each is a candidate: check the round's status.
pub fn keys(store: &dyn Store) -> Result<Option<BTreeSet<Vec<u8>>>, StoreError> {
    INDEX.named(store, &[super::prefix(&[b"open_round"])])
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use serde_json::json;

    use super::super::{
        AuditEntry, Batch, MemoryStore, PgOptions, PgStore, SledStore, Store, Tree, key,
        verify_store,
    };

    /// A round as stored: open or closed, with assignments that make it weigh.
    fn round(open: bool) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "status": if open { "open" } else { "closed" },
            "assignments": { "judge-1": ["a", "b", "c"] },
        }))
        .unwrap()
    }

    fn audit() -> AuditEntry {
        AuditEntry {
            actor: "test".into(),
            action: "round.write".into(),
            target: "rounds".into(),
            detail: json!({}),
        }
    }

    /// A write of a round (award, round): opened, closed or (`None`) removed.
    type Write = ((usize, usize), Option<bool>);

    /// Batches of writes of rounds.
    fn ops() -> impl Strategy<Value = Vec<Vec<Write>>> {
        let write = (
            (0..3usize, 0..3usize),
            prop::option::weighted(0.85, any::<bool>()),
        );
        prop::collection::vec(prop::collection::vec(write, 1..3), 1..25)
    }

    fn run(store: &dyn Store, ops: &[Vec<Write>]) {
        let mut model: BTreeMap<Vec<u8>, bool> = BTreeMap::new();
        for writes in ops {
            let mut batch = Batch::new();
            for ((award, r), state) in writes {
                let k = key(&[
                    format!("award-{award}").as_bytes(),
                    format!("r{r}").as_bytes(),
                ]);
                match state {
                    Some(open) => {
                        batch.put(Tree::Rounds, k.clone(), round(*open));
                        model.insert(k, *open);
                    }
                    None => {
                        batch.delete_if_present(Tree::Rounds, k.clone());
                        model.remove(&k);
                    }
                }
            }
            store.commit(batch, audit()).unwrap();
            let open: BTreeSet<Vec<u8>> = model
                .iter()
                .filter(|(_, open)| **open)
                .map(|(k, _)| k.clone())
                .collect();
            assert_eq!(super::keys(store).unwrap(), Some(open));
        }
        let (_, problems) = verify_store(store, None).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn the_open_rounds_follow_every_write_in_memory(ops in ops()) {
            run(&MemoryStore::default(), &ops);
        }

        #[test]
        fn the_open_rounds_follow_every_write_in_sled(ops in ops()) {
            let dir = tempfile::tempdir().unwrap();
            run(&SledStore::open(dir.path()).unwrap(), &ops);
        }
    }

    #[test]
    fn the_open_rounds_follow_every_write_in_postgres() {
        let pg = super::super::pg_cluster::Cluster::start();
        let store = PgStore::open(PgOptions::new(&pg.database()), true).unwrap();
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let ops = ops().new_tree(&mut runner).unwrap().current();
        run(&store, &ops);
    }

    /// Rounds stored before the index was kept: read whole until a round is written, then
    /// indexed, every one, by that write.
    #[test]
    fn rounds_stored_without_an_index_are_indexed_by_the_next_write() {
        let store = MemoryStore::default();
        let older: Vec<_> = (0..6usize)
            .map(|i| {
                let k = key(&[b"seoul", format!("r{i}").as_bytes()]);
                (Tree::Rounds, k, round(i % 2 == 0))
            })
            .collect();
        store.restore(older).unwrap();
        assert_eq!(super::keys(&store).unwrap(), None);
        let mut batch = Batch::new();
        batch.put(Tree::Rounds, key(&[b"busan", b"r0"]), round(true));
        store.commit(batch, audit()).unwrap();
        let open: BTreeSet<Vec<u8>> = [
            key(&[b"busan", b"r0"]),
            key(&[b"seoul", b"r0"]),
            key(&[b"seoul", b"r2"]),
            key(&[b"seoul", b"r4"]),
        ]
        .into();
        assert_eq!(super::keys(&store).unwrap(), Some(open));
    }
}
