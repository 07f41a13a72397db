//! Invariants of scoring, checked on random panels: order does not matter, z-scores ignore a
//! judge's scale, a zero weight ignores its indicator, totals stay on the scale, and results
//! without traces are the results with traces, less the breakdowns.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use laurel::{
    Application, Award, EvaluateOptions, Evaluation, Mark, Marks, PluginSet, check_definition,
    evaluate, evaluate_with,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

fn award(normalisation: &str, aggregation: serde_json::Value, zero_weight: bool) -> Award {
    let definition = json!({
        "format_version": "1.1", "id": "property", "name": "Property", "edition": "1",
        "languages": {"default": "en", "available": ["en"]},
        "timeline": {"time_zone": "UTC", "opens": "2026-01-01T00:00:00Z", "closes": "2026-02-01T00:00:00Z", "results": "2026-03-01T00:00:00Z"},
        "applicant_types": [{"id": "team", "name": "Team"}],
        "form": {"fields": [{"id": "title", "type": "short_text", "label": "Title"}]},
        "scales": [{"id": "ten", "min": 0, "max": 10}],
        "categories": [{"id": "main", "name": "Main", "applicant_types": ["team"], "winners": 1, "criteria": [
            {"id": "a", "name": "A", "weight": 2, "indicators": [{"id": "a1", "name": "a1", "weight": 1}, {"id": "a2", "name": "a2", "weight": if zero_weight { 0 } else { 3 }}]},
            {"id": "b", "name": "B", "weight": 1, "indicators": [{"id": "b1", "name": "b1", "weight": 1}, {"id": "b2", "name": "b2", "weight": 1}]}
        ]}],
        "scoring": {"scale": "ten", "normalisation": {"method": normalisation, "min_marks": 1}, "aggregation": aggregation,
                    "rounding": {"final": {"places": 6, "mode": "half_up"}}}
    });
    check_definition(&definition.to_string(), &BTreeMap::new())
        .award
        .unwrap()
}

fn apps(n: usize) -> Vec<Application> {
    (0..n)
        .map(|i| serde_json::from_value(json!({"id": format!("app-{i}"), "category": "main", "applicant_type": "team", "fields": {}})).unwrap())
        .collect()
}

/// `marks[judge][app][indicator]` in half points.
fn evaluations(marks: &[Vec<[u8; 4]>]) -> Vec<Evaluation> {
    let mut out = Vec::new();
    for (j, per_app) in marks.iter().enumerate() {
        for (a, m) in per_app.iter().enumerate() {
            let mut map = serde_json::Map::new();
            for (k, id) in ["a1", "a2", "b1", "b2"].iter().enumerate() {
                map.insert((*id).to_owned(), json!(Decimal::from(m[k]) / Decimal::TWO));
            }
            out.push(serde_json::from_value(json!({"judge": format!("j{j}"), "application": format!("app-{a}"), "marks": map})).unwrap());
        }
    }
    out
}

fn scores(
    award: &Award,
    apps: &[Application],
    evaluations: Vec<Evaluation>,
) -> BTreeMap<String, (u32, Decimal)> {
    let marks = Marks {
        evaluations,
        ..Marks::default()
    };
    let results = evaluate(award, apps, &marks, &PluginSet::none()).unwrap();
    results.categories[0]
        .ranking
        .iter()
        .map(|p| (p.application.to_string(), (p.rank, p.score)))
        .collect()
}

fn panel() -> impl Strategy<Value = (usize, Vec<Vec<[u8; 4]>>)> {
    (3usize..7, 3usize..6).prop_flat_map(|(n_apps, n_judges)| {
        (
            Just(n_apps),
            prop::collection::vec(
                prop::collection::vec(prop::array::uniform4(0u8..=20), n_apps),
                n_judges,
            ),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn reordering_applications_or_judges_changes_nothing((n, marks) in panel(), seed in any::<u64>()) {
        let award = award("z_score", json!({"method": "trimmed_mean", "trim": 1}), false);
        let apps = apps(n);
        let evals = evaluations(&marks);
        let before = scores(&award, &apps, evals.clone());
        let mut shuffled_apps = apps.clone();
        let mut shuffled_evals = evals;
        let mut rng = seed;
        let mut next = || { rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (rng >> 33) as usize };
        for i in (1..shuffled_apps.len()).rev() { let j = next() % (i + 1); shuffled_apps.swap(i, j); }
        for i in (1..shuffled_evals.len()).rev() { let j = next() % (i + 1); shuffled_evals.swap(i, j); }
        prop_assert_eq!(before, scores(&award, &shuffled_apps, shuffled_evals));
    }

    #[test]
    fn scaling_one_judge_leaves_z_scores_unchanged((n, marks) in panel(), judge in 0usize..3) {
        let award = award("z_score", json!({"method": "mean"}), false);
        let apps = apps(n);
        let before = scores(&award, &apps, evaluations(&marks));
        // Halve every mark of one judge: a harsher judge with the same opinions.
        let mut evals = evaluations(&marks);
        for e in evals.iter_mut().filter(|e| e.judge.as_str() == format!("j{judge}")) {
            for m in e.marks.values_mut() {
                if let Mark::Number(v) = m { *v /= Decimal::TWO; }
            }
        }
        prop_assert_eq!(before, scores(&award, &apps, evals));
    }

    #[test]
    fn a_zero_weight_ignores_its_indicator((n, marks) in panel()) {
        let award = award("none", json!({"method": "median"}), true);
        let apps = apps(n);
        let mut zeroed = marks.clone();
        for per_app in &mut zeroed { for m in per_app.iter_mut() { m[1] = 0; } }
        prop_assert_eq!(scores(&award, &apps, evaluations(&marks)), scores(&award, &apps, evaluations(&zeroed)));
    }

    #[test]
    fn every_total_stays_within_the_scale((n, marks) in panel(), method in 0usize..4) {
        let normalisation = ["none", "z_score", "ratio_to_mean", "min_max"][method];
        let award = award(normalisation, json!({"method": "mean"}), false);
        for (_, (_, score)) in scores(&award, &apps(n), evaluations(&marks)) {
            prop_assert!(score >= Decimal::ZERO && score <= Decimal::TEN, "{normalisation}: {score}");
        }
    }

    #[test]
    fn without_traces_the_numbers_are_the_same((n, marks) in panel(), method in 0usize..4, trim in any::<bool>()) {
        let normalisation = ["none", "z_score", "ratio_to_mean", "min_max"][method];
        let aggregation = if trim { json!({"method": "trimmed_mean", "trim": 1}) } else { json!({"method": "mean"}) };
        let award = award(normalisation, aggregation, false);
        let apps = apps(n);
        let marks = Marks { evaluations: evaluations(&marks), ..Marks::default() };
        let traced = evaluate(&award, &apps, &marks, &PluginSet::none()).unwrap();
        let lean = evaluate_with(&award, &apps, &marks, &PluginSet::none(), EvaluateOptions { traces: false }).unwrap();
        let mut full = serde_json::to_value(&traced).unwrap();
        // Written without traces, the full results are exactly what the lean run writes.
        for placed in full["categories"][0]["ranking"].as_array_mut().unwrap() {
            prop_assert!(placed.as_object_mut().unwrap().remove("trace").is_some());
        }
        prop_assert_eq!(full, serde_json::to_value(&lean).unwrap());
    }
}
