//! The sandbox holds on the server and on the command line: hostile plugins from
//! `plugins/fixtures/` run through `POST /v1/evaluate`, publication, `laurel plugin run` and
//! `laurel score`; the server stays up, answers its other routes meanwhile, answers a request
//! whose plugins overrun at its deadline, and gives its memory back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest;
use support::{Server, root};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(root().join("plugins/fixtures").join(name)).unwrap()
}

/// A one-category award whose `hook` is served by the fixture `plugin`.
fn award(plugin: &str, hook: &str, limits: Value) -> Value {
    let kind = if plugin.ends_with(".wat") {
        "wasm"
    } else {
        "rhai"
    };
    let mut def = json!({
        "format_version": "1.1", "id": "attack", "name": "Attack", "edition": "1",
        "languages": {"default": "en", "available": ["en"]},
        "timeline": {"time_zone": "UTC", "opens": "2026-01-01T00:00:00Z", "closes": "2026-02-01T00:00:00Z", "results": "2026-03-01T00:00:00Z"},
        "applicant_types": [{"id": "team", "name": "Team"}],
        "form": {"fields": [{"id": "title", "type": "short_text", "label": "Title"}]},
        "scales": [{"id": "ten", "min": 0, "max": 10}],
        "categories": [{"id": "main", "name": "Main", "applicant_types": ["team"], "winners": 1,
            "criteria": [{"id": "c", "name": "C", "weight": 1, "indicators": [{"id": "m", "name": "m", "weight": 1}]}]}],
        "plugins": [{"id": "p", "kind": kind, "path": plugin,
            "sha256": hex::encode(sha2::Sha256::digest(fixture(plugin))), "hooks": [hook], "limits": limits}],
        "scoring": {"scale": "ten", "aggregation": {"method": "mean"}}
    });
    match hook {
        "score" => def["scoring"]["score_plugin"] = json!("p"),
        "eligibility" => {
            def["eligibility"] =
                json!([{"id": "r", "message": "no", "require": {"plugin": {"plugin": "p"}}}])
        }
        _ => {}
    }
    def
}

fn applications(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"id": format!("a{i}"), "category": "main", "applicant_type": "team", "fields": {"title": "t"}}))
            .collect(),
    )
}

fn marks(n: usize) -> Value {
    json!({"evaluations": (0..n).map(|i| json!({"judge": "j", "application": format!("a{i}"), "marks": {"m": 5}})).collect::<Vec<_>>()})
}

fn evaluate(
    server: &Server,
    key: &str,
    plugin: &str,
    hook: &str,
    limits: Value,
    n: usize,
) -> (u16, Value) {
    let files =
        json!({ plugin: base64::engine::general_purpose::STANDARD.encode(fixture(plugin)) });
    server.post(
        "/v1/evaluate",
        key,
        &json!({"definition": award(plugin, hook, limits), "files": files,
                "applications": applications(n), "marks": marks(n)}),
    )
}

/// Every unscored application's reason in a results document.
fn reasons(results: &Value) -> Vec<String> {
    results["categories"][0]["unscored"]
        .as_array()
        .map(|u| {
            u.iter()
                .map(|x| x["reason"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn hostile_plugins_cannot_kill_stall_or_exhaust_the_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--plugin-deadline-ms", "4000"],
    );
    let admin = server.admin().to_owned();
    let integrator = server.key("integrator", None);
    let baseline = server.rss_kib();
    let max = json!({"timeout_ms": 2000, "operations": 50_000_000, "memory_bytes": 268_435_456, "output_bytes": 1_048_576, "call_depth": 48});

    // The quoted stack attack: a legal script that once aborted the (debug) server.
    let (status, v) = evaluate(
        &server,
        &integrator,
        "expression-recursion.rhai",
        "score",
        json!({}),
        3,
    );
    assert_eq!(status, 200, "{v}");
    // Each attack ends as the named limit, per application; the batch goes on.
    for (plugin, limit) in [
        ("nested-output.rhai", "output depth"),
        ("nested-output.wat", "output depth"),
        ("pad-bomb.rhai", "size"),
        ("replace-bomb.rhai", "size"),
        ("shared-strings.rhai", "size"),
        ("map-keys.rhai", "memory"),
        ("curry-bomb.rhai", "memory"),
    ] {
        let (status, v) = evaluate(&server, &integrator, plugin, "score", max.clone(), 2);
        assert_eq!(status, 200, "{plugin}: {v}");
        let why = reasons(&v);
        assert_eq!(why.len(), 2, "{plugin}: {v}");
        assert!(why.iter().all(|r| r.contains(limit)), "{plugin}: {why:?}");
    }
    // Numbers read exactly: 9.99999999999999999999 stays below 10 (a double made it 10).
    let (status, v) = evaluate(
        &server,
        &integrator,
        "exact-number.wat",
        "score",
        json!({}),
        1,
    );
    assert_eq!(status, 200, "{v}");
    // The plugin's score is kept exactly in the trace; the score shown is rounded to the
    // precision the scale makes sensible.
    assert_eq!(
        v["categories"][0]["ranking"][0]["trace"]["plugin"]["score"],
        "9.99999999999999999999"
    );
    assert_eq!(v["categories"][0]["ranking"][0]["score"], "10.00");
    // Eligibility read strictly: a duplicate key is malformed output, so review, never eligible.
    let (status, v) = evaluate(
        &server,
        &integrator,
        "duplicate-keys.wat",
        "eligibility",
        json!({}),
        1,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["eligibility"][0]["status"], "needs_review", "{v}");
    let details = v["eligibility"][0]["failures"][0]["details"].to_string();
    assert!(details.contains("duplicate key `eligible`"), "{details}");

    // Slow plugins on the plugin threads; health answers at once meanwhile.
    let slow = json!({"timeout_ms": 1000, "operations": 50_000_000});
    let started = Instant::now();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let url = server.url.clone();
            let key = integrator.clone();
            let body = json!({"definition": award("slow-loop.rhai", "score", slow.clone()),
                "files": {"slow-loop.rhai": base64::engine::general_purpose::STANDARD.encode(fixture("slow-loop.rhai"))},
                "applications": applications(6), "marks": marks(6)});
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut r = agent
                    .post(&format!("{url}/v1/evaluate"))
                    .header("Authorization", &format!("Bearer {key}"))
                    .send(body.to_string())
                    .unwrap();
                let status = r.status().as_u16();
                let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
                (status, v, Instant::now())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..5 {
        let t = Instant::now();
        assert_eq!(server.call("GET", "/v1/health", None, None).0, 200);
        assert_eq!(server.get("/v1/awards", &admin).0, 200);
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "health took {:?}",
            t.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for w in workers {
        let (status, v, done) = w.join().unwrap();
        assert_eq!(status, 200, "{v}");
        // Six applications of one second each, two such requests on one award's lane, but each
        // request's plugin work has 4 s: each is answered by its deadline, every application
        // carrying its plugin's error.
        assert!(
            done - started < Duration::from_secs(10),
            "{:?}",
            done - started
        );
        let why = reasons(&v);
        assert_eq!(why.len(), 6, "{v}");
        assert!(why.iter().any(|r| r.contains("deadline")), "{why:?}");
        assert!(
            why.iter()
                .all(|r| r.contains("time") || r.contains("deadline")),
            "{why:?}"
        );
    }

    // A plugin that does not compile is refused at publication, located in its file.
    let broken = b"fn score(input) {\n  #{ score: }\n}\n".to_vec();
    let sha = hex::encode(sha2::Sha256::digest(&broken));
    assert_eq!(
        server
            .call(
                "PUT",
                &format!("/v1/files/{sha}"),
                Some(&admin),
                Some(&broken)
            )
            .0,
        201
    );
    let mut def = award("slow-loop.rhai", "score", json!({}));
    def["plugins"][0]["path"] = json!("broken.rhai");
    def["plugins"][0]["sha256"] = json!(sha);
    let (status, v) = server.post("/v1/awards", &admin, &def);
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["errors"][0]["source"]["file"], "broken.rhai", "{v}");
    assert_eq!(v["errors"][0]["source"]["line"], 2, "{v}");

    // A module declaring more functions than allowed is refused before it is compiled.
    let mut wat = String::from("(module (memory (export \"memory\") 1)");
    for _ in 0..12_000 {
        wat.push_str("(func (result i32) (i32.const 0))");
    }
    wat.push(')');
    let mut def = award("slow-loop.rhai", "score", json!({}));
    def["plugins"][0]["kind"] = json!("wasm");
    def["plugins"][0]["path"] = json!("many.wat");
    def["plugins"][0]["sha256"] = json!(hex::encode(sha2::Sha256::digest(wat.as_bytes())));
    let t = Instant::now();
    let (status, v) = server.post(
        "/v1/evaluate",
        &integrator,
        &json!({"definition": def, "files": {"many.wat": base64::engine::general_purpose::STANDARD.encode(&wat)},
                "applications": applications(1), "marks": marks(1)}),
    );
    assert_eq!(status, 422, "{v}");
    assert!(v["errors"].to_string().contains("functions limit"), "{v}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());

    // Memory comes back: within 50 MiB of where it started after every attack (each of which
    // held up to 256 MiB). A plugin thread gives it back just after answering, so wait a little.
    let mut after = server.rss_kib();
    for _ in 0..20 {
        if after < baseline + 50 * 1024 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        after = server.rss_kib();
    }
    eprintln!("resident memory: {baseline} KiB before, {after} KiB after");
    assert!(
        after < baseline + 50 * 1024,
        "resident memory {baseline} KiB before, {after} KiB after"
    );
    assert_eq!(server.call("GET", "/v1/health", None, None).0, 200);
}

fn laurel(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_laurel"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn hostile_plugins_are_held_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let max = json!({"timeout_ms": 2000, "operations": 50_000_000});
    for (plugin, hook, input, expect) in [
        (
            "expression-recursion.rhai",
            "score",
            json!({"application": {"id": "a", "category": "main", "applicant_type": "team", "fields": {}}, "total": "5", "criteria": {}, "judges": 1}),
            "\"score\"",
        ),
        (
            "pad-bomb.rhai",
            "score",
            json!({"application": {"id": "a", "category": "main", "applicant_type": "team", "fields": {}}, "total": "5", "criteria": {}, "judges": 1}),
            "size",
        ),
        (
            "nested-output.rhai",
            "score",
            json!({"application": {"id": "a", "category": "main", "applicant_type": "team", "fields": {}}, "total": "5", "criteria": {}, "judges": 1}),
            "output depth",
        ),
        (
            "off-scale.wat",
            "score",
            json!({"application": {"id": "a", "category": "main", "applicant_type": "team", "fields": {}}, "total": "5", "criteria": {}, "judges": 1}),
            "off the scale",
        ),
        (
            "terminal-escapes.rhai",
            "eligibility",
            json!({"application": {"id": "a", "category": "main", "applicant_type": "team", "fields": {}}}),
            "ERASED",
        ),
    ] {
        let rubric = dir.path().join(plugin.replace('.', "-"));
        std::fs::create_dir_all(&rubric).unwrap();
        std::fs::write(rubric.join(plugin), fixture(plugin)).unwrap();
        std::fs::write(
            rubric.join("award.json"),
            serde_json::to_string_pretty(&award(plugin, hook, max.clone())).unwrap(),
        )
        .unwrap();
        let (code, out, err) = laurel(&[
            "plugin",
            "run",
            rubric.to_str().unwrap(),
            "p",
            hook,
            "--input",
            &input.to_string(),
        ]);
        assert!(
            out.contains(expect) || err.contains(expect),
            "{plugin}: {code:?} {out} {err}"
        );
        // Nothing raw reaches the terminal.
        assert!(
            !out.contains('\u{1b}') && !err.contains('\u{1b}'),
            "{plugin}: {out:?} {err:?}"
        );
    }
    // A batch with a plugin that fails on every application: each is unscored with the
    // limit named; the command does not crash.
    let rubric = dir.path().join("batch");
    std::fs::create_dir_all(&rubric).unwrap();
    std::fs::write(rubric.join("map-keys.rhai"), fixture("map-keys.rhai")).unwrap();
    std::fs::write(
        rubric.join("award.json"),
        serde_json::to_string_pretty(&award(
            "map-keys.rhai",
            "score",
            json!({"memory_bytes": 8_388_608, "operations": 50_000_000, "timeout_ms": 2000}),
        ))
        .unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("apps.json"), applications(3).to_string()).unwrap();
    std::fs::write(dir.path().join("marks.json"), marks(3).to_string()).unwrap();
    let (code, out, err) = laurel(&[
        "score",
        rubric.to_str().unwrap(),
        "--applications",
        dir.path().join("apps.json").to_str().unwrap(),
        "--marks",
        dir.path().join("marks.json").to_str().unwrap(),
    ]);
    assert!(code.is_some(), "killed by a signal: {err}");
    assert_eq!(
        out.matches("exceeded its memory limit").count(),
        3,
        "{out}{err}"
    );
}

/// Evaluates a plugin-free award (the civic fellowship shipped with Laurel) and says how long
/// it took: the latency of another award's work while attacks run.
fn plain_evaluation(url: &str, key: &str) -> (u16, Duration) {
    let body = json!({"award": {"id": "civic-tech-fellowship-2025"}, "applications": [], "marks": {"evaluations": []}});
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let t = Instant::now();
    let status = agent
        .post(&format!("{url}/v1/evaluate"))
        .header("Authorization", &format!("Bearer {key}"))
        .send(body.to_string())
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    (status, t.elapsed())
}

#[test]
fn attacks_on_the_interpreter_leave_the_server_serving_and_its_memory_comes_back() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--plugin-deadline-ms", "8000"],
    );
    let integrator = server.key("integrator", None);
    let max = json!({"timeout_ms": 2000, "operations": 50_000_000, "memory_bytes": 268_435_456, "output_bytes": 1_048_576, "call_depth": 48});
    // Warm: the interpreter loaded, an award served; then the resident memory to come back to.
    let (status, v) = evaluate(
        &server,
        &integrator,
        "weighted-score.rhai",
        "score",
        json!({}),
        2,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(plain_evaluation(&server.url, &integrator).0, 200);
    let idle = server.rss_kib();

    // Another award is served meanwhile, at its usual latency.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (url, key, stop) = (server.url.clone(), integrator.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut slowest = Duration::ZERO;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, took) = plain_evaluation(&url, &key);
                assert_eq!(status, 200);
                slowest = slowest.max(took);
                std::thread::sleep(Duration::from_millis(50));
            }
            slowest
        })
    };
    // Each attack ends as a typed error of each application; the server answers 200.
    for (plugin, ends) in [
        ("closure-cycle.rhai", &["the rhai interpreter stopped"][..]),
        ("fn-chain.rhai", &["stack limit", "memory limit"][..]),
        ("pad-fnptr.rhai", &["memory limit"][..]),
        (
            "closure-json.rhai",
            &["memory limit", "size limit", "time limit"][..],
        ),
    ] {
        let mut body = json!({"definition": award(plugin, "score", max.clone()),
            "files": {plugin: base64::engine::general_purpose::STANDARD.encode(fixture(plugin))},
            "applications": applications(2), "marks": marks(2)});
        body["applications"][0]["fields"]["title"] = json!("t");
        let (status, v) = server.post("/v1/evaluate", &integrator, &body);
        assert_eq!(status, 200, "{plugin}: {v}");
        let why = reasons(&v);
        assert_eq!(why.len(), 2, "{plugin}: {v}");
        assert!(
            why.iter().all(|r| ends.iter().any(|e| r.contains(e))),
            "{plugin}: {why:?}"
        );
    }
    // A panic of the interpreter stays with its application: the others are scored.
    let mut apps = applications(3);
    apps[1]["id"] = json!("bad");
    let mut m = marks(3);
    m["evaluations"][1]["application"] = json!("bad");
    let (status, v) = server.post(
        "/v1/evaluate",
        &integrator,
        &json!({"definition": award("panic-one.rhai", "score", json!({})),
            "files": {"panic-one.rhai": base64::engine::general_purpose::STANDARD.encode(fixture("panic-one.rhai"))},
            "applications": apps, "marks": m}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["categories"][0]["ranking"].as_array().unwrap().len(),
        2,
        "{v}"
    );
    let unscored = &v["categories"][0]["unscored"];
    assert_eq!(unscored.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(unscored[0]["application"], "bad");
    assert!(
        unscored[0]["reason"].as_str().unwrap().contains("panicked"),
        "{v}"
    );
    // A script that leaks a reference cycle on every call, 2,000 times.
    for _ in 0..20 {
        let (status, v) = evaluate(
            &server,
            &integrator,
            "cycle-leak.rhai",
            "score",
            json!({}),
            100,
        );
        assert_eq!(status, 200, "{v}");
        assert!(reasons(&v).is_empty(), "{v}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let slowest = watcher.join().unwrap();
    eprintln!("the other award's slowest answer during the attacks: {slowest:?}");
    assert!(slowest < Duration::from_secs(2), "{slowest:?}");
    // Memory comes back: within 64 MiB of idle within 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = server.rss_kib();
    while after > idle + 64 * 1024 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        after = server.rss_kib();
    }
    eprintln!("resident memory: {idle} KiB idle, {after} KiB after the attacks");
    assert!(
        after <= idle + 64 * 1024,
        "{idle} KiB idle, {after} KiB after"
    );
}

#[test]
fn plugin_work_is_shared_by_lanes_and_a_full_lane_answers_503_at_once() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--plugin-deadline-ms", "6000"],
    );
    let integrator = server.key("integrator", None);
    assert_eq!(plain_evaluation(&server.url, &integrator).0, 200);
    // One award floods its lane with slow plugin work (each request 2 applications of ~1 s).
    let slow = json!({"timeout_ms": 1000, "operations": 50_000_000});
    let body = json!({"definition": award("slow-loop.rhai", "score", slow),
        "files": {"slow-loop.rhai": base64::engine::general_purpose::STANDARD.encode(fixture("slow-loop.rhai"))},
        "applications": applications(2), "marks": marks(2)})
    .to_string();
    let flood: Vec<_> = (0..80)
        .map(|_| {
            let (url, key, body) = (server.url.clone(), integrator.clone(), body.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(120)))
                    .build()
                    .into();
                let t = Instant::now();
                let r = agent
                    .post(&format!("{url}/v1/evaluate"))
                    .header("Authorization", &format!("Bearer {key}"))
                    .send(body);
                let (status, retry) = r
                    .map(|r| {
                        (
                            r.status().as_u16(),
                            r.headers().get("retry-after").is_some(),
                        )
                    })
                    .unwrap_or((0, false));
                (status, retry, t.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // Meanwhile: a plugin-free award, and another award's plugin (its own lane), are served.
    for _ in 0..5 {
        let (status, took) = plain_evaluation(&server.url, &integrator);
        assert_eq!(status, 200);
        assert!(
            took < Duration::from_secs(2),
            "plugin-free work waited {took:?}"
        );
    }
    let mut other = award("weighted-score.rhai", "score", json!({}));
    other["id"] = json!("another-award");
    let t = Instant::now();
    let (status, v) = server.post(
        "/v1/evaluate",
        &integrator,
        &json!({"definition": other,
            "files": {"weighted-score.rhai": base64::engine::general_purpose::STANDARD.encode(fixture("weighted-score.rhai"))},
            "applications": applications(2), "marks": marks(2)}),
    );
    assert_eq!(status, 200, "{v}");
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "another award's plugin work waited {:?}",
        t.elapsed()
    );
    let results: Vec<(u16, bool, Duration)> =
        flood.into_iter().map(|h| h.join().unwrap()).collect();
    // The flooding award's lane holds a bounded queue: beyond it, 503 with Retry-After, at once.
    let refused: Vec<_> = results.iter().filter(|r| r.0 == 503).collect();
    assert!(!refused.is_empty(), "{results:?}");
    assert!(
        refused.iter().all(|r| r.1 && r.2 < Duration::from_secs(5)),
        "{refused:?}"
    );
    assert!(
        results.iter().all(|r| r.0 == 200 || r.0 == 503),
        "{results:?}"
    );
}

#[test]
fn anonymous_validation_is_budgeted_by_address_and_bounded() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--anonymous-rate-limit", "5"],
    );
    // A rubric of 2,000 fields and 2,000 rules each reading a misspelt field: every unknown
    // name would be compared with every field for a suggestion (four million comparisons);
    // the suggestions have a budget, and every problem is still reported.
    let mut def = award("slow-loop.rhai", "score", json!({}));
    def.as_object_mut().unwrap().remove("plugins");
    def["scoring"]
        .as_object_mut()
        .unwrap()
        .remove("score_plugin");
    def["form"]["fields"] = Value::Array(
        (0..2_000)
            .map(|i| json!({"id": format!("field_name_{i}"), "type": "number", "label": "x"}))
            .collect(),
    );
    def["eligibility"] = Value::Array(
        (0..2_000)
            .map(|i| json!({"id": format!("r{i}"), "message": "m", "require": {"formula": format!("fields.field_nmae_{i} > 0")}}))
            .collect(),
    );
    let text = def.to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let send = |header: Option<(&str, String)>, body: &str| {
        let mut r = agent.post(&format!("{}/v1/validate", server.url));
        if let Some((name, value)) = header {
            r = r.header(name, &value);
        }
        let mut r = r.send(body.to_owned()).unwrap();
        let status = r.status().as_u16();
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default())
            .unwrap_or_default();
        (status, v)
    };
    let t = Instant::now();
    let (status, v) = send(None, &text);
    assert_eq!(status, 200);
    assert_eq!(v["valid"], false);
    // Every unknown name is reported, whatever the suggestions' budget.
    assert_eq!(v["errors"], 2_000, "{}", v["diagnostics"][0]);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    // Made-up credentials buy no fresh budget: the address has 5 a minute.
    let mut statuses = Vec::new();
    for i in 0..10 {
        let header = match i % 3 {
            0 => Some(("Authorization", format!("Bearer made-up-{i}"))),
            1 => Some(("Cookie", format!("laurel_session=made-up-{i}"))),
            _ => None,
        };
        statuses.push(send(header, "{}").0);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        6,
        "{statuses:?}"
    );
}

/// A binary wasm module with the plugin ABI's exports and `bodies` as extra functions of type
/// `() -> ()` (each body: its locals and code, without the size prefix).
fn module_with(types: usize, bodies: &[Vec<u8>]) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
        out.push(id);
        leb(body.len(), out);
        out.extend_from_slice(body);
    }
    fn name(s: &str, out: &mut Vec<u8>) {
        leb(s.len(), out);
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    // Types: the ABI's three, `() -> ()`, then `extra` distinct ones.
    let mut t = Vec::new();
    leb(4 + types, &mut t);
    t.extend_from_slice(
        b"\x60\x00\x01\x7f\x60\x01\x7f\x01\x7f\x60\x03\x7f\x7f\x7f\x01\x7e\x60\x00\x00",
    );
    for i in 0..types {
        t.extend_from_slice(b"\x60");
        leb(i % 8 + 1, &mut t);
        t.extend(std::iter::repeat_n(0x7f, i % 8 + 1));
        t.push(0);
    }
    section(1, &t, &mut out);
    let mut f = Vec::new();
    leb(3 + bodies.len(), &mut f);
    f.extend_from_slice(&[0, 1, 2]);
    f.extend(std::iter::repeat_n(3, bodies.len()));
    section(3, &f, &mut out);
    section(5, b"\x01\x00\x01", &mut out);
    let mut e = Vec::new();
    leb(4, &mut e);
    for (n, kind, index) in [
        ("memory", 2u8, 0u8),
        ("laurel_abi_version", 0, 0),
        ("laurel_alloc", 0, 1),
        ("laurel_call", 0, 2),
    ] {
        name(n, &mut e);
        e.push(kind);
        e.push(index);
    }
    section(7, &e, &mut out);
    let mut c = Vec::new();
    leb(3 + bodies.len(), &mut c);
    for abi in [
        &b"\x00\x41\x01\x0b"[..],
        b"\x00\x41\x00\x0b",
        b"\x00\x42\x00\x0b",
    ] {
        leb(abi.len(), &mut c);
        c.extend_from_slice(abi);
    }
    for body in bodies {
        leb(body.len(), &mut c);
        c.extend_from_slice(body);
    }
    section(10, &c, &mut out);
    out
}

/// A function with `locals` i64 locals and as many blocks, each reading and writing them.
fn tangled(locals: usize) -> Vec<u8> {
    let mut b = vec![1];
    let leb = |mut n: usize, out: &mut Vec<u8>| loop {
        let x = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(x);
            break;
        }
        out.push(x | 0x80);
    };
    leb(locals, &mut b);
    b.push(0x7e);
    for i in 0..locals {
        b.extend_from_slice(b"\x02\x40\x20");
        leb(i, &mut b);
        b.extend_from_slice(b"\x50\x0d\x00\x20");
        leb((i * 7) % locals, &mut b);
        b.extend_from_slice(b"\x42\x01\x7c\x21");
        leb((i * 13) % locals, &mut b);
        b.push(0x0b);
    }
    b.push(0x0b);
    b
}

#[test]
fn compiling_hostile_modules_costs_the_server_nothing() {
    let data = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[("LAUREL_CACHE_DIR", cache.path().to_str().unwrap())],
        &[],
    );
    let integrator = server.key("integrator", None);
    let submit = |module: &[u8]| {
        let mut def = award("slow-loop.rhai", "score", json!({}));
        def["plugins"][0]["kind"] = json!("wasm");
        def["plugins"][0]["path"] = json!("m.wasm");
        def["plugins"][0]["sha256"] = json!(hex::encode(sha2::Sha256::digest(module)));
        let t = Instant::now();
        let answer = server.post(
            "/v1/evaluate",
            &integrator,
            &json!({"definition": def, "files": {"m.wasm": base64::engine::general_purpose::STANDARD.encode(module)},
                    "applications": applications(1), "marks": marks(1)}),
        );
        (answer, t.elapsed())
    };
    // Refused before compiling: what made compiling take tens of seconds and gigabytes.
    for (module, limit) in [
        (module_with(300_000, &[]), "types limit"),
        (
            module_with(0, &[tangled(5_000)]),
            "function complexity limit",
        ),
    ] {
        let ((status, v), took) = submit(&module);
        assert_eq!(status, 422, "{v}");
        assert!(v["errors"].to_string().contains(limit), "{limit}: {v}");
        assert!(took < Duration::from_secs(5), "{limit}: {took:?}");
    }
    // What may be compiled is compiled in a child process: 4 MB of code, about 300 MB to
    // compile, leaves the server's memory as it was.
    let before = server.rss_kib();
    let adds: Vec<Vec<u8>> = (0..15)
        .map(|_| {
            let mut b = vec![0, 0x41, 0x01];
            for _ in 0..87_000 {
                b.extend_from_slice(b"\x41\x01\x6a");
            }
            b.extend_from_slice(b"\x1a\x0b");
            b
        })
        .collect();
    let big = module_with(0, &adds);
    assert!(big.len() > 3_900_000, "{}", big.len());
    let ((status, v), _) = submit(&big);
    assert_eq!(status, 200, "{v}");
    let after = server.rss_kib();
    eprintln!("compiling 4 MB of code: the server held {before} KiB before, {after} KiB after");
    assert!(
        after < before + 64 * 1024,
        "{before} KiB before, {after} KiB after"
    );
}

/// Context switches so far of the server's plugin clock thread (Linux).
fn clock_switches(pid: u32) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("laurel-plugin-c") {
            continue;
        }
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    total
}

/// The clock that stops plugin calls at their deadline ticks only while a call may need it: an
/// idle server is not woken by it (it ticked a thousand times a second); and a call that would
/// run for ever, made while the clock sleeps, is still stopped at its time limit.
#[test]
fn the_plugin_clock_sleeps_while_idle_and_still_stops_a_call_at_its_deadline() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(data.path(), &root().join("rubrics"), &[], &[]);
    let integrator = server.key("integrator", None);
    let limits = json!({"timeout_ms": 300, "operations": 50_000_000});
    for round in 0..2 {
        // A call that ends at once: the clock ticks for 100 ms after it, then sleeps.
        let (status, v) = evaluate(
            &server,
            &integrator,
            "counted.rhai",
            "eligibility",
            limits.clone(),
            1,
        );
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["eligibility"][0]["status"], "ineligible", "{v}");
        std::thread::sleep(Duration::from_millis(700));
        let before = clock_switches(server.pid());
        std::thread::sleep(Duration::from_secs(1));
        let woken = clock_switches(server.pid()) - before;
        assert!(
            woken < 20,
            "round {round}: the idle clock was woken {woken} times in a second"
        );
        // A call that counts for ever, with operations to spare: the clock wakes for it, and the
        // call ends at its 300 ms.
        let started = Instant::now();
        let (status, v) = evaluate(
            &server,
            &integrator,
            "slow-loop.rhai",
            "score",
            limits.clone(),
            1,
        );
        let took = started.elapsed();
        assert_eq!(status, 200, "{v}");
        let why = reasons(&v);
        assert_eq!(why.len(), 1, "{v}");
        assert!(why[0].contains("time"), "{why:?}");
        assert!(took < Duration::from_secs(3), "round {round}: {took:?}");
        std::thread::sleep(Duration::from_millis(700));
    }
}
