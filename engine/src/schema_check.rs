//! Runs a JSON Schema over a document and turns its errors into located diagnostics.
//!
//! `anyOf`/`oneOf` failures are reduced to the branch the author most likely meant (the one
//! whose discriminator matched, or that got deepest into the document) so that a typo inside a
//! condition is reported where it is, not as "matches none of 14 forms".

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::definition::check::{backticked, closest};
use crate::diagnostics::{Code, Diagnostic, escape_segment};

/// Compiles one of Laurel's own schemas.
pub(crate) fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// The pattern of a decimal written as a string (rust_decimal's schema).
const DECIMAL_PATTERN: &str = r"^-?\d+(\.\d+)?([eE]\d+)?$";

/// Every schema problem of `instance`, located by JSON pointer.
pub(crate) fn check(validator: &Validator, schema: &Value, instance: &Value) -> Vec<Diagnostic> {
    // A document with no problem (nearly every one) is answered by the validator's yes or no,
    // which builds no error and no location on the way.
    if validator.is_valid(instance) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for error in validator.iter_errors(instance) {
        convert(&error, schema, instance, &mut out);
    }
    misnamed(out)
}

/// An object with both keys it does not know and keys it lacks, three or more in all, was most
/// likely written with the wrong names (`min`/`max`/`label` for `from`/`to`/`guidance`): one
/// error for the object, saying which names it has and which it needs, rather than one per key.
/// (A single misspelt key keeps its own error, located at the key, with its "did you mean".)
fn misnamed(out: Vec<Diagnostic>) -> Vec<Diagnostic> {
    use std::collections::BTreeMap;
    let missing_name = |d: &Diagnostic| {
        d.message
            .strip_prefix("missing required property `")
            .and_then(|m| m.strip_suffix('`'))
            .map(str::to_owned)
    };
    let unknown_at = |d: &Diagnostic| {
        (d.code == Code::UnknownProperty && d.message.starts_with("unknown property `"))
            .then(|| d.pointer.rsplit_once('/'))
            .flatten()
            .map(|(object, _)| object.to_owned())
    };
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unknown: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in &out {
        if let Some(name) = missing_name(d) {
            missing.entry(d.pointer.clone()).or_default().push(name);
        } else if let Some(object) = unknown_at(d) {
            let name = d
                .message
                .trim_start_matches("unknown property `")
                .trim_end_matches('`')
                .to_owned();
            unknown.entry(object).or_default().push(name);
        }
    }
    let merged: Vec<&String> = missing
        .iter()
        .filter(|(k, m)| unknown.get(*k).is_some_and(|u| u.len() + m.len() > 2))
        .map(|(k, _)| k)
        .collect();
    if merged.is_empty() {
        return out;
    }
    let mut kept: Vec<Diagnostic> = out
        .into_iter()
        .filter(|d| {
            let object = missing_name(d)
                .map(|_| d.pointer.clone())
                .or_else(|| unknown_at(d));
            object.is_none_or(|o| !merged.contains(&&o))
        })
        .collect();
    for object in merged {
        let (has, needs) = (&unknown[object], &missing[object]);
        let renames: Vec<String> = has
            .iter()
            .filter_map(|h| {
                closest(h, needs.iter().map(String::as_str)).map(|n| format!("`{h}` to `{n}`"))
            })
            .collect();
        let d = Diagnostic::error(
            Code::Schema,
            object.clone(),
            format!(
                "this object has {} where it needs {}",
                backticked(has),
                backticked(needs)
            ),
        );
        kept.push(if renames.is_empty() {
            d.with_hint(format!("name its keys {}", backticked(needs)))
        } else {
            d.with_hint(format!("rename {}", renames.join(", ")))
        });
    }
    kept
}

fn depth(pointer: &str) -> usize {
    pointer.matches('/').count()
}

fn convert(
    error: &ValidationError<'_>,
    schema: &Value,
    instance: &Value,
    out: &mut Vec<Diagnostic>,
) {
    let pointer = error.instance_path().as_str().to_owned();
    let value = error.instance();
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let known = known_properties(schema, error.schema_path().as_str());
            for name in unexpected {
                let mut d = Diagnostic::error(
                    Code::UnknownProperty,
                    format!("{pointer}/{}", escape_segment(name)),
                    format!("unknown property `{name}`"),
                );
                if let Some(best) = closest(name, known.iter().map(String::as_str)) {
                    d = d.with_hint(format!("did you mean `{best}`?"));
                } else if !known.is_empty() {
                    d = d.with_hint(format!("allowed here: {}", backticked(&known)));
                }
                out.push(d);
            }
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            alternatives(&pointer, value, context, schema, instance, out);
        }
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            out.push(Diagnostic::error(
                Code::Schema,
                pointer,
                format!("missing required property `{name}`"),
            ));
        }
        ValidationErrorKind::Type { kind } => {
            out.push(Diagnostic::error(
                Code::Schema,
                pointer,
                format!("expected {}, found {}", type_names(kind), describe(value)),
            ));
        }
        ValidationErrorKind::Enum { options } if is_country_list(options) => {
            let mut d = Diagnostic::error(
                Code::Schema,
                pointer,
                format!(
                    "{} is not a country code (ISO 3166-1 alpha-2, such as `KR`)",
                    describe(value)
                ),
            );
            if let Some(code) = value.as_str().and_then(crate::identity::country_code) {
                d = d.with_hint(format!(
                    "write `{code}` ({})",
                    crate::identity::country_name(code, "en").unwrap_or(code)
                ));
            }
            out.push(d);
        }
        ValidationErrorKind::Enum { options } => {
            let names: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(plain).collect())
                .unwrap_or_default();
            let mut d = Diagnostic::error(
                Code::Schema,
                pointer,
                format!("{} is not one of {}", describe(value), backticked(&names)),
            );
            if let Some(s) = value.as_str()
                && let Some(best) = closest(s, names.iter().map(String::as_str))
            {
                d = d.with_hint(format!("did you mean `{best}`?"));
            }
            out.push(d);
        }
        ValidationErrorKind::Pattern { pattern } => {
            // Decimals are written as strings or numbers: say so rather than show the regex.
            let mut d = if pattern.as_str() == DECIMAL_PATTERN {
                Diagnostic::error(
                    Code::Schema,
                    pointer.clone(),
                    format!(
                        "{} is not a number (write it as `7`, `7.5` or `\"7.5\"`)",
                        describe(value)
                    ),
                )
            } else {
                Diagnostic::error(
                    Code::Schema,
                    pointer.clone(),
                    format!("{} does not match the pattern `{pattern}`", describe(value)),
                )
            };
            if pointer.ends_with("/compare/value")
                && value
                    .as_str()
                    .is_some_and(|v| v.parse::<chrono::NaiveDate>().is_ok())
            {
                d = d.with_hint(
                    "`compare` reads numbers; for a date, use `before` or `after` with a `date`",
                );
            }
            out.push(d);
        }
        ValidationErrorKind::Format { format } => {
            let what = match format.as_str() {
                "email" => "an e-mail address",
                "uri" => "an absolute URL",
                "date" => "a date (YYYY-MM-DD)",
                other => other,
            };
            out.push(Diagnostic::error(
                Code::Schema,
                pointer,
                format!("{} is not {what}", describe(value)),
            ));
        }
        ValidationErrorKind::FalseSchema => {
            let name = pointer
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .replace("~1", "/")
                .replace("~0", "~");
            out.push(
                Diagnostic::error(
                    Code::UnknownProperty,
                    pointer.clone(),
                    format!("`{name}` does not apply here"),
                )
                .with_hint("this field is not asked of this category and applicant type"),
            );
        }
        _ => {
            let message = error.to_string();
            out.push(Diagnostic::error(
                Code::Schema,
                pointer,
                lower_first(&message),
            ));
        }
    }
}

/// Picks the branch of an `anyOf`/`oneOf` that the author most likely meant.
fn alternatives(
    pointer: &str,
    value: &Value,
    branches: &[Vec<ValidationError<'static>>],
    schema: &Value,
    instance: &Value,
    out: &mut Vec<Diagnostic>,
) {
    let base = depth(pointer);
    // A branch is out when its discriminator (a `const`) or the value's type did not match.
    let disqualified = |errors: &Vec<ValidationError<'static>>| {
        errors.iter().any(|e| match e.kind() {
            ValidationErrorKind::Constant { .. } => true,
            ValidationErrorKind::Type { .. } => depth(e.instance_path().as_str()) == base,
            _ => false,
        })
    };
    let candidates: Vec<(usize, &Vec<ValidationError<'static>>)> = branches
        .iter()
        .filter(|b| !b.is_empty() && !disqualified(b))
        .map(|b| {
            let reach = b
                .iter()
                .map(|e| depth(e.instance_path().as_str()))
                .min()
                .unwrap_or(base);
            (reach, b)
        })
        .collect();
    let best = candidates.iter().map(|(r, _)| *r).max();
    let chosen: Vec<_> = candidates
        .iter()
        .filter(|(r, _)| Some(*r) == best)
        .collect();
    if let [(reach, errors)] = chosen.as_slice()
        && (*reach > base || candidates.len() == 1)
    {
        for e in errors.iter() {
            convert(e, schema, instance, out);
        }
        return;
    }
    // No branch stands out: say which forms were possible.
    let mut tags = Vec::new();
    let mut consts = Vec::new();
    let mut const_pointer = None;
    let mut types = Vec::new();
    for e in branches.iter().flatten() {
        match e.kind() {
            ValidationErrorKind::Required { property }
                if depth(e.instance_path().as_str()) == base =>
            {
                tags.push(plain(property));
            }
            ValidationErrorKind::Constant { expected_value } => {
                consts.push(plain(expected_value));
                const_pointer = Some(e.instance_path().as_str().to_owned());
            }
            ValidationErrorKind::Type { kind } if depth(e.instance_path().as_str()) == base => {
                types.push(type_names(kind));
            }
            _ => {}
        }
    }
    dedup(&mut tags);
    dedup(&mut consts);
    dedup(&mut types);
    if let Some(at) = const_pointer
        && !consts.is_empty()
    {
        let found = pointer_get(instance, &at);
        let mut d = Diagnostic::error(
            Code::Schema,
            at,
            format!(
                "{} is not one of {}",
                found.map_or("nothing".to_owned(), describe),
                backticked(&consts)
            ),
        );
        if let Some(s) = found.and_then(Value::as_str)
            && let Some(best) = closest(s, consts.iter().map(String::as_str))
        {
            d = d.with_hint(format!("did you mean `{best}`?"));
        }
        out.push(d);
    } else if !tags.is_empty() && value.is_object() {
        let keys: Vec<String> = value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let mut d = Diagnostic::error(
            Code::Schema,
            pointer,
            format!(
                "{} is not a known form here; expected one of {}",
                backticked(&keys),
                backticked(&tags)
            ),
        );
        if let Some(best) = keys
            .iter()
            .find_map(|k| closest(k, tags.iter().map(String::as_str)))
        {
            d = d.with_hint(format!("did you mean `{best}`?"));
        }
        out.push(d);
    } else if !types.is_empty() {
        out.push(Diagnostic::error(
            Code::Schema,
            pointer,
            format!("expected {}, found {}", types.join(" or "), describe(value)),
        ));
    } else {
        out.push(Diagnostic::error(
            Code::Schema,
            pointer,
            format!("{} matches none of the allowed forms", describe(value)),
        ));
    }
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

/// The property names the schema allows next to an `additionalProperties` keyword.
fn known_properties(schema: &Value, schema_path: &str) -> Vec<String> {
    let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
    schema
        .pointer(&format!("{parent}/properties"))
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn pointer_get<'v>(instance: &'v Value, pointer: &str) -> Option<&'v Value> {
    instance.pointer(pointer)
}

fn type_names(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => article(&t.to_string()),
        TypeKind::Multiple(ts) => ts
            .iter()
            .map(|t| article(&t.to_string()))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn article(t: &str) -> String {
    match t {
        "array" | "integer" | "object" => format!("an {t}"),
        "null" => "null".to_owned(),
        _ => format!("a {t}"),
    }
}

/// A value for a message: short values in backticks, long ones by their type.
pub(crate) fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "`null`".to_owned(),
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => return "an array".to_owned(),
        Value::Object(_) => return "an object".to_owned(),
    };
    let text = value.to_string();
    if text.chars().count() <= 40 {
        format!("{kind} `{}`", plain(value))
    } else {
        format!("a long {kind}")
    }
}

fn plain(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether an `enum` is a country field's: every country code, in order.
fn is_country_list(options: &Value) -> bool {
    options.as_array().is_some_and(|a| {
        a.len() == crate::identity::country_codes().count()
            && a.iter()
                .zip(crate::identity::country_codes())
                .all(|(v, c)| v.as_str() == Some(c))
    })
}
