//! The Laurel plugin SDK: write a hook as a plain function over serde types, and export it with
//! [`export_hooks!`].
//!
//! ```
//! use laurel_plugin_sdk::{export_hooks, ScoreInput, ScoreOutput};
//!
//! fn score(input: ScoreInput) -> Result<ScoreOutput, String> {
//!     Ok(ScoreOutput { score: input.total, explanation: None })
//! }
//!
//! export_hooks!(score: score);
//! ```
//!
//! The macro exports the ABI (version 1): `laurel_abi_version`, `laurel_alloc` and
//! `laurel_call`, which decodes the hook's JSON input, calls your function, and encodes
//! `{"ok": output}` or `{"error": message}`. Build with
//! `cargo build --release --target wasm32-unknown-unknown` and a `cdylib` crate type.

use std::collections::BTreeMap;

#[cfg(all(target_arch = "wasm32", feature = "arena"))]
mod arena;
#[cfg(all(target_arch = "wasm32", feature = "arena"))]
#[global_allocator]
static ARENA: arena::Arena = arena::Arena::new();

pub use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
pub use serde_json::{Map, Value, json};

/// The ABI version this SDK speaks.
pub const ABI_VERSION: i32 = 1;

/// An application as plugins receive it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Application {
    /// Its id.
    pub id: String,
    /// Its category.
    pub category: String,
    /// Its applicant type.
    pub applicant_type: String,
    /// The form's answers.
    #[serde(deserialize_with = "fields")]
    pub fields: Map<String, Value>,
}

/// The form's answers, read into a list and then made a map in one go: inserting them one by
/// one, as the map's own reading does, cost about a sixth of a score hook's fuel (20 answers).
/// Equal keys keep the last value, as inserting them does.
fn fields<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    struct Fields;
    impl<'de> serde::de::Visitor<'de> for Fields {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("the form's answers, by field")
        }
        fn visit_map<M: serde::de::MapAccess<'de>>(
            self,
            mut m: M,
        ) -> Result<Self::Value, M::Error> {
            let mut answers: Vec<(String, Value)> = Vec::with_capacity(m.size_hint().unwrap_or(16));
            while let Some(field) = m.next_key()? {
                answers.push((field, m.next_value()?));
            }
            Ok(answers.into_iter().collect())
        }
    }
    d.deserialize_map(Fields)
}

impl Application {
    /// A number field as an exact decimal.
    pub fn number(&self, field: &str) -> Option<Decimal> {
        match self.fields.get(field)? {
            Value::Number(n) => exact(n.as_str()),
            Value::String(s) => exact(s),
            _ => None,
        }
    }

    /// A text or choice field.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field)?.as_str()
    }
}

/// A decimal written plainly (`7.25`) or with an exponent (`725e-2`).
fn exact(text: &str) -> Option<Decimal> {
    text.parse()
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

/// Input of the `eligibility` and `validate` hooks.
#[derive(Debug, Clone, Deserialize)]
pub struct ApplicationInput {
    /// The application.
    pub application: Application,
}

/// Output of `eligibility`.
#[derive(Debug, Clone, Serialize)]
pub struct EligibilityOutput {
    /// Whether the application meets the plugin's rules.
    pub eligible: bool,
    /// Why not.
    pub reasons: Vec<String>,
}

/// Input of `indicator`.
#[derive(Debug, Clone, Deserialize)]
pub struct IndicatorInput {
    /// The application.
    pub application: Application,
    /// The indicator computed.
    pub indicator: String,
}

/// Output of `indicator`.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorOutput {
    /// The value, on the indicator's scale.
    pub value: Decimal,
}

/// Input of `score`.
#[derive(Debug, Clone, Deserialize)]
pub struct ScoreInput {
    /// The application.
    pub application: Application,
    /// The panel's total.
    pub total: Decimal,
    /// The panel's score per criterion.
    pub criteria: BTreeMap<String, Decimal>,
    /// How many judges marked it.
    pub judges: usize,
}

/// Output of `score`.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreOutput {
    /// The score, replacing the total.
    pub score: Decimal,
    /// How it was computed, kept in the results' trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Value>,
}

/// One tied application.
#[derive(Debug, Clone, Deserialize)]
pub struct Tied {
    /// The application.
    pub application: Application,
    /// Its score.
    pub score: Decimal,
    /// The panel's score on each criterion, by criterion id.
    #[serde(default)]
    pub criteria: BTreeMap<String, Decimal>,
}

/// Input of `tie_break`.
#[derive(Debug, Clone, Deserialize)]
pub struct TieBreakInput {
    /// The tied applications.
    pub tied: Vec<Tied>,
}

/// Output of `tie_break`.
#[derive(Debug, Clone, Serialize)]
pub struct TieBreakOutput {
    /// Every tied application's id, best first.
    pub order: Vec<String>,
}

/// Output of `validate`.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateOutput {
    /// Problems found.
    pub errors: Vec<ValidateError>,
}

/// One problem.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateError {
    /// A JSON pointer into the application.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "laurel")]
unsafe extern "C" {
    #[link_name = "log"]
    fn laurel_log(ptr: i32, len: i32);
}

/// Writes a line to the host's log of this call (shown by `laurel plugin run`).
pub fn log(message: &str) {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: the host reads `len` bytes at `ptr`, which `message` owns for the call.
    unsafe {
        laurel_log(message.as_ptr() as i32, message.len() as i32)
    };
    #[cfg(not(target_arch = "wasm32"))]
    let _ = message;
}

/// The ABI's plumbing, used by [`export_hooks!`].
#[doc(hidden)]
pub mod abi {
    use super::*;

    /// Reserves `len` bytes for the host to write the input into.
    pub fn alloc(len: i32) -> i32 {
        let mut buf: Vec<u8> = Vec::with_capacity(len.max(0) as usize);
        let ptr = buf.as_mut_ptr();
        std::mem::forget(buf);
        ptr as i32
    }

    /// Takes back the input the host wrote at `ptr`.
    ///
    /// # Safety
    /// `ptr` and `len` must come from [`alloc`] and the host's write of exactly `len` bytes.
    pub unsafe fn input(ptr: i32, len: i32) -> Vec<u8> {
        // SAFETY: the caller passes what `alloc` reserved and the host filled.
        unsafe { Vec::from_raw_parts(ptr as *mut u8, len.max(0) as usize, len.max(0) as usize) }
    }

    /// Decodes the input, calls the hook, and encodes `{"ok": output}`, in one pass.
    pub fn run<I: DeserializeOwned, O: Serialize>(
        input: &[u8],
        hook: fn(I) -> Result<O, String>,
    ) -> Result<Vec<u8>, String> {
        #[derive(Serialize)]
        struct Framed<T> {
            ok: T,
        }
        let input: I =
            serde_json::from_slice(input).map_err(|e| format!("cannot read the input: {e}"))?;
        let ok = hook(input)?;
        serde_json::to_vec(&Framed { ok }).map_err(|e| format!("cannot write the output: {e}"))
    }

    /// Hands `{"ok": ...}` or `{"error": ...}` to the host as `ptr << 32 | len`. The instance
    /// is discarded after the call, so the buffer is never freed.
    pub fn output(result: Result<Vec<u8>, String>) -> i64 {
        let bytes = result.unwrap_or_else(|e| {
            serde_json::to_vec(&json!({ "error": e }))
                .unwrap_or_else(|_| br#"{"error":"cannot encode the output"}"#.to_vec())
        });
        let bytes = bytes.into_boxed_slice();
        let len = bytes.len() as i64;
        let ptr = Box::into_raw(bytes) as *mut u8 as i64;
        (ptr << 32) | len
    }
}

/// The number of a hook in the ABI.
#[doc(hidden)]
#[macro_export]
macro_rules! hook_number {
    (eligibility) => {
        1
    };
    (indicator) => {
        2
    };
    (score) => {
        3
    };
    (tie_break) => {
        4
    };
    (validate) => {
        5
    };
}

/// Exports hook functions: `export_hooks!(score: my_score, eligibility: my_rules);`. Each
/// function takes the hook's input type and returns `Result<Output, String>`.
#[macro_export]
macro_rules! export_hooks {
    ($($hook:ident : $function:path),* $(,)?) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn laurel_abi_version() -> i32 {
            $crate::ABI_VERSION
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn laurel_alloc(len: i32) -> i32 {
            $crate::abi::alloc(len)
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn laurel_call(hook: i32, ptr: i32, len: i32) -> i64 {
            // SAFETY: the host passes back the buffer `laurel_alloc` gave it, filled.
            let input = unsafe { $crate::abi::input(ptr, len) };
            let result = match hook {
                $( $crate::hook_number!($hook) => $crate::abi::run(&input, $function), )*
                other => Err(format!("hook {other} is not implemented by this plugin")),
            };
            $crate::abi::output(result)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An application's answers are the map serde_json reads from the same text: equal keys
    /// (the last wins), nested values, exact numbers, any order.
    #[test]
    fn answers_read_as_the_map_reads_them() {
        for fields in [
            r#"{}"#,
            r#"{"m1": 7.25, "m0": "a", "m10": [1, {"x": 2}], "z": null, "b": true}"#,
            r#"{"k": 1, "k": 2, "j": 3, "k": 0.1000000000000000000000000001}"#,
            r#"{"deep": {"a": {"b": {"c": [1e400, -0]}}}, "e": 1E-7}"#,
        ] {
            let text = format!(
                r#"{{"id": "a", "category": "c", "applicant_type": "t", "fields": {fields}}}"#
            );
            let read: Application = serde_json::from_str(&text).unwrap();
            let map: Map<String, Value> = serde_json::from_str(fields).unwrap();
            assert_eq!(read.fields, map, "{fields}");
        }
        let wrong = r#"{"id": "a", "category": "c", "applicant_type": "t", "fields": [1]}"#;
        assert!(serde_json::from_str::<Application>(wrong).is_err());
    }
}
