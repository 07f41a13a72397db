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
                AdvanceSpec::Eligible if r.judges_per_application.is_some() => {
                    self.push(Diagnostic::warning(Code::Scoring, format!("{p}/advance"), "a round with judges advances every eligible application regardless of marks"));
                }
                _ => {}
            }
        }
        def.rounds.clone()
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
