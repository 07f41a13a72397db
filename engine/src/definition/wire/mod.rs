//! The award definition as it is written: serde types that are the source of `schemas/`.
//!
//! Every struct denies unknown fields, so a misspelt key is an error, never silently ignored.
//! These types are only parsed; `check` turns them into the checked model that the engine runs.

mod award;
mod criteria;
mod eligibility;
mod form;
mod plugin;
mod rounds;
mod scoring;

pub use award::{
    ApplicantTypeSpec, AwardDefinition, CategorySpec, FORMAT_VERSION, FeedbackSpec, LanguagesSpec,
    LimitSpec, PrizeSpec, SpecialMentionsSpec, TimelineSpec,
};
pub use criteria::{
    CriterionSpec, IndicatorSpec, LevelSpec, PassMarkEffect, PassMarkSpec, Quantity, ScaleBandSpec,
    ScaleSpec,
};
pub use eligibility::{
    AppliesTo, CompareSpec, Comparison, ConditionSpec, CountSpec, DateSpec, EqualsSpec, InSpec,
    Outcome, PluginCall, RelativeDate, RuleSpec, TimelineDate,
};
pub use form::{ChoiceOption, FieldSpec, FieldType, FormSpec, SectionSpec};
pub use plugin::{Hook, LimitsSpec, PluginKind, PluginSpec};
pub use rounds::{AdvanceSpec, ConflictRules, GroupQuotas, RoundSpec, SeeOtherMarks};
pub use scoring::{
    AdjustmentSpec, AggregateAt, AggregationSpec, CombineMethod, CombineSpec, DiagnosticsSpec,
    MissingMarks, NormalisationMethod, NormalisationSpec, PluginErrorPolicy, PointsSpec,
    RankingSpec, RoundingMode, RoundingSpec, RoundingSteps, ScoringSpec, SortOrder, TieBreakSpec,
    TotalMethod, WhenFewer,
};
