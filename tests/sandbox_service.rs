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
        "format_version": "1.0", "id": "attack", "name": "Attack", "edition": "1",
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
        &["--plugin-deadline-ms", "1500"],
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
        // Six applications of one second each, but the request's plugin work has 1.5 s: it is
        // answered at its deadline, every application carrying its plugin's error.
        assert!(
            done - started < Duration::from_secs(5),
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
