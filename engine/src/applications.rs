//! Checking a list of applications against the schema generated from the award's form.

use serde::Deserialize;
use serde_json::Value;

use crate::application::Application;
use crate::definition::model::{Award, Field, FieldKind};
use crate::definition::wire::Hook;
use crate::diagnostics::{Code, Diagnostic, Diagnostics, escape_segment};
use crate::form_schema::application_schema;
use crate::plugin::{PluginSet, hooks};
use crate::schema_check;

/// Checks applications to one award: the compiled schema of its form, made once and reused.
pub struct ApplicationChecker {
    schema: Value,
    validator: Result<jsonschema::Validator, String>,
}

impl std::fmt::Debug for ApplicationChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationChecker").finish_non_exhaustive()
    }
}

impl ApplicationChecker {
    /// Generates and compiles the award's application schema.
    pub fn new(award: &Award) -> Self {
        let schema = application_schema(award);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| e.to_string());
        Self { schema, validator }
    }

    /// Checks every application in `document` (a JSON array) against the award's application
    /// schema, then the date bounds the schema cannot express, then any `validate` plugins.
    /// Returns the typed applications when there is no error; diagnostics point into
    /// `document` (`/3/fields/population`).
    pub fn check(
        &self,
        award: &Award,
        document: &Value,
        plugins: &PluginSet,
    ) -> (Diagnostics, Option<Vec<Application>>) {
        let mut diagnostics = Diagnostics::new();
        let Some(items) = document.as_array() else {
            diagnostics.push(Diagnostic::error(
                Code::Schema,
                "",
                "expected an array of applications",
            ));
            return (diagnostics, None);
        };
        let validator = match &self.validator {
            Ok(v) => v,
            Err(e) => {
                diagnostics.push(Diagnostic::error(
                    Code::Schema,
                    "",
                    format!("internal: the application schema does not compile: {e}"),
                ));
                return (diagnostics, None);
            }
        };
        let mut applications = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let before = diagnostics.len();
            for d in schema_check::check(validator, &self.schema, item) {
                diagnostics.push(Diagnostic {
                    pointer: format!("/{i}{}", d.pointer),
                    ..d
                });
            }
            date_bounds(award, item, i, &mut diagnostics);
            if diagnostics.len() > before {
                continue;
            }
            match Application::deserialize(item) {
                Ok(app) => {
                    conditional_answers(award, &app, i, &mut diagnostics);
                    validate_with_plugins(award, &app, i, plugins, &mut diagnostics);
                    applications.push(app);
                }
                Err(e) => diagnostics.push(Diagnostic::error(
                    Code::Schema,
                    format!("/{i}"),
                    e.to_string(),
                )),
            }
        }
        let ok = !diagnostics.has_errors();
        (diagnostics, ok.then_some(applications))
    }
}

/// Checks every application in `document` against the award's application schema (see
/// [`ApplicationChecker::check`]); compiles the schema on every call, so keep an
/// `ApplicationChecker` to check many batches.
pub fn check_applications(
    award: &Award,
    document: &Value,
    plugins: &PluginSet,
) -> (Diagnostics, Option<Vec<Application>>) {
    ApplicationChecker::new(award).check(award, document, plugins)
}

/// Conditional questions (`show_if`): an answer to one that is not asked is refused; one that
/// is asked and required must be answered (the schema cannot say so: it leaves them out of its
/// `required` lists).
fn conditional_answers(award: &Award, app: &Application, index: usize, out: &mut Diagnostics) {
    let not_asked = crate::eligibility::not_asked(award, app);
    for id in &not_asked {
        if app.fields.get(id).is_some_and(|v| !v.is_null()) {
            out.push(Diagnostic::error(
                Code::Condition,
                format!("/{index}/fields/{id}"),
                format!(
                    "`{id}` is asked only when its condition (`show_if`) holds, and it does not for these answers: leave it out"
                ),
            ));
        }
    }
    let (category, ty) = (app.category.as_str(), app.applicant_type.as_str());
    let requires = award
        .applicant_type(ty)
        .map(|t| t.requires.clone())
        .unwrap_or_default();
    let own = award
        .category(category)
        .map(|c| c.fields.as_slice())
        .unwrap_or_default();
    for f in award.fields.iter().chain(own) {
        let id = f.id.as_str();
        let required = f.required
            || requires
                .iter()
                .any(|r| r.as_str().split('.').next() == Some(id));
        if f.show_if.is_some()
            && required
            && f.scope.includes(category, ty)
            && !not_asked.iter().any(|n| n == id)
            && app.fields.get(id).is_none_or(Value::is_null)
        {
            out.push(Diagnostic::error(
                Code::Schema,
                format!("/{index}/fields"),
                format!("`{id}` is required: its condition (`show_if`) holds for these answers"),
            ));
        }
    }
}

/// The most problems one `validate` call reports.
const MESSAGES: usize = 100;

/// Runs every plugin that declares the `validate` hook on an application.
fn validate_with_plugins(
    award: &Award,
    app: &Application,
    index: usize,
    plugins: &PluginSet,
    out: &mut Diagnostics,
) {
    for p in award
        .plugins
        .iter()
        .filter(|p| p.hooks.contains(&Hook::Validate))
    {
        let result = plugins
            .call(
                &p.id,
                Hook::Validate,
                &serde_json::json!({ "application": app }),
            )
            .and_then(|o| {
                hooks::parse::<hooks::ValidateOutput>(p.id.as_str(), Hook::Validate, o.value)
            });
        match result {
            Ok(output) => {
                for e in output.errors.into_iter().take(MESSAGES) {
                    let pointer = if e.pointer.starts_with('/') {
                        format!("/{index}{}", crate::plugin::clean(&e.pointer, 200))
                    } else {
                        format!("/{index}")
                    };
                    out.push(
                        Diagnostic::error(
                            Code::Plugin,
                            pointer,
                            crate::plugin::clean(&e.message, hooks::REASON_BYTES),
                        )
                        .with_hint(format!("reported by plugin `{}`", p.id)),
                    );
                }
            }
            // A plugin that fails is the plugin's problem, not the application's: this
            // application goes on unchecked by it (a warning says so), and so do the others.
            Err(e) => out.push(
                Diagnostic::warning(
                    Code::Plugin,
                    format!("/{index}"),
                    format!("could not be checked by plugin `{}`: {e}", p.id),
                )
                .with_hint("the application is kept; an administrator should review it"),
            ),
        }
    }
}

fn date_bounds(award: &Award, item: &Value, index: usize, out: &mut Diagnostics) {
    let category = item
        .get("category")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(fields) = item.get("fields").and_then(Value::as_object) else {
        return;
    };
    let own = award
        .category(category)
        .map(|c| c.fields.as_slice())
        .unwrap_or_default();
    for field in award.fields.iter().chain(own).filter(|f| bounded(f)) {
        if let Some(value) = fields.get(field.id.as_str()) {
            walk(
                field,
                value,
                &format!("/{index}/fields/{}", escape_segment(field.id.as_str())),
                out,
            );
        }
    }
}

/// Whether a field has a date with a bound, or holds one: only those are walked (a pointer is
/// made for each field walked, and most fields have none).
fn bounded(field: &Field) -> bool {
    match &field.kind {
        FieldKind::Date {
            not_before,
            not_after,
        } => not_before.is_some() || not_after.is_some(),
        FieldKind::Group { fields } => fields.iter().any(bounded),
        FieldKind::List { item, .. } => bounded(item),
        _ => false,
    }
}

fn walk(field: &Field, value: &Value, pointer: &str, out: &mut Diagnostics) {
    match &field.kind {
        FieldKind::Date {
            not_before,
            not_after,
        } => {
            let Some(date) = value
                .as_str()
                .and_then(|s| s.parse::<chrono::NaiveDate>().ok())
            else {
                return;
            };
            if let Some(min) = not_before
                && date < *min
            {
                out.push(Diagnostic::error(
                    Code::Schema,
                    pointer,
                    format!("date `{date}` is before {min}, the earliest allowed"),
                ));
            }
            if let Some(max) = not_after
                && date > *max
            {
                out.push(Diagnostic::error(
                    Code::Schema,
                    pointer,
                    format!("date `{date}` is after {max}, the latest allowed"),
                ));
            }
        }
        FieldKind::Group { fields } => {
            for f in fields.iter().filter(|f| bounded(f)) {
                if let Some(v) = value.get(f.id.as_str()) {
                    walk(
                        f,
                        v,
                        &format!("{pointer}/{}", escape_segment(f.id.as_str())),
                        out,
                    );
                }
            }
        }
        FieldKind::List { item, .. } => {
            for (i, v) in value.as_array().into_iter().flatten().enumerate() {
                walk(item, v, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}
