//! Several `laurel` processes on one PostgreSQL database, over real HTTP: they give the same
//! answers as one, no acknowledged write is lost when one is killed during concurrent writes,
//! each outbox message is delivered once across two workers, `audit verify` reads the
//! database while servers write, and `laurel copy` moves an installation both ways.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::postgres::Cluster;
use support::receiver::Receiver;
use support::{Server, laurel, root};

const SEOUL: &str = "seoul-smart-city-prize-2023";

fn seoul_apps() -> Vec<Value> {
    let text = std::fs::read_to_string(
        root().join("examples/seoul-smart-city-prize-2023/applications.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A server on `url`, its own folder for mail, the shared key file.
fn serve(url: &str, folder: &Path, key: &Path, extra: &[&str]) -> Server {
    let mut args = vec![
        "--store",
        url,
        "--key-file",
        key.to_str().unwrap(),
        "--key-in-data-for-tests",
        "--webhooks-to-private-addresses",
        "--webhook-retries",
        "200ms,400ms,800ms",
    ];
    args.extend_from_slice(extra);
    Server::start_full(folder, &root().join("rubrics"), &[], &args)
}

/// Two processes on one new, migrated database, with `extra` options each, and the
/// installation's administrator key (the first process made it).
struct Pair {
    a: Server,
    b: Server,
    admin: String,
    _dir: tempfile::TempDir,
    _pg: Cluster,
}

fn two_processes(extra: &[&str]) -> Pair {
    let pg = Cluster::start();
    let url = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("laurel.key");
    assert_eq!(laurel(&["migrate", "--store", &url]).0, Some(0));
    let a = serve(&url, &dir.path().join("a"), &key, extra);
    let b = serve(&url, &dir.path().join("b"), &key, extra);
    let admin = a.admin.clone().or(b.admin.clone()).unwrap();
    Pair {
        a,
        b,
        admin,
        _dir: dir,
        _pg: pg,
    }
}

/// The ETag a server gives a resource.
fn etag(base: &str, path: &str, key: &str) -> Option<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent
        .get(&format!("{base}{path}"))
        .header("Authorization", &format!("Bearer {key}"))
        .call()
        .unwrap();
    r.headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Opens the Seoul call and submits its first `n` example applications through `server`; the
/// integrator key that submitted them.
fn open_with_applications(server: &Server, admin: &str, n: usize) -> String {
    let (status, v) = server.post(&format!("/v1/awards/{SEOUL}/open"), admin, &json!({}));
    assert_eq!(status, 200, "{v}");
    let integrator = server.key("integrator", None);
    for app in seoul_apps().into_iter().take(n) {
        let (status, v) = server.post(
            &format!("/v1/awards/{SEOUL}/applications"),
            &integrator,
            &app,
        );
        assert_eq!(status, 201, "{v}");
    }
    integrator
}

fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn two_processes_on_one_database_are_one_server() {
    let pg = Cluster::start();
    let url = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("laurel.key");
    let (status, out) = laurel(&["migrate", "--store", &url]);
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("schema at version 2"), "{out}");
    let a = serve(&url, &dir.path().join("a"), &key, &[]);
    let b = serve(&url, &dir.path().join("b"), &key, &[]);
    // One admin key for the installation: the first process made it, the second did not.
    let admin = a.admin.clone().or(b.admin.clone()).unwrap();
    assert!(a.admin.is_none() || b.admin.is_none());
    let (status, ready) = b.get("/v1/ready", &admin);
    assert_eq!(
        (status, &ready["store"]["store"]),
        (200, &json!("postgres")),
        "{ready}"
    );
    let (status, v) = a.post(&format!("/v1/awards/{SEOUL}/open"), &admin, &json!({}));
    assert_eq!(status, 200, "{v}");
    // A webhook endpoint, registered through B: both workers deliver, each message once.
    let receiver = Receiver::start(0);
    let (status, v) = b.post(
        &format!("/v1/awards/{SEOUL}/webhooks"),
        &admin,
        &json!({ "url": receiver.url, "events": ["application.submitted"] }),
    );
    assert_eq!(status, 201, "{v}");
    // Applications alternate between the two processes.
    let integrator = a.key("integrator", None);
    let apps: Vec<Value> = seoul_apps().into_iter().take(40).collect();
    for (i, app) in apps.iter().enumerate() {
        let server = if i % 2 == 0 { &a } else { &b };
        let (status, v) = server.post(
            &format!("/v1/awards/{SEOUL}/applications"),
            &integrator,
            app,
        );
        assert_eq!(status, 201, "{v}");
    }
    // Both answer the same, byte for byte, ETag included.
    let path = format!("/v1/awards/{SEOUL}/applications?limit=1000");
    let (_, from_a) = a.get(&path, &admin);
    let (_, from_b) = b.get(&path, &admin);
    assert_eq!(from_a, from_b);
    assert_eq!(ids(&from_a).len(), 40);
    let one = apps[7]["id"].as_str().unwrap();
    let path = format!("/v1/awards/{SEOUL}/applications/{one}");
    let (tag_a, tag_b) = (etag(&a.url, &path, &admin), etag(&b.url, &path, &admin));
    assert!(tag_a.is_some() && tag_a == tag_b, "{tag_a:?} {tag_b:?}");
    // Each submission's event is delivered once, whichever worker took it.
    let got = receiver.wait_for(Duration::from_secs(30), |g| g.len() >= 40);
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for r in &got {
        *by_id.entry(r.headers["webhook-id"].clone()).or_default() += 1;
    }
    std::thread::sleep(Duration::from_secs(2));
    let got = receiver.got.lock().unwrap().len();
    assert_eq!(by_id.len(), 40, "{by_id:?}");
    assert!(by_id.values().all(|n| *n == 1), "{by_id:?}");
    assert_eq!(got, 40, "no message was sent twice");
    // The audit chain, read while both servers run: one sequence, intact.
    let (status, out) = laurel(&["audit", "verify", &url]);
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("chain intact"), "{out}");
    a.stop();
    b.stop();
}

#[test]
fn a_process_killed_during_concurrent_writes_loses_no_acknowledged_write() {
    let pg = Cluster::start();
    let url = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("laurel.key");
    let a = serve(&url, &dir.path().join("a"), &key, &["--migrate"]);
    let b = serve(&url, &dir.path().join("b"), &key, &["--migrate"]);
    let admin = a.admin.clone().or(b.admin.clone()).unwrap();
    let (status, _) = a.post(&format!("/v1/awards/{SEOUL}/open"), &admin, &json!({}));
    assert_eq!(status, 200);
    let integrator = a.key("integrator", None);
    let template = seoul_apps()[0].clone();
    let (url_a, url_b) = (a.url.clone(), b.url.clone());
    // Eight writers, half on each process; A is killed while they write.
    let acknowledged: Vec<String> = std::thread::scope(|s| {
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let base = if w % 2 == 0 {
                    url_a.clone()
                } else {
                    url_b.clone()
                };
                let (template, integrator) = (template.clone(), integrator.clone());
                s.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(10)))
                        .build()
                        .into();
                    let mut ok = Vec::new();
                    for i in 0..40 {
                        let mut app = template.clone();
                        let id = format!("w{w}-{i}");
                        app["id"] = json!(id);
                        let r = agent
                            .post(&format!("{base}/v1/awards/{SEOUL}/applications"))
                            .header("Authorization", &format!("Bearer {integrator}"))
                            .send(app.to_string().as_bytes());
                        if let Ok(r) = r
                            && r.status().as_u16() == 201
                        {
                            ok.push(id);
                        }
                    }
                    ok
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(600));
        a.kill();
        writers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(acknowledged.len() > 100, "{}", acknowledged.len());
    // Every acknowledged application is there, read through the survivor.
    let (_, list) = b.get(
        &format!("/v1/awards/{SEOUL}/applications?limit=1000"),
        &admin,
    );
    let stored = ids(&list);
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    let (status, out) = laurel(&["audit", "verify", &url]);
    assert_eq!(status, Some(0), "{out}");
    // A restarted process takes up where the killed one was.
    let a2 = serve(&url, &dir.path().join("a"), &key, &[]);
    let (_, again) = a2.get(
        &format!("/v1/awards/{SEOUL}/applications?limit=1000"),
        &admin,
    );
    assert_eq!(ids(&again), stored);
    a2.stop();
    b.stop();
}

#[test]
fn an_installation_moves_from_a_folder_to_a_database_and_back() {
    let pg = Cluster::start();
    let url = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("sled");
    // A sled installation with some data.
    let server = Server::start(&folder, &root().join("rubrics"));
    let admin = server.admin().to_owned();
    let integrator = open_with_applications(&server, &admin, 12);
    let (_, before) = server.get(
        &format!("/v1/awards/{SEOUL}/applications?limit=1000"),
        &admin,
    );
    server.stop();
    let (status, out) = laurel(&[
        "copy",
        "--from",
        folder.to_str().unwrap(),
        "--to",
        &url,
        "--migrate",
    ]);
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("chain intact on both sides"), "{out}");
    // Copying into a database that is not empty is refused.
    let (status, out) = laurel(&["copy", "--from", folder.to_str().unwrap(), "--to", &url]);
    assert_ne!(status, Some(0), "{out}");
    assert!(out.contains("not empty"), "{out}");
    // The database serves what the folder held, with the folder's key.
    let key = folder.join("laurel.key");
    let on_pg = serve(&url, &dir.path().join("pg"), &key, &[]);
    let (_, after) = on_pg.get(
        &format!("/v1/awards/{SEOUL}/applications?limit=1000"),
        &admin,
    );
    assert_eq!(before, after);
    let (status, v) = on_pg.post(
        &format!("/v1/awards/{SEOUL}/applications"),
        &integrator,
        &seoul_apps()[20],
    );
    assert_eq!(status, 201, "{v}");
    // A backup of the running database server, restored into another, empty database.
    let file = dir.path().join("backup.json");
    let (status, out) = laurel(&[
        "backup",
        "--server",
        &on_pg.url,
        "--key",
        &admin,
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(status, Some(0), "{out}");
    let second = pg.database();
    let (status, out) = laurel(&[
        "restore",
        file.to_str().unwrap(),
        "--data",
        folder.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--key-in-data-for-tests",
        "--store",
        &second,
    ]);
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("every record verify"), "{out}");
    let (status, out) = laurel(&["audit", "verify", &second]);
    assert_eq!(status, Some(0), "{out}");
    on_pg.stop();
    // And back to a new folder, verified on both sides.
    let back = dir.path().join("back");
    let (status, out) = laurel(&["copy", "--from", &url, "--to", back.to_str().unwrap()]);
    assert_eq!(status, Some(0), "{out}");
    let (status, out) = laurel(&["audit", "verify", back.to_str().unwrap()]);
    assert_eq!(status, Some(0), "{out}");
}

#[test]
fn a_database_that_goes_away_is_unavailable_then_reconnected() {
    let pg = Cluster::start();
    let url = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("laurel.key");
    let server = serve(&url, &dir.path().join("a"), &key, &["--migrate"]);
    let admin = server.admin().to_owned();
    assert_eq!(server.get("/v1/ready", &admin).0, 200);
    pg.stop();
    // Readiness says so, and a write is refused as unavailable (503), not as a server fault.
    let (status, v) = server.get("/v1/ready", &admin);
    assert_eq!(status, 503, "{v}");
    let (status, v) = server.post(&format!("/v1/awards/{SEOUL}/open"), &admin, &json!({}));
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["type"], "/problems/unavailable", "{v}");
    pg.resume();
    // The next requests find a new connection; nothing was half-written.
    let ready = (0..20).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        server.get("/v1/ready", &admin).0 == 200
    });
    assert!(ready);
    let (status, v) = server.post(&format!("/v1/awards/{SEOUL}/open"), &admin, &json!({}));
    assert_eq!(status, 200, "{v}");
    let (status, out) = laurel(&["audit", "verify", &url]);
    assert_eq!(status, Some(0), "{out}");
    server.stop();
}

#[test]
fn a_tampered_database_is_found_and_salvaged() {
    let pg = Cluster::start();
    let url = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("laurel.key");
    let server = serve(&url, &dir.path().join("a"), &key, &["--migrate"]);
    let admin = server.admin().to_owned();
    open_with_applications(&server, &admin, 5);
    server.stop();
    // Someone with database access changes a stored application behind the chain's back.
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let changed = c
        .execute(
            "UPDATE laurel_kv SET value = convert_to('{\"forged\": true}', 'UTF8')
             WHERE tree = 'applications' AND key = (SELECT key FROM laurel_kv WHERE tree = 'applications' ORDER BY key LIMIT 1)",
            &[],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let (status, out) = laurel(&["audit", "verify", &url]);
    assert_eq!(status, Some(1), "{out}");
    assert!(out.contains("altered"), "{out}");
    // Salvage: everything the chain vouches for, into a new folder that verifies.
    let to = dir.path().join("salvaged");
    let (status, out) = laurel(&["salvage", &url, "--to", to.to_str().unwrap()]);
    assert_eq!(status, Some(1), "{out}");
    assert!(
        out.contains("altered") && out.contains("1 records not recovered"),
        "{out}"
    );
    let (status, out) = laurel(&["audit", "verify", to.to_str().unwrap()]);
    assert_eq!(status, Some(0), "{out}");
}

/// The server's connections to database `laurel_0`: (encrypted, all), from `pg_stat_ssl`.
fn encrypted_connections(plain: &str) -> (i64, i64) {
    let mut c =
        postgres::Client::connect(&plain.replace("/laurel_0", "/postgres"), postgres::NoTls)
            .unwrap();
    let row = c
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s
             JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'laurel_0'",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// A database that speaks TLS: with `sslmode=require` and the database's CA, every connection
/// is encrypted; without the CA, the certificate is not trusted and nothing connects.
#[test]
fn a_database_reached_over_tls_with_its_ca() {
    let pg = Cluster::start_tls();
    let plain = pg.database();
    let url = format!("{plain}?sslmode=require");
    let ca = pg.ca_file();
    let (status, out) = laurel(&["migrate", "--store", &url]);
    assert_ne!(status, Some(0), "{out}");
    assert!(out.contains("cannot connect"), "{out}");
    let (status, out) = laurel(&[
        "migrate",
        "--store",
        &url,
        "--store-ca-file",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(status, Some(0), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("laurel.key");
    let server = serve(
        &url,
        &dir.path().join("a"),
        &key,
        &["--store-ca-file", ca.to_str().unwrap()],
    );
    let admin = server.admin().to_owned();
    let (status, v) = server.post(&format!("/v1/awards/{SEOUL}/open"), &admin, &json!({}));
    assert_eq!(status, 200, "{v}");
    // Every connection the server holds to its database is encrypted.
    let (encrypted, all) = encrypted_connections(&plain);
    assert!(
        all > 0 && encrypted == all,
        "{encrypted} of {all} connections encrypted"
    );
    server.stop();
}

/// The default `sslmode` (`prefer`) against a database whose certificate nobody here vouches
/// for (as a stock Debian cluster's self-signed one): it connects encrypted, as libpq's
/// `prefer` does, where it once failed the TLS handshake; `require` still refuses it.
#[test]
fn the_default_sslmode_connects_encrypted_to_an_untrusted_certificate() {
    let pg = Cluster::start_tls();
    let plain = pg.database();
    let (status, out) = laurel(&["migrate", "--store", &plain]);
    assert_eq!(status, Some(0), "the default connects: {out}");
    let (status, out) = laurel(&["migrate", "--store", &format!("{plain}?sslmode=require")]);
    assert_ne!(
        status,
        Some(0),
        "require still checks the certificate: {out}"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        &plain,
        &dir.path().join("a"),
        &dir.path().join("laurel.key"),
        &[],
    );
    let admin = server.admin().to_owned();
    let (status, v) = server.post(&format!("/v1/awards/{SEOUL}/open"), &admin, &json!({}));
    assert_eq!(status, 200, "{v}");
    let (encrypted, all) = encrypted_connections(&plain);
    assert!(
        all > 0 && encrypted == all,
        "{encrypted} of {all} connections encrypted"
    );
    server.stop();
}

#[test]
fn a_stopped_server_on_a_database_exits_cleanly() {
    // SIGTERM once ended in an abort: the synchronous client's connections were closed on the
    // async runtime's thread.
    let pg = Cluster::start();
    let url = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        &url,
        &dir.path().join("data"),
        &dir.path().join("key"),
        &["--migrate"],
    );
    let admin = server.admin().to_owned();
    assert!(!open_with_applications(&server, &admin, 3).is_empty());
    let pid = server.pid();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = server.wait_exit(std::time::Duration::from_secs(20));
    assert_eq!(
        exited,
        Some(0),
        "the server ended with {exited:?}, not a clean exit"
    );
}

/// A retry with the same `Idempotency-Key` that reaches the other process while the first
/// request runs does not run again: the key is claimed in the database, not per process.
#[test]
fn an_idempotency_key_holds_across_processes() {
    let Pair {
        a,
        b,
        admin,
        _dir,
        _pg,
        ..
    } = two_processes(&[]);
    let (status, v) = a.post(&format!("/v1/awards/{SEOUL}/open"), &admin, &json!({}));
    assert_eq!(status, 200, "{v}");
    // An applicant's submissions are named by the server: a request that ran twice would make
    // two applications.
    let applicant = a.key("applicant", None);
    let mut app = seoul_apps()[0].clone();
    app.as_object_mut().unwrap().remove("id");
    let post = |server: &Server, idem: &str| -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut r = agent
            .post(&format!("{}/v1/awards/{SEOUL}/applications", server.url))
            .header("authorization", &format!("Bearer {applicant}"))
            .header("content-type", "application/json")
            .header("idempotency-key", idem)
            .send(app.to_string())
            .unwrap();
        (
            r.status().as_u16(),
            serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null),
        )
    };
    let keys = 12;
    for n in 0..keys {
        let idem = format!("retry-{n}");
        let (first, second) = std::thread::scope(|s| {
            let x = s.spawn(|| post(&a, &idem));
            let y = s.spawn(|| post(&b, &idem));
            (x.join().unwrap(), y.join().unwrap())
        });
        for (status, v) in [&first, &second] {
            assert!(
                *status == 201
                    || (*status == 409 && v["detail"].as_str().unwrap().contains("still running")),
                "{status} {v}"
            );
        }
        assert!(first.0 == 201 || second.0 == 201, "{first:?} {second:?}");
        if first.0 == 201 && second.0 == 201 {
            assert_eq!(first.1["id"], second.1["id"], "a replay answers the same");
        }
    }
    let (_, list) = a.get(
        &format!("/v1/awards/{SEOUL}/applications?limit=1000"),
        &admin,
    );
    assert_eq!(ids(&list).len(), keys, "one application per key: {list}");
    a.stop();
    b.stop();
}

/// A rate limit is the installation's, not each process's: a key that spent six of its ten
/// requests a minute on one process has four left on the other, and then none on either
/// (each process adds its requests to counts in the database four times a second, and reads
/// a key's count on its first request of the minute and on each once near its budget).
#[test]
fn a_rate_limit_is_one_budget_across_processes() {
    let Pair {
        a,
        b,
        admin,
        _dir,
        _pg,
        ..
    } = two_processes(&["--rate-limit", "10"]);
    // A minute of its own: not one about to turn.
    let second = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            % 60
    };
    while second() > 45 {
        std::thread::sleep(Duration::from_millis(500));
    }
    let integrator = a.key("integrator", None);
    let status = |server: &Server| server.get("/v1/awards", &integrator).0;
    for _ in 0..6 {
        assert_eq!(status(&a), 200);
    }
    // A adds its requests to the shared count within a quarter of a second.
    std::thread::sleep(Duration::from_millis(600));
    let on_b: Vec<u16> = (0..6).map(|_| status(&b)).collect();
    assert_eq!(on_b, [200, 200, 200, 200, 429, 429], "B after six on A");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(status(&a), 429, "A, once it has read B's four");
    // Another key has its own budget.
    assert_eq!(a.get("/v1/awards", &admin).0, 200);
    a.stop();
    b.stop();
}

/// Failed guesses are the installation's count, not each process's: with two failures
/// allowed, a guesser alternating between two processes is blocked on both at its fourth,
/// where each process counting alone would have let six pass; a valid key from the same
/// address is still served.
#[test]
fn failed_guesses_are_one_count_across_processes() {
    let Pair {
        a,
        b,
        admin,
        _dir,
        _pg,
        ..
    } = two_processes(&["--auth-failures-allowed", "2"]);
    let guess = "lk_not-a-key-anyone-was-given";
    // Two free failures, then the third earns a block of a second: the fourth, on the other
    // process, is refused (each process alone would have counted it its second).
    let answers: Vec<(u16, Value)> = (0..4)
        .map(|n| [&a, &b][n % 2].get("/v1/awards", guess))
        .collect();
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses,
        [401, 401, 401, 429],
        "alternating A and B: {answers:?}"
    );
    let refused = &answers[3].1;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("try again in 1 seconds"),
        "{refused}"
    );
    assert_eq!(a.get("/v1/awards", &admin).0, 200, "a valid key is served");
    assert_eq!(b.get("/v1/awards", &admin).0, 200, "on both");
    a.stop();
    b.stop();
}

/// libpq's `verify-ca` and `verify-full`: both need the database's CA; `verify-full` also
/// needs the certificate to name the host the URL gives, `verify-ca` does not.
#[test]
fn verify_ca_checks_the_chain_and_verify_full_the_host_too() {
    let pg = Cluster::start_tls();
    let plain = pg.database();
    let ca = pg.ca_file();
    let ca = ca.to_str().unwrap();
    let migrate = |url: &str, with_ca: bool| {
        let mut args = vec!["migrate", "--store", url];
        if with_ca {
            args.extend(["--store-ca-file", ca]);
        }
        laurel(&args)
    };
    // By the address the certificate names: both connect with the CA, neither without.
    for mode in ["verify-ca", "verify-full"] {
        let url = format!("{plain}?sslmode={mode}");
        let (status, out) = migrate(&url, false);
        assert_ne!(status, Some(0), "{mode} without the CA: {out}");
        let (status, out) = migrate(&url, true);
        assert_eq!(status, Some(0), "{mode} with the CA: {out}");
    }
    // By another name of the same host, which the certificate does not give.
    let other = plain.replace("127.0.0.1", "localhost");
    let (status, out) = migrate(&format!("{other}?sslmode=verify-ca"), true);
    assert_eq!(status, Some(0), "verify-ca by another name: {out}");
    let (status, out) = migrate(&format!("{other}?sslmode=verify-full"), true);
    assert_ne!(status, Some(0), "verify-full by another name: {out}");
}
