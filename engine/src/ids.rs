//! Newtypes for the identifiers that a definition, an application or a mark uses.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// The pattern every identifier matches: letters, digits, `-`, `_` and `.`, starting with a letter or digit.
pub const ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$";
/// The pattern of an award's id: a lower-case slug.
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

/// Whether `s` matches [`ID_PATTERN`]: 1 to 64 letters, digits, `-`, `_` and `.`, starting
/// with a letter or digit (ASCII only).
pub fn is_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Whether `s` matches [`SLUG_PATTERN`]: lower-case letters and digits in words joined by
/// single hyphens.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $pattern:expr, $check:path, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        /// Read from JSON only when it matches its pattern, wherever it appears.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if $check(&s) {
                    Ok(Self(s))
                } else {
                    Err(serde::de::Error::custom(format!(
                        "`{}` is not a valid identifier: it must match {}",
                        s.escape_debug(),
                        $pattern
                    )))
                }
            }
        }

        impl $name {
            /// Wraps a string; callers that take user input check it against the schema first.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": $what,
                })
            }
        }
    };
}

id_type!(
    /// An award's identifier, a lower-case slug such as `seoul-smart-city-prize-2023`.
    AwardId, SLUG_PATTERN, is_slug, "An award's identifier: a lower-case slug such as `seoul-smart-city-prize-2023`."
);
id_type!(
    /// A category of an award.
    CategoryId, ID_PATTERN, is_id, "A category's identifier, unique within the award."
);
id_type!(
    /// A criterion (the first level of the marking grid) within a category.
    CriterionId, ID_PATTERN, is_id, "A criterion's identifier, unique within its category."
);
id_type!(
    /// An indicator (the second level of the marking grid); unique within its category.
    IndicatorId, ID_PATTERN, is_id, "An indicator's identifier, unique within its category."
);
id_type!(
    /// A form field; nested fields are addressed with dots (`contact.email`).
    FieldId, ID_PATTERN, is_id, "A form field's identifier, unique among its siblings."
);
id_type!(
    /// A kind of applicant (city, corporation, ...).
    ApplicantTypeId, ID_PATTERN, is_id, "An applicant type's identifier, unique within the award."
);
id_type!(
    /// A plugin declared by the award.
    PluginId, ID_PATTERN, is_id, "A plugin's identifier, unique within the award."
);
id_type!(
    /// A marking scale declared by the award.
    ScaleId, ID_PATTERN, is_id, "A marking scale's identifier, unique within the award."
);
id_type!(
    /// An eligibility rule.
    RuleId, ID_PATTERN, is_id, "An eligibility rule's identifier, unique within the award."
);
id_type!(
    /// An application.
    ApplicationId, ID_PATTERN, is_id, "An application's identifier, unique within the award."
);
id_type!(
    /// A judge.
    JudgeId, ID_PATTERN, is_id, "A judge's identifier, unique within the award."
);
