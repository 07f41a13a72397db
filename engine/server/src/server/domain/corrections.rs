//! Correcting an open award: a new version that cannot change any outcome (texts, guidance,
//! added optional fields) applies at once; any other is first reported, application by
//! application (eligibility, form errors), and applies only when confirmed, every application
//! then decided again under it.

use crate::server::crypto;
use crate::server::domain::awards::pinned_files;
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, ApplicationStatus};
use crate::server::state::Work;
use crate::server::state::{AppState, Loaded};
use crate::store::{Tree, prefix};
use serde_json::{Map, Value, json};

/// Whether going from `old` to `new` (definitions' texts) can change no outcome: they differ
/// only in texts for people and in optional form fields added.
pub(crate) fn cannot_change_outcomes(old: &str, new: &str) -> bool {
    let (Ok(old), Ok(new)) = (
        serde_json::from_str::<Value>(old),
        serde_json::from_str::<Value>(new),
    ) else {
        return false;
    };
    let old = without_texts(&old);
    let mut new = without_texts(&new);
    without_added_optional_fields(&old, &mut new);
    old == new
}

/// What `new` (checked, from `text`) would change for each stored application of the award
/// whose current version is `before`: the report of those that change, and every
/// application's record as it would be (decided again and sealed under `new`).
pub(crate) async fn impact(
    state: &AppState,
    _before: &std::sync::Arc<Loaded>,
    text: &str,
    new: &laurel::Award,
) -> Result<(Value, Vec<Redecided>), ApiError> {
    let award = new.id.to_string();
    let stored: Vec<(Vec<u8>, Vec<u8>)> = state
        .store
        .scan(Tree::Applications, &prefix(&[award.as_bytes()]))?;
    let mut opened = Vec::new();
    for (k, v) in stored {
        let record: ApplicationRecord = serde_json::from_slice(&v).map_err(|e| {
            ApiError::Internal(format!("a stored application: {}", e.classify() as u8))
        })?;
        if record.status != ApplicationStatus::Submitted {
            continue;
        }
        let old = state.loaded(&award, record.version).await?;
        let mut value = record.application.clone();
        crypto::open(&old.award, &state.sealer, &mut value);
        opened.push((k, record, value));
    }
    let files = pinned_files(state, text)?;
    let new_award = new.clone();
    type Checked = Vec<(
        Vec<u8>,
        ApplicationRecord,
        Value,
        Result<laurel::Decision, Vec<String>>,
    )>;
    let checked: Checked = state
        .engine(Work::of(new), move || -> Result<Checked, ApiError> {
            let plugins = laurel::load_plugins(&new_award, &files).map_err(|d| {
                ApiError::Internal(format!(
                    "the new version's plugins do not load: {} problems",
                    d.len()
                ))
            })?;
            let checker = laurel::ApplicationChecker::new(&new_award);
            let mut out = Vec::new();
            for (k, record, value) in opened {
                let (diagnostics, apps) =
                    checker.check(&new_award, &Value::Array(vec![value.clone()]), &plugins);
                let outcome = match apps.and_then(|mut a| a.pop()) {
                    Some(app) if !diagnostics.has_errors() => {
                        Ok(laurel::decide(&new_award, &app, &plugins))
                    }
                    _ => Err(diagnostics
                        .iter()
                        .filter(|d| d.is_error())
                        .map(|d| format!("{}: {}", d.pointer.trim_start_matches("/0"), d.message))
                        .collect()),
                };
                out.push((k, record, value, outcome));
            }
            Ok(out)
        })
        .await??;
    let mut report = Vec::new();
    let mut records = Vec::new();
    for (k, record, value, outcome) in checked {
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let was = record
            .eligibility
            .get("status")
            .cloned()
            .unwrap_or(Value::Null);
        match outcome {
            Ok(decision) => {
                let mut eligibility = serde_json::to_value(&decision).unwrap_or(Value::Null);
                let now = eligibility.get("status").cloned().unwrap_or(Value::Null);
                let rules = |v: &Value| -> Vec<String> {
                    v.get("failures")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f.get("rule").and_then(Value::as_str).map(str::to_owned))
                        .collect()
                };
                if now != was || rules(&eligibility) != rules(&record.eligibility) {
                    report.push(json!({
                        "application": id, "eligibility": { "before": was, "after": now },
                        "failed_rules": { "before": rules(&record.eligibility), "after": rules(&eligibility) },
                    }));
                }
                crypto::seal_decision(new, &state.sealer, &id, &mut eligibility);
                let mut sealed = value;
                crypto::seal(new, &state.sealer, &mut sealed);
                let mut after = record.clone();
                after.application = sealed;
                after.eligibility = eligibility;
                records.push((k, record, after));
            }
            // The new form refuses it: it stays as it was, under the version it was checked
            // against, and the report says so.
            Err(errors) => {
                report.push(json!({
                    "application": id, "eligibility": { "before": was, "after": was },
                    "form_errors": errors,
                    "note": format!("kept under version {}: the new form refuses it", record.version),
                }));
            }
        }
    }
    Ok((Value::Array(report), records))
}

/// A stored application, read again under a new version.
pub(crate) type Redecided = (Vec<u8>, ApplicationRecord, ApplicationRecord);

/// A definition without its texts for people.
fn without_texts(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !TEXT_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), without_texts(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_texts).collect()),
        other => other.clone(),
    }
}

/// Drops from `new`'s field lists the optional fields `old` does not have.
fn without_added_optional_fields(old: &Value, new: &mut Value) {
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    let prune = |old_fields: &Value, new_fields: Option<&mut Value>| {
        let known = ids(old_fields);
        if let Some(Value::Array(fields)) = new_fields {
            fields.retain(|f| {
                let id = f.get("id").and_then(Value::as_str).unwrap_or_default();
                known.iter().any(|k| k == id) || f.get("required") == Some(&json!(true))
            });
        }
    };
    prune(&old["form"]["fields"], new.pointer_mut("/form/fields"));
    let old_categories = old["categories"].as_array().cloned().unwrap_or_default();
    if let Some(Value::Array(categories)) = new.get_mut("categories") {
        for c in categories {
            let id = c.get("id").cloned();
            if let Some(o) = old_categories.iter().find(|o| o.get("id") == id.as_ref()) {
                prune(&o["fields"], c.get_mut("fields"));
            }
        }
    }
}

/// Keys whose values are texts for people: changing them changes no outcome.
pub(crate) const TEXT_KEYS: [&str; 9] = [
    "name",
    "description",
    "label",
    "help",
    "guidance",
    "message",
    "placeholder",
    "$schema",
    "edition",
];
