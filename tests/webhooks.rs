//! Webhooks as integrators receive them: signed per Standard Webhooks, retried with backoff
//! from the durable outbox, logged, redelivered on demand, and delivered after a SIGKILL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;
use serde_json::{Value, json};
use support::receiver::{Received, Receiver, TestCa};
use support::{Server, root};

const AWARD: &str = "seoul-smart-city-prize-2023";

fn url(p: &str) -> String {
    format!("/v1/awards/{AWARD}{p}")
}

/// Checks a request's signature as a receiver would, with the secret it was given.
fn verify(secret: &str, r: &Received) {
    let id = &r.headers["webhook-id"];
    let ts = &r.headers["webhook-timestamp"];
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{}", r.body).as_bytes());
    let want = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(r.headers["webhook-signature"], want, "signature of {id}");
    let age = chrono::Utc::now().timestamp() - ts.parse::<i64>().unwrap();
    assert!((0..120).contains(&age), "timestamp {ts} is now");
}

fn applications(n: usize) -> Vec<Value> {
    let all: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    all.as_array().unwrap().iter().take(n).cloned().collect()
}

fn start(data: &std::path::Path, retries: &str) -> Server {
    Server::start_full(
        data,
        &root().join("rubrics"),
        &[],
        &[
            "--webhooks-to-private-addresses",
            "--webhook-retries",
            retries,
            "--webhook-timeout-ms",
            "2000",
        ],
    )
}

fn register(server: &Server, to: &str, events: &[&str]) -> (String, String) {
    let (status, v) = server.post(
        &url("/webhooks"),
        server.admin(),
        &json!({ "url": to, "events": events, "description": "a partner portal" }),
    );
    assert_eq!(status, 201, "{v}");
    (
        v["id"].as_str().unwrap().to_owned(),
        v["secret"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn events_arrive_signed_and_a_failing_receiver_gets_them_after_it_recovers() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path(), "200ms,400ms,800ms,1s");
    let admin = server.admin().to_owned();
    let receiver = Receiver::start(2);
    let (endpoint, secret) = register(&server, &receiver.url, &["application.submitted"]);
    let (_, listed) = server.get(&url("/webhooks"), &admin);
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once: {listed}"
    );
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let integrator = server.key("integrator", None);
    let app = &applications(1)[0];
    assert_eq!(server.post(&url("/applications"), &integrator, app).0, 201);
    let got = receiver.wait_for(Duration::from_secs(20), |g| {
        g.iter().any(|r| r.status == 200)
    });
    assert_eq!(got.len(), 3, "two failures, then the delivery: {got:?}");
    for r in &got {
        verify(&secret, r);
    }
    let ids: BTreeSet<&str> = got
        .iter()
        .map(|r| r.headers["webhook-id"].as_str())
        .collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same webhook-id");
    let body: Value = serde_json::from_str(&got[2].body).unwrap();
    assert_eq!(body["type"], "application.submitted");
    assert_eq!(body["data"]["application"], app["id"]);
    assert!(
        !got[2]
            .body
            .contains(app["fields"]["contact"]["email"].as_str().unwrap()),
        "no personal data in events"
    );
    // The delivery log: three attempts, 500, 500, 200.
    let log = receiver.wait_for(Duration::from_secs(5), |_| {
        server
            .get(&url(&format!("/webhooks/{endpoint}/deliveries")), &admin)
            .1[0]["state"]
            == "delivered"
    });
    assert_eq!(log.len(), 3);
    let (_, log) = server.get(&url(&format!("/webhooks/{endpoint}/deliveries")), &admin);
    let statuses: Vec<u64> = log[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 200], "{log}");
    // Redelivery on demand: the same id and body again.
    let message = log[0]["id"].as_str().unwrap();
    let (status, v) = server.post(
        &url(&format!(
            "/webhooks/{endpoint}/deliveries/{message}/redeliver"
        )),
        &admin,
        &json!({}),
    );
    assert_eq!(status, 202, "{v}");
    let again = receiver.wait_for(Duration::from_secs(10), |g| g.len() >= 4);
    assert_eq!(again[3].headers["webhook-id"], message);
    assert_eq!(again[3].body, got[2].body);
    verify(&secret, &again[3]);
    // Events an endpoint did not ask for are not sent.
    let (status, _) = server.post(
        &url(&format!(
            "/applications/{}/withdraw",
            app["id"].as_str().unwrap()
        )),
        &integrator,
        &json!({}),
    );
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(receiver.got.lock().unwrap().len(), 4);
}

/// An `https://` endpoint gets its events over TLS, its certificate checked: one issued by an
/// authority the installation trusts (`LAUREL_CA_FILE`, an organisation's own CA; the public
/// Web PKI without it) is delivered to, one from another authority is not, and the delivery
/// log says why.
#[test]
fn https_endpoints_get_their_events_over_checked_tls() {
    let data = tempfile::tempdir().unwrap();
    let trusted = TestCa::new(data.path(), "trusted");
    let other = TestCa::new(data.path(), "other");
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[("LAUREL_CA_FILE", trusted.ca_file.to_str().unwrap())],
        &[
            "--webhooks-to-private-addresses",
            "--webhook-retries",
            "100ms",
            "--webhook-timeout-ms",
            "2000",
        ],
    );
    let admin = server.admin().to_owned();
    let good = Receiver::https(&trusted, 0);
    let forged = Receiver::https(&other, 0);
    assert!(good.url.starts_with("https://127.0.0.1:"));
    let (_, secret) = register(&server, &good.url, &["application.submitted"]);
    let (forged_endpoint, _) = register(&server, &forged.url, &["application.submitted"]);
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let apps = applications(3);
    for app in &apps {
        assert_eq!(server.post(&url("/applications"), &admin, app).0, 201);
    }
    let got = good.wait_for(Duration::from_secs(20), |g| g.len() >= 3);
    assert_eq!(got.len(), 3, "{got:?}");
    for r in &got {
        verify(&secret, r);
    }
    let delivered: BTreeSet<String> = got
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["data"]["application"].to_string())
        .collect();
    assert_eq!(delivered.len(), 3);
    // The other authority's endpoint: the handshake fails, nothing reaches it, and the log
    // names the certificate.
    let log = good.wait_for(Duration::from_secs(20), |_| {
        let (_, log) = server.get(
            &url(&format!("/webhooks/{forged_endpoint}/deliveries")),
            &admin,
        );
        log.as_array()
            .is_some_and(|l| l.len() == 3 && l.iter().all(|m| m["state"] == "failed"))
    });
    assert_eq!(log.len(), 3);
    let (_, log) = server.get(
        &url(&format!("/webhooks/{forged_endpoint}/deliveries")),
        &admin,
    );
    assert!(forged.got.lock().unwrap().is_empty());
    let error = log[0]["attempts"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        error.contains("certificate") || error.contains("issuer"),
        "{log}"
    );
    assert!(!error.contains("unsecured"), "{log}");
}

/// `laurel backup --server https://…` speaks checked TLS too: with the authority trusted
/// (`LAUREL_CA_FILE`), the handshake holds and the answer is read (a receiver's empty answer is
/// no backup); without it, the certificate is refused and nothing is written.
#[test]
fn laurel_backup_speaks_tls_and_checks_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "backup");
    let server = Receiver::https(&ca, 0);
    let base = server.url.trim_end_matches("/hooks").to_owned();
    let out = dir.path().join("backup.json");
    let backup = |ca_file: Option<&std::path::Path>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_laurel"));
        cmd.args(["backup", "--server", &base, "--key", "lk_x", "--out"])
            .arg(&out)
            .env_remove("LAUREL_CA_FILE");
        if let Some(f) = ca_file {
            cmd.env("LAUREL_CA_FILE", f);
        }
        let o = cmd.output().unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).to_lowercase(),
        )
    };
    let (ok, trusted) = backup(Some(&ca.ca_file));
    assert!(!ok && trusted.contains("not a backup"), "{trusted}");
    assert_eq!(
        server.got.lock().unwrap().len(),
        1,
        "the request arrived over TLS"
    );
    let (ok, refused) = backup(None);
    assert!(!ok, "{refused}");
    assert!(
        refused.contains("certificate") || refused.contains("issuer"),
        "{refused}"
    );
    assert!(!refused.contains("unsecured"), "{refused}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn endpoints_are_checked_and_private_addresses_refused_by_default() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let (status, v) = server.post(
        &url("/webhooks"),
        &admin,
        &json!({ "url": "http://127.0.0.1:9/hooks", "events": ["round.opened", "marks.graded"] }),
    );
    assert_eq!(status, 422, "{v}");
    let pointers: BTreeSet<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, BTreeSet::from(["/url", "/events/1"]), "{v}");
    for private in [
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://[::1]:80/x",
        "ftp://example.org",
    ] {
        let (status, v) = server.post(
            &url("/webhooks"),
            &admin,
            &json!({ "url": private, "events": ["round.opened"] }),
        );
        assert_eq!(status, 422, "{private}: {v}");
    }
    let judge = server.key("judge", Some("judge-kim"));
    let (status, _) = server.post(
        &url("/webhooks"),
        &judge,
        &json!({ "url": "https://example.org/x", "events": ["round.opened"] }),
    );
    assert_eq!(status, 403);
}

#[test]
fn messages_pending_when_the_server_is_killed_are_delivered_after_the_restart() {
    let data = tempfile::tempdir().unwrap();
    // A port nobody listens on yet: every attempt fails until the receiver starts.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = reserved.local_addr().unwrap();
    drop(reserved);
    let server = start(
        data.path(),
        "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
    );
    let admin = server.admin().to_owned();
    let (_, secret) = register(
        &server,
        &format!("http://{address}/hooks"),
        &["application.submitted"],
    );
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let integrator = server.key("integrator", None);
    let apps = applications(6);
    for a in &apps {
        assert_eq!(server.post(&url("/applications"), &integrator, a).0, 201);
    }
    std::thread::sleep(Duration::from_millis(300));
    server.kill();
    let receiver = Receiver::on(std::net::TcpListener::bind(address).unwrap(), 0);
    let _restarted = start(
        data.path(),
        "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
    );
    let got = receiver.wait_for(Duration::from_secs(30), |g| {
        g.iter()
            .map(|r| r.headers["webhook-id"].clone())
            .collect::<BTreeSet<_>>()
            .len()
            >= apps.len()
    });
    let delivered: BTreeSet<String> = got
        .iter()
        .map(|r| {
            verify(&secret, r);
            let body: Value = serde_json::from_str(&r.body).unwrap();
            body["data"]["application"].as_str().unwrap().to_owned()
        })
        .collect();
    let submitted: BTreeSet<String> = apps
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        delivered, submitted,
        "every acknowledged submission's event arrives"
    );
}

/// An endpoint's delivery log in pages: those delivered read from the store a page at a time,
/// those still waiting (a receiver that failed, retried in an hour) merged in, every message
/// once, in the order they were made, through the `Link` of each page.
#[test]
fn the_delivery_log_comes_in_pages_in_the_order_messages_were_made() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path(), "1h");
    let admin = server.admin().to_owned();
    // Three failures, then deliveries: three messages wait, four are delivered.
    let receiver = Receiver::start(3);
    let (endpoint, _) = register(&server, &receiver.url, &["application.submitted"]);
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let integrator = server.key("integrator", None);
    for app in applications(7) {
        assert_eq!(server.post(&url("/applications"), &integrator, &app).0, 201);
    }
    receiver.wait_for(Duration::from_secs(20), |g| g.len() >= 7);
    let path = url(&format!("/webhooks/{endpoint}/deliveries"));
    let all = receiver.wait_for(Duration::from_secs(10), |_| {
        let (_, log) = server.get(&format!("{path}?limit=1000"), &admin);
        log.as_array()
            .unwrap()
            .iter()
            .filter(|m| m["state"] == "delivered")
            .count()
            == 4
    });
    assert!(all.len() >= 7);
    let (_, log) = server.get(&format!("{path}?limit=1000"), &admin);
    let log = log.as_array().unwrap().clone();
    assert_eq!(log.len(), 7, "{log:?}");
    let states: Vec<&str> = log.iter().map(|m| m["state"].as_str().unwrap()).collect();
    assert_eq!(
        states.iter().filter(|s| **s == "pending").count(),
        3,
        "{states:?}"
    );
    // In the order they were made: times never go back, ids ascend.
    let times: Vec<&str> = log
        .iter()
        .map(|m| m["created_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let ids: Vec<String> = log
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // Pages of two, followed by their links: the same messages, once each.
    let mut paged = Vec::new();
    let mut next = Some(format!("{path}?limit=2"));
    while let Some(p) = next {
        let (status, link, page) = server.get_linked(&p, &admin);
        assert_eq!(status, 200, "{page}");
        assert!(page.as_array().unwrap().len() <= 2);
        paged.extend(
            page.as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned()),
        );
        next = link.as_deref().map(support::next_path);
    }
    assert_eq!(paged, ids);
    // A state filter pages alike.
    let (_, waiting) = server.get(&format!("{path}?state=pending&limit=1"), &admin);
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    assert_eq!(waiting[0]["state"], "pending");
}
