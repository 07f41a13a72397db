//! Judging: a judge's queue across awards and rounds, and the score sheet of one application
//! (blind where the round says so), built from the rubric: criteria, indicators, guidance,
//! the scale's steps; marks change until the round closes; a recusal with a reason.

use std::collections::BTreeMap;

use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use laurel::ScaleKind;
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Ctx;
use super::api::Api;
use super::layout::{
    check_csrf, csrf_field, page, page_with, problem, readable, redirect, when_in,
};
use super::public::{shown, text};
use crate::server::state::AppState;

pub async fn queue(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
) -> Response {
    if ctx.person.is_none() {
        return redirect("/sign-in");
    }
    let reply = api.get(&ctx, "/v1/me/work").await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    let rounds = reply.json["rounds"].as_array().cloned().unwrap_or_default();
    // Each award's and round's name in the page's language.
    let mut names: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    let mut zones: BTreeMap<String, String> = BTreeMap::new();
    for r in &rounds {
        let (award, round) = (
            r["award"].as_str().unwrap_or_default().to_owned(),
            r["round"].as_str().unwrap_or_default().to_owned(),
        );
        let shown_names = shown(&state, &award).await.map(|s| {
            let a = &s.loaded.award;
            zones.insert(award.clone(), a.timeline.time_zone.clone());
            let round_name = a
                .judging_rounds()
                .into_iter()
                .find(|spec| spec.id == round)
                .map(|spec| text(&ctx, &s.loaded, &spec.name))
                .unwrap_or_else(|| round.clone());
            (text(&ctx, &s.loaded, &a.name), round_name)
        });
        names.insert(
            (award.clone(), round.clone()),
            shown_names.unwrap_or((award, round)),
        );
    }
    page(
        &ctx,
        ctx.t("work.title"),
        html! {
            h1 { (ctx.t("work.title")) }
            @if rounds.is_empty() { p { (ctx.t("work.none")) } }
            @for r in &rounds {
                @let award = r["award"].as_str().unwrap_or_default();
                @let round = r["round"].as_str().unwrap_or_default();
                @let assigned = r["assigned"].as_array().cloned().unwrap_or_default();
                @let marked = r["marked"].as_array().cloned().unwrap_or_default();
                @let open = r["status"] == "open";
                @let (award_name, round_name) = names.get(&(award.to_owned(), round.to_owned())).cloned().unwrap_or_default();
                @let titles: BTreeMap<String, String> = serde_json::from_value(r["titles"].clone()).unwrap_or_default();
                h2 { (award_name) " · " (round_name) }
                p {
                    (ctx.tf("work.progress", &[("marked", &marked.len().to_string()), ("assigned", &assigned.len().to_string())]))
                    @if let Some(closes) = r["closes"].as_str() { " · " (ctx.t("work.closes")) " " (when_in(closes, zones.get(award).map_or("UTC", String::as_str))) }
                    @if !open { " · " span.badge { (ctx.t("work.closed")) } }
                }
                progress max=(assigned.len().max(1)) value=(marked.len()) aria-label=(ctx.t("work.progress_label")) {}
                table {
                    thead { tr { th { (ctx.t("app.entry")) } th { (ctx.t("work.state")) } } }
                    tbody {
                        @for a in &assigned {
                            @let id = a.as_str().unwrap_or_default();
                            tr {
                                td { (super::entries::link(&format!("/awards/{award}/rounds/{round}/sheets/{id}"), id, &titles)) }
                                td {
                                    @if marked.contains(a) { span.marked { (ctx.t("work.marked")) } }
                                    @else { span.due { (ctx.t("work.due")) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

#[derive(Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

/// The values a scale offers as steps, with how each is shown: a level's name and value, or
/// the number; none when the scale is continuous or has too many steps to show as buttons.
fn steps(
    ctx: &Ctx,
    loaded: &crate::server::state::Loaded,
    scale: &ScaleKind,
) -> Option<Vec<(String, String)>> {
    match scale {
        ScaleKind::Levels(levels) => Some(
            levels
                .iter()
                .map(|l| {
                    (
                        l.id.to_string(),
                        format!("{} ({})", text(ctx, loaded, &l.label), l.value),
                    )
                })
                .collect(),
        ),
        ScaleKind::Numeric { min, max, step } => {
            let s = step.filter(|s| *s > Decimal::ZERO)?;
            if ((*max - *min) / s).floor() > Decimal::from(MAX_STEPS) {
                return None;
            }
            let mut v = Vec::new();
            let mut x = *min;
            while x <= *max {
                let shown = x.normalize().to_string();
                v.push((shown.clone(), shown));
                x += s;
            }
            Some(v)
        }
    }
}

/// The most intervals a numeric scale may have to be shown as buttons (0 to 10 by halves).
const MAX_STEPS: u32 = 20;

/// One indicator's input: a row of buttons, one per step (a radio group: Tab reaches it, the
/// arrow keys move along it, a tap chooses), or a number for a continuous scale.
#[allow(clippy::too_many_arguments)]
fn indicator_input(
    ctx: &Ctx,
    loaded: &crate::server::state::Loaded,
    (indicator, required): (&laurel::Indicator, bool),
    current: &str,
    problems: &[String],
) -> Markup {
    let id = format!("m-{}", indicator.id.as_str());
    let name = format!("m.{}", indicator.id.as_str());
    let inv = (!problems.is_empty()).then_some("true");
    let guidance =
        html! { @if let Some(g) = &indicator.guidance { span.hint { (text(ctx, loaded, g)) } } };
    let errors = html! { @for p in problems { span.error role="alert" { (p) } } };
    match steps(ctx, loaded, &indicator.scale.kind) {
        Some(values) => html! {
            fieldset.indicator id=(id) aria-invalid=[inv] {
                legend { (text(ctx, loaded, &indicator.name)) }
                (guidance)
                (errors)
                div.steps {
                    @for (n, (value, shown)) in values.iter().enumerate() {
                        label.step {
                            input type="radio" name=(name) value=(value) required[required && n == 0] checked[current == value];
                            span { (shown) }
                        }
                    }
                }
            }
        },
        None => {
            let (min, max, step) = match &indicator.scale.kind {
                ScaleKind::Numeric { min, max, step } => (
                    min.to_string(),
                    max.to_string(),
                    step.map_or("any".to_owned(), |s| s.to_string()),
                ),
                ScaleKind::Levels(_) => (String::new(), String::new(), "any".to_owned()),
            };
            html! {
                div.field {
                    label for=(id) { (text(ctx, loaded, &indicator.name)) }
                    (guidance)
                    (errors)
                    input type="number" id=(id) name=(name) value=(current) min=(min) max=(max) step=(step) required[required] aria-invalid=[inv];
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn sheet_page(
    state: &AppState,
    api: &Api,
    ctx: &Ctx,
    (award, round, app): (&str, &str, &str),
    posted: Option<&BTreeMap<String, String>>,
    problems: &BTreeMap<String, Vec<String>>,
    saved: bool,
    status: StatusCode,
) -> Response {
    let view = api
        .get(
            ctx,
            &format!("/v1/awards/{award}/rounds/{round}/applications/{app}"),
        )
        .await;
    if !view.ok() {
        return problem(ctx, &view);
    }
    let Some(s) = shown(state, award).await else {
        return redirect("/work");
    };
    let a = &s.loaded.award;
    let application = &view.json["application"];
    let category_id = application["category"].as_str().unwrap_or_default();
    let Some(category) = a.category(category_id) else {
        return redirect("/work");
    };
    let marks = api
        .get(
            ctx,
            &format!("/v1/awards/{award}/rounds/{round}/marks?application={app}&limit=1000"),
        )
        .await;
    let judge = ctx
        .person
        .as_ref()
        .and_then(|p| {
            p.grants.iter().find(|g| {
                g.role == crate::server::records::Role::Judge && g.award.as_deref() == Some(award)
            })
        })
        .and_then(|g| g.judge.clone())
        .unwrap_or_default();
    // A sheet kept for later is newer than any marks saved (submitting removes it).
    let kept = api
        .get(
            ctx,
            &format!("/v1/awards/{award}/rounds/{round}/sheets/{app}"),
        )
        .await;
    let kept = kept.ok().then_some(kept.json);
    let all: Vec<Value> = marks.json.as_array().cloned().unwrap_or_default();
    let for_app: Vec<&Value> = all.iter().filter(|e| e["application"] == app).collect();
    let saved_marks = for_app
        .iter()
        .find(|e| e["judge"] == judge.as_str())
        .copied();
    let mine = kept.as_ref().or(saved_marks);
    let others: Vec<&&Value> = for_app
        .iter()
        .filter(|e| e["judge"] != judge.as_str())
        .collect();
    let current = |indicator: &str| -> String {
        if let Some(p) = posted {
            return p
                .get(&format!("m.{indicator}"))
                .cloned()
                .unwrap_or_default();
        }
        mine.map(|e| match &e["marks"][indicator] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .unwrap_or_default()
    };
    let criterion_comment = |criterion: &str| -> String {
        if let Some(p) = posted {
            return p
                .get(&format!("cc.{criterion}"))
                .cloned()
                .unwrap_or_default();
        }
        mine.and_then(|e| {
            e["criterion_comments"][criterion]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default()
    };
    let abstains = |criterion: &str| -> bool {
        match posted {
            Some(p) => p.contains_key(&format!("abstain.{criterion}")),
            None => mine.is_some_and(|e| {
                e["abstained"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == criterion))
            }),
        }
    };
    let comment = posted
        .and_then(|p| p.get("comment").cloned())
        .or_else(|| mine.and_then(|e| e["comment"].as_str().map(str::to_owned)))
        .unwrap_or_default();
    let blind = view.json["blind"] == true;
    // The judge's total as the rubric computes it, from the marks saved (none while some
    // are missing).
    // The total of the marks shown: saved, kept for later, or as posted back; counted again
    // as marks are chosen (laurel.js asks `…/total`).
    let total = mine
        .filter(|_| posted.is_none())
        .and_then(|e| serde_json::from_value::<laurel::Evaluation>(strip_extras(e)).ok())
        .and_then(|e| crate::server::domain::rounds::judge_total(&s.loaded, round, application, e));
    // Marks change only while the round is open.
    let round_open = api
        .get(ctx, &format!("/v1/awards/{award}/rounds/{round}"))
        .await
        .json["status"]
        == "open";
    // Co-judges' marks as a table: one row a judge, one column an indicator.
    let shown_indicators: Vec<(String, String)> = category
        .criteria
        .iter()
        .flat_map(|c| c.indicators.iter())
        .map(|i| (i.id.as_str().to_owned(), text(ctx, &s.loaded, &i.name)))
        .filter(|(id, _)| others.iter().any(|e| !e["marks"][id.as_str()].is_null()))
        .collect();
    let round_name = a
        .judging_rounds()
        .into_iter()
        .find(|spec| spec.id == round)
        .map_or_else(|| round.to_owned(), |spec| text(ctx, &s.loaded, &spec.name));
    let fields = application["fields"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    // The entry's name as this judge may see it (nothing hidden from judges names it).
    let entry = laurel::entry_title(a, category_id, &application["fields"]);
    let shown_entry = entry
        .as_ref()
        .map_or_else(|| app.to_owned(), |t| format!("{t} ({app})"));
    let title = format!(
        "{} · {round_name} · {shown_entry}",
        text(ctx, &s.loaded, &a.name)
    );
    page_with(
        ctx,
        status,
        &title,
        html! {
            h1 { (ctx.t("sheet.title")) " " @if let Some(t) = &entry { (t) span.entry-id { (app) } } @else { (app) } }
            p { (text(ctx, &s.loaded, &a.name)) " · " (round_name) " · " (text(ctx, &s.loaded, &category.name))
                @if blind { " · " span.badge { (ctx.t("sheet.blind")) } } }
            @if saved { p.notice role="status" { (ctx.t("sheet.saved")) } }
            @if let Some(k) = &kept {
                @let missing: Vec<String> = k["missing"].as_array().into_iter().flatten()
                    .filter_map(Value::as_str)
                    .map(|i| category.criteria.iter().flat_map(|c| c.indicators.iter()).find(|x| x.id.as_str() == i)
                        .map_or_else(|| i.to_owned(), |x| text(ctx, &s.loaded, &x.name)))
                    .collect();
                div.warning role="status" {
                    p { (ctx.t("sheet.kept")) }
                    @if !missing.is_empty() { p { (ctx.t("sheet.missing")) " " (missing.join(", ")) } }
                }
            }
            @if !problems.is_empty() { p.warning role="alert" { (ctx.t("sheet.problems")) } }
            div.sheet-layout {
            section.sheet-entry aria-labelledby="h-entry" {
            h2 #h-entry { (ctx.t("sheet.application")) }
            dl.facts {
                @for (k, v) in &fields {
                    dt { (super::form::label_of(ctx, a, category_id, k)) }
                    dd { (files_or_value(&super::form::shown_value(ctx, a, category_id, k, v))) }
                }
            }
            }
            section.sheet-marks aria-labelledby="h-marks" {
            h2 #h-marks { (ctx.t("sheet.marks")) }
            @for scale in scales(category) {
                @if !scale.bands.is_empty() {
                    details open {
                        summary { (ctx.t("sheet.bands")) }
                        ul { @for b in &scale.bands {
                            li { strong { (b.from.normalize()) "–" (b.to.normalize()) } " " (text(ctx, &s.loaded, &b.guidance)) }
                        } }
                    }
                }
            }
            @if !round_open { p.warning role="status" { (ctx.t("sheet.closed")) } }
            @let marked: Vec<&laurel::Indicator> = category
                .criteria
                .iter()
                .flat_map(|c| c.indicators.iter())
                .filter(|i| marks_it(i, &judge))
                .collect();
            @let abstained_on: Vec<&laurel::IndicatorId> = category.criteria.iter()
                .filter(|c| c.abstain && abstains(c.id.as_str()))
                .flat_map(|c| c.indicators.iter().map(|i| &i.id))
                .collect();
            @let given = marked.iter().filter(|i| !current(i.id.as_str()).is_empty() || abstained_on.contains(&&i.id)).count();
            form.stack method="post" action={ "/awards/" (award) "/rounds/" (round) "/sheets/" (app) } {
                (csrf_field(ctx))
                // How far the sheet is, counted again as marks are chosen (laurel.js).
                p.hint #sheet-progress role="status" aria-live="polite" data-template=(ctx.t("sheet.progress")) {
                    (ctx.tf("sheet.progress", &[("given", &given.to_string()), ("total", &marked.len().to_string())]))
                }
                fieldset.plain disabled[!round_open] {
                @for c in category.criteria.iter().filter(|c| c.indicators.iter().any(|i| marks_it(i, &judge))) {
                    fieldset data-criterion-id=(c.id.as_str()) {
                        legend { (text(ctx, &s.loaded, &c.name)) " " span.badge { (ctx.t("sheet.weight")) " " (c.weight.normalize()) } }
                        @if let Some(g) = &c.guidance { p.hint { (text(ctx, &s.loaded, g)) } }
                        @if c.abstain {
                            @let aid = format!("abstain-{}", c.id.as_str());
                            label.choice for=(aid) {
                                input id=(aid) type="checkbox" name={ "abstain." (c.id.as_str()) } value="1" checked[abstains(c.id.as_str())];
                                (ctx.t("sheet.abstain"))
                            }
                        }
                        @for i in c.indicators.iter().filter(|i| marks_it(i, &judge)) {
                            @let mine_problems = problems.get(i.id.as_str()).cloned().unwrap_or_default();
                            // A criterion a judge may abstain on asks for no mark before saving
                            // (the server says what is missing when they neither mark nor abstain).
                            (indicator_input(ctx, &s.loaded, (i, !c.abstain), &current(i.id.as_str()), &mine_problems))
                        }
                        @let cid = format!("cc-{}", c.id.as_str());
                        div.field {
                            label for=(cid) { (ctx.t("sheet.criterion_comment")) }
                            textarea id=(cid) name={ "cc." (c.id.as_str()) } rows="2" { (criterion_comment(c.id.as_str())) }
                        }
                    }
                }
                div.field {
                    label for="comment" { (ctx.t("sheet.comment")) }
                    textarea #comment name="comment" { (comment) }
                }
                }
                @let shown_criteria: Vec<&laurel::Criterion> = category.criteria.iter().filter(|c| c.indicators.iter().any(|i| marks_it(i, &judge))).collect();
                div.sheet-total #sheet-total role="status" aria-live="polite" hidden[total.is_none() && !round_open]
                    data-url={ "/v1/awards/" (award) "/rounds/" (round) "/sheets/" (app) "/total" }
                    data-complete=(ctx.t("sheet.total")) data-so-far=(ctx.t("sheet.total_so_far")) data-abstained=(ctx.t("sheet.abstained")) {
                    p { strong.total-line { @match &total {
                        Some(t) if t.complete => (ctx.tf("sheet.total", &[("total", &super::layout::shown_decimal(t.total))])),
                        Some(t) => (ctx.tf("sheet.total_so_far", &[("total", &super::layout::shown_decimal(t.total)), ("n", &t.missing.len().to_string())])),
                        None => (ctx.t("sheet.total_none")),
                    } } }
                    @if shown_criteria.len() > 1 {
                        ul { @for c in &shown_criteria {
                            @let score = total.as_ref().and_then(|t| t.criteria.iter().find(|x| x.criterion == c.id)).map(|x| super::layout::shown_decimal(x.score));
                            @let shown = if c.abstain && abstains(c.id.as_str()) { ctx.t("sheet.abstained").to_owned() } else { score.unwrap_or_else(|| "—".to_owned()) };
                            li { (text(ctx, &s.loaded, &c.name)) ": " span data-criterion=(c.id.as_str()) { (shown) } }
                        } }
                    }
                }
                @if round_open {
                    div.actions {
                        button type="submit" name="next" value="1" { (ctx.t("sheet.save_next")) }
                        button.secondary type="submit" { (ctx.t("sheet.save")) }
                        button.secondary type="submit" name="later" value="1" formnovalidate { (ctx.t("sheet.keep")) }
                    }
                    p.hint { (ctx.t("sheet.change_until_close")) }
                }
            }
            }
            }
            @if !others.is_empty() {
                h2 { (ctx.t("sheet.others")) }
                div.scroll tabindex="0" {
                    table {
                        thead { tr { th { (ctx.t("sheet.judge")) } @for (_, name) in &shown_indicators { th { (name) } } } }
                        tbody {
                            @for (n, e) in others.iter().enumerate() {
                                tr {
                                    th scope="row" { (ctx.tf("sheet.co_judge", &[("n", &(n + 1).to_string())])) }
                                    @for (id, _) in &shown_indicators {
                                        @let abstained = e["marks"][id.as_str()].is_null() && category.criteria.iter()
                                            .find(|c| c.indicators.iter().any(|i| i.id.as_str() == id.as_str()))
                                            .is_some_and(|c| e["abstained"].as_array().is_some_and(|a| a.iter().any(|x| x == c.id.as_str())));
                                        td { @if abstained { (ctx.t("sheet.abstained")) } @else { (readable(&e["marks"][id.as_str()])) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (ctx.t("sheet.recuse")) }
            form.stack method="post" action={ "/awards/" (award) "/rounds/" (round) "/sheets/" (app) "/recuse" } {
                (csrf_field(ctx))
                div.field {
                    label for="reason" { (ctx.t("sheet.recuse_reason")) }
                    textarea #reason name="reason" required {}
                }
                div.actions { button.secondary type="submit" { (ctx.t("sheet.recuse_button")) } }
            }
            p { a href="/work" { (ctx.t("sheet.back")) } }
        },
    )
}

/// A stored evaluation or a kept sheet as an evaluation: the fields an evaluation has.
fn strip_extras(e: &Value) -> Value {
    let mut v = e.clone();
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| {
            matches!(
                k.as_str(),
                "judge" | "application" | "marks" | "comment" | "criterion_comments" | "abstained"
            )
        });
    }
    v
}

/// A field's value, with its files as links.
fn is_file_ref(v: &Value) -> bool {
    v.get("sha256").is_some() && v.get("media_type").is_some() && v.get("name").is_some()
}

pub(super) fn files_or_value(v: &Value) -> Markup {
    let files: Vec<&Value> = match v {
        Value::Array(items)
            if items.iter().all(|i| i.get("download").is_some()) && !items.is_empty() =>
        {
            items.iter().collect()
        }
        Value::Object(_) if v.get("download").is_some() => vec![v],
        _ => Vec::new(),
    };
    if files.is_empty() {
        // A file reference without a download link (its owner's own record): its name.
        let refs: Vec<&Value> = match v {
            Value::Array(items) if !items.is_empty() && items.iter().all(is_file_ref) => {
                items.iter().collect()
            }
            Value::Object(_) if is_file_ref(v) => vec![v],
            _ => return html! { (readable(v)) },
        };
        return html! {
            @for (i, f) in refs.iter().enumerate() {
                @if i > 0 { ", " }
                (f["name"].as_str().unwrap_or("file"))
            }
        };
    }
    html! {
        ul { @for f in files {
            li { a href=(f["download"].as_str().unwrap_or_default()) { (f["name"].as_str().unwrap_or("file")) } }
        } }
    }
}

/// Whether `judge` marks indicator `i`: judges do not mark a computed one, nor one of a panel
/// they are not on.
fn marks_it(i: &laurel::Indicator, judge: &str) -> bool {
    !i.is_computed()
        && i.panel
            .as_ref()
            .is_none_or(|p| p.judges.iter().any(|j| j.as_str() == judge))
}

/// The scales a category's indicators use, each once.
fn scales(category: &laurel::Category) -> Vec<&laurel::Scale> {
    let mut out: Vec<&laurel::Scale> = Vec::new();
    for i in category.criteria.iter().flat_map(|c| c.indicators.iter()) {
        if !out.iter().any(|s| s.id == i.scale.id) {
            out.push(&i.scale);
        }
    }
    out
}

pub async fn sheet(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, round, app)): Path<(String, String, String)>,
    Query(q): Query<Saved>,
) -> Response {
    if ctx.person.is_none() {
        return redirect("/sign-in");
    }
    sheet_page(
        &state,
        &api,
        &ctx,
        (&award, &round, &app),
        None,
        &BTreeMap::new(),
        q.saved.is_some(),
        StatusCode::OK,
    )
    .await
}

pub async fn save(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, round, app)): Path<(String, String, String)>,
    Form(posted): Form<BTreeMap<String, String>>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, posted.get("csrf").map_or("", String::as_str)) {
        return *r;
    }
    // The criteria the judge abstains on: their marks, if any were chosen, are not sent.
    let abstained: Vec<String> = posted
        .keys()
        .filter_map(|k| k.strip_prefix("abstain."))
        .map(str::to_owned)
        .collect();
    let shown_award = shown(&state, &award).await;
    let dropped: Vec<String> = shown_award
        .iter()
        .flat_map(|s| s.loaded.award.categories.iter())
        .flat_map(|c| c.criteria.iter())
        .filter(|c| abstained.iter().any(|a| a == c.id.as_str()))
        .flat_map(|c| c.indicators.iter().map(|i| i.id.as_str().to_owned()))
        .collect();
    let mut marks = Map::new();
    for (k, v) in &posted {
        let Some(indicator) = k.strip_prefix("m.") else {
            continue;
        };
        if v.trim().is_empty() || dropped.iter().any(|d| d == indicator) {
            continue;
        }
        // A number as written (exact), or a level's id.
        let mark = serde_json::from_str::<serde_json::Number>(v.trim())
            .map_or_else(|_| Value::String(v.clone()), Value::Number);
        marks.insert(indicator.to_owned(), mark);
    }
    let comment = posted.get("comment").filter(|c| !c.trim().is_empty());
    let criterion_comments: Map<String, Value> = posted
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("cc.")?.to_owned(), v)))
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, Value::String(v.clone())))
        .collect();
    let body = json!({
        "marks": marks,
        "comment": comment,
        "criterion_comments": criterion_comments,
        "abstained": abstained,
    });
    let later = posted.contains_key("later");
    let target = if later { "sheets" } else { "marks" };
    let reply = api
        .send(
            &ctx,
            Method::PUT,
            &format!("/v1/awards/{award}/rounds/{round}/{target}/{app}"),
            &body,
        )
        .await;
    if reply.ok() && later {
        return redirect(&format!("/awards/{award}/rounds/{round}/sheets/{app}"));
    }
    if reply.ok() {
        if posted.contains_key("next") {
            // The next entry this judge still has to mark in the round, else the queue.
            let work = api.get(&ctx, "/v1/me/work").await;
            let next = work.json["rounds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["award"] == award.as_str() && r["round"] == round.as_str())
                .flat_map(|r| r["due"].as_array().cloned().unwrap_or_default())
                .filter_map(|a| a.as_str().map(str::to_owned))
                .find(|a| *a != app);
            return redirect(&match next {
                Some(next) => format!("/awards/{award}/rounds/{round}/sheets/{next}?saved=1"),
                None => "/work?all_marked=1".to_owned(),
            });
        }
        return redirect(&format!(
            "/awards/{award}/rounds/{round}/sheets/{app}?saved=1"
        ));
    }
    if reply.status != StatusCode::UNPROCESSABLE_ENTITY {
        return problem(&ctx, &reply);
    }
    let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (pointer, message) in reply.problems() {
        let at = pointer
            .strip_prefix("/marks/")
            .or_else(|| pointer.strip_prefix("/criterion_comments/"))
            .unwrap_or("")
            .to_owned();
        // An abstention refused: shown with the sheet's problems.
        problems.entry(at).or_default().push(message);
    }
    sheet_page(
        &state,
        &api,
        &ctx,
        (&award, &round, &app),
        Some(&posted),
        &problems,
        false,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Deserialize)]
pub struct RecuseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn recuse(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, round, app)): Path<(String, String, String)>,
    Form(form): Form<RecuseForm>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, &form.csrf) {
        return *r;
    }
    let reply = api
        .post(
            &ctx,
            &format!("/v1/awards/{award}/rounds/{round}/recusals"),
            &json!({ "application": app, "reason": form.reason }),
        )
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    redirect("/work")
}
