//! Limits across applications (at most so many per city, in so many categories), checked
//! against the applications that share the submitted one's value rather than the award's
//! whole. Each limited field's submitted applications are kept in groups by value, in
//! [`Tree::Meta`]:
//! - `limit_group \0 award \0 field \0 tag` -> `{application: category}`, the tag a MAC of the
//!   value under the data key (a personal value, an e-mail, is never stored in the clear);
//! - `limit_groups \0 award \0 field` -> how many submitted applications the groups account
//!   for, and the data key's fingerprint.
//!
//! A submission or an update reads and writes its groups and the field's header in its own
//! commit: two submissions racing for one city's last place cannot both pass (the second
//! conflicts, nothing of it written, and is run again by the server, which then reads the
//! first: `routes/applications.rs`, `placing`; an applicant is not sent the conflict). The
//! groups are trusted only while the header counts as many submitted applications as the
//! store's own tally of the award (which never drifts: `store/tally.rs`) and names this
//! server's data key: an import, a new data key, an award stored before groups were kept, or
//! any write of applications that does not keep them makes the next submission build them
//! again from the award's applications, in its commit (the cost every submission had before).
//! The header and the tally are compared as of one moment ([`one_moment`]), so that a commit
//! between two reads is not taken for stale groups. A withdrawal takes the application out
//! (run again, like a submission, when it meets another's change).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::server::domain::results::submitted;
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, ApplicationStatus};
use crate::server::state::{AppState, Loaded};
use crate::server::tx::Tx;
use crate::store::{Tree, get_json, key, prefix};

/// What the groups of one field account for.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
struct Header {
    /// Submitted applications, in groups or without a value.
    applications: u64,
    /// The fingerprint of the data key the tags were made with.
    key: String,
}

/// The applications of one value: id -> category.
type Group = BTreeMap<String, String>;

fn header_key(award: &str, field: &str) -> Vec<u8> {
    key(&[b"limit_groups", award.as_bytes(), field.as_bytes()])
}

fn group_key(award: &str, field: &str, tag: &str) -> Vec<u8> {
    key(&[
        b"limit_group",
        award.as_bytes(),
        field.as_bytes(),
        tag.as_bytes(),
    ])
}

fn tag(state: &AppState, award: &str, field: &str, value: &str) -> String {
    let mac = state
        .sealer
        .mac(format!("limit\0{award}\0{field}\0{value}").as_bytes());
    mac.chars().take(32).collect()
}

/// Whether a commit's conflict was on a limit's groups (the store's escaped key, of
/// [`Tree::Meta`]): another submission to the award placed an application meanwhile, so the
/// request, run again, reads the groups as they now are.
pub(crate) fn raced(tree: &str, key: &str) -> bool {
    tree == Tree::Meta.name() && key.starts_with("limit_group")
}

/// The award's submitted applications, as the store counts them.
fn submitted_count(state: &AppState, award: &str) -> Result<u64, ApiError> {
    let (counts, _) = crate::store::tally::read(state.store.as_ref(), award)?;
    Ok(counts
        .iter()
        .filter(|(standing, _)| standing.as_str() != "withdrawn")
        .map(|(_, n)| n)
        .sum())
}

/// The fields the award's limits group applications by, each once.
fn limited_fields(loaded: &Loaded) -> Vec<&str> {
    let mut fields: Vec<&str> = loaded
        .award
        .limits
        .iter()
        .map(|l| l.field.as_str())
        .collect();
    fields.sort_unstable();
    fields.dedup();
    fields
}

/// The headers' keys of an award (an import removes them: its applications are new).
pub(crate) fn headers_of(state: &AppState, award: &str) -> Result<Vec<Vec<u8>>, ApiError> {
    Ok(state
        .store
        .keys(Tree::Meta, &prefix(&[b"limit_groups", award.as_bytes()]))?)
}

/// Each limited field's header (in the fields' order) and the award's submitted applications,
/// as the store counted them, at one moment.
type Moment = (Vec<Option<Header>>, u64);

/// The limited fields' headers as `tx` reads them (each expected unchanged at the commit) and
/// the store's count of the award's submitted applications, read after them and before each
/// header is read again: the count and the headers are of one moment, so a header that does
/// not agree with the count is stale, not merely raced. `None` when a commit changed a header
/// between the two reads: this run's commit would conflict, and the groups are not to be
/// judged (built again from the whole award) on a view that mixes two moments.
fn one_moment(
    state: &AppState,
    tx: &mut Tx<'_>,
    award: &str,
    fields: &[&str],
) -> Result<Option<Moment>, ApiError> {
    let mut headers = Vec::with_capacity(fields.len());
    for field in fields {
        headers.push(tx.read::<Header>(Tree::Meta, &header_key(award, field))?);
    }
    let counted = submitted_count(state, award)?;
    for (field, header) in fields.iter().zip(&headers) {
        let again: Option<Header> =
            get_json(state.store.as_ref(), Tree::Meta, &header_key(award, field))?;
        if again != *header {
            return Ok(None);
        }
    }
    Ok(Some((headers, counted)))
}

/// Refuses `app` when it would break one of the award's limits across applications, with the
/// limit's message at the field; otherwise places it in its groups, in `tx` (taking it out of
/// the groups of the submitted application it replaces, if any). `Ok(false)`, with nothing
/// decided, when another commit changed the groups while they were read: the commit of this
/// run would conflict, so the request is to be run again.
pub(crate) fn check_and_place(
    state: &AppState,
    tx: &mut Tx<'_>,
    loaded: &Loaded,
    app: &laurel::Application,
) -> Result<bool, ApiError> {
    let award = loaded.award.id.as_str();
    let fields = limited_fields(loaded);
    let previous = replaced(state, loaded, app)?;
    let Some((headers, counted)) = one_moment(state, tx, award, &fields)? else {
        return Ok(false);
    };
    let fingerprint = state.sealer.fingerprint();
    let mut breaches = Vec::new();
    // The award's applications, read once if some field's groups must be built again.
    let mut all: Option<Vec<laurel::Application>> = None;
    for (field, header) in fields.into_iter().zip(headers) {
        let hk = header_key(award, field);
        let trusted = header
            .as_ref()
            .is_some_and(|h| h.applications == counted && h.key == fingerprint);
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut stored = counted;
        if !trusted {
            // Built again from the award's applications; every group of the field rewritten.
            for k in state.store.keys(
                Tree::Meta,
                &prefix(&[b"limit_group", award.as_bytes(), field.as_bytes()]),
            )? {
                tx.delete(Tree::Meta, k);
            }
            if all.is_none() {
                all = Some(
                    submitted(state, loaded, award)?
                        .into_iter()
                        .map(|(_, a)| a)
                        .collect(),
                );
            }
            let all = all.as_deref().unwrap_or_default();
            stored = all.len() as u64;
            for a in all {
                if let Some(v) = laurel::limit_value(a, field) {
                    groups
                        .entry(tag(state, award, field, &v))
                        .or_default()
                        .insert(a.id.to_string(), a.category.to_string());
                }
            }
        }
        let mut group_of = |tx: &mut Tx<'_>, t: &str| -> Result<Group, ApiError> {
            if let Some(g) = groups.remove(t) {
                return Ok(g);
            }
            if trusted {
                Ok(tx
                    .read(Tree::Meta, &group_key(award, field, t))?
                    .unwrap_or_default())
            } else {
                Ok(Group::new())
            }
        };
        // Out of the group it was in (its value or category may change).
        let mut before = 0u64;
        let mut touched: BTreeMap<String, Group> = BTreeMap::new();
        if let Some(p) = &previous {
            before = 1;
            if let Some(v) = laurel::limit_value(p, field) {
                let t = tag(state, award, field, &v);
                let mut g = group_of(tx, &t)?;
                g.remove(p.id.as_str());
                touched.insert(t, g);
            }
        }
        if let Some(v) = laurel::limit_value(app, field) {
            let t = tag(state, award, field, &v);
            let mut g = match touched.remove(&t) {
                Some(g) => g,
                None => group_of(tx, &t)?,
            };
            g.remove(app.id.as_str());
            let mut members: Vec<(&str, &str)> =
                g.iter().map(|(a, c)| (a.as_str(), c.as_str())).collect();
            members.push((app.id.as_str(), app.category.as_str()));
            for (i, limit) in loaded.award.limits.iter().enumerate() {
                if limit.field.as_str() == field
                    && let Some(b) = laurel::limit_breach(limit, v.clone(), &members)
                {
                    breaches.push((i, b));
                }
            }
            g.insert(app.id.to_string(), app.category.to_string());
            touched.insert(t, g);
        }
        // What the groups hold now: the groups built again, then those this write changed.
        for (t, g) in groups.into_iter().chain(touched) {
            let k = group_key(award, field, &t);
            if g.is_empty() {
                tx.delete(Tree::Meta, k);
            } else {
                tx.put(Tree::Meta, k, &g);
            }
        }
        // What the groups account for once this commits (a scan that raced another commit
        // leaves a count the next submission does not trust: it builds them again).
        let header = Header {
            applications: stored.saturating_sub(before) + 1,
            key: fingerprint.clone(),
        };
        tx.put(Tree::Meta, hk, &header);
    }
    if breaches.is_empty() {
        return Ok(true);
    }
    // In the order the award lists its limits.
    breaches.sort_by_key(|(i, _)| *i);
    let lang = &loaded.award.default_language;
    Err(ApiError::Invalid {
        title: "The application breaks a limit across applications".to_owned(),
        diagnostics: breaches
            .into_iter()
            .map(|(_, b)| {
                laurel::Diagnostic::error(
                    laurel::Code::Condition,
                    format!("/fields/{}", b.field.replace('.', "/")),
                    format!(
                        "{} ({} `{}` would have {})",
                        b.message.get(lang, lang),
                        b.field,
                        b.value,
                        b.reason
                    ),
                )
            })
            .collect(),
    })
}

/// Takes a withdrawn application out of its groups, in `tx`, where the groups are trusted
/// (where they are not, the next submission builds them again without it). `Ok(false)`, with
/// nothing done, when another commit changed the groups while they were read (the withdrawal
/// is to be run again).
pub(crate) fn take_out(
    state: &AppState,
    tx: &mut Tx<'_>,
    loaded: &Loaded,
    record: &ApplicationRecord,
) -> Result<bool, ApiError> {
    if loaded.award.limits.is_empty() || record.status != ApplicationStatus::Submitted {
        return Ok(true);
    }
    let award = loaded.award.id.as_str();
    let mut value = record.application.clone();
    crate::server::crypto::open(&loaded.award, &state.sealer, &mut value);
    let Ok(app) = serde_json::from_value::<laurel::Application>(value) else {
        return Ok(true);
    };
    let fields = limited_fields(loaded);
    let Some((headers, counted)) = one_moment(state, tx, award, &fields)? else {
        // Its commit would conflict: said now, before a mixed view could remove a header.
        return Ok(false);
    };
    let fingerprint = state.sealer.fingerprint();
    for (field, header) in fields.into_iter().zip(headers) {
        let hk = header_key(award, field);
        let Some(mut header) = header else {
            continue;
        };
        if header.applications != counted || header.key != fingerprint {
            // Not trusted: removed, so that this withdrawal cannot make the count agree again
            // with groups that are wrong (the next submission builds them again).
            tx.delete(Tree::Meta, hk);
            continue;
        }
        if let Some(v) = laurel::limit_value(&app, field) {
            let gk = group_key(award, field, &tag(state, award, field, &v));
            let mut group: Group = tx.read(Tree::Meta, &gk)?.unwrap_or_default();
            group.remove(app.id.as_str());
            if group.is_empty() {
                tx.delete(Tree::Meta, gk);
            } else {
                tx.put(Tree::Meta, gk, &group);
            }
        }
        header.applications -= 1;
        tx.put(Tree::Meta, hk, &header);
    }
    Ok(true)
}

/// The submitted application `app` replaces (an update), opened.
fn replaced(
    state: &AppState,
    loaded: &Loaded,
    app: &laurel::Application,
) -> Result<Option<laurel::Application>, ApiError> {
    let Some(record) = get_json::<ApplicationRecord>(
        state.store.as_ref(),
        Tree::Applications,
        &key(&[
            loaded.award.id.as_str().as_bytes(),
            app.id.as_str().as_bytes(),
        ]),
    )?
    else {
        return Ok(None);
    };
    if record.status != ApplicationStatus::Submitted {
        return Ok(None);
    }
    let mut value = record.application;
    crate::server::crypto::open(&loaded.award, &state.sealer, &mut value);
    Ok(serde_json::from_value(value).ok())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::check_and_place;
    use crate::server::error::ApiError;
    use crate::server::state::{AppState, Loaded};
    use crate::server::tx::Tx;
    use crate::store::counting::Counting;
    use crate::store::{AuditEntry, Batch, Tree, key};

    fn loaded() -> Loaded {
        let criteria = json!([{"id": "c", "name": "c", "weight": 1,
            "indicators": [{"id": "i", "name": "i", "weight": 1}]}]);
        let def = json!({
            "format_version": "1.1", "id": "lim", "name": "Limits", "edition": "1",
            "languages": {"default": "en", "available": ["en"]},
            "timeline": {"time_zone": "UTC", "opens": "2026-01-01T00:00:00Z",
                "closes": "2026-02-01T00:00:00Z", "results": "2026-03-01T00:00:00Z"},
            "applicant_types": [{"id": "team", "name": "Team"}],
            "form": {"fields": [{"id": "city", "type": "short_text", "label": "City", "required": false}]},
            "scales": [{"id": "ten", "min": 0, "max": 10, "step": 1}],
            "categories": [
                {"id": "a", "name": "A", "applicant_types": ["team"], "winners": 1, "criteria": criteria},
                {"id": "b", "name": "B", "applicant_types": ["team"], "winners": 1, "criteria": criteria}],
            "scoring": {"scale": "ten"},
            "limits": [
                {"id": "two-per-city", "field": "city", "max_applications": 2,
                 "message": "At most two per city."},
                {"id": "one-category", "field": "city", "max_categories": 1,
                 "message": "One category per city."}]
        });
        let report = laurel::check_definition(&def.to_string(), &BTreeMap::new());
        let award = report
            .award
            .unwrap_or_else(|| panic!("{:?}", report.diagnostics));
        Loaded {
            checker: laurel::ApplicationChecker::new(&award),
            award,
            plugins: laurel::PluginSet::none(),
            version: 1,
        }
    }

    fn application(id: &str, city: Option<&str>, category: &str) -> laurel::Application {
        let mut fields = serde_json::Map::new();
        if let Some(c) = city {
            fields.insert("city".into(), json!(c));
        }
        serde_json::from_value(json!({ "id": id, "category": category,
            "applicant_type": "team", "fields": fields }))
        .unwrap()
    }

    fn record(state: &AppState, l: &Loaded, app: &laurel::Application, status: &str) -> Value {
        let mut sealed = serde_json::to_value(app).unwrap();
        crate::server::crypto::seal(&l.award, &state.sealer, &mut sealed);
        json!({ "award": "lim", "version": 1, "application": sealed, "owner": "k",
            "status": status, "eligibility": {"status": "eligible"},
            "submitted_at": "t", "updated_at": "t" })
    }

    fn audit() -> AuditEntry {
        AuditEntry {
            actor: "test".into(),
            action: "t".into(),
            target: "t".into(),
            detail: json!({}),
        }
    }

    /// Submits (or updates) `app` as the route does: refused, or placed and stored.
    fn submit(state: &AppState, l: &Loaded, app: &laurel::Application) -> Result<(), ApiError> {
        let mut tx = Tx::new(state);
        // Alone, a run is never raced.
        assert!(check_and_place(state, &mut tx, l, app)?);
        tx.put(
            Tree::Applications,
            key(&[b"lim", app.id.as_str().as_bytes()]),
            &record(state, l, app, "submitted"),
        );
        tx.commit(audit())?;
        Ok(())
    }

    /// Withdraws a submitted application as the route does.
    fn withdraw(state: &AppState, l: &Loaded, id: &str) {
        let k = key(&[b"lim", id.as_bytes()]);
        let mut tx = Tx::new(state);
        let mut r: crate::server::records::ApplicationRecord =
            tx.read(Tree::Applications, &k).unwrap().unwrap();
        assert!(super::take_out(state, &mut tx, l, &r).unwrap());
        r.status = crate::server::records::ApplicationStatus::Withdrawn;
        tx.put(Tree::Applications, k, &r);
        tx.commit(audit()).unwrap();
    }

    /// Stored without the route (an older version's data): the groups do not know of it.
    fn behind_the_back(state: &AppState, l: &Loaded, app: &laurel::Application, status: &str) {
        let mut batch = Batch::new();
        batch.put(
            Tree::Applications,
            key(&[b"lim", app.id.as_str().as_bytes()]),
            serde_json::to_vec(&record(state, l, app, status)).unwrap(),
        );
        state.store.commit(batch, audit()).unwrap();
    }

    /// The verdict the limits give, from the test's own model of what is submitted.
    fn allowed(
        model: &BTreeMap<String, (Option<String>, String)>,
        app: (&str, Option<&str>, &str),
    ) -> bool {
        let (id, city, category) = app;
        let Some(city) = city.map(|c| c.trim().to_lowercase()) else {
            return true;
        };
        let mut members: Vec<&str> = model
            .iter()
            .filter(|(other, (c, _))| other.as_str() != id && c.as_deref() == Some(city.as_str()))
            .map(|(_, (_, cat))| cat.as_str())
            .collect();
        members.push(category);
        let categories: BTreeSet<&str> = members.iter().copied().collect();
        members.len() <= 2 && categories.len() <= 1
    }

    /// Random submissions, updates, withdrawals and applications stored behind the groups'
    /// back: each submission is refused exactly when the applications submitted then break a
    /// limit, as the test counts them itself.
    #[test]
    fn the_groups_decide_as_the_whole_award_would() {
        let l = loaded();
        for seed in 0..120u64 {
            let store = Arc::new(Counting::default());
            let state = AppState::new(store.clone(), crate::server::crypto::Sealer::for_tests());
            let mut model: BTreeMap<String, (Option<String>, String)> = BTreeMap::new();
            let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = |n: u64| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (rng % n) as usize
            };
            let cities = [
                Some("Seoul"),
                Some(" seoul"),
                Some("Busan"),
                Some("DAEGU"),
                None,
            ];
            for step in 0..80 {
                let id = format!("app-{}", next(12));
                let city = cities[next(5)];
                let category = ["a", "b"][next(2)];
                let app = application(&id, city, category);
                match next(10) {
                    0 => {
                        // A withdrawal, as the route makes it.
                        if model.remove(&id).is_some() {
                            withdraw(&state, &l, &id);
                        }
                    }
                    1 if !model.contains_key(&id) => {
                        behind_the_back(&state, &l, &app, "submitted");
                        model.insert(id, (city.map(|c| c.trim().to_lowercase()), category.into()));
                    }
                    _ => {
                        let want = allowed(&model, (&id, city, category));
                        let got = submit(&state, &l, &app);
                        assert_eq!(
                            got.is_ok(),
                            want,
                            "seed {seed} step {step}: {id} {city:?} {category}: {got:?}"
                        );
                        if want {
                            model.insert(
                                id,
                                (city.map(|c| c.trim().to_lowercase()), category.into()),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Once the groups are built, a submission reads its own group, not the award's
    /// applications, however many the award holds.
    #[test]
    fn a_submission_reads_its_group_not_the_award() {
        let l = loaded();
        let reads = |n: usize| {
            let store = Arc::new(Counting::default());
            let state = AppState::new(store.clone(), crate::server::crypto::Sealer::for_tests());
            for i in 0..n {
                submit(
                    &state,
                    &l,
                    &application(&format!("x-{i}"), Some(&format!("city-{i}")), "a"),
                )
                .unwrap();
            }
            store.taken();
            submit(&state, &l, &application("probe", Some("city-0"), "a")).unwrap();
            let refused = submit(&state, &l, &application("third", Some("city-0"), "a"));
            assert!(
                matches!(refused, Err(ApiError::Invalid { .. })),
                "{refused:?}"
            );
            store.taken()
        };
        let (small, large) = (reads(3), reads(300));
        assert_eq!(small.get("applications"), large.get("applications"));
        assert_eq!(large.get("applications").map_or(0, |r| r.1), 0, "{large:?}");
    }
}
