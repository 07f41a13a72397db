//! Formulas in the rubric: indicators' values and conditions, checked against the fields,
//! indicators and constants they read; constants' names; panels.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{Checker, FieldInfo};
use crate::definition::model::JudgePanel;
use crate::definition::wire::FieldType;
use crate::diagnostics::{Code, Diagnostic};
use crate::formula::{self, Formula, Type};

/// Words a constant cannot be named: the language's own.
const RESERVED: &[&str] = &[
    "fields",
    "indicators",
    "true",
    "false",
    "and",
    "or",
    "not",
    "min",
    "max",
    "abs",
    "round",
    "floor",
    "ceil",
    "if",
    "field",
    "indicator",
];

/// What a formula in a category may read.
pub(super) struct FormulaScope<'c> {
    pub fields: Vec<&'c BTreeMap<String, FieldInfo>>,
    /// The category's indicators in order, and whether each is computed by a plugin.
    pub indicators: &'c [String],
    /// The formula's own indicator's position: it reads only indicators listed before it.
    pub position: Option<usize>,
    pub constants: &'c BTreeMap<String, Decimal>,
}

impl formula::Scope for FormulaScope<'_> {
    fn field(&self, path: &str) -> Result<Option<Type>, String> {
        let Some(info) = self.fields.iter().find_map(|f| f.get(path)) else {
            return Ok(None);
        };
        match info.field_type {
            FieldType::Number | FieldType::Integer => Ok(Some(Type::Number)),
            FieldType::Boolean => Ok(Some(Type::Boolean)),
            other => Err(format!(
                "field `{path}` is of type `{}`; a formula reads number, integer and boolean fields",
                other.as_str()
            )),
        }
    }

    fn indicator(&self, id: &str) -> Result<usize, String> {
        let Some(position) = self.position else {
            return Err(format!(
                "a condition reads the application's fields, not indicators (`{id}`)"
            ));
        };
        match self.indicators.iter().position(|i| i == id) {
            Some(k) if k < position => Ok(k),
            Some(k) if k == position => Err(format!("indicator `{id}` cannot read itself")),
            Some(_) => Err(format!(
                "a formula reads indicators listed before its own; `{id}` comes after it"
            )),
            None => {
                let close = super::closest(id, self.indicators.iter().map(String::as_str));
                Err(match close {
                    Some(c) => format!("unknown indicator `{id}`; did you mean `{c}`?"),
                    None => format!("unknown indicator `{id}`"),
                })
            }
        }
    }

    fn constant(&self, name: &str) -> Option<Decimal> {
        self.constants.get(name).copied()
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .fields
            .iter()
            .flat_map(|f| f.iter())
            .filter(|(_, i)| {
                matches!(
                    i.field_type,
                    FieldType::Number | FieldType::Integer | FieldType::Boolean
                )
            })
            .map(|(p, _)| format!("fields.{p}"))
            .collect();
        if let Some(position) = self.position {
            names.extend(
                self.indicators
                    .iter()
                    .take(position)
                    .map(|i| format!("indicators.{i}")),
            );
        }
        names.extend(self.constants.keys().cloned());
        names
    }
}

impl Checker<'_> {
    /// Checks a formula at `pointer`; its problem names the column.
    pub(super) fn formula(
        &mut self,
        text: &str,
        scope: &FormulaScope<'_>,
        want: Type,
        pointer: &str,
    ) -> Option<Formula> {
        match formula::check(text, scope, want) {
            Ok(f) => Some(f),
            Err(e) => {
                self.push(
                    Diagnostic::error(Code::Formula, pointer, e.to_string()).with_hint(
                        "formulas use numbers, `fields.<id>`, `indicators.<id>`, `scoring.constants`, + - * /, comparisons, and, or, not, min, max, abs, round, floor, ceil, if",
                    ),
                );
                None
            }
        }
    }

    /// The award's constants, each named as a formula can read it.
    pub(super) fn constants(&mut self) {
        let def = self.def;
        for name in def.scoring.constants.keys() {
            let ok = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let pointer = format!(
                "/scoring/constants/{}",
                crate::diagnostics::escape_segment(name)
            );
            if !ok {
                self.error(
                    Code::Formula,
                    pointer,
                    format!("constant `{name}`: a name is letters, digits and `_`, starting with a letter"),
                );
            } else if RESERVED.contains(&name.as_str()) {
                self.error(
                    Code::Formula,
                    pointer,
                    format!("constant `{name}`: the name is a word of the formula language"),
                );
            }
        }
    }

    /// The panels, each with at least one judge.
    pub(super) fn panels(&mut self) -> BTreeMap<String, JudgePanel> {
        let def = self.def;
        let mut out = BTreeMap::new();
        for (id, judges) in &def.scoring.panels {
            let pointer = format!("/scoring/panels/{}", crate::diagnostics::escape_segment(id));
            if judges.is_empty() {
                self.error(
                    Code::Scoring,
                    &pointer,
                    format!("panel `{id}` has no judge"),
                );
            }
            self.unique(
                judges.iter().map(|j| j.as_str()).enumerate(),
                |i| format!("{pointer}/{i}"),
                "judge",
            );
            out.insert(
                id.clone(),
                JudgePanel {
                    id: id.clone(),
                    judges: judges.iter().cloned().collect(),
                },
            );
        }
        out
    }

    /// Resolves a panel's name.
    pub(super) fn panel_ref(
        &mut self,
        id: &str,
        panels: &BTreeMap<String, JudgePanel>,
        pointer: &str,
    ) -> Option<JudgePanel> {
        if let Some(p) = panels.get(id) {
            return Some(p.clone());
        }
        let def = self.def;
        self.reference(
            def.scoring.panels.keys().map(String::as_str),
            id,
            pointer,
            "panel (in `scoring.panels`)",
        );
        None
    }
}
