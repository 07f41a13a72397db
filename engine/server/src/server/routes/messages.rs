//! An award's communications: its own mail texts (`PUT …/templates/{kind}`, with merge fields
//! checked when saved) and messages written to a filtered set of applicants, applicants with a
//! draft, or judges (`POST …/messages`), each mail queued in the outbox in the commit that
//! records the message.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::server::auth::Caller;
use crate::server::body;
use crate::server::domain::awards::load_award;
use crate::server::error::ApiError;
use crate::server::notices;
use crate::server::people::Person;
use crate::server::records::{ApplicationRecord, ApplicationStatus, AwardRecord, Role};
use crate::server::state::AppState;
use crate::server::templates::{KINDS, MailTemplate, unknown_fields};
use crate::server::tx::Tx;
use crate::store::{Tree, prefix, scan_json};

/// An award's text for one kind of mail in one language.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// The language it is written in: one of the award's.
    pub language: String,
    /// The subject line, with merge fields such as `{award}`; empty with an empty body puts
    /// Laurel's own words back.
    pub subject: String,
    /// The body: paragraphs separated by blank lines, with merge fields such as `{name}`.
    pub body: String,
}

fn invalid(pointer: &str, message: String) -> ApiError {
    ApiError::Invalid {
        title: "The message is invalid".to_owned(),
        diagnostics: vec![laurel::Diagnostic::error(
            laurel::Code::Schema,
            pointer,
            message,
        )],
    }
}

/// Every field of `text` that a mail of `kind` does not fill, located at `pointer`.
fn check_fields(kind: &str, pointer: &str, text: &str) -> Vec<laurel::Diagnostic> {
    let known: Vec<&str> = crate::server::templates::COMMON_FIELDS
        .iter()
        .chain(crate::server::templates::fields_of(kind))
        .copied()
        .collect();
    unknown_fields(kind, text)
        .into_iter()
        .map(|f| {
            laurel::Diagnostic::error(
                laurel::Code::Schema,
                pointer,
                format!(
                    "`{{{f}}}` is not a merge field of this mail: use {}",
                    known
                        .iter()
                        .map(|k| format!("{{{k}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
        .collect()
}

async fn languages(state: &AppState, record: &AwardRecord) -> Result<Vec<String>, ApiError> {
    let version = record.current().ok_or_else(|| {
        ApiError::Conflict(format!("award `{}` has no published version", record.id))
    })?;
    let loaded = state.loaded(&record.id, version).await?;
    Ok(loaded.award.languages.clone())
}

/// Sets (or, with an empty subject and body, removes) an award's text for one kind of mail.
pub async fn put_template(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, kind)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<AwardRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let b: TemplateBody = body::json(&bytes)?;
    if !KINDS.contains(&kind.as_str()) {
        return Err(ApiError::NotFound(format!(
            "no mail `{kind}`: its text can be written for {}",
            KINDS.join(", ")
        )));
    }
    let record = load_award(&state, &award)?;
    let languages = languages(&state, &record).await?;
    if !languages.contains(&b.language) {
        return Err(invalid(
            "/language",
            format!(
                "award `{award}` is in {}, not `{}`",
                languages.join(", "),
                laurel::clean(&b.language, 20)
            ),
        ));
    }
    let clear = b.subject.trim().is_empty() && b.body.trim().is_empty();
    if !clear {
        let mut problems = check_fields(&kind, "/subject", &b.subject);
        problems.extend(check_fields(&kind, "/body", &b.body));
        if b.subject.trim().is_empty() {
            problems.push(laurel::Diagnostic::error(
                laurel::Code::Schema,
                "/subject",
                "give the mail a subject",
            ));
        }
        if b.body.trim().is_empty() {
            problems.push(laurel::Diagnostic::error(
                laurel::Code::Schema,
                "/body",
                "give the mail a body",
            ));
        }
        if !problems.is_empty() {
            return Err(ApiError::Invalid {
                title: "The mail's text is invalid".to_owned(),
                diagnostics: problems,
            });
        }
    }
    let mut tx = Tx::new(&state);
    let mut record: AwardRecord = tx
        .read(Tree::Awards, award.as_bytes())?
        .ok_or_else(|| ApiError::NotFound(format!("no award `{award}`")))?;
    let by_language = record.templates.entry(kind.clone()).or_default();
    if clear {
        by_language.remove(&b.language);
    } else {
        by_language.insert(
            b.language.clone(),
            MailTemplate {
                subject: b.subject.clone(),
                body: b.body.clone(),
            },
        );
    }
    record.templates.retain(|_, by| !by.is_empty());
    tx.put(Tree::Awards, award.as_bytes().to_vec(), &record);
    tx.commit(caller.audit(
        "award.template",
        award.clone(),
        json!({ "kind": kind, "language": b.language, "cleared": clear }),
    ))?;
    Ok(Json(record))
}

/// Who a message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Applicants with a submitted application (filtered by `eligibility` and `category`).
    Applicants,
    /// Applicants with a draft and no submitted application.
    Drafts,
    /// The award's judges.
    Judges,
}

/// A message to several people.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// Who it goes to.
    pub to: Audience,
    /// For applicants: only those whose application has this eligibility (`eligible`,
    /// `ineligible`, `needs_review`, `admitted`, `not_admitted`).
    #[serde(default)]
    pub eligibility: Option<String>,
    /// For applicants: only those of this category.
    #[serde(default)]
    pub category: Option<String>,
    /// The subject line, with merge fields (`{name}`, `{award}`, `{entry}`, `{closes}`, `{link}`).
    pub subject: String,
    /// The body: paragraphs separated by blank lines, with merge fields.
    pub body: String,
    /// Only count the recipients; send nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a message did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MessageSent {
    /// How many people it was queued for (or would be, on a dry run).
    pub recipients: usize,
    /// Whether it was sent (false on a dry run).
    pub sent: bool,
}

/// An application's eligibility as a filter reads it: a review decides.
fn decided(r: &ApplicationRecord) -> &'static str {
    crate::server::domain::applications::decided(
        r.eligibility
            .get("status")
            .and_then(serde_json::Value::as_str),
        r.review.as_ref().map(|x| x.eligible),
    )
}

/// Writes to every person the message names; each mail is queued in the message's commit.
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
    bytes: Bytes,
) -> Result<Json<MessageSent>, ApiError> {
    caller.require(&[Role::Admin])?;
    let b: MessageBody = body::json(&bytes)?;
    let mut problems = check_fields("message", "/subject", &b.subject);
    problems.extend(check_fields("message", "/body", &b.body));
    if b.subject.trim().is_empty() {
        problems.push(laurel::Diagnostic::error(
            laurel::Code::Schema,
            "/subject",
            "give the message a subject",
        ));
    }
    if b.body.trim().is_empty() {
        problems.push(laurel::Diagnostic::error(
            laurel::Code::Schema,
            "/body",
            "give the message a body",
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::Invalid {
            title: "The message is invalid".to_owned(),
            diagnostics: problems,
        });
    }
    let record = load_award(&state, &award)?;
    let version = record
        .current()
        .ok_or_else(|| ApiError::Conflict(format!("award `{award}` has no published version")))?;
    let loaded = state.loaded(&award, version).await?;
    let apps: Vec<ApplicationRecord> = scan_json(
        state.store.as_ref(),
        Tree::Applications,
        &prefix(&[award.as_bytes()]),
    )?;
    let submitted: Vec<&ApplicationRecord> = apps
        .iter()
        .filter(|r| r.status == ApplicationStatus::Submitted)
        .collect();
    let submitters: BTreeSet<&str> = submitted.iter().map(|r| r.owner.as_str()).collect();
    // Only the people the message may reach are read: the award's, not the installation's.
    let drafting: Vec<String> = match b.to {
        Audience::Drafts => state
            .store
            .keys(Tree::Drafts, &prefix(&[award.as_bytes()]))?
            .into_iter()
            .map(|k| {
                String::from_utf8_lossy(k.rsplit(|b| *b == 0).next().unwrap_or_default())
                    .into_owned()
            })
            .filter(|owner| !submitters.contains(owner.as_str()))
            .collect(),
        _ => Vec::new(),
    };
    let people: Vec<Person> = match b.to {
        Audience::Applicants => notices::people_named(&state, submitters.iter().copied())?,
        Audience::Drafts => notices::people_named(&state, drafting.iter().map(String::as_str))?,
        Audience::Judges => notices::people_of(&state, &award, &[Role::Judge])?,
    };
    let by_id: BTreeMap<&str, &Person> = people.iter().map(|p| (p.id.as_str(), p)).collect();
    // Each recipient once, with the entry the message is about (applicants).
    let mut recipients: BTreeMap<String, (&Person, Option<String>)> = BTreeMap::new();
    match b.to {
        Audience::Applicants => {
            for r in &submitted {
                let mut opened = r.application.clone();
                crate::server::crypto::open(&loaded.award, &state.sealer, &mut opened);
                let category = opened["category"].as_str().unwrap_or_default().to_owned();
                if b.eligibility.as_deref().is_some_and(|e| e != decided(r))
                    || b.category.as_deref().is_some_and(|c| c != category)
                {
                    continue;
                }
                let Some(person) = by_id.get(r.owner.as_str()).copied() else {
                    continue;
                };
                let entry = crate::server::notices::entry_words(
                    &loaded.award,
                    opened["id"].as_str().unwrap_or_default(),
                    &category,
                    &opened["fields"],
                );
                recipients
                    .entry(person.id.clone())
                    .or_insert((person, Some(entry)));
            }
        }
        Audience::Drafts => {
            for owner in &drafting {
                if let Some(person) = by_id.get(owner.as_str()).copied() {
                    recipients
                        .entry(person.id.clone())
                        .or_insert((person, None));
                }
            }
        }
        Audience::Judges => {
            for p in &people {
                if p.grants
                    .iter()
                    .any(|g| g.role == Role::Judge && g.award.as_deref() == Some(award.as_str()))
                {
                    recipients.entry(p.id.clone()).or_insert((p, None));
                }
            }
        }
    }
    let count = recipients.len();
    if b.dry_run || count == 0 {
        return Ok(Json(MessageSent {
            recipients: count,
            sent: false,
        }));
    }
    let text = MailTemplate {
        subject: b.subject.clone(),
        body: b.body.clone(),
    };
    let mut tx = Tx::new(&state);
    // The award as read: a message is recorded against the award it was written for.
    tx.read::<AwardRecord>(Tree::Awards, award.as_bytes())?;
    for (person, entry) in recipients.values() {
        crate::server::notices::send_written(
            &state,
            &mut tx,
            (&award, Some(&loaded), &record),
            person,
            &text,
            entry.as_deref(),
        )?;
    }
    tx.commit(caller.audit(
        "award.message",
        award.clone(),
        json!({ "to": b.to, "eligibility": b.eligibility, "category": b.category, "recipients": count, "subject": b.subject }),
    ))?;
    Ok(Json(MessageSent {
        recipients: count,
        sent: true,
    }))
}
