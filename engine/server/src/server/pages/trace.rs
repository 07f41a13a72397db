//! One entry's number in one round, and the steps it rests on, as tables a committee reads:
//! how each judge's marks made their total, how the totals were normalised and combined, a
//! plugin's adjustment with its explanation, and the trace itself as data for auditors.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::Ctx;
use super::api::Api;
use super::layout::{page, problem};
use super::public::{Shown, shown, text};
use crate::server::state::AppState;

#[derive(Deserialize)]
pub struct TraceQuery {
    #[serde(default)]
    round: String,
    #[serde(default)]
    corrected: Option<String>,
}

/// The trace page.
pub async fn page_for(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, id)): Path<(String, String)>,
    Query(q): Query<TraceQuery>,
) -> Response {
    let reply = api
        .get(
            &ctx,
            &format!("/v1/awards/{award}/rounds/{}/results", q.round),
        )
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    let found = find_application(&reply.json, &id);
    let entry = api
        .get(&ctx, &format!("/v1/awards/{award}/applications/{id}"))
        .await;
    let titles = super::entries::titles_of(std::slice::from_ref(&entry.json));
    let judges: BTreeMap<String, String> = api
        .all(&ctx, &format!("/v1/awards/{award}/judges?limit=1000"))
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|j| Some((j["id"].as_str()?.to_owned(), j["name"].as_str()?.to_owned())))
        .collect();
    let s = shown(&state, &award).await;
    let category = entry.json["application"]["category"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // A closed round's marks are corrected here, by an administrator, with a reason.
    let closed = api
        .get(&ctx, &format!("/v1/awards/{award}/rounds/{}", q.round))
        .await
        .json["status"]
        == "closed";
    let names = Words {
        ctx: &ctx,
        shown: s.as_ref(),
        category: &category,
        judges: &judges,
        correct: closed.then(|| {
            format!(
                "/awards/{award}/admin/results/{id}/correct?round={}",
                q.round
            )
        }),
    };
    let round_name = s
        .as_ref()
        .and_then(|s| {
            s.loaded
                .award
                .judging_rounds()
                .into_iter()
                .find(|r| r.id == q.round)
                .map(|r| text(&ctx, &s.loaded, &r.name))
        })
        .unwrap_or_else(|| q.round.clone());
    page(
        &ctx,
        &format!(
            "{} {}",
            ctx.t("admin.trace"),
            super::entries::plain(&id, &titles)
        ),
        html! {
            h1 { (ctx.t("admin.trace")) " " (super::entries::name(&id, &titles)) " · " (round_name) }
            @if q.corrected.is_some() { p.notice role="status" { (ctx.t("trace.corrected")) } }
            @match &found {
                Some(v) => { (readable(&names, v)) }
                None => { p { (ctx.t("admin.no_trace")) } }
            }
            p { a href={ "/awards/" (award) "/admin" } { (ctx.t("admin.back")) } }
        },
    )
}

/// The names the page uses for ids.
struct Words<'a> {
    ctx: &'a Ctx,
    shown: Option<&'a Shown>,
    category: &'a str,
    judges: &'a BTreeMap<String, String>,
    /// Where a correction of a judge's marks posts, when the round is closed.
    correct: Option<String>,
}

impl Words<'_> {
    fn judge(&self, id: &str) -> String {
        self.judges
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    fn criterion(&self, id: &str) -> String {
        self.shown
            .and_then(|s| {
                let c = s.loaded.award.category(self.category)?;
                let criterion = c.criteria.iter().find(|x| x.id.as_str() == id)?;
                Some(text(self.ctx, &s.loaded, &criterion.name))
            })
            .unwrap_or_else(|| id.to_owned())
    }

    fn indicator(&self, id: &str) -> String {
        self.shown
            .and_then(|s| {
                let c = s.loaded.award.category(self.category)?;
                let (_, indicator) = c.indicator(id)?;
                Some(text(self.ctx, &s.loaded, &indicator.name))
            })
            .unwrap_or_else(|| id.to_owned())
    }
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

/// The result and its trace as tables.
fn readable(w: &Words<'_>, v: &Value) -> Markup {
    let ctx = w.ctx;
    let t = &v["trace"];
    html! {
        dl.facts {
            dt { (ctx.t("trace.score")) } dd { strong { (s(&v["score"])) } }
            @if !v["rank"].is_null() { dt { (ctx.t("trace.rank")) } dd { (s(&v["rank"])) } }
            @if !v["judges"].is_null() { dt { (ctx.t("trace.judges")) } dd { (s(&v["judges"])) } }
        }
        @if let Some(criteria) = t["criteria"].as_array() {
            h2 { (ctx.t("trace.by_criterion")) }
            table {
                thead { tr { th { (ctx.t("trace.criterion")) } th { (ctx.t("trace.panel_score")) } } }
                tbody { @for c in criteria { tr { td { (w.criterion(c["criterion"].as_str().unwrap_or_default())) } td { (s(&c["score"])) } } } }
            }
        }
        @if t["aggregation"].is_object() {
            @let a = &t["aggregation"];
            h2 { (ctx.t("trace.combined")) }
            p { (ctx.tf("trace.method", &[("method", &s(&a["method"]))])) }
            table {
                thead { tr { th { (ctx.t("admin.judge")) } th { (ctx.t("trace.judge_value")) } } }
                tbody { @for pair in a["inputs"].as_array().into_iter().flatten() {
                    tr { td { (w.judge(pair[0].as_str().unwrap_or_default())) } td { (s(&pair[1])) } }
                } }
                tfoot { tr { th scope="row" { (ctx.t("trace.result")) } td { (s(&a["value"])) } } }
            }
        }
        @if t["plugin"].is_object() {
            @let p = &t["plugin"];
            h2 { (ctx.t("trace.adjusted")) }
            p { (ctx.tf("trace.adjusted_by", &[("plugin", &s(&p["plugin"])), ("before", &s(&p["total_before"])), ("after", &s(&p["score"]))])) }
            @if let Some(explanation) = p["explanation"].as_object() {
                table {
                    thead { tr { th { (ctx.t("trace.part")) } th { (ctx.t("trace.value")) } } }
                    tbody { @for (k, x) in explanation { tr { td { (k.replace('_', " ")) } td { (s(x)) } } } }
                }
            }
        }
        @for j in t["judges"].as_array().into_iter().flatten() {
            details {
                summary { (ctx.tf("trace.judge_marks", &[("judge", &w.judge(j["judge"].as_str().unwrap_or_default())), ("total", &s(&j["total"]))])) }
                table {
                    thead { tr { th { (ctx.t("trace.criterion")) } th { (ctx.t("trace.indicator")) } th { (ctx.t("trace.mark")) } th { (ctx.t("trace.weight")) } th { (ctx.t("trace.value")) } } }
                    tbody {
                        @for c in j["criteria"].as_array().into_iter().flatten() {
                            @for (i, ind) in c["indicators"].as_array().into_iter().flatten().enumerate() {
                                tr {
                                    td { @if i == 0 { (w.criterion(c["criterion"].as_str().unwrap_or_default())) } }
                                    td { (w.indicator(ind["indicator"].as_str().unwrap_or_default())) }
                                    td { (s(&ind["mark"])) }
                                    td { (s(&ind["weight"])) }
                                    td { (s(&ind["value"])) }
                                }
                            }
                            tr { th scope="row" colspan="4" { (ctx.tf("trace.criterion_score", &[("criterion", &w.criterion(c["criterion"].as_str().unwrap_or_default()))])) } td { strong { (s(&c["score"])) } } }
                        }
                        @for c in j["abstained"].as_array().into_iter().flatten() {
                            tr { td { (w.criterion(c.as_str().unwrap_or_default())) } td colspan="4" { (ctx.t("trace.abstained")) } }
                        }
                    }
                }
                @if let Some(action) = &w.correct {
                    (correction(w, action, j))
                }
                @if j["normalised"].is_object() {
                    @let n = &j["normalised"];
                    p { (ctx.tf("trace.normalised", &[("method", &s(&n["method"])), ("raw", &s(&j["total"])), ("value", &s(&n["value"])),
                        ("n", &s(&n["judge"]["n"])), ("mean", &short(&n["judge"]["mean"])), ("sd", &short(&n["judge"]["sd"]))])) }
                }
            }
        }
        details {
            summary { (ctx.t("trace.as_data")) }
            pre.source tabindex="0" { (serde_json::to_string_pretty(v).unwrap_or_default()) }
        }
    }
}

/// A form that corrects one judge's locked marks, each prefilled, with a reason.
fn correction(w: &Words<'_>, action: &str, j: &Value) -> Markup {
    let ctx = w.ctx;
    let judge = j["judge"].as_str().unwrap_or_default();
    html! {
        details {
            summary { (ctx.t("trace.correct")) }
            form.stack method="post" action=(action) {
                input type="hidden" name="csrf" value=(ctx.csrf);
                input type="hidden" name="judge" value=(judge);
                @for c in j["criteria"].as_array().into_iter().flatten() {
                    @for ind in c["indicators"].as_array().into_iter().flatten() {
                        @let id = ind["indicator"].as_str().unwrap_or_default();
                        @let field = format!("c-{judge}-{id}");
                        div.field {
                            label for=(field) { (w.indicator(id)) }
                            input id=(field) type="text" inputmode="decimal" name={ "m." (id) } value=(s(&ind["mark"]));
                        }
                    }
                }
                div.field { label for={ "c-" (judge) "-reason" } { (ctx.t("admin.reason")) }
                    input id={ "c-" (judge) "-reason" } type="text" name="reason" required; }
                div.actions { button type="submit" { (ctx.t("trace.correct_button")) } }
            }
        }
    }
}

/// Corrects one judge's locked marks in a closed round (`PUT …/marks/{application}/{judge}`).
pub async fn correct(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, id)): Path<(String, String)>,
    Query(q): Query<TraceQuery>,
    axum::Form(posted): axum::Form<BTreeMap<String, String>>,
) -> Response {
    if let Err(r) = super::layout::check_csrf(&ctx, posted.get("csrf").map_or("", String::as_str)) {
        return *r;
    }
    let judge = posted.get("judge").cloned().unwrap_or_default();
    let marks: serde_json::Map<String, Value> = posted
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("m.")?.to_owned(), v.trim())))
        .filter(|(_, v)| !v.is_empty() && *v != "—")
        .map(|(k, v)| {
            let mark = serde_json::from_str::<serde_json::Number>(v)
                .map_or_else(|_| Value::String(v.to_owned()), Value::Number);
            (k, mark)
        })
        .collect();
    let reply = api
        .send(
            &ctx,
            axum::http::Method::PUT,
            &format!("/v1/awards/{award}/rounds/{}/marks/{id}/{judge}", q.round),
            &serde_json::json!({ "marks": marks, "reason": posted.get("reason").cloned().unwrap_or_default() }),
        )
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    super::layout::redirect(&format!(
        "/awards/{award}/admin/results/{id}?round={}&corrected=1",
        q.round
    ))
}

/// A long exact decimal shown to four places (the exact value stays in the data below).
fn short(v: &Value) -> String {
    let text = s(v);
    match text.parse::<rust_decimal::Decimal>() {
        Ok(d) => d.round_dp(4).normalize().to_string(),
        Err(_) => text,
    }
}

/// The first object in `v` whose `application` is `id`, with its trace.
fn find_application(v: &Value, id: &str) -> Option<Value> {
    match v {
        Value::Object(m)
            if m.get("application").and_then(Value::as_str) == Some(id) && m.len() > 2 =>
        {
            Some(v.clone())
        }
        Value::Object(m) => m.values().find_map(|x| find_application(x, id)),
        Value::Array(a) => a.iter().find_map(|x| find_application(x, id)),
        _ => None,
    }
}
