//! The checked award: what the engine runs. Every reference is resolved, every weight is
//! non-negative, every scale is consistent; only `check` builds one.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use super::wire::{
    AggregateAt, AggregationSpec, ChoiceOption, Comparison, Hook, LimitsSpec, MissingMarks,
    NormalisationSpec, Outcome, PluginErrorPolicy, PluginKind, PointsSpec, RoundingSteps,
    SortOrder, TotalMethod,
};
use crate::ids::{
    ApplicantTypeId, AwardId, CategoryId, CriterionId, FieldId, IndicatorId, PluginId, RuleId,
    ScaleId,
};
use crate::text::Text;

/// A checked award definition.
#[derive(Debug, Clone, Serialize)]
pub struct Award {
    /// The award's identifier.
    pub id: AwardId,
    /// Its name.
    pub name: Text,
    /// Its edition.
    pub edition: String,
    /// What it is for.
    pub description: Option<Text>,
    /// The default language of texts.
    pub default_language: String,
    /// Every language texts are given in.
    pub languages: Vec<String>,
    /// Its timeline.
    pub timeline: Timeline,
    /// Who may apply.
    pub applicant_types: Vec<ApplicantType>,
    /// The form's fields that every category asks for.
    pub fields: Vec<Field>,
    /// The form's named parts, in order (checked: every field in exactly one), or none.
    pub sections: Vec<super::wire::SectionSpec>,
    /// Eligibility rules of every category.
    pub eligibility: Vec<Rule>,
    /// Rules across applications.
    pub limits: Vec<super::wire::LimitSpec>,
    /// The categories.
    pub categories: Vec<Category>,
    /// Special mentions.
    pub special_mentions: Option<SpecialMentions>,
    /// Scoring settings.
    pub scoring: Scoring,
    /// Plugins.
    pub plugins: Vec<PluginDecl>,
    /// Judging rounds, in order (checked: ids unique, criteria and fields known).
    pub rounds: Vec<super::wire::RoundSpec>,
    /// Conflicts of interest derived from data.
    pub conflicts: super::wire::ConflictRules,
    /// What applicants see of their own judging once results are published.
    pub feedback: super::wire::FeedbackSpec,
    /// SHA-256 (hex) of the definition's exact bytes: results carry it so anyone can verify them.
    pub sha256: String,
}

impl Award {
    /// The category with this id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id.as_str() == id)
    }

    /// The applicant type with this id.
    pub fn applicant_type(&self, id: &str) -> Option<&ApplicantType> {
        self.applicant_types.iter().find(|t| t.id.as_str() == id)
    }

    /// The plugin with this id.
    pub fn plugin(&self, id: &str) -> Option<&PluginDecl> {
        self.plugins.iter().find(|p| p.id.as_str() == id)
    }
}

/// The award's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// The IANA time zone dates are shown in.
    pub time_zone: String,
    /// When applications open.
    pub opens: DateTime<FixedOffset>,
    /// When applications close.
    pub closes: DateTime<FixedOffset>,
    /// When results are announced.
    pub results: DateTime<FixedOffset>,
}

/// A kind of applicant.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicantType {
    /// Its id.
    pub id: ApplicantTypeId,
    /// Its name.
    pub name: Text,
    /// Who counts as it.
    pub description: Option<Text>,
    /// Field paths it must fill in.
    pub requires: Vec<FieldId>,
}

/// Where a field or rule applies; empty lists mean everywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Only these categories.
    pub categories: Vec<CategoryId>,
    /// Only these applicant types.
    pub applicant_types: Vec<ApplicantTypeId>,
}

impl Scope {
    /// Whether an application of this category and applicant type is in scope.
    pub fn includes(&self, category: &str, applicant_type: &str) -> bool {
        (self.categories.is_empty() || self.categories.iter().any(|c| c.as_str() == category))
            && (self.applicant_types.is_empty()
                || self
                    .applicant_types
                    .iter()
                    .any(|t| t.as_str() == applicant_type))
    }
}

/// A form field.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// Its id among its siblings.
    pub id: FieldId,
    /// Its label.
    pub label: Text,
    /// Guidance.
    pub help: Option<Text>,
    /// Whether applicants in scope must fill it in.
    pub required: bool,
    /// Personal data: encrypted at rest, never shown to judges.
    pub personal: bool,
    /// Hidden from judges in blind judging.
    pub hidden_from_judges: bool,
    /// Free tags.
    pub tags: Vec<String>,
    /// Where it applies.
    pub scope: Scope,
    /// Its type and constraints.
    pub kind: FieldKind,
    /// Asked only when this holds (a top-level field's `show_if`).
    pub show_if: Option<Condition>,
}

/// A field's type with the constraints that fit it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// Text.
    Text {
        /// Which kind of text.
        format: TextFormat,
        /// Fewest characters.
        min_length: Option<u32>,
        /// Most characters.
        max_length: Option<u32>,
        /// A regular expression the value matches.
        pattern: Option<String>,
    },
    /// A number.
    Number {
        /// Whole numbers only.
        integer: bool,
        /// Smallest value.
        min: Option<Decimal>,
        /// Largest value.
        max: Option<Decimal>,
    },
    /// A country: an ISO 3166-1 alpha-2 code.
    Country,
    /// Yes or no.
    Boolean,
    /// A date.
    Date {
        /// Earliest.
        not_before: Option<NaiveDate>,
        /// Latest.
        not_after: Option<NaiveDate>,
    },
    /// One or several options.
    Choice {
        /// Several may be chosen.
        multiple: bool,
        /// The options.
        options: Vec<ChoiceOption>,
        /// Fewest chosen (multiple only).
        min_items: Option<u32>,
        /// Most chosen (multiple only).
        max_items: Option<u32>,
    },
    /// A list of items.
    List {
        /// Each item.
        item: Box<Field>,
        /// Fewest items.
        min_items: Option<u32>,
        /// Most items.
        max_items: Option<u32>,
    },
    /// Nested fields.
    Group {
        /// The nested fields.
        fields: Vec<Field>,
    },
    /// A reference to an uploaded file.
    File {
        /// Accepted media types.
        accept: Vec<String>,
        /// The largest file accepted, in bytes.
        max_bytes: u64,
    },
}

/// Kinds of text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    /// One line.
    Short,
    /// Paragraphs.
    Long,
    /// An e-mail address.
    Email,
    /// A web address.
    Url,
}

/// An eligibility rule.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Its id.
    pub id: RuleId,
    /// Where it applies.
    pub scope: Scope,
    /// What must hold.
    pub require: Condition,
    /// What failing it means.
    pub outcome: Outcome,
    /// Why, for people.
    pub message: Text,
}

/// A checked condition; field paths are dotted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The field equals the value.
    Equals {
        /// Dotted field path.
        field: String,
        /// The value.
        value: serde_json::Value,
    },
    /// The field's value is one of these.
    In {
        /// Dotted field path.
        field: String,
        /// The values.
        values: Vec<serde_json::Value>,
    },
    /// The field's number compares to the value.
    Compare {
        /// Dotted field path.
        field: String,
        /// The operator.
        op: Comparison,
        /// The value.
        value: Decimal,
    },
    /// The date field is before the date (on it too when `inclusive`).
    Before {
        /// Dotted field path.
        field: String,
        /// The date.
        date: NaiveDate,
        /// Whether the date itself passes.
        inclusive: bool,
    },
    /// The date field is after the date (on it too when `inclusive`).
    After {
        /// Dotted field path.
        field: String,
        /// The date.
        date: NaiveDate,
        /// Whether the date itself passes.
        inclusive: bool,
    },
    /// The field is filled in.
    Present(String),
    /// The field is empty or missing.
    Absent(String),
    /// Item count bounds.
    Count {
        /// Dotted field path.
        field: String,
        /// Fewest.
        min: Option<u32>,
        /// Most.
        max: Option<u32>,
    },
    /// The applicant type is one of these.
    ApplicantType(Vec<ApplicantTypeId>),
    /// The category is one of these.
    Category(Vec<CategoryId>),
    /// All hold.
    All(Vec<Condition>),
    /// One holds.
    Any(Vec<Condition>),
    /// Does not hold.
    Not(Box<Condition>),
    /// A plugin decides.
    Plugin(PluginId),
    /// A formula over the application's fields holds.
    Formula(crate::formula::Formula),
}

/// A category.
#[derive(Debug, Clone, Serialize)]
pub struct Category {
    /// Its id.
    pub id: CategoryId,
    /// Its name.
    pub name: Text,
    /// What it rewards.
    pub description: Option<Text>,
    /// Who may enter.
    pub applicant_types: Vec<ApplicantTypeId>,
    /// Its own rules, after the award's.
    pub eligibility: Vec<Rule>,
    /// Its own fields, after the award's.
    pub fields: Vec<Field>,
    /// Its criteria.
    pub criteria: Vec<Criterion>,
    /// What its winners receive, by place.
    pub prizes: Vec<super::wire::PrizeSpec>,
    /// How many win.
    pub winners: u32,
}

impl Category {
    /// The indicator with this id and its criterion.
    pub fn indicator(&self, id: &str) -> Option<(&Criterion, &Indicator)> {
        self.criteria.iter().find_map(|c| {
            c.indicators
                .iter()
                .find(|i| i.id.as_str() == id)
                .map(|i| (c, i))
        })
    }
}

/// A criterion.
#[derive(Debug, Clone, Serialize)]
pub struct Criterion {
    /// Its id.
    pub id: CriterionId,
    /// Its name.
    pub name: Text,
    /// Guidance.
    pub guidance: Option<Text>,
    /// Weight in the total.
    pub weight: Decimal,
    /// Its indicators.
    pub indicators: Vec<Indicator>,
    /// How its indicators combine (its own `combine`, else `scoring.criterion`).
    pub combine: super::wire::TotalMethod,
    /// The lowest score it counts with.
    pub floor: Option<Decimal>,
    /// The highest score it counts with.
    pub cap: Option<Decimal>,
    /// A score it must reach to win (or advance).
    pub pass_mark: Option<super::wire::PassMarkSpec>,
    /// Whether a judge may abstain on it.
    pub abstain: bool,
}

/// An indicator.
#[derive(Debug, Clone, Serialize)]
pub struct Indicator {
    /// Its id.
    pub id: IndicatorId,
    /// Its name.
    pub name: Text,
    /// Guidance.
    pub guidance: Option<Text>,
    /// Weight within its criterion.
    pub weight: Decimal,
    /// Its scale.
    pub scale: Scale,
    /// Multiplies each mark before the panel's marks combine.
    pub mark_factor: Option<Quantity>,
    /// Added to the indicator's value.
    pub base: Option<Quantity>,
    /// A plugin that computes the value instead of judges.
    pub plugin: Option<PluginId>,
    /// A formula that computes the value instead of judges.
    pub formula: Option<crate::formula::Formula>,
    /// Where the formula's values must lie: the scale the indicator declares, when it declares
    /// one (a formula's values otherwise have no scale; its floor and cap bound them).
    pub formula_bounds: Option<(Decimal, Decimal)>,
    /// The panel whose judges mark it (every judge when absent).
    pub panel: Option<JudgePanel>,
    /// How the panel's marks combine, when it differs from `scoring.aggregation`.
    pub aggregation: Option<super::wire::AggregationSpec>,
    /// The lowest value it counts with.
    pub floor: Option<Decimal>,
    /// The highest value it counts with.
    pub cap: Option<Decimal>,
}

impl Indicator {
    /// Whether a plugin or a formula computes it (judges do not mark it).
    pub fn is_computed(&self) -> bool {
        self.plugin.is_some() || self.formula.is_some()
    }
}

/// A named panel of judges.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgePanel {
    /// Its name in `scoring.panels`.
    pub id: String,
    /// Its judges.
    pub judges: BTreeSet<crate::ids::JudgeId>,
}

/// A number from the definition or from a number field of each application.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// A constant.
    Number(Decimal),
    /// A number field's dotted path.
    Field(String),
}

/// A checked marking scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scale {
    /// Its id.
    pub id: ScaleId,
    /// Its kind.
    pub kind: ScaleKind,
    /// What ranges of marks mean, for judges (numeric scales).
    pub bands: Vec<Band>,
}

/// A range of a numeric scale and what marks in it mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// The band's lowest mark.
    pub from: Decimal,
    /// The band's highest mark.
    pub to: Decimal,
    /// What marks in the band mean.
    pub guidance: Text,
}

/// Numeric or labelled.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleKind {
    /// `min..=max` in steps.
    Numeric {
        /// Lowest.
        min: Decimal,
        /// Highest.
        max: Decimal,
        /// Marks are `min + k × step`, when given.
        step: Option<Decimal>,
    },
    /// Labelled levels, each worth a value.
    Levels(Vec<Level>),
}

/// A level of a labelled scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    /// Its id.
    pub id: String,
    /// Its label.
    pub label: Text,
    /// What it is worth.
    pub value: Decimal,
}

impl Scale {
    /// Whether a computed value is one this scale can hold: within its bounds and on its
    /// steps, or one of its levels' values; if not, why.
    pub fn holds(&self, value: Decimal) -> Result<(), String> {
        match &self.kind {
            ScaleKind::Numeric { min, max, step } => {
                if value < *min || value > *max {
                    return Err(format!("{value} is off the scale {min}..{max}"));
                }
                if let Some(step) = step
                    && !value
                        .checked_sub(*min)
                        .and_then(|o| o.checked_rem(*step))
                        .is_some_and(|r| r.is_zero())
                {
                    return Err(format!(
                        "{value} is not on the scale's steps of {step} from {min}"
                    ));
                }
                Ok(())
            }
            ScaleKind::Levels(levels) => {
                if levels.iter().any(|l| l.value == value) {
                    Ok(())
                } else {
                    let values: Vec<String> = levels.iter().map(|l| l.value.to_string()).collect();
                    Err(format!(
                        "{value} is not the value of a level ({})",
                        values.join(", ")
                    ))
                }
            }
        }
    }

    /// The decimal places its marks have (0 for whole numbers, 1 for steps of 0.5).
    pub fn places(&self) -> u32 {
        match &self.kind {
            ScaleKind::Numeric { min, max, step } => [Some(*min), Some(*max), *step]
                .into_iter()
                .flatten()
                .map(|d| d.normalize().scale())
                .max()
                .unwrap_or(0),
            ScaleKind::Levels(levels) => levels
                .iter()
                .map(|l| l.value.normalize().scale())
                .max()
                .unwrap_or(0),
        }
    }

    /// The lowest and highest value a mark can have.
    pub fn bounds(&self) -> (Decimal, Decimal) {
        match &self.kind {
            ScaleKind::Numeric { min, max, .. } => (*min, *max),
            ScaleKind::Levels(levels) => {
                let min = levels.iter().map(|l| l.value).min().unwrap_or_default();
                let max = levels.iter().map(|l| l.value).max().unwrap_or_default();
                (min, max)
            }
        }
    }
}

/// Special mentions.
#[derive(Debug, Clone, Serialize)]
pub struct SpecialMentions {
    /// Name.
    pub name: Text,
    /// Description.
    pub description: Option<Text>,
    /// Most given.
    pub max: u32,
    /// From which categories.
    pub from_categories: Vec<CategoryId>,
}

/// Checked scoring settings.
#[derive(Debug, Clone, Serialize)]
pub struct Scoring {
    /// The default scale.
    pub scale: Scale,
    /// What a missing mark does.
    pub missing_marks: MissingMarks,
    /// Where the panel's marks combine.
    pub aggregate_at: AggregateAt,
    /// How indicators combine into a criterion.
    pub criterion: TotalMethod,
    /// How criteria combine into a total.
    pub total: TotalMethod,
    /// Per-judge normalisation.
    pub normalisation: NormalisationSpec,
    /// Panel aggregation.
    pub aggregation: AggregationSpec,
    /// Rounding at each step.
    pub rounding: RoundingSteps,
    /// The places a final score is shown with when `rounding` sets none: two more than the
    /// scale's marks have, at most six (the exact value stays in the trace).
    pub default_places: u32,
    /// Rank-based judging, instead of marks.
    pub ranking: Option<Ranking>,
    /// Number fields added to the final score.
    pub adjustments: Vec<String>,
    /// Tie-break chain.
    pub tie_break: Vec<TieBreak>,
    /// A plugin with the `score` hook.
    pub score_plugin: Option<PluginId>,
    /// What a plugin failure does to a batch.
    pub on_plugin_error: PluginErrorPolicy,
    /// The jury's diagnostics' settings, as written (defaults where absent).
    pub diagnostics: crate::definition::wire::DiagnosticsSpec,
}

/// A checked tie-break step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum TieBreak {
    /// Higher panel score on this criterion.
    Criterion {
        /// The criterion.
        criterion: CriterionId,
    },
    /// A field's value.
    Field {
        /// Dotted path.
        field: String,
        /// Which wins.
        order: SortOrder,
    },
    /// A plugin orders them.
    Plugin {
        /// The plugin.
        plugin: PluginId,
    },
}

/// A checked plugin declaration; its file existed and matched `sha256` when checked.
#[derive(Debug, Clone, Serialize)]
pub struct PluginDecl {
    /// Its id.
    pub id: PluginId,
    /// rhai or wasm.
    pub kind: PluginKind,
    /// Its file, relative to the definition's folder.
    pub path: String,
    /// Its SHA-256.
    pub sha256: String,
    /// Its hooks.
    pub hooks: BTreeSet<Hook>,
    /// The limits it asks for.
    pub limits: LimitsSpec,
}

/// Checked rank-based judging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranking {
    /// The rankings each judge gives; one unnamed (`""`) when the definition names none.
    pub sources: Vec<String>,
    /// With several sources: the source whose better rank wins equal sums.
    pub tie_break_source: Option<String>,
    /// Place to points.
    pub points: PointsSpec,
}
