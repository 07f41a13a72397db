//! JSON to rhai values and back, numbers as exact decimals (no floats anywhere).
//!
//! Going out, a value is written in place (never cloned), no deeper than the output depth
//! limit, and its size is checked as it is written, so an oversized or over-deep value is
//! refused early, at a cost bounded by the limits rather than by the value.

use std::fmt;
use std::str::FromStr;

use rhai::{Array, Dynamic, Map};
use rust_decimal::Decimal;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// How serde_json (with `arbitrary_precision`) hands a number's text to a visitor: a map of
/// one entry under this key.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Reads JSON text straight into a rhai value, as [`to_dynamic`] converts a parsed one: no
/// intermediate tree.
pub fn read_dynamic(json: &[u8]) -> Result<Dynamic, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = Seed(0).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A number's text as a rhai value: an `i64` when it is a whole number that fits, otherwise an
/// exact decimal; `()` when it fits neither.
fn number(text: &str) -> Dynamic {
    if let Ok(i) = text.parse::<i64>() {
        return Dynamic::from_int(i);
    }
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
        .map_or(Dynamic::UNIT, Dynamic::from_decimal)
}

/// Reads one value at a nesting depth.
struct Seed(usize);

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Dynamic;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Dynamic, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed {
    type Value = Dynamic;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Dynamic, E> {
        Ok(Dynamic::UNIT)
    }

    fn visit_none<E>(self) -> Result<Dynamic, E> {
        Ok(Dynamic::UNIT)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Dynamic, E> {
        Ok(Dynamic::from_bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Dynamic, E> {
        Ok(Dynamic::from_int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Dynamic, E> {
        Ok(i64::try_from(u).map_or_else(|_| number(&u.to_string()), Dynamic::from_int))
    }

    fn visit_str<E>(self, s: &str) -> Result<Dynamic, E> {
        Ok(Dynamic::from(rhai::ImmutableString::from(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Dynamic, A::Error> {
        if self.0 >= INPUT_DEPTH {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            return Ok(Dynamic::UNIT);
        }
        let mut items = Array::with_capacity(seq.size_hint().unwrap_or(0).min(1_024));
        while let Some(item) = seq.next_element_seed(Seed(self.0 + 1))? {
            items.push(item);
        }
        Ok(Dynamic::from_array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dynamic, A::Error> {
        let Some(first) = map.next_key::<std::borrow::Cow<'de, str>>()? else {
            return Ok(Dynamic::from_map(Map::new()));
        };
        if first == NUMBER_TOKEN {
            let text: String = map.next_value()?;
            return Ok(number(&text));
        }
        if self.0 >= INPUT_DEPTH {
            map.next_value::<serde::de::IgnoredAny>()?;
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            return Ok(Dynamic::UNIT);
        }
        let mut m = Map::new();
        let value = map.next_value_seed(Seed(self.0 + 1))?;
        m.insert(first.as_ref().into(), value);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value = map.next_value_seed(Seed(self.0 + 1))?;
            m.insert(key.as_ref().into(), value);
        }
        Ok(Dynamic::from_map(m))
    }
}

/// Deepest input nesting passed in; JSON parsed by Laurel is never deeper than 128.
const INPUT_DEPTH: usize = 128;

/// A JSON value as a rhai value: integers as `i64`, other numbers as `Decimal` (exact: read
/// from the number's text, never through a double).
pub fn to_dynamic(value: &Value) -> Dynamic {
    to_dynamic_at(value, 0)
}

fn exact_decimal(n: &Number) -> Option<Decimal> {
    let text = n.to_string();
    Decimal::from_str(&text)
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
}

fn to_dynamic_at(value: &Value, depth: usize) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => exact_decimal(n).map_or(Dynamic::UNIT, Dynamic::from_decimal),
        },
        Value::String(s) => Dynamic::from(s.clone()),
        _ if depth >= INPUT_DEPTH => Dynamic::UNIT,
        Value::Array(items) => Dynamic::from_array(
            items
                .iter()
                .map(|v| to_dynamic_at(v, depth + 1))
                .collect::<Array>(),
        ),
        Value::Object(map) => {
            let mut m = Map::new();
            for (k, v) in map {
                m.insert(k.as_str().into(), to_dynamic_at(v, depth + 1));
            }
            Dynamic::from_map(m)
        }
    }
}

/// Why a value cannot be passed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutError {
    /// Nested deeper than the limit.
    Depth(u32),
    /// Larger than the limit, in bytes of JSON.
    Size(u64),
    /// Of a type JSON cannot hold.
    Type(String),
}

struct Out<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
    max_bytes: u64,
    max_depth: u32,
}

impl Out<'_> {
    fn check(&self) -> Result<(), OutError> {
        if (self.buf.len() - self.start) as u64 > self.max_bytes {
            return Err(OutError::Size(self.max_bytes));
        }
        Ok(())
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<(), OutError> {
        self.buf.extend_from_slice(bytes);
        self.check()
    }

    fn string(&mut self, s: &str) -> Result<(), OutError> {
        // Checked before it is written: a string can be as long as the string limit.
        if (self.buf.len() - self.start + s.len()) as u64 > self.max_bytes {
            return Err(OutError::Size(self.max_bytes));
        }
        serde_json::to_writer(&mut *self.buf, s).map_err(|_| OutError::Size(self.max_bytes))?;
        self.check()
    }
}

/// Writes a rhai value as JSON to `buf`; decimals become decimal strings (exact). At most
/// `max_depth` levels of arrays and maps and `max_bytes` of JSON.
pub fn write_json(
    value: &Dynamic,
    max_bytes: u64,
    max_depth: u32,
    buf: &mut Vec<u8>,
) -> Result<(), OutError> {
    let start = buf.len();
    let mut out = Out {
        buf,
        start,
        max_bytes,
        max_depth,
    };
    walk(value, 0, &mut out)
}

fn walk(value: &Dynamic, depth: u32, out: &mut Out) -> Result<(), OutError> {
    if value.is_unit() {
        return out.raw(b"null");
    }
    if let Ok(b) = value.as_bool() {
        return out.raw(if b { b"true" } else { b"false" });
    }
    if let Ok(i) = value.as_int() {
        return out.raw(i.to_string().as_bytes());
    }
    if let Ok(d) = value.as_decimal() {
        return out.string(&d.normalize().to_string());
    }
    if let Ok(s) = value.as_immutable_string_ref() {
        return out.string(s.as_str());
    }
    if value.is_array() || value.is_map() {
        if depth >= out.max_depth {
            return Err(OutError::Depth(out.max_depth));
        }
        if let Ok(items) = value.as_array_ref() {
            out.raw(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.raw(b",")?;
                }
                walk(item, depth + 1, out)?;
            }
            return out.raw(b"]");
        }
        if let Ok(map) = value.as_map_ref() {
            out.raw(b"{")?;
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.raw(b",")?;
                }
                out.string(k.as_str())?;
                out.raw(b":")?;
                walk(v, depth + 1, out)?;
            }
            return out.raw(b"}");
        }
    }
    Err(OutError::Type(value.type_name().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(value: &Dynamic) -> Result<Value, OutError> {
        let mut buf = Vec::new();
        write_json(value, 1 << 20, 32, &mut buf)?;
        Ok(serde_json::from_slice(&buf).unwrap_or(Value::Null))
    }

    #[test]
    fn reading_text_is_converting_a_parsed_value() {
        let text = r#"{"a": 7, "b": 1234567.123456789012345678, "c": ["x\"y", null, true, -3, 1e2, 18446744073709551615],
                      "d": {"e": {}, "f": [], "g": 0.1}}"#;
        let parsed: Value = serde_json::from_str(text).unwrap_or_default();
        let direct = read_dynamic(text.as_bytes()).unwrap_or_default();
        assert_eq!(format!("{direct:?}"), format!("{:?}", to_dynamic(&parsed)));
        assert!(read_dynamic(b"{\"a\": 1} x").is_err());
    }

    #[test]
    fn numbers_stay_exact_both_ways() {
        let input: Value =
            serde_json::from_str(r#"{"a": 7, "b": 1234567.123456789012345678, "c": "x\"y"}"#)
                .unwrap_or_default();
        let value = to_dynamic(&input);
        let out = json(&value).unwrap_or_default();
        assert_eq!(out["a"], 7);
        assert_eq!(out["b"], "1234567.123456789012345678");
        assert_eq!(out["c"], "x\"y");
    }

    #[test]
    fn size_and_depth_are_refused() {
        let mut buf = Vec::new();
        let long = Dynamic::from("x".repeat(100));
        assert_eq!(write_json(&long, 50, 4, &mut buf), Err(OutError::Size(50)));
        let mut deep = Dynamic::from_int(1);
        for _ in 0..5 {
            deep = Dynamic::from_array(vec![deep]);
        }
        buf.clear();
        assert_eq!(
            write_json(&deep, 1 << 10, 4, &mut buf),
            Err(OutError::Depth(4))
        );
    }
}
