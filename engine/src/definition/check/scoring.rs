//! Scoring settings.

use std::collections::HashMap;

use super::Checker;
use crate::definition::model::{Category, Scale, Scoring, TieBreak};
use crate::definition::wire::{AggregationSpec, FieldType, Hook, TieBreakSpec};
use crate::diagnostics::{Code, Diagnostic};

impl Checker<'_> {
    pub(super) fn scoring(
        &mut self,
        scales: &HashMap<String, Scale>,
        categories: &[Category],
    ) -> Option<Scoring> {
        let def = self.def;
        let s = &def.scoring;
        let scale = match scales.get(s.scale.as_str()) {
            Some(scale) => Some(scale.clone()),
            None => {
                if def.scale(s.scale.as_str()).is_none() {
                    self.reference(
                        def.scales.iter().map(|x| x.id.as_str()),
                        s.scale.as_str(),
                        "/scoring/scale",
                        "scale",
                    );
                }
                None
            }
        };
        if let AggregationSpec::TrimmedMean { trim } = s.aggregation
            && trim == 0
        {
            self.push(
                Diagnostic::warning(
                    Code::Scoring,
                    "/scoring/aggregation/trim",
                    "`trim` 0 makes a trimmed mean a plain mean",
                )
                .with_hint("use `\"method\": \"mean\"`, or trim at least 1"),
            );
        }
        if let Some(plugin) = &s.score_plugin {
            self.plugin_hook(plugin.as_str(), Hook::Score, "/scoring/score_plugin");
        }
        let mut tie_break = Vec::new();
        for (i, t) in s.tie_break.iter().enumerate() {
            let pointer = format!("/scoring/tie_break/{i}");
            match t {
                TieBreakSpec::Criterion { criterion } => {
                    for c in categories {
                        if !c.criteria.iter().any(|x| x.id == *criterion) {
                            self.push(
                                Diagnostic::error(
                                    Code::Scoring,
                                    format!("{pointer}/criterion"),
                                    format!("tie-break criterion `{criterion}` is not a criterion of category `{}`", c.id),
                                )
                                .with_hint("a tie-break by criterion needs that criterion in every category"),
                            );
                        }
                    }
                    tie_break.push(TieBreak::Criterion {
                        criterion: criterion.clone(),
                    });
                }
                TieBreakSpec::Field { field, order } => {
                    match self.award_fields.get(field.as_str()).map(|f| f.field_type) {
                        Some(FieldType::Number | FieldType::Integer | FieldType::Date) => {}
                        Some(other) => self.error(
                            Code::Scoring,
                            format!("{pointer}/field"),
                            format!(
                                "tie-break field `{field}` is of type `{}`, which has no order",
                                other.as_str()
                            ),
                        ),
                        None => {
                            let known: Vec<String> = self.award_fields.keys().cloned().collect();
                            self.reference(
                                known.iter().map(String::as_str),
                                field.as_str(),
                                &format!("{pointer}/field"),
                                "award-wide field",
                            );
                        }
                    }
                    tie_break.push(TieBreak::Field {
                        field: field.as_str().to_owned(),
                        order: *order,
                    });
                }
                TieBreakSpec::Plugin { plugin } => {
                    self.plugin_hook(
                        plugin.as_str(),
                        Hook::TieBreak,
                        &format!("{pointer}/plugin"),
                    );
                    tie_break.push(TieBreak::Plugin {
                        plugin: plugin.clone(),
                    });
                }
            }
        }
        Some(Scoring {
            scale: scale?,
            missing_marks: s.missing_marks,
            criterion: s.criterion,
            total: s.total,
            normalisation: s.normalisation,
            aggregation: s.aggregation,
            rounding: s.rounding,
            tie_break,
            score_plugin: s.score_plugin.clone(),
        })
    }
}
