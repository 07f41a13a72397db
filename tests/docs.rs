//! The rubric author's guide (`docs/authoring.md`) keeps up with the schema: every setting and
//! every value of the award definition's schema is named in it, and every JSON example in it
//! is JSON.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn collect(v: &Value, names: &mut BTreeSet<String>, values: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                names.extend(props.keys().cloned());
            }
            for key in ["enum", "const"] {
                match map.get(key) {
                    Some(Value::Array(items)) => {
                        values.extend(items.iter().filter_map(|x| x.as_str().map(str::to_owned)));
                    }
                    Some(Value::String(s)) => {
                        values.insert(s.clone());
                    }
                    _ => {}
                }
            }
            for x in map.values() {
                collect(x, names, values);
            }
        }
        Value::Array(items) => {
            for x in items {
                collect(x, names, values);
            }
        }
        _ => {}
    }
}

#[test]
fn every_setting_of_the_schema_is_in_the_authors_guide() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/award.schema.json")).unwrap(),
    )
    .unwrap();
    let guide = std::fs::read_to_string(root().join("docs/authoring.md")).unwrap();
    let (mut names, mut values) = (BTreeSet::new(), BTreeSet::new());
    collect(&schema, &mut names, &mut values);
    assert!(names.len() > 150, "{names:?}");
    let missing: Vec<&String> = names
        .iter()
        .chain(values.iter())
        .filter(|n| !guide.contains(&format!("`{n}`")) && !guide.contains(&format!("\"{n}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/authoring.md does not name {missing:?}"
    );
}

#[test]
fn every_json_example_of_the_guide_is_json() {
    let guide = std::fs::read_to_string(root().join("docs/authoring.md")).unwrap();
    let mut blocks = 0;
    for block in guide.split("```json\n").skip(1) {
        let text = block.split("\n```").next().unwrap();
        // A fragment of an object (`"key": ...` pairs) is read inside braces.
        let ok = serde_json::from_str::<Value>(text).is_ok()
            || serde_json::from_str::<Value>(&format!("{{{text}}}")).is_ok();
        assert!(ok, "not JSON:\n{text}");
        blocks += 1;
    }
    assert!(blocks >= 10, "{blocks}");
}
