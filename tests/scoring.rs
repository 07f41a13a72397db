//! Scoring cases as files: each folder under `tests/scoring/` holds an award, applications,
//! marks and `expected.json`, whose values were computed by hand (the `_by_hand` note shows
//! the arithmetic). One harness runs them all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
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
    // A case may score one of the award's rounds: only the criteria that round judges.
    let award = match expected.get("round") {
        Some(id) => {
            let round = award.rounds.iter().find(|r| r.id == *id).unwrap();
            award.for_round(round)
        }
        None => award,
    };
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
    if let Some(reasons) = expected.get("unscored_reasons") {
        for (app, reason) in reasons.as_object().unwrap() {
            let got = results
                .categories
                .iter()
                .flat_map(|c| c.unscored.iter())
                .find(|u| u.application.as_str() == app)
                .unwrap_or_else(|| panic!("{name}: {app} is scored"));
            assert_eq!(
                got.reason,
                reason.as_str().unwrap(),
                "{name}: why {app} is unscored"
            );
        }
    }
    if let Some(below) = expected.get("below_pass_marks") {
        for p in &placed {
            let want: Vec<&str> = below
                .get(p.application.as_str())
                .map(|v| {
                    v.as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            let got: Vec<&str> = p
                .below_pass_marks
                .iter()
                .map(|f| f.criterion.as_str())
                .collect();
            assert_eq!(got, want, "{name}: pass marks {} missed", p.application);
        }
    }
    // The panel's value of each indicator, and the bound that held it, as `"value"` or
    // `"value floor"` / `"value cap"`.
    if let Some(indicators) = expected.get("indicators") {
        for (app, values) in indicators.as_object().unwrap() {
            let trace = &find(app).trace;
            for (indicator, want) in values.as_object().unwrap() {
                let got = trace
                    .indicators
                    .iter()
                    .find(|i| i.indicator.as_str() == indicator)
                    .unwrap_or_else(|| panic!("{name}: {app} has no value for {indicator}"));
                let shown = match got.limit {
                    Some(l) => format!("{} {l}", got.value),
                    None => got.value.to_string(),
                };
                assert_eq!(shown, want.as_str().unwrap(), "{name}: {app} {indicator}");
            }
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

fn minimal_with(rules: Value, constants: Value) -> Award {
    let mut def: Value =
        read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/valid/minimal.award.json"));
    def["eligibility"] = rules;
    def["scoring"]["constants"] = constants;
    let report = check_definition(&def.to_string(), &std::collections::BTreeMap::new());
    report
        .award
        .unwrap_or_else(|| panic!("{:#?}", report.diagnostics))
}

fn decide_fields(award: &Award, fields: Value) -> laurel::Decision {
    let app: laurel::Application = serde_json::from_value(serde_json::json!({
        "id": "a", "category": award.categories[0].id.as_str(),
        "applicant_type": award.applicant_types[0].id.as_str(),
        "fields": fields
    }))
    .unwrap();
    laurel::decide(award, &app, &laurel::PluginSet::none())
}

/// A formula condition reads fields and constants, exactly; a value it needs that is missing
/// fails the rule with the reason.
#[test]
fn a_formula_condition_decides_with_fields_and_constants() {
    let award = minimal_with(
        serde_json::json!([{"id": "density", "message": "At most 2.5 employees per 1,000 inhabitants.",
          "require": {"formula": "fields.employees * 1000 / fields.population <= max_ratio"}}]),
        serde_json::json!({"max_ratio": 2.5}),
    );
    // 25 × 1000 / 10000 = 2.5: on the bound, it holds; 26 is 2.6, over.
    let ok = decide_fields(
        &award,
        serde_json::json!({"population": 10000, "employees": 25}),
    );
    assert_eq!(ok.status, laurel::Status::Eligible, "{ok:#?}");
    let over = decide_fields(
        &award,
        serde_json::json!({"population": 10000, "employees": 26}),
    );
    assert_eq!(over.status, laurel::Status::Ineligible);
    let missing = decide_fields(&award, serde_json::json!({"population": 10000}));
    assert_eq!(missing.status, laurel::Status::Ineligible);
    let why = serde_json::to_string(&missing.failures).unwrap();
    assert!(why.contains("field `employees` has no value"), "{why}");
}

/// A formula that cannot be computed (division by zero, a result too small for a decimal) never
/// refuses anyone: the application goes to review with the reason, as when a plugin fails.
#[test]
fn a_formula_that_cannot_be_computed_sends_to_review_with_the_reason() {
    let award = minimal_with(
        serde_json::json!([{"id": "density", "message": "At most 2.5 employees per 1,000 inhabitants.",
          "require": {"formula": "fields.employees * 1000 / fields.population <= 2.5"}},
          {"id": "tiny", "message": "A share above zero.",
          "require": {"formula": "fields.employees * 0.00000000000001 * 0.00000000000001 * 0.0001 > 0"}}]),
        serde_json::json!({}),
    );
    let zero = decide_fields(&award, serde_json::json!({"population": 0, "employees": 1}));
    assert_eq!(zero.status, laurel::Status::NeedsReview, "{zero:#?}");
    let why = serde_json::to_string(&zero.failures).unwrap();
    assert!(why.contains("division by zero"), "{why}");
    // 1e-32 is 0 as a decimal: refused as underflow, never read as "not above zero".
    let tiny = decide_fields(
        &award,
        serde_json::json!({"population": 1000, "employees": 1}),
    );
    assert_eq!(tiny.status, laurel::Status::NeedsReview, "{tiny:#?}");
    let why = serde_json::to_string(&tiny.failures).unwrap();
    assert!(why.contains("too small"), "{why}");
}

/// A literal a decimal cannot hold exactly is refused where it is written, never rounded.
#[test]
fn a_formula_literal_is_exact_or_refused() {
    let mut def: Value =
        read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/valid/minimal.award.json"));
    def["eligibility"] = serde_json::json!([{"id": "tiny", "message": "m",
        "require": {"formula": "fields.x > 0.00000000000000000000000000001"}}]);
    let report = check_definition(&def.to_string(), &std::collections::BTreeMap::new());
    assert!(report.award.is_none());
    let d = report.diagnostics.iter().find(|d| d.is_error()).unwrap();
    assert_eq!(d.pointer, "/eligibility/0/require/formula", "{d:?}");
    assert!(
        d.message.contains("more digits than a decimal holds"),
        "{}",
        d.message
    );
}

/// A date relative to the call: "started within the 2 years before the call opens" is counted
/// from the day the call opens in the award's time zone (2026-01-05 in Paris): 2024-01-05 on.
#[test]
fn a_relative_date_counts_from_the_timeline() {
    let status = |relative: Value, inclusive: bool, started: &str| {
        let award = minimal_with(
            serde_json::json!([{"id": "recent", "message": "Started recently.",
              "require": {"after": {"field": "started", "relative": relative, "inclusive": inclusive}}}]),
            serde_json::json!({}),
        );
        decide_fields(
            &award,
            serde_json::json!({"population": 10, "started": started}),
        )
        .status
    };
    let two_years = serde_json::json!({"to": "opens", "years": -2});
    assert_eq!(
        status(two_years.clone(), true, "2024-01-05"),
        laurel::Status::Eligible
    );
    assert_eq!(
        status(two_years.clone(), true, "2025-12-31"),
        laurel::Status::Eligible
    );
    assert_eq!(
        status(two_years, true, "2024-01-04"),
        laurel::Status::Ineligible
    );
    // Months and days count too: 18 months before closing (2026-03-31) is 2024-09-30 (the
    // month's last day: September has no 31st), and 10 days before that is 2024-09-20.
    let months = serde_json::json!({"to": "closes", "months": -18, "days": -10});
    assert_eq!(
        status(months.clone(), false, "2024-09-21"),
        laurel::Status::Eligible
    );
    assert_eq!(
        status(months, false, "2024-09-20"),
        laurel::Status::Ineligible
    );
}

fn case_results<'a>(
    award: &'a Award,
    apps: &'a [laurel::Application],
    marks: &'a Marks,
) -> laurel::Results<'a> {
    evaluate(award, apps, marks, &laurel::PluginSet::none()).unwrap()
}

fn case(dir: &str) -> (Award, Vec<laurel::Application>, Marks) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scoring")
        .join(dir);
    let award = award(&dir);
    let apps = check_applications(
        &award,
        &read(&dir.join("applications.json")),
        &laurel::PluginSet::none(),
    )
    .1
    .unwrap();
    let marks: Marks = serde_json::from_value(read(&dir.join("marks.json"))).unwrap();
    (award, apps, marks)
}

/// A pass mark that excludes from advancing keeps the application back from a round's top
/// places, and the next one goes on instead; one that excludes from winning does not.
#[test]
fn a_pass_mark_can_keep_an_application_from_advancing() {
    let (mut award, apps, marks) = case("pass-marks");
    let round: laurel::wire::RoundSpec = serde_json::from_value(serde_json::json!({
        "id": "first", "name": "First", "advance": {"rule": "top_n", "n": 2}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let results = case_results(&award, &apps, &marks);
    // Excluding from winning only: A and B, the top two, go on.
    assert_eq!(
        laurel::advancing(&round, &results, &apps).unwrap(),
        vec!["A".to_owned(), "B".to_owned()]
    );
    award.categories[0].criteria[0]
        .pass_mark
        .as_mut()
        .unwrap()
        .excludes = laurel::wire::PassMarkEffect::Advancing;
    let results = case_results(&award, &apps, &marks);
    assert_eq!(
        laurel::advancing(&round, &results, &apps).unwrap(),
        vec!["B".to_owned(), "C".to_owned()]
    );
    let a = &results.categories[0].ranking[0];
    assert_eq!(
        a.below_pass_marks[0].reason(),
        "criterion `impact` scored 4.50, under its pass mark 5: cannot advance or win"
    );
}

/// A formula's text is in the trace with its value, and a criterion held at its floor says so.
#[test]
fn formulas_and_floors_are_in_the_trace() {
    let (award, apps, marks) = case("ski-jumping");
    let results = case_results(&award, &apps, &marks);
    let b = results.categories[0]
        .ranking
        .iter()
        .find(|p| p.application.as_str() == "B")
        .unwrap();
    let trace = serde_json::to_value(&b.trace).unwrap();
    let distance = &trace["indicators"][0];
    assert_eq!(distance["indicator"], "distance1");
    assert_eq!(
        distance["formula"],
        "60 + (fields.distance1 - k_point) * metre_value"
    );
    // 60 + (70.0 − 120) × 1.8 = −30.00: exact decimals keep the places of what they multiply.
    assert_eq!(distance["value"], "-30.00");
    let jump1 = &trace["criteria"][0];
    assert_eq!(
        (&jump1["score"], &jump1["limit"]),
        (&Value::from("0"), &Value::from("floor"))
    );
}

/// Final places go by the round reached, then winning, then the rank in that round; prizes go
/// to winning places, and a winner eligible without prize money gets the title, not the money.
#[test]
fn final_places_and_prizes_follow_the_rounds() {
    let (mut award, apps, marks) = case("pass-marks");
    award.categories[0].winners = 2;
    award.categories[0].prizes = serde_json::from_value(serde_json::json!([
        {"place": 1, "name": "Grand prize", "amount": 50000, "currency": "USD"},
        {"place": 2, "name": "Second prize", "amount": 20000, "currency": "USD"}
    ]))
    .unwrap();
    let results = case_results(&award, &apps, &marks);
    // One round, ranked A, B, C; its winners by the committee: B and C (A is under its pass mark).
    let round: laurel::wire::RoundSpec = serde_json::from_value(serde_json::json!({
        "id": "final", "name": "Final", "advance": {"rule": "decision"}
    }))
    .unwrap();
    let entrants: Vec<String> = ["A", "B", "C", "D"].map(str::to_owned).to_vec();
    let won = vec![("B".to_owned(), None), ("C".to_owned(), None)];
    let run = laurel::RoundRun {
        spec: &round,
        entrants: &entrants[..3],
        advanced: Some(&won),
        results: Some(&results),
        results_sha256: None,
        shortfalls: &[],
    };
    let entrant = |id: &str, status: laurel::Status, no_prize: Option<&str>| laurel::Entrant {
        application: id.to_owned(),
        category: "main".to_owned(),
        status,
        review: None,
        no_prize: no_prize.map(str::to_owned),
    };
    let all = vec![
        entrant("A", laurel::Status::Eligible, None),
        entrant("B", laurel::Status::Eligible, None),
        entrant(
            "C",
            laurel::Status::Eligible,
            Some("The host city's projects win no money."),
        ),
        entrant("D", laurel::Status::Ineligible, None),
    ];
    let fin = laurel::final_results(&award, &all, &[run], &[]);
    let place = |id: &str| {
        fin.applications
            .iter()
            .find(|a| a.application == id)
            .unwrap()
            .final_rank
    };
    // Winners first (B ranked 2nd, C 3rd in the round), then A; D is not placed.
    assert_eq!(
        (place("B"), place("C"), place("A"), place("D")),
        (Some(1), Some(2), Some(3), None)
    );
    let winners = &fin.categories[0].winners;
    let b = winners[0].prize.as_ref().unwrap();
    assert_eq!(
        (
            b.place,
            b.amount.map(|a| a.to_string()),
            b.withheld.as_deref()
        ),
        (1, Some("50000".to_owned()), None)
    );
    let c = winners[1].prize.as_ref().unwrap();
    assert_eq!(
        (
            c.place,
            c.amount,
            c.currency.as_deref(),
            c.withheld.as_deref()
        ),
        (
            2,
            None,
            Some("USD"),
            Some("The host city's projects win no money.")
        )
    );
}

/// Scored offline (`laurel score`, `POST /v1/evaluate`), each winner carries its place's prize,
/// its money withheld where a `no_prize` rule says so: the same prizes the final results of
/// rounds give.
#[test]
fn offline_results_carry_each_winners_prize_and_withheld_money() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scoring/pass-marks");
    let mut definition = read(&dir.join("award.json"));
    definition["eligibility"] = serde_json::json!([{"id": "host", "outcome": "no_prize",
        "message": "The host city's projects win no money.",
        "require": {"compare": {"field": "population", "op": "<", "value": 2000}}}]);
    definition["categories"][0]["winners"] = serde_json::json!(2);
    definition["categories"][0]["prizes"] = serde_json::json!([
        {"place": 1, "name": "Grand prize", "amount": 50000, "currency": "USD"},
        {"place": 2, "name": "Second prize", "amount": 20000, "currency": "USD"}
    ]);
    let award = check_definition(&definition.to_string(), &BTreeMap::new())
        .award
        .unwrap();
    let mut doc = read(&dir.join("applications.json"));
    for a in doc.as_array_mut().unwrap() {
        if a["id"] == "C" {
            a["fields"]["population"] = serde_json::json!(5000);
        }
    }
    let apps = check_applications(&award, &doc, &laurel::PluginSet::none())
        .1
        .unwrap();
    let marks: Marks = serde_json::from_value(read(&dir.join("marks.json"))).unwrap();
    let results = case_results(&award, &apps, &marks);
    let prizes: Vec<(String, u32, Option<String>, Option<String>)> = results.categories[0]
        .ranking
        .iter()
        .filter_map(|p| {
            let prize = p.prize.as_ref()?;
            Some((
                p.application.to_string(),
                prize.place,
                prize.amount.map(|a| a.to_string()),
                prize.withheld.clone(),
            ))
        })
        .collect();
    // A is under its pass mark and cannot win: B (2nd) and C (3rd) win places 1 and 2.
    assert_eq!(
        prizes,
        [
            ("B".to_owned(), 1, Some("50000".to_owned()), None),
            (
                "C".to_owned(),
                2,
                None,
                Some("The host city's projects win no money.".to_owned())
            ),
        ]
    );
    let json = serde_json::to_value(&results).unwrap();
    assert_eq!(
        json["categories"][0]["ranking"][2]["prize"]["currency"], "USD",
        "{json}"
    );
}

/// A rule with the `no_prize` outcome admits: the application is eligible, with the note.
#[test]
fn a_no_prize_rule_admits() {
    let award = minimal_with(
        serde_json::json!([{"id": "host", "outcome": "no_prize", "message": "The host city's projects win no money.",
          "require": {"compare": {"field": "population", "op": "<", "value": 9000000}}}]),
        serde_json::json!({}),
    );
    let d = decide_fields(&award, serde_json::json!({"population": 9500000}));
    assert_eq!(d.status, laurel::Status::Eligible);
    assert_eq!(d.failures[0].outcome, laurel::wire::Outcome::NoPrize);
}

/// Quotas by group: each group's best go on, in the category's order; a group without a quota
/// sends no one.
#[test]
fn top_per_group_takes_each_groups_best() {
    let (award, mut apps, marks) = case("pass-marks");
    for (a, region) in apps
        .iter_mut()
        .zip(["americas", "international", "americas"])
    {
        a.fields.insert("region".to_owned(), Value::from(region));
    }
    let results = case_results(&award, &apps, &marks);
    let go_on = |take: Value| {
        let round: laurel::wire::RoundSpec = serde_json::from_value(serde_json::json!({
            "id": "semi", "name": "Semi-final",
            "advance": {"rule": "top_per_group", "field": "region", "take": take}
        }))
        .unwrap();
        laurel::advancing(&round, &results, &apps).unwrap()
    };
    // Ranked A (americas), B (international), C (americas).
    assert_eq!(
        go_on(serde_json::json!({"americas": 1, "international": 1})),
        vec!["A", "B"]
    );
    assert_eq!(go_on(serde_json::json!({"americas": 2})), vec!["A", "C"]);
    assert_eq!(go_on(serde_json::json!({"international": 5})), vec!["B"]);
}

/// An award in Korean gets Laurel's own words in Korean too: the built-in rule's message and
/// the application schema's titles and descriptions; another language falls back to English.
#[test]
fn builtin_messages_and_the_application_schema_speak_the_awards_languages() {
    let mut def: Value =
        read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/valid/minimal.award.json"));
    def["name"] = serde_json::json!({"en": "Minimal award", "ko": "최소 상", "fr": "Prix minimal"});
    def["languages"] = serde_json::json!({"default": "en", "available": ["en", "ko", "fr"]});
    def["categories"][0]["name"] =
        serde_json::json!({"en": "Innovation", "ko": "혁신", "fr": "Innovation"});
    def["categories"][0]["applicant_types"] = serde_json::json!(["company"]);
    def["applicant_types"][1]["name"] =
        serde_json::json!({"en": "Company", "ko": "기업", "fr": "Entreprise"});
    def["form"]["fields"][0]["label"] =
        serde_json::json!({"en": "Population", "ko": "인구", "fr": "Population"});
    def["form"]["fields"][0]["help"] = serde_json::json!({"en": "Residents in 2025.", "ko": "2025년 주민 수.", "fr": "Habitants en 2025."});
    let report = check_definition(&def.to_string(), &std::collections::BTreeMap::new());
    let award = report
        .award
        .unwrap_or_else(|| panic!("{:#?}", report.diagnostics));
    let d = decide_fields(&award, serde_json::json!({"population": 5000}));
    let message = &d.failures[0].message;
    assert_eq!(
        message.get("ko", "en"),
        "혁신 부문은 다음 신청자만 받습니다: 기업. 이 신청은 `city`의 신청입니다"
    );
    assert_eq!(
        message.get("en", "en"),
        "Innovation admits only these applicants: Company; this application is from `city`"
    );
    assert_eq!(
        message.get("fr", "en"),
        "Innovation admits only these applicants: Entreprise; this application is from `city`"
    );
    let ko = laurel::application_schema_in(&award, "ko");
    assert_eq!(ko["title"], "최소 상 신청서");
    assert_eq!(
        ko["properties"]["category"]["description"],
        "신청하는 부문."
    );
    let population = &ko["properties"]["fields"]["properties"]["population"];
    assert_eq!(
        (&population["title"], &population["description"]),
        (&Value::from("인구"), &Value::from("2025년 주민 수."))
    );
    let en = laurel::application_schema(&award);
    assert_eq!(en["title"], "Application to Minimal award");
    assert_eq!(
        en["properties"]["fields"]["properties"]["population"]["description"],
        "Residents in 2025."
    );
}

/// Knock-out pairs: the better of each pair goes on, then the best of the losers (lucky
/// losers); an application without a pair competes as a loser.
#[test]
fn knockout_pairs_send_on_each_pairs_better_and_the_lucky_losers() {
    let (award, mut apps, marks) = case("pass-marks");
    let go_on = |apps: &[laurel::Application], lucky: u32| {
        let results = case_results(&award, apps, &marks);
        let round: laurel::wire::RoundSpec = serde_json::from_value(serde_json::json!({
            "id": "ko", "name": "KO round",
            "advance": {"rule": "knockout", "field": "pair", "lucky_losers": lucky}
        }))
        .unwrap();
        laurel::advancing(&round, &results, apps).unwrap()
    };
    // Ranked A, B, C. Pairs {A, B}; C has none.
    apps[0].fields.insert("pair".to_owned(), Value::from(1));
    apps[1].fields.insert("pair".to_owned(), Value::from(1));
    assert_eq!(go_on(&apps, 0), vec!["A"]);
    assert_eq!(go_on(&apps, 1), vec!["A", "B"]);
    // Pairs {A, C} and {B}: each pair's better, A and B; the lucky loser is C.
    apps[1].fields.insert("pair".to_owned(), Value::from(2));
    apps[2].fields.insert("pair".to_owned(), Value::from(1));
    assert_eq!(go_on(&apps, 0), vec!["A", "B"]);
    assert_eq!(go_on(&apps, 1), vec!["A", "B", "C"]);
}
