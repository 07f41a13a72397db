//! Every route of the API, under `/v1`.

mod applications;
mod audit;
mod awards;
mod backup;
mod certificates;
/// The export and backup documents, for the CLI.
pub mod backup_types {
    pub use super::backup::{BACKUP_FORMAT, Backup, Export};
}
mod diagnostics;
mod drafts;
mod evaluate;
mod files;
mod keys;
mod messages;
pub(crate) use crate::server::paging;
mod passkeys;
mod people;
mod results;
mod round_marks;
mod rounds;
mod sheets;
mod system;
mod validate;
mod webhooks;
mod work;

use axum::Router;
use axum::routing::{get, post, put};

use crate::server::state::AppState;

pub use crate::server::answers::Draft;
pub use applications::{ApplicantApplication, Review, Withdrawal};
pub use awards::{Registration, Reschedule};
pub use certificates::{Certificates, ResultsKeys, VerificationFile};
pub use evaluate::EvaluateRequest;
pub use keys::NewKey;
pub use messages::{MessageBody, MessageSent, TemplateBody};
pub use passkeys::{NewPasskey, PasskeyAnswer};
pub(crate) use people::invite_administrator;
pub use people::{GrantRevocation, Invitation, Redeem, SignUp};
pub use round_marks::RoundMarks;
pub use rounds::{AdvanceBody, ManualAssignment, OpenRound, RecusalBody, RemovalBody};
pub use webhooks::NewEndpoint;

/// A `Location` header naming what a 201 made.
pub(crate) type Located = [(axum::http::HeaderName, String); 1];

/// The `Location` of `path`.
pub(crate) fn location(path: String) -> Located {
    [(axum::http::header::LOCATION, path)]
}

pub use crate::server::body::IMPORT_LIMIT;

/// How each list pages and filters.
mod listings {
    use super::paging::Listing;
    pub const AWARDS: Listing = Listing {
        id: &["/id"],
        filters: &[("state", "/state")],
    };
    pub const APPLICATIONS: Listing = Listing {
        id: &["/id"],
        filters: &[
            ("status", "/status"),
            ("eligibility", "/eligibility/status"),
            ("standing", "/standing"),
            ("category", "/application/category"),
        ],
    };
    pub const KEYS: Listing = Listing {
        id: &["/id"],
        filters: &[("role", "/role"), ("owner", "/owner/id")],
    };
    pub const PEOPLE: Listing = Listing {
        id: &["/person"],
        filters: &[],
    };
    pub const JUDGES: Listing = Listing {
        id: &["/id"],
        filters: &[],
    };
    pub const ROUNDS: Listing = Listing {
        id: &["/round"],
        filters: &[("status", "/status")],
    };
    /// A mark's id is `application/judge`: the order marks are stored in, so that a page is
    /// read from the store.
    pub const MARKS: Listing = Listing {
        id: &["/application", "/judge"],
        filters: &[("application", "/application"), ("judge", "/judge")],
    };
    pub const WEBHOOKS: Listing = Listing {
        id: &["/id"],
        filters: &[],
    };
    pub const DELIVERIES: Listing = Listing {
        id: &["/id"],
        filters: &[("state", "/state")],
    };
}

/// `get(handler)`, paged and filtered as `listing` says.
macro_rules! list {
    ($handler:expr, $listing:expr) => {
        get($handler).layer(axum::middleware::from_fn_with_state(
            $listing,
            paging::layer,
        ))
    };
}

#[cfg(test)]
thread_local! {
    /// The paths `routes()` served, in this thread, for the test that each is documented.
    static SERVED: std::cell::RefCell<Vec<&'static str>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `Router::route`, noting the path (in tests) for the check that every route the router
/// serves is an operation of the document.
trait Documented {
    fn documented(
        self,
        path: &'static str,
        method_router: axum::routing::MethodRouter<AppState>,
    ) -> Self;
}

impl Documented for Router<AppState> {
    fn documented(
        self,
        path: &'static str,
        method_router: axum::routing::MethodRouter<AppState>,
    ) -> Self {
        #[cfg(test)]
        SERVED.with(|s| s.borrow_mut().push(path));
        self.route(path, method_router)
    }
}

/// Every path [`routes`] serves (tests).
#[cfg(test)]
pub(crate) fn served_paths() -> Vec<&'static str> {
    SERVED.with(|s| s.borrow_mut().clear());
    let _ = routes();
    SERVED.with(|s| s.borrow().clone())
}

/// The routes; `openapi::document` describes the same list.
pub fn routes() -> Router<AppState> {
    Router::new()
        .documented("/v1/health", get(system::health))
        .documented("/v1/ready", get(system::ready))
        .documented("/v1/version", get(system::version))
        .documented(
            "/v1/keys",
            list!(keys::list, listings::KEYS).post(keys::create),
        )
        .documented("/v1/keys/{key}/revoke", post(keys::revoke))
        .documented("/v1/keys/results", get(certificates::keys))
        .documented("/v1/keys/results/rotate", post(certificates::rotate))
        .documented("/v1/files/{sha256}", put(awards::upload_file))
        .documented(
            "/v1/awards",
            list!(awards::list, listings::AWARDS).post(awards::create),
        )
        .documented("/v1/awards/{award}", get(awards::get))
        .documented("/v1/awards/{award}/draft", put(awards::replace_draft))
        .documented("/v1/awards/{award}/publish", post(awards::publish))
        .documented("/v1/awards/{award}/open", post(awards::open))
        .documented("/v1/awards/{award}/close", post(awards::close))
        .documented(
            "/v1/awards/{award}/versions/{version}",
            get(awards::version),
        )
        .documented("/v1/awards/{award}/schema", get(awards::schema))
        .documented(
            "/v1/awards/{award}/applications",
            list!(applications::list, listings::APPLICATIONS).post(applications::submit),
        )
        .documented(
            "/v1/awards/{award}/applications/{application}",
            get(applications::get).put(applications::update),
        )
        .documented(
            "/v1/awards/{award}/applications/{application}/withdraw",
            post(applications::withdraw),
        )
        .documented(
            "/v1/awards/{award}/applications/{application}/review",
            post(applications::review),
        )
        .documented("/v1/awards/{award}/counts", get(applications::counts))
        .documented("/v1/awards/{award}/special-mentions", put(awards::mentions))
        .documented("/v1/awards/{award}/timeline", post(awards::reschedule))
        .documented(
            "/v1/awards/{award}/templates/{kind}",
            put(messages::put_template),
        )
        .documented("/v1/awards/{award}/messages", post(messages::send))
        .documented(
            "/v1/awards/{award}/people/{person}/revoke",
            post(people::revoke_grant),
        )
        .documented(
            "/v1/awards/{award}/results",
            post(results::compute).get(results::latest),
        )
        .documented("/v1/awards/{award}/results.csv", get(results::csv))
        .documented("/v1/awards/{award}/results/publish", post(results::publish))
        .documented("/v1/awards/{award}/certificates", get(certificates::list))
        .documented(
            "/v1/awards/{award}/certificates/{number}",
            get(certificates::file),
        )
        .documented(
            "/v1/awards/{award}/applications/{application}/receipt",
            get(certificates::receipt),
        )
        .documented(
            "/v1/awards/{award}/applications/{application}/outcome",
            get(results::outcome),
        )
        .documented("/v1/awards/{award}/export", get(backup::export))
        .documented(
            "/v1/import",
            post(backup::import).layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .documented("/v1/backup", get(backup::backup))
        .documented(
            "/v1/awards/{award}/judges",
            list!(rounds::list_judges, listings::JUDGES),
        )
        .documented("/v1/awards/{award}/judges/{judge}", put(rounds::put_judge))
        .documented(
            "/v1/awards/{award}/rounds",
            list!(rounds::list, listings::ROUNDS),
        )
        .documented("/v1/awards/{award}/rounds/{round}", get(rounds::get))
        .documented("/v1/awards/{award}/rounds/{round}/open", post(rounds::open))
        .documented(
            "/v1/awards/{award}/rounds/{round}/close",
            post(rounds::close),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/advance",
            post(rounds::advance),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/results",
            get(round_marks::results),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/results.csv",
            get(round_marks::results_csv),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/diagnostics",
            get(diagnostics::diagnostics),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/diagnostics/jobs",
            post(diagnostics::start_job),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/diagnostics/jobs/{job}",
            get(diagnostics::job_status),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/recusals",
            post(rounds::recuse),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/judges/{judge}/remove",
            post(rounds::remove_judge),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/assignments/{judge}",
            put(rounds::set_assignment),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/marks",
            list!(round_marks::list_marks, listings::MARKS),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/marks/{application}",
            put(round_marks::submit_marks),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/marks/{application}/{judge}",
            put(round_marks::correct_marks),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/sheets/{application}",
            get(sheets::get).put(sheets::keep),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/sheets/{application}/total",
            post(sheets::total),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/applications/{application}",
            get(round_marks::view),
        )
        .documented("/v1/me/work", get(work::work))
        .documented("/v1/me", get(people::me))
        .documented("/v1/people", list!(people::list, listings::PEOPLE))
        .documented("/v1/me/passkeys/options", post(passkeys::create_options))
        .documented("/v1/me/passkeys", post(passkeys::register))
        .documented("/v1/sign-in/passkey/options", post(passkeys::get_options))
        .documented("/v1/sign-in/passkey", post(passkeys::verify))
        .documented(
            "/v1/people/{person}/sessions/revoke",
            post(people::revoke_sessions),
        )
        .documented("/v1/awards/{award}/invitations", post(people::invite))
        .documented("/v1/awards/{award}/uploads", post(files::upload))
        .documented(
            "/v1/awards/{award}/drafts/mine",
            get(drafts::get).put(drafts::put).delete(drafts::discard),
        )
        .documented(
            "/v1/awards/{award}/applications/{application}/files/{field}",
            get(files::download),
        )
        .documented("/v1/awards/{award}/registration", put(awards::registration))
        .documented(
            "/v1/awards/{award}/notifications",
            put(awards::notifications),
        )
        .documented(
            "/v1/awards/{award}/rounds/{round}/remind",
            post(rounds::remind),
        )
        .documented("/v1/awards/{award}/register", post(people::register))
        .documented("/v1/sign-in", post(people::sign_in))
        .documented("/v1/sign-in/redeem", post(people::redeem))
        .documented("/v1/sign-out", post(people::sign_out))
        .documented(
            "/v1/awards/{award}/webhooks",
            list!(webhooks::list, listings::WEBHOOKS).post(webhooks::create),
        )
        .documented(
            "/v1/awards/{award}/webhooks/{endpoint}/disable",
            post(webhooks::disable),
        )
        .documented(
            "/v1/awards/{award}/webhooks/{endpoint}/deliveries",
            list!(webhooks::deliveries, listings::DELIVERIES),
        )
        .documented(
            "/v1/awards/{award}/webhooks/{endpoint}/deliveries/{message}/redeliver",
            post(webhooks::redeliver),
        )
        .documented("/v1/evaluate", post(evaluate::evaluate))
        .documented("/v1/validate", post(validate::validate))
        .documented("/v1/audit", get(audit::list))
        .documented("/v1/audit/verify", get(audit::verify))
}
