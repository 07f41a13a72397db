#![doc = include_str!("../README.md")]

mod application;
mod definition;
mod diagnostics;
mod ids;
mod locate;
mod schema_check;
pub mod schemas;
mod text;

pub use application::{Application, Evaluation, Mark};
pub use definition::model::{
    ApplicantType, Award, Category, Condition, Criterion, Field, FieldKind, Indicator, Level,
    Plugin, Rule, Scale, ScaleKind, Scope, Scoring, SpecialMentions, TextFormat, TieBreak,
    Timeline,
};
pub use definition::wire;
pub use definition::{DefinitionReport, PluginFiles, check_definition, parse_definition};
pub use diagnostics::{Code, Diagnostic, Diagnostics, Severity};
pub use ids::{
    ApplicantTypeId, ApplicationId, AwardId, CategoryId, CriterionId, FieldId, IndicatorId,
    JudgeId, PluginId, RuleId, ScaleId,
};
pub use locate::SourceMap;
pub use text::Text;
