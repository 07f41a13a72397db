//! How a JSON Schema is generated from a wire type: draft 2020-12, as the type deserialises,
//! with the `$id` Laurel publishes it under. A leaf: the definition checker, the plugin hooks
//! and `schemas` (which gathers every schema) all use it.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value;

/// The schema of `T`, published as `<name>.schema.json`.
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
