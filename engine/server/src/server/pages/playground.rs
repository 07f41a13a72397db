//! The rubric authors' playground: paste or upload a rubric, see every located problem (as it
//! is typed, where script runs; on "Check" everywhere), and the application form it generates,
//! rendered as applicants will see it. The checks are `laurel validate`'s.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Multipart, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::json;

use super::Ctx;
use super::api::{Api, Reply};
use super::form::{Filled, fields_in_scope, render};
use super::layout::{check_csrf, marked, page_with, problem, redirect};
use crate::server::domain::awards::{SentFiles, check_with_files};
use crate::server::state::AppState;

const EXAMPLE: &str = include_str!("../../../../../tests/valid/minimal.award.json");

/// Sample applications and marks for the example rubric.
const SAMPLE_APPLICATIONS: &str = r#"[
  { "id": "lyon", "category": "innovation", "applicant_type": "city", "fields": { "population": 520000 } },
  { "id": "nantes", "category": "innovation", "applicant_type": "city", "fields": { "population": 320000 } },
  { "id": "sete", "category": "innovation", "applicant_type": "city", "fields": { "population": 800 } }
]"#;
const SAMPLE_MARKS: &str = r#"{ "evaluations": [
  { "judge": "ana", "application": "lyon", "marks": { "novelty": 8, "fit": 7, "reach": 9 } },
  { "judge": "ana", "application": "nantes", "marks": { "novelty": 6, "fit": 8, "reach": 5 } },
  { "judge": "ben", "application": "lyon", "marks": { "novelty": 7, "fit": 7.5, "reach": 8 } },
  { "judge": "ben", "application": "nantes", "marks": { "novelty": 7, "fit": 6, "reach": 6 } },
  { "judge": "chloe", "application": "lyon", "marks": { "novelty": 9, "fit": 8, "reach": 8.5 } },
  { "judge": "chloe", "application": "nantes", "marks": { "novelty": 5, "fit": 6, "reach": 7 } }
] }"#;

/// What scoring the sample gave: the results as JSON, or the problems, located.
type Scored = Result<serde_json::Value, Vec<laurel::Diagnostic>>;

/// Scores `applications` and `marks` (JSON texts) with a checked award: nothing is stored.
fn score(award: &laurel::Award, files: &SentFiles, applications: &str, marks: &str) -> Scored {
    let problem = |pointer: &str, e: &dyn std::fmt::Display| {
        vec![laurel::Diagnostic::error(
            laurel::Code::Schema,
            pointer,
            e.to_string(),
        )]
    };
    let apps: serde_json::Value =
        serde_json::from_str(applications).map_err(|e| problem("/applications", &e))?;
    let marks: laurel::Marks = serde_json::from_str(marks).map_err(|e| problem("/marks", &e))?;
    let by_path: BTreeMap<String, Vec<u8>> = award
        .plugins
        .iter()
        .filter_map(|p| Some((p.path.clone(), files.find(&p.path)?.clone())))
        .collect();
    let plugins =
        laurel::load_plugins(award, &by_path).map_err(|d| d.into_iter().collect::<Vec<_>>())?;
    let (diagnostics, checked) = laurel::check_applications(award, &apps, &plugins);
    let Some(checked) = checked else {
        return Err(diagnostics.into_iter().collect());
    };
    let results = laurel::evaluate(award, &checked, &marks, &plugins).map_err(|e| {
        e.applications
            .into_iter()
            .chain(e.marks)
            .collect::<Vec<_>>()
    })?;
    serde_json::to_value(&results).map_err(|e| problem("", &e))
}

fn scored_view(ctx: &Ctx, scored: &Scored) -> Markup {
    html! {
        h3 { (ctx.t("play.scored")) }
        @match scored {
            Err(problems) => {
                p.warning role="status" { (ctx.t("play.score_problems")) }
                ol { @for d in problems { li { code { (d.pointer) } " " (marked(&d.message)) } } }
            }
            Ok(results) => {
                @for w in results["warnings"].as_array().into_iter().flatten() {
                    p.warning { (marked(w.as_str().unwrap_or_default())) }
                }
                @for c in results["categories"].as_array().into_iter().flatten() {
                    h4 { (c["category"].as_str().unwrap_or_default()) }
                    table {
                        thead { tr { th { (ctx.t("app.rank")) } th { (ctx.t("app.id")) } th { (ctx.t("app.score")) } } }
                        tbody {
                            @for r in c["ranking"].as_array().into_iter().flatten() {
                                tr { td { (super::layout::readable(&r["rank"])) } td { (super::layout::readable(&r["application"])) } td { (super::layout::readable(&r["score"])) } }
                            }
                        }
                    }
                }
                @for e in results["eligibility"].as_array().into_iter().flatten().filter(|e| e["status"] != "eligible") {
                    p { (super::layout::readable(&e["application"])) ": " (super::apply::status_label(ctx, e["status"].as_str().unwrap_or_default())) }
                }
            }
        }
    }
}

/// What the page shows below the rubric.
struct Checked<'a> {
    report: &'a laurel::DefinitionReport,
    choice: (&'a str, &'a str),
    sample: (&'a str, &'a str),
    scored: Option<&'a Scored>,
    /// The plugin files sent, carried from form to form.
    files: &'a SentFiles,
}

/// The plugin files sent so far, as hidden fields every form of the page sends again.
fn carried(files: &SentFiles) -> Markup {
    use base64::Engine as _;
    html! {
        @for (name, bytes) in &files.0 {
            input type="hidden" name={ "carried." (name) } value=(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
    }
}

fn view(ctx: &Ctx, source: &str, checked: Option<&Checked<'_>>) -> Markup {
    let report = checked.map(|c| c.report);
    let (category, applicant_type) = checked.map_or(("", ""), |c| c.choice);
    html! {
        h1 { (ctx.t("play.title")) }
        p { (ctx.t("play.intro")) }
        form.stack method="post" action="/playground" enctype="multipart/form-data" {
            div.field {
                label for="rubric-source" { (ctx.t("play.source")) }
                textarea #rubric-source name="source" rows="18" spellcheck="false" aria-describedby="live-problems" { (source) }
            }
            div.field {
                label for="rubric-file" { (ctx.t("play.upload")) }
                input #rubric-file type="file" name="file" accept="application/json,.json";
            }
            div.field {
                label for="plugin-files" { (ctx.t("play.plugins")) }
                p.help id="plugin-files-help" { (ctx.t("play.plugins_help")) }
                input #plugin-files type="file" name="plugins" multiple aria-describedby="plugin-files-help";
                @if let Some(c) = checked.filter(|c| !c.files.0.is_empty()) {
                    p { (ctx.t("play.plugins_sent")) " " (c.files.0.keys().cloned().collect::<Vec<_>>().join(", ")) }
                    (carried(c.files))
                }
            }
            div.actions { button type="submit" { (ctx.t("play.check")) } }
            div #live-problems aria-live="polite" data-none=(ctx.t("play.valid")) data-some=(ctx.t("play.problems")) {}
        }
        @if let Some(report) = report {
            @let d = &report.diagnostics;
            h2 { (ctx.t("play.report")) }
            @if d.is_empty() {
                p.notice role="status" { (ctx.t("play.valid")) }
            } @else {
                p class=(if d.has_errors() { "warning" } else { "notice" }) role="status" {
                    (ctx.tf("play.counts", &[("errors", &ctx.count(d.error_count(), "play.errors.one", "play.errors")), ("warnings", &ctx.count(d.len() - d.error_count(), "play.warnings.one", "play.warnings"))]))
                }
                ol {
                    @for x in d {
                        li {
                            @if let (Some(l), Some(c)) = (x.line, x.column) { strong { (l) ":" (c) } " " }
                            code { (x.pointer) } " " (marked(&x.message))
                            @if let Some(h) = &x.hint { br; span.hint { (marked(h)) } }
                        }
                    }
                }
            }
            @if let Some(award) = &report.award {
                h2 { (ctx.t("play.preview")) }
                form.stack method="post" action="/playground" enctype="multipart/form-data" {
                    input type="hidden" name="source" value=(source);
                    @if let Some(c) = checked { (carried(c.files)) }
                    div.field {
                        label for="pv-type" { (ctx.t("apply.applicant_type")) }
                        select #pv-type name="applicant_type" {
                            @for t in &award.applicant_types {
                                option value=(t.id.as_str()) selected[t.id.as_str() == applicant_type] { (t.name.get(&ctx.lang, &award.default_language)) }
                            }
                        }
                    }
                    div.field {
                        label for="pv-category" { (ctx.t("apply.category")) }
                        select #pv-category name="category" {
                            @for c in &award.categories {
                                option value=(c.id.as_str()) selected[c.id.as_str() == category] { (c.name.get(&ctx.lang, &award.default_language)) }
                            }
                        }
                    }
                    div.actions { button.secondary type="submit" { (ctx.t("play.show_form")) } }
                }
                @let category = if category.is_empty() { award.categories.first().map(|c| c.id.as_str()).unwrap_or_default() } else { category };
                @let applicant_type = if applicant_type.is_empty() { award.applicant_types.first().map(|t| t.id.as_str()).unwrap_or_default() } else { applicant_type };
                section.preview aria-label=(ctx.t("play.preview")) {
                    (render(ctx, award, &fields_in_scope(award, category, applicant_type), "", &Filled { values: &json!({}), problems: &BTreeMap::new(), items: &BTreeMap::new(), required: &super::form::required_by(award, applicant_type) }))
                }
                @if let Some(c) = checked {
                    h2 { (ctx.t("play.try")) }
                    p { (ctx.t("play.try_intro")) }
                    form.stack method="post" action="/playground" enctype="multipart/form-data" {
                        input type="hidden" name="source" value=(source);
                        (carried(c.files))
                        div.field {
                            label for="try-apps" { (ctx.t("play.applications")) }
                            textarea #try-apps name="applications" rows="8" spellcheck="false" { (c.sample.0) }
                        }
                        div.field {
                            label for="try-marks" { (ctx.t("play.marks")) }
                            textarea #try-marks name="marks" rows="10" spellcheck="false" { (c.sample.1) }
                        }
                        div.actions { button type="submit" { (ctx.t("play.score")) } }
                    }
                    @if let Some(scored) = c.scored { (scored_view(ctx, scored)) }
                    @if may_create_calls(ctx) {
                        h2 { (ctx.t("play.to_call")) }
                        p { (ctx.t("play.to_call_help")) }
                        form.stack method="post" action="/playground/call" enctype="multipart/form-data" {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            input type="hidden" name="source" value=(source);
                            (carried(c.files))
                            div.actions { button type="submit" { (ctx.t("play.create_call")) } }
                        }
                    }
                }
            }
        }
    }
}

pub async fn page(ctx: Ctx) -> Response {
    page_with(
        &ctx,
        StatusCode::OK,
        ctx.t("play.title"),
        view(&ctx, EXAMPLE, None),
    )
}

/// Whether the visitor may turn a rubric into a call: an administrator of every award.
fn may_create_calls(ctx: &Ctx) -> bool {
    ctx.person.as_ref().is_some_and(|p| {
        p.grants
            .iter()
            .any(|g| g.role == crate::server::records::Role::Admin && g.award.is_none())
    })
}

/// A playground form as sent: its text fields and its plugin files (sent now, or carried).
async fn read_form(
    ctx: &Ctx,
    multipart: &mut Multipart,
) -> Result<(BTreeMap<String, String>, SentFiles), Box<Reply>> {
    use base64::Engine as _;
    let mut parts: BTreeMap<String, String> = BTreeMap::new();
    let mut files = BTreeMap::new();
    for part in super::multipart::read(multipart).await? {
        if part.bytes.is_empty() {
            continue;
        }
        if part.name == "plugins" {
            if let Some(f) = part.file_name.filter(|f| !f.is_empty()) {
                files.insert(f, part.bytes.to_vec());
            }
        } else if let Some(f) = part.name.strip_prefix("carried.") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(&part.bytes)
                .map_err(|_| {
                    Box::new(Reply::bad_request(
                        &ctx.tf("form.not_text", &[("field", part.name.as_str())]),
                    ))
                })?;
            files.entry(f.to_owned()).or_insert(decoded);
        } else {
            let text = part.text(ctx)?;
            parts.insert(part.name, text);
        }
    }
    Ok((parts, SentFiles(files)))
}

pub async fn check(State(state): State<AppState>, ctx: Ctx, mut multipart: Multipart) -> Response {
    let (parts, files) = match read_form(&ctx, &mut multipart).await {
        Ok(read) => read,
        Err(reply) => return problem(&ctx, &reply),
    };
    let source = parts
        .get("file")
        .or_else(|| parts.get("source"))
        .cloned()
        .unwrap_or_default();
    let report = match check_with_files(&state, source.clone(), SentFiles(files.0.clone())).await {
        Ok(r) => r,
        Err(_) => {
            return page_with(
                &ctx,
                StatusCode::SERVICE_UNAVAILABLE,
                ctx.t("play.title"),
                html! { h1 { (ctx.t("play.title")) } p.problem { (ctx.t("problem.other")) } },
            );
        }
    };
    let status = if report.diagnostics.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let get = |k: &str| parts.get(k).map_or("", String::as_str);
    let sample = if parts.contains_key("applications") {
        (get("applications"), get("marks"))
    } else {
        (SAMPLE_APPLICATIONS, SAMPLE_MARKS)
    };
    // Scoring runs plugins' hooks: on a plugin thread, like every scoring.
    let scored = match (&report.award, parts.contains_key("applications")) {
        (Some(award), true) => {
            let (award, apps, marks) = (award.clone(), sample.0.to_owned(), sample.1.to_owned());
            let sent = SentFiles(files.0.clone());
            state
                .engine(crate::server::state::Work::Anonymous, move || {
                    score(&award, &sent, &apps, &marks)
                })
                .await
                .ok()
        }
        _ => None,
    };
    let checked = Checked {
        report: &report,
        choice: (get("category"), get("applicant_type")),
        sample,
        scored: scored.as_ref(),
        files: &files,
    };
    page_with(
        &ctx,
        status,
        ctx.t("play.title"),
        view(&ctx, &source, Some(&checked)),
    )
}

/// Turns a checked rubric into a new award: its plugin files stored, the definition created
/// and published as version 1, not yet open; the administrator lands on its dashboard.
pub async fn create_call(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    mut multipart: Multipart,
) -> Response {
    let (parts, files) = match read_form(&ctx, &mut multipart).await {
        Ok(read) => read,
        Err(reply) => return problem(&ctx, &reply),
    };
    if let Err(r) = check_csrf(&ctx, parts.get("csrf").map_or("", String::as_str)) {
        return *r;
    }
    let source = parts.get("source").cloned().unwrap_or_default();
    let Ok(definition) = laurel::parse_definition(&source) else {
        return problem(&ctx, &Reply::bad_request(ctx.t("play.fix_first")));
    };
    for plugin in &definition.plugins {
        let Some(bytes) = files.find(&plugin.path) else {
            return problem(
                &ctx,
                &Reply::bad_request(&ctx.tf("play.plugin_missing", &[("path", &plugin.path)])),
            );
        };
        let sha = {
            use sha2::Digest as _;
            hex::encode(sha2::Sha256::digest(bytes))
        };
        let stored = api
            .call(
                &ctx,
                Method::PUT,
                &format!("/v1/files/{sha}"),
                Some((
                    axum::body::Bytes::from(bytes.clone()),
                    "application/octet-stream",
                )),
            )
            .await;
        if !stored.ok() {
            return problem(&ctx, &stored);
        }
    }
    let created = api
        .call(
            &ctx,
            Method::POST,
            "/v1/awards",
            Some((axum::body::Bytes::from(source), "application/json")),
        )
        .await;
    if !created.ok() {
        return problem(&ctx, &created);
    }
    let id = created.json["id"].as_str().unwrap_or_default().to_owned();
    let published = api
        .post(&ctx, &format!("/v1/awards/{id}/publish"), &json!({}))
        .await;
    if !published.ok() {
        return problem(&ctx, &published);
    }
    redirect(&format!("/awards/{id}/admin?done=created"))
}
