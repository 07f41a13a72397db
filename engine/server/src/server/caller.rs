//! Who is calling: a key or a signed-in person, with a role (and, for judges, their judge id
//! and award); what they may do, and how the audit chain names them. The request extractor
//! is in `auth.rs`; sessions build one in `session.rs`.

use super::error::ApiError;
use super::records::{KeyOwner, Role};

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's id.
    pub key: String,
    /// Its role.
    pub role: Role,
    /// For judges, the judge id.
    pub subject: Option<String>,
    /// For a judge key, the award it judges in.
    pub award: Option<String>,
    /// Who answers for the call: the signed-in person, or the key's owner.
    pub owner: Option<KeyOwner>,
}

impl Caller {
    /// Fails with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a `{}` key may not do this",
                role_name(self.role)
            )))
        }
    }

    /// The actor, for the audit chain.
    pub fn actor(&self) -> String {
        match &self.owner {
            Some(owner) if owner.id != self.key => {
                format!("{} of {owner} ({})", self.key, role_name(self.role))
            }
            _ => format!("{} ({})", self.key, role_name(self.role)),
        }
    }

    /// An audit entry of this caller's.
    pub fn audit(
        &self,
        action: &str,
        target: impl Into<String>,
        detail: serde_json::Value,
    ) -> crate::store::AuditEntry {
        crate::store::AuditEntry {
            actor: self.actor(),
            action: action.to_owned(),
            target: target.into(),
            detail,
        }
    }
}

/// A role's name.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Judge => "judge",
        Role::Applicant => "applicant",
        Role::Integrator => "integrator",
        Role::Auditor => "auditor",
    }
}
