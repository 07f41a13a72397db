//! Every limit a plugin runs under: one value, the manifest's requests capped by the host.

use std::time::Duration;

use serde::Serialize;

use crate::definition::wire::LimitsSpec;

/// The limits of one plugin's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Wall-clock deadline of one call.
    #[serde(serialize_with = "millis")]
    pub timeout: Duration,
    /// rhai: operations per call.
    pub operations: u64,
    /// wasm: fuel per call.
    pub fuel: u64,
    /// Linear memory (wasm) per call, in bytes.
    pub memory_bytes: u64,
    /// Largest output, in bytes of JSON.
    pub output_bytes: u64,
    /// rhai: deepest function-call nesting.
    pub call_depth: u32,
    /// rhai: deepest expression nesting (at parse and at run time).
    pub expr_depth: u32,
    /// rhai: longest string, in bytes.
    pub string_bytes: u64,
    /// rhai: largest array or map.
    pub collection_items: u64,
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
        call_depth: 24,
        expr_depth: 48,
        string_bytes: 64 << 10,
        collection_items: 10_000,
    };

    /// The most a manifest can ask for.
    pub const MAXIMA: Limits = Limits {
        timeout: Duration::from_secs(2),
        operations: 50_000_000,
        fuel: 2_000_000_000,
        memory_bytes: 256 << 20,
        output_bytes: 1 << 20,
        call_depth: 48,
        expr_depth: 64,
        string_bytes: 1 << 20,
        collection_items: 100_000,
    };

    /// The limits for a plugin whose manifest asks for `spec`: each request, or the default,
    /// capped by the maximum.
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
}
