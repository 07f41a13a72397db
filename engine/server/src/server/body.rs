//! Reading JSON bodies with errors that say where (line and column) and why.

use axum::body::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Decodes a JSON body; serde_json's recursion limit (128) bounds its depth. Read strictly
/// first: a key given twice is refused (never "the last one wins"), and numbers keep their
/// exact decimal text.
///
/// The common case costs one check and one decode: the bytes are checked for duplicate keys
/// without building a tree, then decoded straight into `T`. Only a body that does not decode
/// that way is read again as a tree, which gives the same answer and the same errors as ever.
pub fn json<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    if laurel::check_strict_slice(bytes).is_ok() {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        if let Ok(value) = T::deserialize(&mut de)
            && de.end().is_ok()
        {
            return Ok(value);
        }
    }
    slowly(bytes)
}

/// [`json`] through a tree: its errors say where, and integral numbers written with a fraction
/// are tried as integers.
fn slowly<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
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

    /// A request with the shapes bodies have: typed fields, free JSON, options, maps.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Shaped {
        seed: u32,
        #[serde(default)]
        mark: Option<rust_decimal::Decimal>,
        #[serde(default)]
        free: Option<serde_json::Value>,
        #[serde(default)]
        names: std::collections::BTreeMap<String, String>,
    }

    fn answer(r: Result<Shaped, ApiError>) -> Result<Shaped, String> {
        r.map_err(|e| format!("{e:?}"))
    }

    /// JSON text of the shapes above, valid or not: keys given twice, unknown keys, numbers
    /// of every kind where an integer is asked for, truncation.
    fn body() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let number = prop_oneof![
            Just("7".to_owned()),
            Just("7.0".to_owned()),
            Just("7.5".to_owned()),
            Just("-1".to_owned()),
            Just("12e2".to_owned()),
            Just("9.99999999999999999999".to_owned()),
            Just("\"7\"".to_owned()),
            Just("null".to_owned()),
        ];
        let free = prop_oneof![
            Just("{}".to_owned()),
            Just(r#"{"a": 1, "b": [1.50, {"c": null}]}"#.to_owned()),
            Just(r#"{"a": 1, "a": 2}"#.to_owned()),
            Just(r#"[{"x": "\u00e9"}, {"x": 2}]"#.to_owned()),
            Just("1e400".to_owned()),
        ];
        let entry = prop_oneof![
            number.clone().prop_map(|n| format!(r#""seed": {n}"#)),
            number.clone().prop_map(|n| format!(r#""mark": {n}"#)),
            free.prop_map(|f| format!(r#""free": {f}"#)),
            Just(r#""names": {"k": "v", "k2": "w"}"#.to_owned()),
            Just(r#""names": {"k": "v", "k": "w"}"#.to_owned()),
            Just(r#""other": 1"#.to_owned()),
        ];
        // Mostly a seed that reads, so that what follows it is what decides.
        let seed = prop_oneof![
            4 => Just(r#""seed": 7"#.to_owned()),
            1 => number.clone().prop_map(|n| format!(r#""seed": {n}"#)),
        ];
        (seed, proptest::collection::vec(entry, 0..4), 0..8u8).prop_map(|(seed, entries, cut)| {
            let text = format!("{{{}}}", [vec![seed], entries].concat().join(", "));
            if cut == 0 {
                text[..text.len() / 2].to_owned()
            } else {
                text
            }
        })
    }

    proptest::proptest! {
        /// Decoding straight from the bytes gives what decoding through a tree gives: the same
        /// value, or the same error.
        #[test]
        fn the_direct_reading_agrees_with_the_tree(text in body()) {
            let bytes = Bytes::from(text.clone());
            proptest::prop_assert_eq!(
                answer(json::<Shaped>(&bytes)),
                answer(slowly::<Shaped>(&bytes)),
                "{}", text
            );
        }
    }
}
