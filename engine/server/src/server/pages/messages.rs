//! An award's communications in the pages: a message to applicants (filtered by eligibility
//! and category), to applicants who have a draft, or to judges, previewed with its recipients
//! counted before it is sent; and the award's own text for each kind of mail and language,
//! previewed with sample values before it is saved. Both through the API.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::Ctx;
use super::api::Api;
use super::layout::{check_csrf, csrf_field, page_with, problem, redirect};
use super::public::{Shown, shown, text};
use crate::server::state::AppState;
use crate::server::templates::{COMMON_FIELDS, KINDS, MailTemplate, fields_of};

#[derive(Deserialize, Default, Clone)]
pub struct Message {
    #[serde(default)]
    to: String,
    #[serde(default)]
    eligibility: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    done: Option<String>,
}

/// What the page shows back: a preview, or the API's problems.
#[derive(Default)]
struct Typed {
    message: Message,
    preview: Option<(usize, String, Vec<String>)>,
    problems: Vec<(String, String)>,
    /// The kind and language of a mail text being previewed or refused, with its text.
    template: Option<(String, String, MailTemplate)>,
}

fn merge_help(ctx: &Ctx, kind: &str) -> String {
    let fields: Vec<String> = COMMON_FIELDS
        .iter()
        .chain(fields_of(kind))
        .map(|f| format!("{{{f}}}"))
        .collect();
    ctx.tf("messages.fields", &[("fields", &fields.join(" "))])
}

/// Sample values for a preview, in the reader's words.
fn samples(ctx: &Ctx, s: &Shown, person: &str) -> BTreeMap<&'static str, String> {
    let (_, closes) = s.record.window(&s.loaded.award);
    BTreeMap::from([
        ("name", person.to_owned()),
        ("award", text(ctx, &s.loaded, &s.loaded.award.name)),
        ("link", "https://…/me".to_owned()),
        (
            "closes",
            laurel::show_instant(closes.fixed_offset(), &s.loaded.award.timeline.time_zone),
        ),
        ("entry", ctx.t("messages.sample_entry").to_owned()),
        ("status", ctx.t("status.eligible").to_owned()),
        ("outcome", ctx.t("status.winner").to_owned()),
        ("round", ctx.t("messages.sample_round").to_owned()),
        ("count", "12".to_owned()),
    ])
}

fn preview_box(ctx: &Ctx, subject: &str, paragraphs: &[String]) -> Markup {
    html! {
        div.preview role="status" {
            p { strong { (ctx.t("messages.subject")) ": " } (subject) }
            @for p in paragraphs { p { (p) } }
        }
    }
}

pub async fn page_for(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    Query(m): Query<Message>,
) -> Response {
    let done = m.done.clone();
    let mut message = m;
    if message.to == "drafts" && message.subject.is_empty() {
        message.subject = ctx.t("messages.draft_subject").to_owned();
        message.body = ctx.t("messages.draft_body").to_owned();
    }
    render(
        &state,
        &api,
        &ctx,
        &award,
        Typed {
            message,
            ..Typed::default()
        },
        done.as_deref(),
        StatusCode::OK,
    )
    .await
}

async fn render(
    state: &AppState,
    api: &Api,
    ctx: &Ctx,
    award: &str,
    view: Typed,
    done: Option<&str>,
    status: StatusCode,
) -> Response {
    if ctx.person.is_none() {
        return redirect("/sign-in");
    }
    // The award as its administrators read it: who may not is refused here.
    let record = api.get(ctx, &format!("/v1/awards/{award}")).await;
    if !record.ok() {
        return problem(ctx, &record);
    }
    if !may_admin(ctx, award) {
        let refused = super::api::Reply {
            status: StatusCode::FORBIDDEN,
            json: json!({ "detail": ctx.t("messages.admins_only") }),
            headers: axum::http::HeaderMap::new(),
        };
        return problem(ctx, &refused);
    }
    let Some(s) = shown(state, award).await else {
        return redirect("/");
    };
    let a = &s.loaded.award;
    let m = &view.message;
    let written: BTreeMap<String, BTreeMap<String, MailTemplate>> =
        serde_json::from_value(record.json["templates"].clone()).unwrap_or_default();
    let name = text(ctx, &s.loaded, &a.name);
    let audiences = [
        ("applicants", "messages.to_applicants"),
        ("drafts", "messages.to_drafts"),
        ("judges", "messages.to_judges"),
    ];
    let states = [
        "eligible",
        "needs_review",
        "admitted",
        "not_admitted",
        "ineligible",
    ];
    page_with(
        ctx,
        status,
        &format!("{name} — {}", ctx.t("messages.title")),
        html! {
            h1 { (name) " — " (ctx.t("messages.title")) }
            @if let Some(d) = done { p.notice role="status" { (super::layout::done_text(ctx, d)) } }
            p { a href={ "/awards/" (award) "/admin" } { (ctx.t("admin.back")) } }
            @if !view.problems.is_empty() {
                div.problem role="alert" { ul { @for (pointer, message) in &view.problems { li { (field_name(ctx, pointer)) ": " (message) } } } }
            }
            h2 #write { (ctx.t("messages.write")) }
            form.stack method="post" action={ "/awards/" (award) "/admin/messages" } {
                (csrf_field(ctx))
                div.field { label for="m-to" { (ctx.t("messages.to")) }
                    select #m-to name="to" { @for (v, k) in audiences { option value=(v) selected[m.to == v] { (ctx.t(k)) } } } }
                div.filters {
                    div.field { label for="m-eligibility" { (ctx.t("app.eligibility")) }
                        select #m-eligibility name="eligibility" { option value="" { (ctx.t("entries.any")) }
                            @for st in states { option value=(st) selected[m.eligibility == st] { (super::apply::status_label(ctx, st)) } } } }
                    div.field { label for="m-category" { (ctx.t("app.category")) }
                        select #m-category name="category" { option value="" { (ctx.t("entries.any")) }
                            @for c in &a.categories { option value=(c.id.as_str()) selected[m.category == c.id.as_str()] { (text(ctx, &s.loaded, &c.name)) } } } }
                }
                p.help { (ctx.t("messages.filters_help")) }
                div.field { label for="m-subject" { (ctx.t("messages.subject")) } input #m-subject type="text" name="subject" value=(m.subject) required; }
                div.field { label for="m-body" { (ctx.t("messages.body")) }
                    p.help id="m-body-help" { (merge_help(ctx, "message")) }
                    textarea #m-body name="body" rows="8" required aria-describedby="m-body-help" { (m.body) } }
                @if let Some((n, subject, paragraphs)) = &view.preview {
                    h3 { (ctx.tf("messages.preview_count", &[("n", &n.to_string())])) }
                    (preview_box(ctx, subject, paragraphs))
                }
                div.actions {
                    button.secondary type="submit" name="action" value="preview" { (ctx.t("messages.preview")) }
                    button type="submit" name="action" value="send" { (ctx.t("messages.send")) }
                }
            }
            h2 #texts { (ctx.t("messages.texts")) }
            p { (ctx.t("messages.texts_help")) }
            @for kind in KINDS {
                @for lang in &a.languages {
                    @let custom = written.get(*kind).and_then(|by| by.get(lang));
                    @let typed = view.template.as_ref().filter(|(k, l, _)| k == kind && l == lang).map(|(_, _, t)| t);
                    @let current = typed.or(custom);
                    details open[typed.is_some()] {
                        summary { (ctx.t(&format!("messages.kind.{kind}"))) " · " (super::i18n::language_name(ctx, lang)) " · "
                            @if custom.is_some() { (ctx.t("messages.own_text")) } @else { (ctx.t("messages.laurel_text")) } }
                        form.stack method="post" action={ "/awards/" (award) "/admin/messages/texts" } {
                            (csrf_field(ctx))
                            input type="hidden" name="kind" value=(kind);
                            input type="hidden" name="language" value=(lang);
                            @let id = format!("{kind}-{lang}");
                            div.field { label for={ "t-subject-" (id) } { (ctx.t("messages.subject")) }
                                input id={ "t-subject-" (id) } type="text" name="subject" value=(current.map_or("", |t| t.subject.as_str())); }
                            div.field { label for={ "t-body-" (id) } { (ctx.t("messages.body")) }
                                p.help id={ "t-help-" (id) } { (merge_help(ctx, kind)) " " (ctx.t("messages.empty_resets")) }
                                textarea id={ "t-body-" (id) } name="body" rows="6" aria-describedby={ "t-help-" (id) } { (current.map_or("", |t| t.body.as_str())) } }
                            @if let (Some(t), true) = (typed, view.problems.is_empty()) {
                                @let values = samples(ctx, &s, &ctx.person.as_ref().map_or_else(String::new, |p| state.sealer.open_text(&p.name)));
                                @let (subject, paragraphs) = crate::server::notices::filled(t, &values);
                                (preview_box(ctx, &subject, &paragraphs))
                            }
                            div.actions {
                                button.secondary type="submit" name="action" value="preview" { (ctx.t("messages.preview")) }
                                button type="submit" name="action" value="save" { (ctx.t("messages.save")) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// Whether the signed-in person administers `award` (or every award).
fn may_admin(ctx: &Ctx, award: &str) -> bool {
    ctx.person.as_ref().is_some_and(|p| {
        p.grants.iter().any(|g| {
            g.role == crate::server::records::Role::Admin
                && g.award.as_deref().is_none_or(|a| a == award)
        })
    })
}

fn field_name(ctx: &Ctx, pointer: &str) -> String {
    match pointer {
        "/subject" => ctx.t("messages.subject").to_owned(),
        "/body" => ctx.t("messages.body").to_owned(),
        other => other.trim_start_matches('/').to_owned(),
    }
}

/// Previews (recipients counted, text filled for the first) or sends a message.
pub async fn send(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    axum::Form(form): axum::Form<BTreeMap<String, String>>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, form.get("csrf").map_or("", String::as_str)) {
        return *r;
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let message = Message {
        to: get("to"),
        eligibility: get("eligibility"),
        category: get("category"),
        subject: get("subject"),
        body: get("body"),
        done: None,
    };
    let preview = get("action") != "send";
    let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    let reply = api
        .post(
            &ctx,
            &format!("/v1/awards/{award}/messages"),
            &json!({ "to": message.to, "eligibility": some(&message.eligibility), "category": some(&message.category),
                     "subject": message.subject, "body": message.body, "dry_run": preview }),
        )
        .await;
    if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
        let problems = reply.problems();
        return render(
            &state,
            &api,
            &ctx,
            &award,
            Typed {
                message,
                problems,
                ..Typed::default()
            },
            None,
            reply.status,
        )
        .await;
    }
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    let n = reply.json["recipients"].as_u64().unwrap_or_default() as usize;
    if preview {
        let Some(s) = shown(&state, &award).await else {
            return redirect("/");
        };
        let values = samples(
            &ctx,
            &s,
            &ctx.person
                .as_ref()
                .map_or_else(String::new, |p| state.sealer.open_text(&p.name)),
        );
        let (subject, paragraphs) = crate::server::notices::filled(
            &MailTemplate {
                subject: message.subject.clone(),
                body: message.body.clone(),
            },
            &values,
        );
        let typed = Typed {
            message,
            preview: Some((n, subject, paragraphs)),
            ..Typed::default()
        };
        return render(&state, &api, &ctx, &award, typed, None, StatusCode::OK).await;
    }
    redirect(&format!(
        "/awards/{award}/admin/messages?done={}",
        if n == 0 {
            "message_nobody"
        } else {
            "message_sent"
        }
    ))
}

/// Previews or saves an award's text for one kind of mail and language.
pub async fn save_text(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    axum::Form(form): axum::Form<BTreeMap<String, String>>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, form.get("csrf").map_or("", String::as_str)) {
        return *r;
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (kind, language) = (get("kind"), get("language"));
    let written = MailTemplate {
        subject: get("subject"),
        body: get("body"),
    };
    if get("action") != "save" {
        // A preview checks the merge fields as saving would, without saving.
        let mut problems: Vec<(String, String)> = Vec::new();
        for (pointer, t) in [("/subject", &written.subject), ("/body", &written.body)] {
            for f in crate::server::templates::unknown_fields(&kind, t) {
                problems.push((
                    pointer.to_owned(),
                    ctx.tf("messages.unknown_field", &[("field", &format!("{{{f}}}"))]),
                ));
            }
        }
        let status = if problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let typed = Typed {
            template: Some((kind, language, written)),
            problems,
            ..Typed::default()
        };
        return render(&state, &api, &ctx, &award, typed, None, status).await;
    }
    let reply = api
        .send(
            &ctx,
            Method::PUT,
            &format!("/v1/awards/{award}/templates/{kind}"),
            &json!({ "language": language, "subject": written.subject, "body": written.body }),
        )
        .await;
    if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
        let typed = Typed {
            template: Some((kind, language, written)),
            problems: reply.problems(),
            ..Typed::default()
        };
        return render(&state, &api, &ctx, &award, typed, None, reply.status).await;
    }
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    redirect(&format!(
        "/awards/{award}/admin/messages?done=text_saved#texts"
    ))
}
