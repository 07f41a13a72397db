//! Rounds as stored: their keys, definitions and records, judges' notices, conflicts the
//! installation knows, and what each judge is assigned.

use crate::server::domain::awards::load_award;
use crate::server::domain::results::score;
use crate::server::domain::results::stored_applications;
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, Role, RoundRecord};
use crate::server::state::{AppState, Loaded};
use crate::server::tx::Tx;
use crate::store::{Tree, get_json, key, prefix, scan_json};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) fn round_key(award: &str, round: &str) -> Vec<u8> {
    key(&[award.as_bytes(), round.as_bytes()])
}

/// Where a judge's score sheet saved for later is kept (`Tree::Meta`): apart from the marks
/// that count, which scoring reads.
pub(crate) fn sheet_key(award: &str, round: &str, app: &str, judge: &str) -> Vec<u8> {
    key(&[
        b"sheet",
        award.as_bytes(),
        round.as_bytes(),
        app.as_bytes(),
        judge.as_bytes(),
    ])
}

pub(crate) fn mark_key(award: &str, round: &str, app: &str, judge: &str) -> Vec<u8> {
    key(&[
        award.as_bytes(),
        round.as_bytes(),
        app.as_bytes(),
        judge.as_bytes(),
    ])
}

/// The award's current version, the round's definition, its place and the round count.
pub(crate) async fn spec(
    state: &AppState,
    award: &str,
    round: &str,
) -> Result<
    (
        std::sync::Arc<Loaded>,
        laurel::wire::RoundSpec,
        usize,
        usize,
    ),
    ApiError,
> {
    let record = load_award(state, award)?;
    let version = record
        .current()
        .ok_or_else(|| ApiError::Conflict(format!("award `{award}` has no published version")))?;
    let loaded = state.loaded(award, version).await?;
    let rounds = loaded.award.judging_rounds();
    let index = rounds.iter().position(|r| r.id == round).ok_or_else(|| {
        let ids: Vec<&str> = rounds.iter().map(|r| r.id.as_str()).collect();
        ApiError::NotFound(format!(
            "award `{award}` has no round `{round}` (its rounds: {})",
            ids.join(", ")
        ))
    })?;
    let r = rounds[index].clone();
    Ok((loaded, r, index, rounds.len()))
}

pub(crate) fn load_round(
    state: &AppState,
    award: &str,
    round: &str,
) -> Result<RoundRecord, ApiError> {
    get_json(state.store.as_ref(), Tree::Rounds, &round_key(award, round))?
        .ok_or_else(|| ApiError::Conflict(format!("round `{round}` is not open yet")))
}

/// Which mail judges get.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notify {
    /// What they are assigned, as the round opens.
    Assigned,
    /// What they have not marked yet.
    Reminder,
}

/// Mails each judge of round `r` who has an account: their assignments, or what is still due.
/// Returns how many were written to.
pub(crate) fn notify_judges(
    state: &AppState,
    tx: &mut Tx<'_>,
    record: &crate::server::records::AwardRecord,
    loaded: &Loaded,
    r: &RoundRecord,
    which: Notify,
) -> Result<usize, ApiError> {
    use crate::server::notices::{Notice, judges_of, people_of, send};
    let people = people_of(state, &r.award, &[Role::Judge])?;
    let marked: BTreeSet<(String, String)> = if which == Notify::Reminder {
        state
            .store
            .scan(
                Tree::RoundMarks,
                &prefix(&[r.award.as_bytes(), r.round.as_bytes()]),
            )?
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_slice::<laurel::Evaluation>(&v).ok())
            .map(|e| (e.judge.to_string(), e.application.to_string()))
            .collect()
    } else {
        BTreeSet::new()
    };
    let mut written = 0;
    for (judge, apps) in &r.assignments {
        let due = apps
            .iter()
            .filter(|a| !marked.contains(&(judge.clone(), (*a).clone())))
            .count();
        let notice = match which {
            Notify::Assigned => Notice::Assigned {
                round: &r.round,
                count: apps.len(),
            },
            Notify::Reminder => Notice::Reminder {
                round: &r.round,
                due,
            },
        };
        if due == 0 {
            continue;
        }
        for person in judges_of(&people, &r.award, judge) {
            if send(
                state,
                tx,
                &record.notifications,
                (&r.award, Some(loaded)),
                person,
                &notice,
            )? {
                written += 1;
            }
        }
    }
    Ok(written)
}

/// The conflicts the installation knows beyond what judges declared, by judge: a judge
/// never judges an application their own person submitted, nor, in a later round, one they
/// recused themselves from in an earlier round of the award.
pub(crate) fn known_conflicts(
    state: &AppState,
    award: &str,
) -> Result<BTreeMap<String, Vec<laurel::DeclaredConflict>>, ApiError> {
    let mut known: BTreeMap<String, Vec<laurel::DeclaredConflict>> = BTreeMap::new();
    let mut add = |judge: &str, application: &str, rule: laurel::ConflictRule, reason: String| {
        known
            .entry(judge.to_owned())
            .or_default()
            .push(laurel::DeclaredConflict {
                application: laurel::ApplicationId::new(application),
                reason,
                rule,
            });
    };
    let rounds: Vec<RoundRecord> = scan_json(
        state.store.as_ref(),
        Tree::Rounds,
        &prefix(&[award.as_bytes()]),
    )?;
    for r in &rounds {
        for recusal in &r.recusals {
            add(
                &recusal.judge,
                &recusal.application,
                laurel::ConflictRule::Recused,
                format!("recused in round `{}`: {}", r.round, recusal.reason),
            );
        }
    }
    // Who stands behind each judge of this award: the people holding the judge's grant, and
    // the owners of judge keys.
    let mut people_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in crate::server::notices::people_of(state, award, &[Role::Judge])? {
        for g in &p.grants {
            if g.role == Role::Judge
                && g.award.as_deref() == Some(award)
                && let Some(j) = &g.judge
            {
                people_of.entry(j.clone()).or_default().push(p.id.clone());
            }
        }
    }
    let mut key_owner: BTreeMap<String, String> = BTreeMap::new();
    for k in scan_json::<crate::server::records::KeyRecord>(state.store.as_ref(), Tree::Keys, b"")?
    {
        if let Some(owner) = k
            .owner
            .filter(|o| o.kind == crate::server::records::OwnerKind::Person)
        {
            if k.role == Role::Judge
                && let Some(j) = &k.subject
            {
                people_of
                    .entry(j.clone())
                    .or_default()
                    .push(owner.id.clone());
            }
            key_owner.insert(k.id, owner.id);
        }
    }
    if people_of.is_empty() {
        return Ok(known);
    }
    let apps: Vec<ApplicationRecord> = scan_json(
        state.store.as_ref(),
        Tree::Applications,
        &prefix(&[award.as_bytes()]),
    )?;
    for app in &apps {
        // The person behind the application: its owner, or the person owning the key it was
        // submitted with.
        let person = key_owner.get(&app.owner).unwrap_or(&app.owner);
        let id = app
            .application
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for (judge, people) in &people_of {
            if people.contains(person) {
                add(
                    judge,
                    id,
                    laurel::ConflictRule::OwnApplication,
                    "the judge submitted this application".to_owned(),
                );
            }
        }
    }
    Ok(known)
}

/// Adds what the installation knows to a judge's declared conflicts.
pub(crate) fn add_known(
    judge: &mut laurel::Judge,
    known: &BTreeMap<String, Vec<laurel::DeclaredConflict>>,
) {
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
    add_known(&mut j, &known_conflicts(state, award)?);
    let (apps, _) = stored_applications(state, loaded, award, Some(&[application.to_owned()]))?;
    Ok(apps
        .first()
        .and_then(|a| laurel::conflict(&loaded.award, &j, a))
        .map(|c| c.reason))
}

/// The applications assigned to a judge in any round of the award.
pub(crate) fn assigned(
    state: &AppState,
    award: &str,
    judge: &str,
) -> Result<Vec<String>, ApiError> {
    let rounds: Vec<crate::server::records::RoundRecord> = scan_json(
        state.store.as_ref(),
        Tree::Rounds,
        &prefix(&[award.as_bytes()]),
    )?;
    let mut out: Vec<String> = rounds
        .into_iter()
        .filter_map(|mut r| r.assignments.remove(judge))
        .flatten()
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The round's results from its stored marks: the results as stored (sealed), the inputs'
/// SHA-256 and the results' SHA-256.
pub(crate) async fn round_results(
    state: &AppState,
    loaded: &std::sync::Arc<Loaded>,
    spec: &laurel::wire::RoundSpec,
    r: &RoundRecord,
) -> Result<(Value, String, String), ApiError> {
    let (apps, marks) = crate::server::domain::diagnostics::inputs(state, loaded, r)?;
    let (mut results, inputs, sha) = score(
        state,
        loaded.clone(),
        Some(loaded.award.for_round(spec)),
        apps,
        marks,
    )
    .await?;
    let jury = crate::server::domain::diagnostics::jury_warnings(state, loaded, spec, r).await?;
    if let Some(w) = results.get_mut("warnings").and_then(Value::as_array_mut) {
        w.extend(r.shortfalls.iter().map(|s| json!(format!("coverage: {s}"))));
        w.extend(jury.into_iter().map(Value::String));
    }
    Ok((results, inputs, sha))
}

/// The indicators of `category` that `judge` marks and has not marked in `marks`.
pub(crate) fn still_to_mark(
    award: &laurel::Award,
    category: &str,
    judge: &str,
    (marks, abstained): (
        &std::collections::BTreeMap<laurel::IndicatorId, laurel::Mark>,
        &[laurel::CriterionId],
    ),
) -> Vec<laurel::IndicatorId> {
    award
        .category(category)
        .into_iter()
        .flat_map(|c| c.criteria.iter())
        // A criterion abstained on is done with (where the award allows it).
        .filter(|c| !(c.abstain && abstained.contains(&c.id)))
        .flat_map(|c| c.indicators.iter())
        .filter(|i| {
            !i.is_computed()
                && i.panel
                    .as_ref()
                    .is_none_or(|p| p.judges.iter().any(|j| j.as_str() == judge))
        })
        .filter(|i| !marks.contains_key(&i.id))
        .map(|i| i.id.clone())
        .collect()
}

/// One judge's total for one entry in a round, as the rubric computes it (weights, formulas,
/// floors and caps, a score plugin's part), before the panel combines judges. While marks are
/// missing, the total so far: what the marks given add up to, each missing one counting
/// nothing. None when the entry cannot be scored from what the judge sees.
pub(crate) fn judge_total(
    loaded: &crate::server::state::Loaded,
    round: &str,
    application: &serde_json::Value,
    evaluation: laurel::Evaluation,
) -> Option<crate::server::answers::SheetTotal> {
    let mut award = loaded.award.for_round_id(round).ok()?;
    let app: laurel::Application = serde_json::from_value(application.clone()).ok()?;
    let judge = evaluation.judge.clone();
    let missing = still_to_mark(
        &award,
        app.category.as_str(),
        judge.as_str(),
        (&evaluation.marks, &evaluation.abstained),
    );
    if !missing.is_empty() {
        award.scoring.missing_marks = laurel::wire::MissingMarks::Skip;
    }
    let marks = laurel::Marks {
        evaluations: vec![evaluation],
        ..laurel::Marks::default()
    };
    // Scored as admitted: the judge scores what they were given to mark.
    let decided = vec![laurel::Decision {
        application: app.id.to_string(),
        status: laurel::Status::Eligible,
        failures: Vec::new(),
        rules_checked: 0,
    }];
    let apps = [app];
    let results = laurel::evaluate_decided(
        &award,
        &apps,
        &marks,
        &loaded.plugins,
        decided,
        laurel::EvaluateOptions::default(),
    )
    .ok()?;
    let trace = results
        .categories
        .iter()
        .flat_map(|c| c.ranking.iter())
        .flat_map(|p| p.trace.judges.iter())
        .find(|j| *j.judge == judge)?;
    Some(crate::server::answers::SheetTotal {
        total: trace.total,
        complete: missing.is_empty(),
        criteria: trace
            .criteria
            .iter()
            .map(|c| crate::server::answers::CriterionScore {
                criterion: c.criterion.clone(),
                score: c.score,
            })
            .collect(),
        missing,
    })
}

/// Each judge's progress in round `r`: what they were given, what they marked, what is still
/// due; the round's marks' keys read at once, no mark read whole.
pub(crate) fn progress(
    store: &dyn crate::store::Store,
    award: &str,
    r: &crate::server::records::RoundRecord,
) -> Result<
    std::collections::BTreeMap<String, crate::server::answers::JudgeProgress>,
    crate::store::StoreError,
> {
    let marked: std::collections::BTreeSet<Vec<u8>> = store
        .keys(
            crate::store::Tree::RoundMarks,
            &crate::store::prefix(&[award.as_bytes(), r.round.as_bytes()]),
        )?
        .into_iter()
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for (judge, apps) in &r.assignments {
        let due: Vec<String> = apps
            .iter()
            .filter(|app| !marked.contains(&mark_key(award, &r.round, app, judge)))
            .cloned()
            .collect();
        out.insert(
            judge.clone(),
            crate::server::answers::JudgeProgress {
                assigned: apps.len(),
                marked: apps.len() - due.len(),
                due,
            },
        );
    }
    Ok(out)
}
