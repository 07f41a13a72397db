//! The sandbox holds: no plugin, however written, can kill, stall or exhaust its host. Each
//! attack is a fixture in `plugins/fixtures/` (or, for modules too large to keep, generated
//! here); each must end in a typed error naming the limit, within its deadline, and leave the
//! process as it was. `tests/service.rs` runs the same attacks against `laurel serve`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use laurel::wire::{Hook, LimitsSpec};
use laurel::{Limits, Plugin, PluginError, RhaiPlugin, WasmPlugin};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/fixtures")
}

fn rhai(name: &str, hooks: &[Hook], limits: Limits) -> Result<RhaiPlugin, PluginError> {
    let source = std::fs::read_to_string(fixtures().join(name)).unwrap();
    RhaiPlugin::load(name.split('.').next().unwrap(), &source, hooks, limits)
}

fn wasm(name: &str, limits: Limits) -> Result<WasmPlugin, PluginError> {
    let bytes = std::fs::read(fixtures().join(name)).unwrap();
    WasmPlugin::load(name.split('.').next().unwrap(), &bytes, limits)
}

fn input() -> Value {
    json!({ "application": { "id": "a", "category": "c", "applicant_type": "t", "fields": {} },
            "total": "5", "criteria": {}, "judges": 3, "depth": 10 })
}

/// The most a manifest may ask for.
fn maxima() -> Limits {
    Limits::resolve(&LimitsSpec {
        timeout_ms: Some(u64::MAX),
        operations: Some(u64::MAX),
        fuel: Some(u64::MAX),
        memory_bytes: Some(u64::MAX),
        output_bytes: Some(u64::MAX),
        call_depth: Some(u32::MAX),
    })
}

fn limit_of(result: Result<laurel::PluginOutput, PluginError>) -> (String, String) {
    match result {
        Err(PluginError::Limit { limit, detail, .. }) => (limit, detail),
        other => panic!("expected a limit, got {other:?}"),
    }
}

/// Runs `f` and checks it took less than `bound`.
fn within<T>(bound: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < bound, "took {:?}", start.elapsed());
    out
}

#[test]
fn the_worst_legal_script_fits_the_plugin_stack() {
    let m = maxima();
    // Each level of the deepest call nesting holds an expression at the deepest nesting the
    // parser accepts inside a function.
    let script = |depth: usize| {
        let expression = format!("{}1 + down(n - 1){}", "(".repeat(depth), ")".repeat(depth));
        format!(
            "fn down(n) {{ if n <= 0 {{ return 0; }} {expression} }}\n\
             fn score(input) {{ #{{ score: down({}) % 10 }} }}",
            // `score` is one level, `down(0)` another: the deepest nesting the limit allows.
            m.call_depth - 2
        )
    };
    let deepest = (1..=m.expr_depth as usize)
        .rev()
        .find(|d| RhaiPlugin::load("worst", &script(*d), &[Hook::Score], m).is_ok())
        .unwrap();
    assert!(deepest >= 10, "{deepest}");
    let plugin = RhaiPlugin::load("worst", &script(deepest), &[Hook::Score], m).unwrap();
    // Called from this (small-stacked) test thread: the call runs on a plugin thread.
    let out = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || plugin.call(Hook::Score, &input()))
        .unwrap()
        .join()
        .unwrap();
    // The deepest nesting of calls the limits allow completes: it never reaches the end of
    // the stack (an overflow would abort this process).
    assert_eq!(out.unwrap().value["score"], (m.call_depth - 2) % 10);
    // The quoted attack: a 15-deep expression at each of 22 levels.
    let quoted = rhai("expression-recursion.rhai", &[Hook::Score], Limits::DEFAULT).unwrap();
    assert!(quoted.call(Hook::Score, &input()).is_ok());
}

#[test]
fn the_deepest_legal_value_fits_the_plugin_stack() {
    let m = maxima();
    // Every level of nesting counts as an item, so the collection limit bounds the nesting a
    // script can build.
    // A script builds what it can within its limits, then lets it go.
    let plugin = rhai("deep-value.rhai", &[Hook::Score], m).unwrap();
    let mut deep = input();
    deep["depth"] = json!(m.collection_items);
    match plugin.call(Hook::Score, &deep) {
        Ok(out) => assert_eq!(out.value["score"], 5),
        Err(PluginError::Limit { .. }) => {}
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn deep_outputs_are_refused_at_their_depth_limit() {
    let rhai = rhai("nested-output.rhai", &[Hook::Score], maxima()).unwrap();
    let (limit, _) = within(Duration::from_secs(2), || {
        limit_of(rhai.call(Hook::Score, &input()))
    });
    assert_eq!(limit, "output depth");
    let wasm = wasm("nested-output.wat", Limits::DEFAULT).unwrap();
    let (limit, _) = limit_of(wasm.call(Hook::Score, &input()));
    assert_eq!(limit, "output depth");
}

#[test]
fn no_single_step_allocates_beyond_the_limits() {
    for name in ["pad-bomb.rhai", "replace-bomb.rhai", "shared-strings.rhai"] {
        let plugin = rhai(name, &[Hook::Score], maxima()).unwrap();
        let (limit, detail) = within(Duration::from_secs(3), || {
            limit_of(plugin.call(Hook::Score, &input()))
        });
        assert_eq!(limit, "size", "{name}: {detail}");
    }
}

#[test]
fn memory_held_across_steps_is_limited() {
    for name in ["map-keys.rhai", "curry-bomb.rhai"] {
        let plugin = rhai(name, &[Hook::Score], maxima()).unwrap();
        let (limit, detail) = within(Duration::from_secs(5), || {
            limit_of(plugin.call(Hook::Score, &input()))
        });
        assert_eq!(limit, "memory", "{name}: {detail}");
    }
}

#[test]
fn time_is_a_real_limit() {
    let limits = Limits::resolve(&LimitsSpec {
        timeout_ms: Some(300),
        operations: Some(u64::MAX),
        ..LimitsSpec::default()
    });
    for name in ["slow-steps.rhai", "empty-pad.rhai"] {
        let plugin = rhai(name, &[Hook::Score], limits).unwrap();
        let start = Instant::now();
        let result = plugin.call(Hook::Score, &input());
        let elapsed = start.elapsed();
        if name == "empty-pad.rhai" {
            // Padding with nothing adds nothing, at once.
            assert!(result.is_ok(), "{result:?}");
            continue;
        }
        let (limit, _) = limit_of(result);
        assert_eq!(limit, "time", "{name}");
        assert!(elapsed < Duration::from_secs(2), "{name} took {elapsed:?}");
    }
    let sleepy = rhai("sleep.rhai", &[Hook::Score], limits).unwrap();
    let error = within(Duration::from_secs(1), || {
        sleepy.call(Hook::Score, &input()).unwrap_err()
    });
    assert!(
        error.to_string().contains("`sleep` is not available"),
        "{error}"
    );
}

#[test]
fn messages_are_capped_and_cleaned() {
    let plugin = rhai("huge-error.rhai", &[Hook::Score], maxima()).unwrap();
    let error = plugin.call(Hook::Score, &input()).unwrap_err();
    assert!(
        error.to_string().len() < 2_000,
        "{} bytes",
        error.to_string().len()
    );
    let escapes = rhai(
        "terminal-escapes.rhai",
        &[Hook::Eligibility],
        Limits::DEFAULT,
    )
    .unwrap();
    let out = escapes.call(Hook::Eligibility, &input()).unwrap();
    // The plugin's own output is data (JSON escapes it); what reaches people is cleaned.
    let reasons: Vec<String> = out.value["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| laurel::clean(r.as_str().unwrap(), 1_000))
        .collect();
    assert_eq!(reasons[0], "\\u{1b}[2J\\u{1b}[31mERASED\\u{1b}[0m");
    assert_eq!(reasons[1], "safe\\u{202e}txt.exe");
}

#[test]
fn wasm_outputs_are_read_strictly() {
    let dup = wasm("duplicate-keys.wat", Limits::DEFAULT).unwrap();
    let error = dup.call(Hook::Eligibility, &input()).unwrap_err();
    assert!(
        matches!(&error, PluginError::MalformedOutput { message, .. } if message.contains("duplicate key `eligible`")),
        "{error}"
    );
    let exact = wasm("exact-number.wat", Limits::DEFAULT).unwrap();
    let out = exact.call(Hook::Score, &input()).unwrap();
    assert_eq!(out.value["score"].to_string(), "9.99999999999999999999");
}

/// A module with `functions` functions of `body` instructions each.
fn module(functions: usize, body: usize) -> String {
    let mut wat = String::from(
        "(module (memory (export \"memory\") 1)\n\
         (func (export \"laurel_abi_version\") (result i32) (i32.const 1))\n\
         (func (export \"laurel_alloc\") (param i32) (result i32) (i32.const 0))\n\
         (func (export \"laurel_call\") (param i32 i32 i32) (result i64) (i64.const 0))\n",
    );
    for _ in 0..functions {
        wat.push_str("(func (result i32) (i32.const 0)");
        for _ in 0..body {
            wat.push_str(" (i32.add (i32.const 1))");
        }
        wat.push_str(")\n");
    }
    wat.push(')');
    wat
}

#[test]
fn loading_is_limited_before_anything_is_compiled() {
    let l = Limits::DEFAULT;
    let too_many = module(l.module_functions as usize, 0);
    let (limit, detail) = within(Duration::from_secs(5), || {
        match WasmPlugin::load("many", too_many.as_bytes(), l) {
            Err(PluginError::Limit { limit, detail, .. }) => (limit, detail),
            other => panic!("{other:?}"),
        }
    });
    assert_eq!(limit, "functions", "{detail}");
    let huge_body = module(1, 100_000);
    match WasmPlugin::load("huge", huge_body.as_bytes(), l) {
        Err(PluginError::Limit { limit, .. }) => assert_eq!(limit, "function size"),
        other => panic!("{other:?}"),
    }
    match wasm("big-memory.wat", l) {
        Err(PluginError::Limit { limit, detail, .. }) => {
            assert_eq!(limit, "memory");
            assert!(detail.contains("at most 16777216"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    let long_script = format!(
        "fn score(input) {{ 1 }}\n{}",
        "// padding\n".repeat(500_000)
    );
    match RhaiPlugin::load("long", &long_script, &[Hook::Score], l) {
        Err(PluginError::Limit { limit, .. }) => assert_eq!(limit, "source size"),
        other => panic!("{other:?}"),
    }
    let broken = "fn score(input) {\n  let x = ;\n}";
    match RhaiPlugin::load("broken", broken, &[Hook::Score], l) {
        Err(PluginError::Invalid { line, .. }) => assert_eq!(line, Some(2)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_jobs_deadline_cuts_every_call_it_makes() {
    let slow = Limits::resolve(&LimitsSpec {
        timeout_ms: Some(2_000),
        operations: Some(u64::MAX),
        ..LimitsSpec::default()
    });
    let plugin = rhai("slow-loop.rhai", &[Hook::Score], slow).unwrap();
    let deadline = Instant::now() + Duration::from_millis(300);
    let start = Instant::now();
    let errors = laurel::run_sandboxed(Some(deadline), move || {
        (0..5)
            .map(|_| plugin.call(Hook::Score, &input()).unwrap_err())
            .collect::<Vec<_>>()
    })
    .unwrap();
    // The first call is stopped at the job's deadline, the others fail at once.
    assert!(
        start.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        start.elapsed()
    );
    for e in &errors {
        assert!(
            matches!(e, PluginError::Limit { limit, .. } if limit == "deadline"),
            "{e}"
        );
    }
}

/// Counts the calls of each hook, around a real plugin.
#[derive(Debug)]
struct Counting {
    inner: RhaiPlugin,
    calls: std::sync::Mutex<Vec<(Hook, String)>>,
}

impl Plugin for Counting {
    fn call(&self, hook: Hook, input: &Value) -> Result<laurel::PluginOutput, PluginError> {
        let id = input["application"]["id"].as_str().unwrap_or("").to_owned();
        self.calls.lock().unwrap().push((hook, id));
        self.inner.call(hook, input)
    }
}

#[test]
fn each_hook_runs_once_per_application_and_a_failure_stays_with_its_application() {
    let source = std::fs::read(fixtures().join("counted.rhai")).unwrap();
    let definition = json!({
        "format_version": "1.1", "id": "once", "name": "Once", "edition": "1",
        "languages": {"default": "en", "available": ["en"]},
        "timeline": {"time_zone": "UTC", "opens": "2026-01-01T00:00:00Z", "closes": "2026-02-01T00:00:00Z", "results": "2026-03-01T00:00:00Z"},
        "applicant_types": [{"id": "team", "name": "Team"}],
        "form": {"fields": [{"id": "title", "type": "short_text", "label": "Title"}]},
        "scales": [{"id": "ten", "min": 0, "max": 10}],
        "eligibility": [
            {"id": "first", "message": "no", "outcome": "review", "require": {"plugin": {"plugin": "counted"}}},
            {"id": "second", "message": "no", "outcome": "review", "require": {"all": [{"present": "title"}, {"plugin": {"plugin": "counted"}}]}}
        ],
        "categories": [{"id": "main", "name": "Main", "applicant_types": ["team"], "winners": 1,
            "criteria": [{"id": "c", "name": "C", "weight": 1, "indicators": [{"id": "m", "name": "m", "weight": 1}]}]}],
        "plugins": [{"id": "counted", "kind": "rhai", "path": "counted.rhai",
            "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&source)),
            "hooks": ["eligibility", "validate"], "limits": {"timeout_ms": 300}}],
        "scoring": {"scale": "ten", "aggregation": {"method": "mean"}}
    })
    .to_string();
    let files: std::collections::BTreeMap<String, Vec<u8>> =
        [("counted.rhai".to_owned(), source)].into();
    let award = laurel::check_definition(&definition, &files).award.unwrap();
    let counting = std::sync::Arc::new(Counting {
        inner: RhaiPlugin::load(
            "counted",
            std::str::from_utf8(&files["counted.rhai"]).unwrap(),
            &[Hook::Eligibility, Hook::Validate],
            laurel::Limits::resolve(&award.plugins[0].limits),
        )
        .unwrap(),
        calls: Default::default(),
    });
    let mut plugins = laurel::PluginSet::none();
    plugins.insert(laurel::PluginId::new("counted"), counting.clone());
    let apps = json!(["a0", "bad", "a1"].iter().map(|id| json!({"id": id, "category": "main", "applicant_type": "team", "fields": {"title": "t"}})).collect::<Vec<_>>());
    let (diagnostics, checked) = laurel::check_applications(&award, &apps, &plugins);
    // The plugin that never returns on `bad` leaves a warning on `bad` alone.
    let checked = checked.expect("the batch goes on");
    assert_eq!(checked.len(), 3);
    let warnings: Vec<&laurel::Diagnostic> = diagnostics.iter().collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].pointer, "/1");
    assert!(!warnings[0].is_error());
    let no_marks = laurel::Marks::default();
    let results = laurel::evaluate(&award, &checked, &no_marks, &plugins).unwrap();
    assert!(
        results
            .eligibility
            .iter()
            .all(|e| e.decision.failures.len() == 2)
    );
    let calls = counting.calls.lock().unwrap();
    for id in ["a0", "bad", "a1"] {
        for hook in [Hook::Eligibility, Hook::Validate] {
            let n = calls.iter().filter(|(h, a)| *h == hook && a == id).count();
            assert_eq!(n, 1, "{} of {id} ran {n} times", hook.as_str());
        }
    }
}

/// How an attack on the rhai interpreter must end: a limit, or a failure naming the
/// interpreter's stop.
enum Ends {
    Limit(&'static [&'static str]),
    Failure(&'static str),
}

#[test]
fn attacks_on_the_interpreter_end_as_typed_errors_of_their_call() {
    let mut deep = input();
    deep["depth"] = json!(300_000);
    let attacks: [(&str, Ends); 4] = [
        // In process, these aborted the host (stack overflow, a panic in rhai's `to_json`),
        // held gigabytes or ran for seconds past their limits.
        (
            "closure-cycle.rhai",
            Ends::Failure("the rhai interpreter stopped"),
        ),
        ("fn-chain.rhai", Ends::Limit(&["stack", "memory"])),
        ("pad-fnptr.rhai", Ends::Limit(&["memory"])),
        (
            "closure-json.rhai",
            Ends::Limit(&["memory", "size", "time"]),
        ),
    ];
    for limits in [Limits::DEFAULT, maxima()] {
        for (name, ends) in &attacks {
            let plugin = rhai(name, &[Hook::Score], limits).unwrap();
            // Twice: a trapped interpreter is never called again, a fresh one answers alike.
            for _ in 0..2 {
                let result = within(limits.timeout + Duration::from_secs(2), || {
                    plugin.call(Hook::Score, &deep)
                });
                match (ends, result) {
                    (Ends::Limit(names), Err(PluginError::Limit { limit, .. })) => {
                        assert!(names.contains(&limit.as_str()), "{name}: {limit}");
                    }
                    (Ends::Failure(text), Err(PluginError::Failed { message, .. })) => {
                        assert!(message.contains(text), "{name}: {message}");
                    }
                    (_, other) => panic!("{name}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn a_panic_of_the_interpreter_stays_with_its_application() {
    let plugin = rhai("panic-one.rhai", &[Hook::Score], Limits::DEFAULT).unwrap();
    let call = |id: &str| {
        let mut i = input();
        i["application"]["id"] = json!(id);
        plugin.call(Hook::Score, &i)
    };
    for id in ["a", "bad", "b", "bad", "c"] {
        match (id, call(id)) {
            ("bad", Err(PluginError::Failed { message, .. })) => {
                assert!(message.contains("panicked"), "{message}");
            }
            ("bad", other) => panic!("{other:?}"),
            (_, result) => assert_eq!(result.unwrap().value["score"], 5),
        }
    }
}

#[test]
fn a_leaking_script_leaves_nothing_behind_between_calls() {
    // Each call leaves a reference cycle holding 60 KB in the interpreter: the interpreter is
    // dropped when it holds more than after loading, so a thousand calls stay small (they would
    // hold 60 MB otherwise) and every call answers.
    let plugin = rhai("cycle-leak.rhai", &[Hook::Score], Limits::DEFAULT).unwrap();
    for _ in 0..1_000 {
        assert_eq!(
            plugin.call(Hook::Score, &input()).unwrap().value["score"],
            5
        );
    }
}

#[test]
fn compiling_a_script_is_linear_in_its_length() {
    // The shapes that made rhai's parser or optimizer quadratic (many variables in one scope,
    // many statements), at 400 KB: refused at once, or compiled in linear time.
    let many = |unit: &str, n: usize| format!("fn score(input) {{ {} 1 }}", unit.repeat(n));
    let lets: String = (0..30_000).map(|i| format!("let a{i} = {i};\n")).collect();
    let t = Instant::now();
    match RhaiPlugin::load(
        "lets",
        &format!("fn score(input) {{ {lets} 1 }}"),
        &[Hook::Score],
        Limits::DEFAULT,
    ) {
        Err(PluginError::Limit { limit, .. }) => assert_eq!(limit, "declarations"),
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // Blocks, statements and literals: the time per byte stays flat from 100 KB to 400 KB.
    for unit in ["{ 1; }\n", "x;\n", "\"s\";\n", "#{a: 1};\n"] {
        let per_byte = |n: usize| {
            let source = many(unit, n).replacen("{ ", "{ let x = 1; ", 1);
            (0..3)
                .map(|_| {
                    let t = Instant::now();
                    RhaiPlugin::load("shape", &source, &[Hook::Score], Limits::DEFAULT).unwrap();
                    t.elapsed().as_secs_f64() / source.len() as f64
                })
                .fold(f64::MAX, f64::min)
        };
        let small = per_byte(100_000 / unit.len());
        let large = per_byte(400_000 / unit.len());
        assert!(
            large < 3.0 * small,
            "{unit:?}: {small:e} s/byte at 100 KB, {large:e} at 400 KB"
        );
    }
}
