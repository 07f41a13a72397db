//! Rules across applications (`limits`): how many applications one value of a field (a city,
//! an applicant's e-mail) may have, and in how many categories. Pure: applications in, every
//! breach out.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::application::Application;
use crate::definition::model::Award;
use crate::text::Text;

/// A limit that some applications break together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitBreach {
    /// The limit's id.
    pub limit: String,
    /// The field that groups them.
    pub field: String,
    /// The field's value they share.
    pub value: String,
    /// The applications with that value, in the order given (submission order).
    pub applications: Vec<String>,
    /// The categories they are in.
    pub categories: Vec<String>,
    /// What breaks: the count and the most allowed.
    pub reason: String,
    /// The limit's message for applicants.
    pub message: Text,
}

fn value_of(app: &Application, field: &str) -> Option<String> {
    match crate::eligibility::lookup(&app.fields, field)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.trim().to_lowercase()),
        other => Some(other.to_string()),
    }
}

/// Every breach of the award's limits among `applications`. Values compare without case and
/// surrounding spaces (`Seoul` and ` seoul` are one city); an application without the field
/// counts for no one.
pub fn check_limits(award: &Award, applications: &[Application]) -> Vec<LimitBreach> {
    let mut out = Vec::new();
    for limit in &award.limits {
        let mut groups: BTreeMap<String, Vec<&Application>> = BTreeMap::new();
        for a in applications {
            if let Some(v) = value_of(a, limit.field.as_str()) {
                groups.entry(v).or_default().push(a);
            }
        }
        for (value, apps) in groups {
            let categories: BTreeSet<&str> = apps.iter().map(|a| a.category.as_str()).collect();
            let mut reasons = Vec::new();
            if let Some(max) = limit.max_applications
                && apps.len() > max as usize
            {
                reasons.push(format!("{} applications, at most {max}", apps.len()));
            }
            if let Some(max) = limit.max_categories
                && categories.len() > max as usize
            {
                reasons.push(format!("{} categories, at most {max}", categories.len()));
            }
            if reasons.is_empty() {
                continue;
            }
            out.push(LimitBreach {
                limit: limit.id.to_string(),
                field: limit.field.to_string(),
                value,
                applications: apps.iter().map(|a| a.id.to_string()).collect(),
                categories: categories.into_iter().map(str::to_owned).collect(),
                reason: reasons.join("; "),
                message: limit.message.clone(),
            });
        }
    }
    out
}

impl LimitBreach {
    /// One line for results' warnings.
    pub fn warning(&self) -> String {
        let shown: Vec<String> = self
            .applications
            .iter()
            .take(8)
            .map(|a| format!("`{a}`"))
            .collect();
        format!(
            "limit `{}`: {} `{}` has {} ({}{})",
            self.limit,
            self.field,
            self.value,
            self.reason,
            shown.join(", "),
            if self.applications.len() > 8 {
                ", ..."
            } else {
                ""
            }
        )
    }
}
