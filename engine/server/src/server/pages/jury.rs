//! The jury, for an award's administrators: every judge with their organisation, place,
//! expertise, declared conflicts, invitation and load per round; judges added one by one (and
//! invited at once) or from a CSV file (`jury_file.rs`). Every change goes through the API (`PUT …/judges/{id}`, `POST …/invitations`).

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::api::Api;
use super::layout::{check_csrf, csrf_field, page_with, problem, redirect, when_in};
use super::public::{shown, text};
use crate::server::state::AppState;

/// One judge as typed in the form (or read from a row of a file).
#[derive(Debug, Default, Clone)]
pub struct JudgeForm {
    pub(super) name: String,
    pub(super) email: String,
    pub(super) organisation: String,
    pub(super) city: String,
    pub(super) country: String,
    pub(super) expertise: String,
    pub(super) language: String,
    /// Entries the judge declared a conflict with.
    pub(super) conflicts: Vec<String>,
    pub(super) conflict_reason: String,
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// What the page shows besides the jury: a form typed back with its problems.
#[derive(Default)]
pub(super) struct Typed {
    pub(super) form: JudgeForm,
    pub(super) problems: BTreeMap<String, Vec<String>>,
    pub(super) csv: String,
    pub(super) csv_problems: Vec<String>,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    render(
        &state,
        &api,
        &ctx,
        &award,
        &Typed::default(),
        done.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

/// A round's load: each judge's (marked, assigned).
type Load = BTreeMap<String, (usize, usize)>;

/// A judge's invitation, as the people list tells it.
enum Invitation {
    None,
    Sent { until: String, expired: bool },
    Accepted,
}

pub(super) async fn render(
    state: &AppState,
    api: &Api,
    ctx: &Ctx,
    award: &str,
    typed: &Typed,
    done: Option<&str>,
    status: StatusCode,
) -> Response {
    if ctx.person.is_none() {
        return redirect("/sign-in");
    }
    let judges = match api
        .all(ctx, &format!("/v1/awards/{award}/judges?limit=1000"))
        .await
    {
        Ok(j) => j,
        Err(refused) => return problem(ctx, &refused),
    };
    let Some(s) = shown(state, award).await else {
        return redirect("/");
    };
    let a = &s.loaded.award;
    let people = api
        .all(ctx, "/v1/people?limit=1000")
        .await
        .unwrap_or_default();
    let apps = api.applications(ctx, award).await.unwrap_or_default();
    let titles = super::entries::titles_of(&apps);
    let now = state
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let person_of = |judge: &str| -> Option<String> {
        people
            .iter()
            .find(|p| {
                p["grants"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|g| g["award"] == award && g["role"] == "judge" && g["judge"] == judge)
            })
            .and_then(|p| p["person"].as_str().map(str::to_owned))
    };
    let invitation = |judge: &str| -> (Invitation, String) {
        let person = people.iter().find(|p| {
            p["grants"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|g| g["award"] == award && g["role"] == "judge" && g["judge"] == judge)
        });
        match person {
            None => (Invitation::None, String::new()),
            Some(p) if p["verified"] == true => (
                Invitation::Accepted,
                p["email"].as_str().unwrap_or_default().to_owned(),
            ),
            Some(p) => {
                let until = p["link_expires_at"].as_str().unwrap_or_default().to_owned();
                let expired = until.is_empty() || until < now;
                (
                    Invitation::Sent { until, expired },
                    p["email"].as_str().unwrap_or_default().to_owned(),
                )
            }
        }
    };
    // Each round's load: assigned and marked per judge.
    let mut loads: Vec<(String, Load)> = Vec::new();
    for spec in a.judging_rounds() {
        let id = spec.id.as_str();
        let detail = api
            .get(ctx, &format!("/v1/awards/{award}/rounds/{id}"))
            .await;
        let Some(assignments) = detail.json["assignments"].as_object() else {
            continue;
        };
        let marks = api
            .all(
                ctx,
                &format!("/v1/awards/{award}/rounds/{id}/marks?limit=1000"),
            )
            .await
            .unwrap_or_default();
        let mut load = BTreeMap::new();
        for (judge, theirs) in assignments {
            let theirs = theirs.as_array().cloned().unwrap_or_default();
            let marked = theirs
                .iter()
                .filter(|app| {
                    marks
                        .iter()
                        .any(|m| m["judge"] == judge.as_str() && m["application"] == **app)
                })
                .count();
            load.insert(judge.clone(), (marked, theirs.len()));
        }
        loads.push((text(ctx, &s.loaded, &spec.name), load));
    }
    let name = text(ctx, &s.loaded, &a.name);
    let f = &typed.form;
    let err = |field: &str| typed.problems.get(field).cloned().unwrap_or_default();
    page_with(
        ctx,
        status,
        &format!("{name} — {}", ctx.t("jury.title")),
        html! {
            h1 { (name) " — " (ctx.t("jury.title")) }
            @if let Some(d) = done { p.notice role="status" { (super::layout::done_text(ctx, d)) } }
            @if !typed.problems.is_empty() || !typed.csv_problems.is_empty() {
                div.problem role="alert" tabindex="-1" id="problems" {
                    p { (ctx.t("jury.not_added")) }
                    ul {
                        @for (field, messages) in &typed.problems { @for m in messages {
                            li { a href={ "#j-" (field) } { (ctx.t(&format!("jury.{field}"))) } ": " (m) }
                        } }
                        @for m in &typed.csv_problems { li { a href="#csv-file" { (m) } } }
                    }
                }
            }
            p { a href={ "/awards/" (award) "/admin" } { (ctx.t("admin.back")) } }
            h2 { (ctx.t("jury.judges")) " (" (judges.len()) ")" }
            @if judges.is_empty() { p { (ctx.t("jury.none")) } }
            @else {
                div.scroll tabindex="0" { table {
                    thead { tr {
                        th { (ctx.t("jury.name")) }
                        th { (ctx.t("jury.where")) }
                        th { (ctx.t("jury.expertise_head")) }
                        th { (ctx.t("jury.conflicts")) }
                        th { (ctx.t("jury.invitation")) }
                        @for (round, _) in &loads { th { (round) } }
                    } }
                    tbody { @for j in &judges {
                        @let id = j["id"].as_str().unwrap_or_default();
                        @let (inv, email) = invitation(id);
                        tr {
                            th scope="row" { (j["name"].as_str().unwrap_or(id)) }
                            td { (place(ctx, j)) }
                            td { (list(&j["expertise"])) }
                            td {
                                @for c in j["declared_conflicts"].as_array().into_iter().flatten() {
                                    @let app = c["application"].as_str().unwrap_or_default();
                                    div { (super::entries::name(app, &titles)) ": " (c["reason"].as_str().unwrap_or_default()) }
                                }
                            }
                            td {
                                @match &inv {
                                    Invitation::None => { (ctx.t("jury.not_invited")) }
                                    Invitation::Accepted => { span.marked { (ctx.t("jury.accepted")) } br; (email) }
                                    Invitation::Sent { until, expired: false } => { (ctx.tf("jury.invited_until", &[("at", &when_in(until, &a.timeline.time_zone))])) br; (email) }
                                    Invitation::Sent { expired: true, .. } => { span.due { (ctx.t("jury.expired")) } br; (email) }
                                }
                                @if !matches!(inv, Invitation::Accepted) && !email.is_empty() {
                                    (resend(ctx, award, id, &email, j["name"].as_str().unwrap_or(id)))
                                }
                                @if let Some(person) = person_of(id) {
                                    form.inline method="post" action={ "/awards/" (award) "/admin/jury/revoke" } {
                                        (csrf_field(ctx))
                                        input type="hidden" name="person" value=(person);
                                        button.secondary type="submit" aria-label=(ctx.tf("jury.revoke_for", &[("name", j["name"].as_str().unwrap_or(id))])) { (ctx.t("jury.revoke")) }
                                    }
                                }
                            }
                            @for (_, load) in &loads {
                                td { @match load.get(id) { Some((m, n)) => { (m) " / " (n) } None => { "—" } } }
                            }
                        }
                    } }
                } }
            }
            h2 #add { (ctx.t("jury.add")) }
            p { (ctx.t("jury.add_help")) }
            form.stack method="post" action={ "/awards/" (award) "/admin/jury" } {
                (csrf_field(ctx))
                (input(ctx, "name", &f.name, "text", true, &err("name")))
                (input(ctx, "email", &f.email, "email", false, &err("email")))
                (input(ctx, "organisation", &f.organisation, "text", false, &err("organisation")))
                (input(ctx, "city", &f.city, "text", false, &err("city")))
                div.field {
                    label for="j-country" { (ctx.t("jury.country")) }
                    select #j-country name="country" {
                        option value="" { "—" }
                        @for (code, country) in laurel::countries_in(&ctx.lang) {
                            option value=(code) selected[f.country == code] { (country) }
                        }
                    }
                    @for m in &err("country") { p.problem { (m) } }
                }
                (input(ctx, "expertise", &f.expertise, "text", false, &err("expertise")))
                div.field {
                    label for="j-conflicts" { (ctx.t("jury.conflicts")) }
                    p.help id="j-conflicts-help" { (ctx.t("jury.conflicts_help")) }
                    select #j-conflicts name="conflicts" multiple size="5" aria-describedby="j-conflicts-help" {
                        @for app in &apps {
                            @let id = app["id"].as_str().unwrap_or_default();
                            option value=(id) selected[f.conflicts.iter().any(|c| c == id)] { (super::entries::plain(id, &titles)) }
                        }
                    }
                }
                (input(ctx, "conflict_reason", &f.conflict_reason, "text", false, &err("conflict_reason")))
                div.field {
                    label for="j-language" { (ctx.t("account.language")) }
                    select #j-language name="language" {
                        @for l in &a.languages { option value=(l) selected[f.language == *l] { (super::i18n::language_name(ctx, l)) } }
                    }
                }
                div.actions { button type="submit" { (ctx.t("jury.add_button")) } }
            }
            h2 #import { (ctx.t("jury.import")) }
            p { (ctx.t("jury.import_help")) }
            pre.source { "name,email,organisation,city,country,expertise\nKim Min-jun,kim@example.org,Seoul Institute,Seoul,KR,mobility;data" }
            form.stack method="post" enctype="multipart/form-data" action={ "/awards/" (award) "/admin/jury/import" } {
                (csrf_field(ctx))
                div.field {
                    label for="csv-file" { (ctx.t("jury.csv_file")) }
                    input #csv-file type="file" name="file" accept=".csv,text/csv";
                }
                div.field {
                    label for="csv-text" { (ctx.t("jury.csv_text")) }
                    textarea #csv-text name="text" rows="5" { (typed.csv) }
                }
                div.actions { button type="submit" { (ctx.t("jury.import_button")) } }
            }
        },
    )
}

fn input(
    ctx: &Ctx,
    field: &str,
    value: &str,
    kind: &str,
    required: bool,
    problems: &[String],
) -> Markup {
    let id = format!("j-{field}");
    html! {
        div.field {
            label for=(id) { (ctx.t(&format!("jury.{field}"))) @if required { " *" } }
            input id=(id) type=(kind) name=(field) value=(value) required[required] aria-invalid=[(!problems.is_empty()).then_some("true")];
            @for m in problems { p.problem { (m) } }
        }
    }
}

fn resend(ctx: &Ctx, award: &str, judge: &str, email: &str, name: &str) -> Markup {
    html! {
        form.inline method="post" action={ "/awards/" (award) "/admin/jury/invite" } {
            (csrf_field(ctx))
            input type="hidden" name="judge" value=(judge);
            input type="hidden" name="email" value=(email);
            input type="hidden" name="name" value=(name);
            button.secondary type="submit" aria-label=(ctx.tf("jury.resend_to", &[("name", name)])) { (ctx.t("jury.resend")) }
        }
    }
}

/// Organisation, city and country (by name in the reader's language).
fn place(ctx: &Ctx, j: &Value) -> String {
    let country = j["country"]
        .as_str()
        .map(|c| laurel::country_name(c, &ctx.lang).map_or_else(|| c.to_owned(), str::to_owned));
    [
        j["organisation"].as_str().map(str::to_owned),
        j["city"].as_str().map(str::to_owned),
        country,
    ]
    .into_iter()
    .flatten()
    .filter(|x| !x.is_empty())
    .collect::<Vec<_>>()
    .join(" · ")
}

fn list(v: &Value) -> String {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A judge id for a new judge: `judge-` and the name's letters, or the next free number
/// when the name has none that fit an id (a name in Hangul, say) or the id is taken.
pub(super) fn new_id(name: &str, taken: &[String]) -> String {
    let slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug: String = slug.chars().take(40).collect();
    let base = if slug.is_empty() {
        "judge".to_owned()
    } else {
        format!("judge-{slug}")
    };
    (1..)
        .map(|n| {
            if n == 1 && !slug.is_empty() {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|id| !taken.iter().any(|t| t == id))
        .unwrap_or(base)
}

/// The judge as the API takes it.
pub(super) fn judge_body(id: &str, f: &JudgeForm) -> Value {
    let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let expertise: Vec<String> = f
        .expertise
        .split([',', ';'])
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
        .collect();
    let reason = some(&f.conflict_reason).unwrap_or_else(|| "Declared by the judge".to_owned());
    let conflicts: Vec<Value> = f
        .conflicts
        .iter()
        .map(|a| json!({ "application": a, "reason": reason }))
        .collect();
    json!({
        "id": id, "name": f.name.trim(), "organisation": some(&f.organisation), "city": some(&f.city),
        "country": some(&f.country), "expertise": expertise, "declared_conflicts": conflicts,
    })
}

/// The form's problems by field, from the API's located answer.
fn by_field(reply: &super::api::Reply) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let problems = reply.problems();
    if problems.is_empty() {
        out.entry("name".to_owned())
            .or_default()
            .push(reply.detail());
    }
    for (pointer, message) in problems {
        let field = match pointer.trim_start_matches('/').split('/').next() {
            Some("declared_conflicts") => "conflicts",
            Some(f @ ("name" | "email" | "organisation" | "city" | "country" | "expertise")) => f,
            _ => "name",
        };
        out.entry(field.to_owned()).or_default().push(message);
    }
    out
}

/// Adds one judge, and invites them when an address is given.
pub async fn add(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    // `conflicts` repeats: the form is read as pairs.
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| super::layout::first(&pairs, k);
    if let Err(r) = check_csrf(&ctx, &get("csrf")) {
        return *r;
    }
    let form = JudgeForm {
        name: get("name"),
        email: get("email"),
        organisation: get("organisation"),
        city: get("city"),
        country: get("country"),
        expertise: get("expertise"),
        language: get("language"),
        conflicts: pairs
            .iter()
            .filter(|(n, _)| n == "conflicts")
            .map(|(_, v)| v.clone())
            .collect(),
        conflict_reason: get("conflict_reason"),
    };
    let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if form.name.trim().is_empty() {
        problems
            .entry("name".to_owned())
            .or_default()
            .push(ctx.t("jury.name_needed").to_owned());
    }
    let email = form.email.trim();
    if !email.is_empty() && !crate::server::people::plausible_email(email) {
        problems
            .entry("email".to_owned())
            .or_default()
            .push(ctx.tf("jury.email_bad", &[("email", email)]));
    }
    if !problems.is_empty() {
        let typed = Typed {
            form,
            problems,
            ..Typed::default()
        };
        return render(
            &state,
            &api,
            &ctx,
            &award,
            &typed,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let taken = taken_ids(&api, &ctx, &award).await;
    let id = new_id(&form.name, &taken);
    let reply = api
        .send(
            &ctx,
            Method::PUT,
            &format!("/v1/awards/{award}/judges/{id}"),
            &judge_body(&id, &form),
        )
        .await;
    if !reply.ok() {
        if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
            let typed = Typed {
                problems: by_field(&reply),
                form,
                ..Typed::default()
            };
            return render(&state, &api, &ctx, &award, &typed, None, reply.status).await;
        }
        return problem(&ctx, &reply);
    }
    if !email.is_empty() {
        let invited = invite(
            &api,
            &ctx,
            &award,
            &id,
            email,
            form.name.trim(),
            &form.language,
        )
        .await;
        if !invited.ok() {
            return problem(&ctx, &invited);
        }
        return redirect(&format!("/awards/{award}/admin/jury?done=judge_invited"));
    }
    redirect(&format!("/awards/{award}/admin/jury?done=judge_added"))
}

async fn taken_ids(api: &Api, ctx: &Ctx, award: &str) -> Vec<String> {
    api.all(ctx, &format!("/v1/awards/{award}/judges?limit=1000"))
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|j| j["id"].as_str().map(str::to_owned))
        .collect()
}

pub(super) async fn invite(
    api: &Api,
    ctx: &Ctx,
    award: &str,
    judge: &str,
    email: &str,
    name: &str,
    language: &str,
) -> super::api::Reply {
    let language = Some(language).filter(|l| !l.is_empty());
    api.post(
        ctx,
        &format!("/v1/awards/{award}/invitations"),
        &json!({ "email": email, "name": name, "role": "judge", "judge": judge, "language": language }),
    )
    .await
}

#[derive(Deserialize)]
pub struct Revoke {
    #[serde(default)]
    csrf: String,
    person: String,
}

/// Takes back a judge's invitation (or their access, once they signed in): their links and
/// sessions no longer make them a judge of the award; their marks stay.
pub async fn revoke(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    axum::Form(form): axum::Form<Revoke>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, &form.csrf) {
        return *r;
    }
    let reply = api
        .post(
            &ctx,
            &format!("/v1/awards/{award}/people/{}/revoke", form.person),
            &json!({ "role": "judge", "reason": "taken back on the jury page" }),
        )
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    redirect(&format!("/awards/{award}/admin/jury?done=judge_revoked"))
}

#[derive(Deserialize)]
pub struct Resend {
    #[serde(default)]
    csrf: String,
    judge: String,
    email: String,
    name: String,
}

/// Sends a judge a new sign-in link (their invitation again).
pub async fn resend_invitation(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    axum::Form(form): axum::Form<Resend>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, &form.csrf) {
        return *r;
    }
    let reply = invite(&api, &ctx, &award, &form.judge, &form.email, &form.name, "").await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    redirect(&format!("/awards/{award}/admin/jury?done=judge_invited"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_new_judge_gets_a_free_id_from_their_name() {
        let taken = vec!["judge-kim".to_owned(), "judge".to_owned()];
        assert_eq!(super::new_id("Ana Souza", &taken), "judge-ana-souza");
        assert_eq!(super::new_id("Kim", &taken), "judge-kim-2");
        assert_eq!(super::new_id("김민준", &taken), "judge-1");
        assert!(laurel::is_id(&super::new_id(&"x".repeat(200), &taken)));
    }
}
