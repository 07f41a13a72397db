//! Text that a person reads, in one language or several.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// The pattern of a language tag (BCP 47, simplified): `en`, `ko`, `pt-BR`.
pub const LANGUAGE_PATTERN: &str = "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$";

/// Text a person reads: either one string in the award's default language, or a map from
/// language tag to translation, which must include the default language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Text {
    /// The text in the award's default language only.
    Plain(String),
    /// Translations keyed by language tag.
    Translated(BTreeMap<String, String>),
}

impl Text {
    /// The text in `language`, falling back to `default`, then to any translation.
    pub fn get<'a>(&'a self, language: &str, default: &str) -> &'a str {
        match self {
            Text::Plain(text) => text,
            Text::Translated(map) => map
                .get(language)
                .or_else(|| map.get(default))
                .or_else(|| map.values().next())
                .map_or("", String::as_str),
        }
    }

    /// The language tags this text is given in (`None` for plain text).
    pub fn languages(&self) -> Option<impl Iterator<Item = &str>> {
        match self {
            Text::Plain(_) => None,
            Text::Translated(map) => Some(map.keys().map(String::as_str)),
        }
    }
}

impl JsonSchema for Text {
    fn schema_name() -> Cow<'static, str> {
        "Text".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Text a person reads: one string in the award's default language, or an object mapping language tags (`en`, `ko`) to translations, which must include the default language.",
            "anyOf": [
                { "type": "string", "minLength": 1 },
                {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": { "pattern": LANGUAGE_PATTERN },
                    "additionalProperties": { "type": "string", "minLength": 1 }
                }
            ]
        })
    }
}
