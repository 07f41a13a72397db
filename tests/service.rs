//! The service end to end, over real HTTP on 127.0.0.1 against the spawned `laurel` binary:
//! the Seoul prize's whole life, encryption at rest, the audit chain, backup and restore.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::{Value, json};
use support::{Server, create_award, root};

const AWARD: &str = "seoul-smart-city-prize-2023";

fn example(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(
            root()
                .join("examples/seoul-smart-city-prize-2023")
                .join(name),
        )
        .unwrap(),
    )
    .unwrap()
}

fn expected_results() -> BTreeMap<String, (String, String)> {
    let mut reader = csv::Reader::from_path(
        root().join("examples/seoul-smart-city-prize-2023/expected/results.csv"),
    )
    .unwrap();
    reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[2].to_owned(), (r[1].to_owned(), r[3].to_owned())))
        .collect()
}

/// Runs the prize through the API in one judging round (the rubric without its rounds, so
/// that the example's marks, by seven judges, make the results the reference computed).
fn run_prize(server: &Server) {
    let admin = server.admin().to_owned();
    let rubric = tempfile::tempdir().unwrap();
    let folder = root().join("rubrics").join(AWARD);
    let mut def: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("award.json")).unwrap()).unwrap();
    def.as_object_mut().unwrap().remove("rounds");
    std::fs::write(rubric.path().join("award.json"), def.to_string()).unwrap();
    std::fs::create_dir_all(rubric.path().join("plugins")).unwrap();
    for p in def["plugins"].as_array().unwrap() {
        let path = p["path"].as_str().unwrap();
        std::fs::copy(folder.join(path), rubric.path().join(path)).unwrap();
    }
    create_award(server, rubric.path());
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/publish"), &admin, &json!({}))
            .0,
        201
    );
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        200
    );
    let applicant = server.key("integrator", None);
    let expected_eligibility: BTreeMap<String, String> = {
        let mut r = csv::Reader::from_path(
            root().join("examples/seoul-smart-city-prize-2023/expected/eligibility.csv"),
        )
        .unwrap();
        r.records()
            .map(|x| x.unwrap())
            .map(|x| (x[0].to_owned(), x[1].to_owned()))
            .collect()
    };
    for app in example("applications.json").as_array().unwrap() {
        let (status, v) = server.post(&format!("/v1/awards/{AWARD}/applications"), &applicant, app);
        assert_eq!(status, 201, "{v}");
        let id = app["id"].as_str().unwrap();
        assert_eq!(v["eligibility"]["status"], expected_eligibility[id], "{id}");
    }
    let marks = example("marks.json");
    for r in marks["review_decisions"].as_array().unwrap() {
        let path = format!(
            "/v1/awards/{AWARD}/applications/{}/review",
            r["application"].as_str().unwrap()
        );
        assert_eq!(
            server
                .post(
                    &path,
                    &admin,
                    &json!({ "eligible": r["eligible"], "reason": r["reason"] })
                )
                .0,
            200
        );
    }
    let (status, v) = server.put(
        &format!("/v1/awards/{AWARD}/special-mentions"),
        &admin,
        &marks["special_mentions"],
    );
    assert_eq!(status, 200, "{v}");
    // Assign each judge what they marked in the example, then let them mark it.
    let mut by_judge: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for e in marks["evaluations"].as_array().unwrap() {
        by_judge
            .entry(e["judge"].as_str().unwrap().to_owned())
            .or_default()
            .push(e);
    }
    assert_eq!(by_judge.len(), 7);
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/close"), &admin, &json!({}))
            .0,
        200
    );
    // The award without rounds judges in one implicit round; judges assigned by hand.
    let (status, v) = server.post(
        &format!("/v1/awards/{AWARD}/rounds/judging/open"),
        &admin,
        &json!({}),
    );
    assert_eq!(status, 200, "{v}");
    for (judge, evaluations) in &by_judge {
        let registration = json!({ "id": judge, "name": judge });
        assert_eq!(
            server
                .put(
                    &format!("/v1/awards/{AWARD}/judges/{judge}"),
                    &admin,
                    &registration
                )
                .0,
            200
        );
        let apps: Vec<&Value> = evaluations.iter().map(|e| &e["application"]).collect();
        let (status, v) = server.put(
            &format!("/v1/awards/{AWARD}/rounds/judging/assignments/{judge}"),
            &admin,
            &json!({ "applications": apps, "reason": "as in the example" }),
        );
        assert_eq!(status, 200, "{v}");
        let key = server.key("judge", Some(judge));
        for e in evaluations {
            let path = format!(
                "/v1/awards/{AWARD}/rounds/judging/marks/{}",
                e["application"].as_str().unwrap()
            );
            let (status, v) = server.put(&path, &key, &json!({ "marks": e["marks"] }));
            assert_eq!(status, 200, "{v}");
        }
    }
    let (status, closed) = server.post(
        &format!("/v1/awards/{AWARD}/rounds/judging/close"),
        &admin,
        &json!({}),
    );
    assert_eq!(status, 200, "close: {closed}");
    // An entrant nobody marked cannot be ranked: the rule does not advance silently without
    // it, but names it, and goes on only with the administrator's reason.
    let marked: std::collections::BTreeSet<&str> = marks["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["application"].as_str())
        .collect();
    let unmarked: Vec<&str> = closed["entrants"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|a| !marked.contains(a))
        .collect();
    let advance = format!("/v1/awards/{AWARD}/rounds/judging/advance");
    if !unmarked.is_empty() {
        let (status, v) = server.post(&advance, &admin, &json!({}));
        assert_eq!(status, 409, "{v}");
        for a in &unmarked {
            assert!(v["detail"].as_str().unwrap().contains(a), "{a}: {v}");
        }
    }
    let (status, v) = server.post(
        &advance,
        &admin,
        &json!({ "override_reason": "the example leaves these unmarked on purpose" }),
    );
    assert_eq!(status, 200, "advance: {v}");
}

#[test]
fn the_seoul_prize_runs_its_whole_life_over_http() {
    let data = tempfile::tempdir().unwrap();
    let no_rubrics = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), no_rubrics.path());
    let admin = server.admin().to_owned();
    run_prize(&server);

    // Results: computed from the round, equal to the independent reference.
    let (status, summary) = server.post(&format!("/v1/awards/{AWARD}/results"), &admin, &json!({}));
    assert_eq!(status, 201, "{summary}");
    let (_, full) = server.get(&format!("/v1/awards/{AWARD}/results"), &admin);
    assert_eq!(full["results_sha256"], summary["results_sha256"]);
    let expected = expected_results();
    let mut reproduced = 0;
    for a in full["results"]["applications"].as_array().unwrap() {
        let Some(p) = a["rounds"][0]["rank"].as_u64() else {
            continue;
        };
        let (rank, score) = &expected[a["application"].as_str().unwrap()];
        assert_eq!(
            (p.to_string(), a["rounds"][0]["score"].as_str().unwrap()),
            (rank.clone(), score.as_str()),
            "{a}"
        );
        reproduced += 1;
    }
    assert_eq!(reproduced, expected.len());
    println!(
        "{reproduced}/{} results reproduced over HTTP",
        expected.len()
    );
    let mentions: usize = full["results"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["special_mentions"].as_array().unwrap().len())
        .sum();
    assert_eq!(mentions, 2);
    // Recomputing gives the same bytes.
    let (_, again) = server.post(&format!("/v1/awards/{AWARD}/results"), &admin, &json!({}));
    assert_eq!(again["results_sha256"], summary["results_sha256"]);
    assert_eq!(again["seq"], 2);

    // CSV export: one row per application.
    let (status, csv) = server.get(&format!("/v1/awards/{AWARD}/results.csv"), &admin);
    assert_eq!(status, 200);
    let rows = csv.as_str().unwrap().lines().count();
    assert_eq!(rows, 1 + 72, "{csv}");

    // Judges see only their applications, without personal or hidden fields.
    let kim = server.key("judge", Some("judge-kim"));
    let (_, listed) = server.get(&format!("/v1/awards/{AWARD}/applications"), &kim);
    let (_, work) = server.get("/v1/me/work", &kim);
    let assigned: BTreeSet<&str> = work["rounds"][0]["assigned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        work["rounds"][0]["due"].as_array().unwrap().is_empty(),
        "{work}"
    );
    let seen: BTreeSet<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(seen, assigned);
    for a in listed.as_array().unwrap() {
        let fields = &a["application"]["fields"];
        assert!(
            fields.get("contact").is_none() && fields.get("applicant_name").is_none(),
            "{a}"
        );
        assert!(a.get("eligibility").is_none());
    }
    let other = example("applications.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .find(|id| !assigned.contains(id.as_str()))
        .unwrap();
    assert_eq!(
        server
            .get(&format!("/v1/awards/{AWARD}/applications/{other}"), &kim)
            .0,
        404,
        "an application not assigned to the judge is, to them, not there"
    );
    assert_eq!(
        server
            .put(
                &format!("/v1/awards/{AWARD}/rounds/judging/marks/{other}"),
                &kim,
                &json!({ "marks": {} })
            )
            .0,
        409,
        "the round is closed: its marks are locked"
    );
    // The administrator sees personal data; the auditor does not.
    let (_, a1) = server.get(&format!("/v1/awards/{AWARD}/applications/app-001"), &admin);
    assert_eq!(
        a1["application"]["fields"]["contact"]["email"],
        "contact001@example.org"
    );
    let auditor = server.key("auditor", None);
    let (_, a1) = server.get(
        &format!("/v1/awards/{AWARD}/applications/app-001"),
        &auditor,
    );
    assert!(a1["application"]["fields"].get("contact").is_none());

    // Backup: export, then restore into a second server with the same data key.
    let (status, export) = server.get(&format!("/v1/awards/{AWARD}/export"), &admin);
    assert_eq!(status, 200);
    let key_text = std::fs::read_to_string(data.path().join("laurel.key")).unwrap();
    server.stop();

    // Nothing personal is on disk in clear.
    let emails: Vec<String> = example("applications.json")
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["fields"]["contact"]["email"].as_str().map(str::to_owned))
        .collect();
    assert!(emails.len() > 50);
    let out = Command::new("grep")
        .args(["-r", "-l", "-F", "-e", &emails[0]])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        out.stdout.is_empty(),
        "found in {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = Command::new("grep")
        .args(["-r", "-c", "-F", "example.org"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .all(|l| l.ends_with(":0")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The audit chain verifies.
    let (code, out) = support::audit_verify(data.path());
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("chain intact"), "{out}");

    let data2 = tempfile::tempdir().unwrap();
    let restored = Server::start_with(
        data2.path(),
        no_rubrics.path(),
        &[("LAUREL_DATA_KEY", key_text.trim())],
    );
    let (status, v) = restored.call(
        "POST",
        "/v1/import",
        Some(restored.admin()),
        Some(export.to_string().as_bytes()),
    );
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["imported"]["applications"], 72);
    let (status, recomputed) = restored.post(
        &format!("/v1/awards/{AWARD}/results"),
        restored.admin(),
        &json!({}),
    );
    assert_eq!(status, 201, "{recomputed}");
    assert_eq!(
        recomputed["results_sha256"], summary["results_sha256"],
        "restored data recomputes to the same bytes"
    );
    let (_, a1) = restored.get(
        &format!("/v1/awards/{AWARD}/applications/app-001"),
        restored.admin(),
    );
    assert_eq!(
        a1["application"]["fields"]["contact"]["email"],
        "contact001@example.org"
    );
    assert_eq!(
        restored
            .call(
                "POST",
                "/v1/import",
                Some(restored.admin()),
                Some(export.to_string().as_bytes())
            )
            .0,
        409
    );
}

#[test]
fn audit_verify_detects_an_altered_record() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    server.key("auditor", None);
    let (_, audit) = server.get("/v1/audit", &admin);
    let records = audit.as_array().unwrap();
    assert!(records.len() >= 4, "{audit}");
    assert_eq!(records[0]["prev"], "0".repeat(64));
    assert_eq!(records[1]["prev"], records[0]["hash"]);
    server.stop();
    {
        let db = sled::open(data.path().join("db")).unwrap();
        let tree = db.open_tree("audit").unwrap();
        let key = 2u64.to_be_bytes();
        let mut record: Value = serde_json::from_slice(&tree.get(key).unwrap().unwrap()).unwrap();
        record["actor"] = json!("someone else");
        tree.insert(key, serde_json::to_vec(&record).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let (code, out) = support::audit_verify(data.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("record 2 was altered"), "{out}");
    {
        let db = sled::open(data.path().join("db")).unwrap();
        db.open_tree("audit")
            .unwrap()
            .remove(3u64.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let (_, out) = support::audit_verify(data.path());
    assert!(out.contains("record 3 is missing"), "{out}");
}

/// The server's log goes to a pipe nobody reads (a stuck log collector): once the pipe and
/// the log's queue are full, requests are still answered, the lines dropped are counted in
/// `/metrics`, and when the pipe is read again the log says how many were dropped and goes on.
#[test]
fn a_log_reader_that_stops_reading_stalls_no_request() {
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(
        data.path(),
        &root().join("rubrics"),
        &[
            ("LAUREL_TEST_STDERR_PIPE", "1"),
            ("LAUREL_LOG_FORMAT", "json"),
        ],
    );
    let admin = server.admin().to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into();
    // Each request logs a line of about 200 bytes: a 64 KiB pipe holds a few hundred, the
    // log's queue a few thousand more; twice as many lines as both.
    let requests = 2 * (8_192 + 1_000);
    let health = format!("{}/v1/health", server.url);
    for i in 0..requests {
        let status = agent
            .get(&health)
            .call()
            .unwrap_or_else(|e| panic!("request {i} of {requests}: {e}"))
            .status()
            .as_u16();
        assert_eq!(status, 200, "request {i}");
    }
    let metrics = |agent: &ureq::Agent| -> u64 {
        let text = agent
            .get(format!("{}/metrics", server.url))
            .header("Authorization", &format!("Bearer {admin}"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("laurel_log_lines_dropped_total "))
            .unwrap_or_else(|| panic!("no dropped lines' count in:\n{text}"))
            .trim()
            .parse()
            .unwrap()
    };
    let dropped = metrics(&agent);
    assert!(
        dropped >= (requests - 8_192 - 1_000) as u64,
        "{dropped} lines dropped of {requests}"
    );
    // The pipe read again: the lines waiting come out, then a warning with the count.
    let stderr = server.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = std::time::Instant::now();
    let warning = loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the log said nothing of its dropped lines");
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("log lines were dropped"))
        {
            break v;
        }
        assert!(started.elapsed().as_secs() < 60);
    };
    assert_eq!(warning["level"], "WARN");
    let said = warning["fields"]["dropped_in_all"].as_u64().unwrap();
    assert!(said >= dropped, "{said} said, {dropped} counted before");
    // And the log goes on: a request's line after the warning.
    let status = agent.get(&health).call().unwrap().status().as_u16();
    assert_eq!(status, 200);
    let line = loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("no line after the warning");
        if line.contains("\"request\"") {
            break line;
        }
    };
    assert!(line.contains("/v1/health"), "{line}");
}

#[test]
fn metrics_count_requests_by_route_and_commits_for_prometheus() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let (status, v) = server.post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}));
    assert_eq!(status, 200, "{v}");
    let integrator = server.key("integrator", None);
    let apps = example("applications.json");
    for a in &apps.as_array().unwrap()[..3] {
        let (status, v) = server.post(&format!("/v1/awards/{AWARD}/applications"), &integrator, a);
        assert_eq!(status, 201, "{v}");
    }
    let get = |key: Option<&str>| -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut r = agent.get(format!("{}/metrics", server.url));
        if let Some(k) = key {
            r = r.header("Authorization", &format!("Bearer {k}"));
        }
        let mut response = r.call().unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap(),
        )
    };
    assert_eq!(get(None).0, 401);
    assert_eq!(get(Some(&integrator)).0, 403);
    let (status, text) = get(Some(&admin));
    assert_eq!(status, 200, "{text}");
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no `{series}` in:\n{text}"))
    };
    // By the route's template, never its filled path.
    assert_eq!(
        value(
            "laurel_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/awards/{award}/applications\",status=\"2xx\"}"
        ),
        3.0
    );
    assert!(
        !text.contains(AWARD),
        "no series per award or application id"
    );
    // Each submission committed (the open and the keys too).
    assert!(value("laurel_store_commit_duration_seconds_count") >= 5.0);
    // Every histogram's buckets grow to its count.
    let mut last: Option<(String, f64)> = None;
    for l in text.lines().filter(|l| l.contains("_bucket{")) {
        let (series, v) = l.rsplit_once(' ').unwrap();
        let name = series
            .split(",le=")
            .next()
            .unwrap()
            .split("{le=")
            .next()
            .unwrap();
        let v: f64 = v.parse().unwrap();
        if let Some((prev_name, prev)) = &last
            && prev_name == name
        {
            assert!(v >= *prev, "{l}");
        }
        last = Some((name.to_owned(), v));
    }
    assert!(value("laurel_uptime_seconds") >= 0.0);
    // The log (read, here by /dev/null) lost no line.
    assert_eq!(value("laurel_log_lines_dropped_total"), 0.0);
    // Reads timed by operation; commits share flushes (never more flushes than commits).
    assert!(value("laurel_store_read_duration_seconds_count{op=\"get\"}") > 0.0);
    let flushes = value("laurel_store_flushes_total");
    assert!(flushes >= 1.0 && flushes <= value("laurel_store_commits_total"));
    // The submissions' eligibility ran on the plugin threads, none refused.
    assert!(value("laurel_plugin_jobs_started_total") >= 3.0);
    assert_eq!(value("laurel_plugin_jobs_refused_total"), 0.0);
    assert_eq!(
        value("laurel_outbox_attempts_total{result=\"gave_up\"}"),
        0.0
    );
    assert_eq!(value("laurel_outbox_lag_seconds"), 0.0);
    // The committed dashboard reads only series the server gives.
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/monitoring/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    let given: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let mut read = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for name in expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("laurel_"))
            {
                assert!(
                    given.contains(name),
                    "the dashboard reads `{name}`, which /metrics does not give"
                );
                read += 1;
            }
        }
    }
    assert!(read >= 15, "{read}");
}
