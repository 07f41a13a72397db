//! Assignment of judges: conflicts of interest are never violated, loads are balanced to within
//! one, the draw depends only on its seed, and an impossible assignment names its applications.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use laurel::{Application, Award, Judge, PluginSet, assign, check_applications, check_definition};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seoul() -> Award {
    let folder = root().join("rubrics/seoul-smart-city-prize-2023");
    check_definition(
        &std::fs::read_to_string(folder.join("award.json")).unwrap(),
        &|p: &str| std::fs::read(folder.join(p)),
    )
    .award
    .unwrap()
}

fn projects(award: &Award) -> Vec<Application> {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let apps = check_applications(award, &doc, &PluginSet::none())
        .1
        .unwrap();
    apps.into_iter()
        .filter(|a| a.category.as_str() != "leadership")
        .collect()
}

fn judges() -> Vec<Judge> {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/seoul-smart-city-prize-2023/judges.json"))
            .unwrap(),
    )
    .unwrap()
}

/// The conflict rules, written again independently: organisation, city or country in common,
/// or declared.
fn conflicted(j: &Judge, a: &Application) -> bool {
    let f = |k: &str| {
        a.fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase()
    };
    let m = |v: &Option<String>| v.as_deref().unwrap_or("\u{0}").to_lowercase();
    f("applicant_name") == m(&j.organisation)
        || f("city") == m(&j.city)
        || f("country") == m(&j.country)
        || j.declared_conflicts.iter().any(|d| d.application == a.id)
}

#[test]
fn the_expert_round_is_assigned_within_every_rule() {
    let award = seoul();
    let round = award.rounds.iter().find(|r| r.id == "expert").unwrap();
    let apps = projects(&award);
    let judges = judges();
    let plan = assign(&award, round, &apps, &judges, 2023).unwrap();
    let by_id: BTreeMap<&str, &Judge> = judges.iter().map(|j| (j.id.as_str(), j)).collect();
    let mut conflicts_seen = 0;
    for a in &apps {
        let assigned = &plan.by_application[a.id.as_str()];
        assert_eq!(
            assigned.iter().collect::<BTreeSet<_>>().len(),
            3,
            "{}",
            a.id
        );
        for j in assigned {
            assert!(!conflicted(by_id[j.as_str()], a), "{} judges {}", j, a.id);
        }
        conflicts_seen += judges.iter().filter(|j| conflicted(j, a)).count();
    }
    assert!(conflicts_seen > 0, "the data set has conflicts to avoid");
    assert_eq!(plan.coverage.conflicts_avoided, conflicts_seen);
    let loads: Vec<usize> = plan.by_judge.values().map(Vec::len).collect();
    assert!(
        loads.iter().max().unwrap() - loads.iter().min().unwrap() <= 1,
        "{loads:?}"
    );
    assert_eq!(plan.coverage.judge_groups, 1);
    // The judge who declared a conflict with app-008 does not judge it.
    assert!(!plan.by_application["app-008"].contains(&"judge-kim".to_owned()));
    // Expertise is preferred: most assignments meet the application's sectors.
    assert!(plan.coverage.expertise_matched * 2 > plan.coverage.assignments);
}

/// A judge's country is the same country whatever language or spelling it is written in, and
/// an organisation or a city is the same name whatever its case, accents or punctuation: each
/// keeps the judge away, and the coverage says which rule did.
#[test]
fn identity_facts_are_compared_as_codes_and_names_not_as_typed_text() {
    let award = seoul();
    let round = award.rounds.iter().find(|r| r.id == "expert").unwrap();
    let apps = projects(&award);
    let korean: BTreeSet<&str> = apps
        .iter()
        .filter(|a| a.fields["country"] == "KR")
        .map(|a| a.id.as_str())
        .collect();
    assert!(!korean.is_empty());
    let judge = |id: &str, country: &str, city: &str| -> Judge {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": id, "country": country, "city": city,
        }))
        .unwrap()
    };
    // The Korean judges write their country three ways; one writes a Colombian city in capitals
    // without its accent. Six neutral judges complete the panel.
    let mut judges = vec![
        judge("judge-en", "Republic of Korea", "Incheon"),
        judge("judge-ko", "대한민국", "Gwangju"),
        judge("judge-lower", "south korea", "Daejeon"),
        judge("judge-medellin", "Chile", "MEDELLIN"),
    ];
    for (i, c) in ["FR", "DE", "JP", "BR", "IN", "DK"].iter().enumerate() {
        judges.push(judge(&format!("judge-{i}"), c, "Elsewhere"));
    }
    let plan = assign(&award, round, &apps, &judges, 11).unwrap();
    for (app, assigned) in &plan.by_application {
        if korean.contains(app.as_str()) {
            for j in ["judge-en", "judge-ko", "judge-lower"] {
                assert!(!assigned.contains(&j.to_owned()), "{j} drawn for {app}");
            }
        }
    }
    let medellin: BTreeSet<&str> = apps
        .iter()
        .filter(|a| a.fields["city"] == "Medellín")
        .map(|a| a.id.as_str())
        .collect();
    assert!(!medellin.is_empty());
    for app in &medellin {
        assert!(!plan.by_application[*app].contains(&"judge-medellin".to_owned()));
    }
    let by_rule = &plan.coverage.conflicts_by_rule;
    assert_eq!(
        by_rule.get(&laurel::ConflictRule::SameCountry),
        Some(&(3 * korean.len())),
        "{by_rule:?}"
    );
    assert_eq!(
        by_rule.get(&laurel::ConflictRule::SameCity),
        Some(&medellin.len()),
        "{by_rule:?}"
    );
    assert_eq!(
        plan.coverage.conflicts_avoided,
        plan.coverage.kept_apart.len()
    );
    let first = plan
        .coverage
        .kept_apart
        .iter()
        .find(|k| k.judge == "judge-ko")
        .unwrap();
    assert!(first.reason.contains("대한민국"), "{}", first.reason);
    assert!(korean.contains(first.application.as_str()));
}

#[test]
fn the_draw_depends_only_on_its_seed() {
    let award = seoul();
    let round = award.rounds.iter().find(|r| r.id == "expert").unwrap();
    let apps = projects(&award);
    let judges = judges();
    let a = assign(&award, round, &apps, &judges, 7).unwrap();
    let mut shuffled = apps.clone();
    shuffled.reverse();
    let mut judges_reversed = judges.clone();
    judges_reversed.reverse();
    assert_eq!(
        a.by_application,
        assign(&award, round, &shuffled, &judges_reversed, 7)
            .unwrap()
            .by_application
    );
    assert_ne!(
        a.by_application,
        assign(&award, round, &apps, &judges, 8)
            .unwrap()
            .by_application
    );
}

#[test]
fn an_impossible_assignment_names_its_applications() {
    let award = seoul();
    let round = award.rounds.iter().find(|r| r.id == "final").unwrap();
    let apps = projects(&award);
    // Five judges, one of them from Colombia: Colombian applications cannot get five.
    let judges: Vec<Judge> = judges().into_iter().take(5).collect();
    let error = assign(&award, round, &apps, &judges, 1).unwrap_err();
    let colombian: BTreeSet<String> = apps
        .iter()
        .filter(|a| a.fields["country"] == "CO")
        .map(|a| a.id.to_string())
        .collect();
    let named: BTreeSet<String> = error.problems.iter().map(|(a, _)| a.clone()).collect();
    assert!(!colombian.is_empty());
    assert!(colombian.is_subset(&named), "{named:?}");
    for (_, why) in &error.problems {
        assert!(
            why.contains("are needed") && (why.contains("same ") || why.contains("declared: ")),
            "{why}"
        );
    }
}

#[test]
fn laurel_assign_prints_the_plan_or_the_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let award = seoul();
    let apps_path = dir.path().join("apps.json");
    std::fs::write(
        &apps_path,
        serde_json::to_string(&projects(&award)).unwrap(),
    )
    .unwrap();
    let run = |judges: &str, round: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_laurel"))
            .args([
                "assign",
                "rubrics/seoul-smart-city-prize-2023",
                "--round",
                round,
                "--judges",
                judges,
                "--seed",
                "3",
                "--applications",
            ])
            .arg(&apps_path)
            .current_dir(root())
            .output()
            .unwrap()
    };
    let ok = run("examples/seoul-smart-city-prize-2023/judges.json", "expert");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let plan: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(plan["coverage"]["judges_per_application"], 3);
    let few = dir.path().join("few.json");
    std::fs::write(
        &few,
        serde_json::to_string(&judges().into_iter().take(4).collect::<Vec<_>>()).unwrap(),
    )
    .unwrap();
    let bad = run(few.to_str().unwrap(), "final");
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("judges are free of conflicts, 5 are needed")
    );
}

mod replacements {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whoever recuses, and whatever the draw and the assignments so far, a replacement is
        /// never conflicted, never excluded, never already a judge of the application, and
        /// always one of the least loaded eligible judges.
        #[test]
        fn a_replacement_is_never_conflicted(seed in any::<u64>(), app in 0usize..40, recusing in 0usize..16, taken in prop::collection::vec(0usize..16, 0..4)) {
            let award = seoul();
            let apps = projects(&award);
            let app = &apps[app % apps.len()];
            let judges = judges();
            let mut by_judge: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (k, j) in judges.iter().enumerate() {
                // Some judges already carry loads, some already judge this application.
                let load: Vec<String> = (0..(k % 5)).map(|n| format!("other-{n}")).collect();
                by_judge.insert(j.id.to_string(), load);
            }
            for t in &taken {
                by_judge.get_mut(judges[*t].id.as_str()).unwrap().push(app.id.to_string());
            }
            let excluded: BTreeSet<String> = [judges[recusing].id.to_string()].into();
            let chosen = laurel::replacement(&award, app, &judges, &by_judge, &excluded, seed);
            let eligible: Vec<&Judge> = judges
                .iter()
                .filter(|j| !excluded.contains(j.id.as_str()))
                .filter(|j| !by_judge[j.id.as_str()].contains(&app.id.to_string()))
                .filter(|j| !conflicted(j, app))
                .collect();
            match chosen {
                None => prop_assert!(eligible.is_empty()),
                Some(j) => {
                    prop_assert!(!conflicted(j, app), "{} is conflicted with {}", j.id, app.id);
                    prop_assert!(eligible.iter().any(|e| e.id == j.id));
                    let least = eligible.iter().map(|e| by_judge[e.id.as_str()].len()).min().unwrap();
                    prop_assert_eq!(by_judge[j.id.as_str()].len(), least);
                    // The same inputs draw the same judge.
                    let again = laurel::replacement(&award, app, &judges, &by_judge, &excluded, seed);
                    prop_assert_eq!(again.map(|x| x.id.clone()), Some(j.id.clone()));
                }
            }
        }
    }
}
