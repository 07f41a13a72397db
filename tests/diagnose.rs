//! `laurel diagnose` against independent reference implementations: Krippendorff's alpha
//! against the `krippendorff` package and ICC against `pingouin` (both from PyPI), on the
//! Seoul example (incomplete design) and a complete design; the script that produced the
//! committed expected values runs here too and must reproduce them. Then properties: alpha is 1
//! for identical judges and does not depend on the judges' or applications' names; the
//! simulation is reproduced bit for bit from its seed; an overwhelming winner is robust.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use laurel::{Application, Award, DiagnoseOptions, Diagnosis, Marks, PluginSet, RobustnessOptions};
use serde_json::Value;
use support::python::{run, venv};
use support::root;

struct Case {
    award: Award,
    plugins: PluginSet,
    apps: Vec<Application>,
    marks: Marks,
}

fn case(rubric: &Path, apps: &Path, marks: &Path) -> Case {
    let source = std::fs::read_to_string(rubric.join("award.json")).unwrap();
    let files = |p: &str| std::fs::read(rubric.join(p));
    let award = laurel::check_definition(&source, &files).award.unwrap();
    let plugins = laurel::load_plugins(&award, &files).unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(apps).unwrap()).unwrap();
    let apps = laurel::check_applications(&award, &doc, &plugins)
        .1
        .unwrap();
    let marks = serde_json::from_str(&std::fs::read_to_string(marks).unwrap()).unwrap();
    Case {
        award,
        plugins,
        apps,
        marks,
    }
}

fn cases() -> BTreeMap<&'static str, Case> {
    let r = root();
    let seoul = r.join("examples/seoul-smart-city-prize-2023");
    let complete = r.join("tests/diagnose/complete");
    BTreeMap::from([
        (
            "seoul-example",
            case(
                &r.join("rubrics/seoul-smart-city-prize-2023"),
                &seoul.join("applications.json"),
                &seoul.join("marks.json"),
            ),
        ),
        (
            "complete-design",
            case(
                &complete,
                &complete.join("applications.json"),
                &complete.join("marks.json"),
            ),
        ),
    ])
}

fn diagnose(c: &Case, options: &DiagnoseOptions) -> Diagnosis {
    laurel::run_sandboxed(None, {
        let (award, apps, marks, options) = (
            c.award.clone(),
            c.apps.clone(),
            c.marks.clone(),
            options.clone(),
        );
        let plugins = c.plugins.clone();
        move || laurel::diagnose(&award, &apps, &marks, &plugins, &options).unwrap()
    })
    .unwrap()
}

fn statistics_only() -> DiagnoseOptions {
    DiagnoseOptions {
        bootstrap: 0,
        robustness: None,
        ..DiagnoseOptions::default()
    }
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() < 1e-9,
        "{what}: laurel {got}, reference {want}"
    );
}

#[test]
fn agreement_matches_the_reference_packages() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/diagnose/expected.json")).unwrap(),
    )
    .unwrap();
    let mut compared = 0;
    for (name, c) in cases() {
        let d = diagnose(&c, &statistics_only());
        let want = &expected[name];
        assert_eq!(
            d.categories.len(),
            want.as_object().unwrap().len(),
            "{name}: categories"
        );
        for cat in &d.categories {
            let w = &want[&cat.category];
            let at = format!("{name}/{}", cat.category);
            close(
                cat.overall.alpha.unwrap(),
                w["overall"].as_f64().unwrap(),
                &format!("{at} overall alpha"),
            );
            // What the rubric ranks by (normalised totals): the reference standardises
            // unrounded marks, Laurel the rubric's rounded totals: they agree to 1e-3.
            match (
                cat.ranked_by.as_ref().and_then(|r| r.alpha),
                w["ranked_by"].as_f64(),
            ) {
                (Some(got), Some(want)) => {
                    assert!(
                        (got - want).abs() < 1e-3,
                        "{at} alpha on normalised totals: laurel {got}, reference {want}"
                    );
                    compared += 1;
                }
                (None, None) => {}
                (mine, theirs) => {
                    panic!("{at}: normalised alpha laurel {mine:?}, reference {theirs:?}")
                }
            }
            for k in &cat.criteria {
                close(
                    k.agreement.alpha.unwrap(),
                    w["criteria"][&k.criterion].as_f64().unwrap(),
                    &format!("{at} alpha of {}", k.criterion),
                );
                compared += 1;
            }
            match (&cat.icc, w.get("icc")) {
                (Some(icc), Some(r)) => {
                    assert_eq!(icc.model, r["model"], "{at}");
                    let v = &r["values"];
                    let two_way = icc.model == "two-way";
                    for (got, key) in [
                        (Some(icc.values.icc1), "ICC(1,1)"),
                        (icc.values.icc2, "ICC(A,1)"),
                        (icc.values.icc3, "ICC(C,1)"),
                        (Some(icc.values.icc1k), "ICC(1,k)"),
                        (icc.values.icc2k, "ICC(A,k)"),
                        (icc.values.icc3k, "ICC(C,k)"),
                    ] {
                        // A one-way design reports only the one-way types.
                        match got {
                            Some(got) => {
                                close(got, v[key].as_f64().unwrap(), &format!("{at} {key}"));
                                compared += 1;
                            }
                            None => assert!(!two_way && !key.starts_with("ICC(1"), "{at} {key}"),
                        }
                    }
                }
                (None, None) => {}
                (mine, theirs) => panic!("{at}: ICC laurel {mine:?}, reference {theirs:?}"),
            }
        }
    }
    assert!(compared > 30, "{compared} values compared");
}

#[test]
fn the_reference_script_reproduces_the_committed_values() {
    let venv = venv();
    let out = run(
        Command::new(venv.join("bin/python")).arg(root().join("tests/diagnose/reference.py")),
        "tests/diagnose/reference.py",
    );
    let fresh: Value = serde_json::from_str(&out).unwrap();
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/diagnose/expected.json")).unwrap(),
    )
    .unwrap();
    fn same(a: &Value, b: &Value, at: &str) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                assert_eq!(
                    x.keys().collect::<Vec<_>>(),
                    y.keys().collect::<Vec<_>>(),
                    "{at}"
                );
                for (k, v) in x {
                    same(v, &y[k], &format!("{at}/{k}"));
                }
            }
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!((x - y).abs() < 1e-12, "{at}: {x} now, {y} committed");
            }
            _ => assert_eq!(a, b, "{at}"),
        }
    }
    same(&fresh, &committed, "");
}

/// The complete design with every judge giving judge-a's marks, and with every id renamed.
fn variants() -> (Case, Case, Case) {
    let dir = root().join("tests/diagnose/complete");
    let base = || {
        case(
            &dir,
            &dir.join("applications.json"),
            &dir.join("marks.json"),
        )
    };
    let mut identical = base();
    let first: BTreeMap<String, _> = identical
        .marks
        .evaluations
        .iter()
        .filter(|e| e.judge.as_str() == "judge-a")
        .map(|e| (e.application.to_string(), e.marks.clone()))
        .collect();
    for e in &mut identical.marks.evaluations {
        e.marks = first[e.application.as_str()].clone();
    }
    let mut renamed = base();
    let rename = |s: &str| format!("x-{}", s.chars().rev().collect::<String>());
    let mut marks = serde_json::to_value(&renamed.marks).unwrap();
    for e in marks["evaluations"].as_array_mut().unwrap() {
        e["judge"] = Value::String(rename(e["judge"].as_str().unwrap()));
        e["application"] = Value::String(rename(e["application"].as_str().unwrap()));
    }
    marks["evaluations"].as_array_mut().unwrap().reverse();
    renamed.marks = serde_json::from_value(marks).unwrap();
    let mut apps = serde_json::to_value(&renamed.apps).unwrap();
    for a in apps.as_array_mut().unwrap() {
        a["id"] = Value::String(rename(a["id"].as_str().unwrap()));
    }
    apps.as_array_mut().unwrap().reverse();
    renamed.apps = serde_json::from_value(apps).unwrap();
    (base(), identical, renamed)
}

#[test]
fn identical_judges_agree_fully_and_names_change_nothing() {
    let (base, identical, renamed) = variants();
    let d = diagnose(&identical, &statistics_only());
    let cat = &d.categories[0];
    assert_eq!(cat.overall.alpha, Some(1.0));
    for k in &cat.criteria {
        close(k.agreement.alpha.unwrap(), 1.0, &k.criterion);
    }
    close(
        cat.icc.as_ref().unwrap().panel,
        1.0,
        "ICC of identical judges",
    );
    assert!(
        cat.judge_reports
            .iter()
            .all(|j| j.severity == Some(0.0) && j.flags.is_empty())
    );
    let (a, b) = (
        diagnose(&base, &statistics_only()),
        diagnose(&renamed, &statistics_only()),
    );
    let (a, b) = (&a.categories[0], &b.categories[0]);
    close(
        a.overall.alpha.unwrap(),
        b.overall.alpha.unwrap(),
        "alpha after renaming",
    );
    close(
        a.icc.as_ref().unwrap().panel,
        b.icc.as_ref().unwrap().panel,
        "ICC after renaming",
    );
    let severities = |c: &laurel::CategoryDiagnosis| {
        let mut s: Vec<f64> = c
            .judge_reports
            .iter()
            .map(|j| j.severity.unwrap())
            .collect();
        s.sort_by(f64::total_cmp);
        s
    };
    for (x, y) in severities(a).iter().zip(severities(b)) {
        close(*x, y, "a severity after renaming");
    }
}

#[test]
fn the_simulation_is_reproduced_bit_for_bit_from_its_seed() {
    let c = &cases()["seoul-example"];
    let options = |seed| DiagnoseOptions {
        seed,
        bootstrap: 200,
        robustness: Some(RobustnessOptions {
            draws: 100,
            ..RobustnessOptions::default()
        }),
        ..DiagnoseOptions::default()
    };
    let json = |d: &Diagnosis| serde_json::to_string(d).unwrap();
    let first = json(&diagnose(c, &options(7)));
    assert_eq!(first, json(&diagnose(c, &options(7))));
    assert_ne!(first, json(&diagnose(c, &options(8))));
}

#[test]
fn an_overwhelming_winner_is_robust_and_a_close_race_is_not_hidden() {
    let (mut c, _, _) = variants();
    // app-01 gets every judge's 10s: whatever the weights, methods or judges, it wins.
    for e in &mut c.marks.evaluations {
        if e.application.as_str() == "app-01" {
            for m in e.marks.values_mut() {
                *m = laurel::Mark::Number(10.into());
            }
        }
    }
    c.award.categories[0].winners = 1;
    let d = diagnose(
        &c,
        &DiagnoseOptions {
            bootstrap: 0,
            robustness: Some(RobustnessOptions {
                draws: 200,
                ..RobustnessOptions::default()
            }),
            ..DiagnoseOptions::default()
        },
    );
    let r = d.categories[0].robustness.as_ref().unwrap();
    assert!(r.winners_robust, "{r:#?}");
    let top = &r.applications[0];
    assert_eq!(
        (top.application.as_str(), top.p_winner, top.rank_p95),
        ("app-01", 1.0, Some(1.0))
    );
    assert_eq!(r.draws, 200);
    // With four winners the lower places are contested in this data: whatever the simulation
    // finds, the verdict, the fragile winners and the warning say the same.
    c.award.categories[0].winners = 4;
    let d = diagnose(
        &c,
        &DiagnoseOptions {
            bootstrap: 0,
            ..DiagnoseOptions::default()
        },
    );
    let r = d.categories[0].robustness.as_ref().unwrap();
    let shares: Vec<f64> = r.applications.iter().map(|a| a.p_winner).collect();
    assert!(shares.iter().all(|p| (0.0..=1.0).contains(p)));
    assert_eq!(r.winners_robust, r.fragile_winners.is_empty());
    assert_eq!(
        r.winners_robust,
        d.warnings.iter().all(|w| !w.contains("not robust")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn the_rubric_sets_the_diagnostics_and_a_share_out_of_bounds_is_located() {
    let dir = root().join("tests/diagnose/complete");
    let mut def: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("award.json")).unwrap()).unwrap();
    def["scoring"]["diagnostics"] = serde_json::json!({
        "seed": 9, "bootstrap": 0, "draws": 30, "weight_range": "0.5", "severity": 0.05,
        "leave_one_judge_out": false, "top_k": 3
    });
    let award = laurel::check_definition(&def.to_string(), &BTreeMap::new())
        .award
        .unwrap();
    let options = DiagnoseOptions::for_award(&award);
    assert_eq!((options.seed, options.bootstrap), (9, 0));
    assert_eq!(options.severity, 0.05);
    let r = options.robustness.clone().unwrap();
    assert_eq!(
        (r.draws, r.weight_range, r.leave_one_judge_out, r.top_k),
        (30, 0.5, false, Some(3))
    );
    let mut c = case(
        &dir,
        &dir.join("applications.json"),
        &dir.join("marks.json"),
    );
    c.award = award;
    let d = diagnose(&c, &options);
    let robust = d.categories[0].robustness.as_ref().unwrap();
    assert_eq!((robust.draws, robust.top_k), (30, 3));
    assert!(
        d.categories[0].overall.interval.is_none(),
        "no bootstrap asked for"
    );
    // A stricter severity flags more judges than the default does.
    let flagged = |d: &Diagnosis| {
        d.categories[0]
            .judge_reports
            .iter()
            .filter(|j| !j.flags.is_empty())
            .count()
    };
    assert!(flagged(&d) >= flagged(&diagnose(&c, &statistics_only())));
    // Without draws, no simulation.
    def["scoring"]["diagnostics"] = serde_json::json!({ "draws": 0 });
    let award = laurel::check_definition(&def.to_string(), &BTreeMap::new())
        .award
        .unwrap();
    assert!(DiagnoseOptions::for_award(&award).robustness.is_none());
    // Shares are checked, each located.
    def["scoring"]["diagnostics"] = serde_json::json!({ "severity": 1.5, "weight_range": 1 });
    let report = laurel::check_definition(&def.to_string(), &BTreeMap::new());
    assert!(report.award.is_none());
    let pointers: Vec<&str> = report
        .diagnostics
        .iter()
        .map(|d| d.pointer.as_str())
        .collect();
    assert!(
        pointers.contains(&"/scoring/diagnostics/severity"),
        "{pointers:?}"
    );
    assert!(
        pointers.contains(&"/scoring/diagnostics/weight_range"),
        "{pointers:?}"
    );
    // An unknown setting is refused by the schema.
    def["scoring"]["diagnostics"] = serde_json::json!({ "drawz": 10 });
    assert!(
        laurel::check_definition(&def.to_string(), &BTreeMap::new())
            .award
            .is_none()
    );
}

/// A plugin that fails in some of the simulation's scenarios (here: whenever a judge is left
/// out or the panel resampled) never leaves an application silently out of a draw: such draws
/// are counted as failed, said in the warnings with how many remain, and the choices it could
/// not measure are named; the published ranking itself is unchanged.
#[test]
fn draws_a_plugin_could_not_score_are_counted_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let complete = root().join("tests/diagnose/complete");
    let plugin = "fn score(input) {\n    if input.judges < 4 { throw \"a judge is missing\"; }\n    #{ score: input.total }\n}\n";
    std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
    std::fs::write(dir.path().join("plugins/strict.rhai"), plugin).unwrap();
    let sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(plugin.as_bytes()))
    };
    let mut def: Value =
        serde_json::from_str(&std::fs::read_to_string(complete.join("award.json")).unwrap())
            .unwrap();
    def["plugins"] = serde_json::json!([{ "id": "strict", "kind": "rhai", "path": "plugins/strict.rhai",
        "sha256": sha, "hooks": ["score"] }]);
    def["scoring"]["score_plugin"] = serde_json::json!("strict");
    std::fs::write(dir.path().join("award.json"), def.to_string()).unwrap();
    let c = case(
        dir.path(),
        &complete.join("applications.json"),
        &complete.join("marks.json"),
    );
    let draws = 120;
    let d = diagnose(
        &c,
        &DiagnoseOptions {
            bootstrap: 0,
            robustness: Some(RobustnessOptions {
                draws,
                ..RobustnessOptions::default()
            }),
            ..DiagnoseOptions::default()
        },
    );
    let r = d.categories[0].robustness.as_ref().unwrap();
    let failed = draws - r.draws;
    assert!(
        failed > 0 && r.draws > 0,
        "some draws keep the panel, others do not: {}",
        r.draws
    );
    // Every application counted in every draw that counts: none silently missing from one.
    assert!(
        r.applications.iter().all(|a| a.scored_in == r.draws),
        "{r:#?}"
    );
    let said = d
        .warnings
        .iter()
        .find(|w| w.contains("could not be scored"))
        .unwrap_or_else(|| panic!("{:?}", d.warnings));
    assert!(
        said.starts_with(&format!("{failed} of the simulation's {draws} draws"))
            && said.ends_with(&format!("the {} others", r.draws)),
        "{said}"
    );
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("could not be measured") && w.contains("without judge")),
        "{:?}",
        d.warnings
    );
    assert!(
        r.sensitivity
            .iter()
            .all(|s| !s.factor.starts_with("without judge"))
    );
}
