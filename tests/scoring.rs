//! Scoring cases as files: each folder under `tests/scoring/` holds an award, applications,
//! marks and `expected.json`, whose values were computed by hand (the `_by_hand` note shows
//! the arithmetic). One harness runs them all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use laurel::{Award, Marks, check_applications, check_definition, evaluate};
use serde_json::Value;

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn award(dir: &Path) -> Award {
    let source = std::fs::read_to_string(dir.join("award.json")).unwrap();
    // A case's plugins are files beside its award.
    let files = |p: &str| std::fs::read(dir.join(p));
    let report = check_definition(&source, &files);
    assert!(
        !report.diagnostics.has_errors(),
        "{}: {:#?}",
        dir.display(),
        report.diagnostics
    );
    report.award.unwrap()
}

fn pairs(v: &Value) -> BTreeSet<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_owned(),
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn got_pairs(d: &laurel::Diagnostics) -> BTreeSet<(String, String)> {
    d.iter()
        .filter(|d| d.is_error())
        .map(|d| {
            (
                serde_json::to_value(d.code)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
                d.pointer.clone(),
            )
        })
        .collect()
}

fn run_case(dir: &Path) {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let award = award(dir);
    let expected = read(&dir.join("expected.json"));
    let files = |p: &str| std::fs::read(dir.join(p));
    let plugins = laurel::load_plugins(&award, &files).unwrap_or_else(|d| panic!("{name}: {d:#?}"));
    let (app_diags, apps) =
        check_applications(&award, &read(&dir.join("applications.json")), &plugins);
    let apps = apps.unwrap_or_else(|| panic!("{name}: {app_diags:#?}"));
    let marks: Marks = serde_json::from_value(read(&dir.join("marks.json"))).unwrap();
    let outcome = evaluate(&award, &apps, &marks, &plugins);
    if let Some(errors) = expected.get("errors") {
        let e = outcome.expect_err(&name);
        assert_eq!(
            got_pairs(&e.applications),
            pairs(&errors["applications"]),
            "{name}: applications"
        );
        assert_eq!(
            got_pairs(&e.marks),
            pairs(&errors["marks"]),
            "{name}: marks"
        );
        return;
    }
    let results = outcome.unwrap_or_else(|e| panic!("{name}: {e:#?}"));
    for (category, rows) in expected["ranking"].as_object().unwrap() {
        let c = results
            .categories
            .iter()
            .find(|c| c.category.as_str() == category)
            .unwrap();
        let got: Vec<(String, u32, String)> = c
            .ranking
            .iter()
            .map(|p| (p.application.to_string(), p.rank, p.score.to_string()))
            .collect();
        let want: Vec<(String, u32, String)> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap().to_owned(),
                    r[1].as_u64().unwrap() as u32,
                    r[2].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(got, want, "{name}: ranking of {category}");
    }
    let placed: Vec<&laurel::Placed<'_>> = results
        .categories
        .iter()
        .flat_map(|c| c.ranking.iter())
        .collect();
    let find = |id: &str| {
        *placed
            .iter()
            .find(|p| p.application.as_str() == id)
            .unwrap()
    };
    if let Some(tied) = expected.get("tied") {
        let want: BTreeSet<&str> = tied
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let got: BTreeSet<&str> = placed
            .iter()
            .filter(|p| p.tied)
            .map(|p| p.application.as_str())
            .collect();
        assert_eq!(got, want, "{name}: tied");
    }
    if let Some(winners) = expected.get("winners") {
        let want: BTreeSet<&str> = winners
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let got: BTreeSet<&str> = placed
            .iter()
            .filter(|p| p.winner)
            .map(|p| p.application.as_str())
            .collect();
        assert_eq!(got, want, "{name}: winners");
    }
    if let Some(by) = expected.get("tie_broken_by") {
        for (app, step) in by.as_object().unwrap() {
            assert_eq!(
                find(app).tie_broken_by.as_deref(),
                step.as_str(),
                "{name}: tie of {app}"
            );
        }
    }
    if let Some(unscored) = expected.get("unscored") {
        let want: BTreeSet<&str> = unscored
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let got: BTreeSet<&str> = results
            .categories
            .iter()
            .flat_map(|c| c.unscored.iter())
            .map(|u| u.application.as_str())
            .collect();
        assert_eq!(got, want, "{name}: unscored");
    }
    if let Some(warnings) = expected.get("warnings") {
        for w in warnings.as_array().unwrap() {
            let w = w.as_str().unwrap();
            assert!(
                results.warnings.iter().any(|got| got == w),
                "{name}: no warning `{w}` in {:#?}",
                results.warnings
            );
        }
    }
    if let Some(criteria) = expected.get("criteria") {
        for (app, scores) in criteria.as_object().unwrap() {
            for (criterion, score) in scores.as_object().unwrap() {
                let got = find(app)
                    .trace
                    .criteria
                    .iter()
                    .find(|c| c.criterion.as_str() == criterion)
                    .unwrap();
                assert_eq!(
                    got.score.to_string(),
                    score.as_str().unwrap(),
                    "{name}: {app} {criterion}"
                );
            }
        }
    }
}

#[test]
fn scoring_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scoring");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10);
    for dir in dirs {
        run_case(&dir);
    }
}

/// A computed indicator is in the trace like a marked one: its value as rounded, and the plugin
/// that computed it (`aggregate_at: indicator`).
#[test]
fn a_computed_indicator_is_in_the_trace_with_its_plugin() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scoring/computed-indicator");
    let award = award(&dir);
    let files = |p: &str| std::fs::read(dir.join(p));
    let plugins = laurel::load_plugins(&award, &files).unwrap();
    let apps = check_applications(&award, &read(&dir.join("applications.json")), &plugins)
        .1
        .unwrap();
    let marks: Marks = serde_json::from_value(read(&dir.join("marks.json"))).unwrap();
    let results = evaluate(&award, &apps, &marks, &plugins).unwrap();
    let trace = serde_json::to_value(&results.categories[0].ranking[1].trace).unwrap();
    let reach = trace["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == "reach")
        .unwrap_or_else(|| panic!("{trace:#}"));
    assert_eq!(reach["computed_by"], "reach");
    assert_eq!(reach["value"], "2.3");
    assert!(reach.get("marks").is_none() && reach.get("aggregation").is_none());
}

/// A rule whose outcome is `warning` admits the application, with the rule's message kept as a
/// note; `review` and `ineligible` still decide as before, and the strictest outcome wins.
#[test]
fn a_warning_admits_with_a_note() {
    let mut def: Value =
        read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/valid/minimal.award.json"));
    def["eligibility"] = serde_json::json!([
        {"id": "large", "outcome": "warning", "message": "Larger than the usual city.",
         "require": {"compare": {"field": "population", "op": "<=", "value": 1000000}}},
        {"id": "big-enough", "require": {"compare": {"field": "population", "op": ">=", "value": 1000}},
         "message": "Cities of 1,000 inhabitants or more."}
    ]);
    let award = check_definition(&def.to_string(), &std::collections::BTreeMap::new())
        .award
        .unwrap();
    let decide = |population: u64| {
        let app: laurel::Application = serde_json::from_value(serde_json::json!({
            "id": "a", "category": award.categories[0].id.as_str(),
            "applicant_type": award.applicant_types[0].id.as_str(),
            "fields": {"population": population}
        }))
        .unwrap();
        laurel::decide(&award, &app, &laurel::PluginSet::none())
    };
    let big = decide(2_000_000);
    assert_eq!(big.status, laurel::Status::Eligible);
    assert_eq!(big.failures.len(), 1);
    assert_eq!(big.failures[0].rule, "large");
    assert!(big.admits(None));
    let fine = decide(50_000);
    assert_eq!(
        (fine.status, fine.failures.len()),
        (laurel::Status::Eligible, 0)
    );
    let small = decide(10);
    assert_eq!(small.status, laurel::Status::Ineligible);
}

/// `before` and `after` compare strictly unless `inclusive` says the date itself passes.
#[test]
fn date_bounds_are_strict_unless_inclusive() {
    let decide = |inclusive: bool, started: &str| {
        let mut def: Value = read(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/valid/minimal.award.json"),
        );
        def["eligibility"] = serde_json::json!([
            {"id": "recent", "message": "Started in 2024 or later.",
             "require": {"after": {"field": "started", "date": "2023-12-31", "inclusive": inclusive}}},
            {"id": "not-future", "message": "Started by the end of 2025.",
             "require": {"before": {"field": "started", "date": "2025-12-31", "inclusive": inclusive}}}
        ]);
        let award = check_definition(&def.to_string(), &std::collections::BTreeMap::new())
            .award
            .unwrap();
        let app: laurel::Application = serde_json::from_value(serde_json::json!({
            "id": "a", "category": award.categories[0].id.as_str(),
            "applicant_type": award.applicant_types[0].id.as_str(),
            "fields": {"population": 5000, "started": started}
        }))
        .unwrap();
        let d = laurel::decide(&award, &app, &laurel::PluginSet::none());
        d.failures
            .iter()
            .map(|f| f.rule.clone())
            .collect::<Vec<_>>()
    };
    // On the bounds: strict comparisons refuse both days, inclusive ones accept them.
    assert_eq!(decide(false, "2023-12-31"), ["recent"]);
    assert_eq!(decide(false, "2025-12-31"), ["not-future"]);
    assert!(decide(true, "2023-12-31").is_empty());
    assert!(decide(true, "2025-12-31").is_empty());
    // Within and outside, both read alike.
    for inclusive in [false, true] {
        assert!(decide(inclusive, "2024-06-01").is_empty());
        assert_eq!(decide(inclusive, "2023-12-30"), ["recent"]);
        assert_eq!(decide(inclusive, "2026-01-01"), ["not-future"]);
    }
}
