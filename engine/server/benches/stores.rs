//! Durable application writes per second on each store, in one run: sled in one process,
//! PostgreSQL from one process and from two processes on one database (a throwaway cluster
//! on 127.0.0.1 with `fsync` on), each as a ratio to its raw baseline measured in the same run
//! (a sled insert + flush; a one-row PostgreSQL insert + commit).
//!
//! `cargo bench --bench stores`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

#[path = "../../../tests/support/postgres.rs"]
#[allow(dead_code)]
mod postgres_cluster;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `laurel serve`; its address and the admin key it printed, if any.
fn serve(
    data: &std::path::Path,
    key: &std::path::Path,
    store: Option<&str>,
) -> (Kill, String, Option<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_laurel"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--key-file")
        .arg(key)
        .arg("--rubrics")
        .arg(root().join("rubrics"))
        .args(["--rate-limit", "1000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(url) = store {
        cmd.args(["--store", url, "--migrate"]);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Kill(child);
    let (mut admin, mut url) = (None, String::new());
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(k) =
            line.strip_prefix("laurel: admin key (shown once; only its hash is stored): ")
        {
            admin = Some(k.to_owned());
        }
        if let Some(u) = line.strip_prefix("laurel: listening on ") {
            url = u.to_owned();
            break;
        }
    }
    (child, url, admin)
}

fn post(base: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .post(&format!("{base}{path}"))
        .header("Authorization", &format!("Bearer {key}"))
        .send(body.to_string().as_bytes())
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Opens the Seoul call for a month from now, as a rehearsal would.
fn open_call(base: &str, admin: &str) {
    let award = "/v1/awards/seoul-smart-city-prize-2023";
    assert_eq!(
        post(base, &format!("{award}/open"), admin, &json!({})).0,
        200
    );
    let closes = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let (status, v) = post(
        base,
        &format!("{award}/timeline"),
        admin,
        &json!({ "closes": closes, "reason": "benchmark" }),
    );
    assert_eq!(status, 200, "{v}");
}

/// Application writes per second from `clients` clients spread over `bases`.
fn writes(bases: &[String], admin: &str, clients: usize, n: usize, tag: &str) -> f64 {
    let apps: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..clients {
            let (base, app) = (&bases[w % bases.len()], apps[0].clone());
            s.spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                for i in 0..n / clients {
                    let mut a = app.clone();
                    a["id"] = json!(format!("{tag}-{clients}-{w}-{i}"));
                    let r = agent
                        .post(&format!(
                            "{base}/v1/awards/seoul-smart-city-prize-2023/applications"
                        ))
                        .header("Authorization", &format!("Bearer {admin}"))
                        .send(a.to_string().as_bytes())
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                }
            });
        }
    });
    (n / clients * clients) as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("laurel.key");
    // Baselines, in this run.
    let raw = sled::open(dir.path().join("raw")).unwrap();
    let record = vec![7u8; 2048];
    let t = Instant::now();
    for i in 0..1000u32 {
        raw.insert(i.to_be_bytes(), record.as_slice()).unwrap();
        raw.flush().unwrap();
    }
    let raw_sled = 1000.0 / t.elapsed().as_secs_f64();
    let pg = postgres_cluster::Cluster::start_with(true);
    let raw_url = pg.database();
    let mut c = postgres::Client::connect(&raw_url, postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE raw (k integer PRIMARY KEY, v bytea)")
        .unwrap();
    let t = Instant::now();
    for i in 0..1000i32 {
        c.execute("INSERT INTO raw VALUES ($1, $2)", &[&i, &record])
            .unwrap();
    }
    let raw_pg = 1000.0 / t.elapsed().as_secs_f64();
    println!(
        "baselines in this run: sled insert + flush {raw_sled:.0}/s; PostgreSQL one-row insert + commit {raw_pg:.0}/s"
    );
    println!(
        "durable application writes (checked, eligibility decided, sealed, audited, durable):"
    );

    let (_sled, url, admin) = serve(&dir.path().join("sled"), &key, None);
    let admin = admin.unwrap();
    let sled_base = url.clone();
    open_call(&sled_base, &admin);
    for clients in [1usize, 8] {
        let rate = writes(
            std::slice::from_ref(&sled_base),
            &admin,
            clients,
            if clients == 1 { 400 } else { 1600 },
            "sled",
        );
        println!(
            "  sled, 1 process,        {clients:>2} client(s)  {rate:>7.0}/s   ratio {:.2} of raw sled",
            rate / raw_sled
        );
    }
    drop(_sled);

    let db = pg.database();
    let (_a, url_a, admin_a) = serve(&dir.path().join("pg-a"), &key, Some(&db));
    let admin_pg = admin_a.unwrap();
    open_call(&url_a, &admin_pg);
    for clients in [1usize, 8] {
        let rate = writes(
            std::slice::from_ref(&url_a),
            &admin_pg,
            clients,
            if clients == 1 { 400 } else { 1600 },
            "pg1",
        );
        println!(
            "  postgres, 1 process,    {clients:>2} client(s)  {rate:>7.0}/s   ratio {:.2} of raw PostgreSQL",
            rate / raw_pg
        );
    }
    let (_b, url_b, _) = serve(&dir.path().join("pg-b"), &key, Some(&db));
    for clients in [2usize, 8] {
        let rate = writes(
            &[url_a.clone(), url_b.clone()],
            &admin_pg,
            clients,
            1600,
            "pg2",
        );
        println!(
            "  postgres, 2 processes,  {clients:>2} client(s)  {rate:>7.0}/s   ratio {:.2} of raw PostgreSQL",
            rate / raw_pg
        );
    }
}
