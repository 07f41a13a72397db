//! The rubric authors' playground: paste or upload a rubric, see every located problem (as it
//! is typed, where script runs; on "Check" everywhere), and the application form it generates,
//! rendered as applicants will see it. The checks are `laurel validate`'s.

use std::collections::BTreeMap;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::json;

use super::Ctx;
use super::form::{Filled, fields_in_scope, render};
use super::layout::page_with;
use crate::server::AppState;
use crate::server::routes::check_rubric;

const EXAMPLE: &str = include_str!("../../../../../tests/valid/minimal.award.json");

fn view(
    ctx: &Ctx,
    source: &str,
    report: Option<&laurel::DefinitionReport>,
    (category, applicant_type): (&str, &str),
) -> Markup {
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
                    (ctx.tf("play.counts", &[("errors", &d.error_count().to_string()), ("warnings", &(d.len() - d.error_count()).to_string())]))
                }
                ol {
                    @for x in d {
                        li {
                            @if let (Some(l), Some(c)) = (x.line, x.column) { strong { (l) ":" (c) } " " }
                            code { (x.pointer) } " " (x.message)
                            @if let Some(h) = &x.hint { br; span.hint { (h) } }
                        }
                    }
                }
            }
            @if let Some(award) = &report.award {
                h2 { (ctx.t("play.preview")) }
                form.stack method="post" action="/playground" enctype="multipart/form-data" {
                    input type="hidden" name="source" value=(source);
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
                    (render(ctx, award, &fields_in_scope(award, category, applicant_type), "", &Filled { values: &json!({}), problems: &BTreeMap::new(), items: &BTreeMap::new() }))
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
        view(&ctx, EXAMPLE, None, ("", "")),
    )
}

pub async fn check(State(state): State<AppState>, ctx: Ctx, mut multipart: Multipart) -> Response {
    let mut parts: BTreeMap<String, String> = BTreeMap::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let text = field.text().await.unwrap_or_default();
        if !text.is_empty() {
            parts.insert(name, text);
        }
    }
    let source = parts
        .get("file")
        .or_else(|| parts.get("source"))
        .cloned()
        .unwrap_or_default();
    let report = match check_rubric(&state, source.clone()).await {
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
    page_with(
        &ctx,
        status,
        ctx.t("play.title"),
        view(
            &ctx,
            &source,
            Some(&report),
            (get("category"), get("applicant_type")),
        ),
    )
}
