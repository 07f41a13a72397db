//! Starts the real `laurel` binary on a free port on 127.0.0.1 and talks to it over HTTP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub mod authenticator;
pub mod contract;
pub mod postgres;
pub mod python;
pub mod receiver;
pub mod session;
pub mod smtp;

/// An instant within the Seoul prize's 2023 call (2023-03-02 to 2023-05-31, Asia/Seoul).
pub const SEOUL_CALL_OPEN: &str = "2023-04-15T12:00:00+09:00";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the `laurel` binary; its exit code, and what it printed (stdout, then stderr).
pub fn laurel(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_laurel"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs `laurel serve` (on a free port, inside the Seoul call) with `args`, expecting it to
/// refuse to start: its exit code and standard error. Fails when it still runs after a minute.
pub fn serve_refused(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_laurel"))
        .args(["serve", "--listen", "127.0.0.1:0", "--now", SEOUL_CALL_OPEN])
        .args(args)
        .env_remove("LAUREL_DATA_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`laurel serve {args:?}` started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status.code(), err)
}

/// Runs `laurel audit verify` on a data folder: its exit code and output.
pub fn audit_verify(data: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_laurel"))
        .args(["audit", "verify"])
        .arg(data)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    /// The server's process id when `child` is a wrapper around it.
    wrapped: Option<u32>,
    /// Its log, a pipe the test reads or leaves unread, when started with
    /// `LAUREL_TEST_STDERR_PIPE`.
    pub stderr: Option<ChildStderr>,
    pub url: String,
    /// The bootstrap admin key, when this start made one.
    pub admin: Option<String>,
    pub data: PathBuf,
}

impl Server {
    /// Starts `laurel serve` on `data`, installing the rubrics under `rubrics`.
    pub fn start(data: &Path, rubrics: &Path) -> Server {
        Self::start_with(data, rubrics, &[])
    }

    pub fn start_with(data: &Path, rubrics: &Path, env: &[(&str, &str)]) -> Server {
        Self::start_full(data, rubrics, env, &[])
    }

    /// Starts with extra environment and command-line arguments.
    pub fn start_full(data: &Path, rubrics: &Path, env: &[(&str, &str)], args: &[&str]) -> Server {
        Self::start_inner(data, rubrics, env, args, &[])
    }

    /// Starts `laurel serve` on `data` under another program: `wrapper` (e.g. `strace … --`),
    /// then the server's command line. Signals (`stop`, `kill`) go to the server itself.
    pub fn start_wrapped(data: &Path, wrapper: &[String]) -> Server {
        Self::start_inner(data, &root().join("rubrics"), &[], &[], wrapper)
    }

    fn start_inner(
        data: &Path,
        rubrics: &Path,
        env: &[(&str, &str)],
        args: &[&str],
        wrapper: &[String],
    ) -> Server {
        // With `LAUREL_TEST_FILE_SIZE_LIMIT`, no file the server writes may grow past that many
        // bytes (`prlimit --fsize`; SIGXFSZ ignored, so a write past it fails as a full disk
        // refuses one, without stopping the process).
        let mut cmd = match env
            .iter()
            .find(|(k, _)| *k == "LAUREL_TEST_FILE_SIZE_LIMIT")
        {
            Some((_, bytes)) => {
                let mut c = Command::new("sh");
                c.args([
                    "-c",
                    r#"trap "" XFSZ; limit=$0; exec prlimit --fsize="$limit" -- "$@""#,
                    bytes,
                    env!("CARGO_BIN_EXE_laurel"),
                ]);
                c
            }
            None if !wrapper.is_empty() => {
                let mut c = Command::new(&wrapper[0]);
                c.args(&wrapper[1..]).arg(env!("CARGO_BIN_EXE_laurel"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_laurel")),
        };
        cmd.arg("serve");
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.arg("--data").arg(data);
        if !args.contains(&"--now") {
            // Inside the 2023 call of the Seoul prize, which the tests apply to.
            cmd.args(["--now", SEOUL_CALL_OPEN]);
        }
        if !args.contains(&"--key-file") {
            // The key beside the data would outlive the test's folder: inside it, as tests may.
            cmd.arg("--key-file")
                .arg(data.join("laurel.key"))
                .arg("--key-in-data-for-tests");
        }
        cmd.arg("--rubrics")
            .arg(rubrics)
            .stdout(Stdio::piped())
            .stderr(
                match env
                    .iter()
                    .find(|(k, _)| *k == "LAUREL_TEST_LOG_FILE" || *k == "LAUREL_TEST_STDERR_PIPE")
                {
                    Some(("LAUREL_TEST_STDERR_PIPE", _)) => Stdio::piped(),
                    Some((_, file)) => Stdio::from(std::fs::File::create(file).unwrap()),
                    None if std::env::var_os("LAUREL_TEST_LOG").is_some() => Stdio::inherit(),
                    None => Stdio::null(),
                },
            )
            .env_remove("LAUREL_DATA_KEY")
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut admin = None;
        let url = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the server did not start");
            if let Some(key) =
                line.strip_prefix("laurel: admin key (shown once; only its hash is stored): ")
            {
                admin = Some(key.to_owned());
            }
            if let Some(url) = line.strip_prefix("laurel: listening on ") {
                break url.to_owned();
            }
        };
        // Under a wrapper, the server is the wrapper's child.
        let wrapped = (!wrapper.is_empty()).then(|| {
            let children = format!("/proc/{0}/task/{0}/children", child.id());
            std::fs::read_to_string(children)
                .ok()
                .and_then(|c| c.split_whitespace().next()?.parse().ok())
                .expect("the wrapper's child")
        });
        Server {
            child: Some(child),
            wrapped,
            stderr,
            url,
            admin,
            data: data.to_path_buf(),
        }
    }

    /// Starts `laurel serve` on `data` with the shipped rubrics, its mail going to an SMTP sink
    /// on 127.0.0.1 that the test reads.
    pub fn start_with_mail(data: &Path) -> (Server, smtp::Sink) {
        let sink = smtp::Sink::start();
        let server = Server::start_full(data, &root().join("rubrics"), &[], &["--smtp", &sink.url]);
        (server, sink)
    }

    /// Stops with SIGTERM and waits (a graceful shutdown).
    pub fn stop(mut self) {
        let pid = self.pid();
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
            let _ = child.wait();
        }
    }

    /// Waits up to `limit` for the server to exit on its own (after a signal): its exit code,
    /// `None` if it was killed by a signal or is still running.
    pub fn wait_exit(mut self, limit: Duration) -> Option<i32> {
        let mut child = self.child.take()?;
        let started = std::time::Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills with SIGKILL: no chance to flush anything.
    pub fn kill(mut self) {
        self.kill_wrapped();
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.wrapped
            .or_else(|| self.child.as_ref().map(Child::id))
            .unwrap_or(0)
    }

    /// Kills the server a wrapper runs (the wrapper then exits with it).
    fn kill_wrapped(&mut self) {
        if let (Some(pid), Some(_)) = (self.wrapped, &self.child) {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        }
    }

    /// The server's resident memory, in KiB (Linux).
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    pub fn admin(&self) -> &str {
        self.admin.as_deref().unwrap()
    }

    /// A GET's status, `Link` header (the next page's, when there is one) and body.
    pub fn get_linked(&self, path: &str, key: &str) -> (u16, Option<String>, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .get(&format!("{}{path}", self.url))
            .header("authorization", &format!("Bearer {key}"))
            .call()
            .unwrap();
        let link = response
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            response.status().as_u16(),
            link,
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap(),
        )
    }

    /// Sends a request; returns the status and the body as JSON (or as a JSON string).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&[u8]>,
    ) -> (u16, Value) {
        if let (Some(key), Some(body)) = (key, body) {
            self.upload_example_files(path, key, body);
        }
        let url = format!("{}{path}", self.url);
        // A new agent, so a new connection, per request: nothing pooled can go stale.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let auth = key.map(|k| format!("Bearer {k}"));
        let response = match (method, body) {
            ("GET", _) => {
                let mut r = agent.get(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            (m, b) => {
                let mut r = match m {
                    "POST" => agent.post(&url),
                    "PUT" => agent.put(&url),
                    "DELETE" => {
                        let (status, value) = self.delete(&url, auth.as_deref());
                        contract::check(method, path, None, status, &value);
                        return (status, value);
                    }
                    other => panic!("method {other}"),
                };
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.send(b.unwrap_or_default())
            }
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        contract::check(method, path, body, status, &value);
        (status, value)
    }

    /// Before an application is submitted or updated (`POST …/applications`, `PUT
    /// …/applications/{id}`), uploads with the same key every file of the example data set it
    /// refers to (`examples/*/files/{name}`), as a portal does: the server takes a reference
    /// only to a file its submitter uploaded. A file not in the examples is left alone (so a
    /// test can refer to one never uploaded).
    pub fn upload_example_files(&self, path: &str, key: &str, body: &[u8]) {
        let Some(award) = path
            .strip_prefix("/v1/awards/")
            .and_then(|rest| rest.split_once("/applications"))
            .map(|(award, _)| award.to_owned())
        else {
            return;
        };
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let mut files = Vec::new();
        fn walk(v: &Value, field: Option<&str>, out: &mut Vec<(String, String)>) {
            match v {
                Value::Object(m) => {
                    if let (Some(name), Some(_)) = (
                        m.get("name").and_then(Value::as_str),
                        m.get("sha256").and_then(Value::as_str),
                    ) {
                        out.push((field.unwrap_or_default().to_owned(), name.to_owned()));
                        return;
                    }
                    for (k, x) in m {
                        walk(x, Some(field.unwrap_or(k)), out);
                    }
                }
                Value::Array(items) => items.iter().for_each(|x| walk(x, field, out)),
                _ => {}
            }
        }
        if let Some(fields) = value.get("fields").and_then(Value::as_object) {
            for (k, v) in fields {
                walk(v, Some(k), &mut files);
            }
        }
        for (field, name) in files {
            let example = root()
                .join("examples")
                .join(&award)
                .join("files")
                .join(&name);
            let Ok(content) = std::fs::read(&example) else {
                continue;
            };
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            let _ = agent
                .post(&format!(
                    "{}/v1/awards/{award}/uploads?field={field}&name={name}",
                    self.url
                ))
                .header("Authorization", &format!("Bearer {key}"))
                .send(&content[..]);
        }
    }

    fn delete(&self, url: &str, auth: Option<&str>) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut r = agent.delete(url);
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        let mut response = r.call().unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub fn get(&self, path: &str, key: &str) -> (u16, Value) {
        self.call("GET", path, Some(key), None)
    }

    pub fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.call("POST", path, Some(key), Some(body.to_string().as_bytes()))
    }

    pub fn put(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.call("PUT", path, Some(key), Some(body.to_string().as_bytes()))
    }

    /// Makes an API key (a judge's for the Seoul prize, the award the tests judge in, or the
    /// one award installed).
    pub fn key(&self, role: &str, subject: Option<&str>) -> String {
        let award = (role == "judge").then(|| {
            let (_, awards) = self.get("/v1/awards", self.admin());
            let ids: Vec<String> = awards
                .as_array()
                .or_else(|| awards["items"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|a| a["id"].as_str().map(str::to_owned))
                .collect();
            if ids.len() == 1 {
                ids[0].clone()
            } else {
                "seoul-smart-city-prize-2023".to_owned()
            }
        });
        let (status, v) = self.post(
            "/v1/keys",
            self.admin(),
            &serde_json::json!({ "role": role, "subject": subject, "award": award }),
        );
        assert_eq!(status, 201, "{v}");
        v["key"].as_str().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_wrapped();
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Uploads a rubric's plugin files and creates the award from its definition.
pub fn create_award(server: &Server, rubric: &Path) -> Value {
    let text = std::fs::read_to_string(rubric.join("award.json")).unwrap();
    let def: Value = serde_json::from_str(&text).unwrap();
    for p in def["plugins"].as_array().into_iter().flatten() {
        let bytes = std::fs::read(rubric.join(p["path"].as_str().unwrap())).unwrap();
        let (status, v) = server.call(
            "PUT",
            &format!("/v1/files/{}", p["sha256"].as_str().unwrap()),
            Some(server.admin()),
            Some(&bytes),
        );
        assert_eq!(status, 201, "{v}");
    }
    let (status, v) = server.call(
        "POST",
        "/v1/awards",
        Some(server.admin()),
        Some(text.as_bytes()),
    );
    assert_eq!(status, 201, "{v}");
    def
}

/// Closes the Seoul prize's call, registers the example's judges and takes the applications
/// through the screening round; the example's judges, as registered.
pub fn seoul_through_screening(server: &Server) -> Vec<serde_json::Value> {
    let award = "/v1/awards/seoul-smart-city-prize-2023";
    let admin = server.admin().to_owned();
    let empty = serde_json::json!({});
    assert_eq!(
        server.post(&format!("{award}/close"), &admin, &empty).0,
        200
    );
    let judges: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/seoul-smart-city-prize-2023/judges.json"))
            .unwrap(),
    )
    .unwrap();
    for j in &judges {
        let id = j["id"].as_str().unwrap();
        assert_eq!(
            server.put(&format!("{award}/judges/{id}"), &admin, j).0,
            200
        );
    }
    for step in ["open", "close", "advance"] {
        let (status, v) = server.post(&format!("{award}/rounds/screening/{step}"), &admin, &empty);
        assert_eq!(status, 200, "screening {step}: {v}");
    }
    judges
}

/// The smallest award that runs: one field, one category, one criterion, open from 2020 to
/// 2099 (UTC).
pub fn small_award(id: &str, name: &str) -> Value {
    serde_json::json!({
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

/// The path a `Link: <path>; rel="next"` header leads to.
pub fn next_path(link: &str) -> String {
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    link.trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned()
}
