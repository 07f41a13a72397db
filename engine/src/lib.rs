#![doc = include_str!("../README.md")]

mod application;
mod applications;
mod definition;
mod diagnostics;
mod eligibility;
mod form_schema;
mod ids;
mod judging;
mod locate;
mod plugin;
mod schema_check;
pub mod schemas;
mod scoring;
mod text;

pub use application::{
    Application, Evaluation, FileRef, Mark, Marks, MentionDecision, RankingSubmission,
    ReviewDecision,
};
pub use applications::{ApplicationChecker, check_applications};
pub use definition::model::{
    ApplicantType, Award, Category, Condition, Criterion, Field, FieldKind, Indicator, Level,
    PluginDecl, Rule, Scale, ScaleKind, Scope, Scoring, SpecialMentions, TextFormat, TieBreak,
    Timeline,
};
pub use definition::wire;
pub use definition::{DefinitionReport, PluginFiles, check_definition, parse_definition};
pub use diagnostics::{Code, Diagnostic, Diagnostics, Severity};
pub use eligibility::{CATEGORY_ADMITS_RULE, Decision, RuleFailure, Status, decide};
pub use form_schema::application_schema;
pub use ids::{
    ApplicantTypeId, ApplicationId, AwardId, CategoryId, CriterionId, FieldId, IndicatorId,
    JudgeId, PluginId, RuleId, ScaleId,
};
pub use judging::{
    AssignError, AssignmentPlan, Coverage, DeclaredConflict, Judge, advancing, assign, conflict,
};
pub use locate::SourceMap;
pub use plugin::{
    ABI_VERSION, Limits, Plugin, PluginError, PluginOutput, PluginSet, RhaiPlugin, WasmPlugin,
    load_plugins,
};
pub use scoring::{
    AdjustmentTrace, AggregationTrace, CategoryResult, CriterionTrace, EligibilityEntry,
    IndicatorTrace, InputErrors, JudgeMark, JudgeStats, JudgeTrace, NormalisedTrace,
    PanelCriterion, PanelIndicator, Placed, RankTrace, Results, Trace, Unscored, check_marks,
    evaluate,
};
pub use text::Text;
