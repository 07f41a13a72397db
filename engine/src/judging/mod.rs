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
use crate::identity;
use crate::ids::{ApplicationId, JudgeId};

pub use assign::{AssignError, AssignmentPlan, Coverage, KeptApart, assign, replacement};
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

/// A conflict a judge declared (or one the installation knows, such as a recusal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclaredConflict {
    /// The application.
    pub application: ApplicationId,
    /// Why.
    pub reason: String,
    /// Which rule keeps them apart: what the judge declared, unless the installation added it.
    #[serde(skip)]
    #[schemars(skip)]
    pub rule: ConflictRule,
}

/// What keeps a judge away from an application.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConflictRule {
    /// The judge declared it.
    #[default]
    Declared,
    /// The judge recused themselves from it in an earlier round.
    Recused,
    /// The judge's own person submitted it.
    OwnApplication,
    /// The rubric's `same_organisation` rule.
    SameOrganisation,
    /// The rubric's `same_city` rule.
    SameCity,
    /// The rubric's `same_country` rule.
    SameCountry,
}

/// Why a judge may not judge an application: the rule, and the reason in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Conflict {
    /// The rule.
    pub rule: ConflictRule,
    /// The reason, in words.
    pub reason: String,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Why `judge` may not judge `application`, if they may not: a declared (or known) conflict,
/// or one the rubric's rules derive. Organisations and cities are compared as names
/// (Unicode-normalised, case and accents and punctuation aside); countries as ISO 3166-1
/// codes, whatever language or spelling either side wrote them in.
pub fn conflict(award: &Award, judge: &Judge, application: &Application) -> Option<Conflict> {
    if let Some(d) = judge
        .declared_conflicts
        .iter()
        .find(|d| d.application == application.id)
    {
        let reason = match d.rule {
            ConflictRule::Declared => format!("declared: {}", d.reason),
            _ => d.reason.clone(),
        };
        return Some(Conflict {
            rule: d.rule,
            reason,
        });
    }
    let rules = &award.conflicts;
    /// How two values of an identity fact are compared.
    type Same = fn(&str, &str) -> bool;
    let checks: [(ConflictRule, &str, _, _, Same); 3] = [
        (
            ConflictRule::SameOrganisation,
            "organisation",
            &rules.same_organisation,
            &judge.organisation,
            identity::same_name,
        ),
        (
            ConflictRule::SameCity,
            "city",
            &rules.same_city,
            &judge.city,
            identity::same_name,
        ),
        (
            ConflictRule::SameCountry,
            "country",
            &rules.same_country,
            &judge.country,
            identity::same_country,
        ),
    ];
    for (rule, what, field, mine, same) in checks {
        let (Some(field), Some(mine)) = (field, mine) else {
            continue;
        };
        if let Some(Value::String(theirs)) = lookup(&application.fields, field.as_str())
            && same(theirs, mine)
        {
            return Some(Conflict {
                rule,
                reason: format!("same {what}: `{theirs}` and `{mine}`"),
            });
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
    values.iter().any(|v| {
        judge
            .expertise
            .iter()
            .any(|e| e.trim().eq_ignore_ascii_case(v.trim()))
    })
}
