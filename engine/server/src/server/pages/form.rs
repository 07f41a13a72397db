//! An application form generated from an award's form definition: every field type, only the
//! fields in scope of the chosen category and applicant type, repeated items, files; each
//! problem the API located shown next to its field. And the way back: the posted form read
//! into the application's JSON by the same definitions.

use std::collections::BTreeMap;

use laurel::{Award, Field, FieldKind, TextFormat};
use maud::{Markup, html};
use serde_json::{Map, Value};

use super::Ctx;

/// What a form shows: the values so far and the problems found, by dotted path.
pub struct Filled<'a> {
    /// The application's `fields`.
    pub values: &'a Value,
    /// Messages by dotted path (`contact.email`, `supporting_documents.0`).
    pub problems: &'a BTreeMap<String, Vec<String>>,
    /// How many items each list shows, by dotted path.
    pub items: &'a BTreeMap<String, usize>,
    /// Paths the chosen applicant type must fill in (starred, as required fields are).
    pub required: &'a [String],
}

/// The paths an applicant type must fill in besides the fields marked required.
pub fn required_by(award: &Award, applicant_type: &str) -> Vec<String> {
    award
        .applicant_type(applicant_type)
        .map(|t| t.requires.iter().map(|f| f.as_str().to_owned()).collect())
        .unwrap_or_default()
}

/// A checker's message in the page's language: the kinds of problem a form shows most, by
/// what the message says; English pages keep the checker's own, more precise, words, and
/// other languages show them after the translation.
pub fn localized(ctx: &Ctx, message: &str) -> String {
    const KINDS: &[(&str, &str)] = &[
        ("missing required property", "form.missing"),
        ("is shorter than", "form.too_short"),
        ("is longer than", "form.too_long"),
        ("less than the minimum", "form.too_small"),
        ("greater than the maximum", "form.too_large"),
        ("is not an e-mail address", "form.bad_email"),
        ("is not an absolute URL", "form.bad_url"),
        ("is not a date", "form.bad_date"),
        ("does not match the pattern", "form.bad_pattern"),
        ("is not a number", "form.wrong_type"),
        ("is not one of", "form.not_an_option"),
        ("expected ", "form.wrong_type"),
    ];
    if ctx.lang == "en" {
        return message.to_owned();
    }
    match KINDS.iter().find(|(needle, _)| message.contains(needle)) {
        Some((_, key)) => format!("{} ({message})", ctx.t(key)),
        None => message.to_owned(),
    }
}

/// A JSON pointer into `fields` as a dotted path (`/fields/contact/email` → `contact.email`).
pub fn path_of(pointer: &str) -> Option<String> {
    let rest = pointer.strip_prefix("/fields")?;
    Some(rest.trim_start_matches('/').replace('/', "."))
}

/// The fields an application of `category` and `applicant_type` fills in, in order.
pub fn fields_in_scope<'a>(
    award: &'a Award,
    category: &str,
    applicant_type: &str,
) -> Vec<&'a Field> {
    award
        .fields
        .iter()
        .chain(
            award
                .category(category)
                .map(|c| c.fields.iter())
                .into_iter()
                .flatten(),
        )
        .filter(|f| f.scope.includes(category, applicant_type))
        .collect()
}

/// The label of a top-level field of an application of `category`, in the page's language (its
/// id when the rubric has no such field).
pub fn label_of(ctx: &Ctx, award: &Award, category: &str, id: &str) -> String {
    field_of(award, category, id).map_or_else(|| id.to_owned(), |f| label(ctx, award, f))
}

/// The top-level field `id` of the award's form or of `category`'s.
fn field_of<'a>(award: &'a Award, category: &str, id: &str) -> Option<&'a Field> {
    award
        .fields
        .iter()
        .chain(
            award
                .category(category)
                .map(|c| c.fields.iter())
                .into_iter()
                .flatten(),
        )
        .find(|f| f.id.as_str() == id)
}

/// A stored field value as its reader knows it: a country's name in their language rather than
/// its code, a choice's label rather than its value, yes or no rather than `true`, through groups
/// and lists.
pub fn shown_value(ctx: &Ctx, award: &Award, category: &str, id: &str, v: &Value) -> Value {
    match field_of(award, category, id) {
        Some(f) => shown(ctx, award, f, v),
        None => v.clone(),
    }
}

fn shown(ctx: &Ctx, award: &Award, f: &Field, v: &Value) -> Value {
    match (&f.kind, v) {
        (FieldKind::Boolean, Value::Bool(yes)) => {
            Value::String(ctx.t(if *yes { "form.yes" } else { "form.no" }).to_owned())
        }
        (FieldKind::Country, Value::String(code)) => Value::String(
            laurel::country_name(code, &ctx.lang)
                .unwrap_or(code)
                .to_owned(),
        ),
        (FieldKind::Choice { options, .. }, Value::String(_) | Value::Array(_)) => {
            let label = |x: &Value| {
                options
                    .iter()
                    .find(|o| x.as_str() == Some(o.value.as_str()))
                    .map_or_else(
                        || x.clone(),
                        |o| {
                            Value::String(
                                o.label.get(&ctx.lang, &award.default_language).to_owned(),
                            )
                        },
                    )
            };
            match v {
                Value::Array(items) => Value::Array(items.iter().map(label).collect()),
                other => label(other),
            }
        }
        (FieldKind::List { item, .. }, Value::Array(items)) => {
            Value::Array(items.iter().map(|i| shown(ctx, award, item, i)).collect())
        }
        (FieldKind::Group { fields }, Value::Object(map)) => Value::Object(
            map.iter()
                .map(|(k, x)| {
                    let shown = fields
                        .iter()
                        .find(|g| g.id.as_str() == k)
                        .map_or_else(|| x.clone(), |g| shown(ctx, award, g, x));
                    (k.clone(), shown)
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// A value as [`shown_value`] shows it, for a field of the form or of any category's.
fn shown_anywhere(ctx: &Ctx, award: &Award, path: &str, v: &Value) -> String {
    let shown = std::iter::once("")
        .chain(award.categories.iter().map(|c| c.id.as_str()))
        .map(|c| shown_value(ctx, award, c, path, v))
        .find(|s| s != v)
        .unwrap_or_else(|| v.clone());
    match shown {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// `prefix.id`, or `id` at the top.
fn joined(prefix: &str, id: &str) -> String {
    if prefix.is_empty() {
        id.to_owned()
    } else {
        format!("{prefix}.{id}")
    }
}

fn id_of(path: &str) -> String {
    format!("f-{}", path.replace('.', "-"))
}

fn label(ctx: &Ctx, award: &Award, f: &Field) -> String {
    f.label.get(&ctx.lang, &award.default_language).to_owned()
}

/// The inputs of `fields`, under `prefix`.
pub fn render(
    ctx: &Ctx,
    award: &Award,
    fields: &[&Field],
    prefix: &str,
    filled: &Filled<'_>,
) -> Markup {
    html! {
        @for f in fields {
            @let path = joined(prefix, f.id.as_str());
            (super::conditions::wrap(ctx, award, f, one(ctx, award, f, &path, filled), &|p, v| shown_anywhere(ctx, award, p, v)))
        }
    }
}

/// The form's fields as its sections hold them: each section a titled part with its
/// description and fields (those in `fields`: the chosen category's and applicant type's),
/// after a list of the sections where the page counts, as answers are given, how far each is
/// (laurel.js). Without sections, the fields as they come.
pub fn render_sections(ctx: &Ctx, award: &Award, fields: &[&Field], filled: &Filled<'_>) -> Markup {
    if award.sections.is_empty() {
        return render(ctx, award, fields, "", filled);
    }
    let words = |t: &laurel::Text| t.get(&ctx.lang, &award.default_language).to_owned();
    let parts: Vec<(&laurel::wire::SectionSpec, Vec<&Field>)> = award
        .sections
        .iter()
        .map(|section| {
            let held: Vec<&Field> = section
                .fields
                .iter()
                .filter_map(|id| fields.iter().find(|f| f.id == *id).copied())
                .collect();
            (section, held)
        })
        .filter(|(_, held)| !held.is_empty())
        .collect();
    // A field no section holds (none, in a checked award) still shows, last.
    let rest: Vec<&Field> = fields
        .iter()
        .filter(|f| !award.sections.iter().any(|s| s.fields.contains(&f.id)))
        .copied()
        .collect();
    html! {
        nav.form-sections aria-labelledby="h-sections" data-template=(ctx.t("form.section_progress")) {
            h2 #h-sections { (ctx.t("form.sections")) }
            ul {
                @for (n, (section, _)) in parts.iter().enumerate() {
                    li { a href={ "#section-" (section.id) } { (ctx.tf("form.section_n", &[("n", &(n + 1).to_string()), ("of", &parts.len().to_string())])) " " (words(&section.title)) }
                        " " span.section-progress data-section-progress=(section.id) {} }
                }
            }
        }
        @for (section, held) in &parts {
            section.form-section id={ "section-" (section.id) } data-section=(section.id) aria-labelledby={ "h-section-" (section.id) } {
                h2 id={ "h-section-" (section.id) } { (words(&section.title)) }
                @if let Some(d) = &section.description { p.hint { (words(d)) } }
                (render(ctx, award, held, "", filled))
            }
        }
        @if !rest.is_empty() { (render(ctx, award, &rest, "", filled)) }
    }
}

fn value_at<'v>(values: &'v Value, path: &str) -> &'v Value {
    path.split('.')
        .fold(values, |v, part| match part.parse::<usize>() {
            Ok(i) => v.get(i).unwrap_or(&Value::Null),
            Err(_) => v.get(part).unwrap_or(&Value::Null),
        })
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn problems_of(path: &str, filled: &Filled<'_>) -> Vec<String> {
    filled.problems.get(path).cloned().unwrap_or_default()
}

fn one(ctx: &Ctx, award: &Award, f: &Field, path: &str, filled: &Filled<'_>) -> Markup {
    let id = id_of(path);
    let name = format!("f.{path}");
    let value = value_at(filled.values, path);
    let problems = problems_of(path, filled);
    let invalid = !problems.is_empty();
    let described = format!("{id}-help {id}-problems");
    let help = f
        .help
        .as_ref()
        .map(|h| h.get(&ctx.lang, &award.default_language).to_owned());
    let label_text = label(ctx, award, f);
    let required = f.required || filled.required.iter().any(|p| p == path);
    let head = html! {
        (label_text)
        @if required { " " span aria-hidden="true" { "*" } span.skip { (ctx.t("form.required")) } }
    };
    let notes = html! {
        @if let Some(h) = &help { span.hint id={ (id) "-help" } { (h) } }
        @if invalid {
            span.error id={ (id) "-problems" } role="alert" {
                (ctx.t("form.fix")) " "
                @for p in &problems { (localized(ctx, p)) " " }
            }
        }
    };
    match &f.kind {
        FieldKind::Group { fields } => {
            let nested: Vec<&Field> = fields.iter().collect();
            html! {
                fieldset {
                    legend { (head) }
                    (notes)
                    (render(ctx, award, &nested, path, filled))
                }
            }
        }
        FieldKind::List {
            item,
            max_items,
            min_items,
        } => {
            let present = value.as_array().map_or(0, Vec::len);
            let shown = filled
                .items
                .get(path)
                .copied()
                .unwrap_or(0)
                .max(present)
                .max(min_items.unwrap_or(0) as usize)
                .max(1);
            let shown = max_items.map_or(shown, |m| shown.min(m as usize));
            html! {
                fieldset {
                    legend { (head) }
                    (notes)
                    @for i in 0..shown {
                        @let item_path = format!("{path}.{i}");
                        div.item {
                            (one(ctx, award, item, &item_path, filled))
                        }
                    }
                    input type="hidden" name={ "items." (path) } value=(shown);
                    @if max_items.is_none_or(|m| (shown as u32) < m) {
                        button.secondary type="submit" name="more" value=(path) formnovalidate { (ctx.t("form.add_item")) }
                    }
                }
            }
        }
        FieldKind::Choice {
            multiple: true,
            options,
            ..
        } => {
            let chosen: Vec<String> = value
                .as_array()
                .map(|a| a.iter().map(text_of).collect())
                .unwrap_or_default();
            html! {
                fieldset aria-describedby=(described) aria-invalid=[invalid.then_some("true")] {
                    legend { (head) }
                    (notes)
                    @for (i, o) in options.iter().enumerate() {
                        label.choice for={ (id) "-" (i) } {
                            input type="checkbox" id={ (id) "-" (i) } name=(name) value=(o.value) checked[chosen.contains(&o.value)];
                            (o.label.get(&ctx.lang, &award.default_language))
                        }
                    }
                }
            }
        }
        FieldKind::File { accept, .. } => {
            let existing = value
                .get("sha256")
                .and_then(Value::as_str)
                .map(str::to_owned);
            html! {
                div.field {
                    label for=(id) { (head) }
                    (notes)
                    @if let Some(sha) = &existing {
                        p.hint { (ctx.t("form.file_kept")) " " (text_of(&value["name"])) }
                        input type="hidden" name={ (name) ".name" } value=(text_of(&value["name"]));
                        input type="hidden" name={ (name) ".media_type" } value=(text_of(&value["media_type"]));
                        input type="hidden" name={ (name) ".sha256" } value=(sha);
                        // Removed by this box, replaced by choosing another file below.
                        label.choice for={ (id) "-remove" } {
                            input #{ (id) "-remove" } type="checkbox" name={ (name) ".remove" } value="1";
                            (ctx.t("form.file_remove"))
                        }
                    }
                    // Where script runs, the file uploads on its own as soon as it is chosen
                    // (with its progress) and the form carries only its reference; without
                    // script, it travels with the form.
                    input type="file" id=(id) name={ "file." (path) } accept=(accept.join(","))
                        data-upload={ "/v1/awards/" (award.id) "/uploads?field=" (path.split('.').next().unwrap_or_default()) }
                        data-ref=(name) required[required]
                        aria-describedby=(described) aria-invalid=[invalid.then_some("true")];
                    span.upload-status id={ (id) "-upload" } role="status" aria-live="polite" data-sending=(ctx.t("form.upload_sending")) data-sent=(ctx.t("form.upload_sent")) {}
                }
            }
        }
        kind => {
            let v = text_of(value);
            html! {
                div.field {
                    label for=(id) { (head) }
                    (notes)
                    (input(ctx, award, kind, &id, &name, &v, required, invalid, &described))
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn input(
    ctx: &Ctx,
    award: &Award,
    kind: &FieldKind,
    id: &str,
    name: &str,
    v: &str,
    required: bool,
    invalid: bool,
    described: &str,
) -> Markup {
    let inv = invalid.then_some("true");
    match kind {
        FieldKind::Text {
            format: TextFormat::Long,
            max_length,
            min_length,
            ..
        } => html! {
            // The script counts characters against these as the applicant types.
            textarea id=(id) name=(name) required[required] maxlength=[max_length] aria-describedby=(described) aria-invalid=[inv]
                data-min=[min_length] data-max=[max_length] data-counter=(ctx.t("form.counter")) { (v) }
        },
        FieldKind::Text {
            format, max_length, ..
        } => {
            let t = match format {
                TextFormat::Email => "email",
                TextFormat::Url => "url",
                _ => "text",
            };
            html! { input type=(t) id=(id) name=(name) value=(v) required[required] maxlength=[max_length] aria-describedby=(described) aria-invalid=[inv]; }
        }
        FieldKind::Number { integer, min, max } => html! {
            input type="number" id=(id) name=(name) value=(v) step=(if *integer { "1" } else { "any" })
                min=[min.map(|m| m.to_string())] max=[max.map(|m| m.to_string())]
                required[required] aria-describedby=(described) aria-invalid=[inv];
        },
        FieldKind::Date {
            not_before,
            not_after,
        } => html! {
            input type="date" id=(id) name=(name) value=(v) min=[not_before.map(|d| d.to_string())] max=[not_after.map(|d| d.to_string())]
                required[required] aria-describedby=(described) aria-invalid=[inv];
        },
        FieldKind::Boolean => html! {
            select id=(id) name=(name) required[required] aria-describedby=(described) aria-invalid=[inv] {
                option value="" { "—" }
                option value="true" selected[v == "true"] { (ctx.t("form.yes")) }
                option value="false" selected[v == "false"] { (ctx.t("form.no")) }
            }
        },
        FieldKind::Choice { options, .. } => html! {
            select id=(id) name=(name) required[required] aria-describedby=(described) aria-invalid=[inv] {
                option value="" { "—" }
                @for o in options {
                    option value=(o.value) selected[v == o.value] { (o.label.get(&ctx.lang, &award.default_language)) }
                }
            }
        },
        // Countries by name in the reader's language; the value sent is the code.
        FieldKind::Country => html! {
            select id=(id) name=(name) required[required] aria-describedby=(described) aria-invalid=[inv] autocomplete="country" {
                option value="" { "—" }
                @for (code, country) in laurel::countries_in(&ctx.lang) {
                    option value=(code) selected[v == code] { (country) }
                }
            }
        },
        _ => {
            html! { input type="text" id=(id) name=(name) value=(v) aria-describedby=(described) aria-invalid=[inv]; }
        }
    }
}

/// The posted values, by name (a name may come several times: checkboxes).
pub type Posted = BTreeMap<String, Vec<String>>;

/// Reads the posted form into `fields` by the definitions: numbers and booleans typed, empty
/// inputs left out (so the checker says what is missing, where), lists in their order.
pub fn read(fields: &[&Field], posted: &Posted, prefix: &str) -> Value {
    let mut out = Map::new();
    for f in fields {
        let path = joined(prefix, f.id.as_str());
        if let Some(v) = read_one(f, posted, &path) {
            out.insert(f.id.as_str().to_owned(), v);
        }
    }
    Value::Object(out)
}

fn first<'p>(posted: &'p Posted, name: &str) -> Option<&'p str> {
    posted
        .get(name)
        .and_then(|v| v.first())
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn read_one(f: &Field, posted: &Posted, path: &str) -> Option<Value> {
    let name = format!("f.{path}");
    match &f.kind {
        FieldKind::Group { fields } => {
            let nested: Vec<&Field> = fields.iter().collect();
            let v = read(&nested, posted, path);
            (v.as_object().is_some_and(|m| !m.is_empty())).then_some(v)
        }
        FieldKind::List { item, .. } => {
            let count = first(posted, &format!("items.{path}"))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0)
                .min(1_000);
            let items: Vec<Value> = (0..count)
                .filter_map(|i| read_one(item, posted, &format!("{path}.{i}")))
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        FieldKind::Choice { multiple: true, .. } => {
            let chosen: Vec<Value> = posted
                .get(&name)
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.clone()))
                .collect();
            (!chosen.is_empty()).then_some(Value::Array(chosen))
        }
        FieldKind::File { .. } => {
            if first(posted, &format!("{name}.remove")).is_some() {
                return None;
            }
            let sha = first(posted, &format!("{name}.sha256"))?;
            Some(serde_json::json!({
                "name": first(posted, &format!("{name}.name")).unwrap_or("file"),
                "media_type": first(posted, &format!("{name}.media_type")).unwrap_or("application/octet-stream"),
                "sha256": sha,
            }))
        }
        FieldKind::Number { .. } => {
            let text = first(posted, &name)?.trim();
            // A number as written (exact), or the text, for the checker to locate.
            Some(
                serde_json::from_str::<serde_json::Number>(text)
                    .map_or_else(|_| Value::String(text.to_owned()), Value::Number),
            )
        }
        FieldKind::Boolean => match first(posted, &name)? {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            other => Some(Value::String(other.to_owned())),
        },
        _ => first(posted, &name).map(|s| Value::String(s.to_owned())),
    }
}

/// Every file input of the form: its dotted path and the top-level field it uploads to.
pub fn file_inputs(
    fields: &[&Field],
    prefix: &str,
    items: &BTreeMap<String, usize>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in fields {
        let path = joined(prefix, f.id.as_str());
        let top = path.split('.').next().unwrap_or_default().to_owned();
        match &f.kind {
            FieldKind::File { .. } => out.push((path, top)),
            FieldKind::List { item, .. } if matches!(item.kind, FieldKind::File { .. }) => {
                let n = items.get(&path).copied().unwrap_or(0);
                out.extend((0..n).map(|i| (format!("{path}.{i}"), top.clone())));
            }
            FieldKind::Group { fields } => {
                let nested: Vec<&Field> = fields.iter().collect();
                out.extend(file_inputs(&nested, &path, items));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(lang: &str) -> Ctx {
        Ctx {
            lang: lang.to_owned(),
            person: None,
            csrf: String::new(),
            session: None,
            client: None,
            path: "/".to_owned(),
            provider: None,
        }
    }

    #[test]
    fn checker_messages_are_said_in_the_pages_language() {
        let m = "\"ab\" is shorter than 100 characters";
        assert_eq!(
            localized(&ctx("en"), m),
            m,
            "English keeps the precise words"
        );
        assert_eq!(localized(&ctx("ko"), m), format!("너무 짧습니다. ({m})"));
        let unknown = "something the table does not know";
        assert_eq!(localized(&ctx("ko"), unknown), unknown);
    }

    #[test]
    fn posted_forms_read_back_typed_by_the_definitions() {
        let source = include_str!("../../../../../tests/valid/minimal.award.json");
        let award = laurel::check_definition(source, &|_: &str| Err(std::io::Error::other("none")))
            .award
            .unwrap();
        let fields = fields_in_scope(&award, "innovation", "company");
        let mut posted = Posted::new();
        for (k, v) in [
            ("f.population", "12000"),
            ("f.employees", "40.5"),
            ("f.summary", ""),
            ("f.level", "local"),
            ("f.contact.email", "a@b.org"),
        ] {
            posted.insert(k.to_owned(), vec![v.to_owned()]);
        }
        let v = read(&fields, &posted, "");
        assert_eq!(
            v,
            serde_json::json!({ "population": 12000, "employees": 40.5, "level": "local", "contact": { "email": "a@b.org" } }),
            "numbers typed, empty inputs left out, groups nested"
        );
        assert_eq!(
            path_of("/fields/contact/email").as_deref(),
            Some("contact.email")
        );
    }
}
