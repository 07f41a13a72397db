//! Registering, signing in and out, and a person's own page.

use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::api::Api;
use super::layout::{check_csrf, csrf_field, page, problem, redirect};
use super::public::text;
use crate::server::records::Role;
use crate::server::state::AppState;

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    language: String,
}

pub async fn register(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    Form(form): Form<RegisterForm>,
) -> Response {
    let reply = api
        .post(
            &ctx,
            &format!("/v1/awards/{award}/register"),
            &json!({ "email": form.email, "name": form.name, "language": form.language }),
        )
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    check_mail(&ctx, "account.check_mail_text")
}

/// "Check your mail", with what to expect.
fn check_mail(ctx: &Ctx, text: &str) -> Response {
    page(
        ctx,
        ctx.t("account.check_mail"),
        html! {
            h1 { (ctx.t("account.check_mail")) }
            p.notice role="status" { (ctx.t(text)) }
        },
    )
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: Option<String>,
}

/// The sign-in page: with a mailed link's token, a button that uses it (a POST, so that mail
/// scanners following links do not use it up); without, a form asking for a link.
pub async fn sign_in_page(ctx: Ctx, Query(q): Query<LinkQuery>) -> Response {
    let token: Option<String> = q.token.map(|t| {
        t.chars()
            .filter(char::is_ascii_alphanumeric)
            .take(128)
            .collect()
    });
    let mut r = page(
        &ctx,
        ctx.t("account.sign_in"),
        html! {
            h1 { (ctx.t("account.sign_in")) }
            @if let Some(token) = token {
                p { (ctx.t("account.press_to_sign_in")) }
                form method="post" action="/v1/sign-in/redeem" {
                    input type="hidden" name="token" value=(token);
                    button type="submit" { (ctx.t("account.sign_in")) }
                }
            } @else {
                @if let Some(label) = &ctx.provider {
                    p { a.button href="/sign-in/oidc" { (label) } }
                }
                p { (ctx.t("account.sign_in_intro")) }
                form.stack method="post" action="/sign-in" {
                    div.field {
                        label for="email" { (ctx.t("account.email")) }
                        input #email name="email" type="email" autocomplete="email" required;
                    }
                    div.actions { button type="submit" { (ctx.t("account.send_link")) } }
                }
            }
        },
    );
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
}

pub async fn sign_in(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Form(form): Form<SignInForm>,
) -> Response {
    let reply = api
        .post(&ctx, "/v1/sign-in", &json!({ "email": form.email }))
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    check_mail(&ctx, "account.link_sent")
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub async fn sign_out(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, &form.csrf) {
        return *r;
    }
    let reply = api
        .call(&ctx, axum::http::Method::POST, "/v1/sign-out", None)
        .await;
    let mut r = redirect("/");
    for cookie in reply.headers.get_all(header::SET_COOKIE) {
        r.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    r
}

fn role_label(ctx: &Ctx, role: Role) -> &'static str {
    match role {
        Role::Admin => ctx.t("role.admin"),
        Role::Judge => ctx.t("role.judge"),
        Role::Applicant => ctx.t("role.applicant"),
        Role::Integrator => ctx.t("role.integrator"),
        Role::Auditor => ctx.t("role.auditor"),
    }
}

/// A person's page: their roles, with what each lets them do; an applicant's applications.
pub async fn me(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<super::public::HomeQuery>,
) -> Response {
    let Some(person) = ctx.person.clone() else {
        return redirect("/sign-in");
    };
    let global_admin = person
        .grants
        .iter()
        .any(|g| g.role == Role::Admin && g.award.is_none());
    // The awards they hold a role in, by name; an administrator of every award also sees the
    // dashboards of every award, fifty at a time.
    let mut ids: Vec<&str> = person
        .grants
        .iter()
        .filter_map(|g| g.award.as_deref())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut all = Vec::new();
    for id in ids {
        all.extend(super::public::shown(&state, id).await);
    }
    let (dashboards, more) = if global_admin {
        super::public::awards_page(&state, q.after.as_deref()).await
    } else {
        (Vec::new(), None)
    };
    let name_of = |id: &str| {
        all.iter().find(|s| s.record.id == id).map_or_else(
            || id.to_owned(),
            |s| text(&ctx, &s.loaded, &s.loaded.award.name),
        )
    };
    let mut mine: Vec<(String, Vec<Value>)> = Vec::new();
    let mut drafts: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    for g in person.grants.iter().filter(|g| g.role == Role::Applicant) {
        let Some(award) = &g.award else { continue };
        let apps = api
            .all(&ctx, &format!("/v1/awards/{award}/applications?limit=1000"))
            .await
            .unwrap_or_default();
        let draft = api
            .get(&ctx, &format!("/v1/awards/{award}/drafts/mine"))
            .await;
        if draft.ok() {
            drafts.insert(award.clone(), draft.json);
        }
        mine.push((award.clone(), apps));
    }
    page(
        &ctx,
        ctx.t("me.title"),
        html! {
            h1 { (ctx.t("me.title")) }
            p { a href="/me/passkeys" { (ctx.t("passkey.title")) } }
            p { (state.sealer.open_text(&person.name)) " · " (state.sealer.open_text(&person.email)) }
            h2 { (ctx.t("me.roles")) }
            ul {
                @for g in &person.grants {
                    li {
                        (role_label(&ctx, g.role)) " — "
                        @match &g.award {
                            Some(a) => {
                                a href={ "/awards/" (a) } { (name_of(a)) }
                                @if g.role == Role::Admin {
                                    " · " a href={ "/awards/" (a) "/admin" } { (ctx.t("me.dashboard")) }
                                }
                                @if g.role == Role::Judge {
                                    " · " a href="/work" { (ctx.t("nav.work")) }
                                }
                            }
                            None => { (ctx.t("me.every_award")) }
                        }
                    }
                }
            }
            @if global_admin {
                h2 { (ctx.t("me.dashboards")) }
                ul {
                    @for s in &dashboards {
                        li { a href={ "/awards/" (s.record.id) "/admin" } { (text(&ctx, &s.loaded, &s.loaded.award.name)) } }
                    }
                }
                @if let Some(last) = &more {
                    p { a rel="next" href={ "/me?after=" (crate::server::paging::encode(last)) } { (ctx.t("home.more")) } }
                }
            }
            @for (award, apps) in &mine {
                h2 { (ctx.t("me.applications")) " — " (name_of(award)) }
                @let shown_award = all.iter().find(|s| s.record.id == *award);
                @if let Some(s) = shown_award {
                    @let (_, closes) = s.record.window(&s.loaded.award);
                    @let open = super::public::call_open(&state, s);
                    p { @if open {
                        (ctx.tf("me.call_closes", &[("at", &super::layout::when(&closes.fixed_offset(), &s.loaded.award.timeline.time_zone)), ("left", &super::layout::time_left(&ctx, closes - state.now()))]))
                    } @else { (ctx.t("me.call_closed")) } }
                }
                @let titles = super::entries::titles_of(apps);
                @if let (Some(d), Some(s)) = (drafts.get(award), shown_award) {
                    @let (done, of) = completion(&s.loaded.award, d);
                    div.notice {
                        p { strong { (ctx.t("me.draft")) } " · "
                            (ctx.tf("me.draft_saved", &[("at", &super::layout::when_in(d["saved_at"].as_str().unwrap_or_default(), &s.loaded.award.timeline.time_zone))]))
                            " · " (ctx.tf("me.completion", &[("done", &done.to_string()), ("of", &of.to_string())])) }
                        progress max=(of.max(1)) value=(done) aria-label=(ctx.t("me.draft")) {}
                        @if super::public::call_open(&state, s) {
                            p { a href={ "/awards/" (award) "/apply" } { (ctx.t("me.continue_draft")) } }
                        }
                    }
                }
                @if apps.is_empty() {
                    p { (ctx.t("me.no_applications")) " " a href={ "/awards/" (award) "/apply" } { (ctx.t("award.apply_now")) } }
                } @else {
                    div.scroll tabindex="0" { table {
                        thead { tr { th { (ctx.t("app.entry")) } th { (ctx.t("app.category")) } th { (ctx.t("app.status")) } th { (ctx.t("app.eligibility")) } } }
                        tbody {
                            @for a in apps {
                                @let id = a["id"].as_str().unwrap_or_default();
                                @let category = a["application"]["category"].as_str().unwrap_or_default();
                                tr {
                                    td { (super::entries::link(&format!("/awards/{award}/applications/{id}"), id, &titles)) }
                                    td { (shown_award.and_then(|s| s.loaded.award.category(category).map(|c| text(&ctx, &s.loaded, &c.name))).unwrap_or_else(|| category.to_owned())) }
                                    td { (super::apply::status_label(&ctx, a["status"].as_str().unwrap_or_default())) }
                                    td { (super::apply::eligibility_label(&ctx, a)) }
                                }
                            }
                        }
                    } }
                    @if shown_award.is_some_and(|s| super::public::call_open(&state, s)) {
                        p { a href={ "/awards/" (award) "/apply" } { (ctx.t("me.another")) } }
                    }
                }
            }
            form method="post" action="/sign-out" {
                (csrf_field(&ctx))
                button.secondary type="submit" { (ctx.t("nav.sign_out")) }
            }
        },
    )
}

#[derive(Deserialize)]
pub struct ProviderAnswer {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Where the provider sends the browser back.
fn oidc_redirect_uri(state: &crate::server::state::AppState) -> String {
    format!("{}/sign-in/oidc/callback", state.public_url)
}

/// Starts a sign-in with the installation's provider: keeps the sign-in's secrets (a
/// one-time record under its `state`) and sends the browser there.
pub async fn oidc_start(ctx: Ctx, State(state): State<AppState>) -> Response {
    let Some(oidc) = state.oidc.clone() else {
        return oidc_problem(
            &ctx,
            StatusCode::NOT_FOUND,
            "no sign-in provider is configured",
        );
    };
    let redirect_uri = oidc_redirect_uri(&state);
    let started = tokio::task::spawn_blocking(move || oidc.start(&redirect_uri)).await;
    let (url, key, pending) = match started {
        Ok(Ok(x)) => x,
        Ok(Err(why)) => return oidc_problem(&ctx, StatusCode::BAD_GATEWAY, &why),
        Err(_) => return oidc_problem(&ctx, StatusCode::INTERNAL_SERVER_ERROR, "failed"),
    };
    let mut tx = crate::server::tx::Tx::new(&state);
    tx.put(
        crate::store::Tree::Tokens,
        crate::server::oidc::pending_key(&key),
        &pending,
    );
    if let Err(e) = tx.commit(crate::store::AuditEntry {
        actor: "system (sign-in)".to_owned(),
        action: "oidc.start".to_owned(),
        target: "oidc".to_owned(),
        detail: serde_json::json!({}),
    }) {
        return e.into_response();
    }
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response();
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

/// The provider's answer: the code exchanged, the ID token checked, a session for the account
/// at the address it vouches for.
pub async fn oidc_callback(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(answer): Query<ProviderAnswer>,
) -> Response {
    let Some(oidc) = state.oidc.clone() else {
        return oidc_problem(
            &ctx,
            StatusCode::NOT_FOUND,
            "no sign-in provider is configured",
        );
    };
    if let Some(error) = answer.error {
        let why = format!(
            "the provider did not sign you in ({})",
            laurel::clean(&error, 100)
        );
        return oidc_problem(&ctx, StatusCode::UNAUTHORIZED, &why);
    }
    let (Some(code), Some(key)) = (answer.code, answer.state) else {
        return oidc_problem(
            &ctx,
            StatusCode::BAD_REQUEST,
            "the provider's answer is incomplete",
        );
    };
    // The sign-in's record is used once, whatever happens next.
    let mut tx = crate::server::tx::Tx::new(&state);
    let k = crate::server::oidc::pending_key(&key);
    let pending = match tx.read::<crate::server::oidc::Pending>(crate::store::Tree::Tokens, &k) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return oidc_problem(
                &ctx,
                StatusCode::UNAUTHORIZED,
                "this sign-in is not one this server started, or it was used already: start again",
            );
        }
        Err(e) => return e.into_response(),
    };
    tx.delete(crate::store::Tree::Tokens, k);
    let redirect_uri = oidc_redirect_uri(&state);
    let finished =
        tokio::task::spawn_blocking(move || oidc.finish(&code, &pending, &redirect_uri)).await;
    let email = match finished {
        Ok(Ok(email)) => email,
        Ok(Err(why)) => {
            let _ = tx.commit(crate::store::AuditEntry {
                actor: "system (sign-in)".to_owned(),
                action: "oidc.refused".to_owned(),
                target: "oidc".to_owned(),
                detail: serde_json::json!({ "why": why }),
            });
            return oidc_problem(&ctx, StatusCode::UNAUTHORIZED, &why);
        }
        Err(_) => return oidc_problem(&ctx, StatusCode::INTERNAL_SERVER_ERROR, "failed"),
    };
    let person = match crate::server::domain::people::person_at(&state, &email) {
        Ok(Some(p)) => p,
        Ok(None) => {
            let _ = tx.commit(crate::store::AuditEntry {
                actor: "system (sign-in)".to_owned(),
                action: "oidc.no_account".to_owned(),
                target: "oidc".to_owned(),
                detail: serde_json::json!({}),
            });
            return oidc_problem(
                &ctx,
                StatusCode::FORBIDDEN,
                ctx.t("account.oidc_no_account"),
            );
        }
        Err(e) => return e.into_response(),
    };
    match crate::server::domain::people::begin_session(&state, tx, &person.id, "oidc") {
        Ok((cookie, _, _)) => {
            let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/me")]).into_response();
            r.headers_mut().append(header::SET_COOKIE, cookie);
            r
        }
        Err(e) => e.into_response(),
    }
}

fn oidc_problem(ctx: &Ctx, status: StatusCode, why: &str) -> Response {
    let mut r = page(
        ctx,
        ctx.t("account.sign_in"),
        html! {
            h1 { (ctx.t("account.sign_in")) }
            p.problem role="alert" { (why) }
            p { a href="/sign-in" { (ctx.t("account.try_again")) } }
        },
    );
    *r.status_mut() = status;
    r
}

/// The second factor at sign-in: the person uses their passkey.
pub async fn passkey_page(ctx: Ctx) -> Response {
    if ctx.person.is_none() {
        return redirect("/sign-in");
    }
    page(
        &ctx,
        ctx.t("passkey.use_title"),
        html! {
            h1 { (ctx.t("passkey.use_title")) }
            p { (ctx.t("passkey.use_intro")) }
            p #passkey-no-script { (ctx.t("passkey.needs_script")) }
            p {
                button type="button" hidden data-passkey="use" data-csrf=(ctx.csrf)
                    data-next="/me" data-working=(ctx.t("passkey.working"))
                    data-failed=(ctx.t("passkey.failed")) { (ctx.t("passkey.use")) }
            }
            p #passkey-status role="status" aria-live="polite" {}
            form method="post" action="/sign-out" {
                (csrf_field(&ctx))
                button.secondary type="submit" { (ctx.t("nav.sign_out")) }
            }
        },
    )
}

/// A person's passkeys: the ones registered, and a button that registers another (which an
/// administrator must do before anything else).
pub async fn passkeys_page(ctx: Ctx) -> Response {
    let Some(person) = ctx.person.clone() else {
        return redirect("/sign-in");
    };
    let owed = matches!(
        &ctx.session,
        Some(crate::server::session::SessionState::Valid { owed: Some(_), .. })
    );
    page(
        &ctx,
        ctx.t("passkey.title"),
        html! {
            h1 { (ctx.t("passkey.title")) }
            @if owed {
                p.notice role="status" { (ctx.t("passkey.enroll_required")) }
            }
            p { (ctx.t("passkey.intro")) }
            @if person.passkeys.is_empty() {
                p { (ctx.t("passkey.none")) }
            } @else {
                ul {
                    @for p in &person.passkeys {
                        li { (if p.label.is_empty() { ctx.t("passkey.unnamed") } else { p.label.as_str() }) " · " (p.created_at.get(..10).unwrap_or_default()) }
                    }
                }
            }
            p #passkey-no-script { (ctx.t("passkey.needs_script")) }
            p {
                button type="button" hidden data-passkey="register" data-csrf=(ctx.csrf)
                    data-next="/me" data-label=(ctx.t("passkey.default_label"))
                    data-working=(ctx.t("passkey.working")) data-failed=(ctx.t("passkey.failed")) {
                    (ctx.t("passkey.add"))
                }
            }
            p #passkey-status role="status" aria-live="polite" {}
        },
    )
}

/// How many of the required answers a draft gives: (given, required), counting the top-level
/// fields its category and applicant type must fill in.
fn completion(award: &laurel::Award, draft: &Value) -> (usize, usize) {
    let category = draft["category"].as_str().unwrap_or_default();
    let applicant_type = draft["applicant_type"].as_str().unwrap_or_default();
    let by_type = super::form::required_by(award, applicant_type);
    let required: Vec<&str> = super::form::fields_in_scope(award, category, applicant_type)
        .into_iter()
        .filter(|f| f.required || by_type.iter().any(|p| p == f.id.as_str()))
        .map(|f| f.id.as_str())
        .collect();
    let given = required
        .iter()
        .filter(|id| match &draft["fields"][**id] {
            Value::Null => false,
            Value::String(s) => !s.trim().is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => true,
        })
        .count();
    (given, required.len())
}
