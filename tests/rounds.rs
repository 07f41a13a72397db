//! The Seoul prize's whole lifecycle through its three rounds over HTTP: screening, expert
//! evaluation (blind, conflicts of interest, a recusal with its replacement drawn, locked marks
//! and a late correction) and the final committee (decisions checked against the category's
//! winners); then the final results, compared with an independent computation
//! (`examples/seoul-smart-city-prize-2023/reference_rounds.py`), published, seen by an
//! applicant, exported into a second server, and backed up and restored whole.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;
#[path = "verification/seoul.rs"]
mod verification;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

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

/// Marks that differ by application, judge and round.
fn marks_for(app: &str, judge: &str, round: &str, indicators: &[String]) -> Value {
    let seed: u32 = app
        .bytes()
        .chain(judge.bytes())
        .chain(round.bytes())
        .map(u32::from)
        .sum();
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

/// One server, or several processes on one database taking requests in turn.
struct Servers {
    all: Vec<Server>,
    turn: std::cell::Cell<usize>,
    /// The first one's address.
    url: String,
}

impl Servers {
    fn one(server: Server) -> Self {
        Self::new(vec![server])
    }

    fn new(all: Vec<Server>) -> Self {
        let url = all[0].url.clone();
        Self {
            all,
            turn: std::cell::Cell::new(0),
            url,
        }
    }

    /// The next server in turn.
    fn next(&self) -> &Server {
        let k = self.turn.get();
        self.turn.set(k + 1);
        &self.all[k % self.all.len()]
    }

    fn get(&self, path: &str, key: &str) -> (u16, Value) {
        self.next().get(path, key)
    }

    fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.next().post(path, key, body)
    }

    fn put(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.next().put(path, key, body)
    }

    /// A new key, made through the process that printed the admin key (the test's support
    /// makes keys with it).
    fn key(&self, role: &str, subject: Option<&str>) -> String {
        self.all
            .iter()
            .find(|s| s.admin.is_some())
            .expect("one of the servers made the admin key")
            .key(role, subject)
    }

    fn admin(&self) -> String {
        self.all
            .iter()
            .find_map(|s| s.admin.clone())
            .expect("one of the servers made the admin key")
    }

    fn stop(self) {
        for s in self.all {
            s.stop();
        }
    }
}

struct Prize {
    server: Servers,
    admin: String,
    applicant: String,
    keys: BTreeMap<String, String>,
    by_id: BTreeMap<String, Value>,
    judge_of: BTreeMap<String, Value>,
}

impl Prize {
    fn url(p: &str) -> String {
        format!("/v1/awards/{AWARD}{p}")
    }

    fn post(&self, p: &str, body: Value) -> Value {
        let (status, v) = self.server.post(&Self::url(p), &self.admin, &body);
        assert!((200..300).contains(&status), "POST {p}: {status} {v}");
        v
    }

    /// Every judge of `round` marks everything assigned to them.
    fn mark_all(
        &self,
        round: &str,
        assignments: &Value,
        indicators: &BTreeMap<String, Vec<String>>,
    ) {
        for (judge, apps) in assignments.as_object().unwrap() {
            for a in apps.as_array().unwrap() {
                let a = a.as_str().unwrap();
                let body = marks_for(
                    a,
                    judge,
                    round,
                    &indicators[self.by_id[a]["category"].as_str().unwrap()],
                );
                let (status, v) = self.server.put(
                    &Self::url(&format!("/rounds/{round}/marks/{a}")),
                    &self.keys[judge],
                    &body,
                );
                assert_eq!(status, 200, "{judge} {a}: {v}");
            }
        }
    }
}

/// Submits every example application, decides the reviews, closes the call and registers the
/// judges.
fn start(data: &std::path::Path) -> Prize {
    start_on(Servers::one(Server::start(data, &root().join("rubrics"))))
}

/// As [`start`], on servers already running.
fn start_on(server: Servers) -> Prize {
    let admin = server.admin();
    // A portal's integrator key: the example applications keep their ids.
    let applicant = server.key("integrator", None);
    let apps = file("examples/seoul-smart-city-prize-2023/applications.json");
    let by_id: BTreeMap<String, Value> = apps
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap().to_owned(), a.clone()))
        .collect();
    let mut p = Prize {
        server,
        admin,
        applicant,
        keys: BTreeMap::new(),
        by_id,
        judge_of: BTreeMap::new(),
    };
    p.post("/open", json!({}));
    for a in apps.as_array().unwrap() {
        let (status, v) = p.server.post(&Prize::url("/applications"), &p.applicant, a);
        assert_eq!(status, 201, "{v}");
    }
    for r in file("examples/seoul-smart-city-prize-2023/marks.json")["review_decisions"]
        .as_array()
        .unwrap()
    {
        let path = format!(
            "/applications/{}/review",
            r["application"].as_str().unwrap()
        );
        p.post(
            &path,
            json!({ "eligible": r["eligible"], "reason": r["reason"] }),
        );
    }
    p.post("/close", json!({}));
    let judges = file("examples/seoul-smart-city-prize-2023/judges.json");
    for j in judges.as_array().unwrap() {
        let id = j["id"].as_str().unwrap();
        let (status, _) = p
            .server
            .put(&Prize::url(&format!("/judges/{id}")), &p.admin, j);
        assert_eq!(status, 200);
        p.keys
            .insert(id.to_owned(), p.server.key("judge", Some(id)));
        p.judge_of.insert(id.to_owned(), j.clone());
    }
    p
}

fn entrants(round: &Value) -> BTreeSet<String> {
    round["entrants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The Seoul prize through its three rounds to published results, checked against the
/// independent reference; returns the computed results.
fn seoul_lifecycle(p: &Prize, data: &std::path::Path) -> Value {
    let indicators = indicators();

    // Round 1: screening. Every admitted application goes on.
    let screening = p.post("/rounds/screening/open", json!({}));
    let admitted: BTreeSet<String> = {
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
    assert_eq!(entrants(&screening), admitted);
    let (status, _) = p.server.post(
        &Prize::url("/rounds/expert/open"),
        &p.admin,
        &json!({ "seed": 1 }),
    );
    assert_eq!(status, 409, "the screening has not advanced anyone yet");
    p.post("/rounds/screening/close", json!({}));
    let advanced = p.post("/rounds/screening/advance", json!({}));
    assert_eq!(
        advanced["advanced"].as_array().unwrap().len(),
        admitted.len()
    );

    // Round 2: expert evaluation, 3 judges each, no conflicts, loads within one.
    let expert = p.post("/rounds/expert/open", json!({ "seed": 2023 }));
    let mut per_app: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (judge, apps) in expert["assignments"].as_object().unwrap() {
        for a in apps.as_array().unwrap() {
            let a = a.as_str().unwrap();
            assert!(
                !conflicted(&p.judge_of[judge], &p.by_id[a]),
                "{judge} was assigned {a}"
            );
            per_app.entry(a.to_owned()).or_default().push(judge.clone());
        }
    }
    assert_eq!(per_app.len(), admitted.len());
    assert!(per_app.values().all(|js| js.len() == 3));

    // A conflicted judge may not mark.
    let colombian = admitted
        .iter()
        .find(|a| p.by_id[*a]["fields"]["country"] == "CO")
        .unwrap();
    let (status, v) = p.server.put(
        &Prize::url(&format!("/rounds/expert/marks/{colombian}")),
        &p.keys["judge-garcia"],
        &marks_for(
            colombian,
            "judge-garcia",
            "expert",
            &indicators["tech-innovacity"],
        ),
    );
    assert_eq!(status, 403, "{v}");

    // A recusal: a replacement is drawn, free of conflicts, and the application keeps three.
    let (recusing, recused_app) = {
        let (j, apps) = expert["assignments"]
            .as_object()
            .unwrap()
            .iter()
            .next()
            .unwrap();
        (j.clone(), apps[0].as_str().unwrap().to_owned())
    };
    let (status, r) = p.server.post(
        &Prize::url("/rounds/expert/recusals"),
        &p.keys[&recusing],
        &json!({ "application": recused_app, "reason": "a former colleague leads the project" }),
    );
    assert_eq!(status, 200, "{r}");
    let replacement = r["recusals"][0]["replaced_by"].as_str().unwrap().to_owned();
    assert_ne!(replacement, recusing);
    assert!(!per_app[&recused_app].contains(&replacement));
    assert!(!conflicted(
        &p.judge_of[&replacement],
        &p.by_id[&recused_app]
    ));
    let judges_now: Vec<&String> = r["assignments"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, apps)| apps.as_array().unwrap().contains(&json!(recused_app)))
        .map(|(j, _)| j)
        .collect();
    assert_eq!(judges_now.len(), 3);
    assert!(r["shortfalls"].as_array().is_none_or(Vec::is_empty));
    let (status, _) = p.server.put(
        &Prize::url(&format!("/rounds/expert/marks/{recused_app}")),
        &p.keys[&recusing],
        &marks_for(
            &recused_app,
            &recusing,
            "expert",
            &indicators[p.by_id[&recused_app]["category"].as_str().unwrap()],
        ),
    );
    assert_eq!(status, 403, "a recused judge may not mark");

    // Blind: judges see neither names nor contact details.
    let (_, round) = p.server.get(&Prize::url("/rounds/expert"), &p.admin);
    let assignments = round["assignments"].clone();
    let (judge, apps) = assignments.as_object().unwrap().iter().next().unwrap();
    let first = apps[0].as_str().unwrap().to_owned();
    let (status, view) = p.server.get(
        &Prize::url(&format!("/rounds/expert/applications/{first}")),
        &p.keys[judge],
    );
    assert_eq!(status, 200, "{view}");
    assert!(
        view["application"]["fields"]
            .get("applicant_name")
            .is_none()
    );
    assert!(view["application"]["fields"].get("contact").is_none());
    // A judge's work, before and after marking.
    let (_, work) = p.server.get("/v1/me/work", &p.keys[judge]);
    assert_eq!(
        work["rounds"][0]["due"].as_array().unwrap().len(),
        apps.as_array().unwrap().len()
    );
    // A sheet kept for later: half the marks, each checked on its scale; it does not count
    // (the entry stays due, no marks are listed) and says what is missing, until the whole
    // sheet is submitted, which removes it.
    let first_indicators = &indicators[p.by_id[&first]["category"].as_str().unwrap()];
    let complete = marks_for(&first, judge, "expert", first_indicators);
    let half = first_indicators.len() / 2;
    let mut partial = json!({ "marks": {}, "comment": "first impressions" });
    for id in &first_indicators[..half] {
        partial["marks"][id] = complete["marks"][id].clone();
    }
    let sheet_url = Prize::url(&format!("/rounds/expert/sheets/{first}"));
    let mut off_scale = partial.clone();
    off_scale["marks"][&first_indicators[0]] = json!(11);
    let (status, v) = p.server.put(&sheet_url, &p.keys[judge], &off_scale);
    assert_eq!(
        status, 422,
        "a mark off its scale is refused even kept for later: {v}"
    );
    assert_eq!(
        v["errors"][0]["pointer"],
        format!("/marks/{}", first_indicators[0])
    );
    let (status, kept) = p.server.put(&sheet_url, &p.keys[judge], &partial);
    assert_eq!(status, 200, "{kept}");
    let missing: Vec<&str> = kept["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let expected: Vec<&str> = first_indicators[half..]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        missing, expected,
        "the kept sheet says what is still to mark"
    );
    assert_eq!(p.server.get(&sheet_url, &p.keys[judge]).1, kept);
    let (_, listed) = p.server.get(
        &Prize::url(&format!(
            "/rounds/expert/marks?application={first}&judge={judge}"
        )),
        &p.admin,
    );
    assert_eq!(listed, json!([]), "a kept sheet is not marks");
    let (_, work) = p.server.get("/v1/me/work", &p.keys[judge]);
    assert!(
        work["rounds"][0]["due"]
            .as_array()
            .unwrap()
            .contains(&json!(first)),
        "a kept sheet leaves the entry due"
    );
    // The running total of half a sheet says what is missing; of the whole sheet, it is the
    // judge's total the round's results show for that entry.
    let total_url = Prize::url(&format!("/rounds/expert/sheets/{first}/total"));
    let (status, so_far) = p.server.post(&total_url, &p.keys[judge], &partial);
    assert_eq!(status, 200, "{so_far}");
    assert_eq!(so_far["complete"], false);
    assert_eq!(
        so_far["missing"].as_array().unwrap().len(),
        first_indicators.len() - half
    );
    let (status, whole) = p.server.post(&total_url, &p.keys[judge], &complete);
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["complete"], true);
    assert_eq!(whole["missing"], json!([]));
    p.mark_all("expert", &assignments, &indicators);
    assert_eq!(
        p.server.get(&sheet_url, &p.keys[judge]).0,
        404,
        "submitting the whole sheet removes what was kept"
    );
    let (status, scored) = p
        .server
        .get(&Prize::url("/rounds/expert/results"), &p.admin);
    assert_eq!(status, 200, "{scored}");
    let in_results = scored["results"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["ranking"].as_array().unwrap().iter())
        .find(|r| r["application"] == json!(first))
        .and_then(|r| {
            r["trace"]["judges"]
                .as_array()?
                .iter()
                .find(|j| j["judge"] == json!(judge))
                .cloned()
        })
        .expect("the judge's part of the entry's score");
    assert_eq!(
        whole["total"], in_results["total"],
        "the sheet's running total is the judge's total in the round's results"
    );
    let (_, work) = p.server.get("/v1/me/work", &p.keys[judge]);
    assert!(
        work["rounds"][0]["due"].as_array().unwrap().is_empty(),
        "{work}"
    );
    let closed = p.post("/rounds/expert/close", json!({}));
    assert!(closed["results_sha256"].is_string());

    // The jury's diagnostics: the same seed gives the same numbers, and the round's results
    // carry the jury's warnings (all but the simulation's, which the results do not run).
    let diagnosis = |query: &str| {
        p.server.get(
            &Prize::url(&format!("/rounds/expert/diagnostics{query}")),
            &p.admin,
        )
    };
    let (status, d) = diagnosis("?draws=50&seed=5");
    assert_eq!(status, 200, "{d}");
    assert_eq!(
        d,
        diagnosis("?draws=50&seed=5").1,
        "the same seed, the same diagnosis"
    );
    assert_ne!(
        d,
        diagnosis("?draws=50&seed=6").1,
        "another seed, other draws"
    );
    // The same diagnosis as a job: 202, then followed to the same numbers (the seed decides
    // them, not the load or the way they are asked for).
    let (status, job) = p.server.post(
        &Prize::url("/rounds/expert/diagnostics/jobs?draws=50&seed=5"),
        &p.admin,
        &json!({}),
    );
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["state"], "running", "{job}");
    let follow = Prize::url(&format!(
        "/rounds/expert/diagnostics/jobs/{}",
        job["id"].as_str().unwrap()
    ));
    let started = std::time::Instant::now();
    let finished = loop {
        let (status, now) = p.server.get(&follow, &p.admin);
        assert_eq!(status, 200, "{now}");
        assert!(
            now["done"].as_u64().unwrap() <= now["total"].as_u64().unwrap(),
            "{now}"
        );
        if now["state"] != "running" {
            break now;
        }
        assert!(
            started.elapsed().as_secs() < 300,
            "the job is still running: {now}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(finished["state"], "done", "{finished}");
    assert!(finished["total"].as_u64().unwrap() > 100, "{finished}");
    assert_eq!(finished["done"], finished["total"]);
    assert_eq!(finished["result"], d, "a job gives the request's numbers");
    assert_eq!(
        p.server
            .get(
                &Prize::url("/rounds/expert/diagnostics/jobs/diag-0000000000000000"),
                &p.admin
            )
            .0,
        404
    );
    assert_eq!(d["categories"].as_array().unwrap().len(), 3, "{d}");
    for c in d["categories"].as_array().unwrap() {
        assert_eq!(c["robustness"]["draws"], 50, "{c}");
        assert_eq!(
            c["judges"].as_u64().unwrap(),
            c["judge_reports"].as_array().unwrap().len() as u64
        );
        assert!(c["overall"]["units"].as_u64().unwrap() > 0, "{c}");
    }
    let (_, results) = p
        .server
        .get(&Prize::url("/rounds/expert/results"), &p.admin);
    let jury: Vec<&str> = results["results"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str()?.strip_prefix("jury: "))
        .collect();
    let agreement_and_judges: Vec<&str> = d["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .filter(|w| !w.contains("the winners depend on") && !w.contains("draws"))
        .collect();
    assert_eq!(jury, agreement_and_judges);
    assert_eq!(
        diagnosis("?draws=5000").0,
        400,
        "at most 1,000 draws a request"
    );
    assert_eq!(
        p.server
            .get(&Prize::url("/rounds/screening/diagnostics"), &p.admin)
            .0,
        409,
        "the screening takes no marks"
    );
    // Locked: a judge cannot change marks; an administrator corrects with a reason, audited.
    let category = p.by_id[&first]["category"].as_str().unwrap().to_owned();
    let (status, _) = p.server.put(
        &Prize::url(&format!("/rounds/expert/marks/{first}")),
        &p.keys[judge],
        &marks_for(&first, judge, "expert", &indicators[&category]),
    );
    assert_eq!(status, 409);
    let mut correction = marks_for(&first, judge, "expert", &indicators[&category]);
    correction["marks"][&indicators[&category][0]] = json!(10);
    correction["reason"] = json!("the judge reported a typing error");
    let (status, v) = p.server.put(
        &Prize::url(&format!("/rounds/expert/marks/{first}/{judge}")),
        &p.admin,
        &correction,
    );
    assert_eq!(status, 200, "{v}");
    let expert_advanced = p.post("/rounds/expert/advance", json!({}));
    let finalists: BTreeSet<String> = expert_advanced["advanced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["application"].as_str().unwrap().to_owned())
        .collect();

    // Round 3: the final committee, 5 judges each; no normalisation (a rubric setting).
    let fin = p.post("/rounds/final/open", json!({ "seed": 7 }));
    assert_eq!(entrants(&fin), finalists);
    p.mark_all("final", &fin["assignments"], &indicators);
    p.post("/rounds/final/close", json!({}));
    let (_, final_results) = p.server.get(&Prize::url("/rounds/final/results"), &p.admin);
    let mut best: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in final_results["results"]["categories"].as_array().unwrap() {
        best.insert(
            c["category"].as_str().unwrap().to_owned(),
            c["ranking"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["application"].as_str().unwrap().to_owned())
                .collect(),
        );
    }
    let winners_declared: BTreeMap<&str, usize> = [
        ("tech-innovacity", 3),
        ("human-centricity", 3),
        ("leadership", 1),
    ]
    .into();
    // The committee may not name more winners than a category declares...
    let too_many: Vec<Value> = best["leadership"]
        .iter()
        .take(2)
        .map(|a| json!({ "application": a, "reason": "the committee's choice" }))
        .collect();
    let (status, v) = p.server.post(
        &Prize::url("/rounds/final/advance"),
        &p.admin,
        &json!({ "decisions": too_many }),
    );
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["errors"][0]["pointer"], "/decisions/1/application", "{v}");
    // ... nor an application that did not reach the final.
    let outsider = admitted.iter().find(|a| !finalists.contains(*a)).unwrap();
    let (status, v) = p.server.post(
        &Prize::url("/rounds/final/advance"),
        &p.admin,
        &json!({ "decisions": [{ "application": outsider, "reason": "x" }] }),
    );
    assert_eq!(status, 422, "{v}");
    let mut decisions = Vec::new();
    for (category, n) in &winners_declared {
        for a in best[*category].iter().take(*n) {
            decisions.push(json!({ "application": a, "reason": format!("the committee's choice in {category}") }));
        }
    }
    p.post("/rounds/final/advance", json!({ "decisions": decisions }));
    // Special mentions: two projects that did not win.
    let winners: BTreeSet<String> = decisions
        .iter()
        .map(|d| d["application"].as_str().unwrap().to_owned())
        .collect();
    let mentioned: Vec<String> = ["tech-innovacity", "human-centricity"]
        .iter()
        .map(|c| {
            best[*c]
                .iter()
                .rev()
                .find(|a| !winners.contains(*a))
                .unwrap()
                .clone()
        })
        .collect();
    let mentions: Vec<Value> = mentioned
        .iter()
        .map(|a| json!({ "application": a, "reason": "an outstanding idea" }))
        .collect();
    let (status, v) = p
        .server
        .put(&Prize::url("/special-mentions"), &p.admin, &json!(mentions));
    assert_eq!(status, 200, "{v}");

    // The final results, against the independent computation.
    let computed = p.post("/results", json!({}));
    assert!(
        computed["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| !w.to_string().contains("coverage"))
    );
    let (status, csv) = p.server.get(&Prize::url("/results.csv"), &p.admin);
    assert_eq!(status, 200);
    let csv = csv.as_str().unwrap().to_owned();
    let marks_of = |round: &str| -> Vec<Value> {
        p.server
            .get(&Prize::url(&format!("/rounds/{round}/marks")), &p.admin)
            .1
            .as_array()
            .unwrap()
            .clone()
    };
    let input = json!({
        "applications": file("examples/seoul-smart-city-prize-2023/applications.json"),
        "reviews": file("examples/seoul-smart-city-prize-2023/marks.json")["review_decisions"],
        "rounds": {
            "expert": { "entrants": expert["entrants"], "marks": marks_of("expert") },
            "final": { "entrants": fin["entrants"], "marks": marks_of("final") },
        },
        "decisions": decisions,
        "mentions": mentions,
    });
    let input_file = data.join("rounds.json");
    std::fs::write(&input_file, input.to_string()).unwrap();
    let reference = Command::new("python3")
        .arg("reference_rounds.py")
        .arg(&input_file)
        .current_dir(root().join("examples/seoul-smart-city-prize-2023"))
        .output()
        .unwrap();
    assert!(
        reference.status.success(),
        "{}",
        String::from_utf8_lossy(&reference.stderr)
    );
    let expected = String::from_utf8(reference.stdout).unwrap();
    let reference_advanced: BTreeSet<String> = String::from_utf8_lossy(&reference.stderr)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        finalists, reference_advanced,
        "the expert round's advancement"
    );
    assert_eq!(csv, expected, "the final results, row by row");
    let outcomes: BTreeMap<&str, usize> = csv.lines().skip(1).fold(BTreeMap::new(), |mut m, l| {
        *m.entry(l.split(',').nth(2).unwrap()).or_default() += 1;
        m
    });
    assert_eq!(outcomes["winner"], 7, "{outcomes:?}");
    assert_eq!(outcomes["special_mention"], 2);
    assert_eq!(outcomes["not_admitted"], 1, "the review refused one");
    // The published document names the definition and each round's results, and recomputes to
    // the same bytes.
    let (_, full) = p.server.get(&Prize::url("/results"), &p.admin);
    let rounds = full["results"]["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 3);
    // Each winner carries the prize of its winning place, by its rank among the winners.
    for c in full["results"]["categories"].as_array().unwrap() {
        let winners = c["winners"].as_array().unwrap();
        let mut ranks: Vec<u64> = winners
            .iter()
            .map(|w| w["rank"].as_u64().unwrap())
            .collect();
        ranks.sort_unstable();
        for w in winners {
            let rank = w["rank"].as_u64().unwrap();
            let place = 1 + ranks.iter().filter(|r| **r < rank).count() as u64;
            assert_eq!(w["prize"]["place"], place, "{w}");
            assert!(
                w["prize"]["name"]["en"]
                    .as_str()
                    .unwrap()
                    .ends_with("Prize"),
                "{w}"
            );
            assert!(w["prize"].get("amount").is_none(), "{w}");
        }
    }
    assert_eq!(rounds[2]["results_sha256"], final_results["results_sha256"]);
    assert!(full["results"]["definition_sha256"].as_str().unwrap().len() == 64);
    let again = p.post("/results", json!({}));
    assert_eq!(again["results_sha256"], computed["results_sha256"]);

    // Publication: before it the applicant sees their status; after it, their outcome.
    let winner = decisions[0]["application"].as_str().unwrap().to_owned();
    let (_, before) = p.server.get(
        &Prize::url(&format!("/applications/{winner}/outcome")),
        &p.applicant,
    );
    assert_eq!(before["published"], false, "{before}");
    p.post("/results/publish", json!({}));
    let (_, after) = p.server.get(
        &Prize::url(&format!("/applications/{winner}/outcome")),
        &p.applicant,
    );
    assert_eq!(after["outcome"], "winner", "{after}");
    assert_eq!(after["rounds"].as_array().unwrap().len(), 3);
    let other = p.server.key("applicant", None);
    assert_eq!(
        p.server
            .get(
                &Prize::url(&format!("/applications/{winner}/outcome")),
                &other
            )
            .0,
        404,
        "as if it did not exist"
    );
    computed
}

#[test]
fn the_seoul_prize_runs_through_three_rounds_to_published_results() {
    let data = tempfile::tempdir().unwrap();
    let p = start(data.path());
    let computed = seoul_lifecycle(&p, data.path());
    let applications = file("examples/seoul-smart-city-prize-2023/applications.json");
    let judges = file("examples/seoul-smart-city-prize-2023/judges.json");
    verification::published_results_verify(
        &p.server.all[0],
        AWARD,
        &p.admin,
        &p.applicant,
        applications.as_array().unwrap(),
        judges.as_array().unwrap(),
    );

    // Export, and import into a second server with the same key: the same results.
    let (status, export) = p.server.get(&Prize::url("/export"), &p.admin);
    assert_eq!(status, 200);
    let key_text = std::fs::read_to_string(data.path().join("laurel.key")).unwrap();
    // The whole server, backed up online.
    let backup_file = data.path().join("../backup.json");
    let out = Command::new(env!("CARGO_BIN_EXE_laurel"))
        .args(["backup", "--server", &p.server.url, "--out"])
        .arg(&backup_file)
        .env("LAUREL_KEY", &p.admin)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sha = computed["results_sha256"].clone();
    p.server.stop();
    let (code, out) = support::audit_verify(data.path());
    assert_eq!(code, Some(0), "{out}");

    let data2 = tempfile::tempdir().unwrap();
    let second = Server::start_with(
        data2.path(),
        &root().join("examples"),
        &[("LAUREL_DATA_KEY", key_text.trim())],
    );
    let (status, v) = second.call(
        "POST",
        "/v1/import",
        Some(second.admin()),
        Some(export.to_string().as_bytes()),
    );
    assert_eq!(status, 201, "{v}");
    let (status, recomputed) = second.post(&Prize::url("/results"), second.admin(), &json!({}));
    assert_eq!(status, 201, "{recomputed}");
    assert_eq!(
        recomputed["results_sha256"], sha,
        "the rounds restored, the same results"
    );
    let (_, fin2) = second.get(&Prize::url("/rounds/final"), second.admin());
    assert_eq!(fin2["advanced"].as_array().unwrap().len(), 7);
    assert_eq!(
        second.get("/v1/audit/verify", second.admin()).1["intact"],
        true
    );
    second.stop();

    // Disaster recovery: the backup restored into a fresh folder holds every record.
    let restored = tempfile::tempdir().unwrap();
    let key_file = data2.path().join("restore.key");
    std::fs::write(&key_file, key_text.trim()).unwrap();
    // Beside the key, the witness of a chain newer than the backup (the installation it was
    // taken from went on): a server would refuse the restored data, so the restore replaces it.
    let witness = data2.path().join("restore.witness");
    std::fs::write(
        &witness,
        r#"{"seq":999999,"hash":"0000","at":"2026-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_laurel"))
        .arg("restore")
        .arg(&backup_file)
        .arg("--data")
        .arg(restored.path().join("data"))
        .arg("--key-file")
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let records = |dir: &std::path::Path| -> BTreeMap<(String, Vec<u8>), Vec<u8>> {
        let db = sled::open(dir.join("db")).unwrap();
        let mut all = BTreeMap::new();
        for name in db.tree_names() {
            let name = String::from_utf8_lossy(&name).into_owned();
            if name.starts_with("__sled") {
                continue;
            }
            for kv in db.open_tree(&name).unwrap().iter() {
                let (k, v) = kv.unwrap();
                all.insert((name.clone(), k.to_vec()), v.to_vec());
            }
        }
        all
    };
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("now names record"), "{said}");
    let original = records(data.path());
    let copy = records(&restored.path().join("data"));
    assert_eq!(original.len(), copy.len());
    assert!(original == copy, "every record restored as it was");
    // A server serves it (`start_full` fails when the server does not start).
    Server::start_full(
        &restored.path().join("data"),
        &root().join("rubrics"),
        &[],
        &["--key-file", key_file.to_str().unwrap()],
    )
    .stop();
    let _ = std::fs::remove_file(&backup_file);
}

#[test]
fn a_recusal_without_a_free_judge_is_a_shortfall_that_closing_reports() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/{AWARD}{p}");
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let apps = file("examples/seoul-smart-city-prize-2023/applications.json");
    let three: Vec<&Value> = apps.as_array().unwrap().iter().take(3).collect();
    for a in &three {
        assert_eq!(server.post(&url("/applications"), &admin, a).0, 201);
    }
    assert_eq!(server.post(&url("/close"), &admin, &json!({})).0, 200);
    // Exactly three judges: every application has all of them, nobody is left to replace one.
    for id in ["j1", "j2", "j3"] {
        assert_eq!(
            server
                .put(
                    &url(&format!("/judges/{id}")),
                    &admin,
                    &json!({"id": id, "name": id})
                )
                .0,
            200
        );
    }
    for step in ["open", "close", "advance"] {
        assert_eq!(
            server
                .post(
                    &url(&format!("/rounds/screening/{step}")),
                    &admin,
                    &json!({})
                )
                .0,
            200
        );
    }
    let (status, expert) = server.post(&url("/rounds/expert/open"), &admin, &json!({ "seed": 1 }));
    assert_eq!(status, 200, "{expert}");
    let app = expert["entrants"][0].as_str().unwrap().to_owned();
    let (status, r) = server.post(
        &url("/rounds/expert/recusals"),
        &admin,
        &json!({ "application": app, "judge": "j1", "reason": "declared late" }),
    );
    assert_eq!(status, 200, "{r}");
    assert!(r["recusals"][0]["replaced_by"].is_null());
    assert!(
        r["shortfalls"][0]
            .as_str()
            .unwrap()
            .contains("2 judges of 3"),
        "{r}"
    );
    let (status, closed) = server.post(&url("/rounds/expert/close"), &admin, &json!({}));
    assert_eq!(status, 200, "{closed}");
    assert!(closed["shortfalls"].to_string().contains(&app), "{closed}");
    let (_, results) = server.post(&url("/results"), &admin, &json!({}));
    assert!(
        results["warnings"].to_string().contains("2 judges of 3"),
        "{results}"
    );
}

#[test]
fn the_call_closes_on_time_in_the_awards_time_zone_unless_moved() {
    let data = tempfile::tempdir().unwrap();
    // 2023-05-31 18:00:01 in Seoul: a second after the deadline.
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--now", "2023-05-31T09:00:01Z"],
    );
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/{AWARD}{p}");
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let app = file("examples/seoul-smart-city-prize-2023/applications.json")[0].clone();
    let (status, v) = server.post(&url("/applications"), &admin, &app);
    assert_eq!(status, 409, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("closed on 2023-05-31 18:00 (Asia/Seoul)"),
        "{v}"
    );
    let (status, v) = server.post(
        &url("/timeline"),
        &admin,
        &json!({ "closes": "2023-06-07T18:00:00" }),
    );
    assert_eq!(status, 400, "a reason is needed: {v}");
    let (status, v) = server.post(
        &url("/timeline"),
        &admin,
        &json!({ "closes": "2023-06-07T18:00:00", "reason": "a national holiday on the last day" }),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(server.post(&url("/applications"), &admin, &app).0, 201);
    let (_, audit) = server.get("/v1/audit?limit=1000", &admin);
    let moved = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "award.timeline")
        .unwrap();
    assert_eq!(
        moved["detail"]["reason"],
        "a national holiday on the last day"
    );
    assert_eq!(moved["detail"]["closes"], "2023-06-07 18:00 (Asia/Seoul)");
}

#[test]
fn an_open_award_is_corrected_at_once_for_texts_and_after_confirmation_otherwise() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/{AWARD}{p}");
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let apps = file("examples/seoul-smart-city-prize-2023/applications.json");
    // The first twelve, and a non-profit corporation the rule below is about.
    let some = apps
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(i, a)| *i < 12 || a["id"] == "app-051");
    for (_, a) in some {
        assert_eq!(server.post(&url("/applications"), &admin, a).0, 201);
    }
    let original =
        std::fs::read_to_string(root().join("rubrics/seoul-smart-city-prize-2023/award.json"))
            .unwrap();
    // A typo in a label: applied at once.
    let typo = original.replacen(
        "\"Name of the applicant (city, organisation or candidate)\"",
        "\"Name of the applicant (a city, an organisation or a candidate)\"",
        1,
    );
    assert_ne!(typo, original);
    let put = |text: &str| server.call("PUT", &url("/draft"), Some(&admin), Some(text.as_bytes()));
    let (status, v) = put(&typo);
    assert_eq!(status, 200, "{v}");
    let (status, v) = server.post(&url("/publish"), &admin, &json!({}));
    assert_eq!(status, 201, "{v}");
    // A rule that changes who is eligible: reported first, applied when confirmed.
    let mut def: Value = serde_json::from_str(&typo).unwrap();
    let rule = def["eligibility"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["id"] == "corporation-for-profit")
        .unwrap();
    rule["outcome"] = json!("review");
    let changed = serde_json::to_string_pretty(&def).unwrap();
    assert_eq!(put(&changed).0, 200);
    let (status, v) = server.post(&url("/publish"), &admin, &json!({}));
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["type"], "/problems/needs-confirmation");
    let impact = v["impact"].as_array().unwrap();
    assert_eq!(impact.len(), 1, "{v}");
    assert_eq!(impact[0]["application"], "app-051");
    assert_eq!(impact[0]["eligibility"]["before"], "ineligible");
    assert_eq!(impact[0]["eligibility"]["after"], "needs_review");
    let sha = confirmation(&v);
    let (status, v) = server.post(&url(&format!("/publish?confirm={sha}")), &admin, &json!({}));
    assert_eq!(status, 201, "{v}");
    let (_, audit) = server.get("/v1/audit?limit=1000", &admin);
    let published: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "award.publish")
        .collect();
    assert_eq!(published.len(), 2);
    assert!(published[1]["detail"]["previous_sha256"].is_string());
    assert_eq!(published[1]["detail"]["confirmed"], true);
    // Every application was decided again under version 3.
    let changed_app = impact[0]["application"].as_str().unwrap();
    let (_, a) = server.get(&url(&format!("/applications/{changed_app}")), &admin);
    assert_eq!(a["version"], 3, "{a}");
    assert_eq!(
        a["eligibility"]["status"],
        impact[0]["eligibility"]["after"]
    );
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
    assert_eq!(server.post(&url("/close"), &admin, &json!({})).0, 200);
    let laurel = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_laurel"))
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
    let (judge, apps) = opened["assignments"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    let removed: Value =
        serde_json::from_str(&ok(&["remove", "expert", judge, "--reason", "unwell"])).unwrap();
    assert!(removed["assignments"].get(judge).is_none());
    assert_eq!(
        removed["recusals"].as_array().unwrap().len(),
        apps.as_array().unwrap().len()
    );
    let csv = ok(&["results", "--compute", "--format", "csv"]);
    assert!(csv.starts_with("category,application,outcome"), "{csv}");
    let missing = laurel(&["open", "semifinal"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("has no round `semifinal`"));
}

#[test]
fn a_category_with_fewer_entrants_than_the_top_n_sends_them_all_on() {
    // Three leadership applications, and the expert round takes the top 5 of each category:
    // all three go on (fewer ranked than the rule takes is not nobody).
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/seoul-smart-city-prize-2023{p}");
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let portal = server.key("integrator", None);
    let apps = file("examples/seoul-smart-city-prize-2023/applications.json");
    let chosen: Vec<&Value> = apps
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["category"] == "leadership" && a["applicant_type"] == "individual")
        .take(3)
        .collect();
    for a in &chosen {
        assert_eq!(server.post(&url("/applications"), &portal, a).0, 201);
    }
    support::seoul_through_screening(&server);
    let (status, round) = server.post(&url("/rounds/expert/open"), &admin, &json!({ "seed": 2 }));
    assert_eq!(status, 200, "{round}");
    mark_expert_leadership(&server, &round, None);
    assert_eq!(
        server
            .post(&url("/rounds/expert/close"), &admin, &json!({}))
            .0,
        200
    );
    let (status, advanced) = server.post(&url("/rounds/expert/advance"), &admin, &json!({}));
    assert_eq!(status, 200, "{advanced}");
    let mut went: Vec<&str> = advanced["advanced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["application"].as_str().unwrap())
        .collect();
    went.sort_unstable();
    let mut expected: Vec<&str> = chosen.iter().map(|a| a["id"].as_str().unwrap()).collect();
    expected.sort_unstable();
    assert_eq!(went, expected);
}

/// The whole Seoul lifecycle on two `laurel` processes sharing one PostgreSQL database, every
/// request going to the other process than the one before: the same results as the reference,
/// and one audit chain.
#[test]
fn the_seoul_prize_runs_on_two_processes_of_one_database() {
    let pg = support::postgres::Cluster::start();
    let url = pg.database();
    let data = tempfile::tempdir().unwrap();
    let key = data.path().join("laurel.key");
    let start = |name: &str| {
        Server::start_full(
            &data.path().join(name),
            &root().join("rubrics"),
            &[],
            &[
                "--store",
                &url,
                "--migrate",
                "--key-file",
                key.to_str().unwrap(),
                "--key-in-data-for-tests",
            ],
        )
    };
    let (a, b) = (start("a"), start("b"));
    let p = start_on(Servers::new(vec![a, b]));
    let computed = seoul_lifecycle(&p, data.path());
    assert_eq!(computed["results_sha256"].as_str().unwrap().len(), 64);
    let out = Command::new(env!("CARGO_BIN_EXE_laurel"))
        .args(["audit", "verify", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    p.server.stop();
}

/// A round that ranks by marks never lets an entrant without marks silently stay behind (nor,
/// with nobody marked, silently send nobody or everybody on): advancing is refused, naming
/// them, until an administrator gives a reason; then only the scored go on.
#[test]
fn a_ranked_round_with_unmarked_entrants_advances_only_with_a_reason() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/seoul-smart-city-prize-2023{p}");
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let portal = server.key("integrator", None);
    let apps = file("examples/seoul-smart-city-prize-2023/applications.json");
    let chosen: Vec<&Value> = apps
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["category"] == "leadership" && a["applicant_type"] == "individual")
        .take(3)
        .collect();
    for a in &chosen {
        assert_eq!(server.post(&url("/applications"), &portal, a).0, 201);
    }
    support::seoul_through_screening(&server);
    let (status, round) = server.post(&url("/rounds/expert/open"), &admin, &json!({ "seed": 2 }));
    assert_eq!(status, 200, "{round}");
    // Only the first application is marked, by every judge drawn for it.
    let marked = chosen[0]["id"].as_str().unwrap();
    let indicators = indicators();
    for (judge, assigned) in round["assignments"].as_object().unwrap() {
        if assigned.as_array().unwrap().iter().any(|a| a == marked) {
            let key = server.key("judge", Some(judge));
            let body = marks_for(marked, judge, "expert", &indicators["leadership"]);
            let (status, v) =
                server.put(&url(&format!("/rounds/expert/marks/{marked}")), &key, &body);
            assert_eq!(status, 200, "{v}");
        }
    }
    let (status, closed) = server.post(&url("/rounds/expert/close"), &admin, &json!({}));
    assert_eq!(status, 200, "{closed}");
    let (status, refused) = server.post(&url("/rounds/expert/advance"), &admin, &json!({}));
    assert_eq!(status, 409, "{refused}");
    let detail = refused["detail"].as_str().unwrap();
    assert!(detail.contains("2 of the 3 entrants"), "{detail}");
    for a in &chosen[1..] {
        assert!(detail.contains(a["id"].as_str().unwrap()), "{detail}");
    }
    let (_, still) = server.get(&url("/rounds/expert"), &admin);
    assert!(still["advanced"].is_null(), "nothing half-applied: {still}");
    let (status, advanced) = server.post(
        &url("/rounds/expert/advance"),
        &admin,
        &json!({ "override_reason": "the other two withdrew" }),
    );
    assert_eq!(status, 200, "{advanced}");
    let went: Vec<&str> = advanced["advanced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["application"].as_str().unwrap())
        .collect();
    assert_eq!(went, [marked]);
    assert_eq!(advanced["override_reason"], "the other two withdrew");
}

/// A judge's country is kept as its code whatever it was written as; a misspelt one is refused
/// at its place with the likely country, and nothing is stored.
#[test]
fn a_judges_country_is_kept_as_its_code() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/{AWARD}{p}");
    let (status, stored) = server.put(
        &url("/judges/j4"),
        &admin,
        &json!({"id": "j4", "name": "j4", "country": "대한민국"}),
    );
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["country"], "KR");
    let (status, refused) = server.put(
        &url("/judges/j5"),
        &admin,
        &json!({"id": "j5", "name": "j5", "country": "Republic of Koera"}),
    );
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("/country"), "{refused}");
    assert!(refused.to_string().contains("`KR`"), "{refused}");
    let (status, list) = server.get(&url("/judges"), &admin);
    assert_eq!(status, 200);
    let ids: Vec<&str> = list["items"]
        .as_array()
        .or(list.as_array())
        .unwrap()
        .iter()
        .filter_map(|j| j["id"].as_str())
        .collect();
    assert_eq!(ids, ["j4"], "nothing half-applied: {list}");
}

/// A criterion the rubric lets judges abstain on: a judge names it in `abstained` and gives
/// none of its marks; their total is over the other criteria (computed here from the marks:
/// the leadership criteria weigh the same), the round's results name the abstention, a kept
/// sheet counts it done, and what the rubric does not allow is refused where it is.
#[test]
fn a_judge_abstains_on_a_criterion_the_rubric_allows() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/{AWARD}{p}");
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let portal = server.key("integrator", None);
    let apps = file("examples/seoul-smart-city-prize-2023/applications.json");
    for a in apps
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["category"] == "leadership" && a["applicant_type"] == "individual")
        .take(3)
    {
        assert_eq!(server.post(&url("/applications"), &portal, a).0, 201);
    }
    // The leadership category's `communication` may be abstained on.
    let mut def = file("rubrics/seoul-smart-city-prize-2023/award.json");
    let leadership = def["categories"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["id"] == "leadership")
        .unwrap();
    let criteria = leadership["criteria"].as_array_mut().unwrap();
    let ids: Vec<String> = criteria
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        ["relevance", "impact", "collaboration", "communication"]
    );
    assert!(criteria.iter().all(|c| c["weight"] == 1));
    criteria[3]["abstain"] = json!(true);
    let indicators_of = |c: usize| -> Vec<String> { criteria_ids(&def, c) };
    fn criteria_ids(def: &Value, c: usize) -> Vec<String> {
        def["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == "leadership")
            .unwrap()["criteria"][c]["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    }
    let (status, v) = server.call(
        "PUT",
        &url("/draft"),
        Some(&admin),
        Some(serde_json::to_string(&def).unwrap().as_bytes()),
    );
    assert_eq!(status, 200, "{v}");
    // A change to how judges mark is confirmed first (it changes no application's standing).
    let (status, v) = server.post(&url("/publish"), &admin, &json!({}));
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["impact"], json!([]), "{v}");
    let sha = confirmation(&v);
    let (status, v) = server.post(&url(&format!("/publish?confirm={sha}")), &admin, &json!({}));
    assert_eq!(status, 201, "{v}");
    support::seoul_through_screening(&server);
    let (status, round) = server.post(&url("/rounds/expert/open"), &admin, &json!({ "seed": 2 }));
    assert_eq!(status, 200, "{round}");
    let (judge, assigned) = round["assignments"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, a)| !a.as_array().unwrap().is_empty())
        .unwrap();
    let app = assigned[0].as_str().unwrap().to_owned();
    let key = server.key("judge", Some(judge));
    // Each criterion's indicators marked alike, so each criterion's score is that mark.
    let mut marks = serde_json::Map::new();
    for (c, mark) in [(0, 8), (1, 6), (2, 7)] {
        for i in indicators_of(c) {
            marks.insert(i, json!(mark));
        }
    }
    let communication = indicators_of(3);
    // Refused: abstaining where the rubric does not allow it, and marks of a criterion
    // abstained on.
    let (status, v) = server.put(
        &url(&format!("/rounds/expert/marks/{app}")),
        &key,
        &json!({ "marks": marks, "abstained": ["impact", "communication"] }),
    );
    assert_eq!(status, 422, "{v}");
    let pointers: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["severity"] == "error")
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert!(pointers.contains(&"/abstained/0"), "{v}");
    let mut with_communication = marks.clone();
    with_communication.insert(communication[0].clone(), json!(5));
    let (status, v) = server.put(
        &url(&format!("/rounds/expert/marks/{app}")),
        &key,
        &json!({ "marks": with_communication, "abstained": ["communication"] }),
    );
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        v["errors"][0]["pointer"],
        format!("/marks/{}", communication[0]),
        "{v}"
    );
    // Without abstaining, the missing marks are refused as ever.
    let (status, _) = server.put(
        &url(&format!("/rounds/expert/marks/{app}")),
        &key,
        &json!({ "marks": marks }),
    );
    assert_eq!(status, 422);
    // A sheet kept for later with the abstention has nothing left to mark.
    let (status, kept) = server.put(
        &url(&format!("/rounds/expert/sheets/{app}")),
        &key,
        &json!({ "marks": marks, "abstained": ["communication"] }),
    );
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["missing"], json!([]), "{kept}");
    assert_eq!(kept["abstained"], json!(["communication"]), "{kept}");
    let (status, total) = server.post(
        &url(&format!("/rounds/expert/sheets/{app}/total")),
        &key,
        &json!({ "marks": marks, "abstained": ["communication"] }),
    );
    assert_eq!(status, 200, "{total}");
    assert_eq!(
        decimal(&total["total"]),
        rust_decimal::Decimal::from(7),
        "{total}"
    );
    assert_eq!(total["complete"], true, "{total}");
    let (status, v) = server.put(
        &url(&format!("/rounds/expert/marks/{app}")),
        &key,
        &json!({ "marks": marks, "abstained": ["communication"] }),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["abstained"], json!(["communication"]));
    // The round's progress counts the sheet, from the marks' keys: one marked, the rest due.
    let (_, shown) = server.get(&url("/rounds/expert"), &admin);
    let progress = &shown["progress"][judge.as_str()];
    let given = assigned.as_array().unwrap();
    assert_eq!(progress["assigned"], given.len(), "{shown}");
    assert_eq!(progress["marked"], 1, "{shown}");
    let due: Vec<&Value> = given
        .iter()
        .filter(|a| a.as_str() != Some(app.as_str()))
        .collect();
    assert_eq!(
        progress["due"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        due,
        "{shown}"
    );
    // Every other entry marked in full, by every judge.
    mark_expert_leadership(&server, &round, Some((judge, &app)));
    assert_eq!(
        server
            .post(&url("/rounds/expert/close"), &admin, &json!({}))
            .0,
        200
    );
    let (status, results) = server.get(&url("/rounds/expert/results"), &admin);
    assert_eq!(status, 200, "{results}");
    let results = &results["results"];
    let trace = results["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["ranking"].as_array().unwrap())
        .find(|p| p["application"] == app.as_str())
        .unwrap();
    let mine = trace["trace"]["judges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["judge"] == judge.as_str())
        .unwrap();
    // (8 + 6 + 7) / 3 = 7: the three criteria marked, weighing the same.
    assert_eq!(
        decimal(&mine["total"]),
        rust_decimal::Decimal::from(7),
        "{mine}"
    );
    assert_eq!(mine["abstained"], json!(["communication"]), "{mine}");
    let warning = format!(
        "judge `{judge}` abstained on `communication` of application `{app}`: their total is over the criteria they marked"
    );
    assert!(
        results["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| *w == warning.as_str()),
        "{}",
        results["warnings"]
    );
}

/// A decimal as the API writes it (a string, or a number).
fn decimal(v: &Value) -> rust_decimal::Decimal {
    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    text.parse()
        .unwrap_or_else(|_| panic!("not a decimal: {v}"))
}

/// The `confirm` a 409 of a change that needs confirming names.
fn confirmation(v: &Value) -> String {
    v["detail"]
        .as_str()
        .unwrap()
        .rsplit("confirm=")
        .next()
        .unwrap()
        .split('`')
        .next()
        .unwrap()
        .to_owned()
}

/// Every leadership entry of the open expert round marked by each judge it went to (but the
/// pair `skip`, judge and entry), with marks that differ by entry and judge.
fn mark_expert_leadership(server: &Server, round: &Value, skip: Option<(&str, &str)>) {
    let indicators = indicators();
    for (judge, assigned) in round["assignments"].as_object().unwrap() {
        let key = server.key("judge", Some(judge));
        for app in assigned.as_array().unwrap() {
            let app = app.as_str().unwrap();
            if skip == Some((judge.as_str(), app)) {
                continue;
            }
            let body = marks_for(app, judge, "expert", &indicators["leadership"]);
            let (status, v) = server.put(
                &format!("/v1/awards/{AWARD}/rounds/expert/marks/{app}"),
                &key,
                &body,
            );
            assert_eq!(status, 200, "{v}");
        }
    }
}
