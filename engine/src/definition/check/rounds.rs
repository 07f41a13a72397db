//! Judging rounds and conflict rules.

use super::Checker;
use crate::definition::wire::{AdvanceSpec, ConflictRules, FieldType, RoundSpec};
use crate::diagnostics::{Code, Diagnostic};

impl Checker<'_> {
    pub(super) fn rounds(&mut self) -> Vec<RoundSpec> {
        let def = self.def;
        self.unique(
            def.rounds.iter().map(|r| r.id.as_str()).enumerate(),
            |i| format!("/rounds/{i}/id"),
            "round",
        );
        for (i, r) in def.rounds.iter().enumerate() {
            let p = format!("/rounds/{i}");
            self.text(&r.name, &format!("{p}/name"));
            for (j, c) in r.criteria.iter().enumerate() {
                for cat in &def.categories {
                    if !cat.criteria.iter().any(|x| &x.id == c) {
                        self.push(
                            Diagnostic::error(
                                Code::Scoring,
                                format!("{p}/criteria/{j}"),
                                format!(
                                    "round criterion `{c}` is not a criterion of category `{}`",
                                    cat.id
                                ),
                            )
                            .with_hint("a round's criteria must exist in every category"),
                        );
                    }
                }
            }
            if let Some(f) = &r.expertise_field {
                match self.award_fields.get(f.as_str()).map(|x| x.field_type) {
                    Some(
                        FieldType::MultipleChoice
                        | FieldType::SingleChoice
                        | FieldType::List
                        | FieldType::ShortText,
                    ) => {}
                    Some(other) => self.error(
                        Code::Scoring,
                        format!("{p}/expertise_field"),
                        format!(
                            "field `{f}` of type `{}` holds no expertise tags",
                            other.as_str()
                        ),
                    ),
                    None => {
                        let known: Vec<String> = self.award_fields.keys().cloned().collect();
                        self.reference(
                            known.iter().map(String::as_str),
                            f.as_str(),
                            &format!("{p}/expertise_field"),
                            "award-wide field",
                        );
                    }
                }
            }
            if r.marked == Some(false) && r.judges_per_application.is_some() {
                self.error(
                    Code::Scoring,
                    format!("{p}/marked"),
                    "a round that draws judges (`judges_per_application`) is marked",
                );
            }
            if let Some(closes) = &r.closes
                && let Err(why) = crate::time::parse_instant(closes, &def.timeline.time_zone)
            {
                self.push(
                    Diagnostic::error(Code::Timeline, format!("{p}/closes"), why)
                        .with_hint("write a date and time such as `2023-08-15T18:00:00`, read in the award's time zone, or with an offset: `2023-08-15T18:00:00+09:00`"),
                );
            }
            self.thin_normalisation(i, r, &p);
            match &r.advance {
                AdvanceSpec::TopFraction { fraction }
                    if fraction.is_sign_negative()
                        || *fraction > rust_decimal::Decimal::ONE
                        || fraction.is_zero() =>
                {
                    self.error(
                        Code::Scoring,
                        format!("{p}/advance/fraction"),
                        format!("the fraction must be above 0 and at most 1, not {fraction}"),
                    );
                }
                AdvanceSpec::TopPerGroup { field, take } => {
                    let fields = self.award_fields.clone();
                    let info = self.typed_ref(
                        field.as_str(),
                        &format!("{p}/advance/field"),
                        &fields,
                        "top_per_group",
                        &[FieldType::SingleChoice, FieldType::ShortText],
                    );
                    if let Some(info) = info.filter(|i| i.field_type == FieldType::SingleChoice) {
                        for g in take.groups() {
                            if !info.options.iter().any(|o| o == g) {
                                self.push(
                                    Diagnostic::error(
                                        Code::Scoring,
                                        format!(
                                            "{p}/advance/take/{}",
                                            crate::diagnostics::escape_segment(g)
                                        ),
                                        format!("`{g}` is not an option of field `{field}`"),
                                    )
                                    .with_hint(format!(
                                        "its options: {}",
                                        super::backticked(&info.options)
                                    )),
                                );
                            }
                        }
                    }
                    if take.0.is_empty() {
                        self.error(
                            Code::Scoring,
                            format!("{p}/advance/take"),
                            "`take` names no group, so nothing would go on",
                        );
                    }
                }
                AdvanceSpec::Knockout { field, .. } => {
                    let fields = self.award_fields.clone();
                    self.typed_ref(
                        field.as_str(),
                        &format!("{p}/advance/field"),
                        &fields,
                        "knockout",
                        &[
                            FieldType::ShortText,
                            FieldType::Integer,
                            FieldType::SingleChoice,
                        ],
                    );
                }
                AdvanceSpec::Eligible if r.judges_per_application.is_some() => {
                    self.push(Diagnostic::warning(Code::Scoring, format!("{p}/advance"), "a round with judges advances every eligible application regardless of marks"));
                }
                _ => {}
            }
        }
        def.rounds.clone()
    }

    /// Warns when a round normalises judges' totals although no judge can mark enough
    /// applications of a category in it: at most `n` per category reach it (the previous
    /// round's `top_n`, or its winners), fewer than normalisation's `min_marks`.
    fn thin_normalisation(&mut self, i: usize, r: &RoundSpec, p: &str) {
        let def = self.def;
        let normalisation = r.normalisation.unwrap_or(def.scoring.normalisation);
        if !r.is_marked() || !normalisation.is_on() || i == 0 {
            return;
        }
        let most = match &def.rounds[i - 1].advance {
            AdvanceSpec::TopN { n } => *n,
            AdvanceSpec::Winners => def.categories.iter().map(|c| c.winners).max().unwrap_or(0),
            _ => return,
        };
        let min = normalisation.min_marks();
        if most <= min {
            let at = if r.normalisation.is_some() {
                format!("{p}/normalisation")
            } else {
                format!("{p}/id")
            };
            self.push(
                Diagnostic::warning(
                    Code::Scoring,
                    at,
                    format!(
                        "round `{}` normalises judges' totals, but at most {most} applications of a category reach it, so no judge marks more than {most} of them: normalisation needs {min}, and judges with fewer are used as marked",
                        r.id
                    ),
                )
                .with_hint("give the round `\"normalisation\": {\"method\": \"none\"}`, or lower `min_marks`"),
            );
        }
    }

    pub(super) fn conflicts(&mut self) -> ConflictRules {
        let Some(c) = &self.def.conflicts else {
            return ConflictRules::default();
        };
        for (name, field) in [
            ("same_organisation", &c.same_organisation),
            ("same_city", &c.same_city),
            ("same_country", &c.same_country),
        ] {
            if let Some(f) = field
                && !self.award_fields.contains_key(f.as_str())
            {
                let known: Vec<String> = self.award_fields.keys().cloned().collect();
                self.reference(
                    known.iter().map(String::as_str),
                    f.as_str(),
                    &format!("/conflicts/{name}"),
                    "award-wide field",
                );
            }
        }
        c.clone()
    }
}
