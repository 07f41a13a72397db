//! What the service stores, as JSON values in the store's trees.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The life of an award.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AwardState {
    /// Being defined: the draft can change and be published.
    Draft,
    /// Taking applications, judged on its latest published version.
    Open,
    /// No more applications or changes; results can be computed.
    Closed,
}

/// An award: its state, its draft and its published versions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AwardRecord {
    /// The award's id.
    pub id: String,
    /// Its state.
    pub state: AwardState,
    /// The draft definition (text as sent), while the award is a draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
    /// SHA-256 of the draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_sha256: Option<String>,
    /// Published versions, oldest first.
    #[serde(default)]
    pub versions: Vec<VersionSummary>,
    /// Special mentions given by the committee.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub special_mentions: Vec<laurel::MentionDecision>,
    /// The results published, when they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<Publication>,
    /// The call's dates as an administrator moved them, with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// Notifications switched off (`false`) or on, by name; all on when absent.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub notifications: std::collections::BTreeMap<String, bool>,
    /// Whether applicants may no longer register themselves (invitations still work).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub registration_closed: bool,
    /// The award's own mail texts: by kind of mail, then language; Laurel's own words where
    /// there is none.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub templates: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, crate::server::templates::MailTemplate>,
    >,
    /// When it was created.
    pub created_at: String,
}

/// Published results.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Publication {
    /// The results record published.
    pub seq: u64,
    /// Its SHA-256.
    pub results_sha256: String,
    /// When.
    pub at: String,
}

/// The call's dates as an administrator moved them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Schedule {
    /// When applications open (RFC 3339).
    pub opens: String,
    /// When they close (RFC 3339).
    pub closes: String,
    /// Why the dates moved.
    pub reason: String,
}

impl AwardRecord {
    /// The call's window: the definition's dates, or those an administrator set.
    pub fn window(
        &self,
        award: &laurel::Award,
    ) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
        let parse = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.to_utc())
        };
        match &self.schedule {
            Some(s) => (
                parse(&s.opens).unwrap_or(award.timeline.opens.to_utc()),
                parse(&s.closes).unwrap_or(award.timeline.closes.to_utc()),
            ),
            None => (
                award.timeline.opens.to_utc(),
                award.timeline.closes.to_utc(),
            ),
        }
    }

    /// The latest published version's number.
    pub fn current(&self) -> Option<u32> {
        self.versions.last().map(|v| v.version)
    }
}

/// A published version, in the award's list.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VersionSummary {
    /// 1, 2, 3, ...
    pub version: u32,
    /// SHA-256 of the definition.
    pub sha256: String,
    /// When it was published.
    pub published_at: String,
}

/// A published version: immutable.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VersionRecord {
    /// The award.
    pub award: String,
    /// Its number.
    pub version: u32,
    /// The definition's text.
    pub definition: String,
    /// Its SHA-256.
    pub sha256: String,
    /// Plugin files: path -> base64.
    pub files: BTreeMap<String, String>,
    /// When it was published.
    pub published_at: String,
}

/// Whether an application is in the running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Submitted.
    Submitted,
    /// Withdrawn by its applicant or an administrator.
    Withdrawn,
}

/// A stored application: personal fields sealed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApplicationRecord {
    /// The award.
    pub award: String,
    /// The version it was checked against.
    pub version: u32,
    /// The application, personal fields sealed.
    pub application: serde_json::Value,
    /// The key id of whoever submitted it.
    pub owner: String,
    /// Submitted or withdrawn.
    pub status: ApplicationStatus,
    /// Its eligibility, decided on submission, with reasons.
    pub eligibility: serde_json::Value,
    /// An administrator's decision, when it needed review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<laurel::ReviewDecision>,
    /// When it was submitted.
    pub submitted_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// The receipt its applicant was given for what it holds now (signed by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<super::signing::Signed>,
}

/// A results certificate as stored, with the public bundle it certifies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateRecord {
    /// The award.
    pub award: String,
    /// 1, 2, 3, ... per award: one per publication.
    pub number: u64,
    /// The signed statement.
    pub certificate: super::signing::Signed,
    /// The bundle's JSON text, exactly as its SHA-256 was taken.
    pub bundle: String,
    /// What the server's own recomputation of the bundle found different (none, normally: a
    /// score that rests on a withheld answer cannot be recomputed from the bundle).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<laurel::Mismatch>,
}

/// Results as computed and stored.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ResultsRecord {
    /// The award.
    pub award: String,
    /// The version scored.
    pub version: u32,
    /// 1, 2, 3, ... per award.
    pub seq: u64,
    /// When.
    pub computed_at: String,
    /// SHA-256 of the definition.
    pub definition_sha256: String,
    /// SHA-256 of the inputs (applications and marks, canonical JSON), for results computed
    /// from one set of marks.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub inputs_sha256: String,
    /// SHA-256 of `results` as stored.
    pub results_sha256: String,
    /// The audit chain's head when they were computed: pin it (`laurel audit verify --head`)
    /// to detect a rollback of the data to an older copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<crate::store::Head>,
    /// The results with their traces.
    #[schemars(with = "laurel::FinalResults")]
    pub results: serde_json::Value,
}

/// The roles of API keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Admin,
    /// Marks the applications assigned to its subject (a judge id).
    Judge,
    /// Submits and manages its own applications.
    Applicant,
    /// Calls the scoring API and manages its own applications.
    Integrator,
    /// Reads everything except personal data; changes nothing.
    Auditor,
}

/// A stored API key: only its hash is kept.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeyRecord {
    /// Its id (not secret).
    pub id: String,
    /// Its role.
    pub role: Role,
    /// For judges, the judge id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// For judges, the award the key judges in (a judge id means nothing elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub award: Option<String>,
    /// A note for people.
    #[serde(default)]
    pub label: String,
    /// When it was made.
    pub created_at: String,
    /// Whether it was revoked.
    #[serde(default)]
    pub revoked: bool,
    /// Who answers for it: a person or a service account (none for keys made before owners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<KeyOwner>,
}

/// Who answers for an API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyOwner {
    /// A person (their keys are revoked with their sessions) or a service account (a name for
    /// an integration or a script).
    pub kind: OwnerKind,
    /// The person's id, or the service account's name.
    pub id: String,
}

/// What owns a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    /// A person with an account.
    Person,
    /// A service account: an integration or a script, by name.
    Service,
}

impl std::fmt::Display for KeyOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            OwnerKind::Person => write!(f, "person {}", self.id),
            OwnerKind::Service => write!(f, "service {}", self.id),
        }
    }
}

/// Whether a round takes marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Judges mark.
    Open,
    /// Marks are locked: a change needs an administrator and a reason.
    Closed,
}

/// A judge's recusal from an application, or a judge removed from a round: who replaced
/// them, if anyone could.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Recusal {
    /// The judge.
    pub judge: String,
    /// The application.
    pub application: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: String,
    /// The judge drawn in their place; `None` when nobody free of conflicts was left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
}

/// An application going on to the next round.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Advancement {
    /// The application.
    pub application: String,
    /// Why, when an administrator decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A round of an award, as it runs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RoundRecord {
    /// The award.
    pub award: String,
    /// The round.
    pub round: String,
    /// The version judged.
    pub version: u32,
    /// Open or closed.
    pub status: RoundStatus,
    /// The seed of the assignment's draw.
    pub seed: u64,
    /// The applications in this round.
    pub entrants: Vec<String>,
    /// Applications of each judge.
    pub assignments: BTreeMap<String, Vec<String>>,
    /// The assignment's coverage report, when drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<serde_json::Value>,
    /// Recusals (and removals of judges), in order.
    #[serde(default)]
    pub recusals: Vec<Recusal>,
    /// Judges removed from the round, with the reason.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub removed: BTreeMap<String, String>,
    /// Applications left with fewer judges than the round draws, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shortfalls: Vec<String>,
    /// SHA-256 of the results computed when the round closed (or after a correction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_sha256: Option<String>,
    /// Who goes on, once decided (for the last round: the winners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced: Option<Vec<Advancement>>,
    /// Why an administrator overrode the checks of the decisions, when they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
}
