//! Every acknowledged write survives a crash: the server is killed with SIGKILL in the middle
//! of a stream of writes, restarted, and every write it acknowledged is there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Server, root};

const AWARD: &str = "seoul-smart-city-prize-2023";

#[test]
fn acknowledged_writes_survive_sigkill() {
    trial(8);
}

/// Sixteen writers share flushes (group commit): each is still durable before its answer.
#[test]
fn acknowledged_writes_of_sixteen_writers_survive_sigkill() {
    trial(16);
}

#[allow(clippy::print_stdout)] // what the trial found, with --nocapture
fn trial(count: usize) {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        200
    );
    let applicant = server.key("integrator", None);
    let apps: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let template = apps[0].clone();
    let url = server.url.clone();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    // Writers in pairs race on the same ids (one of each pair may win each id), so every
    // acknowledged write must be there with its own content, never its rival's.
    let writers: Vec<_> = (0..count)
        .map(|w| {
            let (url, acknowledged, stop, applicant, template) = (
                url.clone(),
                acknowledged.clone(),
                stop.clone(),
                applicant.clone(),
                template.clone(),
            );
            std::thread::spawn(move || {
                for n in 0..10_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let mut app = template.clone();
                    let id = format!("w{}-{n}", w / 2);
                    app["id"] = json!(id);
                    app["fields"]["project_title"] = json!(format!("written by {w}"));
                    let url = format!("{url}/v1/awards/{AWARD}/applications");
                    let response = ureq::post(&url)
                        .header("Authorization", &format!("Bearer {applicant}"))
                        .send(app.to_string().as_bytes());
                    match response {
                        Ok(r) if r.status().as_u16() == 201 => acknowledged
                            .lock()
                            .unwrap()
                            .push((id, format!("written by {w}"))),
                        // Its rival created this id first: a conflict, nothing written.
                        Err(ureq::Error::StatusCode(409)) => {}
                        _ => break,
                    }
                }
            })
        })
        .collect();
    let start = Instant::now();
    while acknowledged.lock().unwrap().len() < 60 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Kill while the writers are still writing.
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        let _ = w.join();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 60,
        "only {} writes were acknowledged",
        acknowledged.len()
    );
    let restarted = Server::start(data.path(), &root().join("rubrics"));
    let (_, listed) = restarted.get(&format!("/v1/awards/{AWARD}/applications"), &applicant);
    let stored: std::collections::BTreeMap<String, String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_owned(),
                a["application"]["fields"]["project_title"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let lost: Vec<&(String, String)> = acknowledged
        .iter()
        .filter(|(id, content)| stored.get(id) != Some(content))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {lost:?}",
        lost.len()
    );
    println!(
        "{count} writers: {} acknowledged writes, all present after SIGKILL and restart",
        acknowledged.len()
    );
    restarted.stop();
    let (code, out) = support::audit_verify(data.path());
    assert_eq!(code, Some(0), "{out}");
}
