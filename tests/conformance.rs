//! Official results of real judged competitions, reproduced from rubrics alone
//! (`examples/conformance/`): every ISU element's panel GOE and score and every performance's
//! TES, PCS and total; every Eurovision voter's combined ranking and points and every total.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use laurel::{Award, Marks, PluginSet, Results, check_applications, check_definition, evaluate};
use rust_decimal::Decimal;
use serde_json::Value;

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/conformance")
        .join(name)
}

fn read(path: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn load(name: &str) -> (Award, Vec<laurel::Application>, Marks, Value) {
    let d = dir(name);
    let report = check_definition(
        &std::fs::read_to_string(d.join("award.json")).unwrap(),
        &BTreeMap::new(),
    );
    let award = report
        .award
        .unwrap_or_else(|| panic!("{:#?}", report.diagnostics));
    let (diags, apps) = check_applications(
        &award,
        &read(d.join("applications.json")),
        &PluginSet::none(),
    );
    let apps = apps.unwrap_or_else(|| panic!("{diags:#?}"));
    let marks: Marks = serde_json::from_value(read(d.join("marks.json"))).unwrap();
    (award, apps, marks, read(d.join("expected.json")))
}

fn d(v: &Value) -> Decimal {
    match v {
        Value::String(s) => s.parse().unwrap(),
        other => other.to_string().parse().unwrap(),
    }
}

/// Counts matches of one figure and reports each mismatch with its place.
struct Tally {
    name: &'static str,
    ok: usize,
    all: usize,
    misses: Vec<String>,
}

impl Tally {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            ok: 0,
            all: 0,
            misses: Vec::new(),
        }
    }

    fn check(&mut self, what: impl Fn() -> String, expected: Decimal, computed: Decimal) {
        self.all += 1;
        if expected == computed {
            self.ok += 1;
        } else {
            self.misses.push(format!(
                "{}: expected {expected}, computed {computed}",
                what()
            ));
        }
    }

    fn report(&self) -> bool {
        println!("{}: {}/{} reproduced", self.name, self.ok, self.all);
        for m in &self.misses {
            println!("  mismatch {m}");
        }
        self.ok == self.all && self.all > 0
    }
}

#[test]
fn isu_grand_prix_2025_every_official_number() {
    let (award, apps, marks, expected) = load("isu");
    let results: Results<'_> = evaluate(&award, &apps, &marks, &PluginSet::none()).unwrap();
    let placed: BTreeMap<&str, &laurel::Placed<'_>> = results
        .categories
        .iter()
        .flat_map(|c| c.ranking.iter())
        .map(|p| (p.application.as_str(), p))
        .collect();
    let (mut goe, mut element, mut tes, mut pcs, mut tss) = (
        Tally::new("ISU panel GOE per element"),
        Tally::new("ISU element score"),
        Tally::new("ISU TES"),
        Tally::new("ISU PCS"),
        Tally::new("ISU total segment score"),
    );
    for e in expected.as_array().unwrap() {
        let id = e["application"].as_str().unwrap();
        let who = || {
            format!(
                "{id} {} ({}, {})",
                e["skater"].as_str().unwrap(),
                e["segment"].as_str().unwrap(),
                e["competition"].as_str().unwrap()
            )
        };
        let p = placed[id];
        for el in e["elements"].as_array().unwrap() {
            let slot = el["element"].as_str().unwrap();
            let panel = p
                .trace
                .indicators
                .iter()
                .find(|i| i.indicator.as_str() == slot);
            let where_ = || {
                format!(
                    "{} element {slot} `{}`",
                    who(),
                    el["code"].as_str().unwrap_or("")
                )
            };
            goe.check(
                where_,
                d(&el["official_goe"]),
                panel
                    .and_then(|i| i.aggregation.as_ref())
                    .map_or(Decimal::ZERO, |a| a.value),
            );
            element.check(
                where_,
                d(&el["official_score"]),
                panel.map_or(Decimal::ZERO, |i| i.value),
            );
        }
        let criterion = |c: &str| {
            p.trace
                .criteria
                .iter()
                .find(|x| x.criterion.as_str() == c)
                .unwrap()
                .score
        };
        tes.check(who, d(&e["official_TES"]), criterion("tes"));
        pcs.check(who, d(&e["official_PCS"]), criterion("pcs"));
        tss.check(who, d(&e["official_TSS"]), p.score);
    }
    let all = [
        goe.report(),
        element.report(),
        tes.report(),
        pcs.report(),
        tss.report(),
    ];
    assert!(all.iter().all(|ok| *ok));
}

#[test]
fn eurovision_2014_final_every_voter_and_total() {
    let (award, apps, marks, expected) = load("eurovision");
    let results = evaluate(&award, &apps, &marks, &PluginSet::none()).unwrap();
    let ranking = &results.categories[0].ranking;
    let table = [12u32, 10, 8, 7, 6, 5, 4, 3, 2, 1];
    let (mut places, mut points, mut totals, mut confirmed) = (
        Tally::new("Eurovision combined rank per voter and song"),
        Tally::new("Eurovision points per voter and song"),
        Tally::new("Eurovision totals (recomputed from the published ranks)"),
        Tally::new("Eurovision totals confirmed by an official source"),
    );
    let mut voters_identical = 0;
    for (voter, v) in expected["voters"].as_object().unwrap() {
        let mut identical = true;
        for (song, rank) in v["combined_rank"].as_object().unwrap() {
            let p = ranking
                .iter()
                .find(|p| p.application.as_str() == song)
                .unwrap();
            let trace = p
                .trace
                .judges
                .iter()
                .find(|j| j.judge.as_str() == voter)
                .and_then(|j| j.ranking.as_ref())
                .unwrap();
            let rank = rank.as_u64().unwrap() as u32;
            let before = places.ok;
            places.check(
                || format!("voter {voter}, song {song}"),
                Decimal::from(rank),
                Decimal::from(trace.place),
            );
            identical &= places.ok > before;
            let official_points = table.get(rank as usize - 1).copied().unwrap_or(0);
            points.check(
                || format!("voter {voter}, song {song}"),
                Decimal::from(official_points),
                trace.points,
            );
        }
        voters_identical += usize::from(identical);
    }
    for (song, t) in expected["totals"].as_object().unwrap() {
        let p = ranking
            .iter()
            .find(|p| p.application.as_str() == song)
            .unwrap();
        totals.check(|| format!("song {song}"), d(&t["recomputed"]), p.score);
        if !t["official"].is_null() {
            confirmed.check(|| format!("song {song}"), d(&t["official"]), p.score);
        }
    }
    let voters = expected["voters"].as_object().unwrap().len();
    println!(
        "Eurovision voters whose whole combined ranking is reproduced: {voters_identical}/{voters}"
    );
    let all = [
        places.report(),
        points.report(),
        totals.report(),
        confirmed.report(),
    ];
    assert!(all.iter().all(|ok| *ok) && voters_identical == voters);
    assert_eq!(ranking[0].application.as_str(), "AT");
}

/// Every placed application's trace, by id.
fn placed<'r>(results: &'r Results<'r>) -> BTreeMap<&'r str, &'r laurel::Placed<'r>> {
    results
        .categories
        .iter()
        .flat_map(|c| c.ranking.iter())
        .map(|p| (p.application.as_str(), p))
        .collect()
}

#[test]
fn halfpipe_milano_cortina_2026_every_run_and_place() {
    let (award, apps, marks, expected) = load("halfpipe");
    let results = evaluate(&award, &apps, &marks, &PluginSet::none()).unwrap();
    let placed = placed(&results);
    let (mut runs, mut best, mut ranks) = (
        Tally::new("halfpipe run score"),
        Tally::new("halfpipe best run"),
        Tally::new("halfpipe final rank"),
    );
    for (key, score) in expected["runs"].as_object().unwrap() {
        let (id, run) = key.split_once('/').unwrap();
        let computed = placed[id]
            .trace
            .criteria
            .iter()
            .find(|c| c.criterion.as_str() == run)
            .map_or(Decimal::MIN, |c| c.score);
        runs.check(|| key.clone(), d(score), computed);
    }
    for (id, score) in expected["best"].as_object().unwrap() {
        best.check(|| id.clone(), d(score), placed[id.as_str()].score);
    }
    for (id, rank) in expected["rank"].as_object().unwrap() {
        ranks.check(
            || id.clone(),
            d(rank),
            Decimal::from(placed[id.as_str()].rank),
        );
    }
    assert_eq!(results.categories[0].unscored.len(), 0);
    let all = [runs.report(), best.report(), ranks.report()];
    assert!(all.iter().all(|ok| *ok));
}

#[test]
fn ski_jumping_every_jump_with_its_floor() {
    let (award, apps, marks, expected) = load("ski-jumping");
    let results = evaluate(&award, &apps, &marks, &PluginSet::none()).unwrap();
    let placed = placed(&results);
    let (mut distance, mut style, mut points, mut floored, mut totals, mut ranks) = (
        Tally::new("ski jumping distance points"),
        Tally::new("ski jumping style points"),
        Tally::new("ski jumping jump points"),
        Tally::new("ski jumping jumps floored at 0"),
        Tally::new("ski jumping total"),
        Tally::new("ski jumping place"),
    );
    for (key, jump) in expected["jumps"].as_object().unwrap() {
        let (id, criterion) = key.split_once('/').unwrap();
        let n = criterion.trim_start_matches("jump");
        let p = placed[id];
        let indicator = |what: &str| {
            p.trace
                .indicators
                .iter()
                .find(|i| i.indicator.as_str() == format!("{what}{n}"))
                .map_or(Decimal::MIN, |i| i.value)
        };
        distance.check(|| key.clone(), d(&jump["distance"]), indicator("distance"));
        style.check(|| key.clone(), d(&jump["style"]), indicator("style"));
        let c = p
            .trace
            .criteria
            .iter()
            .find(|c| c.criterion.as_str() == criterion);
        points.check(
            || key.clone(),
            d(&jump["points"]),
            c.map_or(Decimal::MIN, |c| c.score),
        );
        // The official 0 of a jump whose parts add up below 0 is the floor's doing.
        if c.is_some_and(|c| c.limit == Some("floor")) || d(&jump["points"]).is_zero() {
            floored.check(
                || key.clone(),
                d(&jump["points"]),
                c.filter(|c| c.limit == Some("floor"))
                    .map_or(Decimal::MIN, |c| c.score),
            );
        }
    }
    for (id, total) in expected["totals"].as_object().unwrap() {
        totals.check(|| id.clone(), d(total), placed[id.as_str()].score);
    }
    for (id, rank) in expected["ranks"].as_object().unwrap() {
        ranks.check(
            || id.clone(),
            d(rank),
            Decimal::from(placed[id.as_str()].rank),
        );
    }
    let all = [
        distance.report(),
        style.report(),
        points.report(),
        floored.report(),
        totals.report(),
        ranks.report(),
    ];
    assert_eq!(floored.all, 3, "the three official jumps floored at 0");
    assert!(all.iter().all(|ok| *ok));
}
