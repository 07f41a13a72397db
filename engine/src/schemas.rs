//! The JSON Schemas generated from the wire types, as committed in `schemas/`.

use serde_json::Value;

use crate::schema_gen::generate;

use crate::application::{Application, Evaluation, Marks};
use crate::definition::wire::PluginSpec;

/// Every schema Laurel publishes, with the file name it has in `schemas/`.
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("award.schema.json", award_schema()),
        (
            "application.schema.json",
            generate::<Application>("application"),
        ),
        (
            "evaluation.schema.json",
            generate::<Evaluation>("evaluation"),
        ),
        ("marks.schema.json", marks_schema()),
        (
            "judges.schema.json",
            generate::<Vec<crate::judging::Judge>>("judges"),
        ),
        ("plugin.schema.json", generate::<PluginSpec>("plugin")),
        (
            "bundle.schema.json",
            generate::<crate::verify::Bundle>("bundle"),
        ),
    ]
    .into_iter()
    .chain(crate::plugin::hook_schemas())
    .collect()
}

/// The schema of marks files.
pub fn marks_schema() -> Value {
    generate::<Marks>("marks")
}

/// The schema of award definitions.
pub fn award_schema() -> Value {
    crate::definition::generated_schema()
}

/// A schema as committed: pretty JSON with a final newline.
pub fn render(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
