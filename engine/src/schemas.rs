//! The JSON Schemas generated from the wire types, as committed in `schemas/`.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value;

use crate::application::{Application, Evaluation, Marks};
use crate::definition::wire::{AwardDefinition, PluginSpec};

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
    generate::<AwardDefinition>("award")
}

pub(crate) fn generate<T: JsonSchema>(name: &str) -> Value {
    let settings = SchemaSettings::draft2020_12().for_deserialize();
    let generator = SchemaGenerator::new(settings);
    let mut value = generator.into_root_schema_for::<T>().to_value();
    if let Value::Object(map) = &mut value {
        map.insert(
            "$id".to_owned(),
            Value::String(format!("https://laurel.dev/schemas/{name}.schema.json")),
        );
    }
    value
}

/// A schema as committed: pretty JSON with a final newline.
pub fn render(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
