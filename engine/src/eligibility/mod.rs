//! Eligibility: every rule that applies to an application, decided with reasons and the values
//! each failed rule read.

mod condition;
mod limits;

pub(crate) use condition::decimal;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::application::Application;
use crate::definition::model::{Award, Rule};
use crate::definition::wire::Outcome;
use crate::plugin::PluginSet;
use crate::text::Text;

use condition::{Evaluator, Failure};
pub(crate) use condition::{FieldValues, lookup};
pub use limits::{LimitBreach, check_limits, limit_breach, limit_value};

/// The id of the built-in rule that a category admits the application's applicant type.
pub const CATEGORY_ADMITS_RULE: &str = "category-admits-applicant-type";

/// An application's eligibility.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every rule holds.
    Eligible,
    /// A rule with outcome `ineligible` failed.
    Ineligible,
    /// Only rules with outcome `review` failed: an administrator decides.
    NeedsReview,
}

/// A rule that an application failed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RuleFailure {
    /// The rule's id (or a built-in rule's).
    pub rule: String,
    /// What failing it means.
    pub outcome: Outcome,
    /// Why, in the award's languages.
    pub message: Text,
    /// Every field value the rule read (`null` for a missing one).
    pub values: BTreeMap<String, Value>,
    /// Reasons given by a plugin, or its error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// The decision for one application.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "EligibilityDecision")]
pub struct Decision {
    /// The application.
    pub application: String,
    /// The outcome.
    pub status: Status,
    /// Every failed rule, in the order checked.
    pub failures: Vec<RuleFailure>,
    /// How many rules applied and were checked.
    pub rules_checked: usize,
}

impl Decision {
    /// Sends an application to review for a reason outside its rules (a `validate` plugin that
    /// failed on it): an eligible application then needs review; an ineligible one stays so.
    pub fn require_review(&mut self, award: &Award, rule: &str, details: Vec<String>) {
        self.failures.push(RuleFailure {
            rule: rule.to_owned(),
            outcome: Outcome::Review,
            message: crate::messages::PLUGIN_UNCHECKED.text(award, &[]),
            values: BTreeMap::new(),
            details,
        });
        if self.status == Status::Eligible {
            self.status = Status::NeedsReview;
        }
    }

    /// Whether the application is admitted: eligible, or needing review and admitted by the
    /// administrator's decision.
    pub fn admits(&self, review: Option<&crate::application::ReviewDecision>) -> bool {
        match self.status {
            Status::Eligible => true,
            Status::Ineligible => false,
            Status::NeedsReview => review.is_some_and(|r| r.eligible),
        }
    }
}

/// Whether checking an application of this category and applicant type against `award`
/// ([`crate::check_applications`]) and deciding its eligibility ([`decide`]) can call a plugin:
/// a `validate` hook, or a rule in scope for them whose condition names a plugin. When not, both
/// run without plugins, and a caller need not run them where plugins run.
pub fn admission_calls_plugins(award: &Award, category: &str, applicant_type: &str) -> bool {
    if award
        .plugins
        .iter()
        .any(|p| p.hooks.contains(&crate::definition::wire::Hook::Validate))
    {
        return true;
    }
    let own = award
        .category(category)
        .map(|c| c.eligibility.as_slice())
        .unwrap_or_default();
    award
        .eligibility
        .iter()
        .chain(own)
        .filter(|r| r.scope.includes(category, applicant_type))
        .any(|r| names_plugin(&r.require))
}

fn names_plugin(condition: &crate::definition::model::Condition) -> bool {
    use crate::definition::model::Condition as C;
    match condition {
        C::Plugin(_) => true,
        C::All(all) | C::Any(all) => all.iter().any(names_plugin),
        C::Not(inner) => names_plugin(inner),
        _ => false,
    }
}

/// Decides an application's eligibility under `award`.
/// The form's top-level questions `application` is not asked: in scope for its category and
/// applicant type, but their `show_if` does not hold for its answers. Their answers are to be
/// left out, and they are not required.
pub fn not_asked(award: &Award, application: &Application) -> Vec<String> {
    let category = application.category.as_str();
    let applicant_type = application.applicant_type.as_str();
    let none = PluginSet::none();
    let evaluator = Evaluator {
        application,
        plugins: &none,
        verdicts: Default::default(),
    };
    let own = award
        .category(category)
        .map(|c| c.fields.as_slice())
        .unwrap_or_default();
    award
        .fields
        .iter()
        .chain(own)
        .filter(|f| f.scope.includes(category, applicant_type))
        .filter(|f| {
            f.show_if
                .as_ref()
                .is_some_and(|c| !matches!(evaluator.holds(c, None), Ok(true)))
        })
        .map(|f| f.id.to_string())
        .collect()
}

pub fn decide(award: &Award, application: &Application, plugins: &PluginSet) -> Decision {
    let category = application.category.as_str();
    let applicant_type = application.applicant_type.as_str();
    let mut failures = Vec::new();
    let mut checked = 0;
    let Some(cat) = award.category(category) else {
        let text = crate::messages::UNKNOWN_CATEGORY
            .text(award, &[("category", &|_| category.to_owned())]);
        failures.push(builtin(text));
        return finish(application, failures, 1);
    };
    checked += 1;
    if !cat
        .applicant_types
        .iter()
        .any(|t| t.as_str() == applicant_type)
    {
        let admitted = |l: &str| -> String {
            cat.applicant_types
                .iter()
                .map(|t| {
                    award.applicant_type(t.as_str()).map_or_else(
                        || t.to_string(),
                        |a| a.name.get(l, &award.default_language).to_owned(),
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let text = crate::messages::CATEGORY_ADMITS.text(
            award,
            &[
                ("category", &|l: &str| {
                    cat.name.get(l, &award.default_language).to_owned()
                }),
                ("admitted", &admitted),
                ("applicant", &|_| applicant_type.to_owned()),
            ],
        );
        failures.push(builtin(text));
    }
    let evaluator = Evaluator {
        application,
        plugins,
        verdicts: Default::default(),
    };
    for rule in award.eligibility.iter().chain(cat.eligibility.iter()) {
        if !rule.scope.includes(category, applicant_type) {
            continue;
        }
        checked += 1;
        if let Some(failure) = check_rule(&evaluator, rule) {
            failures.push(failure);
        }
    }
    finish(application, failures, checked)
}

fn check_rule(evaluator: &Evaluator<'_>, rule: &Rule) -> Option<RuleFailure> {
    // The fast path reads without recording; only a failed rule is evaluated again to record
    // the values it read.
    match evaluator.holds(&rule.require, None) {
        Ok(true) => None,
        Ok(false) => {
            let mut values = BTreeMap::new();
            let mut details = Vec::new();
            let _ = evaluator.holds(&rule.require, Some((&mut values, &mut details)));
            Some(RuleFailure {
                rule: rule.id.to_string(),
                outcome: rule.outcome,
                message: rule.message.clone(),
                values,
                details,
            })
        }
        Err(Failure::Plugin(error) | Failure::Formula(error)) => {
            let mut values = BTreeMap::new();
            let mut details = Vec::new();
            let _ = evaluator.holds(&rule.require, Some((&mut values, &mut details)));
            details.push(error);
            // A plugin or a formula that fails never makes anyone ineligible: an
            // administrator decides.
            Some(RuleFailure {
                rule: rule.id.to_string(),
                outcome: Outcome::Review,
                message: rule.message.clone(),
                values,
                details,
            })
        }
    }
}

fn builtin(message: Text) -> RuleFailure {
    RuleFailure {
        rule: CATEGORY_ADMITS_RULE.to_owned(),
        outcome: Outcome::Ineligible,
        message,
        values: BTreeMap::new(),
        details: Vec::new(),
    }
}

fn finish(application: &Application, failures: Vec<RuleFailure>, checked: usize) -> Decision {
    // Warnings admit, with their notes kept among the failures.
    let status = if failures.iter().any(|f| f.outcome == Outcome::Ineligible) {
        Status::Ineligible
    } else if failures.iter().any(|f| f.outcome == Outcome::Review) {
        Status::NeedsReview
    } else {
        Status::Eligible
    };
    Decision {
        application: application.id.to_string(),
        status,
        failures,
        rules_checked: checked,
    }
}
