//! The Seoul prize through its three rounds over HTTP: screening, expert evaluation (blind,
//! conflicts of interest, a recusal, locked marks and a late correction) and the final committee.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use support::{Server, root};

const AWARD: &str = "seoul-smart-city-prize-2023";

fn file(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

/// Indicator ids of each category, from the rubric.
fn indicators() -> BTreeMap<String, Vec<String>> {
    let award = file("rubrics/seoul-smart-city-prize-2023/award.json");
    award["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let ids = c["criteria"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|cr| {
                    cr["indicators"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| i["id"].as_str().unwrap().to_owned())
                })
                .collect();
            (c["id"].as_str().unwrap().to_owned(), ids)
        })
        .collect()
}

fn marks_for(app: &str, judge: &str, indicators: &[String]) -> Value {
    let seed: u32 = app.bytes().chain(judge.bytes()).map(u32::from).sum();
    let marks: serde_json::Map<String, Value> = indicators
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), json!((seed + i as u32 * 7) % 11)))
        .collect();
    json!({ "marks": marks })
}

/// Conflicts as the rubric states them, written again: organisation, city or country in
/// common, or declared.
fn conflicted(judge: &Value, app: &Value) -> bool {
    let f = |k: &str| app["fields"][k].as_str().unwrap_or("").to_lowercase();
    let j = |k: &str| judge[k].as_str().unwrap_or("\u{0}").to_lowercase();
    f("applicant_name") == j("organisation")
        || f("city") == j("city")
        || f("country") == j("country")
        || judge["declared_conflicts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["application"] == app["id"])
}

#[test]
fn the_seoul_prize_runs_through_three_rounds() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/{AWARD}{p}");
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let applicant = server.key("applicant", None);
    let apps = file("examples/seoul-smart-city-prize-2023/applications.json");
    let by_id: BTreeMap<String, Value> = apps
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap().to_owned(), a.clone()))
        .collect();
    for a in apps.as_array().unwrap() {
        assert_eq!(server.post(&url("/applications"), &applicant, a).0, 201);
    }
    for r in file("examples/seoul-smart-city-prize-2023/marks.json")["review_decisions"]
        .as_array()
        .unwrap()
    {
        let p = url(&format!(
            "/applications/{}/review",
            r["application"].as_str().unwrap()
        ));
        assert_eq!(
            server
                .post(
                    &p,
                    &admin,
                    &json!({ "eligible": r["eligible"], "reason": r["reason"] })
                )
                .0,
            200
        );
    }
    assert_eq!(server.post(&url("/close"), &admin, &json!({})).0, 200);
    let judges = file("examples/seoul-smart-city-prize-2023/judges.json");
    let mut keys = BTreeMap::new();
    for j in judges.as_array().unwrap() {
        let id = j["id"].as_str().unwrap();
        assert_eq!(server.put(&url(&format!("/judges/{id}")), &admin, j).0, 200);
        keys.insert(id.to_owned(), server.key("judge", Some(id)));
    }
    let judge_of: BTreeMap<String, Value> = judges
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["id"].as_str().unwrap().to_owned(), j.clone()))
        .collect();
    let indicators = indicators();

    // Round 1: screening. Every admitted application goes on.
    let (status, screening) = server.post(&url("/rounds/screening/open"), &admin, &json!({}));
    assert_eq!(status, 200, "{screening}");
    let admitted: Vec<String> = {
        let mut r = csv::Reader::from_path(
            root().join("examples/seoul-smart-city-prize-2023/expected/eligibility.csv"),
        )
        .unwrap();
        r.records()
            .map(|x| x.unwrap())
            .filter(|x| &x[2] == "true")
            .map(|x| x[0].to_owned())
            .collect()
    };
    let entrants: BTreeSet<&str> = screening["entrants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(entrants, admitted.iter().map(String::as_str).collect());
    assert_eq!(
        server
            .post(&url("/rounds/expert/open"), &admin, &json!({ "seed": 1 }))
            .0,
        409,
        "the screening has not advanced anyone yet"
    );
    assert_eq!(
        server
            .post(&url("/rounds/screening/close"), &admin, &json!({}))
            .0,
        200
    );
    let (_, advanced) = server.post(&url("/rounds/screening/advance"), &admin, &json!({}));
    assert_eq!(
        advanced["advanced"].as_array().unwrap().len(),
        admitted.len()
    );

    // Round 2: expert evaluation, 3 judges each, no conflicts, loads within one.
    let (status, expert) = server.post(
        &url("/rounds/expert/open"),
        &admin,
        &json!({ "seed": 2023 }),
    );
    assert_eq!(status, 200, "{expert}");
    let mut per_app: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (judge, apps) in expert["assignments"].as_object().unwrap() {
        for a in apps.as_array().unwrap() {
            let a = a.as_str().unwrap();
            assert!(
                !conflicted(&judge_of[judge], &by_id[a]),
                "{judge} was assigned {a} despite a conflict"
            );
            per_app.entry(a.to_owned()).or_default().push(judge.clone());
        }
    }
    assert_eq!(per_app.len(), admitted.len());
    assert!(per_app.values().all(|js| js.len() == 3));
    let loads: Vec<usize> = expert["assignments"]
        .as_object()
        .unwrap()
        .values()
        .map(|a| a.as_array().unwrap().len())
        .collect();
    assert!(loads.iter().max().unwrap() - loads.iter().min().unwrap() <= 1);
    assert!(expert["coverage"]["conflicts_avoided"].as_u64().unwrap() > 0);

    // A conflicted judge may not mark: judge-garcia (Bogotá, Colombia) and a Colombian application.
    let colombian = admitted
        .iter()
        .find(|a| by_id[*a]["fields"]["country"] == "Colombia")
        .unwrap();
    let (status, v) = server.put(
        &url(&format!("/rounds/expert/marks/{colombian}")),
        &keys["judge-garcia"],
        &marks_for(colombian, "judge-garcia", &indicators["tech-innovacity"]),
    );
    assert_eq!(status, 403);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("conflict of interest"),
        "{v}"
    );

    // A recusal.
    let (recusing, recused_app) = {
        let (j, apps) = expert["assignments"]
            .as_object()
            .unwrap()
            .iter()
            .next()
            .unwrap();
        (j.clone(), apps[0].as_str().unwrap().to_owned())
    };
    let (status, r) = server.post(
        &url("/rounds/expert/recusals"),
        &keys[&recusing],
        &json!({ "application": recused_app, "reason": "a former colleague leads the project" }),
    );
    assert_eq!(status, 200, "{r}");
    assert!(
        !r["assignments"][&recusing]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == &json!(recused_app))
    );
    assert_eq!(
        r["recusals"][0]["reason"],
        "a former colleague leads the project"
    );
    let (status, _) = server.put(
        &url(&format!("/rounds/expert/marks/{recused_app}")),
        &keys[&recusing],
        &marks_for(
            &recused_app,
            &recusing,
            &indicators[by_id[&recused_app]["category"].as_str().unwrap()],
        ),
    );
    assert_eq!(status, 403, "a recused judge may not mark");

    // Blind: judges see neither names nor contact details.
    let (_, round) = server.get(&url("/rounds/expert"), &admin);
    let assignments = round["assignments"].as_object().unwrap().clone();
    let (judge, apps) = assignments.iter().next().unwrap();
    let first = apps[0].as_str().unwrap();
    let (status, view) = server.get(
        &url(&format!("/rounds/expert/applications/{first}")),
        &keys[judge],
    );
    assert_eq!(status, 200, "{view}");
    assert!(
        view["application"]["fields"]
            .get("applicant_name")
            .is_none()
            && view["application"]["fields"].get("contact").is_none(),
        "{view}"
    );

    // Everyone marks.
    for (judge, apps) in &assignments {
        for a in apps.as_array().unwrap() {
            let a = a.as_str().unwrap();
            let body = marks_for(
                a,
                judge,
                &indicators[by_id[a]["category"].as_str().unwrap()],
            );
            let (status, v) = server.put(
                &url(&format!("/rounds/expert/marks/{a}")),
                &keys[judge],
                &body,
            );
            assert_eq!(status, 200, "{judge} {a}: {v}");
        }
    }
    // Before the round closes, a judge sees only their own marks.
    let (_, seen) = server.get(&url("/rounds/expert/marks"), &keys[judge]);
    assert!(
        seen.as_array()
            .unwrap()
            .iter()
            .all(|e| e["judge"] == json!(judge))
    );
    let (_, closed) = server.post(&url("/rounds/expert/close"), &admin, &json!({}));
    let locked_sha = closed["results_sha256"].as_str().unwrap().to_owned();
    // Locked: judges cannot change marks; after closing they see their co-judges' marks.
    let (status, _) = server.put(
        &url(&format!("/rounds/expert/marks/{first}")),
        &keys[judge],
        &marks_for(
            first,
            judge,
            &indicators[by_id[first]["category"].as_str().unwrap()],
        ),
    );
    assert_eq!(status, 409);
    let (_, seen) = server.get(&url("/rounds/expert/marks"), &keys[judge]);
    assert!(
        seen.as_array()
            .unwrap()
            .iter()
            .any(|e| e["judge"] != json!(judge))
    );
    // The locked round recomputes to the same bytes.
    let (_, results) = server.get(&url("/rounds/expert/results"), &admin);
    assert_eq!(results["results_sha256"], json!(locked_sha));
    // A late correction needs an administrator and a reason, and is audited.
    let category = by_id[first]["category"].as_str().unwrap();
    let mut correction = marks_for(first, judge, &indicators[category]);
    assert_eq!(
        server
            .put(
                &url(&format!("/rounds/expert/marks/{first}/{judge}")),
                &admin,
                &correction
            )
            .0,
        400
    );
    correction["reason"] = json!("the judge reported a typing error");
    correction["marks"][&indicators[category][0]] = json!(10);
    assert_eq!(
        server
            .put(
                &url(&format!("/rounds/expert/marks/{first}/{judge}")),
                &keys[judge],
                &correction
            )
            .0,
        403
    );
    let (status, v) = server.put(
        &url(&format!("/rounds/expert/marks/{first}/{judge}")),
        &admin,
        &correction,
    );
    assert_eq!(status, 200, "{v}");
    let (_, round) = server.get(&url("/rounds/expert"), &admin);
    let corrected_sha = round["results_sha256"].as_str().unwrap().to_owned();
    let (_, results) = server.get(&url("/rounds/expert/results"), &admin);
    assert_eq!(results["results_sha256"], json!(corrected_sha));
    let (_, audit) = server.get("/v1/audit", &admin);
    let correction_record = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "round.correction")
        .unwrap();
    assert_eq!(
        correction_record["detail"]["reason"],
        "the judge reported a typing error"
    );
    assert_ne!(
        correction_record["detail"]["before"],
        correction_record["detail"]["after"]
    );
    // The best 5 of each category go on (with any tied with the fifth).
    let (_, advanced) = server.post(&url("/rounds/expert/advance"), &admin, &json!({}));
    let finalists: Vec<String> = advanced["advanced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["application"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        finalists.len() >= 15 && finalists.len() <= 18,
        "{finalists:?}"
    );

    // Round 3: the final committee, 5 judges each; the committee decides with reasons.
    let (status, fin) = server.post(&url("/rounds/final/open"), &admin, &json!({ "seed": 7 }));
    assert_eq!(status, 200, "{fin}");
    let entrants: BTreeSet<&str> = fin["entrants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(entrants, finalists.iter().map(String::as_str).collect());
    for (judge, apps) in fin["assignments"].as_object().unwrap() {
        for a in apps.as_array().unwrap() {
            let a = a.as_str().unwrap();
            let (status, _) = server.put(
                &url(&format!("/rounds/final/marks/{a}")),
                &keys[judge],
                &marks_for(
                    a,
                    judge,
                    &indicators[by_id[a]["category"].as_str().unwrap()],
                ),
            );
            assert_eq!(status, 200);
        }
    }
    assert_eq!(
        server
            .post(&url("/rounds/final/close"), &admin, &json!({}))
            .0,
        200
    );
    assert_eq!(
        server
            .post(&url("/rounds/final/advance"), &admin, &json!({}))
            .0,
        400,
        "a decision needs reasons"
    );
    let winners = json!({ "decisions": [{ "application": finalists[0], "reason": "unanimous choice of the committee" }] });
    let (status, decided) = server.post(&url("/rounds/final/advance"), &admin, &winners);
    assert_eq!(status, 200, "{decided}");
    assert_eq!(
        decided["advanced"][0]["reason"],
        "unanimous choice of the committee"
    );
    server.stop();
    let (code, out) = support::audit_verify(data.path());
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn laurel_rounds_drives_the_rounds_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/{AWARD}{p}");
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let apps = file("examples/seoul-smart-city-prize-2023/applications.json");
    for a in apps.as_array().unwrap().iter().take(12) {
        assert_eq!(server.post(&url("/applications"), &admin, a).0, 201);
    }
    let laurel = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_laurel"))
            .arg("rounds")
            .args(args)
            .args(["--award", AWARD, "--server", &server.url])
            .env("LAUREL_KEY", &admin)
            .current_dir(root())
            .output()
            .unwrap()
    };
    let ok = |args: &[&str]| {
        let o = laurel(args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    assert!(
        ok(&["judges", "examples/seoul-smart-city-prize-2023/judges.json"])
            .contains("16 judges registered")
    );
    ok(&["open", "screening"]);
    ok(&["close", "screening"]);
    ok(&["advance", "screening"]);
    let opened: Value = serde_json::from_str(&ok(&["open", "expert", "--seed", "5"])).unwrap();
    assert_eq!(opened["coverage"]["judges_per_application"], 3);
    let shown: Value = serde_json::from_str(&ok(&["show", "expert"])).unwrap();
    assert_eq!(shown["assignments"], opened["assignments"]);
    let missing = laurel(&["open", "semifinal"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("has no round `semifinal`"));
}
