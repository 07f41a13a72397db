//! One result, whatever the path. Random valid rubrics (criteria trees with weights and zero
//! weights, two scales, `combine`, normalisation with its `min_marks`, every aggregation,
//! rounding modes, floors and caps, pass marks, formulas that read other indicators and
//! fields, missing marks renormalised, ties and tie-breaks, prizes, and rounds advancing by
//! `top_n`, `top_fraction` or `threshold`) with random applications and marks are scored by
//! the library, by `laurel score`, by `POST /v1/evaluate` (the whole award, and each round),
//! and by the server's own rounds (a one-round award and a two-round award whose judges the
//! server draws), on sled and on PostgreSQL: the places, scores, winners, prizes, unscored
//! applications, warnings and traces must be the same everywhere.
//!
//! Every case is a seed. A failure prints it; `LAUREL_DIFF_SEED=<seed> cargo test --test
//! differential` replays that case alone on every path. `LAUREL_DIFF_CASES` sets how many
//! cases the library and `/v1/evaluate` take (1,000 by default; the slower paths take a share).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use support::Server;

/// A small, seeded generator (SplitMix64): the same seed, the same case, on any machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// In `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// A scale's bounds and step, in tenths: (min, max, step).
type Tenths = (i64, i64, i64);

/// A generated case: the award, its applications, and what marks need.
struct Case {
    seed: u64,
    definition: Value,
    applications: Vec<Value>,
    judges: Vec<String>,
    /// Indicator ids judges mark (not computed), by criterion id, with their scale's
    /// (min, max, step) in tenths.
    marked: BTreeMap<String, Vec<(String, Tenths)>>,
    /// Whether a mark may be left out (`missing_marks: renormalise`).
    may_miss: bool,
    /// The criteria of the first round of a two-round award.
    first_round: Vec<String>,
    /// The definition, checked once.
    award: laurel::Award,
}

const SCALES: [(&str, i64, i64, i64); 2] = [("ten", 0, 100, 5), ("five", 10, 50, 10)];

fn generate(seed: u64, rounds: usize) -> Case {
    let mut r = Rng(seed);
    let judges_per_application = r.range(1, 4);
    let judge_count = judges_per_application + r.range(0, 3);
    let judges: Vec<String> = (0..judge_count).map(|j| format!("j{j}")).collect();
    // One criteria tree, shared by the categories (with their own weights and winners), so
    // that a round can name criteria every category has.
    let n_criteria = r.range(1, 3);
    let mut criteria_shape = Vec::new();
    let mut marked = BTreeMap::new();
    for c in 0..n_criteria {
        let id = format!("k{c}");
        let one_level = r.chance(25);
        let mut indicators = Vec::new();
        let mut mine = Vec::new();
        if !one_level {
            for i in 0..r.range(1, 3) {
                let scale = *r.pick(&SCALES);
                let iid = format!("k{c}i{i}");
                let mut ind =
                    json!({"id": iid, "name": iid, "weight": r.range(1, 3), "scale": scale.0});
                if r.chance(15) {
                    ind["floor"] = json!(scale.1 as f64 / 10.0 + 1.0);
                }
                if r.chance(15) {
                    ind["cap"] = json!(scale.2 as f64 / 10.0 - 1.0);
                }
                indicators.push(ind);
                mine.push((iid, (scale.1, scale.2, scale.3)));
            }
            // A formula reading the criterion's first marked indicator and a field.
            if r.chance(30) {
                let first = &mine[0].0;
                indicators.push(
                    json!({"id": format!("k{c}f"), "name": "computed", "weight": r.range(1, 2),
                    "formula": format!("indicators.{first} / 2 + fields.bonus")}),
                );
            }
        } else {
            mine.push((id.clone(), (0, 100, 5)));
        }
        marked.insert(id.clone(), mine);
        criteria_shape.push((id, one_level, indicators));
    }
    let combine = ["weighted_mean", "weighted_sum"];
    let n_categories = r.range(1, 2);
    let mut categories = Vec::new();
    let mut applications = Vec::new();
    for k in 0..n_categories {
        let mut criteria = Vec::new();
        for (c, (id, one_level, indicators)) in criteria_shape.iter().enumerate() {
            let weight = if c == 0 { r.range(1, 4) } else { r.range(0, 4) };
            let mut criterion = json!({"id": id, "name": id, "weight": weight});
            if *one_level {
                criterion["scale"] = json!("ten");
            } else {
                criterion["indicators"] = json!(indicators);
                if r.chance(30) {
                    criterion["combine"] = json!(r.pick(&combine));
                }
            }
            if r.chance(15) {
                criterion["pass_mark"] = json!({"min": r.range(2, 5),
                    "excludes": r.pick(&["winning", "advancing"])});
            }
            criteria.push(criterion);
        }
        let winners = r.range(1, 3);
        let mut category = json!({"id": format!("c{k}"), "name": format!("Category {k}"),
            "applicant_types": ["team"], "winners": winners, "criteria": criteria});
        if r.chance(50) {
            category["prizes"] = json!(
                (1..=winners)
                    .map(|p| json!({"place": p, "name": format!("Prize {p}"),
                "amount": 1000 * (winners + 1 - p), "currency": "USD"}))
                    .collect::<Vec<_>>()
            );
        }
        categories.push(category);
        for a in 0..r.range(2, 9) {
            applications.push(json!({"id": format!("app-{k}-{a}"), "category": format!("c{k}"),
                "applicant_type": "team", "fields": {"bonus": r.range(0, 5), "region": r.pick(&["north", "south"])}}));
        }
    }
    let normalisation = *r.pick(&["none", "none", "z_score", "min_max", "ratio_to_mean"]);
    let mut scoring = json!({
        "scale": "ten",
        "criterion": r.pick(&combine), "total": r.pick(&combine),
        "normalisation": {"method": normalisation, "min_marks": r.range(1, 4)},
        "rounding": {"final": {"places": r.range(1, 4), "mode": r.pick(&["half_up", "half_even", "down"])}},
    });
    let aggregation = match r.range(0, 4) {
        0 => json!({"method": "median"}),
        1 if judges_per_application >= 3 => json!({"method": "trimmed_mean", "trim": 1}),
        2 => json!({"method": "sum"}),
        _ => json!({"method": "mean"}),
    };
    scoring["aggregation"] = aggregation;
    if r.chance(30) {
        scoring["rounding"]["criterion"] = json!({"places": 2});
    }
    let may_miss = r.chance(25);
    if may_miss {
        scoring["missing_marks"] = json!("renormalise");
    }
    if r.chance(50) {
        scoring["tie_break"] = json!([{"by": "criterion", "criterion": "k0"},
            {"by": "field", "field": "bonus", "order": r.pick(&["asc", "desc"])}]);
    }
    let ids: Vec<String> = criteria_shape.iter().map(|c| c.0.clone()).collect();
    let first_round: Vec<String> = if ids.len() > 1 && r.chance(60) {
        ids[..ids.len() - 1].to_vec()
    } else {
        ids.clone()
    };
    let advance = match r.range(0, 2) {
        0 => json!({"rule": "top_n", "n": r.range(1, 4)}),
        1 => json!({"rule": "top_fraction", "fraction": 0.5}),
        _ => json!({"rule": "threshold", "score": r.range(2, 6)}),
    };
    let rounds = match rounds {
        1 => json!([{"id": "only", "name": "Only", "marked": true,
            "judges_per_application": judges_per_application, "advance": {"rule": "winners"}}]),
        _ => json!([
            {"id": "first", "name": "First", "marked": true, "criteria": first_round,
             "judges_per_application": judges_per_application, "advance": advance},
            {"id": "final", "name": "Final", "marked": true,
             "judges_per_application": judges_per_application, "advance": {"rule": "winners"}}]),
    };
    let definition = json!({
        "format_version": "1.1", "id": format!("diff-{seed}"), "name": format!("Differential {seed}"),
        "edition": "1",
        "languages": {"default": "en", "available": ["en"]},
        "timeline": {"time_zone": "UTC", "opens": "2023-01-01T00:00", "closes": "2023-12-31T00:00", "results": "2024-01-31T00:00"},
        "applicant_types": [{"id": "team", "name": "Team"}],
        "form": {"fields": [
            {"id": "bonus", "type": "integer", "label": "Bonus", "required": true, "min": 0, "max": 5},
            {"id": "region", "type": "single_choice", "label": "Region", "required": true,
             "options": [{"value": "north", "label": "North"}, {"value": "south", "label": "South"}]}]},
        "scales": [{"id": "ten", "min": 0, "max": 10, "step": 0.5}, {"id": "five", "min": 1, "max": 5, "step": 1}],
        "categories": categories,
        "scoring": scoring,
        "rounds": rounds,
    });
    let report =
        laurel::check_definition(&definition.to_string(), &BTreeMap::<String, Vec<u8>>::new());
    let award = report.award.unwrap_or_else(|| {
        panic!(
            "{}: the generated rubric is invalid: {:#?}",
            replay(seed),
            report.diagnostics
        )
    });
    Case {
        seed,
        definition,
        applications,
        judges,
        marked,
        may_miss,
        first_round,
        award,
    }
}

/// A judge's marks of an application on the criteria given: the same for the same seed,
/// judge, application and indicator, whichever path asks; a few left out when the rubric
/// renormalises (never all of them).
fn marks_of(case: &Case, judge: &str, app: &str, criteria: &[String]) -> Value {
    let mut marks = serde_json::Map::new();
    for c in criteria {
        for (indicator, (lo, hi, step)) in case.marked.get(c).into_iter().flatten() {
            let mut h = Rng(case.seed ^ fnv(&format!("{judge}/{app}/{indicator}")));
            if case.may_miss && h.chance(15) {
                continue;
            }
            let steps = (hi - lo) / step;
            let tenths = lo + step * h.range(0, steps as u64) as i64;
            marks.insert(
                indicator.clone(),
                json!(rust_decimal::Decimal::new(tenths, 1).normalize()),
            );
        }
    }
    if marks.is_empty() {
        // At least one mark: an empty evaluation is not an evaluation.
        let (indicator, (lo, _, _)) = &case.marked[&criteria[0]][0];
        marks.insert(
            indicator.clone(),
            json!(rust_decimal::Decimal::new(*lo, 1).normalize()),
        );
    }
    Value::Object(marks)
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Marks for an assignment: `{judge: [applications]}` on the criteria given.
fn evaluations(
    case: &Case,
    assignment: &BTreeMap<String, Vec<String>>,
    criteria: &[String],
) -> Value {
    let mut out = Vec::new();
    for (judge, apps) in assignment {
        for app in apps {
            out.push(json!({"judge": judge, "application": app, "marks": marks_of(case, judge, app, criteria)}));
        }
    }
    json!({ "evaluations": out })
}

/// An assignment drawn by the case's seed: each application gets `k` distinct judges.
fn own_draw(case: &Case) -> BTreeMap<String, Vec<String>> {
    let k = case.definition["rounds"][0]["judges_per_application"]
        .as_u64()
        .unwrap() as usize;
    let mut r = Rng(case.seed.rotate_left(17));
    let mut by_judge: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in &case.applications {
        let mut pool = case.judges.clone();
        for _ in 0..k {
            let j = pool.remove((r.next() % pool.len() as u64) as usize);
            by_judge
                .entry(j)
                .or_default()
                .push(a["id"].as_str().unwrap().to_owned());
        }
    }
    by_judge
}

fn all_criteria(case: &Case) -> Vec<String> {
    case.marked.keys().cloned().collect()
}

/// The library's results, as JSON: the award scored as `round` does (the whole award without).
fn library(case: &Case, round: Option<&str>, apps: &[Value], marks: &Value) -> Value {
    let whole = &case.award;
    let narrowed;
    let award = match round {
        Some(id) => {
            let spec = whole.rounds.iter().find(|r| r.id == id).unwrap();
            narrowed = whole.for_round(spec);
            &narrowed
        }
        None => whole,
    };
    let plugins = laurel::PluginSet::none();
    let (d, checked) = laurel::check_applications(award, &Value::Array(apps.to_vec()), &plugins);
    let checked = checked.unwrap_or_else(|| panic!("{}: {d:#?}", replay(case.seed)));
    let marks: laurel::Marks = serde_json::from_value(marks.clone()).unwrap();
    let results = laurel::evaluate(award, &checked, &marks, &plugins)
        .unwrap_or_else(|e| panic!("{}: {e:#?}", replay(case.seed)));
    serde_json::to_value(&results).unwrap()
}

fn replay(seed: u64) -> String {
    format!("case {seed} (replay: LAUREL_DIFF_SEED={seed} cargo test --test differential)")
}

/// What must agree: each category's places, scores, winners, prizes, traces and unscored
/// applications, each application's eligibility, and the warnings; hashes of texts that
/// differ by path (the inputs as sent) are left out, and so is the jury's diagnosis, which
/// the server adds to a round's warnings (`jury: ...`) and nothing else computes.
fn comparable(results: &Value) -> Value {
    assert!(
        results["categories"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
            && results["eligibility"].is_array(),
        "not results: {results}"
    );
    // Eligibility is listed in the order the applications came in; each path sends them in
    // its own order.
    let mut eligibility = results["eligibility"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    eligibility.sort_by(|a, b| a["application"].as_str().cmp(&b["application"].as_str()));
    json!({
        "categories": results["categories"],
        "eligibility": eligibility,
        "warnings": results["warnings"].as_array().map(|w| w
            .iter()
            .filter(|w| !w.as_str().is_some_and(|t| t.starts_with("jury: ")))
            .cloned()
            .collect::<Vec<_>>()),
    })
}

fn same(case: &Case, path: &str, want: &Value, got: &Value) {
    let (want, got) = (comparable(want), comparable(got));
    if want != got {
        let (a, b) = (
            serde_json::to_string_pretty(&want).unwrap(),
            serde_json::to_string_pretty(&got).unwrap(),
        );
        let first = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        let around = |t: &str| {
            t.lines()
                .skip(first.saturating_sub(6))
                .take(14)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "{}: {path} differs from the library at line {first}:\n--- library\n{}\n--- {path}\n{}\n\nrubric: {}",
            replay(case.seed),
            around(&a),
            around(&b),
            case.definition
        );
    }
}

fn seeds(base: u64, default: usize) -> Vec<u64> {
    if let Some(seed) = std::env::var("LAUREL_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let n = std::env::var("LAUREL_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    (0..n as u64).map(|i| base + i).collect()
}

/// A server with no rubric of its own, for generated awards.
fn server(data: &Path, store: Option<&str>) -> Server {
    let rubrics = data.join("no-rubrics");
    std::fs::create_dir_all(&rubrics).unwrap();
    match store {
        None => Server::start_full(&data.join("sled"), &rubrics, &[], &[]),
        Some(url) => Server::start_full(
            &data.join("pg"),
            &rubrics,
            &[],
            &["--store", url, "--migrate"],
        ),
    }
}

fn evaluate_over_http(
    server: &Server,
    case: &Case,
    round: Option<&str>,
    apps: &[Value],
    marks: &Value,
) -> Value {
    let mut body = json!({"definition": case.definition, "applications": apps, "marks": marks});
    if let Some(r) = round {
        body["round"] = json!(r);
    }
    let (status, v) = server.post("/v1/evaluate", server.admin(), &body);
    assert_eq!(status, 200, "{}: {v}", replay(case.seed));
    v
}

#[test]
fn the_library_and_the_api_agree_on_every_generated_rubric() {
    let data = tempfile::tempdir().unwrap();
    let server = server(data.path(), None);
    let mut features: BTreeMap<&str, usize> = BTreeMap::new();
    for seed in seeds(1_000_000, 1_000) {
        let case = generate(seed, 2);
        count_features(&case, &mut features);
        let marks = evaluations(&case, &own_draw(&case), &all_criteria(&case));
        let want = library(&case, None, &case.applications, &marks);
        same(
            &case,
            "POST /v1/evaluate",
            &want,
            &evaluate_over_http(&server, &case, None, &case.applications, &marks),
        );
        // The same inputs in another order (as a store or a portal may give them): the same
        // results, to the last digit of every trace.
        let mut shuffled_apps = case.applications.clone();
        shuffled_apps.reverse();
        let mut shuffled = marks.clone();
        shuffled["evaluations"].as_array_mut().unwrap().reverse();
        same(
            &case,
            "the library, inputs reversed",
            &want,
            &library(&case, None, &shuffled_apps, &shuffled),
        );
        // Each round, as the round scores it.
        for round in ["first", "final"] {
            let criteria = if round == "first" {
                case.first_round.clone()
            } else {
                all_criteria(&case)
            };
            let marks = evaluations(&case, &own_draw(&case), &criteria);
            let want = library(&case, Some(round), &case.applications, &marks);
            let got = evaluate_over_http(&server, &case, Some(round), &case.applications, &marks);
            same(
                &case,
                &format!("POST /v1/evaluate (round {round})"),
                &want,
                &got,
            );
        }
    }
    // The generator reaches every feature it claims to.
    if std::env::var("LAUREL_DIFF_SEED").is_err() {
        for feature in [
            "formula",
            "floor",
            "cap",
            "pass_mark",
            "renormalise",
            "z_score",
            "min_max",
            "ratio_to_mean",
            "median",
            "trimmed_mean",
            "sum",
            "tie_break",
            "prizes",
            "one_level",
            "two_categories",
            "zero_weight",
            "top_n",
            "top_fraction",
            "threshold",
        ] {
            assert!(
                features.get(feature).copied().unwrap_or(0) > 0,
                "no case has {feature}: {features:?}"
            );
        }
    }
}

fn count_features(case: &Case, seen: &mut BTreeMap<&'static str, usize>) {
    let text = case.definition.to_string();
    let d = &case.definition;
    let mut add = |k: &'static str, yes: bool| {
        if yes {
            *seen.entry(k).or_default() += 1;
        }
    };
    add("formula", text.contains("\"formula\""));
    add("floor", text.contains("\"floor\""));
    add("cap", text.contains("\"cap\""));
    add("pass_mark", text.contains("\"pass_mark\""));
    add("renormalise", case.may_miss);
    for m in ["z_score", "min_max", "ratio_to_mean"] {
        add(m, d["scoring"]["normalisation"]["method"] == m);
    }
    for m in ["median", "trimmed_mean", "sum"] {
        add(m, d["scoring"]["aggregation"]["method"] == m);
    }
    add("tie_break", d["scoring"].get("tie_break").is_some());
    add("prizes", text.contains("\"prizes\""));
    add(
        "one_level",
        d["categories"][0]["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.get("indicators").is_none()),
    );
    add(
        "two_categories",
        d["categories"].as_array().unwrap().len() > 1,
    );
    add(
        "zero_weight",
        d["categories"][0]["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["weight"] == 0),
    );
    for rule in ["top_n", "top_fraction", "threshold"] {
        add(rule, d["rounds"][0]["advance"]["rule"] == rule);
    }
}

#[test]
fn laurel_score_agrees_with_the_library() {
    let dir = tempfile::tempdir().unwrap();
    for seed in seeds(2_000_000, 60) {
        let case = generate(seed, 2);
        let folder = dir.path().join(seed.to_string());
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("award.json"), case.definition.to_string()).unwrap();
        std::fs::write(
            folder.join("applications.json"),
            Value::Array(case.applications.clone()).to_string(),
        )
        .unwrap();
        for round in [None, Some("first")] {
            let criteria = if round.is_some() {
                case.first_round.clone()
            } else {
                all_criteria(&case)
            };
            let marks = evaluations(&case, &own_draw(&case), &criteria);
            std::fs::write(folder.join("marks.json"), marks.to_string()).unwrap();
            let mut args = vec![
                "score".to_owned(),
                folder.to_str().unwrap().to_owned(),
                "--applications".to_owned(),
                folder
                    .join("applications.json")
                    .to_str()
                    .unwrap()
                    .to_owned(),
                "--marks".to_owned(),
                folder.join("marks.json").to_str().unwrap().to_owned(),
                "--format".to_owned(),
                "json".to_owned(),
                "--allow-unscored".to_owned(),
            ];
            if let Some(r) = round {
                args.extend(["--round".to_owned(), r.to_owned()]);
            }
            let out = Command::new(env!("CARGO_BIN_EXE_laurel"))
                .args(&args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: laurel score: {}",
                replay(seed),
                String::from_utf8_lossy(&out.stderr)
            );
            let got: Value = serde_json::from_slice(&out.stdout).unwrap();
            let want = library(&case, round, &case.applications, &marks);
            same(
                &case,
                &format!("laurel score {}", round.unwrap_or("")),
                &want,
                &got,
            );
        }
    }
}

/// Runs a generated award through the server's rounds: applications submitted, judges
/// registered, each round opened (the server draws its judges), marked for its draw, closed
/// and advanced; each round's results are compared with the library's and `/v1/evaluate`'s
/// for the same entrants and marks, and the final winners with the last round's.
fn through_the_rounds(server: &Server, case: &Case) -> bool {
    let admin = server.admin().to_owned();
    let id = case.definition["id"].as_str().unwrap().to_owned();
    let url = |p: &str| format!("/v1/awards/{id}{p}");
    let (status, v) = server.call(
        "POST",
        "/v1/awards",
        Some(&admin),
        Some(case.definition.to_string().as_bytes()),
    );
    assert_eq!(status, 201, "{}: {v}", replay(case.seed));
    for step in ["/publish", "/open"] {
        let (status, v) = server.post(&url(step), &admin, &json!({}));
        assert!(
            status == 200 || status == 201,
            "{}: {step}: {v}",
            replay(case.seed)
        );
    }
    for a in &case.applications {
        let (status, v) = server.post(&url("/applications"), &admin, a);
        assert_eq!(status, 201, "{}: {v}", replay(case.seed));
    }
    assert_eq!(server.post(&url("/close"), &admin, &json!({})).0, 200);
    let mut keys = BTreeMap::new();
    for j in &case.judges {
        let (status, v) = server.put(
            &url(&format!("/judges/{j}")),
            &admin,
            &json!({"id": j, "name": j}),
        );
        assert_eq!(status, 200, "{v}");
        let (status, v) = server.post(
            "/v1/keys",
            &admin,
            &json!({"role": "judge", "subject": j, "award": id}),
        );
        assert_eq!(status, 201, "{v}");
        keys.insert(j.clone(), v["key"].as_str().unwrap().to_owned());
    }
    let by_id: BTreeMap<&str, &Value> = case
        .applications
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a))
        .collect();
    let rounds: Vec<String> = case.definition["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let mut last = Value::Null;
    for (n, round) in rounds.iter().enumerate() {
        let (status, opened) = server.post(
            &url(&format!("/rounds/{round}/open")),
            &admin,
            &json!({"seed": case.seed}),
        );
        assert_eq!(status, 200, "{}: open {round}: {opened}", replay(case.seed));
        let criteria = if rounds.len() > 1 && n == 0 {
            case.first_round.clone()
        } else {
            all_criteria(case)
        };
        let assignment: BTreeMap<String, Vec<String>> =
            serde_json::from_value(opened["assignments"].clone()).unwrap();
        let marks = evaluations(case, &assignment, &criteria);
        for e in marks["evaluations"].as_array().unwrap() {
            let judge = e["judge"].as_str().unwrap();
            let app = e["application"].as_str().unwrap();
            let (status, v) = server.put(
                &url(&format!("/rounds/{round}/marks/{app}")),
                &keys[judge],
                &json!({"marks": e["marks"]}),
            );
            assert_eq!(
                status,
                200,
                "{}: marks of {judge} for {app}: {v}",
                replay(case.seed)
            );
        }
        let (status, closed) =
            server.post(&url(&format!("/rounds/{round}/close")), &admin, &json!({}));
        assert_eq!(
            status,
            200,
            "{}: close {round}: {closed}",
            replay(case.seed)
        );
        let entrants: Vec<Value> = closed["entrants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| by_id[a.as_str().unwrap()].clone())
            .collect();
        let (status, got) = server.get(&url(&format!("/rounds/{round}/results")), &admin);
        assert_eq!(status, 200, "{got}");
        let want = library(case, Some(round), &entrants, &marks);
        same(
            case,
            &format!("the server's round `{round}`"),
            &want,
            &got["results"],
        );
        same(
            case,
            &format!("POST /v1/evaluate (round {round}, its entrants)"),
            &want,
            &evaluate_over_http(server, case, Some(round), &entrants, &marks),
        );
        let (status, advanced) = server.post(
            &url(&format!("/rounds/{round}/advance")),
            &admin,
            &json!({"override_reason": "generated marks may leave an entrant unscored"}),
        );
        assert_eq!(
            status,
            200,
            "{}: advance {round}: {advanced}",
            replay(case.seed)
        );
        // Who goes on is the rule applied to the library's ranking.
        let went: BTreeSet<String> = advanced["advanced"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                a["application"]
                    .as_str()
                    .unwrap_or_else(|| a.as_str().unwrap())
                    .to_owned()
            })
            .collect();
        let rule = &case.definition["rounds"][n]["advance"];
        assert_eq!(
            went,
            goes_on(rule, &want),
            "{}: who left round `{round}` by {rule}; the ranking: {}",
            replay(case.seed),
            summary(&want)
        );
        last = want;
    }
    // The final results name the last round's winners.
    let (status, fin) = server.post(&url("/results"), &admin, &json!({}));
    assert_eq!(status, 201, "{fin}");
    let (_, fin) = server.get(&url("/results"), &admin);
    let winners: BTreeSet<String> = fin["results"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["winners"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["application"].as_str().unwrap().to_owned())
        })
        .collect();
    let want: BTreeSet<String> = last["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["ranking"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["winner"] == true)
                .map(|p| p["application"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(winners, want, "{}: the final winners", replay(case.seed));
    verified_from_the_bundle(server, case, &id)
}

/// Publishes the results (when nothing awaits a review) and checks them as an outsider would:
/// the server's own recomputation of the public bundle matched, and `laurel verify` recomputes
/// every score, rank, advancement and winner from the bundle alone. Returns whether it could.
fn verified_from_the_bundle(server: &Server, case: &Case, id: &str) -> bool {
    let (status, published) = server.post(
        &format!("/v1/awards/{id}/results/publish"),
        server.admin(),
        &json!({}),
    );
    if status == 409 {
        assert!(
            published["detail"].as_str().unwrap().contains("not final"),
            "{published}"
        );
        return false;
    }
    assert_eq!(status, 200, "{}: {published}", replay(case.seed));
    let (_, listed) = server.call("GET", &format!("/v1/awards/{id}/certificates"), None, None);
    let c = &listed["certificates"][0];
    assert_eq!(
        c["recomputes"],
        true,
        "{}: {}",
        replay(case.seed),
        c["mismatches"]
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, file) = server.call("GET", c["file"].as_str().unwrap(), None, None);
    let (_, keys) = server.call("GET", "/v1/keys/results", None, None);
    std::fs::write(dir.path().join("f.json"), file.to_string()).unwrap();
    std::fs::write(dir.path().join("keys.json"), keys.to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_laurel"))
        .arg("verify")
        .arg(dir.path().join("f.json"))
        .arg("--key")
        .arg(dir.path().join("keys.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        replay(case.seed),
        String::from_utf8_lossy(&out.stdout)
    );
    true
}

/// Each category's ranking in a line: application rank score (winner, below which pass marks).
fn summary(results: &Value) -> String {
    results["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let rows: Vec<String> = c["ranking"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    format!(
                        "{} #{} {}{}{}",
                        p["application"].as_str().unwrap(),
                        p["rank"],
                        p["score"],
                        if p["winner"] == true { " winner" } else { "" },
                        p.get("below_pass_marks")
                            .map(|b| format!(" below {b}"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            format!(
                "{} (winners {}): {}; unscored {}",
                c["category"],
                c["winners"],
                rows.join(", "),
                c["unscored"]
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Who a round's rule sends on, computed from the library's ranking here, independently of
/// the server: pass marks that exclude from advancing keep an application back.
fn goes_on(rule: &Value, results: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in results["categories"].as_array().unwrap() {
        let ranking: Vec<&Value> = c["ranking"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                !p["below_pass_marks"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x["excludes"] == "advancing"))
            })
            .collect();
        let score = |p: &Value| {
            p["score"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| p["score"].to_string())
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        };
        let take_top = |n: usize| -> Vec<&Value> {
            if ranking.len() <= n || n == 0 {
                return if n == 0 { Vec::new() } else { ranking.clone() };
            }
            let last = &ranking[n - 1]["rank"];
            ranking
                .iter()
                .copied()
                .take_while(|p| p["rank"].as_u64() <= last.as_u64())
                .collect()
        };
        let chosen: Vec<&Value> = match rule["rule"].as_str().unwrap() {
            "top_n" => take_top(rule["n"].as_u64().unwrap() as usize),
            "top_fraction" => {
                // A share of everyone ranked; those a pass mark keeps back are replaced.
                let f: rust_decimal::Decimal = rule["fraction"].to_string().parse().unwrap();
                let all = c["ranking"].as_array().unwrap().len();
                let n = (rust_decimal::Decimal::from(all) * f).ceil();
                take_top(n.try_into().unwrap())
            }
            "threshold" => {
                let t: rust_decimal::Decimal = rule["score"].to_string().parse().unwrap();
                ranking.iter().copied().filter(|p| score(p) >= t).collect()
            }
            "winners" => ranking
                .iter()
                .copied()
                .filter(|p| p["winner"] == true)
                .collect(),
            other => panic!("rule {other}"),
        };
        out.extend(
            chosen
                .iter()
                .map(|p| p["application"].as_str().unwrap().to_owned()),
        );
    }
    out
}

#[test]
fn the_servers_rounds_agree_with_the_library_on_sled_and_postgresql() {
    let data = tempfile::tempdir().unwrap();
    let sled = server(data.path(), None);
    let mut verified = 0;
    let cases = seeds(3_000_000, 24);
    for seed in &cases {
        let case = generate(*seed, if seed % 3 == 0 { 1 } else { 2 });
        verified += usize::from(through_the_rounds(&sled, &case));
    }
    // Most generated awards publish (the others keep an application awaiting review).
    assert!(
        verified * 2 >= cases.len(),
        "{verified} of {} verified",
        cases.len()
    );
    drop(sled);
    let pg = support::postgres::Cluster::start();
    let on_pg = server(data.path(), Some(&pg.database()));
    for seed in seeds(4_000_000, 8) {
        let case = generate(seed, if seed % 3 == 0 { 1 } else { 2 });
        through_the_rounds(&on_pg, &case);
    }
}
