use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{ApplicantTypeId, CategoryId, FieldId, PluginId, RuleId};
use crate::text::Text;

/// An eligibility rule: where it applies, the condition an application must meet, and what
/// happens, with a message a person understands, when it does not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// The rule's identifier, unique within the award.
    pub id: RuleId,
    /// Restricts the rule to some categories or applicant types; everywhere when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<AppliesTo>,
    /// The condition an application must meet.
    pub require: ConditionSpec,
    /// What failing the rule means.
    #[serde(default)]
    pub outcome: Outcome,
    /// Why the application fails, for the applicant and the administrators.
    pub message: Text,
}

/// A restriction to some categories and/or applicant types; an empty list means all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppliesTo {
    /// Only these categories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryId>,
    /// Only these applicant types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applicant_types: Vec<ApplicantTypeId>,
}

/// What an application that fails a rule becomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not eligible.
    #[default]
    Ineligible,
    /// Eligible only if an administrator decides so.
    Review,
    /// Eligible, with the rule's message as a note (for example "the budget is above the usual
    /// range"): administrators and the results see it; nothing waits on it.
    Warning,
    /// Eligible and may win, but receives no prize money (for example the host city's own
    /// projects); the rule's message says why, in the results.
    NoPrize,
}

/// A condition over an application's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ConditionSpec {
    /// The field equals a value.
    Equals(EqualsSpec),
    /// The field's value is one of several.
    In(InSpec),
    /// The field's number compares to a value.
    Compare(CompareSpec),
    /// The field's date is before a date (strictly, unless `inclusive`).
    Before(DateSpec),
    /// The field's date is after a date (strictly, unless `inclusive`).
    After(DateSpec),
    /// The field is filled in.
    Present(FieldId),
    /// The field is empty or missing.
    Absent(FieldId),
    /// The number of items of a list or multiple-choice field is within bounds.
    Count(CountSpec),
    /// The application's applicant type is one of these.
    ApplicantType(Vec<ApplicantTypeId>),
    /// The application's category is one of these.
    Category(Vec<CategoryId>),
    /// Every condition holds.
    All(Vec<ConditionSpec>),
    /// At least one condition holds.
    Any(Vec<ConditionSpec>),
    /// The condition does not hold.
    Not(Box<ConditionSpec>),
    /// A plugin's `eligibility` hook decides.
    Plugin(PluginCall),
    /// A formula over the application's number and boolean fields and `scoring.constants`
    /// holds: `fields.budget_usd / fields.population <= 10`.
    Formula(String),
}

/// `equals`: a field and the value it must have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EqualsSpec {
    /// The field, with dots for nested fields.
    pub field: FieldId,
    /// The value, of the field's type.
    pub value: serde_json::Value,
}

/// `in`: a field and the values it may have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InSpec {
    /// The field, with dots for nested fields.
    pub field: FieldId,
    /// The values, of the field's type.
    #[schemars(length(min = 1))]
    pub values: Vec<serde_json::Value>,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Comparison {
    /// Less than.
    #[serde(rename = "<")]
    Lt,
    /// Less than or equal.
    #[serde(rename = "<=")]
    Le,
    /// Greater than.
    #[serde(rename = ">")]
    Gt,
    /// Greater than or equal.
    #[serde(rename = ">=")]
    Ge,
}

/// `compare`: a numeric field, an operator and a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareSpec {
    /// A number or integer field.
    pub field: FieldId,
    /// `<`, `<=`, `>` or `>=`.
    pub op: Comparison,
    /// The value compared with.
    pub value: Decimal,
}

/// `before` / `after`: a date field and the date compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DateSpec {
    /// A date field.
    pub field: FieldId,
    /// The date (`YYYY-MM-DD`); or give `relative`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// A date relative to the call's timeline instead of `date`: "within the 2 years before
    /// the call opens" is `after` `{"to": "opens", "years": -2}`, `inclusive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative: Option<RelativeDate>,
    /// Whether the date itself passes: `false` (the default) compares strictly ("before
    /// 2024-01-01" excludes 1 January), `true` includes it ("on or before").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inclusive: bool,
}

/// A date counted from one of the timeline's dates (its day in the award's time zone): years and
/// months first (a day the month lacks becomes its last day: 31 March less one month is 28 or 29
/// February), then days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelativeDate {
    /// Which date of the timeline.
    pub to: TimelineDate,
    /// Years added (negative: before).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub years: i32,
    /// Months added (negative: before).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub months: i32,
    /// Days added (negative: before).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub days: i32,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// A date of the call's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineDate {
    /// When applications open.
    Opens,
    /// When applications close.
    Closes,
    /// When results are published.
    Results,
}

/// `count`: bounds on the number of items of a list or multiple-choice field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountSpec {
    /// A list or multiple-choice field.
    pub field: FieldId,
    /// The fewest items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    /// The most items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

/// `plugin`: a plugin's `eligibility` hook decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginCall {
    /// A plugin declared in `plugins` with the `eligibility` hook.
    pub plugin: PluginId,
}
