//! Hostile plugins: every limit of the rhai and wasm hosts is hit by a fixture under
//! `plugins/fixtures/`, and fails with a typed error naming the plugin and the limit, within its
//! deadline, while the host goes on; in a batch, the others are scored normally.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use laurel::wire::{Hook, LimitsSpec};
use laurel::{Limits, Plugin, PluginError, RhaiPlugin, WasmPlugin};
use serde_json::json;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/fixtures")
}

fn limits(spec: LimitsSpec) -> Limits {
    Limits::resolve(&spec)
}

fn load(name: &str, limits: Limits) -> Result<Box<dyn Plugin>, PluginError> {
    let path = fixtures().join(name);
    let id = name.split('.').next().unwrap();
    if name.ends_with(".rhai") {
        let source = std::fs::read_to_string(path).unwrap();
        RhaiPlugin::load(id, &source, &[Hook::Score], limits)
            .map(|p| Box::new(p) as Box<dyn Plugin>)
    } else {
        let bytes = std::fs::read(path).unwrap();
        WasmPlugin::load(id, &bytes, limits).map(|p| Box::new(p) as Box<dyn Plugin>)
    }
}

fn input() -> serde_json::Value {
    json!({ "application": { "id": "a", "category": "c", "applicant_type": "t", "fields": {} }, "total": "5", "criteria": {}, "judges": 3 })
}

/// Runs a fixture's score hook; returns the error and how long the call took.
fn call(name: &str, limits: Limits) -> (PluginError, Duration) {
    let plugin = load(name, limits).unwrap_or_else(|e| panic!("{name} did not load: {e}"));
    let start = Instant::now();
    let error = plugin.call(Hook::Score, &input()).expect_err(name);
    (error, start.elapsed())
}

fn assert_limit(name: &str, limits: Limits, limit: &str) {
    let (error, elapsed) = call(name, limits);
    match &error {
        PluginError::Limit {
            plugin, limit: hit, ..
        } => {
            assert_eq!(plugin, name.split('.').next().unwrap(), "{name}");
            assert_eq!(hit, limit, "{name}: {error}");
        }
        other => panic!("{name}: expected the {limit} limit, got {other}"),
    }
    // Within the deadline (generously: these machines are shared).
    assert!(
        elapsed < limits.timeout * 10 + Duration::from_secs(1),
        "{name} took {elapsed:?}"
    );
    assert!(error.to_string().contains(limit), "{error}");
}

#[test]
fn rhai_limits_are_enforced() {
    let fast = limits(LimitsSpec {
        timeout_ms: Some(2_000),
        ..LimitsSpec::default()
    });
    assert_limit("infinite-loop.rhai", fast, "operations");
    assert_limit("deep-recursion.rhai", fast, "call depth");
    assert_limit("string-bomb.rhai", fast, "size");
    assert_limit("array-bomb.rhai", fast, "size");
    assert_limit("huge-output.rhai", fast, "output");
    let slow = limits(LimitsSpec {
        timeout_ms: Some(50),
        operations: Some(50_000_000),
        ..LimitsSpec::default()
    });
    assert_limit("slow-loop.rhai", slow, "time");
}

#[test]
fn rhai_failures_are_typed() {
    let (error, _) = call("throw.rhai", Limits::DEFAULT);
    assert!(
        matches!(&error, PluginError::Failed { message, .. } if message.contains("boom")),
        "{error}"
    );
    let (error, _) = call("clock.rhai", Limits::DEFAULT);
    assert!(
        matches!(&error, PluginError::Failed { message, .. } if message.contains("timestamp")),
        "{error}"
    );
    for (name, why) in [
        ("no-hook.rhai", "defines no function `score(input)`"),
        ("eval.rhai", "does not compile"),
        ("deep-expression.rhai", "does not compile"),
    ] {
        let error = load(name, Limits::DEFAULT).expect_err(name);
        assert!(error.to_string().contains(why), "{name}: {error}");
        assert!(error.to_string().contains(name.split('.').next().unwrap()));
    }
}

#[test]
fn wasm_limits_are_enforced() {
    let fast = limits(LimitsSpec {
        timeout_ms: Some(2_000),
        fuel: Some(10_000_000),
        ..LimitsSpec::default()
    });
    assert_limit("infinite-loop.wat", fast, "fuel");
    assert_limit("deep-recursion.wat", fast, "stack");
    assert_limit("memory-bomb.wat", fast, "memory");
    assert_limit("huge-output.wat", fast, "output");
    // Fuel does not count time spent in host calls: the epoch deadline stops this one.
    let slow = limits(LimitsSpec {
        timeout_ms: Some(50),
        fuel: Some(2_000_000_000),
        ..LimitsSpec::default()
    });
    assert_limit("host-call-loop.wat", slow, "time");
}

#[test]
fn wasm_failures_are_typed() {
    let (error, _) = call("trap.wat", Limits::DEFAULT);
    assert!(
        matches!(&error, PluginError::Failed { message, .. } if message.contains("unreachable")),
        "{error}"
    );
    let (error, _) = call("malformed-output.wat", Limits::DEFAULT);
    assert!(
        matches!(error, PluginError::MalformedOutput { .. }),
        "{error}"
    );
    for (name, why) in [
        (
            "wasi-import.wat",
            "imports `wasi_snapshot_preview1`.`fd_write`",
        ),
        ("unknown-import.wat", "imports `env`.`system`"),
        ("wrong-abi.wat", "ABI version 2"),
    ] {
        let error = load(name, Limits::DEFAULT).expect_err(name);
        assert!(error.to_string().contains(why), "{name}: {error}");
    }
}

#[test]
fn the_host_survives_and_a_fresh_instance_serves_each_call() {
    // After a trap and a limit, the same plugins answer again.
    let fast = limits(LimitsSpec {
        fuel: Some(10_000_000),
        ..LimitsSpec::default()
    });
    let looping = load("infinite-loop.wat", fast).unwrap();
    for _ in 0..3 {
        assert!(matches!(
            looping.call(Hook::Score, &input()),
            Err(PluginError::Limit { .. })
        ));
    }
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../rubrics/seoul-smart-city-prize-2023/plugins");
    let context = WasmPlugin::load(
        "context",
        &std::fs::read(folder.join("context-adjusted-score.wasm")).unwrap(),
        Limits::DEFAULT,
    )
    .unwrap();
    let app = |gdp: u32| {
        json!({ "application": { "id": "a", "category": "c", "applicant_type": "city",
        "fields": { "gdp_per_capita_usd": gdp, "internet_penetration_pct": 70, "digital_maturity": "developing" } },
        "total": "8", "criteria": {}, "judges": 5 })
    };
    // By hand: (0.6667 + 0.3 + 0.5) / 3 = 0.4889; 8 x 1.04889 = 8.39112 -> 8.3911.
    let first = context.call(Hook::Score, &app(3_000)).unwrap();
    assert_eq!(first.value["score"], "8.3911");
    // High income: (0 + 0.3 + 0.5) / 3 = 0.2667; 8 x 1.02667 = 8.21336 -> 8.2134.
    assert_eq!(
        context.call(Hook::Score, &app(50_000)).unwrap().value["score"],
        "8.2134"
    );
    assert_eq!(
        context.call(Hook::Score, &app(3_000)).unwrap().value,
        first.value
    );
    assert!(first.used > 0);
}

fn batch_award(plugin: &str, policy: &str) -> String {
    json!({
        "format_version": "1.1", "id": "batch", "name": "Batch", "edition": "1",
        "languages": {"default": "en", "available": ["en"]},
        "timeline": {"time_zone": "UTC", "opens": "2026-01-01T00:00:00Z", "closes": "2026-02-01T00:00:00Z", "results": "2026-03-01T00:00:00Z"},
        "applicant_types": [{"id": "team", "name": "Team"}],
        "form": {"fields": [{"id": "title", "type": "short_text", "label": "Title"}]},
        "scales": [{"id": "ten", "min": 0, "max": 10}],
        "categories": [{"id": "main", "name": "Main", "applicant_types": ["team"], "winners": 1,
            "criteria": [{"id": "c", "name": "C", "weight": 1, "indicators": [{"id": "m", "name": "m", "weight": 1}]}]}],
        "plugins": [{"id": "scorer", "kind": if plugin.ends_with(".wat") { "wasm" } else { "rhai" }, "path": plugin,
            "sha256": sha(plugin), "hooks": ["score"], "limits": {"operations": 100_000, "fuel": 1_000_000}}],
        "scoring": {"scale": "ten", "aggregation": {"method": "mean"}, "score_plugin": "scorer", "on_plugin_error": policy}
    })
    .to_string()
}

fn sha(name: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(
        std::fs::read(fixtures().join(name)).unwrap(),
    ))
}

fn run_batch(plugin: &str, policy: &str) -> Result<Vec<(String, String)>, laurel::InputErrors> {
    let files = |p: &str| std::fs::read(fixtures().join(p));
    let report = laurel::check_definition(&batch_award(plugin, policy), &files);
    let award = report
        .award
        .unwrap_or_else(|| panic!("{:#?}", report.diagnostics));
    let plugins = laurel::load_plugins(&award, &files).unwrap();
    let apps: Vec<laurel::Application> = ["good", "bad", "fine"]
        .iter()
        .map(|id| {
            serde_json::from_value(
                json!({"id": id, "category": "main", "applicant_type": "team", "fields": {}}),
            )
            .unwrap()
        })
        .collect();
    let marks: laurel::Marks = serde_json::from_value(json!({"evaluations": [
        {"judge": "j", "application": "good", "marks": {"m": 7}},
        {"judge": "j", "application": "bad", "marks": {"m": 9}},
        {"judge": "j", "application": "fine", "marks": {"m": 4}}]}))
    .unwrap();
    let results = laurel::evaluate(&award, &apps, &marks, &plugins)?;
    let c = &results.categories[0];
    let mut out: Vec<(String, String)> = c
        .ranking
        .iter()
        .map(|p| (p.application.to_string(), p.score.to_string()))
        .collect();
    out.extend(
        c.unscored
            .iter()
            .map(|u| (u.application.to_string(), u.reason.clone())),
    );
    Ok(out)
}

#[test]
fn in_a_batch_the_failed_application_carries_its_error_and_the_others_are_scored() {
    let out = run_batch("one-bad-apple.rhai", "unscored").unwrap();
    assert_eq!(out[0], ("good".to_owned(), "7".to_owned()));
    assert_eq!(out[1], ("fine".to_owned(), "4".to_owned()));
    assert_eq!(out[2].0, "bad");
    assert!(
        out[2]
            .1
            .contains("plugin `scorer` exceeded its operations limit"),
        "{}",
        out[2].1
    );
}

#[test]
fn a_batch_can_be_configured_to_fail_on_a_plugin_error() {
    let errors = run_batch("one-bad-apple.rhai", "fail").unwrap_err();
    let d: Vec<String> = errors
        .applications
        .iter()
        .map(|d| format!("{} {}", d.pointer, d.message))
        .collect();
    assert_eq!(d.len(), 1);
    assert!(
        d[0].starts_with("/1 plugin `scorer` exceeded its operations limit"),
        "{d:?}"
    );
}

#[test]
fn off_scale_and_malformed_scores_are_refused() {
    for plugin in ["off-scale.rhai", "off-scale.wat", "malformed-output.rhai"] {
        let out = run_batch(plugin, "unscored").unwrap();
        assert_eq!(out.len(), 3);
        for (app, reason) in &out {
            assert!(
                reason.contains("returned malformed output for hook `score`"),
                "{plugin} {app}: {reason}"
            );
        }
    }
}

/// The weighted-score fixture (built with the SDK: its arena allocator, exact numbers) on
/// `fields` plus whatever `extra` adds.
fn weighted(extra: serde_json::Value, limits: Limits) -> Result<laurel::PluginOutput, PluginError> {
    let plugin = load("weighted-score.wasm", limits).unwrap();
    let value = "1234567.123456789012345678";
    let mut fields: serde_json::Map<String, serde_json::Value> = (0..20)
        .map(|i| (format!("m{i}"), serde_json::from_str(value).unwrap()))
        .collect();
    if let serde_json::Value::Object(more) = extra {
        fields.extend(more);
    }
    let input = json!({ "application": { "id": "a", "category": "c", "applicant_type": "t", "fields": fields },
        "total": "5", "criteria": {}, "judges": 3 });
    plugin.call(Hook::Score, &input)
}

#[test]
fn an_sdk_plugin_reads_numbers_exactly_and_grows_its_memory_when_it_needs_to() {
    // Every indicator is the same 25-digit number, so the weighted mean is that number: a
    // detour through binary floating point would keep about 16 of its digits.
    let small = weighted(json!({}), Limits::DEFAULT).unwrap();
    assert_eq!(small.value["score"], "1234567.123456789012345678");
    // 600 KiB more input than the module's first memory holds: the arena grows the memory, and
    // the next call (a fresh instance in a reused slot) starts small again and is as exact.
    let padding = "x".repeat(600 << 10);
    let big = weighted(json!({ "notes": padding }), Limits::DEFAULT).unwrap();
    assert_eq!(big.value["score"], "1234567.123456789012345678");
    let again = weighted(json!({}), Limits::DEFAULT).unwrap();
    assert_eq!(again.value, small.value);
}

#[test]
fn an_sdk_plugin_that_outgrows_its_memory_limit_hits_the_limit() {
    let tight = limits(LimitsSpec {
        memory_bytes: Some(2 << 20),
        ..LimitsSpec::default()
    });
    let padding = "x".repeat(3 << 20);
    match weighted(json!({ "notes": padding }), tight) {
        Err(PluginError::Limit { limit, .. }) => assert_eq!(limit, "memory"),
        other => panic!("expected the memory limit, got {other:?}"),
    }
    // Within the limit, the same plugin answers.
    assert!(weighted(json!({}), tight).is_ok());
}
