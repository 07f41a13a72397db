//! An entry's name: what people call an application in lists, queues, mails and exports,
//! read from the form field that names it. A rubric marks that field with the tag `title`;
//! without one, a text field whose id is `title` or ends in `_title` names the entry. A
//! personal field never does (its value is sealed and never shown to judges).

use serde_json::Value;

use crate::definition::model::{Award, Field, FieldKind, TextFormat};

/// The tag that marks the field naming an entry.
pub const TITLE_TAG: &str = "title";

/// The longest name shown; a longer value is cut at a character boundary with an ellipsis.
const SHOWN_CHARS: usize = 120;

fn one_line_text(field: &Field) -> bool {
    matches!(
        field.kind,
        FieldKind::Text {
            format: TextFormat::Short | TextFormat::Long,
            ..
        }
    ) && !field.personal
}

impl Award {
    /// The fields that may name an entry of `category`, best first: those tagged `title`, then
    /// text fields called `title` or `…_title`; within each, the category's own fields, then
    /// the award's fields that apply to it by name, then those that apply to every category.
    /// Only fields in scope for the category, never personal ones.
    pub fn title_fields(&self, category: &str) -> Vec<&Field> {
        let own = self.category(category).map(|c| c.fields.as_slice());
        let mut fields: Vec<(u8, &Field)> = own
            .into_iter()
            .flatten()
            .map(|f| (0, f))
            .chain(self.fields.iter().map(|f| {
                let named = f.scope.categories.iter().any(|c| c.as_str() == category);
                (if named { 1 } else { 2 }, f)
            }))
            .filter(|(_, f)| {
                one_line_text(f)
                    && (f.scope.categories.is_empty()
                        || f.scope.categories.iter().any(|c| c.as_str() == category))
            })
            .filter_map(|(specific, f)| {
                let id = f.id.as_str();
                let rank = if f.tags.iter().any(|t| t == TITLE_TAG) {
                    0
                } else if id == "title" || id.ends_with("_title") {
                    1
                } else {
                    return None;
                };
                Some((rank * 3 + specific, f))
            })
            .collect();
        // A stable sort: fields of one rank keep the form's order.
        fields.sort_by_key(|(order, _)| *order);
        fields.into_iter().map(|(_, f)| f).collect()
    }
}

/// The name of an entry of `category` whose form values are `fields` (an object of field ids
/// to values), as people see it: the first of [`Award::title_fields`] it filled in, on one
/// line, at most 120 characters. `None` when none is filled in or visible (callers then show
/// its id).
pub fn entry_title(award: &Award, category: &str, fields: &Value) -> Option<String> {
    let line = award.title_fields(category).into_iter().find_map(|field| {
        let text = fields.get(field.id.as_str())?.as_str()?;
        let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!line.is_empty()).then_some(line)
    })?;
    Some(if line.chars().count() > SHOWN_CHARS {
        let cut: String = line.chars().take(SHOWN_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        line
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    struct NoFiles;
    impl crate::PluginFiles for NoFiles {
        fn read(&self, _: &str) -> std::io::Result<Vec<u8>> {
            Err(std::io::ErrorKind::NotFound.into())
        }
    }

    fn award(fields: serde_json::Value) -> crate::Award {
        let mut d: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/valid/minimal.award.json")).unwrap();
        let list = d["form"]["fields"].as_array_mut().unwrap();
        list.extend(fields.as_array().unwrap().iter().cloned());
        let report = crate::check_definition(&d.to_string(), &NoFiles);
        report
            .award
            .unwrap_or_else(|| panic!("{:?}", report.diagnostics))
    }

    fn text(id: &str, extra: serde_json::Value) -> serde_json::Value {
        let mut f = json!({ "id": id, "type": "short_text", "label": { "en": id } });
        for (k, v) in extra.as_object().unwrap() {
            f[k] = v.clone();
        }
        f
    }

    #[test]
    fn the_tagged_field_names_the_entry_then_a_title_by_its_id() {
        let a = award(json!([
            text("city_title", json!({})),
            text("name", json!({ "tags": ["title"] })),
        ]));
        let fields = json!({ "city_title": "Lyon", "name": "  Open\n data   for all " });
        assert_eq!(
            super::entry_title(&a, "any", &fields).as_deref(),
            Some("Open data for all")
        );
        let a = award(json!([
            text("blurb", json!({})),
            text("project_title", json!({}))
        ]));
        assert_eq!(
            super::entry_title(&a, "any", &json!({ "project_title": "Lyon" })).as_deref(),
            Some("Lyon")
        );
        assert_eq!(
            super::entry_title(&a, "any", &json!({ "project_title": " " })),
            None
        );
    }

    #[test]
    fn the_field_named_for_the_category_comes_before_the_general_one() {
        let a = award(json!([
            text("applicant_name", json!({ "tags": ["title"] })),
            text(
                "project_title",
                json!({ "tags": ["title"], "applies_to": { "categories": ["innovation"] } })
            ),
        ]));
        let both = json!({ "applicant_name": "Seoul", "project_title": "Smart poles" });
        assert_eq!(
            super::entry_title(&a, "innovation", &both).as_deref(),
            Some("Smart poles")
        );
        // Hidden or left out, the next one names it.
        let one = json!({ "applicant_name": "Seoul" });
        assert_eq!(
            super::entry_title(&a, "innovation", &one).as_deref(),
            Some("Seoul")
        );
    }

    #[test]
    fn a_personal_field_never_names_an_entry_and_long_names_are_cut() {
        let a = award(json!([text(
            "title",
            json!({ "personal": true, "tags": ["title"] })
        )]));
        assert_eq!(
            super::entry_title(&a, "any", &json!({ "title": "Kim" })),
            None
        );
        let a = award(json!([text("title", json!({}))]));
        let long = "é".repeat(300);
        let shown = super::entry_title(&a, "any", &json!({ "title": long })).unwrap();
        assert_eq!(shown.chars().count(), 120);
        assert!(shown.ends_with('…'));
    }
}
