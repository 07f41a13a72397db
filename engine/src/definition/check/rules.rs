//! Eligibility rules and their conditions.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Checker, FieldInfo, backticked};
use crate::definition::model::{Condition, Rule};
use crate::definition::wire::{ConditionSpec, FieldType, Hook, RuleSpec};
use crate::diagnostics::{Code, Diagnostic};

impl Checker<'_> {
    pub(super) fn award_rules(&mut self) -> Vec<Rule> {
        let def = self.def;
        self.rule_ids();
        def.eligibility
            .iter()
            .enumerate()
            .map(|(i, r)| {
                // A rule restricted to some categories may also read the fields all of them
                // share; the others read the award's (borrowed, not copied: an award may have
                // thousands of rules and fields).
                let Some((first, rest)) = r
                    .applies_to
                    .as_ref()
                    .and_then(|a| a.categories.split_first())
                else {
                    let fields = std::mem::take(&mut self.award_fields);
                    let rule = self.rule(r, &format!("/eligibility/{i}"), &fields);
                    self.award_fields = fields;
                    return rule;
                };
                let mut fields = self.award_fields.clone();
                {
                    let shared = self
                        .category_fields
                        .get(first.as_str())
                        .cloned()
                        .unwrap_or_default();
                    for (path, info) in shared {
                        let everywhere = rest.iter().all(|c| {
                            self.category_fields
                                .get(c.as_str())
                                .is_some_and(|f| f.contains_key(&path))
                        });
                        if everywhere {
                            fields.insert(path, info);
                        }
                    }
                }
                self.rule(r, &format!("/eligibility/{i}"), &fields)
            })
            .collect()
    }

    pub(super) fn category_rules(&mut self, index: usize) -> Vec<Rule> {
        let def = self.def;
        let Some(category) = def.categories.get(index) else {
            return Vec::new();
        };
        let mut fields = self.award_fields.clone();
        if let Some(own) = self.category_fields.get(category.id.as_str()) {
            fields.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        category
            .eligibility
            .iter()
            .enumerate()
            .map(|(i, r)| self.rule(r, &format!("/categories/{index}/eligibility/{i}"), &fields))
            .collect()
    }

    /// Rule ids are unique across the award, since results cite them.
    fn rule_ids(&mut self) {
        let def = self.def;
        let mut ids: Vec<(String, &str)> = def
            .eligibility
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("/eligibility/{i}/id"), r.id.as_str()))
            .collect();
        for (c, cat) in def.categories.iter().enumerate() {
            ids.extend(
                cat.eligibility
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("/categories/{c}/eligibility/{i}/id"), r.id.as_str())),
            );
        }
        self.unique(
            ids.iter().map(|(_, id)| *id).enumerate(),
            |k| ids.get(k).map(|(p, _)| p.clone()).unwrap_or_default(),
            "eligibility rule",
        );
    }

    fn rule(&mut self, r: &RuleSpec, pointer: &str, fields: &BTreeMap<String, FieldInfo>) -> Rule {
        self.text(&r.message, &format!("{pointer}/message"));
        let scope = self.scope(r.applies_to.as_ref(), &format!("{pointer}/applies_to"));
        let require = self.condition(&r.require, &format!("{pointer}/require"), fields);
        Rule {
            id: r.id.clone(),
            scope,
            require,
            outcome: r.outcome,
            message: r.message.clone(),
        }
    }

    pub(super) fn condition(
        &mut self,
        c: &ConditionSpec,
        pointer: &str,
        fields: &BTreeMap<String, FieldInfo>,
    ) -> Condition {
        match c {
            ConditionSpec::Equals(e) => {
                let p = format!("{pointer}/equals");
                if let Some(info) = self.field_ref(e.field.as_str(), &format!("{p}/field"), fields)
                {
                    self.value_fits(
                        &info,
                        e.field.as_str(),
                        &e.value,
                        &format!("{p}/value"),
                        "equals",
                    );
                }
                Condition::Equals {
                    field: e.field.as_str().to_owned(),
                    value: e.value.clone(),
                }
            }
            ConditionSpec::In(e) => {
                let p = format!("{pointer}/in");
                if let Some(info) = self.field_ref(e.field.as_str(), &format!("{p}/field"), fields)
                {
                    for (i, v) in e.values.iter().enumerate() {
                        self.value_fits(
                            &info,
                            e.field.as_str(),
                            v,
                            &format!("{p}/values/{i}"),
                            "in",
                        );
                    }
                }
                Condition::In {
                    field: e.field.as_str().to_owned(),
                    values: e.values.clone(),
                }
            }
            ConditionSpec::Compare(e) => {
                let p = format!("{pointer}/compare/field");
                self.typed_ref(
                    e.field.as_str(),
                    &p,
                    fields,
                    "compare",
                    &[FieldType::Number, FieldType::Integer],
                );
                Condition::Compare {
                    field: e.field.as_str().to_owned(),
                    op: e.op,
                    value: e.value,
                }
            }
            ConditionSpec::Before(e) | ConditionSpec::After(e) => {
                let before = matches!(c, ConditionSpec::Before(_));
                let op = if before { "before" } else { "after" };
                let p = format!("{pointer}/{op}/field");
                self.typed_ref(e.field.as_str(), &p, fields, op, &[FieldType::Date]);
                let field = e.field.as_str().to_owned();
                let date = self.condition_date(e, &format!("{pointer}/{op}"));
                let inclusive = e.inclusive;
                if before {
                    Condition::Before {
                        field,
                        date,
                        inclusive,
                    }
                } else {
                    Condition::After {
                        field,
                        date,
                        inclusive,
                    }
                }
            }
            ConditionSpec::Present(f) => {
                self.field_ref(f.as_str(), &format!("{pointer}/present"), fields);
                Condition::Present(f.as_str().to_owned())
            }
            ConditionSpec::Absent(f) => {
                self.field_ref(f.as_str(), &format!("{pointer}/absent"), fields);
                Condition::Absent(f.as_str().to_owned())
            }
            ConditionSpec::Count(e) => {
                let p = format!("{pointer}/count");
                self.typed_ref(
                    e.field.as_str(),
                    &format!("{p}/field"),
                    fields,
                    "count",
                    &[FieldType::List, FieldType::MultipleChoice],
                );
                if let (Some(min), Some(max)) = (e.min, e.max)
                    && min > max
                {
                    self.error(
                        Code::Condition,
                        format!("{p}/max"),
                        format!("`max` ({max}) is below `min` ({min})"),
                    );
                }
                if e.min.is_none() && e.max.is_none() {
                    self.error(Code::Condition, &p, "`count` needs `min`, `max` or both");
                }
                Condition::Count {
                    field: e.field.as_str().to_owned(),
                    min: e.min,
                    max: e.max,
                }
            }
            ConditionSpec::ApplicantType(types) => {
                for (i, t) in types.iter().enumerate() {
                    self.applicant_type_ref(t.as_str(), &format!("{pointer}/applicant_type/{i}"));
                }
                Condition::ApplicantType(types.clone())
            }
            ConditionSpec::Category(cats) => {
                for (i, t) in cats.iter().enumerate() {
                    self.category_ref(t.as_str(), &format!("{pointer}/category/{i}"));
                }
                Condition::Category(cats.clone())
            }
            ConditionSpec::All(items) | ConditionSpec::Any(items) => {
                let all = matches!(c, ConditionSpec::All(_));
                let op = if all { "all" } else { "any" };
                if items.is_empty() {
                    self.error(
                        Code::Condition,
                        format!("{pointer}/{op}"),
                        format!("`{op}` needs at least one condition"),
                    );
                }
                let lowered = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.condition(item, &format!("{pointer}/{op}/{i}"), fields))
                    .collect();
                if all {
                    Condition::All(lowered)
                } else {
                    Condition::Any(lowered)
                }
            }
            ConditionSpec::Not(inner) => Condition::Not(Box::new(self.condition(
                inner,
                &format!("{pointer}/not"),
                fields,
            ))),
            ConditionSpec::Plugin(call) => {
                self.plugin_hook(
                    call.plugin.as_str(),
                    Hook::Eligibility,
                    &format!("{pointer}/plugin/plugin"),
                );
                Condition::Plugin(call.plugin.clone())
            }
            ConditionSpec::Formula(text) => {
                let def = self.def;
                let scope = super::formulas::FormulaScope {
                    fields: vec![fields],
                    indicators: &[],
                    position: None,
                    constants: &def.scoring.constants,
                };
                match self.formula(
                    text,
                    &scope,
                    crate::formula::Type::Boolean,
                    &format!("{pointer}/formula"),
                ) {
                    Some(f) => Condition::Formula(f),
                    None => Condition::All(Vec::new()),
                }
            }
        }
    }

    /// The date a `before`/`after` compares with: given, or counted from the timeline.
    fn condition_date(
        &mut self,
        e: &crate::definition::wire::DateSpec,
        pointer: &str,
    ) -> chrono::NaiveDate {
        use crate::definition::wire::TimelineDate;
        match (&e.date, &e.relative) {
            (Some(d), None) => *d,
            (None, Some(r)) => {
                let Some(t) = &self.timeline else {
                    // The timeline's own error is reported; nothing to count from.
                    return chrono::NaiveDate::MIN;
                };
                let at = match r.to {
                    TimelineDate::Opens => t.opens,
                    TimelineDate::Closes => t.closes,
                    TimelineDate::Results => t.results,
                };
                let day = at.date_naive();
                let months = i64::from(r.years) * 12 + i64::from(r.months);
                let shifted = if months >= 0 {
                    u32::try_from(months)
                        .ok()
                        .and_then(|m| day.checked_add_months(chrono::Months::new(m)))
                } else {
                    u32::try_from(-months)
                        .ok()
                        .and_then(|m| day.checked_sub_months(chrono::Months::new(m)))
                }
                .and_then(|d| d.checked_add_signed(chrono::TimeDelta::days(i64::from(r.days))));
                shifted.unwrap_or_else(|| {
                    self.error(
                        Code::Condition,
                        format!("{pointer}/relative"),
                        "the relative date is out of the calendar's range",
                    );
                    day
                })
            }
            (Some(_), Some(_)) => {
                self.push(Diagnostic::error(
                    Code::Condition,
                    format!("{pointer}/relative"),
                    "give `date` or `relative`, not both",
                ));
                chrono::NaiveDate::MIN
            }
            (None, None) => {
                self.push(
                    Diagnostic::error(Code::Condition, pointer, "the condition needs `date` (`YYYY-MM-DD`) or `relative` (such as `{\"to\": \"opens\", \"years\": -2}`)"),
                );
                chrono::NaiveDate::MIN
            }
        }
    }

    fn field_ref(
        &mut self,
        path: &str,
        pointer: &str,
        fields: &BTreeMap<String, FieldInfo>,
    ) -> Option<FieldInfo> {
        if let Some(info) = fields.get(path) {
            return Some(info.clone());
        }
        self.reference(fields.keys().map(String::as_str), path, pointer, "field");
        None
    }

    /// Rules across applications: each reads a known field and limits something.
    pub(super) fn limits(&mut self) {
        let def = self.def;
        self.unique(
            def.limits.iter().map(|l| l.id.as_str()).enumerate(),
            |i| format!("/limits/{i}/id"),
            "limit",
        );
        let mut all = self.award_fields.clone();
        for f in self.category_fields.values() {
            for (k, v) in f {
                all.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        for (i, l) in def.limits.iter().enumerate() {
            let p = format!("/limits/{i}");
            self.text(&l.message, &format!("{p}/message"));
            self.typed_ref(
                l.field.as_str(),
                &format!("{p}/field"),
                &all,
                "a limit",
                &[
                    FieldType::ShortText,
                    FieldType::Email,
                    FieldType::Url,
                    FieldType::SingleChoice,
                    FieldType::Country,
                    FieldType::Integer,
                    FieldType::Number,
                    FieldType::Boolean,
                    FieldType::Date,
                ],
            );
            if l.max_applications.is_none() && l.max_categories.is_none() {
                self.push(
                    Diagnostic::error(
                        Code::Condition,
                        &p,
                        format!("limit `{}` limits nothing", l.id),
                    )
                    .with_hint("give `max_applications`, `max_categories` or both"),
                );
            }
        }
    }

    pub(super) fn typed_ref(
        &mut self,
        path: &str,
        pointer: &str,
        fields: &BTreeMap<String, FieldInfo>,
        op: &str,
        types: &[FieldType],
    ) -> Option<FieldInfo> {
        let info = self.field_ref(path, pointer, fields)?;
        if types.contains(&info.field_type) {
            return Some(info);
        }
        {
            let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
            let hint = if op == "compare" && info.field_type == FieldType::Date {
                format!(
                    "for a date, use `before` or `after`: {{\"before\": {{\"field\": \"{path}\", \"date\": \"2024-01-01\"}}}}"
                )
            } else {
                format!("`{op}` reads fields of type {}", backticked(&names))
            };
            self.push(
                Diagnostic::error(
                    Code::Condition,
                    pointer,
                    format!(
                        "`{op}` cannot read field `{path}` of type `{}`",
                        info.field_type.as_str()
                    ),
                )
                .with_hint(hint),
            );
        }
        None
    }

    /// Checks that a literal in `equals` or `in` could be a value of the field.
    fn value_fits(&mut self, info: &FieldInfo, path: &str, value: &Value, pointer: &str, op: &str) {
        let t = info.field_type;
        let fits = match t {
            FieldType::ShortText | FieldType::LongText | FieldType::Email | FieldType::Url => {
                value.is_string()
            }
            FieldType::Number => value.is_number(),
            FieldType::Integer => value.is_i64() || value.is_u64(),
            FieldType::Boolean => value.is_boolean(),
            FieldType::Date => value
                .as_str()
                .is_some_and(|s| s.parse::<chrono::NaiveDate>().is_ok()),
            FieldType::SingleChoice => {
                if let Some(s) = value.as_str()
                    && !info.options.iter().any(|o| o == s)
                {
                    let mut d = Diagnostic::error(
                        Code::Condition,
                        pointer,
                        format!("`{s}` is not an option of field `{path}`"),
                    );
                    d = match super::closest(s, info.options.iter().map(String::as_str)) {
                        Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                        None => d.with_hint(format!("options: {}", backticked(&info.options))),
                    };
                    self.push(d);
                    return;
                }
                value.is_string()
            }
            FieldType::Country => {
                if let Some(s) = value.as_str()
                    && !crate::identity::is_country_code(s)
                {
                    let mut d = Diagnostic::error(
                        Code::Condition,
                        pointer,
                        format!(
                            "`{s}` is not a country code: field `{path}` holds ISO 3166-1 alpha-2 codes"
                        ),
                    );
                    if let Some(code) = crate::identity::country_code(s) {
                        d = d.with_hint(format!(
                            "write `{code}` ({})",
                            crate::identity::country_name(code, "en").unwrap_or(code)
                        ));
                    }
                    self.push(d);
                    return;
                }
                value.is_string()
            }
            FieldType::MultipleChoice | FieldType::List | FieldType::Group | FieldType::File => {
                self.push(
                    Diagnostic::error(
                        Code::Condition,
                        pointer,
                        format!(
                            "`{op}` cannot compare field `{path}` of type `{}`",
                            t.as_str()
                        ),
                    )
                    .with_hint("use `count` or `present` for lists, choices of several and groups"),
                );
                return;
            }
        };
        if !fits {
            self.error(
                Code::Condition,
                pointer,
                format!(
                    "`{value}` cannot be a value of field `{path}` of type `{}`",
                    t.as_str()
                ),
            );
        }
    }
}
