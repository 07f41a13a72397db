//! Laurel's own words that applicants read (the built-in eligibility rules, the application
//! schema's descriptions), from the catalogue (`crate::words`) in the languages Laurel knows;
//! an award in another language gets them in English.

use std::collections::BTreeMap;

use crate::definition::model::Award;
use crate::text::Text;

/// A placeholder's name and its value in a language.
pub(crate) type Arg<'a> = (&'a str, &'a dyn Fn(&str) -> String);

/// A message of Laurel's: its key in the catalogue (`engine/locales/`), with `{name}`
/// placeholders.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Builtin(&'static str);

pub(crate) const CATEGORY_ADMITS: Builtin = Builtin("rule.category_admits");
pub(crate) const UNKNOWN_CATEGORY: Builtin = Builtin("rule.unknown_category");
pub(crate) const PLUGIN_UNCHECKED: Builtin = Builtin("rule.plugin_unchecked");
pub(crate) const SCHEMA_TITLE: Builtin = Builtin("schema.title");
pub(crate) const SCHEMA_ID: Builtin = Builtin("schema.id");
pub(crate) const SCHEMA_CATEGORY: Builtin = Builtin("schema.category");
pub(crate) const SCHEMA_APPLICANT_TYPE: Builtin = Builtin("schema.applicant_type");

impl Builtin {
    /// The message in `language` (English when Laurel does not know it), placeholders filled
    /// by `args` (each a function of the language, for values that are translated too).
    pub(crate) fn render(&self, language: &str, args: &[Arg<'_>]) -> String {
        let mut out = crate::words::t(language, self.0).to_owned();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), &value(language));
        }
        out
    }

    /// The message in each of the award's languages.
    pub(crate) fn text(&self, award: &Award, args: &[Arg<'_>]) -> Text {
        let mut map = BTreeMap::new();
        for language in std::iter::once(&award.default_language).chain(award.languages.iter()) {
            map.entry(language.clone())
                .or_insert_with(|| self.render(language, args));
        }
        if map.len() == 1 {
            return Text::Plain(map.into_values().next().unwrap_or_default());
        }
        Text::Translated(map)
    }
}
