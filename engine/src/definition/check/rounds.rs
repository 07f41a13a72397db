//! Judging rounds and conflict rules.

use super::Checker;
use crate::definition::model::Category;
use crate::definition::wire::{AdvanceSpec, ConflictRules, FieldType, RoundSpec};
use crate::diagnostics::{Code, Diagnostic};

impl Checker<'_> {
    pub(super) fn rounds(&mut self, categories: &[Category]) -> Vec<RoundSpec> {
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
            self.formulas_in_round(r, &p, categories);
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
            if !r.is_marked() && !matches!(r.advance, AdvanceSpec::Eligible | AdvanceSpec::Decision)
            {
                self.push(
                    Diagnostic::error(
                        Code::Scoring,
                        format!("{p}/advance"),
                        format!(
                            "round `{}` is not marked (it draws no judges and does not say `\"marked\": true`), so its rule `{}` has no scores to rank",
                            r.id,
                            r.advance.rule()
                        ),
                    )
                    .with_hint("give the round `judges_per_application` (or `\"marked\": true`, judges assigned by an administrator), or let it advance by `eligible` or `decision`"),
                );
            }
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
                    let info: Option<super::FieldInfo> = self.typed_ref(
                        field.as_str(),
                        &format!("{p}/advance/field"),
                        &fields,
                        "top_per_group",
                        &[
                            FieldType::SingleChoice,
                            FieldType::ShortText,
                            FieldType::Country,
                        ],
                    );
                    if let Some(info) = info
                        .as_ref()
                        .filter(|i| i.field_type == FieldType::SingleChoice)
                    {
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
                    if info
                        .as_ref()
                        .is_some_and(|i| i.field_type == FieldType::Country)
                    {
                        for g in take.groups() {
                            if !crate::identity::is_country_code(g) {
                                self.error(
                                    Code::Scoring,
                                    format!(
                                        "{p}/advance/take/{}",
                                        crate::diagnostics::escape_segment(g)
                                    ),
                                    format!("`{g}` is not a country code (ISO 3166-1 alpha-2, such as `KR`)"),
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

    /// Refuses a round that judges a criterion whose formula reads an indicator of a
    /// criterion the round leaves out: in that round the indicator has no value.
    fn formulas_in_round(&mut self, r: &RoundSpec, p: &str, categories: &[Category]) {
        if r.criteria.is_empty() {
            return;
        }
        for cat in categories {
            let judged: Vec<_> = cat
                .criteria
                .iter()
                .filter(|c| r.criteria.iter().any(|x| x == &c.id))
                .collect();
            for c in &judged {
                for ind in &c.indicators {
                    let Some(f) = &ind.formula else { continue };
                    for read in f.indicators() {
                        let in_round = judged
                            .iter()
                            .any(|c| c.indicators.iter().any(|i| i.id.as_str() == read));
                        if in_round {
                            continue;
                        }
                        let owner = cat
                            .criteria
                            .iter()
                            .find(|c| c.indicators.iter().any(|i| i.id.as_str() == read))
                            .map_or_else(|| "?".to_owned(), |c| c.id.to_string());
                        let j = r.criteria.iter().position(|x| x == &c.id).unwrap_or(0);
                        self.push(
                            Diagnostic::error(
                                Code::Formula,
                                format!("{p}/criteria/{j}"),
                                format!(
                                    "in round `{}`, category `{}`: indicator `{}` of criterion `{}` is computed from indicator `{read}` of criterion `{owner}`, which this round does not judge",
                                    r.id, cat.id, ind.id, c.id
                                ),
                            )
                            .with_hint(format!(
                                "add `{owner}` to the round's criteria, or compute `{}` from indicators of the criteria the round judges",
                                ind.id
                            )),
                        );
                    }
                }
            }
        }
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
        let min = normalisation
            .min_marks
            .unwrap_or(self.defaults.normalisation_min_marks);
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
            let Some(f) = field else { continue };
            let pointer = format!("/conflicts/{name}");
            if let Some(info) = self.award_fields.get(f.as_str()) {
                match (name, info.field_type) {
                    ("same_country", FieldType::Country) => {}
                    ("same_country", FieldType::ShortText | FieldType::SingleChoice) => {
                        self.push(
                            Diagnostic::warning(
                                Code::Scoring,
                                &pointer,
                                format!("field `{f}` holds countries as text: conflicts compare the countries its names resolve to, and an application whose country Laurel cannot name is compared by its text"),
                            )
                            .with_hint(format!("give field `{f}` the type `country`: applicants then choose from a list and values are ISO 3166-1 codes")),
                        );
                    }
                    (_, FieldType::ShortText | FieldType::SingleChoice | FieldType::Country) => {}
                    (_, other) => self.error(
                        Code::Scoring,
                        &pointer,
                        format!(
                            "field `{f}` of type `{}` cannot name {}",
                            other.as_str(),
                            name.trim_start_matches("same_")
                        ),
                    ),
                }
            } else {
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
