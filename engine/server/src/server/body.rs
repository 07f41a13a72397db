//! Reading JSON bodies with errors that say where (line and column) and why.

use axum::body::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Decodes a JSON body; serde_json's recursion limit (128) bounds its depth. Read strictly
/// first: a key given twice is refused (never "the last one wins"), and numbers keep their
/// exact decimal text.
pub fn json<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let strict: serde_json::Value = laurel::strict_from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON: {e}")))?;
    let first = serde_path_to_error::deserialize(&strict);
    // JSON has one kind of number: `7.0` is the integer 7 to JSON Schema, and so to the API.
    // A body read as written comes first; only when that fails are integral numbers written
    // with a fraction read as integers.
    let value = first
        .or_else(|e| {
            let mut whole = strict.clone();
            integers_as_integers(&mut whole);
            // When that fails too, its error is the one left to fix.
            serde_path_to_error::deserialize(&whole)
                .map_err(|again| if whole == strict { e } else { again })
        })
        .map_err(|e| {
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

/// Numbers written with a zero fraction (`7.0`, `7e0`) written as integers (`7`).
fn integers_as_integers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if !(n.is_u64() || n.is_i64()) => {
            if let Ok(d) = n
                .to_string()
                .parse::<rust_decimal::Decimal>()
                .or_else(|_| rust_decimal::Decimal::from_scientific(&n.to_string()))
                && d.fract().is_zero()
                && let Ok(whole) = d.trunc().to_string().parse::<serde_json::Number>()
            {
                *n = whole;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integers_as_integers),
        serde_json::Value::Object(map) => map.values_mut().for_each(integers_as_integers),
        _ => {}
    }
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

/// The largest export an import accepts (the one body larger than the usual bound).
pub const IMPORT_LIMIT: usize = 256 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Open {
        seed: u64,
        #[serde(default)]
        mark: Option<rust_decimal::Decimal>,
    }

    #[test]
    fn an_integer_written_with_a_zero_fraction_is_read_as_that_integer() {
        let read = |s: &str| json::<Open>(&Bytes::from(s.to_owned()));
        assert_eq!(read(r#"{"seed": 7387606.0}"#).unwrap().seed, 7_387_606);
        assert_eq!(read(r#"{"seed": 12e2}"#).unwrap().seed, 1200);
        // A body that reads as written is read as written: the decimal keeps its scale.
        let kept = read(r#"{"seed": 3, "mark": 7.50}"#).unwrap();
        assert_eq!(kept.mark.unwrap().to_string(), "7.50");
        for bad in [r#"{"seed": 7.5}"#, r#"{"seed": -1.0}"#, r#"{"seed": "7"}"#] {
            assert!(matches!(read(bad), Err(ApiError::BadRequest(_))), "{bad}");
        }
    }
}
