//! Durable application writes per second on each store, in one run: sled in one process,
//! PostgreSQL from one, two and three processes on one database (a throwaway cluster on
//! 127.0.0.1 with `fsync` on), to one award and spread over eight, each as a ratio to its raw
//! baseline measured in the same run (a sled insert + flush + `fdatasync`; a one-row PostgreSQL insert +
//! commit, from one connection and from eight).
//!
//! `cargo bench --bench stores`
//!
//! Settings, from the environment: `LAUREL_BENCH_ONLY=postgres` leaves sled out;
//! `LAUREL_BENCH_COMMIT_DELAY_US=N` makes every PostgreSQL commit wait `N` µs before its flush
//! (`commit_delay`, baselines included), as a database whose flush is slow does (network
//! storage, a synchronous replica); `LAUREL_BENCH_BASELINE_BIN=path` runs each PostgreSQL
//! configuration with that `laurel` binary too, on a database of its own, alternated with this
//! build's (an older build, for a before and after in one run).

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
    serve_with(env!("CARGO_BIN_EXE_laurel"), data, key, store)
}

/// [`serve`] with the binary at `bin`.
fn serve_with(
    bin: &str,
    data: &std::path::Path,
    key: &std::path::Path,
    store: Option<&str>,
) -> (Kill, String, Option<String>) {
    let mut cmd = Command::new(bin);
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

/// The Seoul prize's id.
const SEOUL: &str = "seoul-smart-city-prize-2023";

/// Opens a published call for a month from now, as a rehearsal would.
fn open_call(base: &str, admin: &str, id: &str) {
    let award = format!("/v1/awards/{id}");
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

/// `n` copies of the Seoul prize under other ids, published and open: awards whose commits
/// share no key.
fn copies(base: &str, admin: &str, n: usize) -> Vec<String> {
    let text =
        std::fs::read_to_string(root().join("rubrics").join(SEOUL).join("award.json")).unwrap();
    (0..n)
        .map(|i| {
            let id = format!("bench-award-{i}");
            let mut def: Value = serde_json::from_str(&text).unwrap();
            def["id"] = json!(id);
            let (status, v) = post(base, "/v1/awards", admin, &def);
            assert_eq!(status, 201, "{v}");
            let (status, v) = post(base, &format!("/v1/awards/{id}/publish"), admin, &json!({}));
            assert!(status == 200 || status == 201, "{v}");
            open_call(base, admin, &id);
            id
        })
        .collect()
}

/// Application writes per second from `clients` clients spread over `bases` (client `w` on
/// `bases[w % len]`) and `awards` (client `w` writes to `awards[w % len]`).
fn writes(
    bases: &[String],
    awards: &[String],
    admin: &str,
    clients: usize,
    n: usize,
    tag: &str,
) -> f64 {
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
            let award = &awards[w % awards.len()];
            s.spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                for i in 0..n / clients {
                    let mut a = app.clone();
                    a["id"] = json!(format!("{tag}-{clients}-{w}-{i}"));
                    let r = agent
                        .post(&format!("{base}/v1/awards/{award}/applications"))
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
    // A data key (and so a witness of the audit chain beside it) for each installation: a
    // server refuses a store whose chain is behind the one its witness saw.
    let key = |name: &str| dir.path().join(format!("{name}.key"));
    // Baselines, in this run. sled's flush writes its log without syncing it
    // (`vendor/sled/PATCH.md`): a durable sled write is a flush and `fdatasync` of the log, as
    // the server's commit makes it.
    let raw = sled::open(dir.path().join("raw")).unwrap();
    let log = std::fs::File::open(dir.path().join("raw/db")).unwrap();
    let record = vec![7u8; 2048];
    let t = Instant::now();
    for i in 0..1000u32 {
        raw.insert(i.to_be_bytes(), record.as_slice()).unwrap();
        raw.flush().unwrap();
        log.sync_data().unwrap();
    }
    let raw_sled = 1000.0 / t.elapsed().as_secs_f64();
    // The disk itself: 4 KiB appended and `fdatasync`ed, one after another.
    let mut bare = std::fs::File::create(dir.path().join("bare")).unwrap();
    let page = vec![7u8; 4096];
    let t = Instant::now();
    for _ in 0..1000 {
        std::io::Write::write_all(&mut bare, &page).unwrap();
        bare.sync_data().unwrap();
    }
    let raw_fsync = 1000.0 / t.elapsed().as_secs_f64();
    let pg = postgres_cluster::Cluster::start_with(true);
    if let Ok(delay) = std::env::var("LAUREL_BENCH_COMMIT_DELAY_US") {
        let delay: u32 = delay.parse().unwrap();
        let admin = format!("postgres://laurel@127.0.0.1:{}/postgres", pg.port);
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        for sql in [
            format!("ALTER SYSTEM SET commit_delay = {delay}"),
            "ALTER SYSTEM SET commit_siblings = 0".to_owned(),
            "SELECT pg_reload_conf()".to_owned(),
        ] {
            c.batch_execute(&sql).unwrap();
        }
        println!("every PostgreSQL commit waits {delay} µs before its flush (commit_delay)");
    }
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
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..8i32 {
            let (url, record) = (&raw_url, &record);
            s.spawn(move || {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                for i in 0..250i32 {
                    c.execute(
                        "INSERT INTO raw VALUES ($1, $2)",
                        &[&(10_000 + w * 1000 + i), record],
                    )
                    .unwrap();
                }
            });
        }
    });
    let raw_pg8 = 2000.0 / t.elapsed().as_secs_f64();
    println!(
        "baselines in this run: 4 KiB write + fdatasync {raw_fsync:.0}/s; sled insert + flush + fdatasync {raw_sled:.0}/s; PostgreSQL one-row insert + commit {raw_pg:.0}/s (8 connections: {raw_pg8:.0}/s)"
    );
    println!(
        "durable application writes (checked, eligibility decided, sealed, audited, durable):"
    );

    let seoul = [SEOUL.to_owned()];
    if std::env::var("LAUREL_BENCH_ONLY").as_deref() != Ok("postgres") {
        let (_sled, url, admin) = serve(&dir.path().join("sled"), &key("sled"), None);
        let admin = admin.unwrap();
        let sled_base = url.clone();
        open_call(&sled_base, &admin, SEOUL);
        for clients in [1usize, 8] {
            let rate = writes(
                std::slice::from_ref(&sled_base),
                &seoul,
                &admin,
                clients,
                if clients == 1 { 400 } else { 1600 },
                "sled",
            );
            println!(
                "  sled, 1 process,  1 award,   {clients:>2} client(s)  {rate:>7.0}/s   ratio {:.2} of raw sled, {:.2} of bare fdatasyncs",
                rate / raw_sled,
                rate / raw_fsync
            );
        }
        drop(_sled);
    }

    // PostgreSQL: one award, then eight (commits that share no key), from one, two and three
    // processes on one database.
    let mut builds = vec![("", env!("CARGO_BIN_EXE_laurel").to_owned())];
    if let Ok(bin) = std::env::var("LAUREL_BENCH_BASELINE_BIN") {
        builds.insert(0, ("baseline build: ", bin));
    }
    let mut servers = Vec::new();
    // Each build's three processes on a database of its own, its admin key and awards.
    let mut set_up = Vec::new();
    for (n, (_, bin)) in builds.iter().enumerate() {
        let db = pg.database();
        let mut bases = Vec::new();
        let mut admin_pg = String::new();
        for p in 0..3 {
            let (server, base, admin) = serve_with(
                bin,
                &dir.path().join(format!("pg-{n}-{p}")),
                &key(&format!("pg-{n}")),
                Some(&db),
            );
            if let Some(a) = admin {
                admin_pg = a;
            }
            servers.push(server);
            bases.push(base);
        }
        open_call(&bases[0], &admin_pg, SEOUL);
        let eight = copies(&bases[0], &admin_pg, 8);
        set_up.push((bases, admin_pg, eight));
    }
    let mut one_process = vec![0.0; builds.len()];
    for (processes, eight_awards, clients) in [
        (1usize, false, 1usize),
        (1, false, 8),
        (1, true, 8),
        (2, true, 8),
        (3, true, 8),
        (3, true, 24),
    ] {
        for (n, (label, _)) in builds.iter().enumerate() {
            let (bases, admin_pg, eight) = &set_up[n];
            let awards = if eight_awards { &eight[..] } else { &seoul[..] };
            let rate = writes(
                &bases[..processes],
                awards,
                admin_pg,
                clients,
                if clients == 1 { 400 } else { 2400 },
                &format!("pg{processes}-{}", awards.len()),
            );
            if processes == 1 && awards.len() == 8 {
                one_process[n] = rate;
            }
            let scale = if awards.len() == 8 && processes > 1 {
                format!("   {:.2}x one process", rate / one_process[n])
            } else {
                String::new()
            };
            println!(
                "  {label}postgres, {processes} process(es), {} award(s), {clients:>2} client(s)  {rate:>7.0}/s   ratio {:.2} of raw PostgreSQL{scale}",
                awards.len(),
                rate / raw_pg
            );
        }
    }
    drop(servers);
}
