//! Award-level rules over real HTTP: limits across applications are checked when an
//! application is submitted, with the limit's message at the field, and hold when submissions
//! race for a city's last place.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{Server, root};

const SEOUL: &str = "seoul-smart-city-prize-2023";

/// The Seoul rubric with a limit: at most two applications per city, in one category.
fn rubrics_with_limit() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("rubrics").join(SEOUL);
    let dst = dir.path().join(SEOUL);
    std::fs::create_dir_all(&dst).unwrap();
    for entry in walk(&src) {
        let rel = entry.strip_prefix(&src).unwrap();
        let to = dst.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    let path = dst.join("award.json");
    let mut def: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    def["limits"] = json!([{
        "id": "two-per-city", "field": "city", "max_applications": 2, "max_categories": 1,
        "message": "A city sends at most two applications, in one category."
    }]);
    std::fs::write(&path, serde_json::to_string_pretty(&def).unwrap()).unwrap();
    dir
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn app(id: &str, city: &str, category: &str) -> Value {
    let text = std::fs::read_to_string(
        root().join("examples/seoul-smart-city-prize-2023/applications.json"),
    )
    .unwrap();
    let apps: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut a = apps
        .into_iter()
        .find(|a| a["category"] == category && a["applicant_type"] == "city")
        .unwrap();
    a["id"] = json!(id);
    a["fields"]["city"] = json!(city);
    a
}

#[test]
fn a_limit_across_applications_holds_at_submission_and_under_races() {
    let rubrics = rubrics_with_limit();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), rubrics.path());
    let (status, v) = server.post(
        &format!("/v1/awards/{SEOUL}/open"),
        server.admin(),
        &json!({}),
    );
    assert_eq!(status, 200, "{v}");
    let key = server.key("integrator", None);
    // The application schema in the award's other language; a language it lacks is refused.
    let (status, ko) = server.get(&format!("/v1/awards/{SEOUL}/schema?lang=ko"), &key);
    assert_eq!(status, 200, "{ko}");
    assert!(
        ko["title"].as_str().unwrap().ends_with("신청서"),
        "{}",
        ko["title"]
    );
    assert_eq!(
        ko["properties"]["category"]["description"],
        "신청하는 부문."
    );
    let (status, v) = server.get(&format!("/v1/awards/{SEOUL}/schema?lang=fr"), &key);
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        v["errors"][0]["message"],
        format!("`lang`: award `{SEOUL}` is in `en`, `ko`, not `fr`"),
        "{v}"
    );
    let post = |a: &Value| server.post(&format!("/v1/awards/{SEOUL}/applications"), &key, a);
    assert_eq!(post(&app("t1", "Testville", "tech-innovacity")).0, 201);
    // Another category: one category per city.
    let (status, v) = post(&app("t2", "Testville", "human-centricity"));
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["errors"][0]["pointer"], "/fields/city", "{v}");
    let message = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("A city sends at most two applications, in one category.")
            && message.contains("2 categories, at most 1"),
        "{message}"
    );
    // The same city written otherwise is the same city.
    assert_eq!(post(&app("t2", " testville", "tech-innovacity")).0, 201);
    let (status, v) = post(&app("t3", "TESTVILLE", "tech-innovacity"));
    refused_as_a_third(status, &v);
    // Updating one of a city's own applications is not a third.
    let key_owner = key.clone();
    let (status, v) = server.put(
        &format!("/v1/awards/{SEOUL}/applications/t1"),
        &key_owner,
        &app("t1", "Testville", "tech-innovacity"),
    );
    assert!(status == 200 || status == 204, "{status} {v}");

    // Eight submissions race for Raceville's two places: exactly two get in, and the six that
    // lost are told the limit (the server runs a submission that met another's change of the
    // limit's groups again: no applicant is sent a conflict to retry).
    let raced = race(
        &server.url,
        &key,
        (0..8)
            .map(|i| vec![app(&format!("r{i}"), "Raceville", "tech-innovacity")])
            .collect(),
    );
    let statuses: Vec<u16> = raced.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        2,
        "{raced:?}"
    );
    for (status, v) in raced.iter().filter(|(s, _)| *s != 201) {
        refused_as_a_third(*status, v);
    }
    // Eight cities submitting at once, five applications each: none waits on another city's
    // places, and every one is stored.
    let raced = race(
        &server.url,
        &key,
        (0..8)
            .map(|c| {
                (0..5)
                    .map(|i| {
                        let category = if i < 2 {
                            "tech-innovacity"
                        } else {
                            "human-centricity"
                        };
                        let mut a = app(&format!("c{c}-{i}"), &format!("City {c}-{i}"), category);
                        a["fields"]["city"] = json!(format!("City {c}-{i}"));
                        a
                    })
                    .collect()
            })
            .collect(),
    );
    assert!(raced.iter().all(|(s, _)| *s == 201), "{raced:?}");
    // Withdrawals among submissions: each city withdraws its first application while eight
    // new cities submit; every one goes through, and the groups stay true: Raceville, one of
    // its two withdrawn, takes one more and refuses the next.
    let winner = raced_winner(&server, &key);
    let mut posts: Vec<Vec<(String, Value)>> = (0..8)
        .map(|c| {
            vec![(
                format!("/v1/awards/{SEOUL}/applications/c{c}-0/withdraw"),
                json!({}),
            )]
        })
        .collect();
    posts.push(vec![(
        format!("/v1/awards/{SEOUL}/applications/{winner}/withdraw"),
        json!({"reason": "merged"}),
    )]);
    posts.extend((0..8).map(|c| {
        vec![(
            format!("/v1/awards/{SEOUL}/applications"),
            app(&format!("n{c}"), &format!("New {c}"), "tech-innovacity"),
        )]
    }));
    let raced = race_posts(&server.url, &key, posts);
    assert!(
        raced.iter().all(|(s, _)| *s == 200 || *s == 201),
        "{raced:?}"
    );
    assert_eq!(post(&app("r-late", "Raceville", "tech-innovacity")).0, 201);
    let (status, v) = post(&app("r-later", "Raceville", "tech-innovacity"));
    refused_as_a_third(status, &v);
    // Each commit refused for a conflict here (all of them on the limit's groups) was run
    // again; a run that saw the groups change while it read them is run again before its
    // commit. Both are counted for operators.
    let (status, metrics) = server.get("/metrics", server.admin());
    assert_eq!(status, 200, "{metrics}");
    let metrics = metrics.as_str().unwrap_or_default();
    let series = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
            .parse()
            .unwrap()
    };
    assert!(
        series("laurel_limit_reruns_total") >= series("laurel_store_commit_failures_total"),
        "{metrics}"
    );
    let (_, list) = server.get(
        &format!("/v1/awards/{SEOUL}/applications?limit=500"),
        server.admin(),
    );
    let stored = list["items"]
        .as_array()
        .or_else(|| list.as_array())
        .unwrap()
        .iter()
        .filter(|a| {
            let id = a["id"]
                .as_str()
                .or_else(|| a["application"]["id"].as_str())
                .unwrap_or_default();
            id.starts_with('r') && id.len() == 2
        })
        .count();
    assert_eq!(stored, 2, "{list}");
}

/// One of the two applications that won Raceville's places (`r0` .. `r7`).
fn raced_winner(server: &Server, key: &str) -> String {
    (0..8)
        .map(|i| format!("r{i}"))
        .find(|id| {
            server
                .get(&format!("/v1/awards/{SEOUL}/applications/{id}"), key)
                .0
                == 200
        })
        .unwrap()
}

/// The answer to a city's third application: refused by the limit, saying so.
fn refused_as_a_third(status: u16, v: &Value) {
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["detail"], "1 problem; it is located in `errors`", "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("3 applications, at most 2"),
        "{v}"
    );
}

/// Sends each list of applications from its own thread, in order, all threads starting
/// together; the answers in the order sent.
fn race(url: &str, key: &str, bodies: Vec<Vec<Value>>) -> Vec<(u16, Value)> {
    let path = format!("/v1/awards/{SEOUL}/applications");
    race_posts(
        url,
        key,
        bodies
            .into_iter()
            .map(|list| list.into_iter().map(|b| (path.clone(), b)).collect())
            .collect(),
    )
}

/// Sends each list of posts (path, body) from its own thread, in order, all threads starting
/// together; the answers in the order sent.
fn race_posts(url: &str, key: &str, posts: Vec<Vec<(String, Value)>>) -> Vec<(u16, Value)> {
    let barrier = std::sync::Barrier::new(posts.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = posts
            .into_iter()
            .map(|list| {
                let barrier = &barrier;
                s.spawn(move || {
                    let agent = support::session::agent();
                    barrier.wait();
                    list.iter()
                        .map(|(path, body)| {
                            let mut r = agent
                                .post(&format!("{url}{path}"))
                                .header("Authorization", &format!("Bearer {key}"))
                                .send(body.to_string().as_bytes())
                                .unwrap();
                            let status = r.status().as_u16();
                            let text = r.body_mut().read_to_string().unwrap_or_default();
                            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}
