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
use super::words::{mail_word, t, tf};
use crate::server::state::AppState;
use crate::store::{Tree, get_json, now, scan_json};

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

fn digest_lines(d: &Digest, lang: &str) -> Vec<String> {
    let by: Vec<String> = d
        .applications
        .iter()
        .map(|(status, n)| format!("{} {n}", mail_word(lang, status)))
        .collect();
    let total: usize = d.applications.values().sum();
    let by = if by.is_empty() {
        t(lang, "mail.digest.none").to_owned()
    } else {
        by.join(", ")
    };
    let mut lines = vec![tf(
        lang,
        "mail.digest.applications",
        &[
            ("total", &total.to_string()),
            ("by", &by),
            ("withdrawn", &d.withdrawn.to_string()),
            ("new", &d.new.to_string()),
        ],
    )];
    for (round, marked, assigned) in &d.rounds {
        lines.push(tf(
            lang,
            "mail.digest.round",
            &[
                ("round", round),
                ("marked", &marked.to_string()),
                ("assigned", &assigned.to_string()),
            ],
        ));
    }
    if d.failed_deliveries > 0 {
        lines.push(tf(
            lang,
            "mail.digest.failed",
            &[("count", &d.failed_deliveries.to_string())],
        ));
    }
    if let Some((seq, hash)) = &d.audit_head {
        lines.push(tf(
            lang,
            "mail.digest.audit",
            &[("seq", &seq.to_string()), ("hash", hash)],
        ));
    }
    lines
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

/// Laurel's own subject and paragraphs for `notice`, in `lang` (the catalogue of words).
fn texts(notice: &Notice<'_>, award: &str, name: &str, lang: &str) -> (String, Vec<String>) {
    let hello = tf(lang, "mail.hello", &[("name", name)]);
    let say = |key: &str, args: &[(&str, &str)]| {
        let mut all = vec![("award", award)];
        all.extend_from_slice(args);
        tf(lang, key, &all)
    };
    match notice {
        Notice::Received {
            application,
            status,
        } => (
            say("mail.received.subject", &[("entry", application)]),
            vec![
                hello,
                say("mail.received.body", &[("entry", application)]),
                say(
                    "mail.received.status",
                    &[("status", &mail_word(lang, status))],
                ),
            ],
        ),
        Notice::Assigned { round, count } => {
            let count = count.to_string();
            let args = [("round", *round), ("count", count.as_str())];
            (
                say("mail.assigned.subject", &args),
                vec![hello, say("mail.assigned.body", &args)],
            )
        }
        Notice::DraftReminder { closes } => (
            say("mail.draft.subject", &[]),
            vec![hello, say("mail.draft.body", &[("closes", closes)])],
        ),
        Notice::Reminder { round, due } => {
            let due = due.to_string();
            let args = [("round", *round), ("count", due.as_str())];
            (
                say("mail.reminder.subject", &args),
                vec![hello, say("mail.reminder.body", &args)],
            )
        }
        Notice::Outcome {
            application,
            outcome,
        } => (
            say("mail.outcome.subject", &[]),
            vec![
                hello,
                say(
                    "mail.outcome.body",
                    &[
                        ("entry", application),
                        ("outcome", &mail_word(lang, outcome)),
                    ],
                ),
            ],
        ),
        Notice::Digest(d) => (
            say("mail.digest.subject", &[]),
            [vec![hello], digest_lines(d, lang)].concat(),
        ),
    }
}

/// The people who hold one of `roles` (any role, given none) on `award` or on every award: those
/// the store's index of grants names or, in an installation whose index is not built yet,
/// everyone read. Each person's grants are checked either way, so both give the same people.
pub fn people_of(state: &AppState, award: &str, roles: &[Role]) -> Result<Vec<Person>, ApiError> {
    let store = state.store.as_ref();
    let names: Vec<&str> = roles.iter().map(|r| super::caller::role_name(*r)).collect();
    let candidates: Vec<Person> = match crate::store::grantees::holders(store, award, &names)? {
        Some(ids) => {
            let mut found = Vec::with_capacity(ids.len());
            for id in ids {
                found.extend(get_json::<Person>(store, Tree::People, id.as_bytes())?);
            }
            found
        }
        None => scan_json(store, Tree::People, b"")?,
    };
    Ok(candidates
        .into_iter()
        .filter(|p| {
            p.grants.iter().any(|g| {
                g.award.as_deref().is_none_or(|a| a == award)
                    && (roles.is_empty() || roles.contains(&g.role))
            })
        })
        .collect())
}

/// The people with these ids who have an account, each once, in id order.
pub fn people_named<'a>(
    state: &AppState,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Person>, ApiError> {
    let ids: std::collections::BTreeSet<&str> = ids.into_iter().collect();
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        found.extend(get_json::<Person>(
            state.store.as_ref(),
            Tree::People,
            id.as_bytes(),
        )?);
    }
    Ok(found)
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
    let lang = person.language.as_str();
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
                    values.insert("status", mail_word(lang, status));
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
                    values.insert("outcome", mail_word(lang, outcome));
                }
                Notice::Digest(_) | Notice::DraftReminder { .. } => {}
            }
            filled(&t, &values)
        }
        None => texts(
            notice,
            award_name,
            &state.sealer.open_text(&person.name),
            lang,
        ),
    };
    let mail: Mail = render(
        &state.sealer.open_text(&person.email),
        lang,
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
        let (_, closes) = r.window(&l.award);
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
        &person.language,
        subject,
        &lines,
        &format!("{}/me", state.public_url),
    );
    queue(tx, &state.sealer, award, &now(), &mail)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::server::people::Grant;
    use crate::store::counting::Counting;
    use crate::store::{AuditEntry, Batch, Store as _};

    /// People read since the last look: (by key, by scans).
    fn people_read(store: &Counting) -> (usize, usize) {
        store.taken().get("people").copied().unwrap_or_default()
    }

    fn person(id: &str, grants: Vec<Grant>) -> Person {
        Person {
            id: id.to_owned(),
            email: json!("sealed"),
            name: json!("sealed"),
            language: "en".to_owned(),
            grants,
            verified: true,
            sessions_after: None,
            created_at: "2026-12-06T00:00:00Z".to_owned(),
            passkeys: Vec::new(),
        }
    }

    fn grant(award: Option<&str>, role: Role, judge: Option<&str>) -> Grant {
        Grant {
            award: award.map(str::to_owned),
            role,
            judge: judge.map(str::to_owned),
        }
    }

    /// An award's judges and administrators are found by reading that award's people (and
    /// those who hold a role on every award), whoever else holds an account: the same people a
    /// reading of everyone finds, before the index exists and after.
    #[test]
    fn an_awards_people_are_read_without_reading_everyone() {
        let store = Arc::new(Counting::default());
        let state = AppState::new(store.clone(), crate::server::crypto::Sealer::for_tests());
        let mut everyone = vec![
            person("ada", vec![grant(Some("seoul"), Role::Judge, Some("j1"))]),
            person("bo", vec![grant(Some("seoul"), Role::Admin, None)]),
            person("chul", vec![grant(None, Role::Admin, None)]),
            person(
                "dana",
                vec![
                    grant(Some("busan"), Role::Judge, Some("j9")),
                    grant(Some("seoul"), Role::Judge, Some("j2")),
                ],
            ),
        ];
        for i in 0..300 {
            let award = if i % 2 == 0 { "busan" } else { "daegu" };
            everyone.push(person(
                &format!("applicant-{i:03}"),
                vec![grant(Some(award), Role::Applicant, None)],
            ));
        }
        // Stored as an older installation left them: no index yet.
        store
            .restore(
                everyone
                    .iter()
                    .map(|p| {
                        (
                            Tree::People,
                            p.id.clone().into_bytes(),
                            crate::store::json(p),
                        )
                    })
                    .collect(),
            )
            .unwrap();
        let ids = |people: Vec<Person>| people.into_iter().map(|p| p.id).collect::<Vec<_>>();
        let asked = |roles: &[Role]| ids(people_of(&state, "seoul", roles).unwrap());
        let before = (asked(&[Role::Judge]), asked(&[Role::Admin]), asked(&[]));
        assert_eq!(before.0, ["ada", "dana"]);
        assert_eq!(before.1, ["bo", "chul"]);
        assert_eq!(before.2, ["ada", "bo", "chul", "dana"]);
        // The next write of a person indexes everyone.
        let mut batch = Batch::new();
        let ada = person("ada", vec![grant(Some("seoul"), Role::Judge, Some("j1"))]);
        batch.put(Tree::People, b"ada".to_vec(), crate::store::json(&ada));
        let audit = AuditEntry {
            actor: "admin".into(),
            action: "person.update".into(),
            target: "ada".into(),
            detail: json!({}),
        };
        store.commit(batch, audit).unwrap();
        store.taken();
        let after = (asked(&[Role::Judge]), asked(&[Role::Admin]), asked(&[]));
        assert_eq!(after, before);
        let (by_key, by_scan) = people_read(&store);
        assert_eq!(by_scan, 0, "no person read by scanning");
        assert_eq!(
            by_key,
            2 + 2 + 4,
            "each of the award's people read once per question"
        );
        store.taken();
        let named = people_named(&state, ["dana", "nobody", "ada", "dana"]).unwrap();
        assert_eq!(ids(named), ["ada", "dana"]);
        assert_eq!(people_read(&store).0, 3, "each id read once");
    }
}
