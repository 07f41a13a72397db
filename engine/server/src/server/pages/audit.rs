//! An award's audit log for its administrators: every record about the award, filtered by
//! person, kind of action and date, with people by name and times in the award's zone.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use super::Ctx;
use super::api::Api;
use super::layout::{page, problem, readable, when_in};
use super::public::shown;
use crate::server::state::AppState;

#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    who: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// The kind of an action: what comes before its first dot (`round.open` is a `round` action).
fn kind(action: &str) -> &str {
    action.split('.').next().unwrap_or(action)
}

pub async fn page_for(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    Query(f): Query<Filter>,
) -> Response {
    // The whole chain, a page at a time (each page after the last record read).
    let mut all: Vec<Value> = Vec::new();
    loop {
        let after = all.last().and_then(|r| r["seq"].as_u64()).unwrap_or(0);
        let reply = api
            .get(&ctx, &format!("/v1/audit?limit=1000&after={after}"))
            .await;
        if !reply.ok() {
            return problem(&ctx, &reply);
        }
        let page = reply.json.as_array().cloned().unwrap_or_default();
        let full = page.len() == 1000;
        all.extend(page);
        if !full {
            break;
        }
    }
    let people: BTreeMap<String, String> = api
        .all(&ctx, "/v1/people?limit=1000")
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            Some((
                p["person"].as_str()?.to_owned(),
                p["name"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let zone = shown(&state, &award).await.map_or_else(
        || "UTC".to_owned(),
        |s| s.loaded.award.timeline.time_zone.clone(),
    );
    // A record's actor names a person (by id, with the key they acted with), a key or the
    // system: a person is shown by name.
    let who = |actor: &str| -> String {
        people
            .iter()
            .find(|(id, _)| !id.is_empty() && actor.contains(id.as_str()))
            .map_or_else(|| actor.to_owned(), |(_, name)| name.clone())
    };
    let about_award: Vec<&Value> = all
        .iter()
        .filter(|r| {
            r["target"]
                .as_str()
                .is_some_and(|t| t == award || t.starts_with(&format!("{award}/")))
        })
        .collect();
    let mut kinds: Vec<&str> = about_award
        .iter()
        .filter_map(|r| r["action"].as_str().map(kind))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    let mut actors: Vec<String> = about_award
        .iter()
        .filter_map(|r| r["actor"].as_str().map(&who))
        .collect();
    actors.sort();
    actors.dedup();
    let records: Vec<&&Value> = about_award
        .iter()
        .filter(|r| f.kind.is_empty() || r["action"].as_str().is_some_and(|a| kind(a) == f.kind))
        .filter(|r| f.who.is_empty() || r["actor"].as_str().is_some_and(|a| who(a) == f.who))
        .filter(|r| {
            let day = r["at"]
                .as_str()
                .unwrap_or_default()
                .get(..10)
                .unwrap_or_default();
            (f.from.is_empty() || day >= f.from.as_str())
                && (f.to.is_empty() || day <= f.to.as_str())
        })
        .collect();
    page(
        &ctx,
        ctx.t("admin.audit"),
        html! {
            h1 { (ctx.t("admin.audit")) }
            p { a href={ "/awards/" (award) "/admin" } { (ctx.t("admin.back")) } }
            form.filters method="get" action={ "/awards/" (award) "/admin/audit" } {
                div.field { label for="a-who" { (ctx.t("admin.actor")) }
                    select #a-who name="who" { option value="" { (ctx.t("entries.any")) }
                        @for a in &actors { option value=(a) selected[f.who == *a] { (a) } } } }
                div.field { label for="a-kind" { (ctx.t("audit.kind")) }
                    select #a-kind name="kind" { option value="" { (ctx.t("entries.any")) }
                        @for k in &kinds { option value=(k) selected[f.kind == *k] { (k) } } } }
                div.field { label for="a-from" { (ctx.t("audit.from")) } input #a-from type="date" name="from" value=(f.from); }
                div.field { label for="a-to" { (ctx.t("audit.to")) } input #a-to type="date" name="to" value=(f.to); }
                div.actions { button type="submit" { (ctx.t("entries.apply")) } }
            }
            p role="status" { (ctx.tf("audit.shown", &[("n", &records.len().to_string()), ("of", &about_award.len().to_string())])) }
            div.scroll tabindex="0" { table {
                thead { tr { th { "#" } th { (ctx.t("admin.when")) } th { (ctx.t("admin.actor")) } th { (ctx.t("admin.action")) } th { (ctx.t("admin.target")) } } }
                tbody { @for r in &records {
                    tr {
                        td { (readable(&r["seq"])) }
                        td { (when_in(r["at"].as_str().unwrap_or_default(), &zone)) }
                        td { (who(r["actor"].as_str().unwrap_or_default())) }
                        td { (readable(&r["action"])) }
                        td { (readable(&r["target"])) }
                    }
                } }
            } }
        },
    )
}
