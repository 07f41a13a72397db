//! Every limit a plugin runs under: one value, the manifest's requests capped by the host.
//!
//! rhai scripts and wasm modules run in one sandbox (`sandbox.rs`): the same fuel, epoch
//! deadline, linear-memory cap, wasm stack and output cap bound both. The rhai interpreter
//! also counts operations and checks sizes and depths itself, so that scripts meet limits
//! their authors can read about; the worst legal script (the deepest call nesting, each level
//! at the deepest expression nesting) runs within the wasm stack (`tests/sandbox.rs`).

use std::time::Duration;

use serde::Serialize;

use crate::definition::wire::LimitsSpec;

/// The limits of one plugin's calls and of loading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Wall-clock deadline of one call.
    #[serde(serialize_with = "millis")]
    pub timeout: Duration,
    /// rhai: operations per call.
    pub operations: u64,
    /// wasm: fuel per call.
    pub fuel: u64,
    /// Memory one call may hold: linear memory for wasm; for rhai, what the interpreter's
    /// memory may grow by during the call.
    pub memory_bytes: u64,
    /// Largest output, in bytes of JSON.
    pub output_bytes: u64,
    /// Deepest nesting of the output's arrays and objects.
    pub output_depth: u32,
    /// rhai: deepest function-call nesting.
    pub call_depth: u32,
    /// rhai: deepest expression nesting (at parse and at run time).
    pub expr_depth: u32,
    /// rhai: longest string, in bytes (and all strings of one value together).
    pub string_bytes: u64,
    /// rhai: largest array or map (items of one value, nested ones included).
    pub collection_items: u64,
    /// Longest message a plugin can pass on (an error, a reason, a log line), in bytes.
    pub message_bytes: u64,
    /// Largest plugin file: a rhai script or a wasm module, in bytes.
    pub source_bytes: u64,
    /// wasm: most functions a module may define.
    pub module_functions: u32,
    /// wasm: largest function body, in bytes.
    pub function_bytes: u32,
    /// Longest a plugin may take to compile.
    #[serde(serialize_with = "millis")]
    pub compile_time: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_millis())
}

impl Limits {
    /// What a plugin gets when its manifest asks for nothing.
    pub const DEFAULT: Limits = Limits {
        timeout: Duration::from_millis(200),
        operations: 1_000_000,
        fuel: 50_000_000,
        memory_bytes: 16 << 20,
        output_bytes: 64 << 10,
        output_depth: 32,
        call_depth: 24,
        expr_depth: 48,
        string_bytes: 64 << 10,
        collection_items: 10_000,
        message_bytes: 1 << 10,
        source_bytes: 4 << 20,
        module_functions: 10_000,
        function_bytes: 256 << 10,
        compile_time: Duration::from_secs(10),
    };

    /// The most a manifest can ask for.
    pub const MAXIMA: Limits = Limits {
        timeout: Duration::from_secs(2),
        operations: 50_000_000,
        fuel: 2_000_000_000,
        memory_bytes: 256 << 20,
        output_bytes: 1 << 20,
        output_depth: 32,
        call_depth: 48,
        expr_depth: 64,
        string_bytes: 1 << 20,
        collection_items: 100_000,
        message_bytes: 1 << 10,
        source_bytes: 4 << 20,
        module_functions: 10_000,
        function_bytes: 256 << 10,
        compile_time: Duration::from_secs(10),
    };

    /// The limits for a plugin whose manifest asks for `spec`: each request, or the default,
    /// capped by the maximum. What a manifest cannot ask for stays at the default.
    pub fn resolve(spec: &LimitsSpec) -> Limits {
        let (d, m) = (Self::DEFAULT, Self::MAXIMA);
        let pick = |asked: Option<u64>, default: u64, max: u64| asked.unwrap_or(default).min(max);
        Limits {
            timeout: Duration::from_millis(pick(
                spec.timeout_ms,
                d.timeout.as_millis() as u64,
                m.timeout.as_millis() as u64,
            )),
            operations: pick(spec.operations, d.operations, m.operations),
            fuel: pick(spec.fuel, d.fuel, m.fuel),
            memory_bytes: pick(spec.memory_bytes, d.memory_bytes, m.memory_bytes),
            output_bytes: pick(spec.output_bytes, d.output_bytes, m.output_bytes),
            call_depth: pick(
                spec.call_depth.map(u64::from),
                u64::from(d.call_depth),
                u64::from(m.call_depth),
            ) as u32,
            ..d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_capped_by_the_maxima() {
        let spec = LimitsSpec {
            timeout_ms: Some(60_000),
            operations: Some(10),
            ..LimitsSpec::default()
        };
        let l = Limits::resolve(&spec);
        assert_eq!(l.timeout, Limits::MAXIMA.timeout);
        assert_eq!(l.operations, 10);
        assert_eq!(l.fuel, Limits::DEFAULT.fuel);
    }

    #[test]
    fn no_default_exceeds_its_maximum() {
        let (d, m) = (Limits::DEFAULT, Limits::MAXIMA);
        assert!(d.timeout <= m.timeout && d.operations <= m.operations && d.fuel <= m.fuel);
        assert!(d.memory_bytes <= m.memory_bytes && d.output_bytes <= m.output_bytes);
        assert!(d.call_depth <= m.call_depth && d.expr_depth <= m.expr_depth);
        assert!(d.string_bytes <= m.string_bytes && d.collection_items <= m.collection_items);
    }
}
