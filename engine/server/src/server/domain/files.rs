//! References from applications to uploaded files: only the submitter's own.

use crate::server::error::ApiError;
use crate::server::state::AppState;
use crate::store::{Tree, get_json, key};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every file an application refers to, at any depth of its form (a list of documents, a
/// group's file), must be one its owner uploaded to this award, of the type the reference
/// states: 422 at each reference that is not. The names the references give are made safe.
pub(crate) fn check_references(
    state: &AppState,
    award: &laurel::Award,
    owner: &str,
    application: &mut Value,
    text: &str,
) -> Result<(), ApiError> {
    fn walk(value: &mut Value, pointer: String, found: &mut Vec<(String, String, Option<String>)>) {
        match value {
            Value::Object(map) => {
                if let Some(sha) = map.get("sha256").and_then(Value::as_str) {
                    let sha = sha.to_owned();
                    let media = map
                        .get("media_type")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    if let Some(Value::String(name)) = map.get_mut("name") {
                        *name = safe_file_name(name, "file");
                    }
                    found.push((pointer, sha, media));
                    return;
                }
                for (k, v) in map.iter_mut() {
                    let escaped = k.replace('~', "~0").replace('/', "~1");
                    walk(v, format!("{pointer}/{escaped}"), found);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter_mut().enumerate() {
                    walk(v, format!("{pointer}/{i}"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    if let Some(fields) = application.get_mut("fields") {
        walk(fields, "/fields".to_owned(), &mut found);
    }
    let mut problems = Vec::new();
    for (pointer, sha, media) in found {
        let upload = find_upload(state, award.id.as_str(), owner, &sha)?;
        let fits = upload.is_some_and(|u| Some(u.media_type.as_str()) == media.as_deref());
        if !fits {
            problems.push(laurel::Diagnostic::error(
                laurel::Code::Schema,
                pointer,
                "no file of yours was uploaded with this sha256 and media type: upload it first (POST /v1/awards/{award}/uploads?field=...)",
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut d: laurel::Diagnostics = problems.into_iter().collect();
    d.locate_in(text);
    Err(ApiError::Invalid {
        title: "The application is invalid".to_owned(),
        diagnostics: d.into_iter().collect(),
    })
}

/// `owner`'s upload of `sha` to `award`, if they uploaded it.
pub(crate) fn find_upload(
    state: &AppState,
    award: &str,
    owner: &str,
    sha: &str,
) -> Result<Option<Upload>, ApiError> {
    let store = state.store.as_ref();
    if let Some(u) = get_json::<Upload>(store, Tree::Uploads, &upload_key(award, owner, sha))? {
        return Ok(Some(u));
    }
    Ok(
        get_json::<Upload>(store, Tree::Uploads, &legacy_upload_key(award, sha))?
            .filter(|u| u.owner == owner),
    )
}

/// A file name as given, made safe to keep and show: no folders, no control characters or
/// direction overrides, spaces collapsed, at most 120 characters; `fallback` when nothing is
/// left.
pub(crate) fn safe_file_name(name: &str, fallback: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
            {
                ' '
            } else {
                c
            }
        })
        .collect();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed.trim_start_matches('.').trim();
    let short: String = trimmed.chars().take(120).collect();
    if short.is_empty() {
        fallback.to_owned()
    } else {
        short
    }
}

/// A stored upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    pub(crate) sha256: String,
    pub(crate) media_type: String,
    pub(crate) size: u64,
    pub(crate) award: String,
    pub(crate) field: String,
    pub(crate) owner: String,
    /// The bytes, base64, or sealed when the field is personal.
    pub(crate) content: Value,
    pub(crate) created_at: String,
}

/// Where `owner`'s upload of content `sha` to `award` is kept.
pub(crate) fn upload_key(award: &str, owner: &str, sha: &str) -> Vec<u8> {
    key(&[award.as_bytes(), owner.as_bytes(), sha.as_bytes()])
}

/// Where uploads were kept before they were keyed by owner (read, never written).
pub(crate) fn legacy_upload_key(award: &str, sha: &str) -> Vec<u8> {
    key(&[award.as_bytes(), sha.as_bytes()])
}

/// Gives every file reference in an application a neutral name (`{field}.{ext}`), and where to
/// download it, for a judge: the name an applicant gave a file may identify them.
pub(crate) fn neutral_names(fields: &mut Value, award: &str, app: &str) {
    fn neutral(value: &mut Value, name: String, download: String) {
        if let Some(map) = value
            .as_object_mut()
            .filter(|m| m.get("sha256").is_some_and(Value::is_string))
        {
            let ext = map
                .get("media_type")
                .and_then(Value::as_str)
                .and_then(|t| t.rsplit('/').next())
                .unwrap_or("bin")
                .to_owned();
            map.insert("name".to_owned(), Value::String(format!("{name}.{ext}")));
            map.insert("download".to_owned(), Value::String(download));
        }
    }
    let url = format!("/v1/awards/{award}/applications/{app}/files");
    if let Some(map) = fields.get_mut("fields").and_then(Value::as_object_mut) {
        for (field, value) in map.iter_mut() {
            match value {
                Value::Array(items) => {
                    for (i, item) in items.iter_mut().enumerate() {
                        neutral(
                            item,
                            format!("{field}-{}", i + 1),
                            format!("{url}/{field}?item={i}"),
                        );
                    }
                }
                other => neutral(other, field.clone(), format!("{url}/{field}")),
            }
        }
    }
}
