//! Notifications by e-mail, queued in the same commit as what they tell of: an application
//! received (with its eligibility), assignments when a round opens, reminders of unmarked
//! assignments (on demand, and before a round closes: `scheduler.rs`), each applicant's outcome
//! when results are published, and a daily digest for administrators. Each can be switched off
//! per award (`PUT /v1/awards/{id}/notifications`).

use std::collections::BTreeMap;

use super::error::ApiError;
use super::mail::{Mail, queue, render};
use super::people::Person;
use super::records::Role;
use super::tx::Tx;
use crate::server::state::AppState;
use crate::store::{Tree, now, scan_json};

/// The notifications an award can switch off, by name.
pub const NOTICES: &[&str] = &[
    "application_received",
    "assignment",
    "reminder",
    "outcome",
    "digest",
    "draft_reminder",
];

/// What a notification tells.
pub enum Notice<'a> {
    /// An application was received; its eligibility.
    Received {
        /// The application as people name it ([`entry_words`]).
        application: &'a str,
        status: &'a str,
    },
    /// Applications to mark in a round.
    Assigned { round: &'a str, count: usize },
    /// Applications still unmarked in a round.
    Reminder { round: &'a str, due: usize },
    /// An application saved as a draft and not submitted, before the call closes.
    DraftReminder {
        /// When the call closes, in the award's time zone.
        closes: &'a str,
    },
    /// Results are published: the application's outcome.
    Outcome {
        /// The application as people name it ([`entry_words`]).
        application: &'a str,
        outcome: &'a str,
    },
    /// An administrator's daily digest of an award.
    Digest(&'a Digest),
}

/// What an administrator's digest tells of an award.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Digest {
    /// Applications in the running, by eligibility (`eligible`, `ineligible`, `needs_review`).
    pub applications: BTreeMap<String, usize>,
    /// Applications withdrawn.
    pub withdrawn: usize,
    /// Applications received since the last digest.
    pub new: usize,
    /// Each open round: its id, the marks made, the marks assigned.
    pub rounds: Vec<(String, usize, usize)>,
    /// Messages the outbox gave up on (mail or webhooks), in all.
    pub failed_deliveries: usize,
    /// The audit chain's head when the digest was made (number, hash): a witness kept outside
    /// the data, in the administrators' mailboxes.
    #[serde(default)]
    pub audit_head: Option<(u64, String)>,
}

fn digest_lines(d: &Digest, ko: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let by: Vec<String> = d
        .applications
        .iter()
        .map(|(status, n)| format!("{} {n}", status.replace('_', " ")))
        .collect();
    let total: usize = d.applications.values().sum();
    if ko {
        lines.push(format!(
            "신청서 {total}건 ({}), 철회 {}건, 지난 요약 이후 새 신청서 {}건.",
            by.join(", "),
            d.withdrawn,
            d.new
        ));
        for (round, marked, assigned) in &d.rounds {
            lines.push(format!("{round} 심사: {assigned}건 중 {marked}건 채점."));
        }
        if d.failed_deliveries > 0 {
            lines.push(format!("전달되지 못한 메시지: {}건.", d.failed_deliveries));
        }
        if let Some((seq, hash)) = &d.audit_head {
            lines.push(format!(
                "감사 기록의 최신 항목: {seq}번, 해시 {hash} (이 메일을 보관하세요: `laurel audit verify --head {hash}`로 이 시점 이전으로의 되돌림을 찾습니다)."
            ));
        }
    } else {
        lines.push(format!(
            "Applications in the running: {total} ({}); withdrawn: {}; new since the last digest: {}.",
            if by.is_empty() { "none".to_owned() } else { by.join(", ") },
            d.withdrawn,
            d.new
        ));
        for (round, marked, assigned) in &d.rounds {
            lines.push(format!("Round {round}: {marked} of {assigned} marks made."));
        }
        if d.failed_deliveries > 0 {
            lines.push(format!(
                "Messages that could not be delivered: {} (see the webhooks' delivery log).",
                d.failed_deliveries
            ));
        }
        if let Some((seq, hash)) = &d.audit_head {
            lines.push(format!(
                "The audit chain's newest record: {seq}, hash {hash} (keep this mail: `laurel audit verify --head {hash}` finds a rollback past it)."
            ));
        }
    }
    lines
}

/// An outcome's name in Korean.
fn outcome_ko(outcome: &str) -> &str {
    match outcome {
        "winner" => "수상",
        "special_mention" => "특별 언급",
        "not_awarded" => "미수상",
        "ineligible" => "자격 미달",
        "not_admitted" => "심사 제외",
        "pending_review" => "자격 검토 중",
        "in_progress" => "심사 중",
        other => other,
    }
}

/// An entry as a mail names it: its title and its id (“Smart poles” (app-001)), or its id
/// when the award names none.
pub fn entry_words(
    award: &laurel::Award,
    id: &str,
    category: &str,
    fields: &serde_json::Value,
) -> String {
    laurel::entry_title(award, category, fields)
        .map_or_else(|| id.to_owned(), |t| format!("“{t}” ({id})"))
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
        (Notice::DraftReminder { closes }, false) => (
            format!("{award}: your application is not submitted yet"),
            vec![
                format!("Hello {name},"),
                format!(
                    "Your application to {award} is saved as a draft and has not been submitted. The call closes on {closes}: submit it before then to take part."
                ),
            ],
        ),
        (Notice::DraftReminder { closes }, true) => (
            format!("{award}: 신청서가 아직 제출되지 않았습니다"),
            vec![
                format!("{name}님, 안녕하세요."),
                format!(
                    "{award} 신청서가 초안으로 저장되어 있고 아직 제출되지 않았습니다. 공모는 {closes}에 마감됩니다. 참여하시려면 그 전에 제출하세요."
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
        (Notice::Digest(d), false) => (
            format!("{award}: today's digest"),
            [vec![format!("Hello {name},")], digest_lines(d, false)].concat(),
        ),
        (Notice::Digest(d), true) => (
            format!("{award}: 오늘의 요약"),
            [
                vec![format!("{name}님, 안녕하세요.")],
                digest_lines(d, true),
            ]
            .concat(),
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
                format!(
                    "{award}의 결과가 발표되었습니다. 신청서 {application}: {}.",
                    outcome_ko(outcome)
                ),
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

/// The people who administer `award` (or every award).
pub fn administrators_of<'p>(people: &'p [Person], award: &str) -> Vec<&'p Person> {
    people
        .iter()
        .filter(|p| {
            p.grants
                .iter()
                .any(|g| g.role == Role::Admin && g.award.as_deref().is_none_or(|a| a == award))
        })
        .collect()
}

/// Queues `notice` to `person` in `tx`, unless the award switched it off; whether it did.
pub fn send(
    state: &AppState,
    tx: &mut Tx<'_>,
    switches: &BTreeMap<String, bool>,
    (award, loaded): (&str, Option<&crate::server::state::Loaded>),
    person: &Person,
    notice: &Notice<'_>,
) -> Result<bool, ApiError> {
    let which = match notice {
        Notice::Received { .. } => "application_received",
        Notice::Assigned { .. } => "assignment",
        Notice::Reminder { .. } => "reminder",
        Notice::DraftReminder { .. } => "draft_reminder",
        Notice::Outcome { .. } => "outcome",
        Notice::Digest(_) => "digest",
    };
    if switches.get(which) == Some(&false) {
        return Ok(false);
    }
    let ko = person.language.starts_with("ko");
    // The award's name in the person's language, where the award has it.
    let award_name = loaded.map_or(award, |l| {
        l.award
            .name
            .get(&person.language, &l.award.default_language)
    });
    let record: Option<crate::server::records::AwardRecord> =
        crate::store::get_json(state.store.as_ref(), Tree::Awards, award.as_bytes())?;
    // The award's own text for this mail in the person's language, else Laurel's words.
    let written = record
        .as_ref()
        .and_then(|r| r.templates.get(which)?.get(&person.language).cloned());
    let (subject, lines) = match written {
        Some(t) => {
            let mut values = common_values(state, person, award_name, record.as_ref(), loaded);
            match notice {
                Notice::Received {
                    application,
                    status,
                } => {
                    values.insert("entry", (*application).to_owned());
                    values.insert("status", status.replace('_', " "));
                }
                Notice::Assigned { round, count } | Notice::Reminder { round, due: count } => {
                    values.insert("round", (*round).to_owned());
                    values.insert("count", count.to_string());
                }
                Notice::Outcome {
                    application,
                    outcome,
                } => {
                    values.insert("entry", (*application).to_owned());
                    values.insert(
                        "outcome",
                        if ko {
                            outcome_ko(outcome).to_owned()
                        } else {
                            outcome.replace('_', " ")
                        },
                    );
                }
                Notice::Digest(_) | Notice::DraftReminder { .. } => {}
            }
            filled(&t, &values)
        }
        None => texts(
            notice,
            award_name,
            &state.sealer.open_text(&person.name),
            ko,
        ),
    };
    let mail: Mail = render(
        &state.sealer.open_text(&person.email),
        ko,
        subject,
        &lines,
        &format!("{}/me", state.public_url),
    );
    queue(tx, &state.sealer, award, &now(), &mail)?;
    Ok(true)
}

/// The merge fields every mail fills: the person's name, the award's, their page, the call's
/// closing date in the award's time zone.
pub fn common_values<'v>(
    state: &AppState,
    person: &Person,
    award_name: &str,
    record: Option<&crate::server::records::AwardRecord>,
    loaded: Option<&crate::server::state::Loaded>,
) -> BTreeMap<&'v str, String> {
    let mut values = BTreeMap::from([
        ("name", state.sealer.open_text(&person.name)),
        ("award", award_name.to_owned()),
        ("link", format!("{}/me", state.public_url)),
    ]);
    if let (Some(r), Some(l)) = (record, loaded) {
        let (_, closes) = crate::server::domain::awards::window(r, &l.award);
        values.insert(
            "closes",
            laurel::show_instant(closes.fixed_offset(), &l.award.timeline.time_zone),
        );
    }
    values
}

/// A written text filled in: its subject, and its paragraphs (separated by blank lines).
pub fn filled(
    t: &crate::server::templates::MailTemplate,
    values: &BTreeMap<&str, String>,
) -> (String, Vec<String>) {
    use crate::server::templates::fill;
    let body = fill(&t.body, values).replace("\r\n", "\n");
    (
        fill(&t.subject, values).replace(['\r', '\n'], " "),
        body.split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// Queues a message an administrator wrote to `person` (not subject to the award's switches:
/// it was written to be sent).
pub fn send_written(
    state: &AppState,
    tx: &mut Tx<'_>,
    (award, loaded, record): (
        &str,
        Option<&crate::server::state::Loaded>,
        &crate::server::records::AwardRecord,
    ),
    person: &Person,
    text: &crate::server::templates::MailTemplate,
    entry: Option<&str>,
) -> Result<(), ApiError> {
    let award_name = loaded.map_or(award, |l| {
        l.award
            .name
            .get(&person.language, &l.award.default_language)
    });
    let mut values = common_values(state, person, award_name, Some(record), loaded);
    if let Some(e) = entry {
        values.insert("entry", e.to_owned());
    }
    let (subject, lines) = filled(text, &values);
    let mail: Mail = render(
        &state.sealer.open_text(&person.email),
        person.language.starts_with("ko"),
        subject,
        &lines,
        &format!("{}/me", state.public_url),
    );
    queue(tx, &state.sealer, award, &now(), &mail)
}
