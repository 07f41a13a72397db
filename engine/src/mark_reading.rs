//! How a [`Mark`] is read: as `#[serde(untagged)]` read it — a number, or a text that reads as
//! a decimal, is [`Mark::Number`]; any other text is [`Mark::Level`]; anything else is refused
//! — but straight from the deserializer, without first buffering the value (an untagged enum
//! copied every mark into serde's `Content` and read it twice). A refusal now says what was
//! given and what a mark is ("invalid type: boolean `true`, expected a number or a level's
//! id"), or that a number is beyond what a mark can hold exactly, where the untagged enum
//! said only that the value matched no variant.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use crate::application::Mark;
use crate::json::{Key, NUMBER_TOKEN};

/// What is said of a number no decimal holds (more than 28 digits, or beyond 2^96).
const TOO_LARGE: &str =
    "a number beyond what a mark can hold exactly (at most 28 significant digits)";

impl<'de> Deserialize<'de> for Mark {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MarkVisitor)
    }
}

/// Reads a [`Mark`] from `deserialize_any`.
struct MarkVisitor;

/// A decimal's text, plain (`7.25`) or with an exponent (`725e-2`), as `Decimal` reads it.
fn decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

impl<'de> Visitor<'de> for MarkVisitor {
    type Value = Mark;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a level's id")
    }

    // Numbers from deserializers other than serde_json's text (a float from a buffer, a
    // spreadsheet's cell): as `Decimal`'s own visitor reads them, digits and scale alike
    // (8.0 is `8.0`, not `8`).
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Mark, E> {
        <Decimal as Deserialize>::deserialize(de::value::I64Deserializer::<E>::new(v))
            .map(Mark::Number)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Mark, E> {
        <Decimal as Deserialize>::deserialize(de::value::U64Deserializer::<E>::new(v))
            .map(Mark::Number)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Mark, E> {
        <Decimal as Deserialize>::deserialize(de::value::F64Deserializer::<E>::new(v))
            .map(Mark::Number)
    }

    // A JSON tree hands integers beyond 64 bits over as 128-bit ones (from text they come as
    // text): within a decimal's 96 bits they are read, as their text is.
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Mark, E> {
        Decimal::from_i128(v)
            .map(Mark::Number)
            .ok_or_else(|| E::custom(TOO_LARGE))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Mark, E> {
        Decimal::from_u128(v)
            .map(Mark::Number)
            .ok_or_else(|| E::custom(TOO_LARGE))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Mark, E> {
        Ok(decimal(v).map_or_else(|| Mark::Level(v.to_owned()), Mark::Number))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Mark, E> {
        Ok(match decimal(&v) {
            Some(d) => Mark::Number(d),
            None => Mark::Level(v),
        })
    }

    /// A number's text, as serde_json's `arbitrary_precision` passes it: a map of one entry.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Mark, A::Error> {
        let not_a_mark = || de::Error::invalid_type(de::Unexpected::Map, &self);
        let Some(Key(key)) = map.next_key::<Key<'de>>()? else {
            return Err(not_a_mark());
        };
        if key != NUMBER_TOKEN {
            return Err(not_a_mark());
        }
        let text: Key<'de> = map.next_value()?;
        let number = match decimal(&text.0) {
            Some(number) => number,
            None if serde_json::Number::from_str(&text.0).is_ok() => {
                return Err(de::Error::custom(TOO_LARGE));
            }
            // An object written with serde_json's private key, not a number.
            None => return Err(not_a_mark()),
        };
        if map.next_key::<Key<'de>>()?.is_some() {
            return Err(not_a_mark());
        }
        Ok(Mark::Number(number))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    /// What the derived untagged enum read: the reference the visitor is held to.
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        Number(Decimal),
        Level(String),
    }

    fn same(text: &str) {
        let ours: Result<Mark, String> = serde_json::from_str(text).map_err(|e| e.to_string());
        let theirs: Result<Untagged, String> =
            serde_json::from_str(text).map_err(|e| e.to_string());
        match (&ours, &theirs) {
            (Ok(Mark::Number(a)), Ok(Untagged::Number(b))) => {
                assert_eq!(a.to_string(), b.to_string(), "{text}");
            }
            (Ok(Mark::Level(a)), Ok(Untagged::Level(b))) => assert_eq!(a, b, "{text}"),
            // Both refuse; ours says why.
            (Err(a), Err(_)) => assert!(
                a.contains("expected a number or a level's id")
                    || a.contains("beyond what a mark can hold"),
                "{text}: {a}"
            ),
            _ => panic!("{text}: {ours:?} against {theirs:?}"),
        }
        // Read from a tree (which hands numbers over as integers, floats or text), the same
        // mark as from the text, digits and scale alike: `8.0` stays `8.0`.
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            let from_tree = serde_json::from_value::<Mark>(value.clone());
            match (&ours, &from_tree) {
                (Ok(Mark::Number(a)), Ok(Mark::Number(b))) => {
                    assert_eq!(a.to_string(), b.to_string(), "{text} as a tree");
                }
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{text} as a tree"),
                (Err(_), Err(_)) => {}
                _ => panic!("{text}: {ours:?} from text, {from_tree:?} from a tree"),
            }
        }
    }

    #[test]
    fn marks_read_as_the_untagged_enum_read_them() {
        for text in [
            "7",
            "-3",
            "0",
            "7.50",
            "8.0",
            "-8.0",
            "0.10",
            "18446744073709551616",
            "-18446744073709551617",
            "340282366920938463463374607431768211456",
            "9.99999999999999999999",
            "1e3",
            "725e-2",
            "-0.0",
            "79228162514264337593543950335",
            "79228162514264337593543950336",
            "1e400",
            "1e-400",
            "18446744073709551615",
            "-9223372036854775808",
            r#""high""#,
            r#""7.5""#,
            r#""1e2""#,
            r#""""#,
            r#""très bien""#,
            r#""a\"b""#,
            "true",
            "null",
            "[]",
            "[1]",
            "{}",
            r#"{"a": 1}"#,
            &format!(r#"{{"{NUMBER_TOKEN}": "7.5"}}"#),
            &format!(r#"{{"{NUMBER_TOKEN}": "x"}}"#),
        ] {
            same(text);
        }
    }

    /// Numbers that come as numbers, not as text (a buffered value, another format).
    #[test]
    fn numbers_given_as_numbers_read_as_decimal_reads_them() {
        use serde::de::value::{Error, F64Deserializer, I64Deserializer, U64Deserializer};
        let shown = |r: Result<Mark, Error>| match r {
            Ok(Mark::Number(d)) => Ok(d.to_string()),
            other => Err(format!("{other:?}")),
        };
        let theirs = |r: Result<Untagged, Error>| match r {
            Ok(Untagged::Number(d)) => Ok(d.to_string()),
            other => Err(format!("{other:?}")),
        };
        for v in [
            8.0,
            0.1,
            7.25,
            -0.0,
            1e21,
            1.5e-7,
            1e300,
            123456789.125,
            f64::NAN,
        ] {
            let ours = shown(Mark::deserialize(F64Deserializer::<Error>::new(v)));
            let reference = theirs(Untagged::deserialize(F64Deserializer::<Error>::new(v)));
            assert_eq!(
                ours.is_ok(),
                reference.is_ok(),
                "{v}: {ours:?} {reference:?}"
            );
            if ours.is_ok() {
                assert_eq!(ours, reference, "{v}");
            }
        }
        for v in [0i64, -7, i64::MIN, i64::MAX] {
            let ours = shown(Mark::deserialize(I64Deserializer::<Error>::new(v)));
            assert_eq!(
                ours,
                theirs(Untagged::deserialize(I64Deserializer::<Error>::new(v)))
            );
        }
        for v in [0u64, 7, u64::MAX] {
            let ours = shown(Mark::deserialize(U64Deserializer::<Error>::new(v)));
            assert_eq!(
                ours,
                theirs(Untagged::deserialize(U64Deserializer::<Error>::new(v)))
            );
        }
    }

    #[test]
    fn a_mark_keeps_its_digits() {
        let mark: Mark = serde_json::from_value(json!(7.25)).unwrap_or(Mark::Level(String::new()));
        assert_eq!(mark, Mark::Number(Decimal::new(725, 2)));
    }
}
