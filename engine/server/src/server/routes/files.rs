//! Applicants' files: uploaded for a `file` field (its type sniffed from the content, its size
//! bounded by the field, read as a stream up to that bound), stored by award, owner and content
//! hash, and sealed when the field is personal; downloaded by the owner, administrators and the
//! judges assigned to the application, with safe headers.
//!
//! **Ownership is a property of the data**: an upload belongs to whoever uploaded it (the same
//! bytes uploaded by two people are two uploads); an application may refer, at any depth of its
//! form, only to its owner's uploads (checked on submit and on every update, whoever writes);
//! and a download reads the application owner's upload, never anyone else's, whatever hash the
//! application names. Each person's uploads to an award are bounded in number and bytes.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::server::auth::Caller;
use crate::server::crypto;
use crate::server::domain::files::{Upload, find_upload, safe_file_name, upload_key};
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, Role};
use crate::server::state::AppState;
use crate::server::tx::Tx;
use crate::store::{Tree, get_json, key, now};

/// The media type the content's first bytes show, if known.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    Some(if starts(b"%PDF-") {
        "application/pdf"
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(b"\xff\xd8\xff") {
        "image/jpeg"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if starts(b"PK\x03\x04") {
        "application/zip"
    } else {
        return None;
    })
}

fn file_field<'a>(
    award: &'a laurel::Award,
    field: &str,
) -> Option<(&'a laurel::Field, u64, &'a [String])> {
    award
        .fields
        .iter()
        .chain(award.categories.iter().flat_map(|c| c.fields.iter()))
        .find(|f| f.id.as_str() == field)
        .and_then(|f| match &f.kind {
            laurel::FieldKind::File { accept, max_bytes } => Some((f, *max_bytes, &accept[..])),
            // A list of files: each item's limits.
            laurel::FieldKind::List { item, .. } => match &item.kind {
                laurel::FieldKind::File { accept, max_bytes } => Some((f, *max_bytes, &accept[..])),
                _ => None,
            },
            _ => None,
        })
}

/// How much `owner` has uploaded to `award`: kept beside the uploads, under an empty hash.
fn usage_key(award: &str, owner: &str) -> Vec<u8> {
    key(&[award.as_bytes(), owner.as_bytes(), b""])
}

/// What one person has uploaded to one award.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Usage {
    files: u64,
    bytes: u64,
}

pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    body: Body,
) -> Result<(StatusCode, Json<crate::server::answers::Uploaded>), ApiError> {
    caller.require(&[Role::Admin, Role::Applicant, Role::Integrator])?;
    let field_id = query
        .get("field")
        .cloned()
        .ok_or_else(|| ApiError::BadRequest("name the file field: `?field=<id>`".to_owned()))?;
    let record = crate::server::domain::awards::load_award(&state, &award)?;
    let version = record
        .versions
        .last()
        .map(|v| v.version)
        .ok_or_else(|| ApiError::Conflict(format!("`{award}` has no published version")))?;
    let loaded = state.loaded(&award, version).await?;
    let (field, max, accept) = file_field(&loaded.award, &field_id).ok_or_else(|| {
        ApiError::NotFound(format!("`{}` is not a file field of `{award}`", field_id))
    })?;
    // Read as it comes, never past the field's bound.
    let mut body = body;
    let mut bytes: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::BadRequest(format!("the upload broke off: {e}")))?;
        if let Some(chunk) = frame.data_ref() {
            if (bytes.len() + chunk.len()) as u64 > max {
                return Err(ApiError::TooLarge(format!(
                    "`{}` takes files of at most {max} bytes",
                    field_id
                )));
            }
            bytes.extend_from_slice(chunk);
        }
    }
    if bytes.is_empty() {
        return Err(ApiError::BadRequest("the file is empty".to_owned()));
    }
    let sniffed = sniff(&bytes).unwrap_or("application/octet-stream");
    if !accept.is_empty() && !accept.iter().any(|a| a == sniffed) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "`{}` takes {}; the content is {sniffed} (whatever its name says)",
            field_id,
            accept.join(", ")
        )));
    }
    let sha = hex::encode(Sha256::digest(&bytes));
    let encoded = Value::String(STANDARD.encode(&bytes));
    let content = if field.personal {
        state
            .sealer
            .seal_value(&format!("{award}/uploads/{sha}"), &encoded)
    } else {
        encoded
    };
    let upload = Upload {
        sha256: sha.clone(),
        media_type: sniffed.to_owned(),
        size: bytes.len() as u64,
        award: award.clone(),
        field: field_id.clone(),
        owner: caller.key.clone(),
        content,
        created_at: now(),
    };
    let mut tx = Tx::new(&state);
    let k = upload_key(&award, &caller.key, &sha);
    // The same content again from the same person is the same file; another person's same
    // content is their own upload.
    if tx.read::<Upload>(Tree::Uploads, &k)?.is_none() {
        let usage_at = usage_key(&award, &caller.key);
        let mut usage: Usage = tx.read(Tree::Uploads, &usage_at)?.unwrap_or_default();
        let quota = state.quotas;
        if usage.files >= quota.upload_files || usage.bytes + upload.size > quota.upload_bytes {
            return Err(ApiError::Quota(format!(
                "you have uploaded {} files ({} bytes) to `{award}`: at most {} files and {} \
                 bytes per person (`laurel serve --upload-files`, `--upload-bytes`)",
                usage.files, usage.bytes, quota.upload_files, quota.upload_bytes
            )));
        }
        usage.files += 1;
        usage.bytes += upload.size;
        tx.put(Tree::Uploads, usage_at, &usage);
        tx.put(Tree::Uploads, k, &upload);
        tx.commit(caller.audit(
            "file.upload",
            format!("{award}/{sha}"),
            json!({ "field": field_id, "media_type": sniffed, "size": upload.size }),
        ))?;
    }
    let fallback = format!(
        "{}.{}",
        field_id,
        sniffed.rsplit('/').next().unwrap_or("bin")
    );
    let name = safe_file_name(
        query.get("name").map(String::as_str).unwrap_or_default(),
        &fallback,
    );
    Ok((
        StatusCode::CREATED,
        Json(crate::server::answers::Uploaded {
            name,
            media_type: sniffed.to_owned(),
            sha256: sha,
            size: upload.size,
        }),
    ))
}

/// The file an application's `field` refers to, to its owner, administrators, and judges
/// assigned to it in a round that shows the field.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, app, field)): Path<(String, String, String)>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::NotFound(format!("no application `{app}` in award `{award}`"));
    let record: ApplicationRecord = get_json(
        state.store.as_ref(),
        Tree::Applications,
        &key(&[award.as_bytes(), app.as_bytes()]),
    )?
    .ok_or_else(missing)?;
    let loaded = state.loaded(&award, record.version).await?;
    let (spec, _, _) = file_field(&loaded.award, &field)
        .ok_or_else(|| ApiError::NotFound(format!("`{field}` is not a file field of `{award}`")))?;
    let as_judge = match caller.role {
        Role::Admin => false,
        Role::Applicant | Role::Integrator if record.owner == caller.key => false,
        Role::Judge => {
            let judge = caller.subject.clone().unwrap_or_default();
            if !crate::server::domain::rounds::assigned(&state, &award, &judge)?.contains(&app) {
                return Err(missing());
            }
            // Judges never see a field hidden from them, nor personal data.
            if spec.hidden_from_judges || spec.personal {
                return Err(ApiError::Forbidden(format!(
                    "`{field}` is not shown to judges"
                )));
            }
            true
        }
        _ => return Err(missing()),
    };
    let mut fields = record.application.clone();
    crypto::open(&loaded.award, &state.sealer, &mut fields);
    // A list of files: `?item=` picks one (the first by default).
    let reference = match &fields["fields"][&field] {
        Value::Array(items) => {
            let i: usize = query.get("item").and_then(|i| i.parse().ok()).unwrap_or(0);
            items.get(i).cloned().ok_or_else(|| {
                ApiError::NotFound(format!("`{field}` of `{app}` has no item {i}"))
            })?
        }
        other => other.clone(),
    };
    let sha = reference["sha256"]
        .as_str()
        .ok_or_else(|| ApiError::NotFound(format!("`{app}` has no file in `{field}`")))?;
    // Only the application's owner's own upload: whatever hash an application names, nobody
    // else's file is ever read through it.
    let upload = find_upload(&state, &award, &record.owner, sha)?
        .ok_or_else(|| ApiError::NotFound(format!("the file of `{field}` was never uploaded")))?;
    let content = if upload.content.is_string() {
        upload.content.clone()
    } else {
        state
            .sealer
            .open_value(&upload.content)
            .ok_or_else(|| ApiError::Internal("an upload cannot be opened".to_owned()))?
    };
    let bytes = STANDARD
        .decode(content.as_str().unwrap_or_default())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // Judges see no identifying name.
    let name = if as_judge {
        format!(
            "{field}.{}",
            upload.media_type.rsplit('/').next().unwrap_or("bin")
        )
    } else {
        safe_file_name(reference["name"].as_str().unwrap_or_default(), "file")
    };
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let pdf = upload.media_type == "application/pdf";
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&upload.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!(
            "{}; filename=\"{safe}\"",
            if pdf { "inline" } else { "attachment" }
        ))
        .unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; object-src 'self'; plugin-types application/pdf",
        ),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}
