//! HTTP benchmark: `cargo bench --bench http`.
//!
//! `POST /v1/evaluate` for one application (the Seoul prize, 5 judges, its wasm score plugin)
//! against the real `laurel` binary, and a bare axum handler returning the same bytes, each
//! loaded by the same loopback load generator (64 keep-alive connections) in one run: requests
//! per second, p50 and p99 latency, and the ratio. Then the rate of durable application writes.

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
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
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
    let request = Arc::new(http_request(
        "/v1/evaluate",
        &admin,
        body.to_string().as_bytes(),
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (laurel, bare) = runtime.block_on(async {
        // The baseline: bare axum returning the same bytes.
        let bytes = Arc::new(response.clone());
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
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let bare = load(&bare_addr, request.clone()).await;
        let laurel = load(&url, request.clone()).await;
        (laurel, bare)
    });
    println!(
        "POST /v1/evaluate, one application, 5 judges, wasm score plugin; {CONNECTIONS} connections, {}s each:",
        DURATION.as_secs()
    );
    println!(
        "  bare axum, same bytes   {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
        bare.0,
        bare.1.as_secs_f64() * 1e3,
        bare.2.as_secs_f64() * 1e3
    );
    println!(
        "  laurel                  {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
        laurel.0,
        laurel.1.as_secs_f64() * 1e3,
        laurel.2.as_secs_f64() * 1e3
    );
    println!(
        "  ratio                   {:>8.2} of bare axum's rate",
        laurel.0 / bare.0
    );

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
    let n = 300;
    let t = Instant::now();
    for i in 0..n {
        let mut a = apps[0].clone();
        a["id"] = json!(format!("bench-{i}"));
        assert_eq!(
            post(
                "/v1/awards/seoul-smart-city-prize-2023/applications",
                &admin,
                &a
            )
            .0,
            201
        );
    }
    let one = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..8 {
            let (url, admin, apps) = (&url, &admin, &apps);
            s.spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                for i in 0..n / 8 {
                    let mut a = apps[0].clone();
                    a["id"] = json!(format!("bench-{w}-{i}"));
                    let r = agent
                        .post(&format!(
                            "http://{url}/v1/awards/seoul-smart-city-prize-2023/applications"
                        ))
                        .header("Authorization", &format!("Bearer {admin}"))
                        .send(a.to_string().as_bytes())
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                }
            });
        }
    });
    let eight = (n / 8 * 8) as f64 / t.elapsed().as_secs_f64();
    println!(
        "durable application writes (checked, eligibility decided, sealed, audited, flushed):"
    );
    println!("  {one:>8.0} per second from one client, {eight:>8.0} from eight");
    let _ = child.kill();
    let _ = child.wait();
}
