//! Applying: choose the category and applicant type, fill in the form the rubric generates
//! (files uploaded with it), see every problem next to its field; then the application's
//! status, eligibility reasons, and its outcome once results are published.

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::api::Api;
use super::form::{Filled, Posted, fields_in_scope, file_inputs, path_of, read};
use super::layout::{check_csrf, csrf_field, page, page_with, problem, readable, redirect};
use super::public::{shown, text};
use crate::server::state::AppState;

/// A status or outcome, in the page's language.
pub fn status_label(ctx: &Ctx, status: &str) -> String {
    let key = format!("status.{status}");
    let t = ctx.t(&key);
    if t == key {
        status.replace('_', " ")
    } else {
        t.to_owned()
    }
}

/// An application's eligibility as its reader should know it: an administrator's review, when
/// there is one, decides it (an application that needed review and was admitted is admitted).
pub fn eligibility_label(ctx: &Ctx, app: &Value) -> String {
    let status = app["eligibility"]["status"].as_str().unwrap_or_default();
    match (status, app["review"]["eligible"].as_bool()) {
        ("needs_review", Some(true)) => status_label(ctx, "admitted"),
        ("needs_review", Some(false)) => status_label(ctx, "not_admitted"),
        _ => status_label(ctx, status),
    }
}

#[derive(Deserialize, Default)]
pub struct Choice {
    #[serde(default)]
    category: String,
    #[serde(default)]
    applicant_type: String,
    /// The submitted application being changed, if any.
    #[serde(default)]
    edit: String,
}

/// A form as filled so far: the choice, the values, what is wrong, how many items each list shows.
#[derive(Default)]
pub struct Filling {
    choice: Choice,
    values: Value,
    problems: BTreeMap<String, Vec<String>>,
    general: Vec<String>,
    items: BTreeMap<String, usize>,
    notice: Option<String>,
}

pub async fn page_(
    state: &AppState,
    ctx: &Ctx,
    award: &str,
    filling: &Filling,
    status: StatusCode,
) -> Response {
    let Filling {
        choice,
        values,
        problems,
        general,
        items,
        notice,
    } = filling;
    let Some(s) = shown(state, award).await else {
        return redirect("/");
    };
    let a = &s.loaded.award;
    let name = text(ctx, &s.loaded, &a.name);
    // The deadline, with the time left, on every step of the form.
    let deadline = {
        let (_, closes) = s.record.window(a);
        let now = state.now();
        html! {
            @if super::public::call_open(state, &s) {
                p.deadline { (ctx.tf("me.call_closes", &[
                    ("at", &super::layout::when(&closes.fixed_offset(), &a.timeline.time_zone)),
                    ("left", &super::layout::time_left(ctx, closes - now)),
                ])) }
            } @else {
                p.warning role="status" { (ctx.t("me.call_closed")) }
            }
        }
    };
    let chosen = a.category(&choice.category).filter(|c| {
        c.applicant_types
            .iter()
            .any(|t| t.as_str() == choice.applicant_type)
    });
    let step_one = html! {
        form.stack method="get" action={ "/awards/" (award) "/apply" } {
            div.field {
                label for="applicant_type" { (ctx.t("apply.applicant_type")) }
                select #applicant_type name="applicant_type" required {
                    @for t in &a.applicant_types {
                        option value=(t.id.as_str()) selected[t.id.as_str() == choice.applicant_type] { (text(ctx, &s.loaded, &t.name)) }
                    }
                }
            }
            div.field {
                label for="category" { (ctx.t("apply.category")) }
                select #category name="category" required {
                    @for c in &a.categories {
                        option value=(c.id.as_str()) selected[c.id.as_str() == choice.category] { (text(ctx, &s.loaded, &c.name)) }
                    }
                }
            }
            div.actions { button type="submit" { (ctx.t("apply.continue")) } }
        }
    };
    let body: Markup = match chosen {
        None => html! {
            h1 { (name) " — " (ctx.t("apply.title")) }
            (deadline)
            @if !choice.category.is_empty() {
                p.problem role="alert" { (ctx.t("apply.mismatch")) }
            }
            p { (ctx.t("apply.choose")) }
            (step_one)
        },
        Some(category) => {
            let fields = fields_in_scope(a, &choice.category, &choice.applicant_type);
            let required = super::form::required_by(a, &choice.applicant_type);
            let filled = Filled {
                values,
                problems,
                items,
                required: &required,
            };
            let type_name = a
                .applicant_types
                .iter()
                .find(|t| t.id.as_str() == choice.applicant_type)
                .map(|t| text(ctx, &s.loaded, &t.name))
                .unwrap_or_default();
            html! {
                h1 { (name) " — " (ctx.t("apply.title")) }
                (deadline)
                p { (text(ctx, &s.loaded, &category.name)) " · " (type_name) " · "
                    a href={ "/awards/" (award) "/apply" } { (ctx.t("apply.change")) } }
                @if let Some(n) = notice { p.notice role="status" { (n) } }
                @if !general.is_empty() || !problems.is_empty() {
                    // Every problem at once, each a link to its field; focus comes here.
                    div.warning #problems role="alert" tabindex="-1" data-focus-on-load {
                        p { strong { (ctx.tf("apply.problems", &[("n", &(general.len() + problems.values().map(Vec::len).sum::<usize>()).to_string())])) } }
                        ul {
                            @for g in general { li { (g) } }
                            @for (path, messages) in problems.iter() {
                                li { a href={ "#f-" (path.replace('.', "-")) } { (super::form::label_of(ctx, a, &choice.category, path)) } ": "
                                    (messages.iter().map(|m| super::form::localized(ctx, m)).collect::<Vec<_>>().join(" ")) }
                            }
                        }
                    }
                }
                p.hint { (ctx.t("form.required_note")) }
                // A new application's answers are saved as a draft as they are typed
                // (laurel.js; files go with the next save or submission).
                form.stack method="post" enctype="multipart/form-data" novalidate action={ "/awards/" (award) "/apply" } data-autosave[choice.edit.is_empty()] {
                    (csrf_field(ctx))
                    // How far the form is: required answers given, counted as they are typed
                    // (laurel.js; hidden without script).
                    p.progress-line #form-progress role="status" aria-live="polite" hidden data-template=(ctx.t("apply.progress")) {}
                    @if choice.edit.is_empty() {
                        p.hint #autosave-status role="status" aria-live="polite" data-saved=(ctx.t("apply.autosaved")) data-failed=(ctx.t("apply.autosave_failed")) {}
                    }
                    // Enter in a text field presses the form's first button: it saves a draft,
                    // never adds an item or submits.
                    button.skip type="submit" name="action" value="draft" tabindex="-1" aria-hidden="true" { (ctx.t("apply.save_draft")) }
                    input type="hidden" name="category" value=(choice.category);
                    input type="hidden" name="applicant_type" value=(choice.applicant_type);
                    @if !choice.edit.is_empty() { input type="hidden" name="edit" value=(choice.edit); }
                    (super::form::render_sections(ctx, a, &fields, &filled))
                    div.actions {
                        @if choice.edit.is_empty() {
                            button type="submit" name="action" value="submit" { (ctx.t("apply.submit")) }
                            button.secondary type="submit" name="action" value="draft" formnovalidate { (ctx.t("apply.save_draft")) }
                        } @else {
                            button type="submit" name="action" value="submit" { (ctx.t("apply.save_changes")) }
                        }
                    }
                }
            }
        }
    };
    page_with(ctx, status, &name, body)
}

pub async fn form_page(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    Query(choice): Query<Choice>,
) -> Response {
    if ctx.person.is_none() {
        return redirect("/sign-in");
    }
    // A submitted application being changed comes back as it was sent.
    if !choice.edit.is_empty() {
        let app = api
            .get(
                &ctx,
                &format!("/v1/awards/{award}/applications/{}", choice.edit),
            )
            .await;
        if !app.ok() {
            return problem(&ctx, &app);
        }
        let sent = &app.json["application"];
        let filling = Filling {
            choice: Choice {
                edit: choice.edit.clone(),
                category: sent["category"].as_str().unwrap_or_default().to_owned(),
                applicant_type: sent["applicant_type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            },
            values: sent["fields"].clone(),
            notice: Some(ctx.t("apply.editing").to_owned()),
            ..Filling::default()
        };
        return page_(&state, &ctx, &award, &filling, StatusCode::OK).await;
    }
    // A draft saved earlier comes back, with its choice unless another is asked for.
    let draft = api
        .get(&ctx, &format!("/v1/awards/{award}/drafts/mine"))
        .await;
    let mut filling = Filling {
        choice,
        values: json!({}),
        ..Filling::default()
    };
    if draft.ok() {
        if filling.choice.category.is_empty() {
            filling.choice = Choice {
                edit: String::new(),
                category: draft.json["category"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                applicant_type: draft.json["applicant_type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            };
        }
        filling.values = draft.json["fields"].clone();
        let zone = shown(&state, &award).await.map_or_else(
            || "UTC".to_owned(),
            |s| s.loaded.award.timeline.time_zone.clone(),
        );
        filling.notice = Some(ctx.tf(
            "apply.draft_back",
            &[(
                "at",
                &super::layout::when_in(draft.json["saved_at"].as_str().unwrap_or_default(), &zone),
            )],
        ));
    }
    page_(&state, &ctx, &award, &filling, StatusCode::OK).await
}

pub async fn submit(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    mut multipart: Multipart,
) -> Response {
    // Nothing of the body is read for a visitor who is not signed in.
    if ctx.person.is_none() {
        return redirect("/sign-in");
    }
    let mut posted: Posted = BTreeMap::new();
    let mut files: BTreeMap<String, (String, Bytes)> = BTreeMap::new();
    let sent = match super::multipart::read(&mut multipart).await {
        Ok(sent) => sent,
        Err(reply) => return problem(&ctx, &reply),
    };
    for part in sent {
        if let Some(path) = part.name.strip_prefix("file.") {
            let file_name = part.file_name.unwrap_or_default();
            if !file_name.is_empty() && !part.bytes.is_empty() {
                files.insert(path.to_owned(), (file_name, part.bytes));
            }
            continue;
        }
        let value = match part.text(&ctx) {
            Ok(t) => t,
            Err(reply) => return problem(&ctx, &reply),
        };
        posted.entry(part.name).or_default().push(value);
    }
    let one = |k: &str| {
        posted
            .get(k)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    let (csrf, more, action) = (one("csrf"), one("more"), one("action"));
    let choice = Choice {
        edit: one("edit"),
        category: one("category"),
        applicant_type: one("applicant_type"),
    };
    if let Err(r) = check_csrf(&ctx, &csrf) {
        return *r;
    }
    let Some(s) = shown(&state, &award).await else {
        return redirect("/");
    };
    let a = &s.loaded.award;
    let fields = fields_in_scope(a, &choice.category, &choice.applicant_type);
    let items: BTreeMap<String, usize> = posted
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.strip_prefix("items.")?.to_owned(),
                v.first()?.parse().ok()?,
            ))
        })
        .collect();
    let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Files first: each becomes the reference the application carries.
    for (path, top) in file_inputs(&fields, "", &items) {
        let Some((file_name, bytes)) = files.remove(&path) else {
            continue;
        };
        let url = format!(
            "/v1/awards/{award}/uploads?field={}&name={}",
            crate::server::paging::encode(&top),
            crate::server::paging::encode(&file_name)
        );
        let reply = api
            .call(
                &ctx,
                axum::http::Method::POST,
                &url,
                Some((bytes, "application/octet-stream")),
            )
            .await;
        if reply.ok() {
            // A new file replaces the one kept, whatever its box said.
            posted.remove(&format!("f.{path}.remove"));
            for part in ["name", "media_type", "sha256"] {
                posted.insert(
                    format!("f.{path}.{part}"),
                    vec![reply.json[part].as_str().unwrap_or_default().to_owned()],
                );
            }
        } else {
            problems.entry(path).or_default().push(reply.detail());
        }
    }
    // What a question not asked (its condition does not hold) held is not kept.
    let values = super::conditions::without_unasked(
        a,
        &choice.category,
        &choice.applicant_type,
        read(&fields, &posted, ""),
    );
    let mut filling = Filling {
        choice,
        values,
        problems,
        general: Vec::new(),
        items,
        notice: None,
    };
    if !more.is_empty() {
        *filling.items.entry(more).or_insert(1) += 1;
        return page_(&state, &ctx, &award, &filling, StatusCode::OK).await;
    }
    let application = json!({
        "category": filling.choice.category,
        "applicant_type": filling.choice.applicant_type,
        "fields": filling.values,
    });
    if action == "draft" && !filling.choice.edit.is_empty() {
        // Enter in a field of a submitted application being changed: nothing to save as a
        // draft; the page comes back as typed.
        return page_(&state, &ctx, &award, &filling, StatusCode::OK).await;
    }
    if action == "draft" {
        let reply = api
            .send(
                &ctx,
                axum::http::Method::PUT,
                &format!("/v1/awards/{award}/drafts/mine"),
                &application,
            )
            .await;
        if !reply.ok() {
            return problem(&ctx, &reply);
        }
        filling.notice = Some(ctx.t("apply.draft_saved").to_owned());
        return page_(&state, &ctx, &award, &filling, StatusCode::OK).await;
    }
    if !filling.problems.is_empty() {
        // A file was refused: the rest of the form is checked as submitting would check it
        // (nothing stored), so that every problem shows at once, not one kind at a time.
        let loaded = s.loaded.clone();
        let mut document = application.clone();
        document["id"] = json!("a-form-check");
        let work = crate::server::state::Work::Award {
            id: award.clone(),
            plugins: !loaded.award.plugins.is_empty(),
        };
        let checked = state
            .engine(work, move || {
                laurel::check_applications(&loaded.award, &json!([document]), &loaded.plugins).0
            })
            .await;
        // A refused file keeps its own problem alone (not also "required").
        let refused_files = filling.problems.clone();
        for d in checked
            .into_iter()
            .flatten()
            .filter(|d| d.severity == laurel::Severity::Error)
        {
            let pointer = d.pointer.trim_start_matches("/0").to_owned();
            add_problem(&ctx, &mut filling, &pointer, d.message.clone());
        }
        filling.problems.extend(refused_files);
        return page_(
            &state,
            &ctx,
            &award,
            &filling,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let reply = if filling.choice.edit.is_empty() {
        api.post(
            &ctx,
            &format!("/v1/awards/{award}/applications"),
            &application,
        )
        .await
    } else {
        api.send(
            &ctx,
            axum::http::Method::PUT,
            &format!("/v1/awards/{award}/applications/{}", filling.choice.edit),
            &application,
        )
        .await
    };
    if reply.ok() {
        let id = reply.json["id"].as_str().unwrap_or_default();
        let done = if filling.choice.edit.is_empty() {
            "submitted"
        } else {
            "changed"
        };
        return redirect(&format!("/awards/{award}/applications/{id}?{done}=1"));
    }
    if reply.status != StatusCode::UNPROCESSABLE_ENTITY {
        return problem(&ctx, &reply);
    }
    for (pointer, message) in reply.problems() {
        add_problem(&ctx, &mut filling, &pointer, message);
    }
    page_(
        &state,
        &ctx,
        &award,
        &filling,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Withdraws one's application, with the reason given, once confirmed.
pub async fn withdraw(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, id)): Path<(String, String)>,
    axum::Form(form): axum::Form<WithdrawForm>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, &form.csrf) {
        return *r;
    }
    if form.confirm.is_none() {
        return problem(
            &ctx,
            &super::api::Reply::bad_request(ctx.t("app.withdraw_unconfirmed")),
        );
    }
    let reply = api
        .post(
            &ctx,
            &format!("/v1/awards/{award}/applications/{id}/withdraw"),
            &json!({ "reason": Some(form.reason.trim()).filter(|r| !r.is_empty()) }),
        )
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    redirect(&format!("/awards/{award}/applications/{id}?withdrawn=1"))
}

/// A located problem of the application, put next to its field (or above the form).
fn add_problem(ctx: &Ctx, filling: &mut Filling, pointer: &str, message: String) {
    // A missing property is the parent's problem in JSON Schema; on a form, it belongs next
    // to the empty field, said in the page's language.
    let (pointer, message) = match message
        .strip_prefix("missing required property `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        Some(property) => (
            format!("{pointer}/{property}"),
            ctx.t("form.missing").to_owned(),
        ),
        None => (pointer.to_owned(), message),
    };
    match path_of(&pointer).filter(|p| !p.is_empty()) {
        Some(path) => {
            let said = filling.problems.entry(path).or_default();
            if !said.contains(&message) {
                said.push(message);
            }
        }
        None => filling.general.push(if pointer.is_empty() {
            message
        } else {
            format!("{pointer}: {message}")
        }),
    }
}

/// A text of a rule's message: plain, or by language.
pub(super) fn message(ctx: &Ctx, default: &str, m: &Value) -> String {
    match m {
        Value::String(s) => s.clone(),
        Value::Object(by) => by
            .get(&ctx.lang)
            .or_else(|| by.get(default))
            .or_else(|| by.values().next())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

#[derive(Deserialize)]
pub struct Submitted {
    #[serde(default)]
    submitted: Option<String>,
    #[serde(default)]
    changed: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
}

pub async fn status(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, id)): Path<(String, String)>,
    Query(q): Query<Submitted>,
) -> Response {
    let reply = api
        .get(&ctx, &format!("/v1/awards/{award}/applications/{id}"))
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    let app = &reply.json;
    let award_shown = shown(&state, &award).await;
    let default = award_shown.as_ref().map_or_else(
        || "en".to_owned(),
        |s| s.loaded.award.default_language.clone(),
    );
    let category_id = app["application"]["category"].as_str().unwrap_or_default();
    let category = award_shown
        .as_ref()
        .and_then(|s| {
            s.loaded
                .award
                .category(category_id)
                .map(|c| text(&ctx, &s.loaded, &c.name))
        })
        .unwrap_or_else(|| category_id.to_owned());
    let outcome = api
        .get(
            &ctx,
            &format!("/v1/awards/{award}/applications/{id}/outcome"),
        )
        .await;
    let eligibility = &app["eligibility"];
    page(
        &ctx,
        &super::entries::plain(&id, &super::entries::titles_of(std::slice::from_ref(app))),
        html! {
            h1 { (super::entries::name(&id, &super::entries::titles_of(std::slice::from_ref(app)))) }
            @if q.submitted.is_some() {
                p.notice role="status" { (ctx.t("app.submitted")) }
            }
            @if q.changed.is_some() { p.notice role="status" { (ctx.t("app.changed")) } }
            @if q.withdrawn.is_some() { p.notice role="status" { (ctx.t("app.withdrawn_notice")) } }
            dl.facts {
                dt { (ctx.t("app.status")) } dd { (status_label(&ctx, app["status"].as_str().unwrap_or_default())) }
                dt { (ctx.t("app.category")) } dd { (category) }
                dt { (ctx.t("app.eligibility")) } dd { (eligibility_label(&ctx, app)) }
            }
            @if let Some(failures) = eligibility["failures"].as_array().filter(|f| !f.is_empty()) {
                // An eligible application's failed rules are warnings: notes, not reasons.
                h2 { (ctx.t(if eligibility["status"] == "eligible" { "app.notes" } else { "app.reasons" })) }
                ul {
                    @for f in failures {
                        li { (message(&ctx, &default, &f["message"])) " " span.badge { (f["rule"].as_str().unwrap_or_default()) } }
                    }
                }
            }
            @if let Some(review) = app["review"].as_object() {
                h2 { (ctx.t("app.review")) }
                p { (review.get("reason").and_then(Value::as_str).unwrap_or_default()) }
            }
            h2 { (ctx.t("app.outcome")) }
            @if outcome.ok() && outcome.json["published"] == true {
                p { strong { (status_label(&ctx, outcome.json["outcome"].as_str().unwrap_or_default())) } }
                @if let Some(rounds) = outcome.json["rounds"].as_array() {
                    table {
                        @let scored = rounds.iter().any(|r| !r["score"].is_null());
                        thead { tr { th { (ctx.t("admin.round")) } th { (ctx.t("app.advanced")) } @if scored { th { (ctx.t("app.rank")) } th { (ctx.t("app.score")) } } } }
                        tbody {
                            @for r in rounds {
                                tr {
                                    td { (round_name(&ctx, award_shown.as_ref(), r["round"].as_str().unwrap_or_default())) }
                                    td { (if r["advanced"] == true { ctx.t("form.yes") } else { ctx.t("form.no") }) }
                                    @if scored { td { (readable(&r["rank"])) } td { (readable(&r["score"])) } }
                                }
                            }
                        }
                    }
                }
                @if let Some(by_round) = outcome.json["criterion_comments"].as_object().filter(|c| !c.is_empty()) {
                    h3 { (ctx.t("app.criterion_feedback")) }
                    @for (round, criteria) in by_round {
                        h4 { (round) }
                        dl.facts {
                            @for (criterion, texts) in criteria.as_object().into_iter().flatten() {
                                dt { (criterion) }
                                dd { @for t in texts.as_array().into_iter().flatten() { p { (t.as_str().unwrap_or_default()) } } }
                            }
                        }
                    }
                }
                @if let Some(comments) = outcome.json["comments"].as_object().filter(|c| !c.is_empty()) {
                    h3 { (ctx.t("app.feedback")) }
                    @for (round, texts) in comments {
                        h4 { (round) }
                        ul { @for t in texts.as_array().into_iter().flatten() { li { (t.as_str().unwrap_or_default()) } } }
                    }
                }
            } @else {
                p { (ctx.t("app.not_yet")) }
            }
            // What was sent, as the applicant gave it (the page prints as a record of it).
            @if let Some(s) = &award_shown {
                h2 { (ctx.t("app.what_sent")) }
                @let fields = app["application"]["fields"].as_object().cloned().unwrap_or_default();
                dl.facts {
                    @for (k, v) in &fields {
                        dt { (super::form::label_of(&ctx, &s.loaded.award, category_id, k)) }
                        dd { (super::judge::files_or_value(&super::form::shown_value(&ctx, &s.loaded.award, category_id, k, v))) }
                    }
                }
                @if app["status"] == "submitted" {
                    h2 { (ctx.t("apply.receipt")) }
                    p { a href={ "/awards/" (award) "/applications/" (id) "/receipt" } download { (ctx.t("apply.receipt")) } }
                    p.hint { (ctx.t("apply.receipt_hint")) }
                }
                @if app["status"] == "submitted" && outcome.json["published"] != true {
                    @if super::public::call_open(&state, s) {
                        p { a href={ "/awards/" (award) "/apply?edit=" (id) } { (ctx.t("app.change")) } }
                    }
                    details {
                        summary { (ctx.t("app.withdraw")) }
                        form.stack method="post" action={ "/awards/" (award) "/applications/" (id) "/withdraw" } {
                            (super::layout::csrf_field(&ctx))
                            div.field { label for="w-reason" { (ctx.t("app.withdraw_reason")) } textarea #w-reason name="reason" maxlength="500" {} }
                            label.choice for="w-confirm" { input #w-confirm type="checkbox" name="confirm" value="1" required; (ctx.t("app.withdraw_confirm")) }
                            div.actions { button type="submit" { (ctx.t("app.withdraw_button")) } }
                        }
                    }
                }
            }
        },
    )
}

/// The applicant's signed receipt, to download (the API's, through the page's session).
pub async fn receipt(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, id)): Path<(String, String)>,
) -> Response {
    let reply = api
        .get(
            &ctx,
            &format!("/v1/awards/{award}/applications/{id}/receipt"),
        )
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    let body = serde_json::to_vec_pretty(&reply.json).unwrap_or_default();
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{award}-{id}-receipt.json\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A round's name in the reader's language, its id when the award is not at hand.
fn round_name(ctx: &Ctx, shown: Option<&super::public::Shown>, id: &str) -> String {
    shown
        .and_then(|s| {
            s.loaded
                .award
                .judging_rounds()
                .into_iter()
                .find(|r| r.id.as_str() == id)
                .map(|r| text(ctx, &s.loaded, &r.name))
        })
        .unwrap_or_else(|| id.to_owned())
}
