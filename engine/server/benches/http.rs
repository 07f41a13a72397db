//! HTTP benchmark: `cargo bench --bench http`.
//!
//! `POST /v1/evaluate` for one application (the Seoul prize, 5 judges, its wasm score plugin;
//! the same numbers only; an award without a plugin) against the real `laurel` binary, and a
//! bare axum handler returning the same bytes, each loaded by the same loopback load generator
//! (64 keep-alive connections) in one run: requests per second, p50 and p99 latency, and the
//! ratio. Then the rate of durable application writes from 1, 8 and 16 clients, against a raw
//! sled insert + flush + `fdatasync` measured in the same run. Each laurel figure also gives
//! the server's CPU per request, read from `/proc` (its own threads only): on two cores shared
//! with the load generator, a closed-loop rate moves with whatever else runs, and the CPU a
//! request costs is what a change to the server changes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONNECTIONS: usize = 64;
const DURATION: Duration = Duration::from_secs(5);

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads one HTTP/1.1 response with a Content-Length; returns its status.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<u16> {
    buf.clear();
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).ok()?;
            let status: u16 = head.get(9..12)?.parse().ok()?;
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(status);
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Loads `addr` with `request` on 64 connections for DURATION; returns (requests/s, p50, p99).
async fn load(addr: &str, request: Arc<Vec<u8>>) -> (f64, Duration, Duration) {
    let deadline = Instant::now() + DURATION;
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (addr, request) = (addr.to_owned(), request.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut buf = Vec::new();
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                stream.write_all(&request).await.unwrap();
                let status = read_response(&mut stream, &mut buf)
                    .await
                    .expect("response");
                assert_eq!(status, 200);
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let rate = all.len() as f64 / DURATION.as_secs_f64();
    (rate, all[all.len() / 2], all[all.len() * 99 / 100])
}

/// The CPU process `pid` has used so far, user and system, in seconds (from `/proc`).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / rustix::param::clock_ticks_per_second() as f64
}

fn http_request(path: &str, key: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    r.extend_from_slice(body);
    r
}

fn main() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_laurel"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path().join("d"))
        .arg("--rubrics")
        .arg(root().join("rubrics"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let pid = child.id();
    // The server goes with the benchmark, even when it panics.
    let _child = Kill(child);
    let mut lines = BufReader::new(stdout).lines();
    let (mut admin, mut url) = (String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(k) =
            line.strip_prefix("laurel: admin key (shown once; only its hash is stored): ")
        {
            admin = k.to_owned();
        }
        if let Some(u) = line.strip_prefix("laurel: listening on http://") {
            url = u.to_owned();
            break;
        }
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |path: &str, key: &str, body: &Value| {
        let mut r = agent
            .post(&format!("http://{url}{path}"))
            .header("Authorization", &format!("Bearer {key}"))
            .send(body.to_string().as_bytes())
            .unwrap();
        (
            r.status().as_u16(),
            r.body_mut()
                .with_config()
                .limit(64 << 20)
                .read_to_string()
                .unwrap(),
        )
    };
    let apps: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let marks: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/seoul-smart-city-prize-2023/marks.json"))
            .unwrap(),
    )
    .unwrap();
    let app = apps[0].clone();
    let evaluations: Vec<Value> = marks["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["application"] == app["id"])
        .cloned()
        .collect();
    let body = json!({ "award": { "id": "seoul-smart-city-prize-2023" }, "applications": [app], "marks": { "evaluations": evaluations } });
    let (status, response) = post("/v1/evaluate", &admin, &body);
    assert_eq!(status, 200, "{response}");
    // The same application without the plugin's trace (numbers only), and an award without a
    // plugin (the civic fellowship: one researcher, five judges).
    // (installed from rubrics/ as version 1: nothing to publish)
    let civic_app = json!({ "id": "r-1", "category": "research-fellowship", "applicant_type": "researcher",
        "fields": { "title": "Open budgets", "resident_in_city": true, "budget_requested": 30000,
                    "phd_year": 2018, "open_source_license": "mit" } });
    let civic_marks: Vec<Value> = (1..=5)
        .map(|j| json!({ "judge": format!("j{j}"), "application": "r-1",
            "marks": { "policy-relevance": 1 + j % 5, "method": 1 + (j + 1) % 5, "track-record": 1 + (j + 2) % 5 } }))
        .collect();
    let civic = json!({ "award": { "id": "civic-tech-fellowship-2025" }, "applications": [civic_app], "marks": { "evaluations": civic_marks } });
    let (status, civic_response) = post("/v1/evaluate", &admin, &civic);
    assert_eq!(status, 200, "{civic_response}");
    let cases = [
        (
            "Seoul, wasm score plugin, traces",
            "/v1/evaluate",
            body.clone(),
            response.clone(),
        ),
        (
            "Seoul, wasm score plugin, trace=false",
            "/v1/evaluate?trace=false",
            body.clone(),
            post("/v1/evaluate?trace=false", &admin, &body).1,
        ),
        (
            "civic fellowship, no plugin, traces",
            "/v1/evaluate",
            civic.clone(),
            civic_response,
        ),
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "POST /v1/evaluate, one application, 5 judges; {CONNECTIONS} connections, {}s each; each against bare axum returning the same bytes, in this run:",
        DURATION.as_secs()
    );
    for (name, path, body, answer) in cases {
        let request = Arc::new(http_request(path, &admin, body.to_string().as_bytes()));
        let (laurel, bare, cpu) = runtime.block_on(async {
            let bytes = Arc::new(answer);
            let app = axum::Router::new().route(
                "/v1/evaluate",
                axum::routing::post(move || {
                    let bytes = bytes.clone();
                    async move {
                        (
                            [(axum::http::header::CONTENT_TYPE, "application/json")],
                            bytes.as_ref().clone(),
                        )
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let bare_addr = listener.local_addr().unwrap().to_string();
            let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            let bare = load(&bare_addr, request.clone()).await;
            server.abort();
            let cpu = cpu_seconds(pid);
            let laurel = load(&url, request.clone()).await;
            let per_request = (cpu_seconds(pid) - cpu) / (laurel.0 * DURATION.as_secs_f64());
            (laurel, bare, per_request)
        });
        println!("  {name}:");
        println!(
            "    bare axum   {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            bare.0,
            bare.1.as_secs_f64() * 1e3,
            bare.2.as_secs_f64() * 1e3
        );
        println!(
            "    laurel      {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ratio {:.2}   server CPU {:.0} µs a request",
            laurel.0,
            laurel.1.as_secs_f64() * 1e3,
            laurel.2.as_secs_f64() * 1e3,
            laurel.0 / bare.0,
            cpu * 1e6
        );
    }

    // Durable writes: each acknowledged only after sled's flush.
    assert_eq!(
        post(
            "/v1/awards/seoul-smart-city-prize-2023/open",
            &admin,
            &json!({})
        )
        .0,
        200
    );
    // The 2023 call closed long ago: reopen it for a month, as a rehearsal would.
    let closes = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let (status, v) = post(
        "/v1/awards/seoul-smart-city-prize-2023/timeline",
        &admin,
        &json!({ "closes": closes, "reason": "benchmark" }),
    );
    assert_eq!(status, 200, "{v}");
    // The baseline, in this run: a raw sled insert, flush and `fdatasync` of its log, one
    // after another (sled's flush writes its log without syncing it, `vendor/sled/PATCH.md`;
    // the server's commit syncs it so).
    let raw_dir = tempfile::tempdir().unwrap();
    let raw = sled::open(raw_dir.path()).unwrap();
    let log = std::fs::File::open(raw_dir.path().join("db")).unwrap();
    let record = vec![7u8; 2048];
    let t = Instant::now();
    for i in 0..1000u32 {
        raw.insert(i.to_be_bytes(), record.as_slice()).unwrap();
        raw.flush().unwrap();
        log.sync_data().unwrap();
    }
    let raw_rate = 1000.0 / t.elapsed().as_secs_f64();
    println!(
        "durable application writes (checked, eligibility decided, sealed, audited, flushed), against a raw sled insert + flush + fdatasync ({raw_rate:.0} per second) in this run:"
    );
    // `GET /v1/health` on one keep-alive connection: idle, then while the writers run.
    let health = |stop: Option<&std::sync::atomic::AtomicBool>| -> Vec<Duration> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut took = Vec::new();
        loop {
            let t = Instant::now();
            let r = agent
                .get(&format!("http://{url}/v1/health"))
                .call()
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            took.push(t.elapsed());
            match stop {
                None if took.len() >= 500 => break,
                Some(s) if s.load(std::sync::atomic::Ordering::Relaxed) => break,
                _ => std::thread::sleep(Duration::from_millis(2)),
            }
        }
        took.sort_unstable();
        took
    };
    let quantile = |v: &[Duration], q: f64| v[((v.len() - 1) as f64 * q) as usize];
    let idle = health(None);
    for clients in [1usize, 8, 16] {
        let n = if clients == 1 { 600 } else { 2400 };
        let t = Instant::now();
        let cpu = cpu_seconds(pid);
        let done = std::sync::atomic::AtomicBool::new(false);
        let mut busy = Vec::new();
        std::thread::scope(|s| {
            let probe = (clients == 16).then(|| s.spawn(|| health(Some(&done))));
            let mut writers = Vec::new();
            for w in 0..clients {
                let (url, admin, apps) = (&url, &admin, &apps);
                writers.push(s.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    for i in 0..n / clients {
                        let mut a = apps[0].clone();
                        a["id"] = json!(format!("bench-{clients}-{w}-{i}"));
                        let r = agent
                            .post(&format!(
                                "http://{url}/v1/awards/seoul-smart-city-prize-2023/applications"
                            ))
                            .header("Authorization", &format!("Bearer {admin}"))
                            .send(a.to_string().as_bytes())
                            .unwrap();
                        assert_eq!(r.status().as_u16(), 201);
                    }
                }));
            }
            for w in writers {
                w.join().unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            if let Some(p) = probe {
                busy = p.join().unwrap();
            }
        });
        let rate = (n / clients * clients) as f64 / t.elapsed().as_secs_f64();
        // The probe's requests cost the server too: counted in, they are a few per cent.
        let per_write = (cpu_seconds(pid) - cpu) / (n / clients * clients) as f64;
        println!(
            "  {clients:>2} client(s)  {rate:>8.0} per second   ratio {:.2} of raw sled   server CPU {:.0} µs a write",
            rate / raw_rate,
            per_write * 1e6
        );
        if !busy.is_empty() {
            println!(
                "  GET /v1/health while {clients} clients write: p50 {:?} (idle {:?}, ratio {:.1}), p99 {:?} (idle {:?}, ratio {:.1})",
                quantile(&busy, 0.5),
                quantile(&idle, 0.5),
                quantile(&busy, 0.5).as_secs_f64() / quantile(&idle, 0.5).as_secs_f64(),
                quantile(&busy, 0.99),
                quantile(&idle, 0.99),
                quantile(&busy, 0.99).as_secs_f64() / quantile(&idle, 0.99).as_secs_f64(),
            );
        }
    }
}

struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
