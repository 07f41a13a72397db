//! A judge's one place to see their work: across every award and round, what is assigned,
//! what is marked, what is still due, and when the round closes.

use axum::Json;
use axum::extract::State;

use crate::server::answers::{MyWork, WorkRound};
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::records::{Role, RoundRecord, RoundStatus};
use crate::server::state::AppState;
use crate::store::{Tree, get_json, prefix, scan_json};

pub async fn work(State(state): State<AppState>, caller: Caller) -> Result<Json<MyWork>, ApiError> {
    caller.require(&[Role::Judge])?;
    let judge = caller
        .subject
        .clone()
        .ok_or_else(|| ApiError::Forbidden("this judge key names no judge".to_owned()))?;
    // Where the caller judges, and as whom: a judge id means something in one award only.
    let judging: Vec<(String, String)> = match &caller.award {
        Some(award) => vec![(award.clone(), judge.clone())],
        None => {
            let person = caller
                .owner
                .as_ref()
                .filter(|o| o.kind == crate::server::records::OwnerKind::Person)
                .and_then(|o| {
                    get_json::<crate::server::people::Person>(
                        state.store.as_ref(),
                        Tree::People,
                        o.id.as_bytes(),
                    )
                    .ok()
                    .flatten()
                });
            person
                .map(|p| {
                    p.grants
                        .into_iter()
                        .filter(|g| g.role == Role::Judge)
                        .filter_map(|g| Some((g.award?, g.judge?)))
                        .collect()
                })
                .unwrap_or_default()
        }
    };
    // The rounds of the awards the caller judges, read award by award: what the judge sees
    // costs the same however many awards the installation holds.
    let mut awards: Vec<&str> = judging.iter().map(|(award, _)| award.as_str()).collect();
    awards.sort_unstable();
    awards.dedup();
    let mut rounds: Vec<RoundRecord> = Vec::new();
    for award in awards {
        rounds.extend(scan_json::<RoundRecord>(
            state.store.as_ref(),
            Tree::Rounds,
            &prefix(&[award.as_bytes()]),
        )?);
    }
    let mut out = Vec::new();
    for r in rounds {
        let Some(judge) = judging
            .iter()
            .find(|(award, _)| *award == r.award)
            .map(|(_, j)| j.clone())
        else {
            continue;
        };
        let Some(assigned) = r.assignments.get(&judge) else {
            continue;
        };
        let marked: Vec<String> = state
            .store
            .scan(
                Tree::RoundMarks,
                &prefix(&[r.award.as_bytes(), r.round.as_bytes()]),
            )?
            .into_iter()
            .filter_map(|(k, _)| {
                let parts: Vec<&[u8]> = k.split(|b| *b == 0).collect();
                (parts.len() == 4 && parts[3] == judge.as_bytes())
                    .then(|| String::from_utf8_lossy(parts[2]).into_owned())
            })
            .collect();
        let due: Vec<String> = if r.status == RoundStatus::Open {
            assigned
                .iter()
                .filter(|a| !marked.contains(a))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let loaded = state.loaded(&r.award, r.version).await?;
        let closes = loaded
            .award
            .judging_rounds()
            .into_iter()
            .find(|s| s.id == r.round)
            .and_then(|s| s.closes);
        let titles =
            crate::server::domain::applications::titles_for_judges(&state, &r.award, assigned)
                .await?;
        out.push(WorkRound {
            assigned: assigned.clone(),
            award: r.award,
            round: r.round,
            status: r.status,
            closes,
            titles,
            marked,
            due,
        });
    }
    Ok(Json(MyWork { judge, rounds: out }))
}
