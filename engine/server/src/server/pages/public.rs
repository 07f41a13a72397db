//! Pages for everyone: the awards, each call's text and dates, and published results.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;

use super::Ctx;
use super::layout::{csrf_field, page, page_with, when};
use crate::server::records::{AwardRecord, AwardState, ResultsRecord};
use crate::server::state::{AppState, Loaded};
use crate::store::{Tree, get_json, key};

/// An award with its current version, loaded.
pub(super) struct Shown {
    pub record: AwardRecord,
    pub loaded: Arc<Loaded>,
}

/// An award with its current version, if it has one that loads.
async fn loaded(state: &AppState, record: AwardRecord) -> Option<Shown> {
    let version = record.current()?;
    let loaded = state.loaded(&record.id, version).await.ok()?;
    Some(Shown { record, loaded })
}

/// The awards on the home page at once.
const HOME_PAGE: usize = 50;

/// A page of the awards with a published version, in id order after `after`, read from the
/// store a chunk at a time: what it costs does not grow with the installation. The id to
/// continue after, when more may follow.
pub(super) async fn awards_page(
    state: &AppState,
    after: Option<&str>,
) -> (Vec<Shown>, Option<String>) {
    let mut cursor = after.map(|a| a.as_bytes().to_vec());
    let mut out = Vec::new();
    loop {
        let chunk = state
            .store
            .scan_from(Tree::Awards, b"", cursor.as_deref(), HOME_PAGE + 1)
            .unwrap_or_default();
        let read = chunk.len();
        for (k, v) in chunk {
            cursor = Some(k);
            let Ok(record) = serde_json::from_slice::<AwardRecord>(&v) else {
                continue;
            };
            if let Some(s) = loaded(state, record).await {
                if out.len() == HOME_PAGE {
                    let last = out.last().map(|s: &Shown| s.record.id.clone());
                    return (out, last);
                }
                out.push(s);
            }
        }
        if read <= HOME_PAGE {
            return (out, None);
        }
    }
}

/// Where a list of awards starts (the home page's, an administrator's dashboards): after the
/// award named (the "more awards" link).
#[derive(Debug, serde::Deserialize)]
pub struct HomeQuery {
    pub(super) after: Option<String>,
}

/// One award with its current version.
pub(super) async fn shown(state: &AppState, id: &str) -> Option<Shown> {
    let record: AwardRecord =
        get_json(state.store.as_ref(), Tree::Awards, id.as_bytes()).ok()??;
    let loaded = state.loaded(id, record.current()?).await.ok()?;
    Some(Shown { record, loaded })
}

/// What an administrator's page of an award starts from: every application the visitor may
/// see, and the award; else the page to show instead (sign in, the API's refusal, home).
pub(super) async fn with_entries(
    state: &AppState,
    api: &super::api::Api,
    ctx: &Ctx,
    award: &str,
) -> Result<(Vec<serde_json::Value>, Shown), Box<axum::response::Response>> {
    if ctx.person.is_none() {
        return Err(Box::new(super::layout::redirect("/sign-in")));
    }
    let apps = api
        .applications(ctx, award)
        .await
        .map_err(|refused| Box::new(super::layout::problem(ctx, &refused)))?;
    let s = shown(state, award)
        .await
        .ok_or_else(|| Box::new(super::layout::redirect("/")))?;
    Ok((apps, s))
}

/// A text of the award in the page's language.
pub(super) fn text(ctx: &Ctx, loaded: &Loaded, t: &laurel::Text) -> String {
    t.get(&ctx.lang, &loaded.award.default_language).to_owned()
}

/// Whether the call takes applications now.
pub(super) fn call_open(state: &AppState, s: &Shown) -> bool {
    let (opens, closes) = s.record.window(&s.loaded.award);
    let now = state.now();
    s.record.state == AwardState::Open && opens <= now && now < closes
}

fn state_badge(ctx: &Ctx, state: &AppState, s: &Shown) -> Markup {
    let label = if s.record.published.is_some() {
        ctx.t("award.state.published")
    } else if call_open(state, s) {
        ctx.t("award.state.open")
    } else if s.record.state == AwardState::Draft {
        ctx.t("award.state.draft")
    } else {
        ctx.t("award.state.closed")
    };
    html! { span.badge { (label) } }
}

pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<HomeQuery>,
) -> Response {
    let (all, more) = awards_page(&state, q.after.as_deref()).await;
    page(
        &ctx,
        ctx.t("home.title"),
        html! {
            h1 { (ctx.t("home.title")) }
            p { (ctx.t("home.intro")) }
            @if all.is_empty() {
                p { (ctx.t("home.none")) }
            }
            ul.cards {
                @for s in &all {
                    li {
                        h2 { a href={ "/awards/" (s.record.id) } { (text(&ctx, &s.loaded, &s.loaded.award.name)) } }
                        p { (state_badge(&ctx, &state, s)) " " (s.loaded.award.edition) }
                        p { (ctx.t("award.closes")) ": " (when(&s.loaded.award.timeline.closes, &s.loaded.award.timeline.time_zone)) }
                        @if s.record.published.is_some() {
                            p { a href={ "/awards/" (s.record.id) "/results" } { (ctx.t("award.results_link")) } }
                        }
                    }
                }
            }
            @if let Some(last) = &more {
                p { a rel="next" href={ "/?after=" (crate::server::paging::encode(last)) } { (ctx.t("home.more")) } }
            }
        },
    )
}

fn not_found(ctx: &Ctx) -> Response {
    page_with(
        ctx,
        StatusCode::NOT_FOUND,
        ctx.t("problem.404"),
        html! { h1 { (ctx.t("problem.404")) } p { a href="/" { (ctx.t("problem.home")) } } },
    )
}

pub async fn award(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let Some(s) = shown(&state, &id).await else {
        return not_found(&ctx);
    };
    let a = &s.loaded.award;
    let tz = &a.timeline.time_zone;
    let open = call_open(&state, &s);
    let (opens, closes) = s.record.window(a);
    let name = text(&ctx, &s.loaded, &a.name);
    page(
        &ctx,
        &name,
        html! {
            h1 { (name) }
            p { (state_badge(&ctx, &state, &s)) " " (a.edition) }
            @if let Some(d) = &a.description {
                p { (text(&ctx, &s.loaded, d)) }
            }
            dl.facts {
                dt { (ctx.t("award.opens")) } dd { (when(&opens.fixed_offset(), tz)) }
                dt { (ctx.t("award.closes")) } dd { (when(&closes.fixed_offset(), tz)) }
                dt { (ctx.t("award.results")) } dd { (when(&a.timeline.results, tz)) }
            }
            h2 { (ctx.t("award.categories")) }
            ul {
                @for c in &a.categories {
                    li {
                        strong { (text(&ctx, &s.loaded, &c.name)) }
                        @if let Some(d) = &c.description { " — " (text(&ctx, &s.loaded, d)) }
                    }
                }
            }
            h2 { (ctx.t("award.who")) }
            ul {
                @for t in &a.applicant_types {
                    li {
                        strong { (text(&ctx, &s.loaded, &t.name)) }
                        @if let Some(d) = &t.description { " — " (text(&ctx, &s.loaded, d)) }
                    }
                }
            }
            @if s.record.published.is_some() {
                p { a.button href={ "/awards/" (id) "/results" } { (ctx.t("award.results_link")) } }
            }
            @if open {
                h2 { (ctx.t("award.apply")) }
                @if ctx.person.is_some() {
                    p { a.button href={ "/awards/" (id) "/apply" } { (ctx.t("award.apply_now")) } }
                } @else if s.record.registration_closed {
                    p { (ctx.t("award.invitation_only")) }
                } @else {
                    p { (ctx.t("award.register_intro")) }
                    form.stack method="post" action={ "/awards/" (id) "/register" } {
                        (csrf_field(&ctx))
                        div.field {
                            label for="reg-name" { (ctx.t("account.name")) }
                            input #reg-name name="name" type="text" autocomplete="name" required;
                        }
                        div.field {
                            label for="reg-email" { (ctx.t("account.email")) }
                            input #reg-email name="email" type="email" autocomplete="email" required;
                        }
                        div.field {
                            label for="reg-lang" { (ctx.t("account.language")) }
                            select #reg-lang name="language" {
                                @for l in &a.languages {
                                    option value=(l) selected[*l == ctx.lang] { (l) }
                                }
                            }
                        }
                        div.actions { button type="submit" { (ctx.t("account.register")) } }
                    }
                    p { (ctx.t("account.have_account")) " " a href="/sign-in" { (ctx.t("nav.sign_in")) } }
                }
            }
        },
    )
}

/// The values of an application's fields that the rubric tags `public` (never personal).
pub(super) fn public_name(ctx: &Ctx, loaded: &Loaded, application: &Value) -> String {
    let parts: Vec<String> = loaded
        .award
        .fields
        .iter()
        .filter(|f| f.tags.iter().any(|t| t == "public") && !f.personal)
        .filter_map(|f| {
            // Values by name: a country's, a choice's label.
            super::form::shown_value(
                ctx,
                &loaded.award,
                "",
                f.id.as_str(),
                &application["fields"][f.id.as_str()],
            )
            .as_str()
            .map(str::to_owned)
        })
        .collect();
    parts.join(", ")
}

pub async fn results(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let Some(s) = shown(&state, &id).await else {
        return not_found(&ctx);
    };
    let Some(published) = &s.record.published else {
        return not_found(&ctx);
    };
    let Ok(Some(record)) = get_json::<ResultsRecord>(
        state.store.as_ref(),
        Tree::Results,
        &key(&[id.as_bytes(), &published.seq.to_be_bytes()]),
    ) else {
        return not_found(&ctx);
    };
    let Ok(fin) = serde_json::from_value::<laurel::FinalResults>(record.results) else {
        return not_found(&ctx);
    };
    let loaded = state.loaded(&id, record.version).await.ok();
    let name_of = |app: &str| -> String {
        let Some(loaded) = &loaded else {
            return String::new();
        };
        let stored: Option<crate::server::records::ApplicationRecord> = get_json(
            state.store.as_ref(),
            Tree::Applications,
            &key(&[id.as_bytes(), app.as_bytes()]),
        )
        .ok()
        .flatten();
        stored.map_or_else(String::new, |r| public_name(&ctx, loaded, &r.application))
    };
    let a = &s.loaded.award;
    let title = format!(
        "{} — {}",
        text(&ctx, &s.loaded, &a.name),
        ctx.t("results.title")
    );
    page(
        &ctx,
        &title,
        html! {
            h1 { (title) }
            p { (ctx.t("results.published")) " "
                (chrono::DateTime::parse_from_rfc3339(&published.at).map_or_else(|_| published.at.clone(), |t| when(&t, &a.timeline.time_zone))) }
            @for c in &fin.categories {
                @let category = a.category(&c.category);
                h2 { (category.map_or(c.category.clone(), |x| text(&ctx, &s.loaded, &x.name))) }
                h3 { (ctx.t("results.winners")) }
                @if c.winners.is_empty() { p { (ctx.t("results.no_winner")) } }
                ol {
                    @for w in &c.winners {
                        li {
                            (name_of(&w.application)) " " span.badge { (w.application) }
                            @if let Some(p) = &w.prize {
                                " — " strong { (text(&ctx, &s.loaded, &p.name)) }
                                @if let (Some(amount), Some(currency)) = (&p.amount, &p.currency) {
                                    " (" (amount) " " (currency) ")"
                                }
                                @if p.withheld.is_some() { " (" (ctx.t("results.prize_withheld")) ")" }
                            }
                        }
                    }
                }
                @if !c.special_mentions.is_empty() {
                    h3 { (ctx.t("results.mentions")) }
                    ul {
                        @for m in &c.special_mentions {
                            li { (name_of(&m.application)) " " span.badge { (m.application) } " — " (m.reason) }
                        }
                    }
                }
            }
            p.hint { (ctx.t("results.names_note")) }
            (verification(&ctx, &state, &id, &a.timeline.time_zone))
        },
    )
}

/// How anyone checks the published results: the certificate in force, the key that signed it,
/// the verification file, and the command.
fn verification(ctx: &Ctx, state: &AppState, award: &str, zone: &str) -> Markup {
    let Ok(all) = crate::server::domain::certificates::certificates(state, award) else {
        return html! {};
    };
    let Some(c) = all.last() else {
        return html! {};
    };
    let statement: Value = serde_json::from_str(&c.certificate.statement).unwrap_or(Value::Null);
    let at = statement["published_at"].as_str().unwrap_or_default();
    let at =
        chrono::DateTime::parse_from_rfc3339(at).map_or_else(|_| at.to_owned(), |t| when(&t, zone));
    let file = format!("/v1/awards/{award}/certificates/{}", c.number);
    let command = format!(
        "laurel verify {award}-results-{}.laurel.json --server {}",
        c.number, state.public_url
    );
    let number = c.number.to_string();
    let what: Vec<String> = c
        .mismatches
        .iter()
        .take(5)
        .map(|m| m.what.clone())
        .collect();
    html! {
        section.verification aria-labelledby="verify-title" {
            h2 #verify-title { (ctx.t("results.verify_title")) }
            p { (ctx.t("results.verify_intro")) }
            p { (ctx.tf("results.verify_certificate", &[("number", &number), ("at", &at), ("key", &c.certificate.key)])) }
            @if let Some(n) = statement["replaces"]["certificate"].as_u64() {
                p { (ctx.tf("results.verify_replaces", &[("number", &n.to_string())])) }
            }
            @if !what.is_empty() {
                p.warning role="status" { (ctx.tf("results.verify_mismatch", &[("what", &what.join("; "))])) }
            }
            p {
                a href=(file) download { (ctx.t("results.verify_download")) }
                " · "
                a href="/v1/keys/results" { (ctx.t("results.verify_keys")) }
            }
            p { (ctx.tf("results.verify_how", &[("command", "")])) code { (command) } }
            p.hint { (ctx.t("results.verify_receipt")) }
        }
    }
}
