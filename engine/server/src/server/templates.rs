//! An award's own mail texts: a subject and a body per kind of mail and language, written by
//! its administrators with merge fields (`{name}`, `{award}`, `{entry}`, ...) that each mail
//! fills in. Pure: checking and filling a text do no I/O.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A mail's text as an administrator wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MailTemplate {
    /// The subject line, with merge fields.
    pub subject: String,
    /// The body: paragraphs separated by blank lines, with merge fields.
    pub body: String,
}

/// The merge fields every mail fills: the recipient's name, the award's name, the link to
/// their page, and the call's closing date.
pub const COMMON_FIELDS: &[&str] = &["name", "award", "link", "closes"];

/// The merge fields a kind of mail fills besides the common ones (`message` is a message an
/// administrator writes to several people).
pub fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "application_received" => &["entry", "status"],
        "assignment" => &["round", "count"],
        "reminder" => &["round", "count"],
        "outcome" => &["entry", "outcome"],
        "message" => &["entry"],
        "draft_reminder" => &[],
        _ => &[],
    }
}

/// The kinds of mail whose text an award may write.
pub const KINDS: &[&str] = &[
    "application_received",
    "assignment",
    "reminder",
    "outcome",
    "draft_reminder",
];

/// The merge fields `text` names, in order, each once.
pub fn named_fields(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_owned());
        }
        rest = &after[close + 1..];
    }
    out
}

/// The merge fields of `text` that a mail of `kind` does not fill.
pub fn unknown_fields(kind: &str, text: &str) -> Vec<String> {
    named_fields(text)
        .into_iter()
        .filter(|n| !COMMON_FIELDS.contains(&n.as_str()) && !fields_of(kind).contains(&n.as_str()))
        .collect()
}

/// `text` with each `{field}` replaced by its value; a field without a value is left as it is.
pub fn fill(text: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = text.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_once_and_filled() {
        assert_eq!(
            named_fields("Dear {name}, {entry} {name} {Not} {}"),
            vec!["name", "entry"]
        );
        let values = BTreeMap::from([
            ("name", "Kim".to_owned()),
            ("entry", "“Poles” (app-1)".to_owned()),
        ]);
        assert_eq!(
            fill("Dear {name}: {entry}, {round}", &values),
            "Dear Kim: “Poles” (app-1), {round}"
        );
    }

    #[test]
    fn a_field_the_mail_does_not_fill_is_named() {
        assert_eq!(
            unknown_fields("outcome", "{name} {outcome} {round} {nme}"),
            vec!["round", "nme"]
        );
        assert!(unknown_fields("assignment", "{name}: {count} in {round} by {closes}").is_empty());
    }
}
