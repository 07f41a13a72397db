//! Scoring benchmark: `cargo bench --bench scoring`.
//!
//! 10,000 applications × 5 judges × 20 indicators, z-score normalisation and a trimmed mean,
//! with full traces and without, against a hand-written native loop that computes the same
//! totals with the same decimal arithmetic, in the same run; then eligibility checks per second
//! on the Seoul rules. Prints medians of several runs, the ratios, and the memory evaluation
//! holds per application at its peak (counted by the allocator).

#![allow(
    unsafe_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::alloc::{GlobalAlloc, Layout};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use laurel::{
    Application, Award, EvaluateOptions, Marks, PluginSet, check_definition, evaluate,
    evaluate_with,
};
use rust_decimal::prelude::*;
use serde_json::json;

const APPS: usize = 10_000;
const JUDGES: usize = 5;
const CRITERIA: usize = 4;
const PER: usize = 5;

fn award() -> Award {
    let criteria: Vec<_> = (0..CRITERIA)
        .map(|c| json!({"id": format!("c{c}"), "name": "c", "weight": c + 1,
            "indicators": (0..PER).map(|i| json!({"id": format!("c{c}i{i}"), "name": "i", "weight": 1})).collect::<Vec<_>>()}))
        .collect();
    let r2 = json!({"places": 2, "mode": "half_up"});
    let def = json!({
        "format_version": "1.1", "id": "bench", "name": "Bench", "edition": "1",
        "languages": {"default": "en", "available": ["en"]},
        "timeline": {"time_zone": "UTC", "opens": "2026-01-01T00:00:00Z", "closes": "2026-02-01T00:00:00Z", "results": "2026-03-01T00:00:00Z"},
        "applicant_types": [{"id": "team", "name": "Team"}],
        "form": {"fields": [{"id": "title", "type": "short_text", "label": "Title"}]},
        "scales": [{"id": "ten", "min": 0, "max": 10, "step": 0.5}],
        "categories": [{"id": "main", "name": "Main", "applicant_types": ["team"], "winners": 3, "criteria": criteria}],
        "scoring": {"scale": "ten", "normalisation": {"method": "z_score"}, "aggregation": {"method": "trimmed_mean", "trim": 1},
            "rounding": {"criterion": r2, "total": r2, "normalised": {"places": 4, "mode": "half_up"}, "panel": r2, "final": r2}}
    });
    check_definition(&def.to_string(), &BTreeMap::new())
        .award
        .unwrap()
}

/// Marks in half points, `marks[app][judge][indicator]`, from a fixed generator.
fn marks() -> Vec<Vec<Vec<u8>>> {
    let mut state = 0x2023_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % 21) as u8
    };
    (0..APPS)
        .map(|_| {
            (0..JUDGES)
                .map(|_| (0..CRITERIA * PER).map(|_| next()).collect())
                .collect()
        })
        .collect()
}

/// Judges rotate so that each judge sees a different subset: app a is marked by judges
/// (a + k) mod 7 for k in 0..5.
fn judge_of(app: usize, k: usize) -> usize {
    (app + k) % 7
}

fn inputs(m: &[Vec<Vec<u8>>]) -> (Vec<Application>, Marks) {
    let apps = (0..APPS)
        .map(|a| serde_json::from_value(json!({"id": format!("a{a}"), "category": "main", "applicant_type": "team", "fields": {}})).unwrap())
        .collect();
    let mut evaluations = Vec::with_capacity(APPS * JUDGES);
    for (a, per_app) in m.iter().enumerate() {
        for (k, per_judge) in per_app.iter().enumerate() {
            let mut map = serde_json::Map::new();
            for (i, v) in per_judge.iter().enumerate() {
                map.insert(
                    format!("c{}i{}", i / PER, i % PER),
                    json!(Decimal::from(*v) / Decimal::TWO),
                );
            }
            evaluations.push(serde_json::from_value(json!({"judge": format!("j{}", judge_of(a, k)), "application": format!("a{a}"), "marks": map})).unwrap());
        }
    }
    (
        apps,
        Marks {
            evaluations,
            ..Marks::default()
        },
    )
}

/// The allocator the `laurel` binary runs `laurel score` over, with a count of the bytes held
/// (for the memory per application).
#[global_allocator]
static ALLOCATOR: Held = Held(mimalloc::MiMalloc);

struct Held(mimalloc::MiMalloc);

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
/// Whether allocations are counted: only while the inputs are built and while a peak is
/// measured, so that the timed runs pay nothing the `laurel` binary's allocator does not (the
/// count's two atomic operations per allocation were 3% of a timed run). Every timed run
/// frees what it allocates, so the count stays balanced.
static COUNTING: AtomicBool = AtomicBool::new(true);

fn held(delta: isize) {
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call goes to the wrapped allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Held {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            held(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) };
        held(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            held(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Runs `f` and returns what it returned and the most it held at once beyond what was held
/// before, in bytes.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    (out, peak.max(0) as usize)
}

fn r(d: Decimal, places: u32) -> Decimal {
    let mut x = d.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    x.rescale(places);
    x
}

/// The same totals, hand-written over dense arrays.
fn native(m: &[Vec<Vec<u8>>]) -> Vec<Decimal> {
    let weights: Vec<Decimal> = (0..CRITERIA).map(|c| Decimal::from(c + 1)).collect();
    let wsum: Decimal = weights.iter().sum();
    let per = Decimal::from(PER);
    let mut totals = vec![[Decimal::ZERO; JUDGES]; APPS];
    let mut by_judge: Vec<Vec<Decimal>> = vec![Vec::new(); 7];
    for (a, per_app) in m.iter().enumerate() {
        for (k, marks) in per_app.iter().enumerate() {
            let mut total = Decimal::ZERO;
            for c in 0..CRITERIA {
                let s: Decimal = marks[c * PER..(c + 1) * PER]
                    .iter()
                    .map(|v| Decimal::from(*v) / Decimal::TWO)
                    .sum();
                total += weights[c] * r(s / per, 2);
            }
            let t = r(total / wsum, 2);
            totals[a][k] = t;
            by_judge[judge_of(a, k)].push(t);
        }
    }
    let stats: Vec<(Decimal, Decimal)> = by_judge
        .iter()
        .map(|ts| {
            let n = Decimal::from(ts.len());
            let mean = ts.iter().sum::<Decimal>() / n;
            let var = ts.iter().map(|t| (t - mean) * (t - mean)).sum::<Decimal>() / n;
            (mean, var.sqrt().unwrap())
        })
        .collect();
    let (five, ten, six) = (Decimal::from(5), Decimal::TEN, Decimal::from(6));
    totals
        .iter()
        .enumerate()
        .map(|(a, ts)| {
            let mut v: Vec<Decimal> = ts
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    let (mean, sd) = stats[judge_of(a, k)];
                    let z = if sd.is_zero() {
                        Decimal::ZERO
                    } else {
                        (t - mean) / sd
                    };
                    r((five + z * ten / six).clamp(Decimal::ZERO, ten), 4)
                })
                .collect();
            v.sort();
            r(
                r(
                    v[1..JUDGES - 1].iter().sum::<Decimal>() / Decimal::from(JUDGES - 2),
                    2,
                ),
                2,
            )
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Plugins run on plugin threads: the whole benchmark runs on one, so calls run in place.
fn main() {
    laurel::run_sandboxed(None, bench).unwrap();
}

fn bench() {
    let award = award();
    let m = marks();
    let (apps, marks_doc) = inputs(&m);
    // The engine and the loop agree on every total before anything is timed.
    let expected = native(&m);
    let results = evaluate(&award, &apps, &marks_doc, &PluginSet::none()).unwrap();
    let mut got: BTreeMap<&str, Decimal> = BTreeMap::new();
    for p in &results.categories[0].ranking {
        got.insert(p.application.as_str(), p.score);
    }
    for (a, e) in expected.iter().enumerate() {
        assert_eq!(got[format!("a{a}").as_str()], *e, "a{a}");
    }
    drop(results);
    let lean = EvaluateOptions { traces: false };
    if let Some(profile) = std::env::var_os("LAUREL_PROFILE") {
        COUNTING.store(false, Ordering::Relaxed);
        // For `perf record`: nothing but evaluate, with traces or (`LAUREL_PROFILE=lean`)
        // without.
        let options = if profile == "lean" {
            lean
        } else {
            EvaluateOptions::default()
        };
        for _ in 0..20 {
            black_box(
                evaluate_with(&award, &apps, &marks_doc, &PluginSet::none(), options).unwrap(),
            );
        }
        return;
    }
    // Without traces, the same numbers.
    let bare = evaluate_with(&award, &apps, &marks_doc, &PluginSet::none(), lean).unwrap();
    for p in &bare.categories[0].ranking {
        assert_eq!(got[p.application.as_str()], p.score);
    }
    drop(bare);
    let runs = 5;
    let (mut engine_t, mut lean_t, mut native_t) = (
        Vec::with_capacity(runs),
        Vec::with_capacity(runs),
        Vec::with_capacity(runs),
    );
    COUNTING.store(false, Ordering::Relaxed);
    for _ in 0..runs {
        let t = Instant::now();
        black_box(native(black_box(&m)));
        native_t.push(t.elapsed());
        let t = Instant::now();
        black_box(evaluate(&award, &apps, &marks_doc, &PluginSet::none()).unwrap());
        engine_t.push(t.elapsed());
        let t = Instant::now();
        black_box(evaluate_with(&award, &apps, &marks_doc, &PluginSet::none(), lean).unwrap());
        lean_t.push(t.elapsed());
    }
    let (e, l, n) = (median(engine_t), median(lean_t), median(native_t));
    COUNTING.store(true, Ordering::Relaxed);
    let (_, traced_peak) =
        peak_of(|| black_box(evaluate(&award, &apps, &marks_doc, &PluginSet::none()).unwrap()));
    let (_, lean_peak) = peak_of(|| {
        black_box(evaluate_with(&award, &apps, &marks_doc, &PluginSet::none(), lean).unwrap())
    });
    let inputs_held = LIVE.load(Ordering::Relaxed);
    println!(
        "scoring {APPS} applications x {JUDGES} judges x {} indicators, z-score + trimmed mean:",
        CRITERIA * PER
    );
    println!("  native loop           {:>9.1} ms", n.as_secs_f64() * 1e3);
    for (name, t, peak) in [
        ("with traces", e, traced_peak),
        ("without traces", l, lean_peak),
    ] {
        println!(
            "  laurel, {name:<14}{:>9.1} ms {:>6.2}x the native loop, {:>6.1} KiB per application at its peak",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / n.as_secs_f64(),
            peak as f64 / 1024.0 / APPS as f64
        );
    }
    println!(
        "  (medians of {runs} runs; the inputs hold {:.1} KiB per application; peak RSS {:.1} MiB)",
        inputs_held as f64 / 1024.0 / APPS as f64,
        peak_rss_kib() as f64 / 1024.0
    );

    // Eligibility on the Seoul rules.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let folder = root.join("rubrics/seoul-smart-city-prize-2023");
    let files: BTreeMap<String, Vec<u8>> = [
        "plugins/leadership-nomination.rhai",
        "plugins/context-adjusted-score.wasm",
    ]
    .iter()
    .map(|p| ((*p).to_owned(), std::fs::read(folder.join(p)).unwrap()))
    .collect();
    let seoul = check_definition(
        &std::fs::read_to_string(folder.join("award.json")).unwrap(),
        &files,
    )
    .award
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            root.join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let plugins = laurel::load_plugins(&seoul, &files).unwrap();
    let seoul_apps = laurel::check_applications(&seoul, &doc, &plugins)
        .1
        .unwrap();
    let rounds = 300;
    let mut rates = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..rounds {
            for a in &seoul_apps {
                black_box(laurel::decide(&seoul, black_box(a), &plugins));
            }
        }
        rates.push(t.elapsed());
    }
    let per = median(rates).as_secs_f64() / (rounds * seoul_apps.len()) as f64;
    println!(
        "eligibility on the Seoul rules ({} applications, ineligible ones included):",
        seoul_apps.len()
    );
    println!(
        "  {:>9.0} checks per second on one core ({:.2} us each)",
        1.0 / per,
        per * 1e6
    );

    // Diagnostics: 1,000 draws of the ranking's simulation on the Seoul example, against one
    // evaluation of the same inputs in this run.
    let marks: laurel::Marks = serde_json::from_str(
        &std::fs::read_to_string(root.join("examples/seoul-smart-city-prize-2023/marks.json"))
            .unwrap(),
    )
    .unwrap();
    let once = median(
        (0..20)
            .map(|_| {
                let t = Instant::now();
                black_box(evaluate(&seoul, &seoul_apps, &marks, &plugins).unwrap());
                t.elapsed()
            })
            .collect(),
    );
    let options = laurel::DiagnoseOptions::default();
    let t = Instant::now();
    let d = laurel::diagnose(&seoul, &seoul_apps, &marks, &plugins, &options).unwrap();
    let took = t.elapsed();
    println!(
        "diagnose the Seoul example ({} draws in each of its two parts, {} draws per interval): {:.2} s, {:.0}x one evaluation ({:.2} ms); {} warnings",
        options.robustness.as_ref().map_or(0, |r| r.draws),
        options.bootstrap,
        took.as_secs_f64(),
        took.as_secs_f64() / once.as_secs_f64(),
        once.as_secs_f64() * 1e3,
        d.warnings.len()
    );
}
