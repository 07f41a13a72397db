//! The API keys, indexed by what the server looks them up by: their id, the judge they judge
//! as, the person who answers for them, and whether they are a live administrator's. Kept as
//! [`super::derived`] keeps any index, from each write of a key, so that revoking a key,
//! ending a person's sessions, exporting an award or checking a judge's conflicts reads the
//! few keys concerned, not every key of the installation.
//!
//! Keys in [`Tree::Meta`], each ending with the key's entry in [`Tree::Keys`] (its secret's
//! digest, `<entry>`), and each -> that entry:
//! - `api_key \0 id \0 <id> \0 <entry>`;
//! - `api_key \0 judge \0 <award> \0 <judge> \0 <entry>` for a judge's key (`award` empty for
//!   a key older than keys' awards, which judges in any award);
//! - `api_key \0 owner \0 <owner> \0 <entry>` for a key someone answers for;
//! - `api_key \0 admin \0 <entry>` for an administrator's key not revoked;
//! - `api_keys` -> present once the index holds every key.
//!
//! The index narrows, it never decides: readers load each key it names and check it.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::derived::Derived;
use super::tally::Reads;
use super::{Batch, Store, StoreError, Tree, key, prefix};

/// The parts of a stored key the index rests on.
#[derive(Deserialize)]
struct Stored {
    id: String,
    role: String,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    award: Option<String>,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    owner: Option<Owner>,
}

#[derive(Deserialize)]
struct Owner {
    id: String,
}

/// The index keys of a stored key.
fn entries(hash: &[u8], value: &[u8]) -> BTreeSet<Vec<u8>> {
    let Ok(k) = serde_json::from_slice::<Stored>(value) else {
        return BTreeSet::new();
    };
    let mut out = BTreeSet::from([key(&[b"api_key", b"id", k.id.as_bytes(), hash])]);
    if k.role == "judge"
        && let Some(judge) = &k.subject
    {
        // A key older than keys' awards judges wherever its judge id does: empty here.
        let award = k.award.as_deref().unwrap_or_default();
        out.insert(key(&[
            b"api_key",
            b"judge",
            award.as_bytes(),
            judge.as_bytes(),
            hash,
        ]));
    }
    if let Some(owner) = &k.owner {
        out.insert(key(&[b"api_key", b"owner", owner.id.as_bytes(), hash]));
    }
    if k.role == "admin" && !k.revoked {
        out.insert(key(&[b"api_key", b"admin", hash]));
    }
    out
}

const INDEX: Derived = Derived {
    tree: Tree::Keys,
    built: b"api_keys",
    entries,
};

/// Adds to `batch` the index entries its writes of keys change (see [`Derived::keep`]).
pub(crate) fn keep(batch: &mut Batch, store: &mut dyn Reads) -> Result<(), StoreError> {
    INDEX.keep(batch, store)
}

/// The keys [`keep`] may read for `batch` (see [`super::tally::reads`]).
pub(crate) fn reads(batch: &Batch) -> Vec<(Tree, Vec<u8>)> {
    INDEX.reads(batch)
}

/// Which keys to look up.
#[derive(Debug, Clone, Copy)]
pub enum KeysBy<'a> {
    /// The key with this id.
    Id(&'a str),
    /// The keys of this judge of this award (every judge of the award when `None`), with the
    /// keys that name no award.
    Judge(&'a str, Option<&'a str>),
    /// The keys this person or service account answers for.
    Owner(&'a str),
    /// The administrators' keys not revoked.
    LiveAdmins,
}

/// The entries of [`Tree::Keys`] the index names for `by`, in order; `None` while the index
/// is not built (readers then read every key). Each is a candidate: check the key.
pub fn named(store: &dyn Store, by: KeysBy<'_>) -> Result<Option<BTreeSet<Vec<u8>>>, StoreError> {
    let prefixes = match by {
        KeysBy::Id(id) => vec![prefix(&[b"api_key", b"id", id.as_bytes()])],
        KeysBy::Judge(award, judge) => [award, ""]
            .iter()
            .map(|a| match judge {
                None => prefix(&[b"api_key", b"judge", a.as_bytes()]),
                Some(j) => prefix(&[b"api_key", b"judge", a.as_bytes(), j.as_bytes()]),
            })
            .collect(),
        KeysBy::Owner(owner) => vec![prefix(&[b"api_key", b"owner", owner.as_bytes()])],
        KeysBy::LiveAdmins => vec![prefix(&[b"api_key", b"admin"])],
    };
    INDEX.named(store, &prefixes)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::super::{
        AuditEntry, Batch, MemoryStore, PgOptions, PgStore, SledStore, Store, Tree, verify_store,
    };
    use super::{KeysBy, named};

    /// A key as the model holds it: (id, role, judge, award, owner, revoked).
    type Model = (
        String,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        bool,
    );

    fn value(m: &Model) -> Vec<u8> {
        let (id, role, subject, award, owner, revoked) = m;
        let mut v =
            json!({ "id": id, "role": role, "label": "", "created_at": "t", "revoked": revoked });
        if let Some(s) = subject {
            v["subject"] = json!(s);
        }
        if let Some(a) = award {
            v["award"] = json!(a);
        }
        if let Some(o) = owner {
            v["owner"] = json!({ "kind": "person", "id": o });
        }
        serde_json::to_vec(&v).unwrap()
    }

    /// What each lookup should find, by reading every key.
    fn truth(store: &dyn Store, by: KeysBy<'_>) -> BTreeSet<Vec<u8>> {
        store
            .scan(Tree::Keys, b"")
            .unwrap()
            .into_iter()
            .filter(|(_, v)| {
                let k: Value = serde_json::from_slice(v).unwrap();
                let s = |f: &str| k[f].as_str().map(str::to_owned);
                match by {
                    KeysBy::Id(id) => s("id").as_deref() == Some(id),
                    KeysBy::Judge(award, judge) => {
                        s("role").as_deref() == Some("judge")
                            && s("award").as_deref().is_none_or(|a| a == award)
                            && s("subject").is_some()
                            && judge.is_none_or(|j| s("subject").as_deref() == Some(j))
                    }
                    KeysBy::Owner(o) => k["owner"]["id"].as_str() == Some(o),
                    KeysBy::LiveAdmins => {
                        s("role").as_deref() == Some("admin") && k["revoked"] == json!(false)
                    }
                }
            })
            .map(|(k, _)| k)
            .collect()
    }

    fn agrees(store: &dyn Store) {
        let mut asks = vec![KeysBy::LiveAdmins];
        for id in ["k0", "k1", "k2", "k3", "k4", "k5", "nobody"] {
            asks.push(KeysBy::Id(id));
        }
        for award in ["seoul", "busan"] {
            asks.push(KeysBy::Judge(award, None));
            for j in ["j1", "j2"] {
                asks.push(KeysBy::Judge(award, Some(j)));
            }
        }
        for o in ["ada", "bo"] {
            asks.push(KeysBy::Owner(o));
        }
        for by in asks {
            let found = named(store, by).unwrap().expect("the index is built");
            assert_eq!(found, truth(store, by), "{by:?}");
        }
    }

    fn key_model() -> impl Strategy<Value = Model> {
        (
            0..6usize,
            prop::sample::select(vec!["admin", "judge", "applicant", "integrator"]),
            prop::option::of(prop::sample::select(vec!["j1", "j2"])),
            prop::option::of(prop::sample::select(vec!["seoul", "busan"])),
            prop::option::of(prop::sample::select(vec!["ada", "bo"])),
            any::<bool>(),
        )
            .prop_map(|(i, role, subject, award, owner, revoked)| {
                (format!("k{i}"), role, subject, award, owner, revoked)
            })
    }

    /// Each write: a key's slot (its secret's digest) and what it holds (`None`: removed).
    fn ops() -> impl Strategy<Value = Vec<Vec<(usize, Option<Model>)>>> {
        let write = (0..8usize, prop::option::weighted(0.85, key_model()));
        prop::collection::vec(prop::collection::vec(write, 1..3), 1..20)
    }

    fn run(store: &dyn Store, ops: &[Vec<(usize, Option<Model>)>], before_index: usize) {
        // Some keys written before the index existed: as an installation older than it.
        let older: Vec<_> = (0..before_index)
            .map(|slot| {
                let m: Model = (
                    format!("k{slot}"),
                    "judge",
                    Some("j1"),
                    Some("seoul"),
                    None,
                    false,
                );
                (Tree::Keys, format!("slot-{slot}").into_bytes(), value(&m))
            })
            .collect();
        if !older.is_empty() {
            store.restore(older).unwrap();
        }
        for writes in ops {
            let mut batch = Batch::new();
            for (slot, m) in writes {
                let k = format!("slot-{slot}").into_bytes();
                match m {
                    Some(m) => batch.put(Tree::Keys, k, value(m)),
                    None => batch.delete_if_present(Tree::Keys, k),
                };
            }
            store
                .commit(
                    batch,
                    AuditEntry {
                        actor: "test".into(),
                        action: "key.write".into(),
                        target: "keys".into(),
                        detail: json!({}),
                    },
                )
                .unwrap();
            agrees(store);
        }
        if before_index == 0 {
            let (_, problems) = verify_store(store, None).unwrap();
            assert!(problems.is_empty(), "{problems:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn the_index_follows_every_write_in_memory(ops in ops(), before in 0..3usize) {
            run(&MemoryStore::default(), &ops, before);
        }

        #[test]
        fn the_index_follows_every_write_in_sled(ops in ops()) {
            let dir = tempfile::tempdir().unwrap();
            run(&SledStore::open(dir.path()).unwrap(), &ops, 0);
        }
    }

    #[test]
    fn the_index_follows_every_write_in_postgres() {
        use proptest::strategy::ValueTree as _;
        let pg = super::super::pg_cluster::Cluster::start();
        let store = PgStore::open(PgOptions::new(&pg.database()), true).unwrap();
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let ops = ops().new_tree(&mut runner).unwrap().current();
        run(&store, &ops, 0);
    }

    /// Before the first write of a key, the index is not there and says so.
    #[test]
    fn an_installation_older_than_the_index_is_read_whole_until_a_key_is_written() {
        let store = MemoryStore::default();
        assert_eq!(named(&store, KeysBy::Id("k1")).unwrap(), None);
        assert_eq!(named(&store, KeysBy::LiveAdmins).unwrap(), None);
    }
}
