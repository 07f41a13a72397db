//! Awards: create from a definition, replace the draft, publish immutable versions, open, close.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::server::answers::{
    ApplicationSchema, AwardVersion, FileStored, Notifications, RegistrationNow,
};
use crate::server::auth::Caller;
use crate::server::body;
use crate::server::domain::awards::{load_award, pinned_files};
use crate::server::error::ApiError;
use crate::server::records::{AwardRecord, AwardState, Role, VersionRecord, VersionSummary};
use crate::server::state::Work;
use crate::server::state::{AppState, version_key};
use crate::server::tx::Tx;
use crate::store::{Tree, get_json, now};

/// Checks a definition as the CLI does (compiling its plugins, on a plugin thread); 422 with
/// every located problem when invalid.
async fn check(state: &AppState, text: &str) -> Result<laurel::Award, ApiError> {
    let files = pinned_files(state, text)?;
    let source = text.to_owned();
    let report = state
        .engine(Work::definition(text), move || {
            laurel::check_definition(&source, &files)
        })
        .await?;
    report.award.ok_or_else(|| ApiError::Invalid {
        title: "The award definition is invalid".to_owned(),
        diagnostics: report.diagnostics.into_iter().collect(),
    })
}

/// The award record, read for update: the commit requires it unchanged.
fn load_for_update(tx: &mut Tx<'_>, id: &str) -> Result<AwardRecord, ApiError> {
    tx.read(Tree::Awards, id.as_bytes())?
        .ok_or_else(|| ApiError::NotFound(format!("no award `{id}`")))
}

/// An award's entity tag: the SHA-256 of its record as stored (its draft, versions, state,
/// settings), so that any change of any of them changes it.
pub(crate) fn etag(record: &AwardRecord) -> String {
    let bytes = serde_json::to_vec(record).unwrap_or_default();
    format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32])
}

/// Refuses a change whose `If-Match` names another state of the award than the one read
/// (in the same transaction, so the check and the write are one).
fn if_match(headers: &HeaderMap, record: &AwardRecord) -> Result<(), ApiError> {
    let Some(sent) = headers
        .get(axum::http::header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(());
    };
    let tags: Vec<&str> = sent.split(',').map(str::trim).collect();
    let tag = |t: &str| {
        let t = t.strip_prefix("W/").unwrap_or(t);
        t.len() >= 2 && t.starts_with('"') && t.ends_with('"') && !t[1..t.len() - 1].contains('"')
    };
    if sent.trim() != "*" && !tags.iter().all(|t| tag(t)) {
        return Err(ApiError::BadRequest(format!(
            "`If-Match: {sent}` is not `*` or a list of entity tags (`\"...\"`, as the ETag header gave it)"
        )));
    }
    let current = etag(record);
    if sent.trim() == "*"
        || sent
            .split(',')
            .any(|t| t.trim().trim_start_matches("W/") == current)
    {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(format!(
            "award `{}` is now {current}, not {sent}: read it again and reapply the change",
            record.id
        )))
    }
}

fn save(
    mut tx: Tx<'_>,
    caller: &Caller,
    record: &AwardRecord,
    action: &str,
    detail: Value,
) -> Result<(), ApiError> {
    tx.put(Tree::Awards, record.id.as_bytes().to_vec(), record);
    tx.commit(caller.audit(action, record.id.clone(), detail))?;
    Ok(())
}

pub async fn upload_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(sha256): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<FileStored>), ApiError> {
    caller.require(&[Role::Admin])?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != sha256 {
        return Err(ApiError::Invalid {
            title: "The file does not match its address".to_owned(),
            diagnostics: vec![laurel::Diagnostic::error(
                laurel::Code::Plugin,
                "",
                format!("the body's SHA-256 is `{actual}`, not `{sha256}`"),
            )],
        });
    }
    // Content-addressed: the same address always holds the same bytes.
    let mut tx = Tx::new(&state);
    tx.put_raw(Tree::Files, sha256.as_bytes().to_vec(), bytes.to_vec());
    tx.commit(caller.audit(
        "file.upload",
        sha256.clone(),
        json!({ "bytes": bytes.len() }),
    ))?;
    Ok((
        StatusCode::CREATED,
        Json(FileStored {
            sha256,
            bytes: bytes.len(),
        }),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    bytes: Bytes,
) -> Result<(StatusCode, super::Located, Json<AwardRecord>), ApiError> {
    caller.require(&[Role::Admin])?;
    let text = body::text(&bytes)?;
    let award = check(&state, text).await?;
    let id = award.id.to_string();
    let mut tx = Tx::new(&state);
    if !tx.absent(Tree::Awards, id.as_bytes())? {
        return Err(ApiError::Conflict(format!(
            "award `{id}` exists; replace its draft with PUT /v1/awards/{id}/draft"
        )));
    }
    let record = AwardRecord {
        id: id.clone(),
        state: AwardState::Draft,
        draft: Some(text.to_owned()),
        draft_sha256: Some(award.sha256.clone()),
        versions: Vec::new(),
        special_mentions: Vec::new(),
        published: None,
        schedule: None,
        notifications: Default::default(),
        registration_closed: false,
        templates: Default::default(),
        created_at: now(),
    };
    save(
        tx,
        &caller,
        &record,
        "award.create",
        json!({ "sha256": award.sha256 }),
    )?;
    let at = super::location(format!("/v1/awards/{}", record.id));
    Ok((StatusCode::CREATED, at, Json(record)))
}

pub async fn replace_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<([(HeaderName, String); 1], Json<AwardRecord>), ApiError> {
    caller.require(&[Role::Admin])?;
    // The body is read and checked first: a request that is wrong in itself is refused as
    // such (400, 422), whatever its `If-Match`.
    let text = body::text(&bytes)?;
    let award = check(&state, text).await?;
    let mut tx = Tx::new(&state);
    let mut record = load_for_update(&mut tx, &id)?;
    if_match(&headers, &record)?;
    if record.state == AwardState::Closed {
        return Err(ApiError::Conflict(format!(
            "award `{id}` is closed: its definition no longer changes"
        )));
    }
    if award.id.as_str() != id {
        return Err(ApiError::Invalid {
            title: "The award definition is invalid".to_owned(),
            diagnostics: vec![laurel::Diagnostic::error(
                laurel::Code::UnknownReference,
                "/id",
                format!("the definition's id `{}` is not `{id}`", award.id),
            )],
        });
    }
    record.draft = Some(text.to_owned());
    record.draft_sha256 = Some(award.sha256.clone());
    save(
        tx,
        &caller,
        &record,
        "award.draft",
        json!({ "sha256": award.sha256 }),
    )?;
    Ok(([(axum::http::header::ETAG, etag(&record))], Json(record)))
}

/// Confirming a change to an open award.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct PublishQuery {
    /// The SHA-256 of the draft whose reported impact is accepted.
    #[serde(default)]
    pub confirm: Option<String>,
}

pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PublishQuery>,
    headers: HeaderMap,
) -> Result<(StatusCode, super::Located, Json<VersionSummary>), ApiError> {
    caller.require(&[Role::Admin])?;
    let mut tx = Tx::new(&state);
    let mut record = load_for_update(&mut tx, &id)?;
    if_match(&headers, &record)?;
    if record.state == AwardState::Closed {
        return Err(ApiError::Conflict(format!(
            "award `{id}` is closed: its definition no longer changes"
        )));
    }
    let text = record
        .draft
        .clone()
        .ok_or_else(|| ApiError::Conflict(format!("award `{id}` has no draft to publish")))?;
    let award = check(&state, &text).await?;
    if record
        .versions
        .last()
        .is_some_and(|v| v.sha256 == award.sha256)
    {
        return Err(ApiError::Conflict(
            "the draft is the same as the latest published version".to_owned(),
        ));
    }
    // An open award's applicants were checked against the current version: a change that can
    // change an outcome is reported first and applied only when confirmed.
    let mut redecided = Vec::new();
    if record.state == AwardState::Open
        && let Some(current) = record.current()
    {
        let before = state.loaded(&id, current).await?;
        let old_text: VersionRecord = get_json(
            state.store.as_ref(),
            Tree::Versions,
            &version_key(&id, current),
        )?
        .ok_or_else(|| ApiError::Internal("the current version is missing".to_owned()))?;
        if !crate::server::domain::corrections::cannot_change_outcomes(&old_text.definition, &text)
        {
            let (impact, changed) =
                crate::server::domain::corrections::impact(&state, &before, &text, &award).await?;
            if q.confirm.as_deref() != Some(award.sha256.as_str()) {
                return Err(ApiError::NeedsConfirmation {
                    detail: format!(
                        "this change can change outcomes ({} applications would change); \
                         publish again with `?confirm={}` to apply it",
                        impact.as_array().map_or(0, Vec::len),
                        award.sha256
                    ),
                    impact,
                });
            }
            redecided = changed;
        }
    }
    let files = pinned_files(&state, &text)?
        .into_iter()
        .map(|(k, v)| (k, STANDARD.encode(v)))
        .collect();
    let version = record.current().unwrap_or(0) + 1;
    let at = now();
    let v = VersionRecord {
        award: id.clone(),
        version,
        definition: text,
        sha256: award.sha256.clone(),
        files,
        published_at: at.clone(),
    };
    let summary = VersionSummary {
        version,
        sha256: award.sha256.clone(),
        published_at: at,
    };
    let previous_sha256 = record.versions.last().map(|v| v.sha256.clone());
    record.versions.push(summary.clone());
    // One publish, one version: a second concurrent publish finds the version taken.
    tx.absent(Tree::Versions, &version_key(&id, version))?;
    tx.put(Tree::Versions, version_key(&id, version), &v);
    // Confirmed: every application is decided again under the new version, in the same commit.
    let redecided_count = redecided.len();
    for (key, before, mut after) in redecided {
        after.version = version;
        tx.read::<crate::server::records::ApplicationRecord>(Tree::Applications, &key)
            .and_then(|now| {
                if now.is_some_and(|n| n.updated_at == before.updated_at) {
                    Ok(())
                } else {
                    Err(ApiError::Conflict(
                        "an application changed meanwhile; publish again".to_owned(),
                    ))
                }
            })?;
        tx.put(Tree::Applications, key, &after);
    }
    save(
        tx,
        &caller,
        &record,
        "award.publish",
        json!({ "version": version, "sha256": award.sha256, "previous_sha256": previous_sha256, "confirmed": q.confirm.is_some(), "applications_decided_again": redecided_count }),
    )?;
    let at = super::location(format!("/v1/awards/{id}/versions/{}", summary.version));
    Ok((StatusCode::CREATED, at, Json(summary)))
}

/// New dates for the call.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reschedule {
    /// When applications open (with an offset, or read in the award's time zone); unchanged
    /// when absent.
    #[serde(default)]
    pub opens: Option<String>,
    /// When they close; unchanged when absent.
    #[serde(default)]
    pub closes: Option<String>,
    /// Why, for the record.
    pub reason: String,
}

pub async fn reschedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<AwardRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let b: Reschedule = body::json(&bytes)?;
    if b.reason.trim().is_empty() {
        return Err(ApiError::located(
            "/reason",
            "moving the call's dates needs a `reason`",
        ));
    }
    let mut tx = Tx::new(&state);
    let mut record = load_for_update(&mut tx, &id)?;
    let version = record
        .current()
        .ok_or_else(|| ApiError::Conflict(format!("award `{id}` has no published version")))?;
    let loaded = state.loaded(&id, version).await?;
    let zone = loaded.award.timeline.time_zone.clone();
    let (opens, closes) = record.window(&loaded.award);
    let read = |text: &Option<String>, field: &str, default| match text {
        Some(t) => laurel::parse_instant(t, &zone)
            .map(|x| x.to_utc())
            .map_err(|why| ApiError::Invalid {
                title: "The dates are invalid".to_owned(),
                diagnostics: vec![laurel::Diagnostic::error(
                    laurel::Code::Timeline,
                    format!("/{field}"),
                    why,
                )],
            }),
        None => Ok(default),
    };
    let opens = read(&b.opens, "opens", opens)?;
    let closes = read(&b.closes, "closes", closes)?;
    if closes <= opens {
        return Err(ApiError::Invalid {
            title: "The dates are invalid".to_owned(),
            diagnostics: vec![laurel::Diagnostic::error(
                laurel::Code::Timeline,
                "/closes",
                "the call would close before it opens",
            )],
        });
    }
    record.schedule = Some(crate::server::records::Schedule {
        opens: opens.to_rfc3339(),
        closes: closes.to_rfc3339(),
        reason: b.reason.clone(),
    });
    let detail = json!({
        "opens": laurel::show_instant(opens.fixed_offset(), &zone),
        "closes": laurel::show_instant(closes.fixed_offset(), &zone),
        "reason": b.reason,
    });
    save(tx, &caller, &record, "award.timeline", detail)?;
    Ok(Json(record))
}

fn state_name(s: AwardState) -> &'static str {
    match s {
        AwardState::Draft => "a draft",
        AwardState::Open => "open",
        AwardState::Closed => "closed",
    }
}

async fn transition(
    state: AppState,
    caller: Caller,
    id: String,
    from: AwardState,
    to: AwardState,
    action: &str,
) -> Result<Json<AwardRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let mut tx = Tx::new(&state);
    let mut record = load_for_update(&mut tx, &id)?;
    if record.state != from {
        return Err(ApiError::Conflict(format!(
            "award `{id}` is {}",
            state_name(record.state)
        )));
    }
    if to == AwardState::Open && record.versions.is_empty() {
        return Err(ApiError::Conflict(format!(
            "award `{id}` has no published version to open"
        )));
    }
    record.state = to;
    let detail = json!({ "version": record.current() });
    save(tx, &caller, &record, action, detail)?;
    Ok(Json(record))
}

pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AwardRecord>, ApiError> {
    transition(
        state,
        caller,
        id,
        AwardState::Draft,
        AwardState::Open,
        "award.open",
    )
    .await
}

pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AwardRecord>, ApiError> {
    transition(
        state,
        caller,
        id,
        AwardState::Open,
        AwardState::Closed,
        "award.close",
    )
    .await
}

/// The awards, a page read from the store (in id order, from `after`): a page costs the same
/// however many awards the installation holds.
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Vec<AwardRecord>>, ApiError> {
    let Some(wanted) = crate::server::paging::Wanted::of(query.as_deref(), super::listings::AWARDS)
    else {
        // A `limit` that is none: the layer says so.
        return Ok(Json(Vec::new()));
    };
    let after = wanted.after.as_ref().map(|a| a.as_bytes().to_vec());
    let awards = crate::server::paging::keyset(
        state.store.as_ref(),
        (Tree::Awards, b""),
        after,
        &wanted,
        |v| async move {
            let mut award: AwardRecord = serde_json::from_slice(&v)
                .map_err(|e| ApiError::Internal(format!("a stored award: {e}")))?;
            award.draft = None;
            Ok(Some(award))
        },
    )
    .await?;
    Ok(Json(awards))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<([(HeaderName, String); 1], Json<AwardRecord>), ApiError> {
    let mut record = load_award(&state, &id)?;
    // The tag of the record as stored, whoever reads it: what `If-Match` is checked against.
    let tag = etag(&record);
    if caller.role != Role::Admin {
        record.draft = None;
    }
    Ok(([(axum::http::header::ETAG, tag)], Json(record)))
}

pub async fn version(
    State(state): State<AppState>,
    _caller: Caller,
    Path((id, version)): Path<(String, u32)>,
) -> Result<Json<AwardVersion>, ApiError> {
    let v: VersionRecord = get_json(
        state.store.as_ref(),
        Tree::Versions,
        &version_key(&id, version),
    )?
    .ok_or_else(|| ApiError::NotFound(format!("award `{id}` has no version {version}")))?;
    let definition: Value = serde_json::from_str(&v.definition).unwrap_or(Value::Null);
    Ok(Json(AwardVersion {
        files: v.files.keys().cloned().collect(),
        award: v.award,
        version: v.version,
        sha256: v.sha256,
        published_at: v.published_at,
        definition,
    }))
}

#[derive(Debug, Deserialize)]
pub struct SchemaQuery {
    version: Option<u32>,
    /// The language of titles and descriptions (one of the award's; its default when absent).
    lang: Option<String>,
}

pub async fn schema(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<SchemaQuery>,
) -> Result<Json<ApplicationSchema>, ApiError> {
    let record = load_award(&state, &id)?;
    let version = q
        .version
        .or(record.current())
        .ok_or_else(|| ApiError::Conflict(format!("award `{id}` has no published version")))?;
    let loaded = state.loaded(&id, version).await?;
    let award = &loaded.award;
    let language = q.lang.as_deref().unwrap_or(&award.default_language);
    let mut languages: Vec<&str> = std::iter::once(award.default_language.as_str())
        .chain(award.languages.iter().map(String::as_str))
        .collect();
    languages.dedup();
    if !languages.contains(&language) {
        return Err(ApiError::Invalid {
            title: "The request is invalid".to_owned(),
            diagnostics: vec![laurel::Diagnostic::error(
                laurel::Code::UnknownLanguage,
                "",
                format!(
                    "`lang`: award `{id}` is in {}, not `{}`",
                    languages
                        .iter()
                        .map(|l| format!("`{l}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    laurel::clean(language, 20)
                ),
            )],
        });
    }
    match laurel::application_schema_in(award, language) {
        Value::Object(schema) => Ok(Json(ApplicationSchema(schema))),
        _ => Err(ApiError::Internal(
            "the form's schema is not an object".to_owned(),
        )),
    }
}

pub async fn mentions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<AwardRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let mut tx = Tx::new(&state);
    let mut record = load_for_update(&mut tx, &id)?;
    let mentions: Vec<laurel::MentionDecision> = body::json(&bytes)?;
    let version = record
        .current()
        .ok_or_else(|| ApiError::Conflict(format!("award `{id}` has no published version")))?;
    let loaded = state.loaded(&id, version).await?;
    let limit = loaded
        .award
        .special_mentions
        .as_ref()
        .map_or(0, |m| m.max as usize);
    if mentions.len() > limit {
        return Err(ApiError::Invalid {
            title: "Too many special mentions".to_owned(),
            diagnostics: vec![laurel::Diagnostic::error(
                laurel::Code::Scoring,
                "",
                format!("{} given, at most {limit} allowed", mentions.len()),
            )],
        });
    }
    record.special_mentions = mentions;
    let detail = json!({ "applications": record.special_mentions.iter().map(|m| m.application.to_string()).collect::<Vec<_>>() });
    save(tx, &caller, &record, "award.special_mentions", detail)?;
    Ok(Json(record))
}

/// Switches notifications of an award on (`true`) or off (`false`), by name:
/// `application_received`, `assignment`, `reminder`, `outcome`.
pub async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Notifications>, ApiError> {
    caller.require(&[Role::Admin])?;
    let b: BTreeMap<String, bool> = body::json(&bytes)?;
    let unknown: Vec<laurel::Diagnostic> = b
        .keys()
        .filter(|k| !crate::server::notices::NOTICES.contains(&k.as_str()))
        .map(|k| {
            laurel::Diagnostic::error(
                laurel::Code::Schema,
                format!("/{k}"),
                format!(
                    "unknown notification `{k}`; known: {}",
                    crate::server::notices::NOTICES.join(", ")
                ),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::Invalid {
            title: "Unknown notifications".to_owned(),
            diagnostics: unknown,
        });
    }
    let mut tx = Tx::new(&state);
    let mut record = load_for_update(&mut tx, &id)?;
    record.notifications.extend(b.clone());
    let shown = Notifications {
        award: id,
        notifications: record.notifications.clone(),
    };
    save(tx, &caller, &record, "award.notifications", json!(b))?;
    Ok(Json(shown))
}

/// Whether applicants may register themselves.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// `false` closes self-registration (invitations still work); `true` opens it again.
    pub open: bool,
}

/// Opens or closes applicants' self-registration.
pub async fn registration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<RegistrationNow>, ApiError> {
    caller.require(&[Role::Admin])?;
    let b: Registration = body::json(&bytes)?;
    let mut tx = Tx::new(&state);
    let mut record = load_for_update(&mut tx, &id)?;
    record.registration_closed = !b.open;
    save(
        tx,
        &caller,
        &record,
        "award.registration",
        json!({ "open": b.open }),
    )?;
    Ok(Json(RegistrationNow {
        award: id,
        registration_open: b.open,
    }))
}
