//! Rounds as stored: their keys, definitions and records, judges' notices, and what each
//! judge is assigned.

use crate::server::domain::awards::load_award;
use crate::server::domain::results::score;
use crate::server::error::ApiError;
use crate::server::records::{Role, RoundRecord, RoundStatus};
use crate::server::state::{AppState, Loaded};
use crate::server::tx::Tx;
use crate::store::{Tree, key, prefix, scan_json};
use serde_json::{Value, json};
use std::collections::BTreeSet;

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
    Ok(load_round_as_read(state, award, round)?.0)
}

/// The round's record, and its bytes as read: a commit that rests on what was checked in the
/// record expects those bytes ([`Tx::expect`]).
pub(crate) fn load_round_as_read(
    state: &AppState,
    award: &str,
    round: &str,
) -> Result<(RoundRecord, Vec<u8>), ApiError> {
    let bytes = state
        .store
        .get(Tree::Rounds, &round_key(award, round))?
        .ok_or_else(|| ApiError::Conflict(format!("round `{round}` is not open yet")))?;
    let record = serde_json::from_slice(&bytes)
        .map_err(|e| crate::store::StoreError::Corrupt(Tree::Rounds.name(), e.to_string()))?;
    Ok((record, bytes))
}

/// A round's status and what it assigns one judge, read from its record as stored, with the
/// record's bytes: the rest of the record (entrants, every judge's assignments, advancements:
/// as large as the award) is skipped, not built.
pub(crate) fn round_for_judge(
    state: &AppState,
    award: &str,
    round: &str,
    judge: &str,
) -> Result<(RoundStatus, Vec<String>, Vec<u8>), ApiError> {
    let bytes = state
        .store
        .get(Tree::Rounds, &round_key(award, round))?
        .ok_or_else(|| ApiError::Conflict(format!("round `{round}` is not open yet")))?;
    let (status, assigned) = for_judge::read(&bytes, judge)
        .map_err(|e| crate::store::StoreError::Corrupt(Tree::Rounds.name(), e))?;
    Ok((status, assigned, bytes))
}

mod for_judge {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    use crate::server::records::RoundStatus;

    /// A stored round record's status and what it assigns `judge` (nothing, if not named).
    pub(super) fn read(bytes: &[u8], judge: &str) -> Result<(RoundStatus, Vec<String>), String> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let (status, assigned) = Record(judge)
            .deserialize(&mut de)
            .map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        Ok((status.ok_or("a round without a status")?, assigned))
    }

    /// A round record's status and one judge's assignments.
    pub(super) struct Record<'a>(pub &'a str);

    impl<'de> DeserializeSeed<'de> for Record<'_> {
        type Value = (Option<RoundStatus>, Vec<String>);
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for Record<'_> {
        type Value = (Option<RoundStatus>, Vec<String>);
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a round record")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let (mut status, mut assigned) = (None, Vec::new());
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match key.as_ref() {
                    "status" => status = Some(map.next_value()?),
                    "assignments" => assigned = map.next_value_seed(Judge(self.0))?,
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok((status, assigned))
        }
    }

    /// One judge's list in the assignments, the others skipped.
    struct Judge<'a>(&'a str);

    impl<'de> DeserializeSeed<'de> for Judge<'_> {
        type Value = Vec<String>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for Judge<'_> {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("assignments by judge")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut mine = Vec::new();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == self.0 {
                    mine = map.next_value()?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(mine)
        }
    }

    #[cfg(test)]
    mod tests {
        use proptest::prelude::*;
        use serde_json::json;

        use crate::server::records::{RoundRecord, RoundStatus};

        proptest! {
            /// What is read for one judge is what the whole record says, for each judge named
            /// and one not named, whatever else the record holds.
            #[test]
            fn one_judges_part_is_what_the_whole_record_says(
                closed in any::<bool>(),
                assignments in prop::collection::btree_map("[a-z\"\\\\ ]{1,6}", prop::collection::vec("[a-z0-9-]{1,8}", 0..5), 0..6),
                entrants in prop::collection::vec("[a-z0-9-]{1,8}", 0..8),
            ) {
                let status = if closed { "closed" } else { "open" };
                let bytes = serde_json::to_vec(&json!({
                    "award": "a", "round": "r", "version": 1, "status": status, "seed": 7,
                    "entrants": entrants, "assignments": assignments,
                    "recusals": [{ "judge": "x", "application": "y", "reason": "z", "at": "t" }],
                    "advanced": [], "coverage": { "nested": [1, { "deep": "yes" }] },
                })).unwrap();
                let whole: RoundRecord = serde_json::from_slice(&bytes).unwrap();
                let mut judges: Vec<&String> = assignments.keys().collect();
                let stranger = "not-a-judge-named".to_owned();
                judges.push(&stranger);
                for judge in judges {
                    let (s, mine) = super::read(&bytes, judge).unwrap();
                    prop_assert_eq!(s == RoundStatus::Closed, whole.status == RoundStatus::Closed);
                    let want = whole.assignments.get(judge.as_str()).cloned().unwrap_or_default();
                    prop_assert_eq!(mine, want);
                }
            }
        }

        #[test]
        fn a_record_that_is_not_a_round_is_an_error() {
            assert!(super::read(br#"{"assignments": {}}"#, "j").is_err());
            assert!(super::read(br#"{"status": "open"} trailing"#, "j").is_err());
            assert!(super::read(b"[1, 2]", "j").is_err());
        }
    }
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
