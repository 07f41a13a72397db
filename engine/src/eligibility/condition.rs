//! Evaluating conditions over an application's fields.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::application::Application;
use crate::definition::model::Condition;
use crate::definition::wire::{Comparison, Hook};
use crate::plugin::{PluginSet, hooks};

pub(super) enum Failure {
    /// A plugin failed.
    Plugin(String),
    /// A formula could not be computed (division by zero, overflow): not the applicant's
    /// doing, so it is never a reason to refuse them.
    Formula(String),
}

type Record<'r> = Option<(&'r mut BTreeMap<String, Value>, &'r mut Vec<String>)>;

/// What an eligibility plugin said: eligible, and its reasons; or its error.
type PluginVerdict = Result<(bool, Vec<String>), String>;

pub(super) struct Evaluator<'a> {
    pub application: &'a Application,
    pub plugins: &'a PluginSet,
    /// Each plugin's verdict on this application: a plugin is called once per application,
    /// however many rules ask it and however often a failed rule is read again.
    pub verdicts: std::cell::RefCell<BTreeMap<String, PluginVerdict>>,
}

/// The value at a dotted path of an application's fields.
pub(crate) fn lookup<'v>(
    fields: &'v serde_json::Map<String, Value>,
    path: &str,
) -> Option<&'v Value> {
    let mut parts = path.split('.');
    let mut current = fields.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

pub(crate) use crate::json::decimal;

fn present(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (decimal(a), decimal(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

impl Evaluator<'_> {
    fn read(&self, path: &str, record: &mut Record<'_>) -> Option<&Value> {
        let value = lookup(&self.application.fields, path);
        if let Some((values, _)) = record {
            values.insert(path.to_owned(), value.cloned().unwrap_or(Value::Null));
        }
        value
    }

    pub(super) fn holds(
        &self,
        condition: &Condition,
        mut record: Record<'_>,
    ) -> Result<bool, Failure> {
        Ok(match condition {
            Condition::Equals { field, value } => self
                .read(field, &mut record)
                .is_some_and(|v| same(v, value)),
            Condition::In { field, values } => self
                .read(field, &mut record)
                .is_some_and(|v| values.iter().any(|x| same(v, x))),
            Condition::Compare { field, op, value } => self
                .read(field, &mut record)
                .and_then(decimal)
                .is_some_and(|v| {
                    let ord = v.cmp(value);
                    match op {
                        Comparison::Lt => ord == Ordering::Less,
                        Comparison::Le => ord != Ordering::Greater,
                        Comparison::Gt => ord == Ordering::Greater,
                        Comparison::Ge => ord != Ordering::Less,
                    }
                }),
            Condition::Before {
                field,
                date,
                inclusive,
            }
            | Condition::After {
                field,
                date,
                inclusive,
            } => {
                let before = matches!(condition, Condition::Before { .. });
                self.read(field, &mut record)
                    .and_then(Value::as_str)
                    .and_then(|s| NaiveDate::from_str(s).ok())
                    .is_some_and(|d| {
                        (*inclusive && d == *date) || if before { d < *date } else { d > *date }
                    })
            }
            Condition::Present(field) => present(self.read(field, &mut record)),
            Condition::Absent(field) => !present(self.read(field, &mut record)),
            Condition::Count { field, min, max } => {
                let n = self
                    .read(field, &mut record)
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                min.is_none_or(|m| n >= m as usize) && max.is_none_or(|m| n <= m as usize)
            }
            Condition::ApplicantType(types) => {
                types.iter().any(|t| t == &self.application.applicant_type)
            }
            Condition::Category(cats) => cats.iter().any(|c| c == &self.application.category),
            Condition::All(items) => {
                let mut all = true;
                for item in items {
                    let ok = self.holds(item, reborrow(&mut record))?;
                    all &= ok;
                    // Without recording, stop at the first failure; when recording, read on so
                    // that every value the rule depends on is reported.
                    if !all && record.is_none() {
                        break;
                    }
                }
                all
            }
            Condition::Any(items) => {
                let mut any = false;
                for item in items {
                    any |= self.holds(item, reborrow(&mut record))?;
                    if any && record.is_none() {
                        break;
                    }
                }
                any
            }
            Condition::Not(inner) => !self.holds(inner, record)?,
            Condition::Plugin(plugin) => {
                let (eligible, reasons) = self.verdict(plugin).map_err(Failure::Plugin)?;
                if let Some((_, details)) = &mut record {
                    details.extend(reasons);
                }
                eligible
            }
            Condition::Formula(formula) => {
                let fields = FieldValues(&self.application.fields);
                for path in formula.fields() {
                    self.read(path, &mut record);
                }
                match formula.truth(&fields) {
                    Ok(b) => b,
                    // A value the formula needs is missing or not a number: it does not hold,
                    // and the reason is given.
                    Err(crate::formula::Failure::Missing(why)) => {
                        if let Some((_, details)) = &mut record {
                            details.push(format!("`{}`: {why}", formula.text()));
                        }
                        false
                    }
                    // It cannot be computed: an administrator decides, as for a plugin.
                    Err(crate::formula::Failure::Failed(why)) => {
                        return Err(Failure::Formula(format!("`{}`: {why}", formula.text())));
                    }
                }
            }
        })
    }
}

/// An application's fields, as a formula reads them.
pub(crate) struct FieldValues<'v>(pub &'v serde_json::Map<String, Value>);

impl FieldValues<'_> {
    /// A field's value as a formula reads it: true or false, or a number.
    pub(crate) fn field(&self, path: &str) -> Option<crate::formula::eval_value::Value> {
        use crate::formula::eval_value::Value as F;
        match lookup(self.0, path)? {
            Value::Bool(b) => Some(F::Bool(*b)),
            other => decimal(other).map(F::Num),
        }
    }
}

impl crate::formula::Values for FieldValues<'_> {
    fn read(&self, r: &crate::formula::Ref) -> Option<crate::formula::eval_value::Value> {
        match r {
            crate::formula::Ref::Field(path) => self.field(path),
            crate::formula::Ref::Indicator(_) => None,
        }
    }

    fn describe(&self, r: &crate::formula::Ref) -> String {
        match r {
            crate::formula::Ref::Field(path) => format!("field `{path}`"),
            crate::formula::Ref::Indicator(_) => "an indicator".to_owned(),
        }
    }
}

impl Evaluator<'_> {
    fn verdict(&self, plugin: &crate::ids::PluginId) -> PluginVerdict {
        if let Some(v) = self.verdicts.borrow().get(plugin.as_str()) {
            return v.clone();
        }
        let input = json!({ "application": self.application });
        let verdict = self
            .plugins
            .call(plugin, Hook::Eligibility, &input)
            .and_then(|out| {
                hooks::parse::<hooks::EligibilityOutput>(
                    plugin.as_str(),
                    Hook::Eligibility,
                    out.value,
                )
            })
            .map(|out| {
                let reasons = out
                    .reasons
                    .iter()
                    .take(hooks::REASONS)
                    .map(|r| crate::plugin::clean(r, hooks::REASON_BYTES))
                    .collect();
                (out.eligible, reasons)
            })
            .map_err(|e| e.to_string());
        self.verdicts
            .borrow_mut()
            .insert(plugin.as_str().to_owned(), verdict.clone());
        verdict
    }
}

fn reborrow<'s>(record: &'s mut Record<'_>) -> Record<'s> {
    record.as_mut().map(|(v, d)| (&mut **v, &mut **d))
}
