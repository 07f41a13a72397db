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

/// The routes; `openapi::document` describes the same list.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/health", get(system::health))
        .route("/v1/ready", get(system::ready))
        .route("/v1/version", get(system::version))
        .route(
            "/v1/keys",
            list!(keys::list, listings::KEYS).post(keys::create),
        )
        .route("/v1/keys/{key}/revoke", post(keys::revoke))
        .route("/v1/keys/results", get(certificates::keys))
        .route("/v1/keys/results/rotate", post(certificates::rotate))
        .route("/v1/files/{sha256}", put(awards::upload_file))
        .route(
            "/v1/awards",
            list!(awards::list, listings::AWARDS).post(awards::create),
        )
        .route("/v1/awards/{award}", get(awards::get))
        .route("/v1/awards/{award}/draft", put(awards::replace_draft))
        .route("/v1/awards/{award}/publish", post(awards::publish))
        .route("/v1/awards/{award}/open", post(awards::open))
        .route("/v1/awards/{award}/close", post(awards::close))
        .route(
            "/v1/awards/{award}/versions/{version}",
            get(awards::version),
        )
        .route("/v1/awards/{award}/schema", get(awards::schema))
        .route(
            "/v1/awards/{award}/applications",
            list!(applications::list, listings::APPLICATIONS).post(applications::submit),
        )
        .route(
            "/v1/awards/{award}/applications/{application}",
            get(applications::get).put(applications::update),
        )
        .route(
            "/v1/awards/{award}/applications/{application}/withdraw",
            post(applications::withdraw),
        )
        .route(
            "/v1/awards/{award}/applications/{application}/review",
            post(applications::review),
        )
        .route("/v1/awards/{award}/counts", get(applications::counts))
        .route("/v1/awards/{award}/special-mentions", put(awards::mentions))
        .route("/v1/awards/{award}/timeline", post(awards::reschedule))
        .route(
            "/v1/awards/{award}/templates/{kind}",
            put(messages::put_template),
        )
        .route("/v1/awards/{award}/messages", post(messages::send))
        .route(
            "/v1/awards/{award}/people/{person}/revoke",
            post(people::revoke_grant),
        )
        .route(
            "/v1/awards/{award}/results",
            post(results::compute).get(results::latest),
        )
        .route("/v1/awards/{award}/results.csv", get(results::csv))
        .route("/v1/awards/{award}/results/publish", post(results::publish))
        .route("/v1/awards/{award}/certificates", get(certificates::list))
        .route(
            "/v1/awards/{award}/certificates/{number}",
            get(certificates::file),
        )
        .route(
            "/v1/awards/{award}/applications/{application}/receipt",
            get(certificates::receipt),
        )
        .route(
            "/v1/awards/{award}/applications/{application}/outcome",
            get(results::outcome),
        )
        .route("/v1/awards/{award}/export", get(backup::export))
        .route(
            "/v1/import",
            post(backup::import).layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route("/v1/backup", get(backup::backup))
        .route(
            "/v1/awards/{award}/judges",
            list!(rounds::list_judges, listings::JUDGES),
        )
        .route("/v1/awards/{award}/judges/{judge}", put(rounds::put_judge))
        .route(
            "/v1/awards/{award}/rounds",
            list!(rounds::list, listings::ROUNDS),
        )
        .route("/v1/awards/{award}/rounds/{round}", get(rounds::get))
        .route("/v1/awards/{award}/rounds/{round}/open", post(rounds::open))
        .route(
            "/v1/awards/{award}/rounds/{round}/close",
            post(rounds::close),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/advance",
            post(rounds::advance),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/results",
            get(round_marks::results),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/results.csv",
            get(round_marks::results_csv),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/diagnostics",
            get(diagnostics::diagnostics),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/diagnostics/jobs",
            post(diagnostics::start_job),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/diagnostics/jobs/{job}",
            get(diagnostics::job_status),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/recusals",
            post(rounds::recuse),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/judges/{judge}/remove",
            post(rounds::remove_judge),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/assignments/{judge}",
            put(rounds::set_assignment),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/marks",
            list!(round_marks::list_marks, listings::MARKS),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/marks/{application}",
            put(round_marks::submit_marks),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/marks/{application}/{judge}",
            put(round_marks::correct_marks),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/sheets/{application}",
            get(sheets::get).put(sheets::keep),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/sheets/{application}/total",
            post(sheets::total),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/applications/{application}",
            get(round_marks::view),
        )
        .route("/v1/me/work", get(work::work))
        .route("/v1/me", get(people::me))
        .route("/v1/people", list!(people::list, listings::PEOPLE))
        .route("/v1/me/passkeys/options", post(passkeys::create_options))
        .route("/v1/me/passkeys", post(passkeys::register))
        .route("/v1/sign-in/passkey/options", post(passkeys::get_options))
        .route("/v1/sign-in/passkey", post(passkeys::verify))
        .route(
            "/v1/people/{person}/sessions/revoke",
            post(people::revoke_sessions),
        )
        .route("/v1/awards/{award}/invitations", post(people::invite))
        .route("/v1/awards/{award}/uploads", post(files::upload))
        .route(
            "/v1/awards/{award}/drafts/mine",
            get(drafts::get).put(drafts::put).delete(drafts::discard),
        )
        .route(
            "/v1/awards/{award}/applications/{application}/files/{field}",
            get(files::download),
        )
        .route("/v1/awards/{award}/registration", put(awards::registration))
        .route(
            "/v1/awards/{award}/notifications",
            put(awards::notifications),
        )
        .route(
            "/v1/awards/{award}/rounds/{round}/remind",
            post(rounds::remind),
        )
        .route("/v1/awards/{award}/register", post(people::register))
        .route("/v1/sign-in", post(people::sign_in))
        .route("/v1/sign-in/redeem", post(people::redeem))
        .route("/v1/sign-out", post(people::sign_out))
        .route(
            "/v1/awards/{award}/webhooks",
            list!(webhooks::list, listings::WEBHOOKS).post(webhooks::create),
        )
        .route(
            "/v1/awards/{award}/webhooks/{endpoint}/disable",
            post(webhooks::disable),
        )
        .route(
            "/v1/awards/{award}/webhooks/{endpoint}/deliveries",
            list!(webhooks::deliveries, listings::DELIVERIES),
        )
        .route(
            "/v1/awards/{award}/webhooks/{endpoint}/deliveries/{message}/redeliver",
            post(webhooks::redeliver),
        )
        .route("/v1/evaluate", post(evaluate::evaluate))
        .route("/v1/validate", post(validate::validate))
        .route("/v1/audit", get(audit::list))
        .route("/v1/audit/verify", get(audit::verify))
}
