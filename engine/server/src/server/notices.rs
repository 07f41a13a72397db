//! Notifications by e-mail, queued in the same commit as what they tell of: an application
//! received (with its eligibility), assignments when a round opens, reminders of unmarked
//! assignments, and each applicant's outcome when results are published. Each can be switched
//! off per award (`PUT /v1/awards/{id}/notifications`).

use std::collections::BTreeMap;

use super::AppState;
use super::error::ApiError;
use super::mail::{Mail, queue, render};
use super::people::Person;
use super::records::Role;
use super::tx::Tx;
use crate::store::{Tree, now, scan_json};

/// The notifications an award can switch off, by name.
pub const NOTICES: &[&str] = &["application_received", "assignment", "reminder", "outcome"];

/// What a notification tells.
pub enum Notice<'a> {
    /// An application was received; its eligibility.
    Received {
        application: &'a str,
        status: &'a str,
    },
    /// Applications to mark in a round.
    Assigned { round: &'a str, count: usize },
    /// Applications still unmarked in a round.
    Reminder { round: &'a str, due: usize },
    /// Results are published: the application's outcome.
    Outcome {
        application: &'a str,
        outcome: &'a str,
    },
}

fn texts(notice: &Notice<'_>, award: &str, name: &str, ko: bool) -> (String, Vec<String>) {
    match (notice, ko) {
        (
            Notice::Received {
                application,
                status,
            },
            false,
        ) => (
            format!("{award}: application {application} received"),
            vec![
                format!("Hello {name},"),
                format!("Your application {application} to {award} was received."),
                format!(
                    "Its eligibility, as the rules decide it: {}.",
                    status.replace('_', " ")
                ),
            ],
        ),
        (
            Notice::Received {
                application,
                status,
            },
            true,
        ) => (
            format!("{award}: 신청서 {application} 접수"),
            vec![
                format!("{name}님, 안녕하세요."),
                format!("{award}에 제출하신 신청서 {application}이(가) 접수되었습니다."),
                format!("규정에 따른 자격 판정: {status}."),
            ],
        ),
        (Notice::Assigned { round, count }, false) => (
            format!("{award}: {count} applications to mark in {round}"),
            vec![
                format!("Hello {name},"),
                format!(
                    "The round {round} of {award} is open: {count} applications are assigned to you."
                ),
            ],
        ),
        (Notice::Assigned { round, count }, true) => (
            format!("{award}: {round} 심사 {count}건 배정"),
            vec![
                format!("{name}님, 안녕하세요."),
                format!(
                    "{award}의 {round} 심사가 시작되었습니다. {count}건의 신청서가 배정되었습니다."
                ),
            ],
        ),
        (Notice::Reminder { round, due }, false) => (
            format!("{award}: {due} applications still to mark in {round}"),
            vec![
                format!("Hello {name},"),
                format!(
                    "In the round {round} of {award}, {due} of your applications are not marked yet."
                ),
            ],
        ),
        (Notice::Reminder { round, due }, true) => (
            format!("{award}: {round} 미완료 심사 {due}건"),
            vec![
                format!("{name}님, 안녕하세요."),
                format!("{award}의 {round} 심사에서 아직 채점하지 않은 신청서가 {due}건 있습니다."),
            ],
        ),
        (
            Notice::Outcome {
                application,
                outcome,
            },
            false,
        ) => (
            format!("{award}: the results are published"),
            vec![
                format!("Hello {name},"),
                format!(
                    "The results of {award} are published. Your application {application}: {}.",
                    outcome.replace('_', " ")
                ),
            ],
        ),
        (
            Notice::Outcome {
                application,
                outcome,
            },
            true,
        ) => (
            format!("{award}: 결과 발표"),
            vec![
                format!("{name}님, 안녕하세요."),
                format!("{award}의 결과가 발표되었습니다. 신청서 {application}: {outcome}."),
            ],
        ),
    }
}

/// Everyone with an account.
pub fn people(state: &AppState) -> Result<Vec<Person>, ApiError> {
    Ok(scan_json(state.store.as_ref(), Tree::People, b"")?)
}

/// The people who are judge `judge` of `award`.
pub fn judges_of<'p>(people: &'p [Person], award: &str, judge: &str) -> Vec<&'p Person> {
    people
        .iter()
        .filter(|p| {
            p.grants.iter().any(|g| {
                g.role == Role::Judge
                    && g.award.as_deref() == Some(award)
                    && g.judge.as_deref() == Some(judge)
            })
        })
        .collect()
}

/// Queues `notice` to `person` in `tx`, unless the award switched it off; whether it did.
pub fn send(
    state: &AppState,
    tx: &mut Tx<'_>,
    switches: &BTreeMap<String, bool>,
    (award, award_name): (&str, &str),
    person: &Person,
    notice: &Notice<'_>,
) -> Result<bool, ApiError> {
    let which = match notice {
        Notice::Received { .. } => "application_received",
        Notice::Assigned { .. } => "assignment",
        Notice::Reminder { .. } => "reminder",
        Notice::Outcome { .. } => "outcome",
    };
    if switches.get(which) == Some(&false) {
        return Ok(false);
    }
    let ko = person.language.starts_with("ko");
    let (subject, lines) = texts(
        notice,
        award_name,
        &state.sealer.open_text(&person.name),
        ko,
    );
    let mail: Mail = render(
        &state.sealer.open_text(&person.email),
        ko,
        subject,
        &lines,
        &format!("{}/v1/me", state.public_url),
    );
    queue(tx, &state.sealer, award, &now(), &mail)?;
    Ok(true)
}
