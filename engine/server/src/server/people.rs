//! People: accounts with roles per award, one-time sign-in links, and sessions.
//!
//! A person is found by a MAC of their address (the address itself is sealed). A sign-in link
//! carries a random token; only its SHA-256 is stored, with an expiry, and redeeming it deletes
//! it in a conditional commit, so it works once. A session is a random token in an HttpOnly
//! cookie; only its SHA-256 is stored. The cookie also carries when it was last seen, under a
//! MAC, so idle expiry needs no write per request.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::crypto::Sealer;
use super::error::ApiError;
use super::records::Role;
use super::webhooks::random_id;

/// How long a sign-in link works.
pub const SIGN_IN_TTL: chrono::Duration = chrono::Duration::minutes(30);
/// How long an invitation's link works.
pub const INVITATION_TTL: chrono::Duration = chrono::Duration::days(7);
/// A session ends after this long without a request.
pub const IDLE: chrono::Duration = chrono::Duration::hours(8);
/// A session ends this long after sign-in, however active.
pub const ABSOLUTE: chrono::Duration = chrono::Duration::days(7);
/// The session cookie's name.
pub const COOKIE: &str = "laurel_session";

/// A role on one award, or on every award (`award` absent: administrators and auditors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Grant {
    /// The award, or none for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub award: Option<String>,
    /// The role.
    pub role: Role,
    /// For judges, the judge id in that award.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<String>,
}

/// A person.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Person {
    /// Their id.
    pub id: String,
    /// Their address, sealed.
    #[schemars(skip)]
    pub email: Value,
    /// Their name, sealed.
    #[schemars(skip)]
    pub name: Value,
    /// Their preferred language (a tag of the award's, e.g. `en`, `ko`).
    pub language: String,
    /// What they may do.
    pub grants: Vec<Grant>,
    /// Whether they proved the address (by following a link sent to it).
    pub verified: bool,
    /// Sessions started before this instant are ended (an administrator's revocation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_after: Option<String>,
    /// When they were added.
    pub created_at: String,
    /// Passkeys registered as a second factor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(skip)]
    pub passkeys: Vec<super::passkeys::Passkey>,
}

/// A one-time sign-in token, stored by its SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    /// Whose.
    pub person: String,
    /// Until when it works (RFC 3339).
    pub expires_at: String,
}

/// A session, stored by its token's SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// Whose.
    pub person: String,
    /// When it started.
    pub created_at: String,
    /// When it ends, however active.
    pub expires_at: String,
    /// The token forms and scripts send back in `x-csrf-token` (or `_csrf`).
    pub csrf: String,
    /// The second factor still owed before the session may do anything else: `passkey` (the
    /// person has one: use it) or `enroll` (an administrator without one: register one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor: Option<String>,
}

/// An address as compared: trimmed, lower case.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether an address looks deliverable: one `@`, a dot in the domain, no spaces or controls.
pub fn plausible_email(email: &str) -> bool {
    let e = email.trim();
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.len() <= 254
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// The key a person is found under by address.
pub fn email_key(sealer: &Sealer, email: &str) -> Vec<u8> {
    sealer
        .mac(format!("person email\0{}", normalise_email(email)).as_bytes())
        .into_bytes()
}

/// A new secret token (for a link or a session) and the key it is stored under.
pub fn new_token() -> Result<(String, Vec<u8>), ApiError> {
    let token = random_id("", 32)?;
    let key = token_key(&token);
    Ok((token, key))
}

/// The key a token is stored under.
pub fn token_key(token: &str) -> Vec<u8> {
    hex::encode(Sha256::digest(token.as_bytes())).into_bytes()
}

/// The session cookie's value: the token, when it was last seen, and a MAC of both.
pub fn cookie_value(sealer: &Sealer, token: &str, seen: i64) -> String {
    let mac = sealer.mac(format!("session\0{token}\0{seen}").as_bytes());
    format!("{token}.{seen}.{mac}")
}

/// The token and last-seen time of a cookie value, if its MAC holds.
pub fn read_cookie(sealer: &Sealer, value: &str) -> Option<(String, i64)> {
    let mut parts = value.split('.');
    let (token, seen, mac) = (parts.next()?, parts.next()?, parts.next()?);
    let seen: i64 = seen.parse().ok()?;
    let want = sealer.mac(format!("session\0{token}\0{seen}").as_bytes());
    (parts.next().is_none() && constant_time_eq(mac.as_bytes(), want.as_bytes()))
        .then(|| (token.to_owned(), seen))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The role a person has on `award` (the first that applies: an all-awards grant, then the
/// award's), with the judge id for judges.
pub fn role_on(person: &Person, award: Option<&str>) -> Option<(Role, Option<String>)> {
    let global = person
        .grants
        .iter()
        .filter(|g| g.award.is_none())
        .min_by_key(|g| rank(g.role));
    let on_award = person
        .grants
        .iter()
        .filter(|g| g.award.is_some() && g.award.as_deref() == award)
        .min_by_key(|g| rank(g.role));
    let any_judge = person.grants.iter().find(|g| g.role == Role::Judge);
    let pick = match (global, on_award) {
        (Some(g), Some(a)) => Some(if rank(g.role) <= rank(a.role) { g } else { a }),
        (g, a) => g.or(a),
    };
    match pick {
        Some(g) => Some((g.role, g.judge.clone())),
        // Outside any award (a judge's work list), a judge is a judge.
        None if award.is_none() => any_judge
            .or_else(|| person.grants.iter().min_by_key(|g| rank(g.role)))
            .map(|g| (g.role, g.judge.clone())),
        None => None,
    }
}

/// The most powerful first.
fn rank(role: Role) -> u8 {
    match role {
        Role::Admin => 0,
        Role::Auditor => 1,
        Role::Judge => 2,
        Role::Integrator => 3,
        Role::Applicant => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(grants: Vec<Grant>) -> Person {
        Person {
            id: "p".into(),
            email: Value::Null,
            name: Value::Null,
            language: "en".into(),
            grants,
            verified: true,
            sessions_after: None,
            created_at: String::new(),
            passkeys: Vec::new(),
        }
    }

    #[test]
    fn roles_are_per_award() {
        let p = person(vec![
            Grant {
                award: Some("a".into()),
                role: Role::Judge,
                judge: Some("judge-kim".into()),
            },
            Grant {
                award: Some("b".into()),
                role: Role::Applicant,
                judge: None,
            },
        ]);
        assert_eq!(
            role_on(&p, Some("a")),
            Some((Role::Judge, Some("judge-kim".into())))
        );
        assert_eq!(role_on(&p, Some("b")), Some((Role::Applicant, None)));
        assert_eq!(role_on(&p, Some("c")), None);
        assert_eq!(role_on(&p, None).map(|r| r.0), Some(Role::Judge));
        let admin = person(vec![Grant {
            award: None,
            role: Role::Admin,
            judge: None,
        }]);
        assert_eq!(role_on(&admin, Some("c")).map(|r| r.0), Some(Role::Admin));
    }

    #[test]
    fn cookies_are_checked() {
        let s = Sealer::for_tests();
        let v = cookie_value(&s, "tok", 100);
        assert_eq!(read_cookie(&s, &v), Some(("tok".into(), 100)));
        assert_eq!(read_cookie(&s, &v.replace(".100.", ".101.")), None);
        assert_eq!(read_cookie(&s, "tok.100"), None);
    }

    #[test]
    fn addresses_are_checked_loosely() {
        assert!(plausible_email(" Kim@Example.org "));
        assert!(!plausible_email("kim@localhost"));
        assert!(!plausible_email("kim example.org"));
        assert!(!plausible_email("<kim@example.org>"));
        assert_eq!(normalise_email(" Kim@Example.org "), "kim@example.org");
    }
}
