//! Scales, categories, criteria and indicators.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use super::Checker;
use super::formulas::FormulaScope;
use crate::definition::model::{
    Band, Category, Criterion, Indicator, JudgePanel, Level, Quantity, Scale, ScaleKind,
};
use crate::definition::wire::{self, AggregateAt, FieldType, ScaleSpec};
use crate::diagnostics::{Code, Diagnostic};
use crate::formula::Type;
use crate::ids::ScaleId;

impl Checker<'_> {
    pub(super) fn scales(&mut self) -> HashMap<String, Scale> {
        let def = self.def;
        self.unique(
            def.scales.iter().map(|s| s.id.as_str()).enumerate(),
            |i| format!("/scales/{i}/id"),
            "scale",
        );
        let mut out = HashMap::new();
        for (i, spec) in def.scales.iter().enumerate() {
            if let Some(scale) = self.scale(spec, &format!("/scales/{i}")) {
                out.entry(spec.id.as_str().to_owned()).or_insert(scale);
            }
        }
        out
    }

    fn scale(&mut self, s: &ScaleSpec, pointer: &str) -> Option<Scale> {
        self.opt_text(s.name.as_ref(), &format!("{pointer}/name"));
        let numeric = s.min.is_some() || s.max.is_some() || s.step.is_some();
        if numeric && !s.levels.is_empty() {
            self.push(
                Diagnostic::error(
                    Code::Scale,
                    pointer,
                    format!("scale `{}` has both `levels` and `min`/`max`/`step`", s.id),
                )
                .with_hint("a scale is either numeric (`min`, `max`, optional `step`) or labelled (`levels`)"),
            );
            return None;
        }
        if !s.levels.is_empty() {
            self.unique(
                s.levels.iter().map(|l| l.id.as_str()).enumerate(),
                |i| format!("{pointer}/levels/{i}/id"),
                "level",
            );
            for (i, l) in s.levels.iter().enumerate() {
                self.text(&l.label, &format!("{pointer}/levels/{i}/label"));
                self.opt_text(
                    l.guidance.as_ref(),
                    &format!("{pointer}/levels/{i}/guidance"),
                );
            }
            if !s.bands.is_empty() {
                self.error(
                    Code::Scale,
                    format!("{pointer}/bands"),
                    "`bands` apply to numeric scales; give labelled levels their own `guidance`",
                );
            }
            let levels = s
                .levels
                .iter()
                .map(|l| Level {
                    id: l.id.clone(),
                    label: l.label.clone(),
                    value: l.value,
                })
                .collect();
            return Some(Scale {
                id: s.id.clone(),
                kind: ScaleKind::Levels(levels),
                bands: Vec::new(),
            });
        }
        let (Some(min), Some(max)) = (s.min, s.max) else {
            self.push(
                Diagnostic::error(
                    Code::Scale,
                    pointer,
                    format!("scale `{}` needs `min` and `max`, or `levels`", s.id),
                )
                .with_hint("for example `\"min\": 0, \"max\": 10, \"step\": 0.5`"),
            );
            return None;
        };
        let mut ok = true;
        if min >= max {
            self.error(
                Code::Scale,
                format!("{pointer}/max"),
                format!("`max` ({max}) must be above `min` ({min})"),
            );
            ok = false;
        }
        if let Some(step) = s.step {
            if step <= Decimal::ZERO {
                self.error(
                    Code::Scale,
                    format!("{pointer}/step"),
                    format!("`step` must be positive, not `{step}`"),
                );
                ok = false;
            } else if ok && !((max - min) % step).is_zero() {
                self.push(
                    Diagnostic::error(
                        Code::Scale,
                        format!("{pointer}/step"),
                        format!("`step` {step} does not divide the range {min}..{max}"),
                    )
                    .with_hint("marks are `min + k × step`; pick a step that reaches `max`"),
                );
                ok = false;
            }
        }
        for (i, b) in s.bands.iter().enumerate() {
            self.text(&b.guidance, &format!("{pointer}/bands/{i}/guidance"));
            if b.from > b.to || b.from < min || b.to > max {
                self.error(
                    Code::Scale,
                    format!("{pointer}/bands/{i}"),
                    format!(
                        "band {}..{} is not an ordered range within {min}..{max}",
                        b.from, b.to
                    ),
                );
            }
        }
        ok.then(|| Scale {
            id: s.id.clone(),
            kind: ScaleKind::Numeric {
                min,
                max,
                step: s.step,
            },
            bands: s
                .bands
                .iter()
                .map(|b| Band {
                    from: b.from,
                    to: b.to,
                    guidance: b.guidance.clone(),
                })
                .collect(),
        })
    }

    pub(super) fn categories(
        &mut self,
        scales: &HashMap<String, Scale>,
        panels: &BTreeMap<String, JudgePanel>,
    ) -> Vec<Category> {
        let def = self.def;
        self.unique(
            def.categories.iter().map(|c| c.id.as_str()).enumerate(),
            |i| format!("/categories/{i}/id"),
            "category",
        );
        if def.categories.is_empty() {
            self.error(Code::Category, "/categories", "the award has no category");
        }
        let mut out = Vec::new();
        for (i, c) in def.categories.iter().enumerate() {
            let pointer = format!("/categories/{i}");
            self.text(&c.name, &format!("{pointer}/name"));
            self.opt_text(c.description.as_ref(), &format!("{pointer}/description"));
            if c.applicant_types.is_empty() {
                self.error(
                    Code::Category,
                    format!("{pointer}/applicant_types"),
                    format!("category `{}` admits no applicant type", c.id),
                );
            }
            for (j, t) in c.applicant_types.iter().enumerate() {
                self.applicant_type_ref(t.as_str(), &format!("{pointer}/applicant_types/{j}"));
            }
            let fields = self.category_form(i);
            let criteria = self.criteria(i, scales, panels);
            let eligibility = self.category_rules(i);
            self.prizes(c, &pointer);
            out.push(Category {
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                applicant_types: c.applicant_types.clone(),
                eligibility,
                fields,
                criteria,
                prizes: c.prizes.clone(),
                winners: c.winners,
            });
        }
        out
    }

    fn criteria(
        &mut self,
        index: usize,
        scales: &HashMap<String, Scale>,
        panels: &BTreeMap<String, JudgePanel>,
    ) -> Vec<Criterion> {
        let def = self.def;
        let Some(category) = def.categories.get(index) else {
            return Vec::new();
        };
        let base = format!("/categories/{index}/criteria");
        if category.criteria.is_empty() && def.scoring.ranking.is_none() {
            self.push(
                Diagnostic::error(
                    Code::Category,
                    &base,
                    format!(
                        "category `{}` has no criteria, so it cannot be judged",
                        category.id
                    ),
                )
                .with_hint("add at least one criterion with one indicator"),
            );
        }
        self.unique(
            category.criteria.iter().map(|c| c.id.as_str()).enumerate(),
            |i| format!("{base}/{i}/id"),
            "criterion",
        );
        let listed: Vec<Vec<crate::definition::wire::IndicatorSpec>> =
            category.criteria.iter().map(|c| c.indicators()).collect();
        let indicator_ids: Vec<(String, String)> = category
            .criteria
            .iter()
            .zip(&listed)
            .enumerate()
            .flat_map(|(i, (c, inds))| {
                let base = &base;
                let one_level = c.indicators.is_none();
                inds.iter().enumerate().map(move |(j, ind)| {
                    let at = if one_level {
                        format!("{base}/{i}/id")
                    } else {
                        format!("{base}/{i}/indicators/{j}/id")
                    };
                    (at, ind.id.to_string())
                })
            })
            .collect();
        self.unique(
            indicator_ids.iter().map(|(_, id)| id.as_str()).enumerate(),
            |k| {
                indicator_ids
                    .get(k)
                    .map(|(p, _)| p.clone())
                    .unwrap_or_default()
            },
            "indicator (indicator ids are unique within a category)",
        );
        self.weights(
            category.criteria.iter().map(|c| c.weight),
            &base,
            "criterion",
            &format!("category `{}`", category.id),
        );
        let order: Vec<String> = listed.iter().flatten().map(|i| i.id.to_string()).collect();
        let own_fields = self
            .category_fields
            .get(category.id.as_str())
            .cloned()
            .unwrap_or_default();
        let award_fields = self.award_fields.clone();
        let mut out = Vec::new();
        let mut position = 0;
        // Indicators with a panel or an aggregation of their own, under `aggregate_at: total`.
        let mut per_indicator: Vec<(String, String)> = Vec::new();
        for (i, (c, inds)) in category.criteria.iter().zip(&listed).enumerate() {
            let pointer = format!("{base}/{i}");
            self.text(&c.name, &format!("{pointer}/name"));
            self.opt_text(c.guidance.as_ref(), &format!("{pointer}/guidance"));
            let one_level = c.indicators.is_none();
            if inds.is_empty() {
                self.push(
                    crate::diagnostics::Diagnostic::error(
                        Code::Category,
                        format!("{pointer}/indicators"),
                        format!("criterion `{}` has no indicators", c.id),
                    )
                    .with_hint("list its indicators, or leave `indicators` out to have judges mark the criterion itself"),
                );
            }
            if c.scale.is_some() && !one_level {
                self.error(
                    Code::Scale,
                    format!("{pointer}/scale"),
                    format!(
                        "criterion `{}` has indicators: give each indicator its `scale` (a criterion's `scale` is for a criterion judges mark directly)",
                        c.id
                    ),
                );
            }
            if c.formula.is_some() && !one_level {
                self.error(
                    Code::Formula,
                    format!("{pointer}/formula"),
                    format!(
                        "criterion `{}` has indicators: give the indicator its `formula` (a criterion's `formula` is for a one-level criterion)",
                        c.id
                    ),
                );
            }
            self.bounds(c.floor, c.cap, &pointer);
            self.weights(
                inds.iter().map(|ind| ind.weight),
                &format!("{pointer}/indicators"),
                "indicator",
                &format!("criterion `{}`", c.id),
            );
            let mut indicators = Vec::new();
            for (j, ind) in inds.iter().enumerate() {
                // A one-level criterion's problems are the criterion's own.
                let ip = if one_level {
                    pointer.clone()
                } else {
                    format!("{pointer}/indicators/{j}")
                };
                if !one_level {
                    self.text(&ind.name, &format!("{ip}/name"));
                    self.opt_text(ind.guidance.as_ref(), &format!("{ip}/guidance"));
                    self.bounds(ind.floor, ind.cap, &ip);
                }
                let scale_id = ind.scale.as_ref().unwrap_or(&def.scoring.scale);
                let scale = self.scale_ref(
                    scale_id,
                    scales,
                    &format!("{ip}/scale"),
                    ind.scale.is_some(),
                );
                let mark_factor = self.quantity(
                    index,
                    ind.mark_factor.as_ref(),
                    &format!("{ip}/mark_factor"),
                );
                let base = self.quantity(index, ind.base.as_ref(), &format!("{ip}/base"));
                if let Some(plugin) = &ind.plugin {
                    self.plugin_hook(
                        plugin.as_str(),
                        crate::definition::wire::Hook::Indicator,
                        &format!("{ip}/plugin"),
                    );
                }
                let formula = ind.formula.as_ref().and_then(|text| {
                    let scope = FormulaScope {
                        fields: vec![&award_fields, &own_fields],
                        indicators: &order,
                        position: Some(position),
                        constants: &def.scoring.constants,
                    };
                    self.formula(text, &scope, Type::Number, &format!("{ip}/formula"))
                });
                let computed = ind.formula.is_some() || ind.plugin.is_some();
                if ind.formula.is_some() {
                    for (what, given) in [
                        ("plugin", ind.plugin.is_some()),
                        ("mark_factor", ind.mark_factor.is_some()),
                        ("base", ind.base.is_some()),
                    ] {
                        if given {
                            self.error(
                                Code::Formula,
                                format!("{ip}/{what}"),
                                format!("indicator `{}` has a `formula`, which gives its whole value: `{what}` does not apply (write it into the formula)", ind.id),
                            );
                        }
                    }
                }
                let panel_name = ind.panel.as_ref().or(c.panel.as_ref());
                let panel_at = if ind.panel.is_some() && !one_level {
                    format!("{ip}/panel")
                } else {
                    format!("{pointer}/panel")
                };
                let panel = panel_name.and_then(|p| self.panel_ref(p, panels, &panel_at));
                if computed && ind.panel.is_some() {
                    self.error(
                        Code::Scoring,
                        &panel_at,
                        format!(
                            "indicator `{}` is computed, not marked: it has no panel",
                            ind.id
                        ),
                    );
                }
                let aggregation = ind.aggregation.or(c.aggregation);
                let needs_indicator_level = (aggregation.is_some() || panel_name.is_some())
                    && def.scoring.aggregate_at != AggregateAt::Indicator
                    && !computed;
                if needs_indicator_level {
                    let at = if aggregation.is_some() {
                        if ind.aggregation.is_some() && !one_level {
                            format!("{ip}/aggregation")
                        } else {
                            format!("{pointer}/aggregation")
                        }
                    } else {
                        panel_at.clone()
                    };
                    per_indicator.push((at, ind.id.to_string()));
                }
                position += 1;
                if let Some(scale) = scale {
                    let formula_bounds =
                        (formula.is_some() && ind.scale.is_some()).then(|| scale.bounds());
                    indicators.push(Indicator {
                        id: ind.id.clone(),
                        name: ind.name.clone(),
                        guidance: ind.guidance.clone(),
                        weight: ind.weight,
                        scale,
                        mark_factor,
                        base,
                        plugin: ind.plugin.clone(),
                        formula,
                        formula_bounds,
                        panel: if computed { None } else { panel },
                        aggregation,
                        floor: ind.floor,
                        cap: ind.cap,
                    });
                }
            }
            if c.pass_mark.is_some() && def.scoring.ranking.is_some() {
                self.error(
                    Code::Scoring,
                    format!("{pointer}/pass_mark"),
                    format!("criterion `{}` has a pass mark, but judges rank applications instead of marking criteria (`scoring.ranking`)", c.id),
                );
            }
            if let Some(pass) = &c.pass_mark
                && let Some(floor) = c.floor
                && pass.min <= floor
            {
                self.error(
                    Code::Scoring,
                    format!("{pointer}/pass_mark/min"),
                    format!("the pass mark {} is below the criterion's floor {floor}: every score passes", pass.min),
                );
            }
            if c.abstain && def.scoring.missing_marks == crate::definition::wire::MissingMarks::Skip
            {
                self.push(
                    Diagnostic::error(
                        Code::Scoring,
                        format!("{pointer}/abstain"),
                        format!("judges may abstain on criterion `{}`, but the award skips missing marks (`missing_marks: skip`): an abstention would count as nothing rather than leave the judge's total to the criteria they marked", c.id),
                    )
                    .with_hint("set `\"missing_marks\": \"error\"` or `\"renormalise\"` in `scoring`, or remove `abstain`"),
                );
            }
            if c.abstain && def.scoring.ranking.is_some() {
                self.error(
                    Code::Scoring,
                    format!("{pointer}/abstain"),
                    format!("judges may abstain on criterion `{}`, but they rank applications instead of marking criteria (`scoring.ranking`)", c.id),
                );
            }
            out.push(Criterion {
                id: c.id.clone(),
                name: c.name.clone(),
                guidance: c.guidance.clone(),
                weight: c.weight,
                indicators,
                combine: c.combine.unwrap_or(def.scoring.criterion),
                floor: c.floor,
                cap: c.cap,
                pass_mark: c.pass_mark.clone(),
                abstain: c.abstain,
            });
        }
        if let Some((at, _)) = per_indicator.first() {
            let ids: Vec<&str> = per_indicator.iter().map(|(_, id)| id.as_str()).collect();
            self.push(
                Diagnostic::error(
                    Code::Scoring,
                    at,
                    format!(
                        "{} {} {} a panel or an aggregation of {}, but the panel's marks combine per judge's total",
                        if ids.len() == 1 { "indicator" } else { "indicators" },
                        super::backticked(&ids),
                        if ids.len() == 1 { "has" } else { "have" },
                        if ids.len() == 1 { "its own" } else { "their own" }
                    ),
                )
                .with_hint("set `\"aggregate_at\": \"indicator\"` in `scoring`: per-indicator panels and aggregations combine each indicator's marks first"),
            );
        }
        out
    }

    /// Prizes go to winning places, one each, with a currency for any amount.
    fn prizes(&mut self, c: &crate::definition::wire::CategorySpec, pointer: &str) {
        self.unique(
            c.prizes
                .iter()
                .map(|p| p.place.to_string())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .enumerate(),
            |i| format!("{pointer}/prizes/{i}/place"),
            "prize place",
        );
        for (i, p) in c.prizes.iter().enumerate() {
            let at = format!("{pointer}/prizes/{i}");
            self.text(&p.name, &format!("{at}/name"));
            if p.place > c.winners {
                self.error(
                    Code::Category,
                    format!("{at}/place"),
                    format!(
                        "place {} is not a winning place: category `{}` has {} winners",
                        p.place, c.id, c.winners
                    ),
                );
            }
            match (&p.amount, &p.currency) {
                (Some(_), None) => self.error(
                    Code::Category,
                    format!("{at}/amount"),
                    "an amount needs its `currency` (such as `USD` or `KRW`)",
                ),
                (Some(a), _) if a.is_sign_negative() => self.error(
                    Code::Category,
                    format!("{at}/amount"),
                    format!("the amount {a} is negative"),
                ),
                _ => {}
            }
            if let Some(cur) = &p.currency
                && !(cur.len() == 3 && cur.chars().all(|ch| ch.is_ascii_uppercase()))
            {
                self.error(
                    Code::Category,
                    format!("{at}/currency"),
                    format!(
                        "`{cur}` is not an ISO 4217 code (three capital letters, such as `USD`)"
                    ),
                );
            }
        }
    }

    /// A floor must not be above a cap.
    fn bounds(&mut self, floor: Option<Decimal>, cap: Option<Decimal>, pointer: &str) {
        if let (Some(f), Some(c)) = (floor, cap)
            && f > c
        {
            self.error(
                Code::Scoring,
                format!("{pointer}/floor"),
                format!("`floor` {f} is above `cap` {c}"),
            );
        }
    }

    /// Resolves a scale; an indicator without its own scale reports nothing here, since a
    /// wrong `scoring.scale` is reported once, at `/scoring/scale`.
    pub(super) fn scale_ref(
        &mut self,
        id: &ScaleId,
        scales: &HashMap<String, Scale>,
        pointer: &str,
        report: bool,
    ) -> Option<Scale> {
        if let Some(s) = scales.get(id.as_str()) {
            return Some(s.clone());
        }
        if report {
            let def = self.def;
            self.reference(
                def.scales.iter().map(|s| s.id.as_str()),
                id.as_str(),
                pointer,
                "scale",
            );
        }
        None
    }

    /// Lowers a constant or a number field that every application of the category has.
    fn quantity(
        &mut self,
        category: usize,
        q: Option<&wire::Quantity>,
        pointer: &str,
    ) -> Option<Quantity> {
        match q? {
            wire::Quantity::Number(n) => Some(Quantity::Number(*n)),
            wire::Quantity::Field { field } => {
                let path = field.as_str();
                let own = self
                    .def
                    .categories
                    .get(category)
                    .and_then(|c| self.category_fields.get(c.id.as_str()))
                    .and_then(|f| f.get(path).map(|i| i.field_type));
                match own.or_else(|| self.award_fields.get(path).map(|i| i.field_type)) {
                    Some(FieldType::Number | FieldType::Integer) => {}
                    Some(other) => self.error(
                        Code::Scoring,
                        format!("{pointer}/field"),
                        format!(
                            "field `{path}` is of type `{}`, not a number",
                            other.as_str()
                        ),
                    ),
                    None => {
                        let mut known: Vec<String> = self.award_fields.keys().cloned().collect();
                        if let Some(c) = self.def.categories.get(category)
                            && let Some(f) = self.category_fields.get(c.id.as_str())
                        {
                            known.extend(f.keys().cloned());
                        }
                        self.reference(
                            known.iter().map(String::as_str),
                            path,
                            &format!("{pointer}/field"),
                            "field",
                        );
                    }
                }
                Some(Quantity::Field(path.to_owned()))
            }
        }
    }

    fn weights(
        &mut self,
        weights: impl Iterator<Item = Decimal> + Clone,
        base: &str,
        what: &str,
        owner: &str,
    ) {
        let mut any = false;
        let mut all_zero = true;
        for (i, w) in weights.enumerate() {
            any = true;
            if w.is_sign_negative() && !w.is_zero() {
                self.push(
                    Diagnostic::error(
                        Code::Weight,
                        format!("{base}/{i}/weight"),
                        format!("{what} weight `{w}` is negative"),
                    )
                    .with_hint("weights are 0 or more; 0 reports a value without counting it"),
                );
            }
            if !w.is_zero() {
                all_zero = false;
            }
        }
        if any && all_zero {
            self.push(
                Diagnostic::error(
                    Code::Weight,
                    base,
                    format!("every {what} weight of {owner} is 0, so nothing would count"),
                )
                .with_hint("give at least one a positive weight"),
            );
        }
    }
}
