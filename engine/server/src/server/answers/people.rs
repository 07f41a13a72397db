//! Answers about people: who is calling, who has an account, sign-in and revocation.

use schemars::JsonSchema;
use serde::Serialize;

use crate::server::people::Grant;
use crate::server::records::Role;

/// The same answer whatever the address, so that it tells nobody who has an account.
#[derive(Serialize, JsonSchema)]
pub struct Accepted {
    /// The same answer whatever the address, so that nobody learns who is registered.
    pub detail: &'static str,
}

impl Accepted {
    pub const fn new() -> Accepted {
        Accepted {
            detail: "if the address can receive mail, a link is on its way",
        }
    }
}

/// Who is calling.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Me {
    /// A signed-in person.
    Person(Box<PersonCaller>),
    /// An API key.
    Key(KeyCaller),
}

/// A signed-in person, as they see themselves.
#[derive(Serialize, JsonSchema)]
pub struct PersonCaller {
    #[serde(flatten)]
    pub who: PersonShown,
    /// Send it back as `x-csrf-token` with every write made with the session's cookie.
    pub csrf: String,
    /// The second factor still owed (`passkey`, `enroll`), if any.
    pub second_factor: Option<String>,
    /// Their passkeys (never the keys themselves).
    pub passkeys: Vec<PasskeyShown>,
}

/// A passkey as its owner sees it.
#[derive(Serialize, JsonSchema)]
pub struct PasskeyShown {
    pub id: String,
    pub label: String,
    pub created_at: String,
}

/// An API key, as it sees itself.
#[derive(Serialize, JsonSchema)]
pub struct KeyCaller {
    /// The key's id.
    pub key: String,
    pub role: Role,
    /// For a judge key, the judge.
    pub subject: Option<String>,
}

/// A person with an account, as an administrator sees them.
#[derive(Serialize, JsonSchema)]
pub struct PersonShown {
    pub person: String,
    pub name: String,
    pub email: String,
    pub language: String,
    pub grants: Vec<Grant>,
    /// Whether they proved the address.
    pub verified: bool,
    /// Until when the person's newest sign-in link works (an invitation not yet followed
    /// expires then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_expires_at: Option<String>,
}

/// A person's roles after a change (an invitation, a revocation).
#[derive(Serialize, JsonSchema)]
pub struct GrantsNow {
    pub person: String,
    pub grants: Vec<Grant>,
}

/// A session begun by a sign-in link.
#[derive(Serialize, JsonSchema)]
pub struct SignedIn {
    pub person: String,
    /// Send it back as `x-csrf-token` with every write made with the session's cookie.
    pub csrf: String,
    /// When the session ends.
    pub expires_at: String,
}

/// A person's sessions ended and keys revoked.
#[derive(Serialize, JsonSchema)]
pub struct SessionsRevoked {
    pub person: String,
    /// Sessions begun before this instant are ended.
    pub sessions_after: Option<String>,
    /// The keys revoked.
    pub keys_revoked: Vec<String>,
}

/// A session's second factor given by a passkey.
#[derive(Serialize, JsonSchema)]
pub struct PasskeyUsed {
    /// Always `true`: the session is fully signed in.
    pub signed_in: bool,
    /// The passkey used.
    pub passkey: String,
}
