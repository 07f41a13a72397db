#![doc = include_str!("../README.md")]

mod application;
mod applications;
mod definition;
mod diagnose;
mod diagnostics;
mod eligibility;
mod entries;
mod form_schema;
mod formula;
mod identity;
mod ids;
mod json;
mod judging;
mod locate;
mod mark_reading;
mod messages;
mod plugin;
mod prizes;
mod random;
mod schema_check;
mod schema_gen;
pub mod schemas;
mod scoring;
mod suggest;
mod text;
mod time;
mod verify;
pub mod words;

pub use application::{
    Application, Evaluation, FileRef, Mark, Marks, MentionDecision, RankingSubmission,
    ReviewDecision,
};
pub use applications::{ApplicationChecker, check_applications};
pub use definition::defaults::FORMAT_VERSIONS;
pub use definition::model::{
    ApplicantType, Award, Band, Category, Condition, Criterion, Field, FieldKind, Indicator,
    JudgePanel, Level, PluginDecl, Rule, Scale, ScaleKind, Scope, Scoring, SpecialMentions,
    TextFormat, TieBreak, Timeline,
};
pub use definition::wire;
pub use definition::{DefinitionReport, PluginFiles, check_definition, parse_definition};
pub use diagnose::{
    Agreement, CategoryDiagnosis, CategoryRobustness, CriterionAgreement, DiagnoseOptions,
    Diagnosis, Halo, Icc, IccReport, IndicatorAgreement, JudgeReport, MethodRobustness,
    OutlyingMark, RankInterval, RobustnessOptions, Sensitivity, diagnose, diagnose_with_progress,
};
pub use diagnostics::{Code, Diagnostic, Diagnostics, Severity, SourceLocation};
pub use eligibility::{
    CATEGORY_ADMITS_RULE, Decision, LimitBreach, RuleFailure, Status, admission_calls_plugins,
    check_limits, decide, limit_breach, limit_value, not_asked,
};
pub use entries::{TITLE_TAG, entry_title};
pub use form_schema::{application_schema, application_schema_in};
pub use formula::{Formula, Type as FormulaType};
pub use identity::{
    countries_in, country_code, country_codes, country_name, country_suggestion, is_country_code,
    normalised, same_country, same_name,
};
pub use ids::{
    ApplicantTypeId, ApplicationId, AwardId, CategoryId, CriterionId, FieldId, IndicatorId,
    JudgeId, PluginId, RuleId, ScaleId, is_id, is_slug,
};
pub use json::{
    check_strict_slice, exact_decimal, from_str_located, from_value_located, strict_from_slice,
    strict_from_str,
};
pub use judging::{
    ApplicationOutcome, AssignError, AssignmentPlan, AwardedPrize, CategoryOutcome, Conflict,
    ConflictRule, Coverage, DeclaredConflict, Entrant, FinalResults, Judge, KeptApart, Mention,
    Outcome, RoundPlace, RoundRun, RoundSummary, Winner, advancing, assign, check_decisions,
    conflict, final_csv, final_results, replacement,
};
pub use locate::SourceMap;
pub use plugin::{
    ABI_VERSION, ArtefactCache, Busy, COMPILE_MEMORY_BYTES, CallSteps, CompileError, LANE_CAPACITY,
    Lane, Limits, ModuleCompiler, Plugin, PluginError, PluginOutput, PluginSet, PoolStats,
    QUEUE_CAPACITY, RhaiPlugin, STACK_BYTES, SandboxError, WasmPlugin, clean, compile_module_here,
    load_plugins, on_plugin_thread, plugin_threads, pool_stats, run_sandboxed, set_artefact_cache,
    set_module_compiler, spawn_in_lane, spawn_sandboxed,
};
pub use scoring::{
    AdjustmentTrace, AggregationTrace, CategoryResult, CriterionTrace, EligibilityEntry,
    EvaluateOptions, IndicatorTrace, InputErrors, JudgeMark, JudgeStats, JudgeTrace,
    NormalisedTrace, PanelCriterion, PanelIndicator, PassMarkFailure, Placed, RankTrace, Results,
    Trace, Unscored, check_hook_output, check_marks, evaluate, evaluate_decided, evaluate_with,
};
pub use text::{LANGUAGE_PATTERN, Text};
pub use time::{parse_instant, show_instant};
pub use verify::{
    BUNDLE_FORMAT, Bundle, BundleAdvance, BundleApplication, BundleDecision, BundleFailure,
    BundleInputs, BundleRound, Mismatch, Party, RoundInputs, Verification, make_bundle,
    verify_bundle, withheld_fields,
};

/// The largest file a `file` field accepts when it sets no `max_bytes`: 10 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 << 20;
