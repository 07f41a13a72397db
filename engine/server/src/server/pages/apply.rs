//! Applying: choose the category and applicant type, fill in the form the rubric generates
//! (files uploaded with it), see every problem next to its field; then the application's
//! status, eligibility reasons, and its outcome once results are published.

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::api::Api;
use super::form::{Filled, Posted, fields_in_scope, file_inputs, path_of, read, render};
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
        let (_, closes) = crate::server::domain::awards::window(&s.record, a);
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
            let filled = Filled {
                values,
                problems,
                items,
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
                    div.warning role="alert" {
                        p { strong { (ctx.tf("apply.problems", &[("n", &(general.len() + problems.values().map(Vec::len).sum::<usize>()).to_string())])) } }
                        ul { @for g in general { li { (g) } } }
                    }
                }
                p.hint { (ctx.t("form.required_note")) }
                form.stack method="post" enctype="multipart/form-data" novalidate action={ "/awards/" (award) "/apply" } {
                    (csrf_field(ctx))
                    input type="hidden" name="category" value=(choice.category);
                    input type="hidden" name="applicant_type" value=(choice.applicant_type);
                    (render(ctx, a, &fields, "", &filled))
                    div.actions {
                        button type="submit" name="action" value="submit" { (ctx.t("apply.submit")) }
                        button.secondary type="submit" name="action" value="draft" formnovalidate { (ctx.t("apply.save_draft")) }
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
        filling.notice = Some(ctx.tf(
            "apply.draft_back",
            &[("at", draft.json["saved_at"].as_str().unwrap_or_default())],
        ));
    }
    page_(&state, &ctx, &award, &filling, StatusCode::OK).await
}

/// The largest file a page forwards (the field's own bound is the API's to check).
const FILE_LIMIT: usize = 64 << 20;

pub async fn submit(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let mut posted: Posted = BTreeMap::new();
    let mut files: BTreeMap<String, (String, Bytes)> = BTreeMap::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return problem(&ctx, &super::api::Reply::bad_request(&e.to_string())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(path) = name.strip_prefix("file.") {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let bytes = match field.bytes().await {
                Ok(b) => b,
                Err(e) => return problem(&ctx, &super::api::Reply::bad_request(&e.to_string())),
            };
            if !file_name.is_empty() && !bytes.is_empty() && bytes.len() <= FILE_LIMIT {
                files.insert(path.to_owned(), (file_name, bytes));
            }
            continue;
        }
        let value = field.text().await.unwrap_or_default();
        posted.entry(name).or_default().push(value);
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
    let values = read(&fields, &posted, "");
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
        return page_(
            &state,
            &ctx,
            &award,
            &filling,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let reply = api
        .post(
            &ctx,
            &format!("/v1/awards/{award}/applications"),
            &application,
        )
        .await;
    if reply.ok() {
        let id = reply.json["id"].as_str().unwrap_or_default();
        return redirect(&format!("/awards/{award}/applications/{id}?submitted=1"));
    }
    if reply.status != StatusCode::UNPROCESSABLE_ENTITY {
        return problem(&ctx, &reply);
    }
    for (pointer, message) in reply.problems() {
        // A missing property is the parent's problem in JSON Schema; on a form, it belongs
        // next to the empty field, said in the page's language.
        let (pointer, message) = match message
            .strip_prefix("missing required property `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            Some(property) => (
                format!("{pointer}/{property}"),
                ctx.t("form.missing").to_owned(),
            ),
            None => (pointer, message),
        };
        match path_of(&pointer).filter(|p| !p.is_empty()) {
            Some(path) => filling.problems.entry(path).or_default().push(message),
            None => filling.general.push(if pointer.is_empty() {
                message
            } else {
                format!("{pointer}: {message}")
            }),
        }
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
                                    td { (r["round"].as_str().unwrap_or_default()) }
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
        },
    )
}
