//! Rewrites of the schemas schemars writes into equivalent forms that common client
//! generators read (openapi-python-client, openapi-typescript, datamodel-code-generator).

use serde_json::{Value, json};

/// Boolean schemas (`true`, `false`) where a schema object is expected, written as objects
/// (`{}`, `{"not": {}}`): JSON Schema allows both, and common client generators read only
/// objects.
pub fn objects_for_booleans(v: &mut Value) {
    fn fix(slot: &mut Value) {
        match slot {
            Value::Bool(true) => *slot = json!({}),
            Value::Bool(false) => *slot = json!({ "not": {} }),
            other => objects_for_booleans(other),
        }
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                match k.as_str() {
                    "items" | "not" | "contains" | "if" | "then" | "else" | "propertyNames" => {
                        fix(child);
                    }
                    "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                        if let Value::Object(props) = child {
                            props.values_mut().for_each(fix);
                        }
                    }
                    "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                        if let Value::Array(items) = child {
                            items.iter_mut().for_each(fix);
                        }
                    }
                    _ => objects_for_booleans(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(objects_for_booleans),
        _ => {}
    }
}

/// A `oneOf` whose branches are each one constant string (how schemars writes an enum with
/// documented variants) written as one `enum`, each variant's description kept in the
/// schema's: generators read `enum`, and some try only the first constant of a union.
pub fn enums_for_const_unions(v: &mut Value) {
    if let Value::Object(map) = v {
        let constants: Option<Vec<(String, Option<String>)>> = map
            .get("oneOf")
            .and_then(Value::as_array)
            .and_then(|branches| {
                branches
                    .iter()
                    .map(|b| {
                        let value = b.get("const").and_then(Value::as_str).or_else(|| {
                            b.get("enum")
                                .and_then(Value::as_array)
                                .filter(|e| e.len() == 1)
                                .and_then(|e| e[0].as_str())
                        })?;
                        Some((
                            value.to_owned(),
                            b.get("description")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                        ))
                    })
                    .collect()
            });
        if let Some(constants) = constants.filter(|c| !c.is_empty()) {
            map.remove("oneOf");
            let notes: Vec<String> = constants
                .iter()
                .filter_map(|(v, d)| d.as_ref().map(|d| format!("`{v}`: {d}")))
                .collect();
            if !notes.is_empty() {
                let before = map
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let joined = notes.join("; ");
                map.insert(
                    "description".to_owned(),
                    Value::String(if before.is_empty() {
                        joined
                    } else {
                        format!("{before} ({joined})")
                    }),
                );
            }
            map.insert("type".to_owned(), json!("string"));
            map.insert(
                "enum".to_owned(),
                json!(constants.into_iter().map(|(v, _)| v).collect::<Vec<_>>()),
            );
        }
        map.values_mut().for_each(enums_for_const_unions);
    } else if let Value::Array(items) = v {
        items.iter_mut().for_each(enums_for_const_unions);
    }
}

/// A schema that contains itself (a condition of conditions) refers to itself as a plain object
/// in this document: client generators stop at such unions (openapi-python-client drops the
/// award definition). `schemas/award.schema.json` keeps the full recursion for validation, and
/// the server checks every nested condition.
pub fn loosen_self_references(v: &mut Value, name: &str) {
    let me = format!("#/components/schemas/{name}");
    match v {
        Value::Object(map) if map.get("$ref").and_then(Value::as_str) == Some(me.as_str()) => {
            *v = json!({ "description": format!("A nested {name} (see {name})") });
        }
        Value::Object(map) => map
            .values_mut()
            .for_each(|c| loosen_self_references(c, name)),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|c| loosen_self_references(c, name)),
        _ => {}
    }
}

/// A map keyed by ids (`patternProperties: {P: S}` with `additionalProperties: false`, how
/// schemars writes a map with a newtype key) written as `additionalProperties: S` with
/// `propertyNames: {pattern: P}`: the same set of values, in the form generators read
/// (openapi-python-client drops `patternProperties`, so a judge's marks were lost).
pub fn maps_for_pattern_properties(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let single = map
                .get("patternProperties")
                .and_then(Value::as_object)
                .filter(|p| p.len() == 1)
                .map(|p| p.iter().next().map(|(k, s)| (k.clone(), s.clone())));
            if let Some(Some((pattern, schema))) = single
                && map.get("additionalProperties") == Some(&Value::Bool(false))
                && !map.contains_key("properties")
            {
                map.remove("patternProperties");
                map.insert("additionalProperties".to_owned(), schema);
                map.insert("propertyNames".to_owned(), json!({ "pattern": pattern }));
            }
            map.values_mut().for_each(maps_for_pattern_properties);
        }
        Value::Array(items) => items.iter_mut().for_each(maps_for_pattern_properties),
        _ => {}
    }
}

/// The largest integer every client's numbers hold exactly (2^53 - 1: JavaScript's, and any
/// binary float's); 64-bit integers are promised within it.
const SAFE: i64 = (1 << 53) - 1;

/// Integers with a machine format (`uint64`, `int32`, ...) bounded as that format is (64-bit
/// ones within [`SAFE`]): a client generator's types and a fuzzer's numbers then fit what the
/// server reads.
pub fn bounds_for_integer_formats(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let bounds: Option<(Value, Value)> = match map.get("format").and_then(Value::as_str) {
                Some("uint8") => Some((json!(0), json!(u8::MAX))),
                Some("uint16") => Some((json!(0), json!(u16::MAX))),
                Some("uint32") => Some((json!(0), json!(u32::MAX))),
                Some("uint64" | "uint") => Some((json!(0), json!(SAFE))),
                Some("int32") => Some((json!(i32::MIN), json!(i32::MAX))),
                Some("int64" | "int") => Some((json!(-SAFE), json!(SAFE))),
                _ => None,
            };
            if let Some((low, high)) = bounds {
                map.entry("minimum").or_insert(low);
                map.entry("maximum").or_insert(high);
            }
            map.values_mut().for_each(bounds_for_integer_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(bounds_for_integer_formats),
        _ => {}
    }
}

/// A `default` written into the schema's description instead (`Default: ...`): the server
/// fills in what is left out, so a client must be free to leave it out, but some generators
/// make a property with a `default` required (openapi-typescript's `defaultNonNullable`, on by
/// default), which would make every request spell out every default.
pub fn defaults_in_descriptions(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(default) = map.remove("default") {
                let shown = format!("Default: `{default}`.");
                let description = match map.get("description").and_then(Value::as_str) {
                    Some(d) => format!("{d} {shown}"),
                    None => shown,
                };
                map.insert("description".to_owned(), Value::String(description));
            }
            for (k, child) in map.iter_mut() {
                match k.as_str() {
                    // Maps of names to schemas: each value is a schema, the map is not.
                    "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                        if let Value::Object(named) = child {
                            named.values_mut().for_each(defaults_in_descriptions);
                        }
                    }
                    // Examples and constants are data, not schemas.
                    "examples" | "example" | "const" | "enum" => {}
                    _ => defaults_in_descriptions(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(defaults_in_descriptions),
        _ => {}
    }
}

/// Points every `$ref` to a renamed schema at its new name.
pub fn rename_refs(value: &mut Value, renamed: &std::collections::BTreeMap<String, String>) {
    const PREFIX: &str = "#/components/schemas/";
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get_mut("$ref")
                && let Some(new) = target
                    .strip_prefix(PREFIX)
                    .and_then(|name| renamed.get(name))
            {
                *target = format!("{PREFIX}{new}");
            }
            map.values_mut().for_each(|v| rename_refs(v, renamed));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, renamed)),
        _ => {}
    }
}

/// Whether `value` has a `$ref` to the named schema.
pub fn refers_to(value: &Value, name: &str) -> bool {
    match value {
        Value::Object(map) => {
            map.get("$ref").and_then(Value::as_str)
                == Some(format!("#/components/schemas/{name}").as_str())
                || map.values().any(|v| refers_to(v, name))
        }
        Value::Array(items) => items.iter().any(|v| refers_to(v, name)),
        _ => false,
    }
}
