//! Reading JSON bodies with errors that say where (line and column) and why.

use axum::body::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Decodes a JSON body; serde_json's recursion limit (128) bounds its depth. Read strictly
/// first: a key given twice is refused (never "the last one wins"), and numbers keep their
/// exact decimal text.
pub fn json<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let strict = laurel::strict_from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON: {e}")))?;
    let value = serde_path_to_error::deserialize(strict).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = if path == "." {
            String::new()
        } else {
            format!(" at `{path}`")
        };
        ApiError::BadRequest(format!("invalid JSON{at}: {inner}"))
    })?;
    Ok(value)
}

/// The body as UTF-8 text.
pub fn text(bytes: &Bytes) -> Result<&str, ApiError> {
    std::str::from_utf8(bytes).map_err(|_| ApiError::BadRequest("the body is not UTF-8".to_owned()))
}

/// Decodes a JSON body, or gives the default when there is none.
pub fn json_or_default<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        json(bytes)
    }
}
