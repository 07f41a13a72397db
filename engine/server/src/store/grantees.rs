//! Who holds a role on each award: an index of people by award and role, kept by every commit
//! that writes a person, in the same atomic, audited batch, so that finding an award's judges,
//! administrators or invited people reads that award's people, not the installation's.
//!
//! Keys in [`Tree::Meta`]:
//! - `grantee \0 award \0 role \0 person` -> the person's id (`award` empty: a grant on every
//!   award);
//! - `grantees` -> present once the index holds every person.
//!
//! An installation stored before the index was kept has no `grantees` key: the first commit
//! that writes a person then indexes everyone stored before it, and until then readers read
//! everyone (see [`holders`]).
//!
//! The index narrows, it never decides: readers load each person it names and check their
//! grants. On PostgreSQL two processes indexing everyone at once may each write an entry of a
//! grant the other has just removed (a person's own entries follow that person's commits); an
//! entry that names a grant the person no longer holds only costs a read.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::derived::Derived;
use super::tally::Reads;
use super::{Batch, Store, StoreError, Tree, key, prefix};

/// The key saying the index is complete.
const BUILT: &[u8] = b"grantees";

/// The parts of a stored person the index rests on.
#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    grants: Vec<StoredGrant>,
}

#[derive(Deserialize)]
struct StoredGrant {
    #[serde(default)]
    award: Option<String>,
    role: String,
}

/// The index keys of a stored person.
fn entries(person: &[u8], value: &[u8]) -> BTreeSet<Vec<u8>> {
    let Ok(stored) = serde_json::from_slice::<Stored>(value) else {
        return BTreeSet::new();
    };
    stored
        .grants
        .iter()
        .map(|g| {
            key(&[
                b"grantee",
                g.award.as_deref().unwrap_or_default().as_bytes(),
                g.role.as_bytes(),
                person,
            ])
        })
        .collect()
}

/// The index: kept, as [`super::derived`] keeps any, from each write of a person.
const INDEX: Derived = Derived {
    tree: Tree::People,
    built: BUILT,
    entries,
};

/// Adds to `batch` the index entries its writes of people change: called by each store under
/// its commit lock, before the audit record is made, so that the audit covers them.
pub(crate) fn keep(batch: &mut Batch, store: &mut dyn Reads) -> Result<(), StoreError> {
    INDEX.keep(batch, store)
}

/// The keys [`keep`] may read for `batch` (see [`super::tally::reads`]).
pub(crate) fn reads(batch: &Batch) -> Vec<(Tree, Vec<u8>)> {
    INDEX.reads(batch)
}

/// The ids of the people the index names as holding one of `roles` (by name: `judge`, ...; all
/// roles when empty) on `award` or on every award, in id order; `None` while the index is not
/// built (readers then read everyone). Each is a candidate: check the person's grants.
pub fn holders(
    store: &dyn Store,
    award: &str,
    roles: &[&str],
) -> Result<Option<BTreeSet<String>>, StoreError> {
    let mut prefixes = Vec::new();
    for scope in [award, ""] {
        if roles.is_empty() {
            prefixes.push(prefix(&[b"grantee", scope.as_bytes()]));
        }
        for r in roles {
            prefixes.push(prefix(&[b"grantee", scope.as_bytes(), r.as_bytes()]));
        }
    }
    Ok(INDEX.named(store, &prefixes)?.map(|ids| {
        ids.into_iter()
            .map(|id| String::from_utf8_lossy(&id).into_owned())
            .collect()
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use serde_json::json;

    use super::super::{
        AuditEntry, Batch, MemoryStore, PgOptions, PgStore, SledStore, Store, StoreError, Tree,
        verify_store,
    };

    /// A person's grants as the model holds them: (award, role), `None` for every award.
    type Grants = BTreeSet<(Option<&'static str>, &'static str)>;

    const AWARDS: [Option<&str>; 3] = [Some("seoul"), Some("busan"), None];
    const ROLES: [&str; 4] = ["admin", "judge", "applicant", "auditor"];

    fn person(id: &str, grants: &Grants) -> Vec<u8> {
        let grants: Vec<_> = grants
            .iter()
            .map(|(award, role)| match award {
                Some(a) => json!({ "award": a, "role": role }),
                None => json!({ "role": role }),
            })
            .collect();
        serde_json::to_vec(&json!({
            "id": id, "email": "sealed", "name": "sealed", "language": "en",
            "grants": grants, "verified": false, "created_at": "t",
        }))
        .unwrap()
    }

    fn audit() -> AuditEntry {
        AuditEntry {
            actor: "test".into(),
            action: "person.write".into(),
            target: "people".into(),
            detail: json!({}),
        }
    }

    /// Who holds one of `roles` (all, given none) on `award` or on every award, by the model.
    fn truth(model: &BTreeMap<String, Grants>, award: &str, roles: &[&str]) -> BTreeSet<String> {
        model
            .iter()
            .filter(|(_, grants)| {
                grants.iter().any(|(a, r)| {
                    a.is_none_or(|a| a == award) && (roles.is_empty() || roles.contains(r))
                })
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The index names exactly (`exact`) or at least (a race may leave entries of grants
    /// removed meanwhile) the people the model says, for every award and role asked.
    fn agrees(store: &dyn Store, model: &BTreeMap<String, Grants>, exact: bool) {
        for award in ["seoul", "busan", "daegu"] {
            let asks: Vec<Vec<&str>> = std::iter::once(Vec::new())
                .chain(ROLES.iter().map(|r| vec![*r]))
                .chain([vec!["admin", "judge"]])
                .collect();
            for roles in asks {
                let named = super::holders(store, award, &roles)
                    .unwrap()
                    .expect("the index is built");
                let want = truth(model, award, &roles);
                if exact {
                    assert_eq!(named, want, "{award} {roles:?}");
                } else {
                    assert!(
                        named.is_superset(&want),
                        "{award} {roles:?}: {named:?} {want:?}"
                    );
                }
            }
        }
    }

    /// Batches of writes: a person's new grants (`None`: removed), one or two per batch.
    fn ops() -> impl Strategy<Value = Vec<Vec<(usize, Option<Grants>)>>> {
        let grants = prop::collection::btree_set(
            (
                prop::sample::select(AWARDS.to_vec()),
                prop::sample::select(ROLES.to_vec()),
            ),
            0..4,
        );
        let write = (0..6usize, prop::option::weighted(0.85, grants));
        prop::collection::vec(prop::collection::vec(write, 1..3), 1..25)
    }

    fn run(store: &dyn Store, ops: &[Vec<(usize, Option<Grants>)>]) {
        let mut model: BTreeMap<String, Grants> = BTreeMap::new();
        for writes in ops {
            let mut batch = Batch::new();
            for (who, grants) in writes {
                let id = format!("person-{who}");
                match grants {
                    Some(g) => {
                        batch.put(Tree::People, id.clone().into_bytes(), person(&id, g));
                        model.insert(id, g.clone());
                    }
                    None => {
                        batch.delete_if_present(Tree::People, id.clone().into_bytes());
                        model.remove(&id);
                    }
                }
            }
            store.commit(batch, audit()).unwrap();
            agrees(store, &model, true);
        }
        let (_, problems) = verify_store(store, None).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn the_index_follows_every_write_in_memory(ops in ops()) {
            run(&MemoryStore::default(), &ops);
        }

        #[test]
        fn the_index_follows_every_write_in_sled(ops in ops()) {
            let dir = tempfile::tempdir().unwrap();
            run(&SledStore::open(dir.path()).unwrap(), &ops);
        }
    }

    #[test]
    fn the_index_follows_every_write_in_postgres() {
        let pg = super::super::pg_cluster::Cluster::start();
        let store = PgStore::open(PgOptions::new(&pg.database()), true).unwrap();
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let ops = ops().new_tree(&mut runner).unwrap().current();
        run(&store, &ops);
    }

    /// People stored before the index was kept (a restored backup of an older version): read
    /// by everyone's records until a person is written, then indexed, everyone, by that write.
    #[test]
    fn people_stored_without_an_index_are_indexed_by_the_next_write() {
        let store = MemoryStore::default();
        let mut model = BTreeMap::new();
        let mut entries = Vec::new();
        for i in 0..7usize {
            let id = format!("person-{i}");
            let grants: Grants = [(AWARDS[i % 3], ROLES[i % 4])].into();
            entries.push((Tree::People, id.clone().into_bytes(), person(&id, &grants)));
            model.insert(id, grants);
        }
        store.restore(entries).unwrap();
        assert_eq!(super::holders(&store, "seoul", &[]).unwrap(), None);
        let grants: Grants = [(Some("busan"), "judge")].into();
        let mut batch = Batch::new();
        batch.put(
            Tree::People,
            b"person-0".to_vec(),
            person("person-0", &grants),
        );
        store.commit(batch, audit()).unwrap();
        model.insert("person-0".into(), grants);
        agrees(&store, &model, true);
    }

    /// Two processes (two stores on one database) writing people while the index of people
    /// stored before it is built: no one who holds a grant is ever left out.
    #[test]
    fn racing_writers_on_postgres_leave_no_one_out() {
        let pg = super::super::pg_cluster::Cluster::start();
        let url = pg.database();
        let a = PgStore::open(PgOptions::new(&url), true).unwrap();
        let b = PgStore::open(PgOptions::new(&url), false).unwrap();
        let earlier: Vec<_> = (0..12usize)
            .map(|i| {
                let id = format!("earlier-{i}");
                let grants: Grants = [(AWARDS[i % 3], ROLES[i % 4])].into();
                (Tree::People, id.clone().into_bytes(), person(&id, &grants))
            })
            .collect();
        a.restore(earlier).unwrap();
        let stores: [&dyn Store; 2] = [&a, &b];
        std::thread::scope(|s| {
            for t in 0..6usize {
                let store = stores[t % 2];
                s.spawn(move || {
                    for i in 0..12usize {
                        let id = format!("person-{}", (t + i) % 8);
                        let grants: Grants = [(AWARDS[(t + i) % 3], ROLES[(t * 3 + i) % 4])].into();
                        loop {
                            let now = store.get(Tree::People, id.as_bytes()).unwrap();
                            let mut batch = Batch::new();
                            batch
                                .expect(Tree::People, id.clone().into_bytes(), now)
                                .put(Tree::People, id.clone().into_bytes(), person(&id, &grants));
                            match store.commit(batch, audit()) {
                                Ok(_) => break,
                                Err(StoreError::Conflict { .. }) => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                });
            }
        });
        // The model: what is stored now.
        let mut model = BTreeMap::new();
        for (k, v) in a.scan(Tree::People, b"").unwrap() {
            let p: serde_json::Value = serde_json::from_slice(&v).unwrap();
            let grants: Grants = p["grants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| {
                    let award = AWARDS
                        .into_iter()
                        .find(|a| g["award"].as_str() == *a)
                        .flatten();
                    let role = ROLES.into_iter().find(|r| g["role"] == *r).unwrap();
                    (award, role)
                })
                .collect();
            model.insert(String::from_utf8(k).unwrap(), grants);
        }
        assert_eq!(model.len(), 12 + 8);
        agrees(&a, &model, false);
        agrees(&b, &model, false);
        // Every index entry is vouched for by the chain (the people restored are not: no
        // commit wrote them).
        let (_, problems) = verify_store(&a, None).unwrap();
        assert!(
            problems
                .iter()
                .all(|p| p.starts_with("people earlier-")
                    && p.ends_with("written by no audit record")),
            "{problems:?}"
        );
    }
}
