//! The Seoul example data set reproduces the golden files that `reference.py`, an independent
//! implementation in Python's decimal module, computed from the rubric's README.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use laurel::{
    Award, Marks, PluginFiles, PluginSet, Status, check_applications, check_definition, evaluate,
    load_plugins,
};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seoul-smart-city-prize-2023")
}

struct Beside(PathBuf);

impl PluginFiles for Beside {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.0.join(path))
    }
}

/// The Seoul rubric and its plugins (a rhai eligibility script and a wasm score module).
fn seoul() -> (Award, PluginSet) {
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rubrics/seoul-smart-city-prize-2023");
    let files = Beside(folder.clone());
    let report = check_definition(
        &std::fs::read_to_string(folder.join("award.json")).unwrap(),
        &files,
    );
    let award = report
        .award
        .unwrap_or_else(|| panic!("{:#?}", report.diagnostics));
    let plugins = load_plugins(&award, &files).unwrap();
    (award, plugins)
}

fn csv_rows(name: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir().join("expected").join(name)).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            headers
                .iter()
                .map(str::to_owned)
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[test]
fn seoul_example_reproduces_the_independent_reference() {
    let (award, plugins) = seoul();
    let apps_doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("applications.json")).unwrap())
            .unwrap();
    let (diags, apps) = check_applications(&award, &apps_doc, &plugins);
    let apps = apps.unwrap_or_else(|| panic!("{diags:#?}"));
    assert!(apps.len() >= 60);
    let marks: Marks =
        serde_json::from_str(&std::fs::read_to_string(dir().join("marks.json")).unwrap()).unwrap();
    let judges: std::collections::BTreeSet<&str> =
        marks.evaluations.iter().map(|e| e.judge.as_str()).collect();
    assert_eq!(judges.len(), 7);
    let results = evaluate(&award, &apps, &marks, &plugins).unwrap();

    let eligibility = csv_rows("eligibility.csv");
    assert_eq!(eligibility.len(), apps.len());
    for row in &eligibility {
        let got = results
            .eligibility
            .iter()
            .find(|e| e.decision.application == row["application"])
            .unwrap();
        let status = match got.decision.status {
            Status::Eligible => "eligible",
            Status::Ineligible => "ineligible",
            Status::NeedsReview => "needs_review",
        };
        assert_eq!(status, row["status"], "{}", row["application"]);
        assert_eq!(
            got.admitted.to_string(),
            row["admitted"],
            "{}",
            row["application"]
        );
        let rules: Vec<&str> = got
            .decision
            .failures
            .iter()
            .map(|f| f.rule.as_str())
            .collect();
        assert_eq!(
            rules.join(";"),
            row["failed_rules"],
            "{}",
            row["application"]
        );
        for f in &got.decision.failures {
            assert!(!f.message.get("en", "en").is_empty() && !f.message.get("ko", "en").is_empty());
        }
    }

    let expected = csv_rows("results.csv");
    let mut matched = 0;
    for row in &expected {
        let category = results
            .categories
            .iter()
            .find(|c| c.category.as_str() == row["category"])
            .unwrap();
        let placed = category
            .ranking
            .iter()
            .find(|p| p.application.as_str() == row["application"])
            .unwrap();
        assert_eq!(
            placed.score.to_string(),
            row["score"],
            "{}",
            row["application"]
        );
        assert_eq!(
            placed.rank.to_string(),
            row["rank"],
            "{}",
            row["application"]
        );
        assert_eq!(
            placed.winner.to_string(),
            row["winner"],
            "{}",
            row["application"]
        );
        assert_eq!(
            placed.tied.to_string(),
            row["tied"],
            "{}",
            row["application"]
        );
        let relevance = placed
            .trace
            .criteria
            .iter()
            .find(|c| c.criterion.as_str() == "relevance")
            .unwrap();
        assert_eq!(
            relevance.score.to_string(),
            row["relevance"],
            "{}",
            row["application"]
        );
        matched += 1;
    }
    let scored: usize = results.categories.iter().map(|c| c.ranking.len()).sum();
    assert_eq!(
        matched, scored,
        "laurel scored applications the reference did not"
    );
    println!("{matched}/{scored} scores reproduced");
    let unscored: Vec<&str> = results
        .categories
        .iter()
        .flat_map(|c| c.unscored.iter().map(|u| u.application.as_str()))
        .collect();
    assert_eq!(unscored, ["app-072"]);
    assert_eq!(results.special_mentions.len(), 2);
    assert_eq!(results.definition_sha256, award.sha256);
}

#[test]
fn every_number_in_a_trace_recomputes() {
    let (award, plugins) = seoul();
    let apps_doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("applications.json")).unwrap())
            .unwrap();
    let apps = check_applications(&award, &apps_doc, &plugins).1.unwrap();
    let marks: Marks =
        serde_json::from_str(&std::fs::read_to_string(dir().join("marks.json")).unwrap()).unwrap();
    let results = evaluate(&award, &apps, &marks, &plugins).unwrap();
    let two = |d: rust_decimal::Decimal| {
        d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    };
    for c in &results.categories {
        for p in &c.ranking {
            let t = &p.trace;
            let agg = t.aggregation.as_ref().unwrap();
            // The panel mean is the mean of the judges' normalised totals.
            let sum: rust_decimal::Decimal = agg.inputs.iter().map(|(_, v)| *v).sum();
            assert_eq!(
                two(sum / rust_decimal::Decimal::from(agg.inputs.len())),
                agg.value
            );
            for j in &t.judges {
                // Each judge's total is the mean of their criterion scores (equal weights).
                let s: rust_decimal::Decimal = j.criteria.iter().map(|c| c.score).sum();
                assert_eq!(
                    two(s / rust_decimal::Decimal::from(j.criteria.len())),
                    j.total
                );
                for cr in &j.criteria {
                    let v: rust_decimal::Decimal =
                        cr.indicators.iter().map(|i| i.value.unwrap()).sum();
                    assert_eq!(
                        two(v / rust_decimal::Decimal::from(cr.indicators.len())),
                        cr.score
                    );
                }
                assert!(j.normalised.is_some());
            }
            assert_eq!(t.final_score, p.score);
            // The statistical formula ran on every project, and left leadership totals alone.
            let plugin = t.plugin.as_ref().unwrap();
            assert_eq!(plugin.plugin, "context-adjusted-score");
            assert_eq!(plugin.total_before, agg.value);
            if c.category.as_str() == "leadership" {
                assert_eq!(plugin.score, agg.value);
            } else {
                assert!(plugin.score >= agg.value);
            }
        }
    }
}
