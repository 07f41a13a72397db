//! Scoring settings.

use std::collections::HashMap;

use super::Checker;
use crate::definition::model::{Category, Ranking, Scale, Scoring, TieBreak};
use crate::definition::wire::{
    AggregateAt, AggregationSpec, FieldType, Hook, PointsSpec, TieBreakSpec,
};
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
        if s.aggregate_at == AggregateAt::Indicator && s.normalisation.is_on() {
            self.push(
                Diagnostic::error(
                    Code::Scoring,
                    "/scoring/normalisation",
                    "judge normalisation needs each judge's total: it cannot be used with `aggregate_at: indicator`",
                )
                .with_hint("set `\"normalisation\": {\"method\": \"none\"}`, or aggregate at `total`"),
            );
        }
        if s.ranking.is_some() && s.normalisation.is_on() {
            self.error(
                Code::Scoring,
                "/scoring/normalisation",
                "rank-based judging gives points, which are not normalised: use `\"method\": \"none\"`",
            );
        }
        if s.ranking.is_some() && s.aggregate_at == AggregateAt::Indicator {
            self.error(
                Code::Scoring,
                "/scoring/aggregate_at",
                "rank-based judging has no indicators to aggregate",
            );
        }
        if s.normalisation.is_on() {
            for (c, category) in self.def.categories.iter().enumerate() {
                for (k, criterion) in category.criteria.iter().enumerate() {
                    for (i, ind) in criterion.indicators().iter().enumerate() {
                        for (name, q) in [("mark_factor", &ind.mark_factor), ("base", &ind.base)] {
                            if matches!(q, Some(crate::definition::wire::Quantity::Field { .. })) {
                                self.push(
                                    Diagnostic::error(
                                        Code::Scoring,
                                        format!("/categories/{c}/criteria/{k}/indicators/{i}/{name}"),
                                        format!("`{name}` read from a field leaves the scale's bounds unknown, which normalisation needs"),
                                    )
                                    .with_hint("give a number, or use `\"normalisation\": {\"method\": \"none\"}`"),
                                );
                            }
                        }
                    }
                }
            }
        }
        let ranking = self.ranking();
        let mut adjustments = Vec::new();
        for (i, a) in s.adjustments.iter().enumerate() {
            let pointer = format!("/scoring/adjustments/{i}/field");
            self.number_field(a.field.as_str(), &pointer);
            adjustments.push(a.field.as_str().to_owned());
        }
        if let Some(plugin) = &s.score_plugin {
            self.plugin_hook(plugin.as_str(), Hook::Score, "/scoring/score_plugin");
        }
        let mut tie_break = Vec::new();
        for (i, t) in s.tie_break.iter().enumerate() {
            let pointer = format!("/scoring/tie_break/{i}");
            match t {
                TieBreakSpec::Criterion { criterion } => {
                    if s.ranking.is_some() {
                        self.error(
                            Code::Scoring,
                            format!("{pointer}/criterion"),
                            "rank-based judging has no criterion scores to break ties with",
                        );
                    }
                    for c in categories.iter().filter(|_| s.ranking.is_none()) {
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
        self.diagnostics(&s.diagnostics);
        let scale = scale?;
        Some(Scoring {
            default_places: (scale.places() + 2).min(6),
            scale,
            missing_marks: s.missing_marks,
            aggregate_at: s.aggregate_at,
            criterion: s.criterion,
            total: s.total,
            normalisation: s.normalisation,
            aggregation: s.aggregation,
            rounding: s.rounding,
            ranking,
            adjustments,
            tie_break,
            score_plugin: s.score_plugin.clone(),
            on_plugin_error: s.on_plugin_error,
            diagnostics: s.diagnostics.clone(),
        })
    }

    /// Shares within their bounds.
    fn diagnostics(&mut self, d: &crate::definition::wire::DiagnosticsSpec) {
        use rust_decimal::Decimal;
        let checks: [(&str, Option<Decimal>, Decimal, Decimal, bool); 6] = [
            (
                "weight_range",
                d.weight_range,
                Decimal::ZERO,
                Decimal::ONE,
                false,
            ),
            ("severity", d.severity, Decimal::ZERO, Decimal::ONE, true),
            ("outlier", d.outlier, Decimal::ZERO, Decimal::ONE, true),
            (
                "outlier_fdr",
                d.outlier_fdr,
                Decimal::ZERO,
                Decimal::ONE,
                false,
            ),
            (
                "consistency",
                d.consistency,
                Decimal::NEGATIVE_ONE,
                Decimal::ONE,
                true,
            ),
            (
                "poor_alpha",
                d.poor_alpha,
                Decimal::NEGATIVE_ONE,
                Decimal::ONE,
                true,
            ),
        ];
        for (name, value, lo, hi, closed) in checks {
            let Some(v) = value else { continue };
            let within = v >= lo && if closed { v <= hi } else { v < hi };
            if !within {
                self.error(
                    Code::Scoring,
                    format!("/scoring/diagnostics/{name}"),
                    format!(
                        "`{name}` is {v}; it is a share from {lo} to {hi}{}",
                        if closed { "" } else { " (not included)" }
                    ),
                );
            }
        }
    }

    fn ranking(&mut self) -> Option<Ranking> {
        let r = self.def.scoring.ranking.as_ref()?;
        let base = "/scoring/ranking";
        self.unique(
            r.sources.iter().map(String::as_str).enumerate(),
            |i| format!("{base}/sources/{i}"),
            "ranking source",
        );
        let tie_break_source = match (&r.combine, r.sources.len()) {
            (None, n) if n >= 2 => {
                self.push(
                    Diagnostic::error(Code::Scoring, base, format!("{n} ranking sources need `combine` to say how they make one ranking"))
                        .with_hint("for example `\"combine\": {\"method\": \"rank_sum\", \"tie_break\": \"televote\"}`"),
                );
                None
            }
            (Some(c), _) => {
                let known = r.sources.iter().map(String::as_str);
                self.reference(
                    known,
                    &c.tie_break,
                    &format!("{base}/combine/tie_break"),
                    "ranking source",
                );
                Some(c.tie_break.clone())
            }
            (None, _) => None,
        };
        if let PointsSpec::Table { table } = &r.points
            && table.is_empty()
        {
            self.error(
                Code::Scoring,
                format!("{base}/points/table"),
                "the points table is empty",
            );
        }
        let sources = if r.sources.is_empty() {
            vec![String::new()]
        } else {
            r.sources.clone()
        };
        Some(Ranking {
            sources,
            tie_break_source,
            points: r.points.clone(),
        })
    }

    fn number_field(&mut self, path: &str, pointer: &str) {
        match self.award_fields.get(path).map(|f| f.field_type) {
            Some(FieldType::Number | FieldType::Integer) => {}
            Some(other) => self.error(
                Code::Scoring,
                pointer,
                format!(
                    "field `{path}` is of type `{}`, not a number",
                    other.as_str()
                ),
            ),
            None => {
                let known: Vec<String> = self.award_fields.keys().cloned().collect();
                self.reference(
                    known.iter().map(String::as_str),
                    path,
                    pointer,
                    "award-wide field",
                );
            }
        }
    }
}
