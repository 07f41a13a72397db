//! `schemas/` is what the code generates: regenerate with `laurel schema --out schemas/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

#[test]
fn committed_schemas_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    for (name, schema) in laurel::schemas::all() {
        let committed = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(
            committed == laurel::schemas::render(&schema),
            "schemas/{name} is stale: run `cargo run -- schema --out schemas/`"
        );
    }
}

#[test]
fn schemas_are_draft_2020_12_with_titles() {
    for (name, schema) in laurel::schemas::all() {
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        assert!(schema["title"].is_string(), "{name} has no title");
        jsonschema::draft202012::meta::validate(&schema).unwrap();
    }
}

#[test]
fn shipped_rubrics_follow_the_award_schema() {
    let schema = laurel::schemas::award_schema();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let rubrics = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rubrics");
    for entry in std::fs::read_dir(rubrics).unwrap() {
        let path = entry.unwrap().path().join("award.json");
        if path.exists() {
            let value: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        }
    }
}
