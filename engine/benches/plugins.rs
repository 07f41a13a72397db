//! Plugin benchmark: `cargo bench --bench plugins`.
//!
//! Per-call cost of a 20-indicator weighted score, from the same JSON input: native Rust, a
//! rhai script run in process (the baseline: how rhai ran before it moved into the sandbox),
//! the same script in the sandbox (Laurel's rhai interpreter as a wasm guest, kept loaded),
//! and a wasm module (a fresh instance per call, JSON in and out);
//! microseconds per call and the ratios to native, from one run. Then the time to load a
//! rubric with 10 plugins (5 rhai, 5 wasm).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use laurel::wire::Hook;
use laurel::{Limits, Plugin, RhaiPlugin, WasmPlugin};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/fixtures")
}

fn input() -> Value {
    let fields: serde_json::Map<String, Value> = (0..20)
        .map(|i| {
            (
                format!("m{i}"),
                Value::Number(
                    Decimal::new(50 + (i * 7 % 50), 1)
                        .to_string()
                        .parse()
                        .unwrap(),
                ),
            )
        })
        .collect();
    json!({ "application": { "id": "a-1", "category": "main", "applicant_type": "city", "fields": fields },
            "total": "5", "criteria": {}, "judges": 5 })
}

/// The same computation, hand-written.
fn native(input: &Value) -> Decimal {
    let fields = &input["application"]["fields"];
    let mut total = Decimal::ZERO;
    let mut weights = Decimal::ZERO;
    for i in 0..20u32 {
        let value: Decimal = fields[format!("m{i}")].to_string().parse().unwrap();
        let weight = Decimal::from(i + 1);
        total += weight * value;
        weights += weight;
    }
    total / weights
}

fn per_call(mut f: impl FnMut(), n: u32) -> f64 {
    for _ in 0..n / 10 {
        f();
    }
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        runs.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    }
    runs.sort_by(f64::total_cmp);
    runs[2]
}

/// Where a wasm call's time goes: each step's mean over the middle of five runs of 2,000
/// calls (the run with the median total), and its share.
fn steps(wasm: &WasmPlugin, input: &Value) {
    let mut runs: Vec<(f64, [f64; 6])> = (0..5)
        .map(|_| {
            let mut sum = [0f64; 6];
            let calls = 2_000;
            for _ in 0..calls {
                let (_, s) = wasm.call_timed(Hook::Score, input).unwrap();
                let parts = [
                    s.encode,
                    s.instantiate,
                    s.input,
                    s.guest,
                    s.output,
                    s.teardown,
                ];
                for (total, part) in sum.iter_mut().zip(parts) {
                    *total += part.as_secs_f64() * 1e6 / f64::from(calls);
                }
            }
            (sum.iter().sum(), sum)
        })
        .collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (total, parts) = runs[2];
    let names = [
        "host encodes the input",
        "new store and instance",
        "guest alloc + input copy",
        "guest decodes, scores, encodes",
        "host reads the output",
        "instance dropped, memory reset",
    ];
    let fuel = wasm.call(Hook::Score, input).unwrap().used;
    println!("  wasm call by step ({fuel} units of fuel in the guest):");
    for (name, part) in names.iter().zip(parts) {
        println!(
            "    {name:<32}{part:>7.2} us {:>5.1}%",
            part * 100.0 / total
        );
    }
}

/// The rhai hook as it ran in process before the interpreter moved into the sandbox (commit
/// 29db913's `rhai_host.rs`): rhai with thread-safe values (`sync`), the input converted to
/// rhai values, the compiled function called with the same watch on every operation (an atomic clock read against the deadline, the
/// thread's allocation count against the memory limit, the stack's depth against its stop),
/// the result converted back.
struct InProcess {
    engine: laurel_rhai_runtime::rhai::Engine,
    ast: laurel_rhai_runtime::rhai::AST,
}

impl InProcess {
    fn new(source: &str) -> Self {
        let l = Limits::DEFAULT;
        let limits = laurel_rhai_runtime::GuestLimits {
            operations: l.operations,
            call_depth: l.call_depth,
            expr_depth: l.expr_depth,
            string_bytes: l.string_bytes,
            collection_items: l.collection_items,
            output_bytes: l.output_bytes,
            output_depth: l.output_depth,
            message_bytes: l.message_bytes,
        };
        let mut engine = laurel_rhai_runtime::engine(&limits, |_| {});
        engine.on_progress(watch);
        let ast = engine.compile(source).unwrap();
        Self { engine, ast }
    }

    fn call(&self, input: &Value) -> Value {
        use laurel_rhai_runtime::rhai::{CallFnOptions, Dynamic, Scope};
        DEADLINE_MS.store(
            CLOCK_MS.load(std::sync::atomic::Ordering::Relaxed) + 200,
            std::sync::atomic::Ordering::Relaxed,
        );
        HELD.with(|h| h.set(0));
        STACK_BASE.with(|b| b.set(stack_address()));
        let argument = laurel_rhai_runtime::to_dynamic(input);
        let out: Dynamic = self
            .engine
            .call_fn_with_options(
                CallFnOptions::new().eval_ast(false),
                &mut Scope::new(),
                &self.ast,
                "score",
                (argument,),
            )
            .unwrap();
        to_value(&out)
    }
}

static CLOCK_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static DEADLINE_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

thread_local! {
    static OPERATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static HELD: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static STACK_BASE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[inline(never)]
fn stack_address() -> usize {
    let marker = 0u8;
    black_box(&marker) as *const u8 as usize
}

/// The old host's per-operation watch.
fn watch(ops: u64) -> Option<laurel_rhai_runtime::rhai::Dynamic> {
    OPERATIONS.with(|o| o.set(ops));
    let now = CLOCK_MS.load(std::sync::atomic::Ordering::Relaxed);
    if now >= DEADLINE_MS.load(std::sync::atomic::Ordering::Relaxed) {
        return Some("time".into());
    }
    if HELD.with(std::cell::Cell::get) > Limits::DEFAULT.memory_bytes {
        return Some("memory".into());
    }
    let used = STACK_BASE
        .with(std::cell::Cell::get)
        .saturating_sub(stack_address());
    if used > 128 << 20 {
        return Some("stack".into());
    }
    None
}

fn to_value(value: &laurel_rhai_runtime::rhai::Dynamic) -> Value {
    if let Ok(i) = value.as_int() {
        return json!(i);
    }
    if let Ok(d) = value.as_decimal() {
        return json!(d.normalize().to_string());
    }
    if let Ok(s) = value.as_immutable_string_ref() {
        return json!(s.as_str());
    }
    if let Ok(b) = value.as_bool() {
        return json!(b);
    }
    if let Ok(items) = value.as_array_ref() {
        return Value::Array(items.iter().map(to_value).collect());
    }
    if let Ok(map) = value.as_map_ref() {
        return Value::Object(
            map.iter()
                .map(|(k, v)| (k.to_string(), to_value(v)))
                .collect(),
        );
    }
    Value::Null
}

/// Plugins run on plugin threads: the whole benchmark runs on one, so calls run in place.
fn main() {
    laurel::run_sandboxed(None, bench).unwrap();
}

fn bench() {
    let input = input();
    let rhai = RhaiPlugin::load(
        "weighted-rhai",
        &std::fs::read_to_string(fixtures().join("weighted-score.rhai")).unwrap(),
        &[Hook::Score],
        Limits::DEFAULT,
    )
    .unwrap();
    let wasm_bytes = std::fs::read(fixtures().join("weighted-score.wasm")).unwrap();
    let wasm = WasmPlugin::load("weighted-wasm", &wasm_bytes, Limits::DEFAULT).unwrap();
    // All three agree before anything is timed.
    let expected = native(&input);
    for plugin in [&rhai as &dyn Plugin, &wasm] {
        let out = plugin.call(Hook::Score, &input).unwrap();
        let got: Decimal = out.value["score"].as_str().unwrap().parse().unwrap();
        assert_eq!(got.normalize(), expected.normalize());
    }
    let n = per_call(
        || {
            black_box(native(black_box(&input)));
        },
        20_000,
    );
    let in_process =
        InProcess::new(&std::fs::read_to_string(fixtures().join("weighted-score.rhai")).unwrap());
    assert_eq!(
        in_process.call(&input)["score"],
        rhai.call(Hook::Score, &input).unwrap().value["score"]
    );
    let p = per_call(
        || {
            black_box(in_process.call(black_box(&input)));
        },
        2_000,
    );
    let r = per_call(
        || {
            black_box(rhai.call(Hook::Score, black_box(&input)).unwrap());
        },
        2_000,
    );
    let w = per_call(
        || {
            black_box(wasm.call(Hook::Score, black_box(&input)).unwrap());
        },
        2_000,
    );
    if std::env::var_os("LAUREL_PROFILE").is_some() {
        for _ in 0..20_000 {
            black_box(wasm.call(Hook::Score, black_box(&input)).unwrap());
        }
        return;
    }
    println!("20-indicator weighted score, per call (median of 5 runs):");
    println!("  native Rust               {n:>8.2} us   1.0x");
    println!(
        "  rhai in process (before)  {p:>8.2} us  {:>5.1}x native  (its old per-operation watch)",
        p / n
    );
    println!(
        "  rhai in the wasm sandbox  {r:>8.2} us  {:>5.1}x native  {:>5.2}x in process",
        r / n,
        r / p
    );
    println!(
        "  wasm, fresh instance      {w:>8.2} us  {:>5.1}x native",
        w / n
    );
    steps(&wasm, &input);

    // A rubric with 10 plugins.
    let rhai_src = std::fs::read(fixtures().join("weighted-score.rhai")).unwrap();
    let sha = |b: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    };
    let mut files = BTreeMap::new();
    let mut plugins = Vec::new();
    for i in 0..10 {
        // Five distinct modules (a custom section makes each copy unique), so each is compiled.
        let (kind, bytes) = if i % 2 == 0 {
            ("rhai", rhai_src.clone())
        } else {
            let mut unique = wasm_bytes.clone();
            let name = format!("copy{i}");
            unique.extend([0u8, (name.len() + 1) as u8, name.len() as u8]);
            unique.extend(name.as_bytes());
            ("wasm", unique)
        };
        let path = format!("p{i}.{kind}");
        plugins.push(json!({"id": format!("p{i}"), "kind": kind, "path": path, "sha256": sha(&bytes), "hooks": ["score"]}));
        files.insert(path, bytes);
    }
    let def = json!({
        "format_version": "1.1", "id": "ten-plugins", "name": "Ten plugins", "edition": "1",
        "languages": {"default": "en", "available": ["en"]},
        "timeline": {"time_zone": "UTC", "opens": "2026-01-01T00:00:00Z", "closes": "2026-02-01T00:00:00Z", "results": "2026-03-01T00:00:00Z"},
        "applicant_types": [{"id": "team", "name": "Team"}],
        "form": {"fields": [{"id": "title", "type": "short_text", "label": "Title"}]},
        "scales": [{"id": "ten", "min": 0, "max": 10}],
        "categories": [{"id": "main", "name": "Main", "applicant_types": ["team"], "winners": 1,
            "criteria": [{"id": "c", "name": "C", "weight": 1, "indicators": [{"id": "m", "name": "m", "weight": 1}]}]}],
        "plugins": plugins,
        "scoring": {"scale": "ten", "aggregation": {"method": "mean"}, "score_plugin": "p1"}
    })
    .to_string();
    let mut loads = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let award = laurel::check_definition(&def, &files).award.unwrap();
        black_box(laurel::load_plugins(&award, &files).unwrap());
        loads.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "checking and loading a rubric with 10 plugins (5 rhai, 5 distinct wasm): {:.0} ms cold, {:.1} ms with the modules already compiled",
        loads[0],
        loads[1].min(loads[2])
    );
}
