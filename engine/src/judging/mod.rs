//! Judges, conflicts of interest, and assignment of applications to judges. Pure: judges,
//! applications and a seed in, a plan or the reasons there is none out.

mod assign;
mod outcome;
mod rounds;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::application::Application;
use crate::definition::model::Award;
use crate::eligibility::lookup;
use crate::ids::{ApplicationId, JudgeId};

pub use assign::{AssignError, AssignmentPlan, Coverage, assign, replacement};
pub use outcome::{
    ApplicationOutcome, AwardedPrize, CategoryOutcome, Entrant, FinalResults, Mention, Outcome,
    RoundPlace, RoundRun, RoundSummary, Winner, final_csv, final_results,
};
pub use rounds::{advancing, check_decisions};

/// A judge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Laurel judge")]
pub struct Judge {
    /// The judge's id.
    pub id: JudgeId,
    /// Their name.
    pub name: String,
    /// Their organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// Their country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Their city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Expertise tags, matched against the round's expertise field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expertise: Vec<String>,
    /// Conflicts the judge declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declared_conflicts: Vec<DeclaredConflict>,
}

/// A conflict a judge declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclaredConflict {
    /// The application.
    pub application: ApplicationId,
    /// Why.
    pub reason: String,
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Why `judge` may not judge `application`, if they may not: a declared conflict, or one the
/// rubric's rules derive (same organisation, city or country).
pub fn conflict(award: &Award, judge: &Judge, application: &Application) -> Option<String> {
    if let Some(d) = judge
        .declared_conflicts
        .iter()
        .find(|d| d.application == application.id)
    {
        return Some(format!("declared: {}", d.reason));
    }
    let rules = &award.conflicts;
    let checks = [
        (
            "organisation",
            &rules.same_organisation,
            &judge.organisation,
        ),
        ("city", &rules.same_city, &judge.city),
        ("country", &rules.same_country, &judge.country),
    ];
    for (what, field, mine) in checks {
        let (Some(field), Some(mine)) = (field, mine) else {
            continue;
        };
        if let Some(Value::String(theirs)) = lookup(&application.fields, field.as_str())
            && same(theirs, mine)
        {
            return Some(format!("same {what} `{theirs}`"));
        }
    }
    None
}

/// Whether a judge's expertise meets an application's values of the round's expertise field.
pub(crate) fn expertise_matches(judge: &Judge, application: &Application, field: &str) -> bool {
    let values: Vec<&str> = match lookup(&application.fields, field) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    };
    values
        .iter()
        .any(|v| judge.expertise.iter().any(|e| same(e, v)))
}
