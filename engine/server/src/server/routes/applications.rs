//! Applications: submitted while the award is open, checked against the award's form schema,
//! eligibility decided and stored with its reasons, personal fields sealed; and assignments of
//! applications to judges.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::answers::{ApplicationView, Reviewed, Stored, Withdrawn};
use crate::server::auth::Caller;
use crate::server::body;
use crate::server::crypto;
use crate::server::domain::awards::load_award;
use crate::server::domain::rounds::assigned;
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, ApplicationStatus, AwardRecord, AwardState, Role};
use crate::server::state::Work;
use crate::server::state::{AppState, Loaded};
use crate::server::tx::Tx;
use crate::store::{StoreError, Tree, get_json, key, now, prefix};

const SUBMITTERS: &[Role] = &[Role::Admin, Role::Applicant, Role::Integrator];

/// The award's current version, which must be open, and its call running now (between its
/// opening and its deadline, as the definition or an administrator set them); read through
/// `tx`, so that its commit requires the award unchanged. Returns the award's record too.
async fn open_award(
    state: &AppState,
    tx: &mut Tx<'_>,
    id: &str,
) -> Result<(std::sync::Arc<Loaded>, AwardRecord), ApiError> {
    let record = tx
        .read::<AwardRecord>(Tree::Awards, id.as_bytes())?
        .ok_or_else(|| ApiError::NotFound(format!("no award `{id}`")))?;
    if record.state != AwardState::Open {
        return Err(ApiError::Conflict(format!(
            "award `{id}` is not open for applications"
        )));
    }
    let version = record
        .current()
        .ok_or_else(|| ApiError::Conflict(format!("award `{id}` has no published version")))?;
    let loaded = state.loaded(id, version).await?;
    let (opens, closes) = record.window(&loaded.award);
    let zone = &loaded.award.timeline.time_zone;
    let now = state.now();
    if now < opens {
        return Err(ApiError::Conflict(format!(
            "the call of `{id}` opens on {}",
            laurel::show_instant(opens.fixed_offset(), zone)
        )));
    }
    if now > closes {
        return Err(ApiError::Conflict(format!(
            "the call of `{id}` closed on {}: applications are no longer accepted",
            laurel::show_instant(closes.fixed_offset(), zone)
        )));
    }
    Ok((loaded, record))
}

/// Checks one application against the form and decides its eligibility, locating problems in
/// the request body. Also returns the warnings of `validate` plugins that failed: the
/// application is kept, and needs review.
///
/// When that can call a plugin (a `validate` hook, an eligibility rule in scope that names a
/// plugin), it runs on a plugin thread, in the award's lane; otherwise a small application is
/// checked where the request runs, without the hop to a plugin thread and back.
async fn checked(
    state: &AppState,
    loaded: &std::sync::Arc<Loaded>,
    text: &str,
    value: Value,
) -> Result<(laurel::Application, Vec<String>, laurel::Decision), ApiError> {
    let l = loaded.clone();
    let work = Work::Award {
        id: loaded.award.id.to_string(),
        plugins: match (value["category"].as_str(), value["applicant_type"].as_str()) {
            (Some(c), Some(t)) => laurel::admission_calls_plugins(&loaded.award, c, t),
            // Not readable as an application: the check says why; in the award's lane if it has
            // plugins at all.
            _ => !loaded.award.plugins.is_empty(),
        },
    };
    // Checked and decided in one job: at most one hop to a plugin thread and back, not two.
    let (diagnostics, apps, decision) = state
        .engine_sized(work, text.len(), move || {
            let (diagnostics, apps) =
                l.checker
                    .check(&l.award, &Value::Array(vec![value]), &l.plugins);
            let decision = match (&apps, diagnostics.has_errors()) {
                (Some(a), false) => a.first().map(|a| laurel::decide(&l.award, a, &l.plugins)),
                _ => None,
            };
            (diagnostics, apps, decision)
        })
        .await?;
    let mut located: laurel::Diagnostics = diagnostics
        .into_iter()
        .map(|d| laurel::Diagnostic {
            pointer: d
                .pointer
                .strip_prefix("/0")
                .unwrap_or(&d.pointer)
                .to_owned(),
            ..d
        })
        .collect();
    located.locate_in(text);
    let unchecked: Vec<String> = located
        .iter()
        .filter(|d| !d.is_error() && d.code == laurel::Code::Plugin)
        .map(|d| d.message.clone())
        .collect();
    match (apps.and_then(|mut a| a.pop()), decision) {
        (Some(app), Some(decision)) if !located.has_errors() => Ok((app, unchecked, decision)),
        _ => Err(ApiError::Invalid {
            title: "The application is invalid".to_owned(),
            diagnostics: located.into_iter().collect(),
        }),
    }
}

/// Gives an applicant's new application its id: random, so that no answer to an applicant
/// can tell whether someone else's application exists. Administrators and integrators (who
/// import, or number applications in their own portals) may name theirs.
fn name_by_server(value: &mut Value, text: &str) -> Result<(), ApiError> {
    let Some(fields) = value.as_object_mut() else {
        return Ok(()); // the checker reports the shape
    };
    if fields.contains_key("id") {
        let mut d: laurel::Diagnostics = std::iter::once(laurel::Diagnostic::error(
            laurel::Code::Schema,
            "/id",
            "applicants do not name applications: leave out `id`, and the server gives one",
        ))
        .collect();
        d.locate_in(text);
        return Err(ApiError::Invalid {
            title: "The application is invalid".to_owned(),
            diagnostics: d.into_iter().collect(),
        });
    }
    let id = crate::server::webhooks::random_id("a-", 8)?;
    match serde_json::from_value::<ApplicantApplication>(Value::Object(fields.clone())) {
        // The applicant's request type, named by the server.
        Ok(a) => {
            *value = serde_json::json!({
                "id": id, "category": a.category, "applicant_type": a.applicant_type,
                "fields": a.fields,
            });
            if let Some(s) = a.schema {
                value["$schema"] = Value::String(s);
            }
        }
        // Another shape: named, then checked as an application, every problem at its place.
        Err(_) => {
            fields.insert("id".to_owned(), Value::String(id));
        }
    }
    Ok(())
}

fn app_key(award: &str, app: &str) -> Vec<u8> {
    key(&[award.as_bytes(), app.as_bytes()])
}

/// Stores a checked application; `None`, with nothing written, when another submission to the
/// award changed its limit's groups meanwhile (the caller runs the request again).
#[allow(clippy::too_many_arguments)]
async fn store_application(
    state: &AppState,
    mut tx: Tx<'_>,
    caller: &Caller,
    (loaded, award_now): (&std::sync::Arc<Loaded>, &AwardRecord),
    (app, unchecked, mut decision): (&laurel::Application, Vec<String>, laurel::Decision),
    owner: &str,
    submitted_at: Option<String>,
    action: &str,
) -> Result<Option<Stored>, ApiError> {
    if !unchecked.is_empty() {
        decision.require_review(&loaded.award, "validate-plugins", unchecked);
    }
    // The limits first: a run that must be run again has sealed and signed nothing.
    if !loaded.award.limits.is_empty()
        && !crate::server::domain::limit_groups::check_and_place(state, &mut tx, loaded, app)?
    {
        return Ok(None);
    }
    let mut sealed = serde_json::to_value(app).map_err(|e| ApiError::Internal(e.to_string()))?;
    crypto::seal(&loaded.award, &state.sealer, &mut sealed);
    let at = now();
    let mut eligibility = serde_json::to_value(&decision).unwrap_or(Value::Null);
    crypto::seal_decision(
        &loaded.award,
        &state.sealer,
        app.id.as_str(),
        &mut eligibility,
    );
    let record = ApplicationRecord {
        award: loaded.award.id.to_string(),
        version: loaded.version,
        application: sealed,
        owner: owner.to_owned(),
        status: ApplicationStatus::Submitted,
        eligibility,
        review: None,
        submitted_at: submitted_at.unwrap_or_else(|| at.clone()),
        updated_at: at,
        receipt: Some(crate::server::domain::certificates::receipt(
            state,
            loaded.award.id.as_str(),
            loaded.version,
            app,
        )?),
    };
    // Submitted, the owner's draft is done with: deleted as read, so that a draft saved
    // meanwhile makes this commit fail (409) rather than outlive it.
    if action == "application.submit" {
        let draft = crate::server::domain::applications::draft_key(loaded.award.id.as_str(), owner);
        tx.read_raw(Tree::Drafts, &draft)?;
        tx.delete(Tree::Drafts, draft);
    }
    tx.put(
        Tree::Applications,
        app_key(loaded.award.id.as_str(), app.id.as_str()),
        &record,
    );
    let award_id = loaded.award.id.as_str();
    if action == "application.submit"
        && let Some(person) = get_json::<crate::server::people::Person>(
            state.store.as_ref(),
            Tree::People,
            owner.as_bytes(),
        )?
    {
        let switches = award_now.notifications.clone();
        let status = serde_json::to_value(decision.status).unwrap_or(Value::Null);
        let fields = serde_json::to_value(&app.fields).unwrap_or(Value::Null);
        let named = crate::server::notices::entry_words(
            &loaded.award,
            app.id.as_str(),
            app.category.as_str(),
            &fields,
        );
        crate::server::notices::send(
            state,
            &mut tx,
            &switches,
            (award_id, Some(loaded)),
            &person,
            &crate::server::notices::Notice::Received {
                application: &named,
                status: status.as_str().unwrap_or_default(),
            },
        )?;
    }
    if action == "application.submit" {
        crate::server::webhooks::emit(
            &mut tx,
            award_id,
            "application.submitted",
            &record.updated_at,
            json!({ "application": app.id, "category": app.category, "version": loaded.version }),
        )?;
    }
    crate::server::webhooks::emit(
        &mut tx,
        award_id,
        "eligibility.decided",
        &record.updated_at,
        json!({ "application": app.id, "status": decision.status, "by": "rules" }),
    )?;
    let committed = tx.commit_or_conflict(caller.audit(
        action,
        format!("{}/{}", loaded.award.id, app.id),
        json!({ "version": loaded.version, "category": app.category, "eligibility": decision.status }),
    ));
    if !limits_held(committed)? {
        return Ok(None);
    }
    Ok(Some(Stored {
        id: app.id.to_string(),
        status: ApplicationStatus::Submitted,
        version: loaded.version,
        eligibility: decision,
        receipt: record.receipt,
    }))
}

/// Whether a commit went through (`true`), or conflicted on an award's limit groups
/// (`false`: nothing written, the request is to be run again); any other failure is the
/// request's.
fn limits_held(committed: Result<crate::store::AuditRecord, StoreError>) -> Result<bool, ApiError> {
    match committed {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict { tree, key })
            if crate::server::domain::limit_groups::raced(tree, &key) =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// How many times a submission, an update or a withdrawal is run when another submission to
/// the award changes its limit's groups between its reading them and its commit.
const LIMIT_ATTEMPTS: u32 = 32;

/// Runs `attempt` until it stores (`Some`) or fails: one that met another submission's change
/// of the award's limit groups (`None`, nothing written) is run again from the start, after a
/// short pause that grows and differs between requests, so that applicants racing for an
/// award with limits are not sent a conflict to retry themselves. A city's last place still
/// goes to one of them: each run reads the groups afresh, and the other is refused by the
/// limit.
async fn placing<T, F>(state: &AppState, mut attempt: impl FnMut() -> F) -> Result<T, ApiError>
where
    F: std::future::Future<Output = Result<Option<T>, ApiError>>,
{
    for n in 0..LIMIT_ATTEMPTS {
        if let Some(done) = attempt().await? {
            return Ok(done);
        }
        state
            .metrics
            .limit_reruns
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let spread = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos()));
        let micros = spread % (200 * u64::from(n.min(10) + 1));
        tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
    }
    Err(ApiError::Conflict(
        "so many applications to this award are being placed under its limits at once that \
         this one could not be: nothing was written; send it again"
            .to_owned(),
    ))
}

pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, super::Located, Json<Stored>), ApiError> {
    caller.require(SUBMITTERS)?;
    let out = placing(&state, || submit_once(&state, &caller, &award, &bytes)).await?;
    let at = super::location(format!("/v1/awards/{award}/applications/{}", out.id));
    Ok((StatusCode::CREATED, at, Json(out)))
}

/// One run of a submission: `None` when it met another's change of the award's limits.
async fn submit_once(
    state: &AppState,
    caller: &Caller,
    award: &str,
    bytes: &Bytes,
) -> Result<Option<Stored>, ApiError> {
    // The award must still be open as it was read when the application is stored.
    let mut tx = Tx::new(state);
    let (loaded, award_now) = open_award(state, &mut tx, award).await?;
    let text = body::text(bytes)?;
    let mut value: Value = body::json(bytes)?;
    if caller.role == Role::Applicant {
        name_by_server(&mut value, text)?;
    }
    crate::server::domain::files::check_references(
        state,
        &loaded.award,
        &caller.key,
        &mut value,
        text,
    )?;
    let (app, unchecked, decision) = checked(state, &loaded, text, value).await?;
    // Creating what exists is a conflict, never a replacement, however many race.
    if !tx.absent(Tree::Applications, &app_key(award, app.id.as_str()))? {
        return Err(ApiError::Conflict(format!(
            "application `{}` exists; update it with PUT",
            app.id
        )));
    }
    store_application(
        state,
        tx,
        caller,
        (&loaded, &award_now),
        (&app, unchecked, decision),
        &caller.key,
        None,
        "application.submit",
    )
    .await
}

/// An application, read for update: the commit requires it unchanged.
fn load_for_update(tx: &mut Tx<'_>, award: &str, id: &str) -> Result<ApplicationRecord, ApiError> {
    tx.read(Tree::Applications, &app_key(award, id))?
        .ok_or_else(|| ApiError::NotFound(format!("no application `{id}` in award `{award}`")))
}

fn load_application(
    state: &AppState,
    award: &str,
    id: &str,
) -> Result<ApplicationRecord, ApiError> {
    get_json(
        state.store.as_ref(),
        Tree::Applications,
        &app_key(award, id),
    )?
    .ok_or_else(|| unknown(award, id))
}

fn owns(caller: &Caller, record: &ApplicationRecord) -> bool {
    caller.role == Role::Admin || record.owner == caller.key
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Stored>, ApiError> {
    caller.require(SUBMITTERS)?;
    Ok(Json(
        placing(&state, || {
            update_once(&state, &caller, (&award, &id), &bytes)
        })
        .await?,
    ))
}

/// One run of an update: `None` when it met another's change of the award's limits.
async fn update_once(
    state: &AppState,
    caller: &Caller,
    (award, id): (&str, &str),
    bytes: &Bytes,
) -> Result<Option<Stored>, ApiError> {
    let mut tx = Tx::new(state);
    let record = load_for_update(&mut tx, award, id)?;
    if !owns(caller, &record) {
        // As if it did not exist: no answer tells one applicant of another's records.
        return Err(unknown(award, id));
    }
    if record.status == ApplicationStatus::Withdrawn {
        return Err(ApiError::Conflict(format!(
            "application `{id}` was withdrawn"
        )));
    }
    let (loaded, award_now) = open_award(state, &mut tx, award).await?;
    let text = body::text(bytes)?;
    let mut value: Value = body::json(bytes)?;
    if let Some(fields) = value.as_object_mut() {
        fields
            .entry("id")
            .or_insert_with(|| Value::String(id.to_owned()));
    }
    // Whoever writes, the files must be the owner's.
    crate::server::domain::files::check_references(
        state,
        &loaded.award,
        &record.owner,
        &mut value,
        text,
    )?;
    let (app, unchecked, decision) = checked(state, &loaded, text, value).await?;
    if app.id.as_str() != id {
        return Err(ApiError::located(
            "/id",
            format!("the body's id `{}` is not `{id}`", app.id),
        ));
    }
    store_application(
        state,
        tx,
        caller,
        (&loaded, &award_now),
        (&app, unchecked, decision),
        &record.owner,
        Some(record.submitted_at),
        "application.update",
    )
    .await
}

/// Why an application is withdrawn (optional).
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Why, in the applicant's words (kept in the audit log, at most 500 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Withdrawn>, ApiError> {
    caller.require(SUBMITTERS)?;
    let why: Withdrawal = if bytes.iter().all(u8::is_ascii_whitespace) {
        Withdrawal::default()
    } else {
        crate::server::body::json(&bytes)?
    };
    let reason = why
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::located(
            "/reason",
            "a reason of at most 500 characters",
        ));
    }
    let reason = reason.as_deref();
    let out = placing(&state, || {
        withdraw_once(&state, &caller, (&award, &id), reason)
    })
    .await?;
    Ok(Json(out))
}

/// One run of a withdrawal: `None` when it met another's change of the award's limits.
async fn withdraw_once(
    state: &AppState,
    caller: &Caller,
    (award, id): (&str, &str),
    reason: Option<&str>,
) -> Result<Option<Withdrawn>, ApiError> {
    let mut tx = Tx::new(state);
    let mut record = load_for_update(&mut tx, award, id)?;
    if !owns(caller, &record) {
        // As if it did not exist: no answer tells one applicant of another's records.
        return Err(unknown(award, id));
    }
    if record.status == ApplicationStatus::Withdrawn {
        return Err(ApiError::Conflict(format!(
            "application `{id}` is already withdrawn"
        )));
    }
    if let Some(version) = load_award(state, award)?.current() {
        let loaded = state.loaded(award, version).await?;
        if !crate::server::domain::limit_groups::take_out(state, &mut tx, &loaded, &record)? {
            return Ok(None);
        }
    }
    record.status = ApplicationStatus::Withdrawn;
    record.updated_at = now();
    tx.put(Tree::Applications, app_key(award, id), &record);
    let committed = tx.commit_or_conflict(caller.audit(
        "application.withdraw",
        format!("{award}/{id}"),
        json!({ "reason": reason }),
    ));
    if !limits_held(committed)? {
        return Ok(None);
    }
    Ok(Some(Withdrawn {
        id: id.to_owned(),
        status: ApplicationStatus::Withdrawn,
    }))
}

/// What the caller may see of a stored application, or `None`.
async fn view(
    state: &AppState,
    caller: &Caller,
    record: &ApplicationRecord,
    assignment: &[String],
) -> Result<Option<ApplicationView>, ApiError> {
    let id = record
        .application
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let loaded = state.loaded(&record.award, record.version).await?;
    let mut app = record.application.clone();
    let (visible, open, redact, judge) = match caller.role {
        Role::Admin => (true, true, false, false),
        Role::Auditor => (true, false, true, false),
        Role::Applicant | Role::Integrator => (record.owner == caller.key, true, false, false),
        Role::Judge => (
            assignment.contains(&id) && record.status == ApplicationStatus::Submitted,
            false,
            true,
            true,
        ),
    };
    if !visible {
        return Ok(None);
    }
    if open {
        crypto::open(&loaded.award, &state.sealer, &mut app);
    }
    if redact {
        crypto::redact(&loaded.award, &mut app, judge);
    }
    // Its name, from what this caller may see of it (a judge of a blind round sees no
    // hidden field, so no name from one).
    let title = laurel::entry_title(
        &loaded.award,
        app.get("category")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        &app["fields"],
    );
    let mut out = ApplicationView {
        id,
        award: record.award.clone(),
        version: record.version,
        title,
        status: record.status,
        application: app,
        eligibility: None,
        standing: None,
        review: None,
        submitted_at: None,
        updated_at: None,
    };
    if !judge {
        let mut eligibility = record.eligibility.clone();
        if open {
            crypto::open_all(&state.sealer, &record.award, &mut eligibility);
        }
        crypto::redact_all(&mut eligibility);
        out.eligibility = Some(eligibility);
        out.standing = Some(
            match record.status {
                ApplicationStatus::Withdrawn => "withdrawn",
                ApplicationStatus::Submitted => crate::server::domain::applications::decided(
                    record.eligibility.get("status").and_then(Value::as_str),
                    record.review.as_ref().map(|r| r.eligible),
                ),
            }
            .to_owned(),
        );
        out.review = Some(record.review.clone());
        out.submitted_at = Some(record.submitted_at.clone());
        out.updated_at = Some(record.updated_at.clone());
    }
    Ok(Some(out))
}

fn judge_assignment(
    state: &AppState,
    caller: &Caller,
    award: &str,
) -> Result<Vec<String>, ApiError> {
    match (caller.role, &caller.subject) {
        (Role::Judge, Some(judge)) => assigned(state, award, judge),
        _ => Ok(Vec::new()),
    }
}

/// The applications the caller may see, one page of them read from the store (keyset, from
/// `after`): a page costs the same whatever the award holds. The paging layer then pages,
/// filters and links this as it does every list.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Vec<ApplicationView>>, ApiError> {
    load_award(&state, &award)?;
    let assignment = judge_assignment(&state, &caller, &award)?;
    let Some(wanted) =
        crate::server::paging::Wanted::of(query.as_deref(), super::listings::APPLICATIONS)
    else {
        // A `limit` that is none: the layer says so.
        return Ok(Json(Vec::new()));
    };
    // Those that stand one way are read from the store's index of standings (whose entries
    // hold an application's id), any others from the applications themselves.
    let indexed = match wanted.wants("/standing") {
        Some(standing) if caller.role != Role::Judge => {
            crate::server::domain::applications::standing_index(
                state.store.as_ref(),
                &award,
                standing,
            )?
        }
        _ => None,
    };
    let (from, after) = match &indexed {
        Some(from) => (
            from.clone(),
            wanted
                .after
                .as_ref()
                .map(|a| [from.as_slice(), a.as_bytes()].concat()),
        ),
        None => (
            prefix(&[award.as_bytes()]),
            wanted
                .after
                .as_ref()
                .map(|a| key(&[award.as_bytes(), a.as_bytes()])),
        ),
    };
    let tree = if indexed.is_some() {
        Tree::Meta
    } else {
        Tree::Applications
    };
    let out =
        crate::server::paging::keyset(state.store.as_ref(), (tree, &from), after, &wanted, |v| {
            let (state, caller, assignment, award) = (&state, &caller, &assignment, &award);
            let by_id = indexed.is_some();
            async move {
                let bytes = if by_id {
                    let id = String::from_utf8_lossy(&v).into_owned();
                    match state.store.get(Tree::Applications, &app_key(award, &id))? {
                        Some(bytes) => bytes,
                        None => return Ok(None),
                    }
                } else {
                    v
                };
                let r: ApplicationRecord = serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::Internal(format!("a stored application: {e}")))?;
                view(state, caller, &r, assignment).await
            }
        })
        .await?;
    Ok(Json(out))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
) -> Result<Json<ApplicationView>, ApiError> {
    let record = load_application(&state, &award, &id)?;
    let assignment = judge_assignment(&state, &caller, &award)?;
    view(&state, &caller, &record, &assignment)
        .await?
        .map(Json)
        .ok_or_else(|| unknown(&award, &id))
}

/// The answer about an application that does not exist, or that the caller may not see.
fn unknown(award: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("no application `{id}` in award `{award}`"))
}

/// An application as an applicant sends it: without `id`, which the server gives (an
/// administrator or an integrator names their applications: `laurel::Application`). A body
/// of another shape is checked as an application, so that every problem is reported at its
/// place.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Laurel application from an applicant")]
pub struct ApplicantApplication {
    /// The JSON Schema this file follows, for editors; ignored by Laurel.
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// The category applied to.
    pub category: String,
    /// The kind of applicant.
    pub applicant_type: String,
    /// The form's answers, by field id; groups are nested objects, lists are arrays.
    pub fields: serde_json::Map<String, Value>,
}

/// An administrator's decision on an application that needs review.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// Whether it is admitted.
    pub eligible: bool,
    /// Why, for the record.
    pub reason: String,
}

pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Reviewed>, ApiError> {
    caller.require(&[Role::Admin])?;
    let mut tx = Tx::new(&state);
    let mut record = load_for_update(&mut tx, &award, &id)?;
    if record.eligibility.get("status").and_then(Value::as_str) != Some("needs_review") {
        return Err(ApiError::Conflict(format!(
            "application `{id}` does not need review"
        )));
    }
    let r: Review = body::json(&bytes)?;
    record.review = Some(laurel::ReviewDecision {
        application: laurel::ApplicationId::new(id.clone()),
        eligible: r.eligible,
        reason: r.reason.clone(),
    });
    record.updated_at = now();
    tx.put(Tree::Applications, app_key(&award, &id), &record);
    crate::server::webhooks::emit(
        &mut tx,
        &award,
        "eligibility.decided",
        &record.updated_at,
        json!({ "application": id, "status": if r.eligible { "eligible" } else { "ineligible" }, "by": "review" }),
    )?;
    tx.commit(caller.audit(
        "application.review",
        format!("{award}/{id}"),
        json!({ "eligible": r.eligible, "reason": r.reason }),
    ))?;
    Ok(Json(Reviewed {
        id,
        review: record.review,
    }))
}

/// How many of the award's applications stand where, as the store keeps them counted.
pub async fn counts(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Json<crate::server::answers::ApplicationCounts>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    load_award(&state, &award)?;
    Ok(Json(crate::server::domain::applications::counts(
        &state, &award,
    )?))
}
