//! JSON read strictly: a key given twice is an error (not "the last one wins"), and numbers
//! keep their exact text (serde_json's `arbitrary_precision`), so that `9.99999999999999999999`
//! is that decimal and never passes through a double.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The key under which serde_json's `arbitrary_precision` passes a number's text.
pub(crate) const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Parses JSON text, refusing duplicate keys. Errors carry serde_json's line and column.
pub fn strict_from_str(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict::deserialize(&mut de)?.0;
    de.end()?;
    Ok(value)
}

/// Parses JSON bytes, refusing duplicate keys.
pub fn strict_from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict::deserialize(&mut de)?.0;
    de.end()?;
    Ok(value)
}

/// Checks JSON bytes as [`strict_from_slice`] reads them (one value, no key given twice at any
/// depth) without building the value: for callers that then decode the bytes into their own
/// types. Errors are those of [`strict_from_slice`], with serde_json's line and column.
pub fn check_strict_slice(bytes: &[u8]) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Checked::deserialize(&mut de)?;
    de.end()
}

/// Reads `value` as a `T`, or says where it does not read and why: a schema diagnostic whose
/// pointer is relative to `value` (`/evaluations/0/marks`, empty for `value` itself).
pub fn from_value_located<T: serde::de::DeserializeOwned>(
    value: &Value,
) -> Result<T, crate::Diagnostic> {
    // Read once without noting the path (which copies every key read), and again, noting it,
    // only to say where a value that does not read went wrong.
    if let Ok(read) = T::deserialize(value) {
        return Ok(read);
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        crate::Diagnostic::error(
            crate::Code::Schema,
            pointer_of(&e.path().to_string()),
            e.inner().to_string(),
        )
    })
}

/// Reads JSON text as a `T` without building a JSON tree first (a tree of a large document
/// holds several times its text), or says where it does not read and why, as
/// [`from_value_located`] does for a value: a schema diagnostic whose pointer is relative to
/// the document. Check the text with [`check_strict_slice`] first: that refuses a key given
/// twice and reports syntax errors with their line and column, which this reports only as a
/// diagnostic at the place the reading stopped.
pub fn from_str_located<T: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<T, crate::Diagnostic> {
    // serde_json ends its messages with where it stopped; the pointer says where instead.
    let message = |e: &serde_json::Error| {
        let message = e.to_string();
        let at = format!(" at line {} column {}", e.line(), e.column());
        message
            .strip_suffix(&at)
            .map_or(message.clone(), str::to_owned)
    };
    // As `from_value_located`: the path is noted only when the text does not read.
    let mut de = serde_json::Deserializer::from_str(text);
    if let Ok(read) = T::deserialize(&mut de)
        && de.end().is_ok()
    {
        return Ok(read);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        crate::Diagnostic::error(
            crate::Code::Schema,
            pointer_of(&e.path().to_string()),
            message(e.inner()),
        )
    })?;
    de.end()
        .map_err(|e| crate::Diagnostic::error(crate::Code::Schema, "", message(&e)))?;
    Ok(value)
}

/// A JSON pointer from serde_path_to_error's path (`evaluations[0].marks`).
fn pointer_of(serde_path: &str) -> String {
    if serde_path == "." {
        return String::new();
    }
    let mut out = String::new();
    for part in serde_path.split('.') {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            out.push('/');
            out.push_str(name);
        }
        for idx in rest.split('[') {
            let idx = idx.trim_end_matches(']');
            if !idx.is_empty() {
                out.push('/');
                out.push_str(idx);
            }
        }
    }
    out
}

/// A JSON number as an exact decimal, from its text.
pub fn exact_decimal(n: &Number) -> Option<Decimal> {
    let text = n.to_string();
    Decimal::from_str(&text)
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
}

/// A JSON value as an exact decimal, when it is a number.
pub(crate) fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => exact_decimal(n),
        _ => None,
    }
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Strict::deserialize(d).map(|s| s.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1_024));
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == NUMBER_TOKEN && out.is_empty() {
                let text: String = map.next_value()?;
                return Number::from_str(&text)
                    .map(Value::Number)
                    .map_err(de::Error::custom);
            }
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            let Strict(value) = map.next_value()?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// A value checked for duplicate keys and dropped as it is read.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckVisitor)
    }
}

/// An object's key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Objects with more keys than this look keys up in a hash set rather than in a list.
const LISTED_KEYS: usize = 16;

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Checked, E> {
        StrictVisitor.visit_f64(v).map(|_| Checked)
    }

    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_none<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Checked, D::Error> {
        Checked::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut listed: Vec<Key<'de>> = Vec::new();
        let mut hashed: std::collections::HashSet<std::borrow::Cow<'de, str>> =
            std::collections::HashSet::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if key == NUMBER_TOKEN && listed.is_empty() && hashed.is_empty() {
                let text: String = map.next_value()?;
                return Number::from_str(&text)
                    .map(|_| Checked)
                    .map_err(de::Error::custom);
            }
            let seen = if hashed.is_empty() {
                listed.iter().any(|k| k.0 == key)
            } else {
                hashed.contains(&key)
            };
            if seen {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            map.next_value::<Checked>()?;
            if hashed.is_empty() && listed.len() < LISTED_KEYS {
                listed.push(Key(key));
            } else {
                hashed.extend(listed.drain(..).map(|k| k.0));
                hashed.insert(key);
            }
        }
        Ok(Checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        let e = strict_from_str(r#"{"a": {"b": 1, "b": 2}}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key `b`"), "{e}");
        assert_eq!(e.line(), 1);
        assert!(strict_from_str(r#"[{"x": 1}, {"x": 2}]"#).is_ok());
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        let v = strict_from_str(r#"{"n": 9.99999999999999999999, "i": 7, "e": 1e2}"#).unwrap();
        assert_eq!(
            decimal(&v["n"]).unwrap().to_string(),
            "9.99999999999999999999"
        );
        assert_eq!(v["i"].as_i64(), Some(7));
        assert_eq!(decimal(&v["e"]), Some(Decimal::from(100)));
        // The same through serde_json's own parser, now that numbers are exact.
        let plain: Value = serde_json::from_str("9.99999999999999999999").unwrap();
        assert_eq!(
            decimal(&plain).unwrap().to_string(),
            "9.99999999999999999999"
        );
    }

    #[test]
    fn checking_without_building_agrees_with_reading() {
        let mut many = String::from("{");
        for i in 0..40 {
            many.push_str(&format!("\"k{i}\": {i}, "));
        }
        let cases = [
            r#"{"a": {"b": 1, "b": 2}}"#.to_owned(),
            r#"[{"x": 1}, {"x": 2}]"#.to_owned(),
            r#"{"a\u0062": 1, "ab": 2}"#.to_owned(),
            r#"{"n": 9.99999999999999999999, "e": 1e2, "s": "x", "z": null, "t": true}"#.to_owned(),
            format!("{many}\"k3\": 0}}"),
            format!("{many}\"k40\": 0}}"),
            "{} x".to_owned(),
            "{\"a\": }".to_owned(),
            "[1, 2".to_owned(),
        ];
        for case in cases {
            let read = strict_from_str(&case)
                .map(|_| ())
                .map_err(|e| e.to_string());
            let checked = check_strict_slice(case.as_bytes()).map_err(|e| e.to_string());
            assert_eq!(read, checked, "{case}");
        }
    }

    #[test]
    fn a_value_that_does_not_read_says_where() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Doc {
            items: Vec<Item>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            n: u32,
        }
        let at = |text: &str| {
            from_value_located::<Doc>(&strict_from_str(text).unwrap())
                .unwrap_err()
                .pointer
        };
        assert_eq!(at(r#"{"items": [{"n": 1}, {"n": "x"}]}"#), "/items/1/n");
        assert_eq!(at(r#"{"items": 3}"#), "/items");
        assert_eq!(at("[]"), "");
        assert!(from_value_located::<Doc>(&strict_from_str(r#"{"items": []}"#).unwrap()).is_ok());
    }

    #[test]
    fn reading_text_agrees_with_reading_its_value() {
        let ev = |extra: &str| {
            format!(
                r#"{{"evaluations": [{{"judge": "j1", "application": "a1", "marks": {{"x": 7.5}}}},
                {{"judge": "j2", "application": "a1", "marks": {{"x": 9.99999999999999999999, "y": "good", "z": 1e1}}{extra}}}]}}"#
            )
        };
        let cases = [
            ev(""),
            ev(r#", "abstained": ["c1"], "comment": "fine""#),
            ev(r#", "note": "typo""#),
            ev(r#", "abstained": "c1""#),
            ev(r#", "criterion_comments": {"c1": 3}"#),
            r#"{"evaluations": [{"judge": "j1", "marks": {}}]}"#.to_owned(),
            r#"{"evaluations": [{"judge": "j1", "application": "a1", "marks": {"x": [1]}}]}"#
                .to_owned(),
            r#"{"evaluations": {}}"#.to_owned(),
            r#"{"rankings": [{"judge": "j", "category": "c", "order": ["a", 2]}]}"#.to_owned(),
            "[]".to_owned(),
        ];
        let mut failures = 0;
        for case in &cases {
            let from_value = from_value_located::<crate::Marks>(&strict_from_str(case).unwrap());
            let from_text = from_str_located::<crate::Marks>(case);
            match (from_value, from_text) {
                (Ok(a), Ok(b)) => assert_eq!(
                    serde_json::to_string(&a).unwrap(),
                    serde_json::to_string(&b).unwrap(),
                    "{case}"
                ),
                (Err(a), Err(b)) => {
                    failures += 1;
                    // The same place; the same words, but that the text names a number as
                    // written (`integer \`3\``) where the tree says `number`.
                    let words =
                        |m: &str| match (m.strip_prefix("invalid type: "), m.find(", expected")) {
                            (Some(_), Some(k)) => format!("invalid type{}", &m[k..]),
                            _ => m.to_owned(),
                        };
                    assert_eq!(
                        (&a.pointer, words(&a.message)),
                        (&b.pointer, words(&b.message)),
                        "{case}"
                    );
                }
                (a, b) => panic!("{case}: {a:?} against {b:?}"),
            }
        }
        // Seven do not read (`[]` does, as an empty document: both ways).
        assert_eq!(failures, 7);
        // Exact numbers survive the text path too.
        let marks: crate::Marks = from_str_located(&cases[0]).unwrap();
        let x = marks.evaluations[1].marks.values().next().unwrap();
        assert_eq!(
            x,
            &crate::Mark::Number("9.99999999999999999999".parse().unwrap())
        );
    }

    #[test]
    fn trailing_text_is_an_error() {
        assert!(strict_from_str("{} x").is_err());
    }
}
