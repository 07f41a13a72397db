//! What the benchmarks that load a real server share: the server started on a free port with
//! no rubrics and no rate limit, and the smallest award that runs.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// The server, stopped when dropped (even when the benchmark panics).
pub struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `laurel serve` with its data in `data`: the server, its URL and the administrator key.
pub fn serve(data: &std::path::Path) -> (Kill, String, String) {
    let rubrics = data.join("none");
    std::fs::create_dir_all(&rubrics).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_laurel"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.join("data"))
        .arg("--key-file")
        .arg(data.join("key"))
        .arg("--rubrics")
        .arg(&rubrics)
        .args(["--rate-limit", "100000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Kill(child);
    let (mut admin, mut base) = (String::new(), String::new());
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(k) =
            line.strip_prefix("laurel: admin key (shown once; only its hash is stored): ")
        {
            admin = k.to_owned();
        }
        if let Some(u) = line.strip_prefix("laurel: listening on ") {
            base = u.to_owned();
            break;
        }
    }
    (server, base, admin)
}

/// An HTTP client that reads error answers as answers.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// An award of one text field and one criterion, open from 2020 to 2099.
pub fn definition(id: &str, name: &str) -> Value {
    json!({
        "format_version": "1.1", "id": id, "name": name, "edition": "1",
        "languages": {"default": "en", "available": ["en"]},
        "timeline": {"time_zone": "UTC", "opens": "2020-01-01T00:00", "closes": "2099-01-01T00:00", "results": "2099-02-01T00:00"},
        "applicant_types": [{"id": "team", "name": "Team"}],
        "form": {"fields": [{"id": "title", "type": "short_text", "label": "Title"}]},
        "scales": [{"id": "ten", "min": 0, "max": 10}],
        "categories": [{"id": "main", "name": "Main", "applicant_types": ["team"], "winners": 1,
            "criteria": [{"id": "k", "name": "K", "weight": 1}]}],
        "scoring": {"scale": "ten"}
    })
}

/// Calls `method url`, and reads the answer: its status and its bytes.
pub fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    key: &str,
    body: Option<&Value>,
) -> (u16, Vec<u8>) {
    let auth = format!("Bearer {key}");
    let mut r = match (method, body) {
        ("GET", _) => agent.get(url).header("Authorization", &auth).call(),
        (_, b) => agent
            .post(url)
            .header("Authorization", &auth)
            .send(b.map(Value::to_string).unwrap_or_default().as_bytes()),
    }
    .unwrap();
    let status = r.status().as_u16();
    let mut bytes = Vec::new();
    r.body_mut()
        .with_config()
        .limit(u64::MAX)
        .reader()
        .read_to_end(&mut bytes)
        .unwrap();
    (status, bytes)
}

/// An award of one text field and one criterion, published and open.
pub fn award(base: &str, admin: &str, id: &str) {
    let a = agent();
    let definition = definition(id, &format!("Award {id}"));
    let (s, v) = call(
        &a,
        "POST",
        &format!("{base}/v1/awards"),
        admin,
        Some(&definition),
    );
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&v));
    for step in ["publish", "open"] {
        let (s, v) = call(
            &a,
            "POST",
            &format!("{base}/v1/awards/{id}/{step}"),
            admin,
            Some(&json!({})),
        );
        assert!(
            s == 200 || s == 201,
            "{step}: {}",
            String::from_utf8_lossy(&v)
        );
    }
}
