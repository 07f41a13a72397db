//! Rules across applications (`limits`): how many applications one value of a field (a city,
//! an applicant's e-mail) may have, and in how many categories. Pure: applications in, every
//! breach out.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::application::Application;
use crate::definition::model::Award;
use crate::definition::wire::LimitSpec;
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
        let mut groups: BTreeMap<String, Vec<(&str, &str)>> = BTreeMap::new();
        for a in applications {
            if let Some(v) = value_of(a, limit.field.as_str()) {
                groups
                    .entry(v)
                    .or_default()
                    .push((a.id.as_str(), a.category.as_str()));
            }
        }
        out.extend(
            groups
                .into_iter()
                .filter_map(|(value, members)| limit_breach(limit, value, &members)),
        );
    }
    out
}

/// The value an application has for a limit's `field`, as limits compare values (trimmed and
/// lower-cased text, other values as JSON); `None`: the application counts for no one.
pub fn limit_value(app: &Application, field: &str) -> Option<String> {
    value_of(app, field)
}

/// How `limit` judges the applications that share `value` (each its id and category, in the
/// order given): the breach, if they break it.
pub fn limit_breach(
    limit: &LimitSpec,
    value: String,
    members: &[(&str, &str)],
) -> Option<LimitBreach> {
    let categories: BTreeSet<&str> = members.iter().map(|(_, c)| *c).collect();
    let mut reasons = Vec::new();
    if let Some(max) = limit.max_applications
        && members.len() > max as usize
    {
        reasons.push(format!("{} applications, at most {max}", members.len()));
    }
    if let Some(max) = limit.max_categories
        && categories.len() > max as usize
    {
        reasons.push(format!("{} categories, at most {max}", categories.len()));
    }
    if reasons.is_empty() {
        return None;
    }
    Some(LimitBreach {
        limit: limit.id.to_string(),
        field: limit.field.to_string(),
        value,
        applications: members.iter().map(|(id, _)| (*id).to_owned()).collect(),
        categories: categories.into_iter().map(str::to_owned).collect(),
        reason: reasons.join("; "),
        message: limit.message.clone(),
    })
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
