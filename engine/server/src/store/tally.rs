//! What the store keeps counted as it commits: each award's applications by where they stand,
//! and an index of them by standing. Every commit that writes an application updates both in
//! the same atomic, audited batch, under the commit's lock, so a count is never a scan and
//! never drifts from the applications it counts, whoever writes them (a route, the CLI, an
//! import, a salvage).
//!
//! Keys in [`Tree::Meta`]:
//! - `tally \0 award` -> `{"eligible": 3, "needs_review": 1, ...}` (standings with none left
//!   out);
//! - `standing \0 award \0 standing \0 application` -> the application's id.
//!
//! An award whose tally is absent (stored before tallies were kept) is counted from its
//! applications by the first commit that writes one of them; until then readers count by
//! scanning (see [`read`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{Batch, Entries, StoreError, Tree, key, prefix};

/// Counts by standing.
pub type Counts = BTreeMap<String, u64>;

/// Every standing, in the order people read them.
pub const STANDINGS: [&str; 7] = [
    "eligible",
    "admitted",
    "needs_review",
    "not_admitted",
    "ineligible",
    "unknown",
    "withdrawn",
];

/// An application's eligibility as people read it: an administrator's review decides what
/// needed one (`admitted`, `not_admitted`); otherwise the rules' `eligible`, `ineligible` or
/// `needs_review`.
pub fn decided(status: Option<&str>, reviewed: Option<bool>) -> &'static str {
    match (status, reviewed) {
        (Some("needs_review"), Some(true)) => "admitted",
        (Some("needs_review"), Some(false)) => "not_admitted",
        (Some("needs_review"), None) => "needs_review",
        (Some("eligible"), _) => "eligible",
        (Some("ineligible"), _) => "ineligible",
        _ => "unknown",
    }
}

/// The parts of a stored application its standing rests on.
#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    status: String,
    #[serde(default)]
    eligibility: Value,
    #[serde(default)]
    review: Option<Value>,
}

/// Where a stored application stands: `withdrawn`, or its [`decided`] eligibility.
pub fn standing(value: &[u8]) -> &'static str {
    let Ok(s) = serde_json::from_slice::<Stored>(value) else {
        return "unknown";
    };
    if s.status == "withdrawn" {
        return "withdrawn";
    }
    decided(
        s.eligibility.get("status").and_then(Value::as_str),
        s.review
            .as_ref()
            .and_then(|r| r.get("eligible"))
            .and_then(Value::as_bool),
    )
}

/// The key of `award`'s counts.
pub fn counts_key(award: &str) -> Vec<u8> {
    key(&[b"tally", award.as_bytes()])
}

/// The prefix of `award`'s applications that stand at `standing`, in id order.
pub fn members_prefix(award: &str, standing: &str) -> Vec<u8> {
    prefix(&[b"standing", award.as_bytes(), standing.as_bytes()])
}

fn member_key(award: &str, standing: &str, app: &[u8]) -> Vec<u8> {
    key(&[b"standing", award.as_bytes(), standing.as_bytes(), app])
}

/// Reads a store under its commit lock, for [`keep`].
pub(crate) trait Reads {
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    fn scan(&mut self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError>;
}

/// An award's counts being changed by one batch.
struct Kept {
    counts: Counts,
    /// Whether they were read (`false`: counted now from every application).
    changed: bool,
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt("meta", format!("an award's counts: {e}"))
}

/// The keys a store must hold for [`keep`] besides the batch's own: the counts of every award
/// whose applications the batch writes (every writer of an award's applications takes its
/// counts' key, so counts and index entries change one commit at a time per award, and a
/// first count sees every application).
pub(crate) fn guards(batch: &Batch) -> Vec<(Tree, Vec<u8>)> {
    let mut awards: Vec<&[u8]> = batch
        .writes
        .iter()
        .filter(|(tree, _, _)| *tree == Tree::Applications)
        .filter_map(|(_, k, _)| k.split(|b| *b == 0).next())
        .collect();
    awards.sort_unstable();
    awards.dedup();
    awards
        .into_iter()
        .map(|a| (Tree::Meta, key(&[b"tally", a])))
        .collect()
}

/// The keys [`keep`] may read for `batch`, for a store that reads them ahead in one go under
/// its locks: the counts of each award whose applications it writes, and each application it
/// writes without expecting a value. A key not read ahead is read when asked for.
pub(crate) fn reads(batch: &Batch) -> Vec<(Tree, Vec<u8>)> {
    let mut keys = guards(batch);
    keys.extend(unexpected(batch, Tree::Applications));
    keys
}

/// The keys `batch` writes in `tree` without expecting a value: those whose old value
/// [`before`] reads from the store.
pub(crate) fn unexpected(batch: &Batch, tree: Tree) -> Vec<(Tree, Vec<u8>)> {
    // A set, so that an import of many keys with expectations is not quadratic.
    let expected: std::collections::BTreeSet<&[u8]> = batch
        .expects
        .iter()
        .filter(|(t, _, _)| *t == tree)
        .map(|(_, k, _)| k.as_slice())
        .collect();
    let keys: std::collections::BTreeSet<&[u8]> = batch
        .writes
        .iter()
        .filter(|(t, k, _)| *t == tree && !expected.contains(k.as_slice()))
        .map(|(_, k, _)| k.as_slice())
        .collect();
    keys.into_iter().map(|k| (tree, k.to_vec())).collect()
}

/// Adds to `batch` the counts and index entries its application writes change: called by
/// each store under its commit lock, before the audit record is made, so that the audit
/// covers them. The old value of an application is the one the batch expects (the commit
/// fails otherwise) or, without an expectation, the one stored now.
pub(crate) fn keep(batch: &mut Batch, store: &mut dyn Reads) -> Result<(), StoreError> {
    let apps = written(batch, Tree::Applications);
    if apps.is_empty() {
        return Ok(());
    }
    let mut awards: BTreeMap<String, Kept> = BTreeMap::new();
    // Values as this batch leaves them so far (a batch may write one key twice).
    let mut now: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    let mut index: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    for (k, new) in apps {
        let mut parts = k.splitn(2, |b| *b == 0);
        let (Some(award), Some(app)) = (parts.next(), parts.next()) else {
            continue;
        };
        let award = String::from_utf8_lossy(award).into_owned();
        if !awards.contains_key(&award) {
            let kept = match store.get(Tree::Meta, &counts_key(&award))? {
                Some(bytes) => Kept {
                    counts: serde_json::from_slice(&bytes).map_err(corrupt)?,
                    changed: false,
                },
                None => {
                    // Counted once, from every application stored before this batch.
                    let mut counts = Counts::new();
                    for (k, v) in store.scan(Tree::Applications, &prefix(&[award.as_bytes()]))? {
                        let s = standing(&v);
                        *counts.entry(s.to_owned()).or_default() += 1;
                        let id = k.get(award.len() + 1..).unwrap_or_default();
                        index.push((member_key(&award, s, id), Some(id.to_vec())));
                    }
                    Kept {
                        counts,
                        changed: true,
                    }
                }
            };
            awards.insert(award.clone(), kept);
        }
        let old = before(batch, &now, store, Tree::Applications, &k)?;
        let before = old.as_deref().map(standing);
        let after = new.as_deref().map(standing);
        now.insert(k.clone(), new.clone());
        if before == after {
            continue;
        }
        let kept = awards.get_mut(&award).ok_or_else(|| {
            StoreError::Backend("an award's counts went missing in a commit".into())
        })?;
        kept.changed = true;
        if let Some(s) = before {
            if let Some(n) = kept.counts.get_mut(s) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    kept.counts.remove(s);
                }
            }
            index.push((member_key(&award, s, app), None));
        }
        if let Some(s) = after {
            *kept.counts.entry(s.to_owned()).or_default() += 1;
            index.push((member_key(&award, s, app), Some(app.to_vec())));
        }
    }
    // The last word on each index key wins (a batch may move one application twice).
    let mut last: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    for (k, v) in index {
        last.insert(k, v);
    }
    for (k, v) in last {
        batch.writes.push((Tree::Meta, k, v));
    }
    for (award, kept) in awards {
        if kept.changed {
            batch.writes.push((
                Tree::Meta,
                counts_key(&award),
                Some(serde_json::to_vec(&kept.counts).unwrap_or_default()),
            ));
        }
    }
    Ok(())
}

/// The keys `batch` writes in `tree`, with their new values (`None`: removed), in its order.
pub(crate) fn written(batch: &Batch, tree: Tree) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    batch
        .writes
        .iter()
        .filter(|(t, _, _)| *t == tree)
        .map(|(_, k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A key's value before this write of `batch`: as the batch left it so far (`now`), else the
/// value the batch expects (the commit fails otherwise), else the one stored now.
pub(crate) fn before(
    batch: &Batch,
    now: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    store: &mut dyn Reads,
    tree: Tree,
    k: &[u8],
) -> Result<Option<Vec<u8>>, StoreError> {
    if let Some(v) = now.get(k) {
        return Ok(v.clone());
    }
    match batch
        .expects
        .iter()
        .find(|(t, ek, _)| *t == tree && ek.as_slice() == k)
    {
        Some((_, _, expected)) => Ok(expected.clone()),
        None => store.get(tree, k),
    }
}

/// `award`'s counts by standing, as kept, or counted now from its applications when the
/// store keeps none for it yet; and whether they were kept.
pub fn read(store: &dyn super::Store, award: &str) -> Result<(Counts, bool), StoreError> {
    if let Some(bytes) = store.get(Tree::Meta, &counts_key(award))? {
        return Ok((serde_json::from_slice(&bytes).map_err(corrupt)?, true));
    }
    let mut counts = Counts::new();
    for (_, v) in store.scan(Tree::Applications, &prefix(&[award.as_bytes()]))? {
        *counts.entry(standing(&v).to_owned()).or_default() += 1;
    }
    Ok((counts, false))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use serde_json::json;

    use super::super::{
        AuditEntry, Batch, MemoryStore, PgOptions, PgStore, SledStore, Store, StoreError, Tree,
        key, verify_store,
    };

    /// An application as the model holds it: withdrawn, the rules' word, an administrator's.
    type Model = BTreeMap<(String, String), (bool, Option<&'static str>, Option<bool>)>;

    const RULES: [Option<&str>; 4] = [
        Some("eligible"),
        Some("ineligible"),
        Some("needs_review"),
        None,
    ];

    fn stored(withdrawn: bool, rules: Option<&str>, review: Option<bool>) -> Vec<u8> {
        let mut v = json!({
            "award": "x", "version": 1, "application": {}, "owner": "k",
            "status": if withdrawn { "withdrawn" } else { "submitted" },
            "eligibility": rules.map_or(json!({}), |r| json!({ "status": r })),
            "submitted_at": "t", "updated_at": "t",
        });
        if let Some(ok) = review {
            v["review"] = json!({ "application": "a", "eligible": ok, "reason": "r" });
        }
        serde_json::to_vec(&v).unwrap()
    }

    /// Where the model says an application stands, by the rules as people read them.
    fn expected(&(withdrawn, rules, review): &(bool, Option<&str>, Option<bool>)) -> &'static str {
        if withdrawn {
            "withdrawn"
        } else {
            match (rules, review) {
                (Some("needs_review"), Some(true)) => "admitted",
                (Some("needs_review"), Some(false)) => "not_admitted",
                (Some("needs_review"), None) => "needs_review",
                (Some("eligible"), _) => "eligible",
                (Some("ineligible"), _) => "ineligible",
                _ => "unknown",
            }
        }
    }

    fn audit(n: usize) -> AuditEntry {
        AuditEntry {
            actor: "test".into(),
            action: "write".into(),
            target: format!("t{n}"),
            detail: json!({}),
        }
    }

    /// The store's counts and index of `award` agree with the model.
    fn agrees(store: &dyn Store, model: &Model, award: &str) {
        let mut counts = BTreeMap::new();
        let mut members: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for ((a, id), app) in model {
            if a == award {
                *counts.entry(expected(app).to_owned()).or_insert(0u64) += 1;
                members.entry(expected(app)).or_default().insert(id.clone());
            }
        }
        let (read, _) = super::read(store, award).unwrap();
        assert_eq!(read, counts, "the counts of {award}");
        if store
            .get(Tree::Meta, &super::counts_key(award))
            .unwrap()
            .is_some()
        {
            for s in super::STANDINGS {
                let listed: BTreeSet<String> = store
                    .scan(Tree::Meta, &super::members_prefix(award, s))
                    .unwrap()
                    .into_iter()
                    .map(|(_, v)| String::from_utf8(v).unwrap())
                    .collect();
                assert_eq!(
                    listed,
                    members.get(s).cloned().unwrap_or_default(),
                    "the index of {award} at {s}"
                );
            }
        }
    }

    /// One write: award, application, and what it stores (withdrawn, the rules' word, a
    /// review) or `None` to remove it.
    type Write = (usize, usize, Option<(bool, usize, Option<bool>)>);

    #[derive(Debug, Clone)]
    enum Op {
        /// Writes applications (award, id, value or removal) in one batch; `stale`: with an
        /// expectation that no longer holds, so nothing is written.
        Write { writes: Vec<Write>, stale: bool },
    }

    fn op() -> impl Strategy<Value = Op> {
        let write = (
            0..2usize,
            0..6usize,
            prop::option::weighted(
                0.85,
                (any::<bool>(), 0..4usize, prop::option::of(any::<bool>())),
            ),
        );
        (
            prop::collection::vec(write, 1..4),
            prop::bool::weighted(0.15),
        )
            .prop_map(|(writes, stale)| Op::Write { writes, stale })
    }

    /// Runs `ops` on `store`, checking counts and index after each commit and the audit chain
    /// and data at the end.
    fn run(store: &dyn Store, ops: &[Op]) {
        let awards = ["seoul", "seoul-2"];
        let mut model = Model::new();
        for (n, Op::Write { writes, stale }) in ops.iter().enumerate() {
            let mut batch = Batch::new();
            let mut after = model.clone();
            for (a, id, value) in writes {
                let (award, id) = (awards[*a].to_owned(), format!("app-{id}"));
                let k = key(&[award.as_bytes(), id.as_bytes()]);
                match value {
                    Some((withdrawn, rules, review)) => {
                        let app = (*withdrawn, RULES[*rules], *review);
                        batch.put(Tree::Applications, k, stored(app.0, app.1, app.2));
                        after.insert((award, id), app);
                    }
                    None => {
                        batch.delete_if_present(Tree::Applications, k);
                        after.remove(&(award, id));
                    }
                }
            }
            if *stale {
                batch.expect(Tree::Awards, b"nobody".to_vec(), Some(b"1".to_vec()));
            }
            match store.commit(batch, audit(n)) {
                Ok(_) => model = after,
                Err(StoreError::Conflict { .. }) if *stale => {}
                Err(e) => panic!("{e}"),
            }
            for award in awards {
                agrees(store, &model, award);
            }
        }
        let (_, problems) = verify_store(store, None).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn counts_and_index_follow_every_write_in_memory(ops in prop::collection::vec(op(), 1..30)) {
            run(&MemoryStore::default(), &ops);
        }

        #[test]
        fn counts_and_index_follow_every_write_in_sled(ops in prop::collection::vec(op(), 1..20)) {
            let dir = tempfile::tempdir().unwrap();
            run(&SledStore::open(dir.path()).unwrap(), &ops);
        }
    }

    /// A fixed pseudo-random run on PostgreSQL: the same checks through its commits.
    #[test]
    fn counts_and_index_follow_every_write_in_postgres() {
        let pg = super::super::pg_cluster::Cluster::start();
        let store = PgStore::open(PgOptions::new(&pg.database()), true).unwrap();
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let ops = prop::collection::vec(op(), 40)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        run(&store, &ops);
    }

    /// Applications stored before counts were kept (a restored backup of an older version):
    /// read by a scan until a write, then counted once, wholly, by that write's commit.
    #[test]
    fn an_award_stored_without_counts_is_counted_by_its_next_write() {
        let store = MemoryStore::default();
        let mut model = Model::new();
        let mut entries = Vec::new();
        for i in 0..9 {
            let app = (i % 4 == 3, RULES[i % 4], (i % 3 == 0).then_some(i % 2 == 0));
            let id = format!("app-{i}");
            entries.push((
                Tree::Applications,
                key(&[b"seoul", id.as_bytes()]),
                stored(app.0, app.1, app.2),
            ));
            model.insert(("seoul".to_owned(), id), app);
        }
        store.restore(entries).unwrap();
        assert!(!super::read(&store, "seoul").unwrap().1, "not kept yet");
        agrees(&store, &model, "seoul");
        let mut batch = Batch::new();
        batch.put(
            Tree::Applications,
            key(&[b"seoul", b"app-0"]),
            stored(true, Some("eligible"), None),
        );
        store.commit(batch, audit(0)).unwrap();
        model.insert(
            ("seoul".into(), "app-0".into()),
            (true, Some("eligible"), None),
        );
        assert!(super::read(&store, "seoul").unwrap().1, "kept from now on");
        agrees(&store, &model, "seoul");
    }

    /// Writers racing on one award, each retrying on a conflict: the counts are those of what
    /// was stored, on sled and on PostgreSQL (two stores: two processes).
    #[test]
    fn racing_writers_leave_true_counts() {
        let dir = tempfile::tempdir().unwrap();
        let sled = SledStore::open(dir.path()).unwrap();
        race(&[&sled]);
        let pg = super::super::pg_cluster::Cluster::start();
        let url = pg.database();
        let a = PgStore::open(PgOptions::new(&url), true).unwrap();
        let b = PgStore::open(PgOptions::new(&url), false).unwrap();
        race(&[&a, &b]);
    }

    fn race(stores: &[&dyn Store]) {
        std::thread::scope(|s| {
            for t in 0..6usize {
                let store = stores[t % stores.len()];
                s.spawn(move || {
                    for i in 0..20usize {
                        // Creates of its own, and changes to entries every thread touches.
                        let id = if i % 2 == 0 {
                            format!("t{t}-{i}")
                        } else {
                            format!("shared-{}", i % 5)
                        };
                        let k = key(&[b"seoul", id.as_bytes()]);
                        loop {
                            let now = store.get(Tree::Applications, &k).unwrap();
                            let mut batch = Batch::new();
                            batch.expect(Tree::Applications, k.clone(), now).put(
                                Tree::Applications,
                                k.clone(),
                                stored((t + i) % 5 == 0, RULES[(t * 7 + i) % 4], None),
                            );
                            match store.commit(batch, audit(i)) {
                                Ok(_) => break,
                                Err(StoreError::Conflict { .. }) => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                });
            }
        });
        let store = stores[0];
        let mut counts = BTreeMap::new();
        for (_, v) in store.scan(Tree::Applications, b"seoul\0").unwrap() {
            let s: serde_json::Value = serde_json::from_slice(&v).unwrap();
            let app = (
                s["status"] == "withdrawn",
                RULES
                    .into_iter()
                    .find(|r| s["eligibility"]["status"].as_str() == *r)
                    .flatten(),
                None,
            );
            *counts.entry(expected(&app).to_owned()).or_insert(0u64) += 1;
        }
        assert_eq!(counts.values().sum::<u64>(), 6 * 10 + 5);
        assert_eq!(super::read(store, "seoul").unwrap(), (counts, true));
    }
}
