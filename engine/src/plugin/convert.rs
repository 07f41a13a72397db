//! JSON to rhai values and back, numbers as exact decimals (no floats anywhere).
//!
//! Going out, a value is read in place (never cloned), no deeper than the output depth limit,
//! and its JSON size is counted as it is built, so an oversized or over-deep value is refused
//! early, at a cost bounded by the limits rather than by the value.

use rhai::{Array, Dynamic, Map};
use serde_json::{Number, Value};

/// Deepest input nesting passed in; JSON parsed by Laurel is never deeper than 128.
const INPUT_DEPTH: usize = 128;

/// A JSON value as a rhai value: integers as `i64`, other numbers as `Decimal`.
pub(crate) fn to_dynamic(value: &Value) -> Dynamic {
    to_dynamic_at(value, 0)
}

fn to_dynamic_at(value: &Value, depth: usize) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => crate::json::exact_decimal(n).map_or(Dynamic::UNIT, Dynamic::from_decimal),
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
pub(crate) enum OutError {
    /// Nested deeper than the limit.
    Depth(u32),
    /// Larger than the limit, in bytes of JSON.
    Size(u64),
    /// Of a type JSON cannot hold.
    Type(String),
}

struct Out {
    bytes: u64,
    max_bytes: u64,
    max_depth: u32,
}

impl Out {
    fn add(&mut self, n: usize) -> Result<(), OutError> {
        self.bytes = self.bytes.saturating_add(n as u64);
        if self.bytes > self.max_bytes {
            return Err(OutError::Size(self.max_bytes));
        }
        Ok(())
    }
}

/// A rhai value as JSON; decimals become decimal strings (exact). At most `max_depth` levels
/// of arrays and maps and about `max_bytes` of JSON.
pub(crate) fn to_json(value: &Dynamic, max_bytes: u64, max_depth: u32) -> Result<Value, OutError> {
    let mut out = Out {
        bytes: 0,
        max_bytes,
        max_depth,
    };
    walk(value, 0, &mut out)
}

fn walk(value: &Dynamic, depth: u32, out: &mut Out) -> Result<Value, OutError> {
    if value.is_unit() {
        out.add(4)?;
        return Ok(Value::Null);
    }
    if let Ok(b) = value.as_bool() {
        out.add(5)?;
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        out.add(20)?;
        return Ok(Value::Number(Number::from(i)));
    }
    if let Ok(d) = value.as_decimal() {
        out.add(32)?;
        return Ok(Value::String(d.normalize().to_string()));
    }
    if let Ok(s) = value.as_immutable_string_ref() {
        out.add(s.len() + 2)?;
        return Ok(Value::String(s.as_str().to_owned()));
    }
    if value.is_array() || value.is_map() {
        if depth >= out.max_depth {
            return Err(OutError::Depth(out.max_depth));
        }
        if let Ok(items) = value.as_array_ref() {
            out.add(2)?;
            let mut json = Vec::with_capacity(items.len().min(1_024));
            for item in items.iter() {
                out.add(1)?;
                json.push(walk(item, depth + 1, out)?);
            }
            return Ok(Value::Array(json));
        }
        if let Ok(map) = value.as_map_ref() {
            out.add(2)?;
            let mut json = serde_json::Map::new();
            for (k, v) in map.iter() {
                out.add(k.len() + 4)?;
                json.insert(k.to_string(), walk(v, depth + 1, out)?);
            }
            return Ok(Value::Object(json));
        }
    }
    Err(OutError::Type(value.type_name().to_owned()))
}
