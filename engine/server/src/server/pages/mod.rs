//! The portal: server-rendered pages (maud, checked at compile time, escaping everything) for
//! applicants, judges, administrators, rubric authors and the public, at `/` beside the API.
//! Every change a page makes goes through the API's own handlers, in process (`api.rs`), so
//! the role rules are the API's by construction; pages check their form's CSRF token first.
//! Forms work without JavaScript; the one script (`/assets/laurel.js`) only enhances.

mod account;
mod admin;
mod api;
mod apply;
mod assets;
mod audit;
mod charts;
mod conditions;
mod diagnostics;
mod draw;
mod entries;
mod entry_list;
mod form;
mod i18n;
mod judge;
mod jury;
mod jury_file;
mod layout;
mod mentions;
mod messages;
mod multipart;
mod playground;
mod problems;
mod public;
mod timeline;
mod trace;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::routing::{get, post};

use super::people::Person;
use super::session::SessionState;
use crate::server::state::AppState;

pub use api::Api;

/// The language cookie a visitor sets with `?lang=`.
const LANG_COOKIE: &str = "laurel_lang";

/// Who is looking, in which language.
#[derive(Clone)]
pub struct Ctx {
    /// The interface's language.
    pub lang: String,
    /// The signed-in person.
    pub person: Option<Box<Person>>,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    /// The session as the middleware found it, for calls to the API.
    pub session: Option<SessionState>,
    /// The request's address, for the API's limits.
    pub client: Option<super::auth::ClientAddr>,
    /// The path asked for, for the language links.
    pub path: String,
    /// The words of the installation's sign-in provider's button, when one is configured.
    pub provider: Option<String>,
}

impl Ctx {
    /// A string of the interface in the page's language.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(&self.lang, key)
    }

    /// A string with its placeholders filled.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        i18n::tf(&self.lang, key, args)
    }

    /// `n` things: the string `one` for one of them ("1 error"), `many` with its `{n}` filled
    /// for any other number ("0 errors", "3 errors").
    pub fn count(&self, n: usize, one: &str, many: &str) -> String {
        if n == 1 {
            self.t(one).to_owned()
        } else {
            self.tf(many, &[("n", &n.to_string())])
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = parts.extensions.get::<SessionState>().cloned();
        let (person, csrf) = match &session {
            Some(SessionState::Valid { person, csrf, .. }) => (Some(person.clone()), csrf.clone()),
            _ => (None, String::new()),
        };
        let asked = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "lang")
                .map(|(_, v)| v.to_owned())
        });
        // An explicit choice, then the person's setting, then the browser's.
        let lang = asked
            .filter(|l| i18n::speaks(l))
            .or_else(|| {
                super::session::cookie_named(&parts.headers, LANG_COOKIE)
                    .filter(|l| i18n::speaks(l))
            })
            .or_else(|| {
                person
                    .as_ref()
                    .map(|p| p.language.clone())
                    .filter(|l| i18n::speaks(l))
            })
            .or_else(|| {
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(i18n::from_accept)
            })
            .unwrap_or_else(|| "en".to_owned());
        Ok(Ctx {
            lang,
            person,
            csrf,
            session,
            client: parts.extensions.get::<super::auth::ClientAddr>().copied(),
            path: parts.uri.path().to_owned(),
            provider: state.oidc.as_ref().map(|o| o.config.label.clone()),
        })
    }
}

/// The pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(public::home))
        .route("/assets/{file}", get(assets::serve))
        .route("/awards/{award}", get(public::award))
        .route("/awards/{award}/results", get(public::results))
        .route("/awards/{award}/register", post(account::register))
        .route(
            "/sign-in",
            get(account::sign_in_page).post(account::sign_in),
        )
        .route("/sign-in/oidc", get(account::oidc_start))
        .route("/sign-in/passkey", get(account::passkey_page))
        .route("/me/passkeys", get(account::passkeys_page))
        .route("/sign-in/oidc/callback", get(account::oidc_callback))
        .route("/sign-out", post(account::sign_out))
        .route("/me", get(account::me))
        .route(
            "/awards/{award}/apply",
            get(apply::form_page)
                .post(apply::submit)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::server::state::FORM_WITH_FILES_LIMIT,
                )),
        )
        .route(
            "/awards/{award}/applications/{application}",
            get(apply::status),
        )
        .route(
            "/awards/{award}/applications/{application}/withdraw",
            post(apply::withdraw),
        )
        .route(
            "/awards/{award}/applications/{application}/receipt",
            get(apply::receipt),
        )
        .route("/work", get(judge::queue))
        .route(
            "/awards/{award}/rounds/{round}/sheets/{application}",
            get(judge::sheet).post(judge::save),
        )
        .route(
            "/awards/{award}/rounds/{round}/sheets/{application}/recuse",
            post(judge::recuse),
        )
        .route("/awards/{award}/admin", get(admin::dashboard))
        .route("/awards/{award}/admin/do", post(admin::act))
        .route(
            "/awards/{award}/admin/applications/{application}",
            get(admin::application).post(admin::review),
        )
        .route("/awards/{award}/admin/audit", get(audit::page_for))
        .route(
            "/awards/{award}/admin/jury",
            get(jury::page).post(jury::add),
        )
        .route("/awards/{award}/admin/jury/import", post(jury_file::import))
        .route(
            "/awards/{award}/admin/mentions",
            get(mentions::page_for).post(mentions::record),
        )
        .route("/awards/{award}/admin/charts", get(charts::page_for))
        .route(
            "/awards/{award}/admin/messages",
            get(messages::page_for).post(messages::send),
        )
        .route(
            "/awards/{award}/admin/messages/texts",
            post(messages::save_text),
        )
        .route(
            "/awards/{award}/admin/entries",
            get(entry_list::page_for).post(entry_list::bulk),
        )
        .route("/awards/{award}/admin/timeline", post(timeline::reschedule))
        .route(
            "/awards/{award}/admin/jury/invite",
            post(jury::resend_invitation),
        )
        .route("/awards/{award}/admin/jury/revoke", post(jury::revoke))
        .route(
            "/awards/{award}/admin/rounds/{round}/diagnostics",
            get(diagnostics::page_for_round),
        )
        .route(
            "/awards/{award}/admin/results/{application}",
            get(trace::page_for),
        )
        .route(
            "/awards/{award}/admin/results/{application}/correct",
            post(trace::correct),
        )
        .route("/playground", get(playground::page).post(playground::check))
        .route("/playground/call", post(playground::create_call))
        .route("/problems", get(problems::index))
        .route("/problems/{name}", get(problems::page))
}
