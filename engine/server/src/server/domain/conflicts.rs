//! The conflicts of interest the installation knows beyond what judges declared: a judge never
//! judges an application their own person submitted, nor, in a later round, one they recused
//! themselves from in an earlier round of the award.
//!
//! What they rest on is read through indexes: the award's rounds' recusals, the people holding
//! its judge grants, the keys of its judges and the keys those people answer for (an
//! application submitted with one of them is theirs). One judge's conflict with one application
//! (checked on every mark a judge submits) reads that judge's people and keys and that
//! application, however many applications the award and keys the installation hold; the
//! award's conflicts (for a draw) read its applications once and its judges' people's keys.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::server::domain::api_keys;
use crate::server::domain::results::stored_applications;
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, OwnerKind, Recusal, Role};
use crate::server::state::{AppState, Loaded};
use crate::store::key_index::KeysBy;
use crate::store::{Tree, get_json, key, prefix, scan_json};

/// Conflicts by judge.
pub(crate) type Known = BTreeMap<String, Vec<laurel::DeclaredConflict>>;

fn add(
    known: &mut Known,
    judge: &str,
    application: &str,
    rule: laurel::ConflictRule,
    reason: String,
) {
    known
        .entry(judge.to_owned())
        .or_default()
        .push(laurel::DeclaredConflict {
            application: laurel::ApplicationId::new(application),
            reason,
            rule,
        });
}

/// The recusals in the award's rounds, of `judge` from `application` when given.
fn recusals(
    state: &AppState,
    award: &str,
    known: &mut Known,
    only: Option<(&str, &str)>,
) -> Result<(), ApiError> {
    // A round's recusals only: the rest of its record (entrants, assignments) is as large as
    // the award, and skipped.
    #[derive(serde::Deserialize)]
    struct Recusals {
        round: String,
        #[serde(default)]
        recusals: Vec<Recusal>,
    }
    let rounds: Vec<Recusals> = scan_json(
        state.store.as_ref(),
        Tree::Rounds,
        &prefix(&[award.as_bytes()]),
    )?;
    for r in &rounds {
        for recusal in &r.recusals {
            if only.is_none_or(|(j, a)| recusal.judge == j && recusal.application == a) {
                add(
                    known,
                    &recusal.judge,
                    &recusal.application,
                    laurel::ConflictRule::Recused,
                    format!("recused in round `{}`: {}", r.round, recusal.reason),
                );
            }
        }
    }
    Ok(())
}

/// Who stands behind each judge of the award (`judge` only, when given): the people holding
/// the judge's grant, and the people answering for the judge's keys.
fn people_behind(
    state: &AppState,
    award: &str,
    judge: Option<&str>,
) -> Result<BTreeMap<String, BTreeSet<String>>, ApiError> {
    let mut behind: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in crate::server::notices::people_of(state, award, &[Role::Judge])? {
        for g in &p.grants {
            if g.role == Role::Judge
                && g.award.as_deref() == Some(award)
                && let Some(j) = &g.judge
                && judge.is_none_or(|x| x == j)
            {
                behind.entry(j.clone()).or_default().insert(p.id.clone());
            }
        }
    }
    for (_, k) in api_keys::find(state.store.as_ref(), KeysBy::Judge(award, judge))? {
        if let (Some(owner), Some(j)) = (&k.owner, &k.subject)
            && owner.kind == OwnerKind::Person
        {
            behind
                .entry(j.clone())
                .or_default()
                .insert(owner.id.clone());
        }
    }
    Ok(behind)
}

/// The keys the people behind the judges answer for: key id -> person. An application
/// submitted with one of them is that person's; one submitted with any other key is no judge's
/// person's. Read by person (a few), not by application (an award's many owners).
fn their_keys(
    state: &AppState,
    behind: &BTreeMap<String, BTreeSet<String>>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let people: BTreeSet<&String> = behind.values().flatten().collect();
    let mut keys = BTreeMap::new();
    for p in people {
        for (_, k) in api_keys::find(state.store.as_ref(), KeysBy::Owner(p))? {
            if k.owner
                .as_ref()
                .is_some_and(|o| o.kind == OwnerKind::Person && &o.id == p)
            {
                keys.insert(k.id, p.clone());
            }
        }
    }
    Ok(keys)
}

/// Adds an own-application conflict for each judge behind whom stands the person behind
/// `record`: the person answering for the key it was submitted with, or its owner itself (an
/// application submitted in the pages is owned by its person).
fn own(
    behind: &BTreeMap<String, BTreeSet<String>>,
    their_keys: &BTreeMap<String, String>,
    record: &ApplicationRecord,
    id: &str,
    known: &mut Known,
) {
    let person = their_keys.get(&record.owner).unwrap_or(&record.owner);
    for (judge, them) in behind {
        if them.contains(person) {
            add(
                known,
                judge,
                id,
                laurel::ConflictRule::OwnApplication,
                "the judge submitted this application".to_owned(),
            );
        }
    }
}

/// Every conflict the installation knows in the award, by judge (for drawing a round's
/// assignments: it reads the award's applications once).
pub(crate) fn known_conflicts(state: &AppState, award: &str) -> Result<Known, ApiError> {
    let mut known = Known::new();
    recusals(state, award, &mut known, None)?;
    let behind = people_behind(state, award, None)?;
    if behind.is_empty() {
        return Ok(known);
    }
    let apps: Vec<ApplicationRecord> = scan_json(
        state.store.as_ref(),
        Tree::Applications,
        &prefix(&[award.as_bytes()]),
    )?;
    let keys = their_keys(state, &behind)?;
    for app in &apps {
        let id = app
            .application
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        own(&behind, &keys, app, id, &mut known);
    }
    Ok(known)
}

/// What the installation knows of `judge`'s conflicts with `application` alone.
fn known_of_one(
    state: &AppState,
    award: &str,
    judge: &str,
    application: &str,
) -> Result<Known, ApiError> {
    let mut known = Known::new();
    recusals(state, award, &mut known, Some((judge, application)))?;
    let behind = people_behind(state, award, Some(judge))?;
    if behind.is_empty() {
        return Ok(known);
    }
    let record: Option<ApplicationRecord> = get_json(
        state.store.as_ref(),
        Tree::Applications,
        &key(&[award.as_bytes(), application.as_bytes()]),
    )?;
    if let Some(record) = record {
        own(
            &behind,
            &their_keys(state, &behind)?,
            &record,
            application,
            &mut known,
        );
    }
    Ok(known)
}

/// Adds what the installation knows to a judge's declared conflicts.
pub(crate) fn add_known(judge: &mut laurel::Judge, known: &Known) {
    if let Some(extra) = known.get(judge.id.as_str()) {
        for c in extra {
            if !judge
                .declared_conflicts
                .iter()
                .any(|d| d.application == c.application)
            {
                judge.declared_conflicts.push(c.clone());
            }
        }
    }
}

/// Why `judge` may not judge `application` (declared or derived), if so; an unregistered
/// judge may judge nothing.
pub(crate) fn conflict_of(
    state: &AppState,
    loaded: &Loaded,
    award: &str,
    judge: &str,
    application: &str,
) -> Result<Option<String>, ApiError> {
    let Some(mut j): Option<laurel::Judge> = get_json(
        state.store.as_ref(),
        Tree::Judges,
        &key(&[award.as_bytes(), judge.as_bytes()]),
    )?
    else {
        return Ok(Some(format!("`{judge}` is not a registered judge")));
    };
    add_known(&mut j, &known_of_one(state, award, judge, application)?);
    let (apps, _) = stored_applications(state, loaded, award, Some(&[application.to_owned()]))?;
    Ok(apps
        .first()
        .and_then(|a| laurel::conflict(&loaded.award, &j, a))
        .map(|c| c.reason))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::{known_conflicts, known_of_one};
    use crate::server::state::AppState;
    use crate::store::counting::Counting;
    use crate::store::{AuditEntry, Batch, Store, Tree, key};

    const JUDGES: [&str; 3] = ["j1", "j2", "j3"];
    const PEOPLE: [&str; 4] = ["ada", "bo", "chul", "dana"];

    /// An API key as the test knows it: (id, role, award, judge, owning person).
    type Key = (
        String,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );

    /// A random installation as the test knows it, apart from how the server stores it.
    struct World {
        /// (person, award, judge) grants.
        grants: Vec<(&'static str, &'static str, &'static str)>,
        /// API keys: (id, role, award, judge, owning person).
        keys: Vec<Key>,
        /// The award's applications: (id, owner: a key id or a person).
        apps: Vec<(String, String)>,
        /// Recusals in the award's rounds: (round, judge, application).
        recusals: Vec<(String, &'static str, String)>,
    }

    fn world(seed: u64, apps: usize, other_keys: usize) -> World {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let awards = ["seoul", "busan"];
        let mut w = World {
            grants: Vec::new(),
            keys: Vec::new(),
            apps: Vec::new(),
            recusals: Vec::new(),
        };
        for _ in 0..next(4) {
            w.grants
                .push((PEOPLE[next(4)], awards[next(2)], JUDGES[next(3)]));
        }
        for i in 0..next(5) {
            let award = [Some("seoul"), Some("busan"), None][next(3)];
            let owner = [None, Some(PEOPLE[next(4)])][next(2)];
            w.keys.push((
                format!("judge-key-{i}"),
                "judge",
                award,
                Some(JUDGES[next(3)]),
                owner,
            ));
        }
        for i in 0..4 {
            w.keys.push((
                format!("app-key-{i}"),
                "applicant",
                None,
                None,
                Some(PEOPLE[next(4)]),
            ));
        }
        for i in 0..other_keys {
            w.keys
                .push((format!("other-{i}"), "applicant", None, None, None));
        }
        for i in 0..apps {
            let owner = match next(3) {
                0 => PEOPLE[next(4)].to_owned(),
                1 => format!("app-key-{}", next(4)),
                _ => format!("stranger-{i}"),
            };
            w.apps.push((format!("app-{i}"), owner));
        }
        for _ in 0..next(3) {
            w.recusals.push((
                format!("r{}", next(2)),
                JUDGES[next(3)],
                format!("app-{}", next(apps.max(1))),
            ));
        }
        w
    }

    fn put(store: &dyn Store, tree: Tree, k: Vec<u8>, v: &Value) {
        let mut batch = Batch::new();
        batch.put(tree, k, serde_json::to_vec(v).unwrap());
        let audit = AuditEntry {
            actor: "test".into(),
            action: "write".into(),
            target: "t".into(),
            detail: json!({}),
        };
        store.commit(batch, audit).unwrap();
    }

    fn store_world(store: &dyn Store, w: &World) {
        let mut people: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for (p, award, judge) in &w.grants {
            people
                .entry(p)
                .or_default()
                .push(json!({ "award": award, "role": "judge", "judge": judge }));
        }
        for (p, grants) in people {
            let person = json!({ "id": p, "email": "sealed", "name": "sealed", "language": "en",
                "grants": grants, "verified": true, "created_at": "2026-12-06T00:00:00Z" });
            put(store, Tree::People, p.as_bytes().to_vec(), &person);
        }
        for (i, (id, role, award, judge, owner)) in w.keys.iter().enumerate() {
            let mut k =
                json!({ "id": id, "role": role, "label": "", "created_at": "t", "revoked": false });
            if let Some(a) = award {
                k["award"] = json!(a);
            }
            if let Some(j) = judge {
                k["subject"] = json!(j);
            }
            if let Some(o) = owner {
                k["owner"] = json!({ "kind": "person", "id": o });
            }
            put(store, Tree::Keys, format!("digest-{i}").into_bytes(), &k);
        }
        for award in ["seoul", "busan"] {
            for (id, owner) in &w.apps {
                let app = json!({ "award": award, "version": 1,
                    "application": { "id": id, "category": "c", "applicant_type": "city", "fields": {} },
                    "owner": owner, "status": "submitted", "eligibility": {},
                    "submitted_at": "t", "updated_at": "t" });
                put(
                    store,
                    Tree::Applications,
                    key(&[award.as_bytes(), id.as_bytes()]),
                    &app,
                );
            }
        }
        let mut rounds: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for (round, judge, app) in &w.recusals {
            rounds
                .entry(round)
                .or_default()
                .push(json!({ "judge": judge, "application": app, "reason": "r", "at": "t" }));
        }
        for (round, recusals) in rounds {
            let r = json!({ "award": "seoul", "round": round, "version": 1, "status": "open", "seed": 1,
                "entrants": [], "assignments": {}, "recusals": recusals });
            put(store, Tree::Rounds, key(&[b"seoul", round.as_bytes()]), &r);
        }
    }

    /// The conflicts of `judge` with `app` in award `seoul`, from the world itself: (rule, round).
    fn truth(w: &World, judge: &str, app: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (round, j, a) in &w.recusals {
            if *j == judge && a == app {
                out.insert(format!("recused in {round}"));
            }
        }
        let mut behind: BTreeSet<&str> = w
            .grants
            .iter()
            .filter(|(_, award, j)| *award == "seoul" && *j == judge)
            .map(|(p, _, _)| *p)
            .collect();
        for (_, role, award, j, owner) in &w.keys {
            if *role == "judge" && award.is_none_or(|a| a == "seoul") && *j == Some(judge) {
                behind.extend(owner);
            }
        }
        let owner = &w.apps.iter().find(|(id, _)| id == app).unwrap().1;
        let person = w
            .keys
            .iter()
            .find(|(id, ..)| id == owner)
            .and_then(|k| k.4)
            .unwrap_or(owner);
        if behind.contains(person) {
            out.insert("own".to_owned());
        }
        out
    }

    fn seen(found: &[laurel::DeclaredConflict], app: &str) -> BTreeSet<String> {
        found
            .iter()
            .filter(|c| c.application.as_str() == app)
            .map(|c| match c.rule {
                laurel::ConflictRule::OwnApplication => "own".to_owned(),
                _ => {
                    let round = c.reason.split('`').nth(1).unwrap_or_default();
                    format!("recused in {round}")
                }
            })
            .collect()
    }

    /// One judge's conflicts with one application, and every conflict of the award, are
    /// those the installation's people, keys, applications and recusals imply.
    #[test]
    fn the_conflicts_known_are_those_the_installation_implies() {
        for seed in 0..60 {
            let store = Arc::new(Counting::default());
            let w = world(seed, 6, 3);
            store_world(store.as_ref(), &w);
            let state = AppState::new(store.clone(), crate::server::crypto::Sealer::for_tests());
            let all = known_conflicts(&state, "seoul").unwrap();
            for judge in JUDGES {
                for (app, _) in &w.apps {
                    let want = truth(&w, judge, app);
                    let one = known_of_one(&state, "seoul", judge, app).unwrap();
                    let one = seen(one.get(judge).map_or(&[][..], Vec::as_slice), app);
                    assert_eq!(one, want, "seed {seed}: {judge} and {app}");
                    let whole = seen(all.get(judge).map_or(&[][..], Vec::as_slice), app);
                    assert_eq!(whole, want, "seed {seed}: {judge} and {app}, the award's");
                }
            }
        }
    }

    /// Checking one judge against one application reads as much in a small installation as in
    /// a large one: the award's applications and the installation's keys are not read.
    #[test]
    fn one_conflict_check_reads_the_same_however_large_the_installation() {
        let reads = |apps: usize, keys: usize| {
            let store = Arc::new(Counting::default());
            let mut w = world(7, apps, keys);
            // A person behind a judge: the application's submitter is then looked for.
            w.grants.push(("ada", "seoul", "j1"));
            store_world(store.as_ref(), &w);
            let state = AppState::new(store.clone(), crate::server::crypto::Sealer::for_tests());
            store.taken();
            for judge in JUDGES {
                known_of_one(&state, "seoul", judge, "app-0").unwrap();
            }
            store.taken()
        };
        let small = reads(5, 2);
        let large = reads(400, 500);
        assert_eq!(small, large);
        let (apps_read, apps_scanned) = small.get("applications").copied().unwrap_or_default();
        assert!((1..=JUDGES.len()).contains(&apps_read), "{small:?}");
        assert_eq!(apps_scanned, 0, "{small:?}");
        let (keys_read, keys_scanned) = small.get("keys").copied().unwrap_or_default();
        assert!(keys_read + keys_scanned < 10, "{small:?}");
    }
}
