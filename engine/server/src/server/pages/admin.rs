//! An award's dashboard for its administrators: the call, applications by status and the
//! review queue, judges and invitations, rounds (open, close, advance, the draw's coverage, who
//! has marked what, reminders), results with each number's trace, publication, exports, and
//! the audit log. Every button is a form that calls the API.

use std::collections::BTreeMap;

use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::api::Api;
use super::apply::status_label;
use super::layout::{check_csrf, csrf_field, page, problem, readable, redirect};
use super::public::{shown, text};
use crate::server::state::AppState;

/// A one-button form that posts `action` (with hidden `extra` values) to the dashboard.
fn button(ctx: &Ctx, award: &str, action: &str, label: &str, extra: &[(&str, &str)]) -> Markup {
    html! {
        form.inline method="post" action={ "/awards/" (award) "/admin/do" } {
            (csrf_field(ctx))
            input type="hidden" name="do" value=(action);
            @for (k, v) in extra { input type="hidden" name=(k) value=(v); }
            button.secondary type="submit" { (label) }
        }
    }
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

pub async fn dashboard(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    if ctx.person.is_none() {
        return redirect("/sign-in");
    }
    let record = api.get(&ctx, &format!("/v1/awards/{award}")).await;
    let rounds = api.get(&ctx, &format!("/v1/awards/{award}/rounds")).await;
    if !rounds.ok() {
        return problem(&ctx, &rounds);
    }
    let Some(s) = shown(&state, &award).await else {
        return problem(&ctx, &record);
    };
    let a = &s.loaded.award;
    // Counts kept by the store, and one page of each list: the dashboard costs the same
    // whatever the award holds; the entries list has them all.
    let counts = api.get(&ctx, &format!("/v1/awards/{award}/counts")).await;
    if !counts.ok() {
        return problem(&ctx, &counts);
    }
    let by_status: Vec<(&str, u64)> = crate::store::tally::STANDINGS
        .into_iter()
        .filter_map(|k| Some((k, counts.json["standing"][k].as_u64().filter(|n| *n > 0)?)))
        .collect();
    let total = counts.json["total"].as_u64().unwrap_or(0);
    let waiting = counts.json["standing"]["needs_review"]
        .as_u64()
        .unwrap_or(0);
    let review = api
        .get(
            &ctx,
            &format!("/v1/awards/{award}/applications?standing=needs_review&limit={SHOWN}"),
        )
        .await;
    let review: Vec<Value> = review.json.as_array().cloned().unwrap_or_default();
    let first = api
        .get(
            &ctx,
            &format!("/v1/awards/{award}/applications?limit={SHOWN}"),
        )
        .await;
    let apps: Vec<Value> = first.json.as_array().cloned().unwrap_or_default();
    let judges = api
        .all(&ctx, &format!("/v1/awards/{award}/judges?limit=1000"))
        .await
        .unwrap_or_default();
    let results = api.get(&ctx, &format!("/v1/awards/{award}/results")).await;
    let mut round_blocks = Vec::new();
    for r in rounds.json.as_array().cloned().unwrap_or_default() {
        let id = r["round"].as_str().unwrap_or_default().to_owned();
        let detail = api
            .get(&ctx, &format!("/v1/awards/{award}/rounds/{id}"))
            .await;
        // A closed round waiting for the committee: each entrant's category, score and rank.
        let mut scores: Scores = BTreeMap::new();
        if r["status"] == "closed" && detail.json["advanced"].is_null() {
            let results = api
                .get(&ctx, &format!("/v1/awards/{award}/rounds/{id}/results"))
                .await;
            for c in results.json["results"]["categories"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let category = c["category"].as_str().unwrap_or_default();
                for x in c["ranking"].as_array().into_iter().flatten() {
                    if let Some(app) = x["application"].as_str() {
                        scores.insert(
                            app.to_owned(),
                            (
                                category_name(&ctx, &s.loaded, category),
                                readable(&x["score"]),
                                x["rank"].as_u64(),
                            ),
                        );
                    }
                }
            }
        }
        round_blocks.push((r, detail.json, scores));
    }
    let mut titles = super::entries::titles_of(&apps);
    titles.extend(super::entries::titles_of(&review));
    let mut named: Vec<String> = Vec::new();
    for (r, detail, _) in &round_blocks {
        named.extend(shown_in_round(r, detail));
    }
    named.extend(super::entries::ids_in(
        &results.json["results"]["applications"],
    ));
    named.extend(super::entries::ids_in(&record.json["special_mentions"]));
    super::entries::add_titles(&api, &ctx, &award, &mut titles, named).await;
    let judge_names: BTreeMap<String, String> = judges
        .iter()
        .filter_map(|j| Some((j["id"].as_str()?.to_owned(), j["name"].as_str()?.to_owned())))
        .collect();
    let award_state = record.json["state"].as_str().unwrap_or_default().to_owned();
    let name = text(&ctx, &s.loaded, &a.name);
    page(
        &ctx,
        &format!("{name} — {}", ctx.t("admin.title")),
        html! {
            h1 { (name) " — " (ctx.t("admin.title")) }
            @if let Some(d) = &done.done { p.notice role="status" { (super::layout::done_text(&ctx, d)) } }
            section aria-labelledby="h-call" {
                h2 #h-call { (ctx.t("admin.call")) }
                p { (ctx.t("admin.state")) ": " span.badge { (status_label(&ctx, &format!("award_{award_state}"))) }
                    @if s.record.registration_closed { " · " (ctx.t("award.invitation_only")) } }
                (super::timeline::section(&ctx, &award, &s, state.now()))
                div.actions {
                    @if award_state == "draft" { (button(&ctx, &award, "open", ctx.t("admin.open_call"), &[])) }
                    @if award_state == "open" { (button(&ctx, &award, "close", ctx.t("admin.close_call"), &[])) }
                    @if s.record.registration_closed {
                        (button(&ctx, &award, "registration_open", ctx.t("admin.registration_open"), &[]))
                    } @else {
                        (button(&ctx, &award, "registration_close", ctx.t("admin.registration_close"), &[]))
                    }
                    a href={ "/awards/" (award) } { (ctx.t("admin.public_page")) }
                }
            }
            section aria-labelledby="h-apps" {
                h2 #h-apps { (ctx.t("admin.applications")) " (" (total) ")" }
                p { a href={ "/awards/" (award) "/admin/entries" } { (ctx.t("entries.link")) } " · "
                    a href={ "/awards/" (award) "/admin/charts" } { (ctx.t("charts.link")) } " · "
                    a href={ "/awards/" (award) "/admin/messages" } { (ctx.t("messages.link")) } " · "
                    a href={ "/awards/" (award) "/admin/messages?to=drafts" } { (ctx.t("messages.remind_drafts")) } }
                ul { @for (k, n) in &by_status { li { (status_label(&ctx, k)) ": " (n) } } }
                h3 { (ctx.t("admin.review_queue")) " (" (waiting) ")" }
                @if review.is_empty() { p { (ctx.t("admin.review_none")) } }
                ul {
                    @for x in &review {
                        @let id = x["id"].as_str().unwrap_or_default();
                        li { (super::entries::link(&format!("/awards/{award}/admin/applications/{id}"), id, &titles)) }
                    }
                }
                @if waiting > review.len() as u64 {
                    p { a href={ "/awards/" (award) "/admin/entries?eligibility=needs_review" } {
                        (ctx.tf("admin.review_all", &[("count", &waiting.to_string())])) } }
                }
                details {
                    summary { (ctx.t("admin.all_applications"))
                        @if total > apps.len() as u64 { " (" (ctx.tf("admin.first_of", &[("shown", &apps.len().to_string()), ("count", &total.to_string())])) ")" } }
                    div.scroll tabindex="0" { table {
                        thead { tr { th { (ctx.t("app.entry")) } th { (ctx.t("app.category")) } th { (ctx.t("app.status")) } th { (ctx.t("app.eligibility")) } } }
                        tbody { @for x in &apps {
                            @let id = x["id"].as_str().unwrap_or_default();
                            tr {
                                td { (super::entries::link(&format!("/awards/{award}/admin/applications/{id}"), id, &titles)) }
                                td { (category_name(&ctx, &s.loaded, x["application"]["category"].as_str().unwrap_or_default())) }
                                td { (status_label(&ctx, x["status"].as_str().unwrap_or_default())) }
                                td { (super::apply::eligibility_label(&ctx, x)) }
                            }
                        } }
                    } }
                    @if total > apps.len() as u64 {
                        p { a href={ "/awards/" (award) "/admin/entries" } { (ctx.tf("admin.see_all", &[("count", &total.to_string())])) } }
                    }
                }
            }
            section aria-labelledby="h-judges" {
                h2 #h-judges { (ctx.t("admin.judges")) " (" (judges.len()) ")" }
                p { a href={ "/awards/" (award) "/admin/jury" } { (ctx.t("admin.jury_link")) } }
                @if !judges.is_empty() {
                    p { (judges.iter().filter_map(|j| j["name"].as_str()).collect::<Vec<_>>().join(", ")) }
                }
                h3 { (ctx.t("admin.invite_colleague")) }
                form.stack method="post" action={ "/awards/" (award) "/admin/do" } {
                    (csrf_field(&ctx))
                    input type="hidden" name="do" value="invite";
                    div.field { label for="inv-email" { (ctx.t("account.email")) } input #inv-email type="email" name="email" required; }
                    div.field { label for="inv-name" { (ctx.t("account.name")) } input #inv-name type="text" name="name" required; }
                    div.field { label for="inv-role" { (ctx.t("admin.role")) }
                        select #inv-role name="role" {
                            option value="admin" { (ctx.t("role.admin")) }
                            option value="auditor" { (ctx.t("role.auditor")) }
                        } }
                    div.field { label for="inv-lang" { (ctx.t("account.language")) }
                        select #inv-lang name="language" { @for l in &a.languages { option value=(l) { (super::i18n::language_name(&ctx, l)) } } } }
                    div.actions { button type="submit" { (ctx.t("admin.send_invitation")) } }
                }
            }
            section aria-labelledby="h-rounds" {
                h2 #h-rounds { (ctx.t("admin.rounds")) }
                @for (r, detail, scores) in &round_blocks {
                    @let decided = a.judging_rounds().iter().any(|spec| {
                        Some(spec.id.as_str()) == r["round"].as_str()
                            && serde_json::to_value(&spec.advance).is_ok_and(|v| v["rule"] == "decision")
                    });
                    @let spec = a.judging_rounds().into_iter().find(|spec| Some(spec.id.as_str()) == r["round"].as_str());
                    @let round_name = spec.as_ref().map(|spec| text(&ctx, &s.loaded, &spec.name));
                    @let due = spec.as_ref().and_then(|spec| spec.closes.clone()).map(|t| laurel::parse_instant(&t, &a.timeline.time_zone).map_or(t, |x| super::layout::when(&x, &a.timeline.time_zone)));
                    (round_block(&ctx, &award, r, (round_name.as_deref(), due.as_deref()), (detail, scores), decided, &super::entries::Names { entries: &titles, judges: &judge_names }))
                }
            }
            section aria-labelledby="h-results" {
                h2 #h-results { (ctx.t("admin.results")) }
                div.actions {
                    (button(&ctx, &award, "results_compute", ctx.t("admin.compute"), &[]))
                    a href={ "/v1/awards/" (award) "/results.csv" } { (ctx.t("admin.csv")) }
                    a href={ "/v1/awards/" (award) "/export" } { (ctx.t("admin.export")) }
                    a href={ "/awards/" (award) "/admin/audit" } { (ctx.t("admin.audit")) }
                }
                @if results.ok() {
                    form.stack method="post" action={ "/awards/" (award) "/admin/do" } {
                        (csrf_field(&ctx))
                        input type="hidden" name="do" value="results_publish";
                        label.choice for="publish-confirm" {
                            input #publish-confirm type="checkbox" name="confirm" value="1" required;
                            (ctx.t("admin.publish_confirm"))
                        }
                        div.actions { button type="submit" { (ctx.t("admin.publish")) } }
                    }
                }
                (super::mentions::section(&ctx, &award, &s, &titles, &record.json["special_mentions"]))
                @if results.ok() { (results_table(&ctx, &award, &results.json, &record.json["published"], &a.timeline.time_zone, &super::entries::Names { entries: &titles, judges: &judge_names }, &s.loaded)) }
            }
        },
    )
}

/// How many entries of a list the dashboard shows; the entries list has the rest.
const SHOWN: usize = 50;

/// How many of a judge's entries still to mark the dashboard names.
const DUE_SHOWN: usize = 10;

/// The entries a round's block names: each judge's first entries still to mark, those who
/// went on, and, when the committee decides a closed round, its entrants.
fn shown_in_round(r: &Value, detail: &Value) -> Vec<String> {
    let mut out: Vec<String> = detail["progress"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
        .flat_map(|p| {
            p["due"]
                .as_array()
                .into_iter()
                .flatten()
                .take(DUE_SHOWN)
                .filter_map(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    out.extend(super::entries::ids_in(&detail["advanced"]));
    if r["status"] == "closed" && detail["advanced"].is_null() {
        out.extend(super::entries::ids_in(&detail["entrants"]));
    }
    out
}

/// A closed round's entrants: category name, score and rank, by application.
type Scores = BTreeMap<String, (String, String, Option<u64>)>;

/// Every name the page can put for an id: judges', entries' (with their id), categories',
/// criteria's and indicators'.
fn names_here(
    ctx: &Ctx,
    loaded: &crate::server::state::Loaded,
    names: &super::entries::Names<'_>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = names.judges.clone();
    out.extend(
        names
            .entries
            .keys()
            .map(|id| (id.clone(), super::entries::plain(id, names.entries))),
    );
    for r in loaded.award.judging_rounds() {
        out.entry(r.id.clone())
            .or_insert_with(|| text(ctx, loaded, &r.name));
    }
    for c in &loaded.award.categories {
        out.insert(c.id.as_str().to_owned(), text(ctx, loaded, &c.name));
        for k in &c.criteria {
            out.entry(k.id.as_str().to_owned())
                .or_insert_with(|| text(ctx, loaded, &k.name));
            for i in &k.indicators {
                out.entry(i.id.as_str().to_owned())
                    .or_insert_with(|| text(ctx, loaded, &i.name));
            }
        }
    }
    out
}

/// A category's name in the page's language, or its id when the award has none by it.
fn category_name(ctx: &Ctx, loaded: &crate::server::state::Loaded, id: &str) -> String {
    loaded
        .award
        .category(id)
        .map_or_else(|| id.to_owned(), |c| text(ctx, loaded, &c.name))
}

fn round_block(
    ctx: &Ctx,
    award: &str,
    r: &Value,
    (name, due): (Option<&str>, Option<&str>),
    (detail, scores): (&Value, &Scores),
    decided_by_admin: bool,
    names: &super::entries::Names<'_>,
) -> Markup {
    let id = r["round"].as_str().unwrap_or_default();
    let status = r["status"].as_str().unwrap_or_default();
    // Each judge's progress, as the round's answer counts it from the marks' keys.
    let progress = detail["progress"].as_object().cloned().unwrap_or_default();
    let any_marked = progress
        .values()
        .any(|p| p["marked"].as_u64().unwrap_or(0) > 0);
    let entrants: Vec<String> = detail["entrants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect();
    // The committee reads them by category, best first.
    let mut entrants = entrants;
    entrants.sort_by_key(|e| {
        scores
            .get(e)
            .map_or((String::new(), u64::MAX), |(c, _, r)| {
                (c.clone(), r.unwrap_or(u64::MAX))
            })
    });
    html! {
        h3 { (name.unwrap_or(id)) " " span.badge { (status_label(ctx, status)) } }
        @if let Some(due) = due { p { (ctx.tf("admin.round_due", &[("at", due)])) } }
        div.actions {
            @if status == "not_open" {
                form.inline method="post" action={ "/awards/" (award) "/admin/do" } {
                    (csrf_field(ctx))
                    input type="hidden" name="do" value="round_open";
                    input type="hidden" name="round" value=(id);
                    label.choice for={ "seed-" (id) } { (ctx.t("admin.seed")) }
                    input id={ "seed-" (id) } type="number" name="seed" value="1" min="0";
                    button.secondary type="submit" { (ctx.t("admin.open_round")) }
                }
            }
            @if status == "open" {
                (button(ctx, award, "round_close", ctx.t("admin.close_round"), &[("round", id)]))
                (button(ctx, award, "remind", ctx.t("admin.remind"), &[("round", id)]))
            }
            @if status == "closed" && detail["advanced"].is_null() && !decided_by_admin {
                (button(ctx, award, "round_advance", ctx.t("admin.advance"), &[("round", id)]))
            }
            @if status != "not_open" && any_marked {
                a href={ "/awards/" (award) "/admin/rounds/" (id) "/diagnostics" } { (ctx.t("admin.diagnostics")) }
            }
        }
        @if let Some(coverage) = detail.get("coverage").filter(|c| !c.is_null()) {
            details { summary { (ctx.t("admin.coverage")) } (super::draw::coverage(ctx, coverage, names)) }
        }
        @if let Some(shortfalls) = detail["shortfalls"].as_array().filter(|s| !s.is_empty()) {
            p.warning { (ctx.t("admin.shortfalls")) " " (readable(&Value::Array(shortfalls.clone()))) }
        }
        @if !progress.is_empty() {
            h4 { (ctx.t("admin.progress")) }
            div.scroll tabindex="0" { table {
                thead { tr { th { (ctx.t("admin.judge")) } th { (ctx.t("admin.done_count")) } th { (ctx.t("admin.still_due")) } } }
                tbody {
                    @for (judge, p) in &progress {
                        @let assigned = p["assigned"].as_u64().unwrap_or(0);
                        @let done = p["marked"].as_u64().unwrap_or(0);
                        @let due: Vec<&str> = p["due"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                        tr {
                            th scope="row" { (names.judge(judge)) }
                            td { (done) " / " (assigned) " "
                                progress max=(assigned.max(1)) value=(done) aria-label=(ctx.tf("admin.progress_of", &[("judge", &names.judge(judge))])) {} }
                            td { @if assigned == 0 { (ctx.t("admin.nothing_given")) }
                                @else if due.is_empty() { span.marked { "✓ " (ctx.t("admin.all_marked")) } }
                                @else {
                                    ul.compact { @for a in due.iter().take(DUE_SHOWN) { li { (super::entries::name(a, names.entries)) } } }
                                    @if due.len() > DUE_SHOWN { p.hint { (ctx.tf("admin.due_more", &[("n", &(due.len() - DUE_SHOWN).to_string())])) } }
                                } }
                        }
                    }
                }
            } }
        }
        @if status == "closed" && detail["advanced"].is_null() && decided_by_admin {
            h4 { (ctx.t("admin.decide")) }
            form.stack method="post" action={ "/awards/" (award) "/admin/do" } {
                (csrf_field(ctx))
                input type="hidden" name="do" value="round_decide";
                input type="hidden" name="round" value=(id);
                @for e in &entrants {
                    fieldset {
                        legend { (super::entries::name(e, names.entries))
                            @if let Some((category, score, rank)) = scores.get(e) {
                                " · " (category) " · " (ctx.t("trace.score")) " " (score)
                                @if let Some(rank) = rank { " (#" (rank) ")" }
                            } }
                        label.choice for={ "win-" (e) } { input type="checkbox" id={ "win-" (e) } name={ "win." (e) } value="1"; (ctx.t("admin.goes_on")) }
                        label for={ "why-" (e) } { (ctx.t("admin.reason")) }
                        input type="text" id={ "why-" (e) } name={ "why." (e) };
                    }
                }
                div.actions { button type="submit" { (ctx.t("admin.record_decisions")) } }
            }
        }
        @if let Some(advanced) = detail["advanced"].as_array() {
            p { (ctx.t("admin.went_on")) ": " (advanced.iter().filter_map(|a| a["application"].as_str()).map(|a| super::entries::plain(a, names.entries)).collect::<Vec<_>>().join(", ")) }
        }
    }
}

/// The latest results, and whether they are the ones published (`published`: the award's
/// publication, if any).
fn results_table(
    ctx: &Ctx,
    award: &str,
    results: &Value,
    published: &Value,
    zone: &str,
    names: &super::entries::Names<'_>,
    loaded: &crate::server::state::Loaded,
) -> Markup {
    let at = published["at"].as_str().unwrap_or_default();
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .map_or_else(|_| at.to_owned(), |t| super::layout::when(&t, zone));
    let apps = results["results"]["applications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let warnings = results["results"]["warnings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    html! {
        @if !warnings.is_empty() {
            // The warnings quote ids: names in their place.
            @let every_name = names_here(ctx, loaded, names);
            div.warning { ul { @for w in &warnings { li { (super::entries::with_names(w.as_str().unwrap_or_default(), &every_name)) } } } }
        }
        p { (ctx.t("admin.published")) ": " (
            if published.is_object() && published["seq"] == results["seq"] {
                ctx.tf("admin.published_on", &[("at", &at)])
            } else if published.is_object() {
                ctx.tf("admin.published_earlier", &[("seq", &published["seq"].to_string())])
            } else {
                ctx.t("form.no").to_owned()
            }
        ) }
        div.scroll tabindex="0" { table {
            thead { tr { th { (ctx.t("app.entry")) } th { (ctx.t("app.category")) } th { (ctx.t("app.outcome")) } th { (ctx.t("admin.path")) } } }
            tbody { @for x in &apps {
                @let id = x["application"].as_str().unwrap_or_default();
                tr {
                    td { (super::entries::name(id, names.entries)) }
                    td { (category_name(ctx, loaded, x["category"].as_str().unwrap_or_default())) }
                    td { (status_label(ctx, x["outcome"].as_str().unwrap_or_default())) }
                    td {
                        @for r in x["rounds"].as_array().into_iter().flatten() {
                            @let round = r["round"].as_str().unwrap_or_default();
                            span { (round) ": "
                                @if r["score"].is_null() { "—" } @else {
                                    a href={ "/awards/" (award) "/admin/results/" (id) "?round=" (round) } {
                                        (r["score"].as_str().map_or_else(|| readable(&r["score"]), str::to_owned))
                                    }
                                }
                                @if let Some(rank) = r["rank"].as_u64() { " (#" (rank) ")" }
                                " "
                            }
                        }
                    }
                }
            } }
        } }
    }
}

pub async fn act(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, form.get("csrf").map_or("", String::as_str)) {
        return *r;
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let action = get("do");
    let round = get("round");
    let base = format!("/v1/awards/{award}");
    let reply = match action.as_str() {
        "open" | "close" => {
            api.post(&ctx, &format!("{base}/{action}"), &json!({}))
                .await
        }
        "registration_open" | "registration_close" => {
            api.send(
                &ctx,
                Method::PUT,
                &format!("{base}/registration"),
                &json!({ "open": action == "registration_open" }),
            )
            .await
        }
        "invite" => {
            let judge = Some(get("judge")).filter(|j| !j.is_empty() && get("role") == "judge");
            api.post(
                &ctx,
                &format!("{base}/invitations"),
                &json!({ "email": get("email"), "name": get("name"), "role": get("role"), "judge": judge, "language": get("language") }),
            )
            .await
        }
        "round_open" => {
            let seed: u64 = get("seed").parse().unwrap_or(1);
            api.post(
                &ctx,
                &format!("{base}/rounds/{round}/open"),
                &json!({ "seed": seed }),
            )
            .await
        }
        "round_close" => {
            api.post(&ctx, &format!("{base}/rounds/{round}/close"), &json!({}))
                .await
        }
        "round_advance" => {
            api.post(&ctx, &format!("{base}/rounds/{round}/advance"), &json!({}))
                .await
        }
        "round_decide" => {
            let decisions: Vec<Value> = form
                .keys()
                .filter_map(|k| k.strip_prefix("win."))
                .map(|app| json!({ "application": app, "reason": get(&format!("why.{app}")) }))
                .collect();
            api.post(
                &ctx,
                &format!("{base}/rounds/{round}/advance"),
                &json!({ "decisions": decisions }),
            )
            .await
        }
        "remind" => {
            api.post(&ctx, &format!("{base}/rounds/{round}/remind"), &json!({}))
                .await
        }
        "results_compute" => api.post(&ctx, &format!("{base}/results"), &json!({})).await,
        "results_publish" if !form.contains_key("confirm") => {
            super::api::Reply::bad_request(ctx.t("admin.publish_unconfirmed"))
        }
        "results_publish" => {
            api.post(&ctx, &format!("{base}/results/publish"), &json!({}))
                .await
        }
        _ => super::api::Reply::bad_request("unknown action"),
    };
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    redirect(&format!("/awards/{award}/admin?done={action}"))
}

pub async fn application(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, id)): Path<(String, String)>,
) -> Response {
    let reply = api
        .get(&ctx, &format!("/v1/awards/{award}/applications/{id}"))
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    let app = &reply.json;
    let fields = app["application"]["fields"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let needs_review = app["eligibility"]["status"] == "needs_review";
    let category = app["application"]["category"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let loaded = shown(&state, &award).await;
    let titles = super::entries::titles_of(std::slice::from_ref(app));
    page(
        &ctx,
        &super::entries::plain(&id, &titles),
        html! {
            h1 { (super::entries::name(&id, &titles)) }
            dl.facts {
                dt { (ctx.t("app.status")) } dd { (status_label(&ctx, app["status"].as_str().unwrap_or_default())) }
                dt { (ctx.t("app.category")) } dd { (loaded.as_ref().and_then(|l| l.loaded.award.category(&category).map(|c| text(&ctx, &l.loaded, &c.name))).unwrap_or_else(|| category.clone())) }
                dt { (ctx.t("app.eligibility")) } dd { (super::apply::eligibility_label(&ctx, app)) }
                @for (k, v) in &fields {
                    dt { (loaded.as_ref().map_or_else(|| k.clone(), |l| super::form::label_of(&ctx, &l.loaded.award, &category, k))) }
                    dd { (super::judge::files_or_value(&loaded.as_ref().map_or_else(|| with_downloads(v, &award, &id, k), |l| super::form::shown_value(&ctx, &l.loaded.award, &category, k, &with_downloads(v, &award, &id, k))))) }
                }
            }
            @if let Some(failures) = app["eligibility"]["failures"].as_array().filter(|f| !f.is_empty()) {
                h2 { (ctx.t(if app["eligibility"]["status"] == "eligible" { "app.notes" } else { "app.reasons" })) }
                @let default = loaded.as_ref().map_or_else(|| "en".to_owned(), |l| l.loaded.award.default_language.clone());
                ul { @for f in failures { li { (super::apply::message(&ctx, &default, &f["message"])) " " span.badge { (f["rule"].as_str().unwrap_or_default()) } } } }
            }
            @if needs_review && app["review"].is_null() {
                h2 { (ctx.t("admin.review")) }
                form.stack method="post" action={ "/awards/" (award) "/admin/applications/" (id) } {
                    (csrf_field(&ctx))
                    fieldset {
                        legend { (ctx.t("admin.decision")) }
                        label.choice for="eligible-yes" { input #eligible-yes type="radio" name="eligible" value="true" required; (ctx.t("admin.admit")) }
                        label.choice for="eligible-no" { input #eligible-no type="radio" name="eligible" value="false"; (ctx.t("admin.refuse")) }
                    }
                    div.field { label for="review-reason" { (ctx.t("admin.reason")) } textarea #review-reason name="reason" required {} }
                    div.actions { button type="submit" { (ctx.t("admin.record_review")) } }
                }
            }
            @if let Some(review) = app["review"].as_object() {
                h2 { (ctx.t("app.review")) }
                p { (readable(&Value::Object(review.clone()))) }
            }
            p { a href={ "/awards/" (award) "/admin" } { (ctx.t("admin.back")) } }
        },
    )
}

/// A field's file references with where an administrator downloads each.
fn with_downloads(v: &Value, award: &str, app: &str, field: &str) -> Value {
    let url = format!("/v1/awards/{award}/applications/{app}/files/{field}");
    match v {
        Value::Object(m) if m.contains_key("sha256") => {
            let mut m = m.clone();
            m.insert("download".to_owned(), Value::String(url));
            Value::Object(m)
        }
        Value::Array(items)
            if !items.is_empty() && items.iter().all(|i| i.get("sha256").is_some()) =>
        {
            Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let mut m = item.as_object().cloned().unwrap_or_default();
                        m.insert(
                            "download".to_owned(),
                            Value::String(format!("{url}?item={i}")),
                        );
                        Value::Object(m)
                    })
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    eligible: String,
    #[serde(default)]
    reason: String,
}

pub async fn review(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, id)): Path<(String, String)>,
    Form(form): Form<ReviewForm>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, &form.csrf) {
        return *r;
    }
    let reply = api
        .post(
            &ctx,
            &format!("/v1/awards/{award}/applications/{id}/review"),
            &json!({ "eligible": form.eligible == "true", "reason": form.reason }),
        )
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    redirect(&format!("/awards/{award}/admin?done=review"))
}
