//! What the API answers, as types: each handler returns one of these (or a record), and the
//! OpenAPI document describes it from the same type (schemars), so an answer and its
//! description cannot drift apart. Pages and the domain may use them without the routes.

mod applications;
mod awards;
mod people;
mod results;
mod rounds;
mod system;

pub use applications::{
    ApplicationCounts, ApplicationView, Draft, DraftSaved, Reviewed, SavedDraft, Stored, Withdrawn,
};
pub use awards::{
    ApplicationSchema, AwardVersion, ChainChecked, Checked, FileStored, Imported, Notifications,
    RegistrationNow, Uploaded,
};
pub use people::{
    Accepted, GrantsNow, KeyCaller, Me, PasskeyShown, PasskeyUsed, PersonCaller, PersonShown,
    SessionsRevoked, SignedIn,
};
pub use results::{
    ApplicantOutcome, CertificateIssued, OutcomePending, OutcomePublished, OutcomeRound, Published,
    ResultsComputed, ReviewShown,
};
pub use rounds::{
    CriterionScore, JudgeProgress, JudgeView, JudgesRound, Reminded, RoundClosed, RoundListed,
    RoundPhase, RoundResults, RoundShown, RoundWhole, SheetKept, SheetTotal, StoredMarks,
};
pub use system::{
    Health, KeyMade, KeyRevoked, MyWork, Readiness, Versions, WebhookEndpoint, WorkRound,
};
