//! The HTTP API's contract: 401 and 403 on every route, problem+json everywhere, request
//! limits, the integrators' scoring API, and the OpenAPI document as committed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::session::{Browser, link_in, parsed};
use support::smtp::Sink;
use support::{Server, root};

const AWARD: &str = "seoul-smart-city-prize-2023";

fn app(id: &str) -> Value {
    let apps: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut a = apps[0].clone();
    a["id"] = json!(id);
    a
}

struct Setup {
    server: Server,
    _sink: Sink,
    /// A signed-in person for each role a person holds in the award.
    sessions: Vec<(&'static str, Browser)>,
    _data: tempfile::TempDir,
    keys: Vec<(&'static str, String)>,
    other_applicant: String,
    spare_key_id: String,
    /// The id the server gave the applicant's application.
    app_id: String,
}

fn setup() -> Setup {
    let data = tempfile::tempdir().unwrap();
    // The matrix presents a bad key to every route: let all those failures through.
    let sink = Sink::start();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--auth-failures-allowed", "100000", "--smtp", &sink.url],
    );
    let admin = server.admin().to_owned();
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        200
    );
    let applicant = server.key("applicant", None);
    // Applicants do not name applications; the server does.
    let (status, v) = server.post(
        &format!("/v1/awards/{AWARD}/applications"),
        &applicant,
        &app("app-001"),
    );
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["errors"][0]["pointer"], "/id", "{v}");
    let mut unnamed = app("app-001");
    unnamed.as_object_mut().unwrap().remove("id");
    let (status, v) = server.post(
        &format!("/v1/awards/{AWARD}/applications"),
        &applicant,
        &unnamed,
    );
    assert_eq!(status, 201, "{v}");
    let app_id = v["id"].as_str().unwrap().to_owned();
    assert!(app_id.starts_with("a-") && app_id.len() == 18, "{app_id}");
    let keys = vec![
        ("admin", admin.clone()),
        ("judge", server.key("judge", Some("judge-kim"))),
        ("applicant", applicant),
        ("integrator", server.key("integrator", None)),
        ("auditor", server.key("auditor", None)),
    ];
    let other_applicant = server.key("applicant", None);
    let (_, spare) = server.post(
        "/v1/keys",
        &admin,
        &json!({ "role": "auditor", "label": "spare" }),
    );
    // The same people, signed in: sessions answer to the same role rules as keys.
    let mut sessions = Vec::new();
    let (status, v) = server.put(
        &format!("/v1/awards/{AWARD}/judges/judge-kim"),
        &admin,
        &json!({ "id": "judge-kim", "name": "Kim" }),
    );
    assert_eq!(status, 200, "{v}");
    for (role, judge) in [
        ("admin", None),
        ("judge", Some("judge-kim")),
        ("auditor", None),
        ("applicant", None),
    ] {
        let email = format!("{role}@example.org");
        let (status, v) = server.post(
            &format!("/v1/awards/{AWARD}/invitations"),
            &admin,
            &json!({ "email": email, "name": role, "role": role, "judge": judge }),
        );
        assert_eq!(status, 201, "{v}");
        let started = std::time::Instant::now();
        let text = loop {
            let invited = sink.got.lock().unwrap().iter().find_map(|m| {
                let (subject, text) = parsed(m);
                (m.to == [email.clone()] && !subject.contains("digest")).then_some(text)
            });
            if let Some(text) = invited {
                break text;
            }
            assert!(started.elapsed().as_secs() < 20, "no invitation to {email}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        sessions.push((role, Browser::follow(&server.url, &link_in(&text))));
    }
    Setup {
        server,
        _sink: sink,
        sessions,
        _data: data,
        keys,
        other_applicant,
        spare_key_id: spare["id"].as_str().unwrap().to_owned(),
        app_id,
    }
}

fn fill(path: &str, s: &Setup) -> String {
    path.replace("{award}", AWARD)
        .replace("{application}", &s.app_id)
        .replace("{judge}", "judge-kim")
        .replace("{round}", "expert")
        .replace("{version}", "1")
        .replace("{key}", &s.spare_key_id)
        .replace("{sha256}", &"0".repeat(64))
        .replace("{endpoint}", "ep_0000000000000000")
        .replace("{person}", "p-0000000000000000")
        .replace("{field}", "recommendation_letter")
        .replace("{message}", "msg_000000000000000000000000")
        .replace("{kind}", "outcome")
        .replace("{number}", "1")
        .replace("{job}", "diag-0000000000000000")
}

#[test]
fn every_route_answers_401_without_a_key_and_403_to_roles_it_does_not_allow() {
    let s = setup();
    let (status, doc) = s.server.call("GET", "/v1/openapi.json", None, None);
    assert_eq!(status, 200);
    let mut checked = 0;
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let roles = op["description"]
                .as_str()
                .unwrap()
                .trim_start_matches("Who may call it: ")
                .trim_end_matches('.')
                .to_owned();
            let url = fill(path, &s);
            let m = method.to_uppercase();
            let body = Some(b"{}".as_slice());
            if roles == "none" {
                // Open to anyone: whatever it answers, it is not about credentials.
                let (status, v) = s.server.call(&m, &url, None, body);
                assert!(![401, 403].contains(&status), "{m} {url}: {v}");
                continue;
            }
            let (status, v) = s.server.call(&m, &url, None, body);
            assert_eq!(status, 401, "{m} {url} without a key: {v}");
            assert_eq!(v["status"], 401);
            let (status, _) = s.server.call(&m, &url, Some("lk_not-a-key"), body);
            assert_eq!(status, 401, "{m} {url} with a bad key");
            if roles == "any key" {
                checked += 1;
                continue;
            }
            let allowed: Vec<&str> = roles.split(", ").collect();
            for (role, key) in &s.keys {
                let allowed = allowed.contains(role)
                    || (*role == "judge" && allowed.contains(&"the judge"))
                    || (*role == "applicant" && allowed.contains(&"owner"));
                if allowed {
                    continue;
                }
                let (status, v) = s.server.call(&m, &url, Some(key), body);
                if roles.contains("owner") && url.contains(&s.app_id) {
                    // A submitter who is not the owner is told nothing exists.
                    assert!([403, 404].contains(&status), "{m} {url} as {role}: {v}");
                } else {
                    assert_eq!(status, 403, "{m} {url} as {role}: {v}");
                }
                assert!(v["detail"].is_string());
            }
            for (role, browser) in &s.sessions {
                let allowed = roles == "a session"
                    || allowed.contains(role)
                    || (*role == "judge" && allowed.contains(&"the judge"))
                    || (*role == "applicant" && allowed.contains(&"owner"));
                if allowed {
                    continue;
                }
                let (status, v) = browser.call(&m, &url, Some(&json!({})), true);
                if roles.contains("owner") && url.contains(&s.app_id) {
                    assert!(
                        [403, 404].contains(&status),
                        "{m} {url} signed in as {role}: {v}"
                    );
                } else {
                    assert_eq!(status, 403, "{m} {url} signed in as {role}: {v}");
                }
            }
            if allowed.contains(&"owner") {
                // Another applicant's records answer as if they did not exist.
                let (status, v) = s.server.call(&m, &url, Some(&s.other_applicant), body);
                assert!(
                    [403, 404].contains(&status),
                    "{m} {url} as another applicant: {v}"
                );
                if url.contains(&s.app_id) {
                    assert_eq!(status, 404, "{m} {url} as another applicant: {v}");
                    let (_, missing) = s.server.call(
                        &m,
                        &url.replace(&s.app_id, "a-0000000000000000"),
                        Some(&s.other_applicant),
                        body,
                    );
                    assert_eq!(
                        v["detail"],
                        missing["detail"]
                            .as_str()
                            .unwrap()
                            .replace("a-0000000000000000", &s.app_id)
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} operations");
}

#[test]
fn errors_are_problem_json_with_located_diagnostics() {
    let s = setup();
    let admin = s.server.admin().to_owned();
    let (status, v) = s.server.call("GET", "/v1/nowhere", Some(&admin), None);
    assert_eq!((status, v["title"].as_str()), (404, Some("Not found")));
    let (status, v) = s.server.call("PUT", "/v1/health", None, None);
    assert_eq!((status, v["status"].as_u64()), (405, Some(405)));
    // Malformed JSON: where.
    let (status, v) = s.server.call(
        "POST",
        "/v1/keys",
        Some(&admin),
        Some(b"{\"role\": \"admin\",\n \"subject\": }"),
    );
    assert_eq!(status, 400, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("line 2 column"),
        "{v}"
    );
    // Too deep.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let (status, v) = s
        .server
        .call("POST", "/v1/evaluate", Some(&admin), Some(deep.as_bytes()));
    assert_eq!(status, 400, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("recursion limit"),
        "{v}"
    );
    // Too large.
    let big = vec![b' '; 9 << 20];
    let (status, v) = s
        .server
        .call("POST", "/v1/evaluate", Some(&admin), Some(&big));
    assert_eq!(status, 413, "{v}");
    assert_eq!(v["type"], "/problems/too-large");
    // An invalid application: every problem located in the body.
    let mut bad = app("app-bad");
    bad["fields"]["population"] = json!("many");
    bad["fields"]["contact"]["email"] = json!("nobody");
    let text = serde_json::to_string_pretty(&bad).unwrap();
    let (status, v) = s.server.call(
        "POST",
        &format!("/v1/awards/{AWARD}/applications"),
        Some(&admin),
        Some(text.as_bytes()),
    );
    assert_eq!(status, 422, "{v}");
    let pointers: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        ["/fields/contact/email", "/fields/population"],
        "{v}"
    );
    let line = text.lines().position(|l| l.contains("\"nobody\"")).unwrap() + 1;
    assert_eq!(v["errors"][0]["line"], line);
    // An invalid definition, as the CLI reports it.
    let broken =
        std::fs::read(root().join("tests/invalid/unknown-property-and-negative-weight.award.json"))
            .unwrap();
    let (status, v) = s
        .server
        .call("POST", "/v1/awards", Some(&admin), Some(&broken));
    assert_eq!(status, 422);
    let codes: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["unknown-property", "weight"]);
    assert!(v["errors"][0]["line"].as_u64().unwrap() > 1);
    // State conflicts.
    assert_eq!(
        s.server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        409
    );
    assert_eq!(
        s.server
            .post(
                &format!("/v1/awards/{AWARD}/applications"),
                &admin,
                &app(&s.app_id)
            )
            .0,
        409
    );
}

#[test]
fn integrators_score_without_storing_anything() {
    let s = setup();
    let integrator = s
        .keys
        .iter()
        .find(|(r, _)| *r == "integrator")
        .unwrap()
        .1
        .clone();
    let marks = json!({ "evaluations": [
        { "judge": "j1", "application": "x-1", "marks": { "technological-novelty": 7, "transformative-implementation": 8, "user-friendliness": 6, "application-complexity": 7,
          "technological-applicability": 8, "transparency": 7, "institution-and-policy": 6, "accountability": 7, "monitoring-and-evaluation": 8, "digital-compatibility": 7,
          "collaborative-effort": 6, "stakeholder-diversity": 7, "advocacy-for-data-security": 8, "data-management-strategy": 7, "organizational-responsibility": 6, "encryption-of-private-data": 7 } }
    ]});
    let request = json!({ "award": { "id": AWARD }, "applications": [app("x-1")], "marks": marks });
    let (status, v) = s.server.post("/v1/evaluate", &integrator, &request);
    assert_eq!(status, 200, "{v}");
    let placed = &v["categories"][0]["ranking"][0];
    assert_eq!(placed["application"], "x-1");
    assert!(placed["trace"]["plugin"]["score"].is_string());
    // Numbers only: the same answer without the breakdowns.
    let (status, lean) = s
        .server
        .post("/v1/evaluate?trace=false", &integrator, &request);
    assert_eq!(status, 200, "{lean}");
    let mut expected = v.clone();
    for c in expected["categories"].as_array_mut().unwrap() {
        for p in c["ranking"].as_array_mut().unwrap() {
            p.as_object_mut().unwrap().remove("trace");
        }
    }
    assert_eq!(lean, expected);
    assert!(lean.to_string().len() * 2 < v.to_string().len());
    // Nothing was stored.
    let (_, apps) = s.server.get(
        &format!("/v1/awards/{AWARD}/applications"),
        s.server.admin(),
    );
    assert_eq!(apps.as_array().unwrap().len(), 1);
    // Inline definition, with located errors when it is wrong.
    let mut definition: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/valid/minimal.award.json")).unwrap(),
    )
    .unwrap();
    let inline_app = json!({ "id": "m-1", "category": "innovation", "applicant_type": "city", "fields": { "population": 5000 } });
    let inline_marks = json!({ "evaluations": [{ "judge": "j1", "application": "m-1", "marks": { "novelty": 8, "fit": 6, "reach": 5 } },
        { "judge": "j2", "application": "m-1", "marks": { "novelty": 6, "fit": 6, "reach": 7 } },
        { "judge": "j3", "application": "m-1", "marks": { "novelty": 9, "fit": 9, "reach": 9 } }] });
    let (status, v) = s.server.post(
        "/v1/evaluate",
        &integrator,
        &json!({ "definition": definition, "applications": [inline_app], "marks": inline_marks }),
    );
    assert_eq!(status, 200, "{v}");
    definition["scales"][0]["step"] = json!(3);
    let (status, v) = s.server.post(
        "/v1/evaluate",
        &integrator,
        &json!({ "definition": definition, "applications": [], "marks": {} }),
    );
    assert_eq!(status, 422);
    assert_eq!(v["errors"][0]["pointer"], "/definition/scales/0/step");
    // Marks that do not read, located in the request: read as their text (the common case),
    // and read as a tree (a request whose version is written `1.0` is read as one); the same
    // answer either way, and the good marks score the same either way.
    let mut bad_marks = marks.clone();
    bad_marks["evaluations"][0]["note"] = json!("typo for comment");
    for version in [json!(1), json!(1.0)] {
        let award = json!({ "id": AWARD, "version": version });
        let bad = json!({ "award": award, "applications": [app("x-1")], "marks": bad_marks });
        let (status, v) = s.server.post("/v1/evaluate", &integrator, &bad);
        assert_eq!(status, 422, "{version}: {v}");
        assert_eq!(
            v["errors"][0]["pointer"], "/marks/evaluations/0/note",
            "{version}: {v}"
        );
        assert!(v["errors"][0]["line"].is_number(), "{version}: {v}");
        let good = json!({ "award": award, "applications": [app("x-1")], "marks": marks });
        let (status, scored) = s
            .server
            .post("/v1/evaluate?trace=false", &integrator, &good);
        assert_eq!(status, 200, "{version}: {scored}");
        assert_eq!(scored, lean, "{version}");
    }
    // Judges and applicants may not use it.
    let judge = s
        .keys
        .iter()
        .find(|(r, _)| *r == "judge")
        .unwrap()
        .1
        .clone();
    assert_eq!(s.server.post("/v1/evaluate", &judge, &request).0, 403);
}

#[test]
fn the_served_openapi_document_is_the_committed_one() {
    let s = setup();
    let (status, served) = s.server.call("GET", "/v1/openapi.json", None, None);
    assert_eq!(status, 200);
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/openapi.json")).unwrap(),
    )
    .unwrap();
    assert!(
        served == committed,
        "schemas/openapi.json is stale: run `cargo run -- schema --out schemas/`"
    );
    assert_eq!(served["openapi"], "3.1.0");
    let (_, version) = s.server.call("GET", "/v1/version", None, None);
    assert_eq!(version["api"], "v1");
}

/// The raw status and `Retry-After` of a request with a bearer key.
fn attempt(server: &Server, key: &str) -> (u16, Option<u64>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent
        .get(&format!("{}/v1/awards", server.url))
        .header("Authorization", &format!("Bearer {key}"))
        .call()
        .unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (r.status().as_u16(), retry)
}

#[test]
fn guessed_keys_are_slowed_down_with_growing_delays() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    // Five free failures, then each failure blocks the address: 1 s, then 2 s.
    for i in 0..5 {
        assert_eq!(attempt(&server, &format!("lk_guess{i}")), (401, None));
    }
    assert_eq!(attempt(&server, "lk_guess5").0, 401);
    let (status, retry) = attempt(&server, "lk_guess6");
    assert_eq!(status, 429, "blocked after the sixth failure");
    assert_eq!(retry, Some(1));
    // While blocked, a good key is still served (behind a proxy, many people share one
    // address): keys are 256-bit secrets, and every failed guess is still refused.
    assert_eq!(attempt(&server, &admin).0, 200);
    let (_, v) = server.call("GET", "/v1/awards", Some("lk_guess7"), None);
    assert_eq!(v["type"], "/problems/too-many-requests");
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    assert_eq!(attempt(&server, "lk_guess8").0, 401);
    assert_eq!(
        attempt(&server, "lk_guess9"),
        (429, Some(2)),
        "the delay doubled"
    );
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    assert_eq!(
        attempt(&server, &admin).0,
        200,
        "a good key passes once the block ends"
    );
    // Requests without any key are not guesses, and are never blocked.
    for _ in 0..20 {
        assert_eq!(server.call("GET", "/v1/awards", None, None).0, 401);
    }
}

/// A preflight as a browser sends it: `OPTIONS` with the page's origin.
fn preflight(server: &Server, origin: &str) -> (u16, Option<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .build()
        .into();
    let request = ureq::http::Request::builder()
        .method("OPTIONS")
        .uri(format!("{}/v1/evaluate", server.url))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .body(())
        .unwrap();
    let response = agent.run(request).unwrap();
    (
        response.status().as_u16(),
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned()),
    )
}

#[test]
fn browsers_call_the_api_only_from_the_origins_configured() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--cors-origin", "https://portal.example.org"],
    );
    let (status, allowed) = preflight(&server, "https://portal.example.org");
    assert_eq!(status, 200);
    assert_eq!(allowed.as_deref(), Some("https://portal.example.org"));
    let (_, refused) = preflight(&server, "https://elsewhere.example.com");
    assert_eq!(refused, None, "another origin gets no permission");
    // A portal's script may read the next page's link and its rate budget.
    let response = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .get(&format!("{}/v1/awards", server.url))
        .header("authorization", &format!("Bearer {}", server.admin()))
        .header("origin", "https://portal.example.org")
        .call()
        .unwrap();
    let exposed = response
        .headers()
        .get("access-control-expose-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    for header in ["link", "location", "etag", "retry-after", "ratelimit"] {
        assert!(
            exposed.split(',').any(|h| h.trim() == header),
            "{header} in {exposed}"
        );
    }
    drop(server);
    // None configured: none allowed.
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let (_, none) = preflight(&server, "https://portal.example.org");
    assert_eq!(none, None);
}

#[test]
fn what_a_201_makes_is_at_its_location_and_problems_name_their_instance() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        200
    );
    let mut response = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .post(&format!("{}/v1/awards/{AWARD}/applications", server.url))
        .header("authorization", &format!("Bearer {admin}"))
        .header("content-type", "application/json")
        .send(app("app-001").to_string())
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(location, format!("/v1/awards/{AWARD}/applications/app-001"));
    let _ = response.body_mut().read_to_string();
    let (status, got) = server.get(&location, &admin);
    assert_eq!((status, got["id"].as_str()), (200, Some("app-001")));
    // A problem names the request it answers, and its type is a page of this server.
    let (status, v) = server.get(&format!("/v1/awards/{AWARD}/applications/nope"), &admin);
    assert_eq!(status, 404);
    assert_eq!(
        v["instance"],
        format!("/v1/awards/{AWARD}/applications/nope")
    );
    let (status, page) = server.call("GET", v["type"].as_str().unwrap(), None, None);
    assert_eq!(status, 200);
    assert!(page.as_str().unwrap().contains("not-found"), "{page}");
}

/// A request with extra headers; the status, the `ETag` and the body.
fn with_headers(
    server: &Server,
    method: &str,
    path: &str,
    key: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (u16, Option<String>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", server.url);
    let mut response = match method {
        "GET" => {
            let mut r = agent
                .get(&url)
                .header("authorization", &format!("Bearer {key}"));
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        _ => {
            let mut r = agent
                .put(&url)
                .header("authorization", &format!("Bearer {key}"))
                .header("content-type", "application/json");
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(body.unwrap_or_default())
        }
    }
    .unwrap();
    let tag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        response.status().as_u16(),
        tag,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn two_administrators_editing_a_draft_cannot_overwrite_each_other() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let other = server.key("admin", None);
    let path = format!("/v1/awards/{AWARD}");
    let (status, tag, _) = with_headers(&server, "GET", &path, &admin, &[], None);
    assert_eq!(status, 200);
    let tag = tag.expect("an ETag");
    // Unchanged: 304 without the body.
    let (status, _, body) = with_headers(
        &server,
        "GET",
        &path,
        &admin,
        &[("if-none-match", &tag)],
        None,
    );
    assert_eq!((status, body.as_str()), (304, ""));
    // Both read the same tag; the first write wins, the second is told it is stale.
    let draft =
        std::fs::read_to_string(root().join("rubrics").join(AWARD).join("award.json")).unwrap();
    let edited = draft.replacen(
        "\"edition\": \"2023\"",
        "\"edition\": \"2023 (rehearsal)\"",
        1,
    );
    assert_ne!(draft, edited, "the edit changes something");
    let (status, new_tag, body) = with_headers(
        &server,
        "PUT",
        &format!("{path}/draft"),
        &admin,
        &[("if-match", &tag)],
        Some(edited.clone()),
    );
    assert_eq!(status, 200, "{body}");
    let new_tag = new_tag.unwrap();
    assert_ne!(new_tag, tag);
    let (status, _, body) = with_headers(
        &server,
        "PUT",
        &format!("{path}/draft"),
        &other,
        &[("if-match", &tag)],
        Some(draft.clone()),
    );
    assert_eq!(status, 412, "{body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["type"], "/problems/precondition-failed");
    let (_, award) = server.get(&path, &admin);
    assert!(
        award["draft"]
            .as_str()
            .unwrap()
            .contains("2023 (rehearsal)"),
        "the first write stands"
    );
    // With the tag read after it, the second writes.
    let (status, _, body) = with_headers(
        &server,
        "PUT",
        &format!("{path}/draft"),
        &other,
        &[("if-match", &new_tag)],
        Some(draft),
    );
    assert_eq!(status, 200, "{body}");
}

/// A POST with an `Idempotency-Key`; the status, whether it was a replay, the body.
fn post_once(
    server: &Server,
    path: &str,
    key: &str,
    idem: &str,
    body: &Value,
) -> (u16, bool, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("{}{path}", server.url))
        .header("authorization", &format!("Bearer {key}"))
        .header("content-type", "application/json")
        .header("idempotency-key", idem)
        .send(body.to_string())
        .unwrap();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    (
        response.status().as_u16(),
        replayed,
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null),
    )
}

#[test]
fn a_retried_post_with_its_idempotency_key_makes_one_thing_and_answers_the_same() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let url = format!("/v1/awards/{AWARD}/applications");
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        200
    );
    let applicant = server.key("applicant", None);
    let mut unnamed = app("app-001");
    unnamed.as_object_mut().unwrap().remove("id");
    let (status, replayed, first) = post_once(&server, &url, &applicant, "k-1", &unnamed);
    assert_eq!((status, replayed), (201, false), "{first}");
    // The network dropped the answer; the portal sends it again.
    let (status, replayed, again) = post_once(&server, &url, &applicant, "k-1", &unnamed);
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(again["id"], first["id"], "the same application");
    let (_, mine) = server.get(&url, &applicant);
    assert_eq!(mine.as_array().unwrap().len(), 1, "made once");
    // The same key for another body is a mistake, said.
    let mut other = unnamed.clone();
    other["fields"]["city"] = json!("Medellín");
    let (status, _, v) = post_once(&server, &url, &applicant, "k-1", &other);
    assert_eq!(status, 422, "{v}");
    // Keys are the caller's own: another caller's same key is another request.
    let second = server.key("applicant", None);
    let (status, replayed, theirs) = post_once(&server, &url, &second, "k-1", &unnamed);
    assert_eq!((status, replayed), (201, false), "{theirs}");
    assert_ne!(theirs["id"], first["id"]);
}

/// The awards list is read from the store a page at a time: pages of 5, followed by their
/// links, give every award once in id order, past the store's read chunk, with a filter too,
/// and never a draft.
#[test]
fn the_awards_list_pages_from_the_store() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let mut expected = vec![
        "civic-tech-fellowship-2025".to_owned(),
        "seoul-smart-city-prize-2023".to_owned(),
    ];
    let mut open = Vec::new();
    for i in 0..70 {
        let id = format!("award-{i:03}");
        let definition = support::small_award(&id, &format!("Award {i}"));
        let (status, v) = server.post("/v1/awards", &admin, &definition);
        assert_eq!(status, 201, "{v}");
        if i % 9 == 4 {
            for step in ["publish", "open"] {
                let (status, v) =
                    server.post(&format!("/v1/awards/{id}/{step}"), &admin, &json!({}));
                assert!(status == 200 || status == 201, "{step}: {v}");
            }
            open.push(id.clone());
        }
        expected.push(id);
    }
    expected.sort();
    let follow = |first: &str| {
        let (mut seen, mut pages) = (Vec::new(), 0);
        let mut next = Some(first.to_owned());
        while let Some(path) = next {
            let (status, link, page) = server.get_linked(&path, &admin);
            assert_eq!(status, 200, "{page}");
            for a in page.as_array().unwrap() {
                assert!(a.get("draft").is_none_or(Value::is_null), "{a}");
                seen.push(a["id"].as_str().unwrap().to_owned());
            }
            next = link.as_deref().map(support::next_path);
            pages += 1;
        }
        (seen, pages)
    };
    let (seen, pages) = follow("/v1/awards?limit=5");
    assert_eq!(seen, expected);
    assert_eq!(pages, expected.len().div_ceil(5));
    let (seen, _) = follow("/v1/awards?state=open&limit=3");
    assert_eq!(seen, open);
    // A cursor whose award does not exist still marks the place.
    let (status, _, page) = server.get_linked("/v1/awards?limit=2&after=award-0055", &admin);
    assert_eq!(status, 200, "{page}");
    assert_eq!(page[0]["id"], "award-006", "{page}");
    assert_eq!(page.as_array().unwrap().len(), 2);
}

#[test]
fn lists_come_in_pages_with_a_next_link_and_their_declared_filters() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        200
    );
    let portal = server.key("integrator", None);
    let all: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for a in all.iter().take(12) {
        assert_eq!(
            server
                .post(&format!("/v1/awards/{AWARD}/applications"), &portal, a)
                .0,
            201
        );
    }
    // Pages of 5, followed by their links, give every application once, in order.
    let mut seen = Vec::new();
    let mut next = Some(format!("/v1/awards/{AWARD}/applications?limit=5"));
    let mut pages = 0;
    while let Some(path) = next {
        let (status, link, page) = server.get_linked(&path, &admin);
        assert_eq!(status, 200, "{page}");
        assert!(page.as_array().unwrap().len() <= 5);
        seen.extend(
            page.as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned()),
        );
        next = link.as_deref().map(support::next_path);
        pages += 1;
    }
    let mut expected: Vec<String> = all
        .iter()
        .take(12)
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(pages, 3);
    // A declared filter: the applications of one category, as the examples have them.
    let category = all[0]["category"].as_str().unwrap();
    let (_, _, page) = server.get_linked(
        &format!("/v1/awards/{AWARD}/applications?category={category}"),
        &admin,
    );
    let wanted = all
        .iter()
        .take(12)
        .filter(|a| a["category"] == category)
        .count();
    assert_eq!(page.as_array().unwrap().len(), wanted);
    assert!(
        page.as_array()
            .unwrap()
            .iter()
            .all(|a| a["application"]["category"] == category)
    );
    // Bounds said, not guessed.
    let (status, _, v) =
        server.get_linked(&format!("/v1/awards/{AWARD}/applications?limit=0"), &admin);
    assert_eq!(status, 400, "{v}");
    // A cursor whose item is gone still marks the place in a list in id order (keyset
    // paging); in a list in another order (rounds, in the award's order) it cannot: 422.
    let (_, _, all) = server.get_linked(&format!("/v1/awards/{AWARD}/applications"), &admin);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in id order: {ids:?}");
    let gone = format!("{}0", ids[0]); // after ids[0], before ids[1]
    let (status, _, page) = server.get_linked(
        &format!("/v1/awards/{AWARD}/applications?limit=2&after={gone}"),
        &admin,
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(page[0]["id"], ids[1], "{page}");
    let (status, _, v) =
        server.get_linked(&format!("/v1/awards/{AWARD}/rounds?after=nope"), &admin);
    assert_eq!(
        (status, v["errors"][0]["pointer"].as_str()),
        (422, Some("/after")),
        "{v}"
    );
    // Pages read from the store past its read chunk, with a filter, follow their links to
    // exactly the filtered list; and a list of every application counts them all.
    let source: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for a in source.iter().skip(12) {
        assert_eq!(
            server
                .post(&format!("/v1/awards/{AWARD}/applications"), &portal, a)
                .0,
            201
        );
    }
    assert!(source.len() > 65, "more than one read chunk");
    let mut want: Vec<String> = source
        .iter()
        .filter(|a| a["category"] == category)
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    want.sort();
    let mut seen = Vec::new();
    let mut next = Some(format!(
        "/v1/awards/{AWARD}/applications?category={category}&limit=7"
    ));
    while let Some(path) = next {
        let (status, link, page) = server.get_linked(&path, &admin);
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page.as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned()),
        );
        next = link.as_deref().map(support::next_path);
    }
    assert_eq!(seen, want);
    let (_, link, every) = server.get_linked(
        &format!("/v1/awards/{AWARD}/applications?limit=1000"),
        &admin,
    );
    assert_eq!(every.as_array().unwrap().len(), source.len());
    assert!(link.is_none());
}

#[test]
fn a_key_over_its_budget_is_told_when_to_come_back() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--rate-limit", "3"],
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let call = |key: &str| {
        let response = agent
            .get(&format!("{}/v1/awards", server.url))
            .header("authorization", &format!("Bearer {key}"))
            .call()
            .unwrap();
        let h = |n: &str| {
            response
                .headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        (
            response.status().as_u16(),
            h("ratelimit-policy"),
            h("ratelimit"),
            h("retry-after"),
        )
    };
    let admin = server.admin().to_owned();
    let mut left = Vec::new();
    for _ in 0..3 {
        let (status, policy, remaining, _) = call(&admin);
        assert_eq!(status, 200);
        assert_eq!(policy.as_deref(), Some("\"default\";q=3;w=60"));
        left.push(
            remaining
                .unwrap()
                .split(";r=")
                .nth(1)
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(left, ["2", "1", "0"]);
    let (status, _, _, retry) = call(&admin);
    assert_eq!(status, 429);
    let seconds: u64 = retry.unwrap().parse().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
}

#[test]
fn every_read_answers_as_the_document_declares() {
    let s = setup();
    let (_, doc) = s.server.call("GET", "/v1/openapi.json", None, None);
    let admin = s.keys[0].1.clone();
    let mut checked = 0;
    for (path, methods) in doc["paths"].as_object().unwrap() {
        let Some(op) = methods.get("get") else {
            continue;
        };
        let Some(schema) =
            op["responses"]["200"]["content"]["application/json"]["schema"].as_object()
        else {
            continue;
        };
        let url = fill(path, &s);
        let (status, body) = s.server.call("GET", &url, Some(&admin), None);
        if status != 200 {
            continue; // not readable in this state (a round not open yet): nothing to check
        }
        let root =
            json!({ "components": doc["components"], "allOf": [Value::Object(schema.clone())] });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root)
            .unwrap_or_else(|e| panic!("{path}: the declared schema does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .take(3)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "GET {url}: {errors:?}");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} reads checked");
}
