//! Every entry of an award for its administrators: searched by name or id, filtered by
//! category, status and eligibility, sorted, and reviewed in bulk (admit or refuse the chosen
//! entries that wait for a review, with one reason), each change through the API.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::api::Api;
use super::apply::{eligibility_label, status_label};
use super::layout::{check_csrf, csrf_field, page, problem, redirect, when_in};
use super::public::text;
use crate::server::state::AppState;

#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    eligibility: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    done: Option<String>,
    /// The id after which the page starts (id order, no search: one page at a time).
    #[serde(default)]
    after: String,
}

/// How many entries a page lists in id order.
const PAGE: usize = 100;

/// The entries the filter asks for, and the whole list's size: in id order without a search,
/// one page read through the API's paging (and the count kept by the store); with a search or
/// another order, every entry, searched and sorted here. The link to the next page, if any.
async fn entries_for(
    api: &Api,
    ctx: &Ctx,
    award: &str,
    f: &Filter,
) -> Result<(Vec<Value>, u64, Option<String>), super::api::Reply> {
    if !f.q.trim().is_empty() || !f.sort.is_empty() {
        let apps = api.applications(ctx, award).await?;
        let n = apps.len() as u64;
        return Ok((apps, n, None));
    }
    let counts = api.get(ctx, &format!("/v1/awards/{award}/counts")).await;
    if !counts.ok() {
        return Err(counts);
    }
    let mut query = vec![format!("limit={PAGE}")];
    if !f.eligibility.is_empty() {
        query.push(format!(
            "standing={}",
            crate::server::paging::encode(&f.eligibility)
        ));
    }
    if !f.category.is_empty() {
        query.push(format!(
            "category={}",
            crate::server::paging::encode(&f.category)
        ));
    }
    if !f.after.is_empty() {
        query.push(format!("after={}", crate::server::paging::encode(&f.after)));
    }
    let reply = api
        .get(
            ctx,
            &format!("/v1/awards/{award}/applications?{}", query.join("&")),
        )
        .await;
    if !reply.ok() {
        return Err(reply);
    }
    let items = reply.json.as_array().cloned().unwrap_or_default();
    let next = reply
        .headers
        .contains_key(axum::http::header::LINK)
        .then(|| {
            items
                .last()
                .and_then(|x| x["id"].as_str())
                .map(str::to_owned)
        })
        .flatten()
        .map(|last| {
            let mut q = Vec::new();
            for (k, v) in [("category", &f.category), ("eligibility", &f.eligibility)] {
                if !v.is_empty() {
                    q.push(format!("{k}={}", crate::server::paging::encode(v)));
                }
            }
            q.push(format!("after={}", crate::server::paging::encode(&last)));
            format!("/awards/{award}/admin/entries?{}", q.join("&"))
        });
    let total = if f.eligibility.is_empty() {
        counts.json["total"].as_u64()
    } else {
        counts.json["standing"][f.eligibility.as_str()].as_u64()
    }
    .unwrap_or(0);
    Ok((items, total, next))
}

/// The eligibility a filter matches: what the list shows (a review decides).
fn decided(x: &Value) -> &'static str {
    if x["status"] == "withdrawn" {
        return "withdrawn";
    }
    crate::server::domain::applications::decided(
        x["eligibility"]["status"].as_str(),
        x["review"]["eligible"].as_bool(),
    )
}

pub async fn page_for(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    Query(f): Query<Filter>,
) -> Response {
    if ctx.person.is_none() {
        return redirect("/sign-in");
    }
    let (apps, of, next) = match entries_for(&api, &ctx, &award, &f).await {
        Ok(found) => found,
        Err(refused) => return problem(&ctx, &refused),
    };
    let Some(s) = super::public::shown(&state, &award).await else {
        return redirect("/");
    };
    let a = &s.loaded.award;
    let zone = a.timeline.time_zone.clone();
    let titles = super::entries::titles_of(&apps);
    let needle = f.q.trim().to_lowercase();
    let mut rows: Vec<&Value> = apps
        .iter()
        .filter(|x| {
            let id = x["id"].as_str().unwrap_or_default();
            needle.is_empty()
                || id.to_lowercase().contains(&needle)
                || titles
                    .get(id)
                    .is_some_and(|t| t.to_lowercase().contains(&needle))
        })
        .filter(|x| f.category.is_empty() || x["application"]["category"] == f.category.as_str())
        .filter(|x| f.eligibility.is_empty() || decided(x) == f.eligibility)
        .collect();
    let title_of = |x: &Value| {
        let id = x["id"].as_str().unwrap_or_default();
        titles
            .get(id)
            .map_or_else(|| id.to_lowercase(), |t| t.to_lowercase())
    };
    match f.sort.as_str() {
        "title" => rows.sort_by_key(|x| title_of(x)),
        "submitted" => {
            rows.sort_by(|x, y| x["submitted_at"].as_str().cmp(&y["submitted_at"].as_str()))
        }
        "recent" => {
            rows.sort_by(|x, y| y["submitted_at"].as_str().cmp(&x["submitted_at"].as_str()))
        }
        _ => {}
    }
    let category_name = |id: &str| {
        a.category(id)
            .map_or_else(|| id.to_owned(), |c| text(&ctx, &s.loaded, &c.name))
    };
    let states = [
        "eligible",
        "needs_review",
        "admitted",
        "not_admitted",
        "ineligible",
        "withdrawn",
    ];
    let name = text(&ctx, &s.loaded, &a.name);
    page(
        &ctx,
        &format!("{name} — {}", ctx.t("entries.title")),
        html! {
            h1 { (name) " — " (ctx.t("entries.title")) }
            @if let Some(d) = &f.done { p.notice role="status" { (super::layout::done_text(&ctx, d)) } }
            p { a href={ "/awards/" (award) "/admin" } { (ctx.t("admin.back")) } }
            form.filters method="get" action={ "/awards/" (award) "/admin/entries" } role="search" {
                div.field { label for="e-q" { (ctx.t("entries.search")) } input #e-q type="search" name="q" value=(f.q); }
                div.field { label for="e-category" { (ctx.t("app.category")) }
                    select #e-category name="category" {
                        option value="" { (ctx.t("entries.any")) }
                        @for c in &a.categories { option value=(c.id.as_str()) selected[f.category == c.id.as_str()] { (text(&ctx, &s.loaded, &c.name)) } }
                    } }
                div.field { label for="e-eligibility" { (ctx.t("app.eligibility")) }
                    select #e-eligibility name="eligibility" {
                        option value="" { (ctx.t("entries.any")) }
                        @for st in states { option value=(st) selected[f.eligibility == st] { (status_label(&ctx, st)) } }
                    } }
                div.field { label for="e-sort" { (ctx.t("entries.sort")) }
                    select #e-sort name="sort" {
                        option value="" { (ctx.t("entries.sort_id")) }
                        option value="title" selected[f.sort == "title"] { (ctx.t("entries.sort_title")) }
                        option value="submitted" selected[f.sort == "submitted"] { (ctx.t("entries.sort_submitted")) }
                        option value="recent" selected[f.sort == "recent"] { (ctx.t("entries.sort_recent")) }
                    } }
                div.actions { button type="submit" { (ctx.t("entries.apply")) } }
            }
            p role="status" {
                @if f.q.trim().is_empty() && f.sort.is_empty() && !f.category.is_empty() {
                    (ctx.tf("entries.page_shown", &[("n", &rows.len().to_string())]))
                } @else {
                    (ctx.tf("entries.shown", &[("n", &rows.len().to_string()), ("of", &of.to_string())]))
                }
                @if let Some(next) = &next { " " a href=(next) rel="next" { (ctx.tf("entries.next", &[("n", &PAGE.to_string())])) } }
            }
            form.stack method="post" action={ "/awards/" (award) "/admin/entries" } {
                (csrf_field(&ctx))
                div.scroll tabindex="0" { table {
                    thead { tr {
                        th { span.skip { (ctx.t("entries.choose")) } }
                        th { (ctx.t("app.entry")) } th { (ctx.t("app.category")) } th { (ctx.t("app.eligibility")) } th { (ctx.t("entries.submitted")) }
                    } }
                    tbody { @for x in &rows {
                        @let id = x["id"].as_str().unwrap_or_default();
                        tr {
                            td { input type="checkbox" name="pick" value=(id) id={ "pick-" (id) } aria-label=(ctx.tf("entries.choose_one", &[("entry", &super::entries::plain(id, &titles))])); }
                            td { (super::entries::link(&format!("/awards/{award}/admin/applications/{id}"), id, &titles)) }
                            td { (category_name(x["application"]["category"].as_str().unwrap_or_default())) }
                            td { (if x["status"] == "withdrawn" { status_label(&ctx, "withdrawn") } else { eligibility_label(&ctx, x) }) }
                            td { (when_in(x["submitted_at"].as_str().unwrap_or_default(), &zone)) }
                        }
                    } }
                } }
                fieldset {
                    legend { (ctx.t("entries.bulk_review")) }
                    p.help { (ctx.t("entries.bulk_help")) }
                    label.choice for="bulk-admit" { input #bulk-admit type="radio" name="eligible" value="true" required; (ctx.t("admin.admit")) }
                    label.choice for="bulk-refuse" { input #bulk-refuse type="radio" name="eligible" value="false"; (ctx.t("admin.refuse")) }
                    div.field { label for="bulk-reason" { (ctx.t("admin.reason")) } input #bulk-reason type="text" name="reason" required; }
                    div.actions { button type="submit" { (ctx.t("entries.bulk_button")) } }
                }
            }
        },
    )
}

/// Reviews every chosen entry that waits for a review, with one reason: the first refusal
/// stops the rest and is shown (the entries before it are reviewed, as the notice says).
pub async fn bulk(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| super::layout::first(&pairs, k);
    if let Err(r) = check_csrf(&ctx, &get("csrf")) {
        return *r;
    }
    let picked: Vec<&String> = pairs
        .iter()
        .filter(|(n, _)| n == "pick")
        .map(|(_, v)| v)
        .collect();
    if picked.is_empty() {
        return problem(
            &ctx,
            &super::api::Reply::bad_request(ctx.t("entries.none_chosen")),
        );
    }
    let reason = get("reason");
    let eligible = get("eligible") == "true";
    // Only those waiting for a review are reviewed; the others are left as they are.
    let mut waiting: BTreeMap<String, bool> = BTreeMap::new();
    for id in &picked {
        let reply = api
            .get(&ctx, &format!("/v1/awards/{award}/applications/{id}"))
            .await;
        if !reply.ok() {
            return problem(&ctx, &reply);
        }
        waiting.insert((*id).clone(), decided(&reply.json) == "needs_review");
    }
    let mut reviewed = 0;
    for (id, _) in waiting.iter().filter(|(_, w)| **w) {
        let reply = api
            .post(
                &ctx,
                &format!("/v1/awards/{award}/applications/{id}/review"),
                &json!({ "eligible": eligible, "reason": reason }),
            )
            .await;
        if !reply.ok() {
            return problem(&ctx, &reply);
        }
        reviewed += 1;
    }
    let skipped = waiting.len() - reviewed;
    redirect(&format!(
        "/awards/{award}/admin/entries?done={}",
        if skipped > 0 {
            "bulk_review_some"
        } else {
            "bulk_review"
        }
    ))
}
