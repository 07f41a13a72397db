//! Form fields and applicant types.

use std::collections::BTreeMap;

use super::{Checker, FieldInfo};
use crate::definition::model::{ApplicantType, Category, Field, FieldKind, Scope, TextFormat};
use crate::definition::wire::{AppliesTo, ConditionSpec, FieldSpec, FieldType};
use crate::diagnostics::{Code, Diagnostic};

impl Checker<'_> {
    pub(super) fn award_form(&mut self) -> Vec<Field> {
        let mut info = BTreeMap::new();
        let fields = self.fields(&self.def.form.fields, "/form/fields", "", &mut info);
        self.award_fields = info;
        fields
    }

    /// Lowers a category's own fields; they may not reuse an award field's id.
    pub(super) fn category_form(&mut self, index: usize) -> Vec<Field> {
        let def = self.def;
        let Some(category) = def.categories.get(index) else {
            return Vec::new();
        };
        let base = format!("/categories/{index}/fields");
        let mut info = BTreeMap::new();
        let fields = self.fields(&category.fields, &base, "", &mut info);
        for (i, f) in category.fields.iter().enumerate() {
            if self.award_fields.contains_key(f.id.as_str()) {
                self.push(
                    Diagnostic::error(
                        Code::DuplicateId,
                        format!("{base}/{i}/id"),
                        format!(
                            "category field `{}` has the id of an award-wide field",
                            f.id
                        ),
                    )
                    .with_hint("rename it, or restrict the award-wide field with `applies_to`"),
                );
            }
        }
        self.category_fields
            .insert(category.id.as_str().to_owned(), info);
        fields
    }

    /// The form's sections: ids unique, titles in every language, each field named known and
    /// in one section only, and, once there are sections, every field in one.
    pub(super) fn sections(&mut self) {
        let def = self.def;
        let sections = &def.form.sections;
        if sections.is_empty() {
            return;
        }
        self.unique(
            sections.iter().map(|s| s.id.as_str()).enumerate(),
            |i| format!("/form/sections/{i}/id"),
            "section id",
        );
        // Every field a section may hold: (id, where it is declared).
        let mut declared: Vec<(&str, String)> = def
            .form
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.as_str(), format!("/form/fields/{i}")))
            .collect();
        for (c, category) in def.categories.iter().enumerate() {
            for (i, f) in category.fields.iter().enumerate() {
                declared.push((f.id.as_str(), format!("/categories/{c}/fields/{i}")));
            }
        }
        let mut placed: BTreeMap<&str, String> = BTreeMap::new();
        for (n, section) in sections.iter().enumerate() {
            let at = format!("/form/sections/{n}");
            self.text(&section.title, &format!("{at}/title"));
            self.opt_text(section.description.as_ref(), &format!("{at}/description"));
            if section.fields.is_empty() {
                self.error(
                    Code::Field,
                    format!("{at}/fields"),
                    format!("section `{}` holds no field", section.id),
                );
            }
            for (k, id) in section.fields.iter().enumerate() {
                let pointer = format!("{at}/fields/{k}");
                if !declared.iter().any(|(d, _)| *d == id.as_str()) {
                    let mut d = Diagnostic::error(
                        Code::UnknownReference,
                        &pointer,
                        format!(
                            "unknown field `{id}`: a section holds the form's fields and categories' fields, by id"
                        ),
                    );
                    if let Some(best) = crate::suggest::closest(
                        id.as_str(),
                        declared
                            .iter()
                            .map(|(d, _)| *d)
                            .collect::<Vec<_>>()
                            .into_iter(),
                    ) {
                        d = d.with_hint(format!("did you mean `{best}`?"));
                    }
                    self.push(d);
                    continue;
                }
                if let Some(first) = placed.get(id.as_str()) {
                    self.push(
                        Diagnostic::error(
                            Code::DuplicateId,
                            &pointer,
                            format!("field `{id}` is already in a section"),
                        )
                        .with_hint(format!("first placed at {first}")),
                    );
                    continue;
                }
                placed.insert(id.as_str(), pointer);
            }
        }
        for (id, at) in &declared {
            if !placed.contains_key(id) {
                self.push(
                    Diagnostic::error(
                        Code::Field,
                        format!("{at}/id"),
                        format!("field `{id}` is in no section: once the form has sections, every field is in one"),
                    )
                    .with_hint("add its id to the `fields` of a section in `form.sections`"),
                );
            }
        }
    }

    fn fields(
        &mut self,
        specs: &[FieldSpec],
        base: &str,
        prefix: &str,
        info: &mut BTreeMap<String, FieldInfo>,
    ) -> Vec<Field> {
        self.unique(
            specs.iter().map(|f| f.id.as_str()).enumerate(),
            |i| format!("{base}/{i}/id"),
            "field id",
        );
        specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let pointer = format!("{base}/{i}");
                let path = if prefix.is_empty() {
                    spec.id.as_str().to_owned()
                } else {
                    format!("{prefix}.{}", spec.id)
                };
                let field = self.field(spec, &pointer, &path, info);
                // The first of two fields with one id is the one references mean.
                info.entry(path).or_insert_with(|| FieldInfo {
                    field_type: spec.field_type,
                    options: spec.options.iter().map(|o| o.value.clone()).collect(),
                });
                field
            })
            .collect()
    }

    fn field(
        &mut self,
        spec: &FieldSpec,
        pointer: &str,
        path: &str,
        info: &mut BTreeMap<String, FieldInfo>,
    ) -> Field {
        self.text(&spec.label, &format!("{pointer}/label"));
        self.opt_text(spec.help.as_ref(), &format!("{pointer}/help"));
        let scope = self.scope(spec.applies_to.as_ref(), &format!("{pointer}/applies_to"));
        self.constraints_fit(spec, pointer);
        let t = spec.field_type;
        let kind = match t {
            FieldType::ShortText | FieldType::LongText | FieldType::Email | FieldType::Url => {
                if let Some(pattern) = &spec.pattern {
                    self.pattern(pattern, &format!("{pointer}/pattern"));
                }
                self.order(
                    spec.min_length.map(u64::from),
                    spec.max_length.map(u64::from),
                    pointer,
                    "min_length",
                    "max_length",
                );
                FieldKind::Text {
                    format: match t {
                        FieldType::LongText => TextFormat::Long,
                        FieldType::Email => TextFormat::Email,
                        FieldType::Url => TextFormat::Url,
                        _ => TextFormat::Short,
                    },
                    min_length: spec.min_length,
                    max_length: spec.max_length,
                    pattern: spec.pattern.clone(),
                }
            }
            FieldType::Number | FieldType::Integer => {
                if let (Some(min), Some(max)) = (spec.min, spec.max)
                    && min > max
                {
                    self.error(
                        Code::Field,
                        format!("{pointer}/max"),
                        format!("`max` ({max}) is below `min` ({min})"),
                    );
                }
                if t == FieldType::Integer {
                    for (name, v) in [("min", spec.min), ("max", spec.max)] {
                        if let Some(v) = v
                            && !v.fract().is_zero()
                        {
                            self.error(
                                Code::Field,
                                format!("{pointer}/{name}"),
                                format!("`{name}` of an integer field must be whole, not `{v}`"),
                            );
                        }
                    }
                }
                FieldKind::Number {
                    integer: t == FieldType::Integer,
                    min: spec.min,
                    max: spec.max,
                }
            }
            FieldType::Boolean => FieldKind::Boolean,
            FieldType::Country => FieldKind::Country,
            FieldType::Date => {
                if let (Some(a), Some(b)) = (spec.not_before, spec.not_after)
                    && a > b
                {
                    self.error(
                        Code::Field,
                        format!("{pointer}/not_after"),
                        format!("`not_after` ({b}) is before `not_before` ({a})"),
                    );
                }
                FieldKind::Date {
                    not_before: spec.not_before,
                    not_after: spec.not_after,
                }
            }
            FieldType::SingleChoice | FieldType::MultipleChoice => {
                if spec.options.is_empty() {
                    self.error(
                        Code::Field,
                        pointer,
                        format!("a `{}` field needs `options`", t.as_str()),
                    );
                }
                self.unique(
                    spec.options.iter().map(|o| o.value.as_str()).enumerate(),
                    |i| format!("{pointer}/options/{i}/value"),
                    "option value",
                );
                for (i, o) in spec.options.iter().enumerate() {
                    self.text(&o.label, &format!("{pointer}/options/{i}/label"));
                }
                self.items_order(spec, pointer);
                FieldKind::Choice {
                    multiple: t == FieldType::MultipleChoice,
                    options: spec.options.clone(),
                    min_items: spec.min_items,
                    max_items: spec.max_items,
                }
            }
            FieldType::List => {
                self.items_order(spec, pointer);
                let item = match &spec.item {
                    Some(item) => {
                        let mut item_info = BTreeMap::new();
                        self.field(item, &format!("{pointer}/item"), path, &mut item_info)
                    }
                    None => {
                        self.error(Code::Field, pointer, "a `list` field needs `item`");
                        placeholder(spec)
                    }
                };
                FieldKind::List {
                    item: Box::new(item),
                    min_items: spec.min_items,
                    max_items: spec.max_items,
                }
            }
            FieldType::Group => {
                if spec.fields.is_empty() {
                    self.error(Code::Field, pointer, "a `group` field needs `fields`");
                }
                let fields = self.fields(&spec.fields, &format!("{pointer}/fields"), path, info);
                FieldKind::Group { fields }
            }
            FieldType::File => FieldKind::File {
                accept: spec.accept.clone(),
                max_bytes: spec.max_bytes.unwrap_or(crate::DEFAULT_MAX_FILE_BYTES),
            },
        };
        Field {
            id: spec.id.clone(),
            label: spec.label.clone(),
            help: spec.help.clone(),
            required: spec.required,
            personal: spec.personal,
            hidden_from_judges: spec.hidden_from_judges || spec.personal,
            tags: spec.tags.clone(),
            scope,
            kind,
            show_if: None,
        }
    }

    /// Reports each constraint given to a field type it does not apply to.
    fn constraints_fit(&mut self, spec: &FieldSpec, pointer: &str) {
        let t = spec.field_type;
        let choice = matches!(t, FieldType::SingleChoice | FieldType::MultipleChoice);
        let given: [(&str, bool, bool); 14] = [
            ("min", spec.min.is_some(), t.is_numeric()),
            ("max", spec.max.is_some(), t.is_numeric()),
            ("min_length", spec.min_length.is_some(), t.is_text()),
            ("max_length", spec.max_length.is_some(), t.is_text()),
            ("pattern", spec.pattern.is_some(), t.is_text()),
            (
                "min_items",
                spec.min_items.is_some(),
                matches!(t, FieldType::MultipleChoice | FieldType::List),
            ),
            (
                "max_items",
                spec.max_items.is_some(),
                matches!(t, FieldType::MultipleChoice | FieldType::List),
            ),
            (
                "not_before",
                spec.not_before.is_some(),
                t == FieldType::Date,
            ),
            ("not_after", spec.not_after.is_some(), t == FieldType::Date),
            ("options", !spec.options.is_empty(), choice),
            ("item", spec.item.is_some(), t == FieldType::List),
            ("fields", !spec.fields.is_empty(), t == FieldType::Group),
            ("accept", !spec.accept.is_empty(), t == FieldType::File),
            ("max_bytes", spec.max_bytes.is_some(), t == FieldType::File),
        ];
        for (name, present, fits) in given {
            if present && !fits {
                self.push(
                    Diagnostic::error(
                        Code::Field,
                        format!("{pointer}/{name}"),
                        format!("`{name}` does not apply to a `{}` field", t.as_str()),
                    )
                    .with_hint(format!("remove `{name}`, or change the field's `type`")),
                );
            }
        }
    }

    fn items_order(&mut self, spec: &FieldSpec, pointer: &str) {
        self.order(
            spec.min_items.map(u64::from),
            spec.max_items.map(u64::from),
            pointer,
            "min_items",
            "max_items",
        );
    }

    fn order(&mut self, min: Option<u64>, max: Option<u64>, pointer: &str, lo: &str, hi: &str) {
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            self.error(
                Code::Field,
                format!("{pointer}/{hi}"),
                format!("`{hi}` ({max}) is below `{lo}` ({min})"),
            );
        }
    }

    fn pattern(&mut self, pattern: &str, pointer: &str) {
        let schema = serde_json::json!({ "type": "string", "pattern": pattern });
        if let Err(e) = jsonschema::validator_for(&schema) {
            self.push(
                Diagnostic::error(
                    Code::Field,
                    pointer,
                    format!("`{pattern}` is not a valid regular expression: {e}"),
                )
                .with_hint("patterns use ECMA-262 regular expression syntax, as in JSON Schema"),
            );
        }
    }

    pub(super) fn scope(&mut self, applies_to: Option<&AppliesTo>, pointer: &str) -> Scope {
        let Some(a) = applies_to else {
            return Scope::default();
        };
        for (i, c) in a.categories.iter().enumerate() {
            self.category_ref(c.as_str(), &format!("{pointer}/categories/{i}"));
        }
        for (i, t) in a.applicant_types.iter().enumerate() {
            self.applicant_type_ref(t.as_str(), &format!("{pointer}/applicant_types/{i}"));
        }
        Scope {
            categories: a.categories.clone(),
            applicant_types: a.applicant_types.clone(),
        }
    }

    pub(super) fn applicant_types(&mut self) -> Vec<ApplicantType> {
        let def = self.def;
        self.unique(
            def.applicant_types
                .iter()
                .map(|t| t.id.as_str())
                .enumerate(),
            |i| format!("/applicant_types/{i}/id"),
            "applicant type",
        );
        let mut out = Vec::new();
        for (i, t) in def.applicant_types.iter().enumerate() {
            let pointer = format!("/applicant_types/{i}");
            self.text(&t.name, &format!("{pointer}/name"));
            self.opt_text(t.description.as_ref(), &format!("{pointer}/description"));
            for (j, f) in t.requires.iter().enumerate() {
                let known = self.all_field_paths();
                self.reference(
                    known.iter().map(String::as_str),
                    f.as_str(),
                    &format!("{pointer}/requires/{j}"),
                    "field",
                );
            }
            if !def
                .categories
                .iter()
                .any(|c| c.applicant_types.iter().any(|a| a == &t.id))
            {
                self.push(
                    Diagnostic::warning(
                        Code::Category,
                        format!("{pointer}/id"),
                        format!("no category admits applicant type `{}`", t.id),
                    )
                    .with_hint("add it to some category's `applicant_types`, or remove it"),
                );
            }
            out.push(ApplicantType {
                id: t.id.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
                requires: t.requires.clone(),
            });
        }
        out
    }

    /// Every field path of the award, award-wide and of any category.
    fn all_field_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.award_fields.keys().cloned().collect();
        for c in self.category_fields.values() {
            paths.extend(c.keys().cloned());
        }
        paths.sort();
        paths.dedup();
        paths
    }
}

fn placeholder(spec: &FieldSpec) -> Field {
    Field {
        id: spec.id.clone(),
        label: spec.label.clone(),
        help: None,
        required: false,
        personal: false,
        hidden_from_judges: false,
        tags: Vec::new(),
        scope: Scope::default(),
        kind: FieldKind::Boolean,
        show_if: None,
    }
}

/// The field ids a condition reads, and whether it calls a plugin.
fn reads(c: &ConditionSpec, out: &mut Vec<String>) -> bool {
    match c {
        ConditionSpec::Equals(e) => out.push(e.field.to_string()),
        ConditionSpec::In(e) => out.push(e.field.to_string()),
        ConditionSpec::Compare(e) => out.push(e.field.to_string()),
        ConditionSpec::Before(e) | ConditionSpec::After(e) => out.push(e.field.to_string()),
        ConditionSpec::Present(f) | ConditionSpec::Absent(f) => out.push(f.to_string()),
        ConditionSpec::Count(e) => out.push(e.field.to_string()),
        ConditionSpec::ApplicantType(_) | ConditionSpec::Category(_) => {}
        ConditionSpec::All(cs) | ConditionSpec::Any(cs) => {
            let mut plugin = false;
            for c in cs {
                plugin |= reads(c, out);
            }
            return plugin;
        }
        ConditionSpec::Not(c) => return reads(c, out),
        ConditionSpec::Plugin(_) => return true,
        ConditionSpec::Formula(text) => {
            // `fields.a.b`: the top-level ids it names.
            for (i, _) in text.match_indices("fields.") {
                let rest = &text[i + "fields.".len()..];
                let id: String = rest
                    .chars()
                    .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_' || *ch == '-')
                    .collect();
                out.push(id);
            }
        }
    }
    false
}

impl Checker<'_> {
    /// Lowers the `show_if` of the form's top-level questions, each against the fields its
    /// application has (the award's, and its category's own), once every field is known.
    pub(super) fn conditional_questions(
        &mut self,
        award: &mut [Field],
        categories: &mut [Category],
    ) {
        let def = self.def;
        let award_fields = self.award_fields.clone();
        for (i, spec) in def.form.fields.iter().enumerate() {
            let Some(c) = &spec.show_if else { continue };
            let lowered =
                self.show_if(c, &format!("/form/fields/{i}/show_if"), spec, &award_fields);
            if let Some(f) = award.iter_mut().find(|f| f.id == spec.id) {
                f.show_if = Some(lowered);
            }
        }
        for (ci, cat) in def.categories.iter().enumerate() {
            let mut fields = award_fields.clone();
            if let Some(own) = self.category_fields.get(cat.id.as_str()) {
                fields.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            for (i, spec) in cat.fields.iter().enumerate() {
                let Some(c) = &spec.show_if else { continue };
                let pointer = format!("/categories/{ci}/fields/{i}/show_if");
                let lowered = self.show_if(c, &pointer, spec, &fields);
                if let Some(f) = categories
                    .iter_mut()
                    .find(|x| x.id == cat.id)
                    .and_then(|x| x.fields.iter_mut().find(|f| f.id == spec.id))
                {
                    f.show_if = Some(lowered);
                }
            }
        }
        self.nested_conditions(&def.form.fields, "/form/fields");
        for (ci, cat) in def.categories.iter().enumerate() {
            self.nested_conditions(&cat.fields, &format!("/categories/{ci}/fields"));
        }
    }

    /// A condition on a nested field is refused: questions are shown or not as a whole.
    fn nested_conditions(&mut self, specs: &[FieldSpec], base: &str) {
        for (i, spec) in specs.iter().enumerate() {
            let inner = spec.fields.iter().chain(spec.item.as_deref());
            for (j, f) in inner.enumerate() {
                if f.show_if.is_some() {
                    self.error(
                        Code::Condition,
                        format!("{base}/{i}/fields/{j}/show_if"),
                        "`show_if` is for the form's top-level questions: put it on the group or list that holds this field",
                    );
                }
            }
        }
    }

    fn show_if(
        &mut self,
        c: &ConditionSpec,
        pointer: &str,
        spec: &FieldSpec,
        fields: &BTreeMap<String, FieldInfo>,
    ) -> crate::definition::model::Condition {
        let mut read = Vec::new();
        if reads(c, &mut read) {
            self.error(
                Code::Condition,
                pointer,
                "a question's `show_if` is decided as the applicant types: it cannot call a plugin",
            );
        }
        let own = spec.id.as_str();
        if read.iter().any(|r| r.split('.').next() == Some(own)) {
            self.error(
                Code::Condition,
                pointer,
                format!("`show_if` of `{own}` reads `{own}` itself: a question cannot depend on its own answer"),
            );
        }
        self.condition(c, pointer, fields)
    }
}
