//! Award definitions: parse, check against the JSON Schema, check semantics, lower.

pub(crate) mod check;
pub(crate) mod defaults;
pub mod model;
pub mod wire;

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use check::PluginFiles;
use model::Award;
use wire::AwardDefinition;

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::locate::SourceMap;
use crate::schema_check;

/// The outcome of checking one definition: every diagnostic, and the checked award when there
/// is no error.
#[derive(Debug)]
pub struct DefinitionReport {
    /// Every problem found, in document order.
    pub diagnostics: Diagnostics,
    /// The checked award, when no diagnostic is an error.
    pub award: Option<Award>,
}

/// Checks a definition's source text and lowers it into an [`Award`].
///
/// Runs the whole pipeline and reports every problem at once: JSON syntax, the JSON Schema, the
/// typed form, then the semantic checks (ids, references, weights, scales, conditions, plugins,
/// dates). Plugin files are read through `files`, relative to the definition's folder.
pub fn check_definition(source: &str, files: &dyn PluginFiles) -> DefinitionReport {
    let _suggestions = crate::suggest::Budget::start();
    let mut diagnostics = Diagnostics::new();
    let value: Value = match serde_json::from_str(source) {
        Ok(v) => v,
        Err(e) => {
            diagnostics.push(
                Diagnostic::error(
                    Code::Syntax,
                    "",
                    format!("invalid JSON: {}", syntax_message(&e)),
                )
                .at(e.line().max(1), e.column().max(1)),
            );
            return DefinitionReport {
                diagnostics,
                award: None,
            };
        }
    };
    let map = SourceMap::new(source);
    match award_validator() {
        Ok(validator) => diagnostics.extend(schema_check::check(validator, award_schema(), &value)),
        Err(e) => diagnostics.push(Diagnostic::error(
            Code::Schema,
            "",
            format!("internal: the award schema does not compile: {e}"),
        )),
    }
    let schema_ok = !diagnostics.has_errors();
    let mut parsed: Result<AwardDefinition, _> = serde_path_to_error::deserialize(&value);
    if parsed.is_err() && !schema_ok {
        // Misspelt keys are the commonest schema error: without them the definition may still
        // be typed, so its semantic problems can be reported in the same run.
        let pruned = without_unknown_properties(&value, &diagnostics);
        parsed = serde_path_to_error::deserialize(&pruned);
    }
    let award = match parsed {
        Ok(def) => {
            let sha256 = hex::encode(Sha256::digest(source.as_bytes()));
            let (semantic, award) = check::check(&def, sha256, files);
            diagnostics.extend(semantic);
            award.filter(|_| schema_ok)
        }
        Err(e) => {
            if schema_ok {
                let pointer = path_to_pointer(&e.path().to_string());
                diagnostics.push(Diagnostic::error(
                    Code::Schema,
                    pointer,
                    e.inner().to_string(),
                ));
            } else {
                diagnostics.push(
                    Diagnostic::warning(
                        Code::Schema,
                        "",
                        "references, weights, scales, conditions, plugins and dates were not checked",
                    )
                    .with_hint("they are checked once the schema errors are fixed"),
                );
            }
            None
        }
    };
    diagnostics.locate(&map);
    DefinitionReport { diagnostics, award }
}

/// A copy of `value` without the properties reported as unknown.
fn without_unknown_properties(value: &Value, diagnostics: &Diagnostics) -> Value {
    let mut pruned = value.clone();
    for d in diagnostics
        .iter()
        .filter(|d| d.code == Code::UnknownProperty)
    {
        let Some((parent, key)) = d.pointer.rsplit_once('/') else {
            continue;
        };
        let key = key.replace("~1", "/").replace("~0", "~");
        if let Some(Value::Object(map)) = pruned.pointer_mut(parent) {
            map.remove(&key);
        }
    }
    pruned
}

/// Parses a definition without any check, for tools that only read it.
pub fn parse_definition(source: &str) -> Result<AwardDefinition, serde_json::Error> {
    serde_json::from_str(source)
}

fn syntax_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text.get(..i).unwrap_or(&text).to_owned(),
        None => text,
    }
}

/// Turns serde's `a.b[2].c` path into the JSON pointer `/a/b/2/c`.
fn path_to_pointer(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    let mut out = String::new();
    for part in path.split('.') {
        let mut rest = part;
        while let Some(open) = rest.find('[') {
            let (name, tail) = rest.split_at(open);
            if !name.is_empty() {
                out.push('/');
                out.push_str(name);
            }
            let close = tail.find(']').unwrap_or(tail.len());
            out.push('/');
            out.push_str(tail.get(1..close).unwrap_or(""));
            rest = tail.get(close + 1..).unwrap_or("");
        }
        if !rest.is_empty() {
            out.push('/');
            out.push_str(rest);
        }
    }
    out
}

/// The schema of award definitions, generated from the wire types.
pub(crate) fn generated_schema() -> serde_json::Value {
    crate::schema_gen::generate::<wire::AwardDefinition>("award")
}

fn award_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(generated_schema)
}

fn award_validator() -> Result<&'static Validator, &'static String> {
    static VALIDATOR: OnceLock<Result<Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| schema_check::compile(award_schema()))
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::path_to_pointer;

    #[test]
    fn serde_paths_become_pointers() {
        assert_eq!(path_to_pointer("."), "");
        assert_eq!(
            path_to_pointer("categories[2].criteria[0].weight"),
            "/categories/2/criteria/0/weight"
        );
        assert_eq!(path_to_pointer("scoring.rounding"), "/scoring/rounding");
    }
}
