//! The committee's special mentions: those given, by name, on the dashboard; on their own
//! page, the entries that may receive one, each chosen with its reason, the committee's choice
//! confirmed before it is recorded (`PUT …/special-mentions`).

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::Path;
use axum::http::Method;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::Ctx;
use super::api::Api;
use super::layout::{check_csrf, csrf_field, page, problem, redirect};
use super::public::{Shown, text};
use crate::server::state::AppState;

/// The given mentions, by name, on the dashboard, with the way to the committee's choice.
pub fn section(
    ctx: &Ctx,
    award: &str,
    s: &Shown,
    titles: &BTreeMap<String, String>,
    given: &Value,
) -> Markup {
    let Some(spec) = &s.loaded.award.special_mentions else {
        return html! {};
    };
    let given = given_of(given);
    html! {
        h3 #h-mentions { (text(ctx, &s.loaded, &spec.name)) }
        @if let Some(d) = &spec.description { p { (text(ctx, &s.loaded, d)) } }
        p { (ctx.tf("mentions.at_most", &[("max", &spec.max.to_string()), ("given", &given.len().to_string())])) }
        @if !given.is_empty() {
            ul { @for (id, why) in &given { li { (super::entries::name(id, titles)) ": " (why) } } }
        }
        p { a href={ "/awards/" (award) "/admin/mentions" } { (ctx.t("mentions.choose")) } }
    }
}

/// The mentions given: reason by entry.
fn given_of(given: &Value) -> BTreeMap<&str, &str> {
    given
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some((
                m["application"].as_str()?,
                m["reason"].as_str().unwrap_or_default(),
            ))
        })
        .collect()
}

/// The committee's choice on its own page: every entry that may receive a mention (a
/// submitted one, of the categories the award names), each with its reason, confirmed before
/// it is recorded.
pub async fn page_for(
    axum::extract::State(state): axum::extract::State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
) -> Response {
    let (apps, s) = match super::public::with_entries(&state, &api, &ctx, &award).await {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let Some(spec) = &s.loaded.award.special_mentions else {
        return redirect(&format!("/awards/{award}/admin"));
    };
    let record = api.get(&ctx, &format!("/v1/awards/{award}")).await;
    let given = given_of(&record.json["special_mentions"]);
    let titles = super::entries::titles_of(&apps);
    let candidates: Vec<&Value> = apps
        .iter()
        .filter(|x| x["status"] == "submitted")
        .filter(|x| {
            let category = x["application"]["category"].as_str().unwrap_or_default();
            spec.from_categories.is_empty()
                || spec.from_categories.iter().any(|c| c.as_str() == category)
        })
        .collect();
    let name = text(&ctx, &s.loaded, &spec.name);
    page(
        &ctx,
        &format!("{name} — {}", text(&ctx, &s.loaded, &s.loaded.award.name)),
        html! {
            h1 #h-mentions { (name) }
            p { a href={ "/awards/" (award) "/admin#h-results" } { (ctx.t("admin.back")) } }
            @if let Some(d) = &spec.description { p { (text(&ctx, &s.loaded, d)) } }
            p { (ctx.tf("mentions.at_most", &[("max", &spec.max.to_string()), ("given", &given.len().to_string())])) }
            form.stack method="post" action={ "/awards/" (award) "/admin/mentions" } {
                (csrf_field(&ctx))
                @for x in &candidates {
                    @let id = x["id"].as_str().unwrap_or_default();
                    fieldset {
                        legend { (super::entries::name(id, &titles)) }
                        label.choice for={ "mention-" (id) } {
                            input type="checkbox" id={ "mention-" (id) } name={ "mention." (id) } value="1" checked[given.contains_key(id)];
                            (ctx.t("mentions.give"))
                        }
                        label for={ "mention-why-" (id) } { (ctx.t("admin.reason")) }
                        input type="text" id={ "mention-why-" (id) } name={ "why." (id) } value=(given.get(id).copied().unwrap_or_default());
                    }
                }
                label.choice for="mentions-confirm" {
                    input #mentions-confirm type="checkbox" name="confirm" value="1" required;
                    (ctx.t("mentions.confirm"))
                }
                div.actions { button type="submit" { (ctx.t("mentions.record")) } }
            }
        },
    )
}

/// Records the committee's special mentions: every chosen entry with its reason.
pub async fn record(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    axum::Form(form): axum::Form<BTreeMap<String, String>>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, form.get("csrf").map_or("", String::as_str)) {
        return *r;
    }
    if !form.contains_key("confirm") {
        return problem(
            &ctx,
            &super::api::Reply::bad_request(ctx.t("mentions.unconfirmed")),
        );
    }
    let mut missing = Vec::new();
    let mentions: Vec<Value> = form
        .keys()
        .filter_map(|k| k.strip_prefix("mention."))
        .map(|app| {
            let reason = form.get(&format!("why.{app}")).map_or("", |r| r.trim());
            if reason.is_empty() {
                missing.push(app.to_owned());
            }
            json!({ "application": app, "reason": reason })
        })
        .collect();
    if !missing.is_empty() {
        return problem(
            &ctx,
            &super::api::Reply::bad_request(&ctx.tf(
                "mentions.reason_needed",
                &[("entries", &missing.join(", "))],
            )),
        );
    }
    let reply = api
        .send(
            &ctx,
            Method::PUT,
            &format!("/v1/awards/{award}/special-mentions"),
            &json!(mentions),
        )
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    redirect(&format!("/awards/{award}/admin?done=mentions#h-results"))
}
