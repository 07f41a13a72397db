//! Conditional questions on the form: a question with `show_if` is wrapped with its condition,
//! which `laurel.js` reads to show or hide it as the applicant answers; without script it stays
//! on the page with its condition in words. What a hidden question held is dropped before the
//! application is saved or sent (the server refuses it anyway).

use laurel::{Award, Condition, Field};
use maud::{Markup, html};
use serde_json::Value;

use super::Ctx;

/// A top-level field of the form or of any category's.
fn field_anywhere<'a>(award: &'a Award, id: &str) -> Option<&'a Field> {
    award
        .fields
        .iter()
        .chain(award.categories.iter().flat_map(|c| c.fields.iter()))
        .find(|f| f.id.as_str() == id)
}

fn label(ctx: &Ctx, award: &Award, path: &str) -> String {
    let top = path.split('.').next().unwrap_or(path);
    field_anywhere(award, top).map_or_else(
        || path.to_owned(),
        |f| f.label.get(&ctx.lang, &award.default_language).to_owned(),
    )
}

/// How a value of a field is shown: a choice's label, a country's name (the form's, passed in
/// so that this module stands below the form).
pub type Show<'a> = &'a dyn Fn(&str, &Value) -> String;

/// A condition in the reader's words.
pub fn describe(ctx: &Ctx, award: &Award, c: &Condition, value: Show<'_>) -> String {
    let quoted = |s: String| format!("“{s}”");
    match c {
        Condition::Equals { field, value: v } => ctx.tf(
            "form.cond_is",
            &[
                ("field", &quoted(label(ctx, award, field))),
                ("value", &quoted(value(field, v))),
            ],
        ),
        Condition::In { field, values } => ctx.tf(
            "form.cond_in",
            &[
                ("field", &quoted(label(ctx, award, field))),
                (
                    "values",
                    &values
                        .iter()
                        .map(|v| quoted(value(field, v)))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ],
        ),
        Condition::Present(field) => ctx.tf(
            "form.cond_present",
            &[("field", &quoted(label(ctx, award, field)))],
        ),
        Condition::Absent(field) => ctx.tf(
            "form.cond_absent",
            &[("field", &quoted(label(ctx, award, field)))],
        ),
        Condition::Not(inner) => ctx.tf(
            "form.cond_not",
            &[("condition", &describe(ctx, award, inner, value))],
        ),
        Condition::All(all) => all
            .iter()
            .map(|x| describe(ctx, award, x, value))
            .collect::<Vec<_>>()
            .join(ctx.t("form.cond_and")),
        Condition::Any(any) => any
            .iter()
            .map(|x| describe(ctx, award, x, value))
            .collect::<Vec<_>>()
            .join(ctx.t("form.cond_or")),
        _ => ctx.t("form.cond_other").to_owned(),
    }
}

/// `inner`, the question's markup, wrapped with its condition when it has one.
pub fn wrap(ctx: &Ctx, award: &Award, f: &Field, inner: Markup, value: Show<'_>) -> Markup {
    let Some(c) = &f.show_if else {
        return inner;
    };
    let json = serde_json::to_string(c).unwrap_or_default();
    html! {
        div.conditional data-show-if=(json) {
            p.hint.asked-if { (ctx.tf("form.asked_if", &[("condition", &describe(ctx, award, c, value))])) }
            (inner)
        }
    }
}

/// `values` (an application's `fields`) without the answers to questions it is not asked.
pub fn without_unasked(
    award: &Award,
    category: &str,
    applicant_type: &str,
    mut values: Value,
) -> Value {
    let Some(map) = values.as_object() else {
        return values;
    };
    let app = laurel::Application {
        schema: None,
        id: laurel::ApplicationId::new("a-form"),
        category: laurel::CategoryId::new(category),
        applicant_type: laurel::ApplicantTypeId::new(applicant_type),
        fields: map.clone(),
    };
    let unasked = laurel::not_asked(award, &app);
    if let Some(map) = values.as_object_mut() {
        for id in unasked {
            map.remove(&id);
        }
    }
    values
}
