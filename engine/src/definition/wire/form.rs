use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::AppliesTo;
use crate::ids::FieldId;
use crate::text::Text;

/// The application form: fields every applicant sees, narrowed by `applies_to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormSpec {
    /// The form's fields, in display order.
    pub fields: Vec<FieldSpec>,
    /// Named parts of the form, in order: applicants see each with its title, and how far
    /// they are in it. With sections, every field (the form's and each category's) is in
    /// exactly one; without, the form is one part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<SectionSpec>,
}

/// A named part of the application form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionSpec {
    /// Its identifier, unique within the form (it names the section in the page's address).
    pub id: String,
    /// Its title.
    pub title: Text,
    /// What it asks about, shown under its title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Its fields, by id, in the order shown: the form's own fields and categories' fields
    /// (a category's appear only to its applicants).
    pub fields: Vec<FieldId>,
}

/// The type of a form field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text.
    ShortText,
    /// Paragraphs of text.
    LongText,
    /// An e-mail address.
    Email,
    /// A web address.
    Url,
    /// A decimal number.
    Number,
    /// A whole number.
    Integer,
    /// Yes or no.
    Boolean,
    /// A calendar date (`YYYY-MM-DD`).
    Date,
    /// One of `options`.
    SingleChoice,
    /// Any number of `options`.
    MultipleChoice,
    /// A list of values, each as described by `item`.
    List,
    /// A group of nested `fields`.
    Group,
    /// A reference to an uploaded file.
    File,
    /// A country, as its ISO 3166-1 alpha-2 code (`KR`); forms show the countries' names in
    /// the reader's language. Conflicts of interest compare codes, never typed names.
    Country,
}

impl FieldType {
    /// The type's name as written in definitions.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::ShortText => "short_text",
            FieldType::LongText => "long_text",
            FieldType::Email => "email",
            FieldType::Url => "url",
            FieldType::Number => "number",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::SingleChoice => "single_choice",
            FieldType::MultipleChoice => "multiple_choice",
            FieldType::List => "list",
            FieldType::Group => "group",
            FieldType::File => "file",
            FieldType::Country => "country",
        }
    }

    /// Whether values of this type are text.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::ShortText | FieldType::LongText | FieldType::Email | FieldType::Url
        )
    }

    /// Whether values of this type are numbers.
    pub fn is_numeric(self) -> bool {
        matches!(self, FieldType::Number | FieldType::Integer)
    }
}

/// One field of the form. Which constraints apply depends on `type`; the checker reports a
/// constraint given to a type it does not fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The field's identifier, unique among its siblings.
    pub id: FieldId,
    /// The type of its value.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// The label shown to applicants.
    pub label: Text,
    /// Guidance shown beside the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    /// Whether every applicant it applies to must fill it in.
    #[serde(default)]
    pub required: bool,
    /// Personal data (contact details): encrypted at rest and never shown to judges.
    #[serde(default)]
    pub personal: bool,
    /// Removed from what judges see when judging is blind (names, organisations).
    #[serde(default)]
    pub hidden_from_judges: bool,
    /// Free tags for plugins and exports, such as `context` for the variables of a city's circumstances.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Restricts the field to some categories or applicant types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<AppliesTo>,
    /// A conditional question (on the form's top level): asked only when this condition on
    /// other answers holds (the eligibility rules' condition language, without plugins). When
    /// it does not hold, the question is not shown, not required, and an answer to it is
    /// refused (the form drops it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<super::ConditionSpec>,
    /// Number fields: the smallest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Decimal>,
    /// Number fields: the largest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Decimal>,
    /// Text fields: the fewest characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Text fields: the most characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Text fields: a regular expression the whole value matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Multiple choice and list fields: the fewest items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u32>,
    /// Multiple choice and list fields: the most items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u32>,
    /// Date fields: the earliest date (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<chrono::NaiveDate>,
    /// Date fields: the latest date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<chrono::NaiveDate>,
    /// Choice fields: the options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    /// List fields: what each item is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Box<FieldSpec>>,
    /// Group fields: the nested fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldSpec>,
    /// File fields: accepted media types, such as `application/pdf`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
    /// File fields: the largest file accepted, in bytes (10 MiB when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_bytes: Option<u64>,
}

/// One option of a choice field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// The value stored in applications.
    #[schemars(regex(pattern = crate::ids::ID_PATTERN))]
    pub value: String,
    /// The label shown to applicants.
    pub label: Text,
}
