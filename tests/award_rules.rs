//! Award-level rules over real HTTP: limits across applications are checked when an
//! application is submitted, with the limit's message at the field, and hold when submissions
//! race for a city's last place.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;

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
    assert_eq!(status, 422, "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("3 applications, at most 2"),
        "{v}"
    );
    // Updating one of a city's own applications is not a third.
    let key_owner = key.clone();
    let (status, v) = server.put(
        &format!("/v1/awards/{SEOUL}/applications/t1"),
        &key_owner,
        &app("t1", "Testville", "tech-innovacity"),
    );
    assert!(status == 200 || status == 204, "{status} {v}");

    // Eight submissions race for Raceville's two places: never more than two get in, and sent
    // again, the ones that lost a race are told the limit.
    let url = server.url.clone();
    let barrier = std::sync::Barrier::new(8);
    let outcomes: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (barrier, url, key) = (&barrier, &url, &key);
                s.spawn(move || {
                    let body = app(&format!("r{i}"), "Raceville", "tech-innovacity").to_string();
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    barrier.wait();
                    let mut r = agent
                        .post(&format!("{url}/v1/awards/{SEOUL}/applications"))
                        .header("Authorization", &format!("Bearer {key}"))
                        .send(body.as_bytes())
                        .unwrap();
                    let status = r.status().as_u16();
                    let text = r.body_mut().read_to_string().unwrap_or_default();
                    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
    for (s, _) in &outcomes {
        *counts.entry(*s).or_default() += 1;
    }
    let created = counts.get(&201).copied().unwrap_or(0);
    assert!((1..=2).contains(&created), "{outcomes:?}");
    assert!(
        counts.keys().all(|s| [201, 409, 422].contains(s)),
        "{outcomes:?}"
    );
    let mut total = created;
    for (i, (s, _)) in outcomes.iter().enumerate() {
        if *s == 409 {
            let (status, v) = post(&app(&format!("r{i}"), "Raceville", "tech-innovacity"));
            assert!(status == 201 || status == 422, "{status} {v}");
            total += usize::from(status == 201);
        }
    }
    assert_eq!(total, 2, "{outcomes:?}");
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
