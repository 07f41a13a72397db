//! Reading JSON bodies with errors that say where (line and column) and why.

use axum::body::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Decodes a JSON body; serde_json's recursion limit (128) bounds its depth.
pub fn json<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = if path == "." {
            String::new()
        } else {
            format!(" at `{path}`")
        };
        ApiError::BadRequest(format!("invalid JSON{at}: {inner}"))
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON: {e}")))?;
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
