//! Integrity and confidentiality under races, tampering and copies, over real HTTP and on real
//! data folders: conditional commits, sealed personal data, an audit chain that covers the
//! data, salvage, strict import, keys apart from data, conflicts on every route, and the small
//! holes (the last administrator, slow clients, problem+json everywhere, safe ids).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Server, laurel, root};

const SEOUL: &str = "seoul-smart-city-prize-2023";
const CIVIC: &str = "civic-tech-fellowship-2025";

fn seoul_apps() -> Vec<Value> {
    let text = std::fs::read_to_string(
        root().join("examples/seoul-smart-city-prize-2023/applications.json"),
    )
    .unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Submits Seoul applications; each must be created.
fn submit(server: &Server, applicant: &str, apps: &[Value]) {
    for app in apps {
        let (status, v) = server.post(&format!("/v1/awards/{SEOUL}/applications"), applicant, app);
        assert_eq!(status, 201, "{v}");
    }
}

fn open(server: &Server, award: &str) {
    let (status, v) = server.post(
        &format!("/v1/awards/{award}/open"),
        server.admin(),
        &json!({}),
    );
    assert_eq!(status, 200, "{v}");
}

/// Runs `n` requests at once from as many threads; their statuses and bodies.
fn at_once(
    url: &str,
    n: usize,
    request: impl Fn(usize) -> (String, String, String) + Sync,
) -> Vec<(u16, Value)> {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (method, path, key_and_body) = request(i);
                let (key, body) = key_and_body.split_once('\n').unwrap();
                let (key, body) = (key.to_owned(), body.to_owned());
                let barrier = &barrier;
                s.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    let full = format!("{url}{path}");
                    barrier.wait();
                    let mut r = match method.as_str() {
                        "POST" => agent
                            .post(&full)
                            .header("Authorization", &format!("Bearer {key}"))
                            .send(body.as_bytes()),
                        _ => agent
                            .put(&full)
                            .header("Authorization", &format!("Bearer {key}"))
                            .send(body.as_bytes()),
                    }
                    .unwrap();
                    let status = r.status().as_u16();
                    let text = r.body_mut().read_to_string().unwrap_or_default();
                    (
                        status,
                        serde_json::from_str(&text).unwrap_or(Value::String(text)),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn racing_writes_never_lose_an_acknowledged_write() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    open(&server, SEOUL);
    let applicants: Vec<String> = (0..20).map(|_| server.key("integrator", None)).collect();
    let template = seoul_apps()[0].clone();
    // Twenty applicants post the same application id at once: one creates it, the others are
    // told it exists; nobody's acknowledged application is replaced.
    let results = at_once(&server.url, 20, |i| {
        let mut app = template.clone();
        app["id"] = json!("contested");
        app["fields"]["project_title"] = json!(format!("project of applicant {i}"));
        (
            "POST".into(),
            format!("/v1/awards/{SEOUL}/applications"),
            format!("{}\n{}", applicants[i], app),
        )
    });
    let winners: Vec<usize> = (0..20).filter(|i| results[*i].0 == 201).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results.iter().all(|(s, _)| *s == 201 || *s == 409),
        "{results:?}"
    );
    let w = winners[0];
    let (status, stored) = server.get(
        &format!("/v1/awards/{SEOUL}/applications/contested"),
        &applicants[w],
    );
    assert_eq!(
        status, 200,
        "the acknowledged applicant keeps their application"
    );
    assert_eq!(
        stored["application"]["fields"]["project_title"],
        format!("project of applicant {w}")
    );
    // Updates racing on one application: every acknowledged update is a state the store held,
    // and the last one acknowledged... is what is stored, since each was conditional.
    let results = at_once(&server.url, 10, |i| {
        let mut app = template.clone();
        app["id"] = json!("contested");
        app["fields"]["project_title"] = json!(format!("update {i}"));
        (
            "PUT".into(),
            format!("/v1/awards/{SEOUL}/applications/contested"),
            format!("{}\n{}", applicants[w], app),
        )
    });
    let ok: Vec<usize> = (0..10).filter(|i| results[*i].0 == 200).collect();
    assert!(!ok.is_empty());
    assert!(
        results.iter().all(|(s, _)| *s == 200 || *s == 409),
        "{results:?}"
    );
    let (_, stored) = server.get(
        &format!("/v1/awards/{SEOUL}/applications/contested"),
        &applicants[w],
    );
    let name = stored["application"]["fields"]["project_title"]
        .as_str()
        .unwrap();
    assert!(
        ok.iter().any(|i| name == format!("update {i}")),
        "{name} {ok:?}"
    );
    // The audit chain holds exactly the acknowledged writes.
    let (_, audit) = server.get("/v1/audit?limit=1000", server.admin());
    let writes = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["target"] == format!("{SEOUL}/contested"))
        .count();
    assert_eq!(writes, 1 + ok.len());
    // One publish: two at once give one new version.
    let (status, _) = server.put(
        &format!("/v1/awards/{CIVIC}/draft"),
        server.admin(),
        &serde_json::from_str::<Value>(
            &std::fs::read_to_string(root().join("rubrics/civic-tech-fellowship-2025/award.json"))
                .unwrap()
                .replace("\"edition\": \"2025\"", "\"edition\": \"2025b\""),
        )
        .unwrap(),
    );
    assert_eq!(status, 200);
    let admin = server.admin().to_owned();
    let results = at_once(&server.url, 4, |_| {
        (
            "POST".into(),
            format!("/v1/awards/{CIVIC}/publish"),
            format!("{admin}\n{{}}"),
        )
    });
    assert_eq!(
        results.iter().filter(|r| r.0 == 201).count(),
        1,
        "{results:?}"
    );
    let (_, award) = server.get(&format!("/v1/awards/{CIVIC}"), &admin);
    assert_eq!(award["versions"].as_array().unwrap().len(), 2);
    // Results computed at once each get their own stored record.
    let results = at_once(&server.url, 4, |_| {
        (
            "POST".into(),
            format!("/v1/awards/{SEOUL}/results"),
            format!("{admin}\n{{}}"),
        )
    });
    let mut seqs: Vec<u64> = results
        .iter()
        .map(|(s, v)| {
            assert_eq!(*s, 201, "{v}");
            v["seq"].as_u64().unwrap()
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    server.stop();
    let (code, out) = support::audit_verify(data.path());
    assert_eq!(code, Some(0), "{out}");
}

/// Distinctive personal values, found nowhere they should not be.
const MARKERS: [&str; 3] = [
    "Zorblax Quintana",
    "zorblax.q@markers.example",
    "Ulmgrath Pell",
];

#[test]
fn nothing_personal_is_stored_or_shown_in_clear() {
    let data = tempfile::tempdir().unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[("LAUREL_TEST_LOG_FILE", log.path().to_str().unwrap())],
        &[],
    );
    let admin = server.admin().to_owned();
    open(&server, CIVIC);
    open(&server, SEOUL);
    let owner = server.key("integrator", None);
    let other = server.key("integrator", None);
    let auditor = server.key("auditor", None);
    let integrator = server.key("integrator", None);
    // Civic Tech: six team members fail the team-size rule, which reads the members' names
    // and e-mails (marked personal) and records the values it read.
    let members: Vec<Value> = (0..6)
        .map(|i| json!({"name": format!("{} {i}", MARKERS[0]), "email": format!("{i}.{}", MARKERS[1]), "role": "dev"}))
        .collect();
    let civic = json!({"id": "ct-1", "category": "open-data-tools", "applicant_type": "student_team",
        "fields": {"title": "A civic tool", "resident_in_city": true, "budget_requested": 1000,
                   "team_members": members, "university": "U", "open_source_license": "mit",
                   "datasets_used": ["mobility"]}});
    // The partner prize's 2025 call, moved to now (the tests' clock is in 2023).
    let (status, v) = server.post(
        &format!("/v1/awards/{CIVIC}/timeline"),
        &admin,
        &json!({"opens": "2023-01-01T00:00:00", "closes": "2023-12-31T23:59:00", "reason": "a rehearsal"}),
    );
    assert_eq!(status, 200, "{v}");
    let (status, v) = server.post(&format!("/v1/awards/{CIVIC}/applications"), &owner, &civic);
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["eligibility"]["status"], "ineligible");
    // Seoul: personal contact and nominator details.
    let mut seoul = seoul_apps()[0].clone();
    seoul["id"] = json!("marked");
    seoul["fields"]["contact"]["name"] = json!(MARKERS[2]);
    seoul["fields"]["contact"]["email"] = json!(MARKERS[1]);
    let (status, v) = server.post(&format!("/v1/awards/{SEOUL}/applications"), &owner, &seoul);
    assert_eq!(status, 201, "{v}");
    for award in [CIVIC, SEOUL] {
        assert_eq!(
            server
                .post(&format!("/v1/awards/{award}/results"), &admin, &json!({}))
                .0,
            201
        );
    }
    let found = |text: &str| MARKERS.iter().any(|m| text.contains(m));
    // Every role's view: the owner and the administrator see it; nobody else does.
    for award_app in [
        format!("{CIVIC}/applications/ct-1"),
        format!("{SEOUL}/applications/marked"),
    ] {
        let path = format!("/v1/awards/{award_app}");
        assert!(found(&server.get(&path, &admin).1.to_string()));
        assert!(found(&server.get(&path, &owner).1.to_string()));
        for key in [&auditor, &other, &integrator] {
            let (_, v) = server.get(&path, key);
            assert!(!found(&v.to_string()), "{path}: {v}");
        }
    }
    for award in [CIVIC, SEOUL] {
        let (_, results) = server.get(&format!("/v1/awards/{award}/results"), &auditor);
        assert!(!found(&results.to_string()), "{results}");
        let (_, csv) = server.get(&format!("/v1/awards/{award}/results.csv"), &auditor);
        assert!(!found(&csv.to_string()), "{csv}");
        let (_, list) = server.get(&format!("/v1/awards/{award}/applications"), &auditor);
        assert!(!found(&list.to_string()), "{list}");
    }
    // The export is sealed; the audit chain and the log say nothing personal.
    let (_, export) = server.get(&format!("/v1/awards/{CIVIC}/export"), &admin);
    assert!(!found(&export.to_string()));
    let (_, audit) = server.get("/v1/audit?limit=1000", &admin);
    assert!(!found(&audit.to_string()));
    server.stop();
    let logged = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert!(logged.contains("request"), "the request log is empty");
    assert!(!found(&logged), "{logged}");
    // And nothing on disk.
    for m in MARKERS {
        let out = Command::new("grep")
            .args(["-r", "-l", "-a", "-F", "-e", m])
            .arg(data.path())
            .output()
            .unwrap();
        assert!(
            out.stdout.is_empty(),
            "{m} in {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

fn tamper(data: &std::path::Path, tree: &str, f: impl FnOnce(&sled::Tree)) {
    let db = sled::open(data.join("db")).unwrap();
    f(&db.open_tree(tree).unwrap());
    db.flush().unwrap();
}

#[test]
fn the_audit_chain_covers_the_data_and_finds_a_rollback() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    open(&server, SEOUL);
    let applicant = server.key("integrator", None);
    submit(&server, &applicant, &seoul_apps()[..3]);
    server.stop();
    let copy = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .args([
            "-a",
            &format!("{}/.", data.path().display()),
            copy.path().to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let server = Server::start(data.path(), &root().join("rubrics"));
    submit(&server, &applicant, &seoul_apps()[3..5]);
    let (_, computed) = server.post(&format!("/v1/awards/{SEOUL}/results"), &admin, &json!({}));
    let head = computed["audit_head"]["hash"].as_str().unwrap().to_owned();
    let (_, online) = server.get("/v1/audit/verify", &admin);
    assert_eq!(online["intact"], true, "{online}");
    server.stop();
    assert_eq!(
        laurel(&[
            "audit",
            "verify",
            data.path().to_str().unwrap(),
            "--head",
            &head
        ])
        .0,
        Some(0)
    );
    // A rollback of the whole folder to the older copy: the chain there is intact, but it does
    // not hold the head the results named.
    let (code, out) = laurel(&[
        "audit",
        "verify",
        copy.path().to_str().unwrap(),
        "--head",
        &head,
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("rolled back"), "{out}");
    // A stored eligibility changed behind the chain's back (sled's own checksums intact).
    let key = format!("{SEOUL}\0{}", seoul_apps()[1]["id"].as_str().unwrap());
    tamper(data.path(), "applications", |t| {
        let mut v: Value = serde_json::from_slice(&t.get(&key).unwrap().unwrap()).unwrap();
        v["eligibility"]["status"] = json!("eligible");
        v["eligibility"]["failures"] = json!([]);
        t.insert(&key, serde_json::to_vec(&v).unwrap()).unwrap();
    });
    let (code, out) = laurel(&["audit", "verify", data.path().to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    let shown = format!(
        "applications {SEOUL}/{}: altered",
        seoul_apps()[1]["id"].as_str().unwrap()
    );
    assert!(out.contains(&shown), "{out}");
    // A record removed, and one added that no audit record wrote.
    tamper(data.path(), "applications", |t| {
        t.remove(format!(
            "{SEOUL}\0{}",
            seoul_apps()[2]["id"].as_str().unwrap()
        ))
        .unwrap();
        t.insert(format!("{SEOUL}\0forged"), b"{}".to_vec())
            .unwrap();
    });
    let (_, out) = laurel(&["audit", "verify", data.path().to_str().unwrap()]);
    assert!(out.contains("missing"), "{out}");
    assert!(
        out.contains(&format!(
            "applications {SEOUL}/forged: written by no audit record"
        )),
        "{out}"
    );
}

#[test]
fn a_damaged_folder_is_salvaged_as_far_as_the_chain_vouches() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    open(&server, SEOUL);
    let applicant = server.key("integrator", None);
    submit(&server, &applicant, &seoul_apps()[..10]);
    server.stop();
    // Damage the database: its header, where sled reads its own layout from.
    let db = data.path().join("db/db");
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().take(64) {
        *b ^= 0xff;
    }
    std::fs::write(&db, &bytes).unwrap();
    let target = tempfile::tempdir().unwrap();
    let to = target.path().join("salvaged");
    let (code, out) = laurel(&[
        "salvage",
        data.path().to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
    ]);
    assert!(code == Some(0) || code == Some(1), "{out}");
    assert!(out.contains("records recovered and verified"), "{out}");
    // The salvaged folder verifies, and holds the applications the chain vouches for.
    let (code, out) = laurel(&["audit", "verify", to.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    std::fs::copy(data.path().join("laurel.key"), to.join("laurel.key")).unwrap();
    let server = Server::start(&to, &root().join("rubrics"));
    let (status, list) = server.get(&format!("/v1/awards/{SEOUL}/applications"), &applicant);
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 10, "{list}");
}

#[test]
fn import_refuses_forged_exports_and_needs_the_old_key() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    open(&server, SEOUL);
    let applicant = server.key("integrator", None);
    submit(&server, &applicant, &seoul_apps()[..4]);
    let (status, export) = server.get(&format!("/v1/awards/{SEOUL}/export"), &admin);
    assert_eq!(status, 200);
    let key_text = std::fs::read_to_string(data.path().join("laurel.key")).unwrap();
    assert!(
        !export.to_string().contains(key_text.trim()),
        "the export carries the key"
    );
    server.stop();

    let other = tempfile::tempdir().unwrap();
    let target = Server::start_with(
        other.path(),
        &root().join("examples"),
        &[("LAUREL_DATA_KEY", key_text.trim())],
    );
    let import = |body: &Value, extra: &[(&str, &str)]| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut r = agent
            .post(&format!("{}/v1/import", target.url))
            .header("Authorization", &format!("Bearer {}", target.admin()));
        for (k, v) in extra {
            r = r.header(*k, *v);
        }
        let mut resp = r.send(body.to_string().as_bytes()).unwrap();
        let status = resp.status().as_u16();
        let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        (status, v)
    };
    let forge = |f: &dyn Fn(&mut Value)| {
        let mut e = export.clone();
        f(&mut e);
        e
    };
    let edit_record = |tree: &str, edit: &dyn Fn(&mut Value)| {
        forge(&|e: &mut Value| {
            for r in e["records"].as_array_mut().unwrap() {
                if r["tree"] == tree {
                    let mut v: Value = serde_json::from_str(r["text"].as_str().unwrap()).unwrap();
                    edit(&mut v);
                    r["text"] = json!(v.to_string());
                    break;
                }
            }
        })
    };
    for (what, forged) in [
        (
            "eligibility forced",
            edit_record("applications", &|v| {
                v["eligibility"]["status"] = json!("eligible")
            }),
        ),
        (
            "owner changed",
            edit_record("applications", &|v| v["owner"] = json!("key-000000000000")),
        ),
        (
            "definition edited",
            edit_record("versions", &|v| {
                let d =
                    v["definition"]
                        .as_str()
                        .unwrap()
                        .replacen("\"weight\": 1", "\"weight\": 9", 1);
                v["definition"] = json!(d);
            }),
        ),
        (
            "audit record edited",
            forge(&|e: &mut Value| e["audit"][0]["actor"] = json!("someone")),
        ),
        (
            "record added",
            forge(&|e: &mut Value| {
                let r =
                    json!({"tree": "applications", "key": format!("{SEOUL}/forged"), "text": "{}"});
                e["records"].as_array_mut().unwrap().push(r);
            }),
        ),
    ] {
        let (status, v) = import(&forged, &[]);
        assert_eq!(status, 422, "{what}: {v}");
        assert!(
            v["errors"][0]["message"].as_str().unwrap().contains("MAC"),
            "{what}: {v}"
        );
    }
    // The genuine export imports, its history kept, and both chains verify.
    let (status, v) = import(&export, &[]);
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["imported"]["applications"], 4);
    assert_eq!(
        target.get("/v1/audit/verify", target.admin()).1["intact"],
        true
    );
    let (_, a) = target.get(
        &format!("/v1/awards/{SEOUL}/applications/app-001"),
        target.admin(),
    );
    assert_eq!(
        a["application"]["fields"]["contact"]["email"],
        "contact001@example.org"
    );
    target.stop();

    // A server with another key: refused without the old key, re-sealed with it.
    let third = tempfile::tempdir().unwrap();
    let fresh = Server::start(third.path(), &root().join("examples"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |headers: &[(&str, &str)]| {
        let mut r = agent
            .post(&format!("{}/v1/import", fresh.url))
            .header("Authorization", &format!("Bearer {}", fresh.admin()));
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let mut resp = r.send(export.to_string().as_bytes()).unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    };
    let (status, text) = post(&[]);
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("fingerprint"), "{text}");
    let (status, text) = post(&[("laurel-export-key", key_text.trim())]);
    assert_eq!(status, 201, "{text}");
    let (_, a) = fresh.get(
        &format!("/v1/awards/{SEOUL}/applications/app-001"),
        fresh.admin(),
    );
    assert_eq!(
        a["application"]["fields"]["contact"]["email"],
        "contact001@example.org"
    );
    assert_eq!(
        fresh.get("/v1/audit/verify", fresh.admin()).1["intact"],
        true
    );
}

#[test]
fn the_data_key_is_kept_apart_from_the_data_and_can_be_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("laurel-data");
    let serve = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_laurel"))
            .args(["serve", "--listen", "127.0.0.1:0", "--rubrics"])
            .arg(root().join("rubrics"))
            .arg("--data")
            .arg(&data)
            .args(args)
            .env_remove("LAUREL_DATA_KEY")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // First start: the key is created beside the folder, never inside, and its path printed.
    let mut child = serve(&[]);
    let mut out = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let start = Instant::now();
    while !out.contains("listening") && start.elapsed() < Duration::from_secs(60) {
        let mut buf = [0u8; 256];
        let n = stdout.read(&mut buf).unwrap();
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let _ = child.kill();
    let _ = child.wait();
    let key = dir.path().join("laurel-data.key");
    assert!(
        out.contains(&format!("created the data key {}", key.display())),
        "{out}"
    );
    let admin = out
        .lines()
        .find_map(|l| l.strip_prefix("laurel: admin key (shown once; only its hash is stored): "))
        .unwrap()
        .to_owned();
    assert!(key.is_file());
    assert!(!data.join("laurel.key").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A key file inside the data folder is refused.
    std::fs::copy(&key, data.join("inside.key")).unwrap();
    let inside = serve(&["--key-file", data.join("inside.key").to_str().unwrap()])
        .wait_with_output()
        .unwrap();
    assert_eq!(inside.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&inside.stderr).contains("inside the data folder"));
    std::fs::remove_file(data.join("inside.key")).unwrap();
    // Another key than the one the data is sealed with is refused.
    let wrong = dir.path().join("wrong.key");
    std::fs::write(&wrong, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
    let refused = serve(&["--key-file", wrong.to_str().unwrap()])
        .wait_with_output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("fingerprint"));
    // Rotation: everything re-sealed under the new key; the old one no longer opens the store.
    let mut server = Server::start_full(
        &data,
        &root().join("rubrics"),
        &[],
        &["--key-file", key.to_str().unwrap()],
    );
    server.admin = Some(admin.clone());
    open(&server, SEOUL);
    let applicant = server.key("integrator", None);
    let (status, first) = server.post(
        &format!("/v1/awards/{SEOUL}/applications"),
        &applicant,
        &seoul_apps()[0],
    );
    assert_eq!(status, 201, "{first}");
    let (_, signing_keys) = server.call("GET", "/v1/keys/results", None, None);
    server.stop();
    let new_key = dir.path().join("new.key");
    let (code, out) = laurel(&[
        "rekey",
        data.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--new-key-file",
        new_key.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("re-sealed"), "{out}");
    let refused = serve(&["--key-file", key.to_str().unwrap()])
        .wait_with_output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let mut server = Server::start_full(
        &data,
        &root().join("rubrics"),
        &[],
        &["--key-file", new_key.to_str().unwrap()],
    );
    server.admin = Some(admin);
    let id = seoul_apps()[0]["id"].as_str().unwrap().to_owned();
    let (_, a) = server.get(
        &format!("/v1/awards/{SEOUL}/applications/{id}"),
        server.admin(),
    );
    assert_eq!(
        a["application"]["fields"]["contact"]["email"],
        seoul_apps()[0]["fields"]["contact"]["email"]
    );
    assert_eq!(
        server.get("/v1/audit/verify", server.admin()).1["intact"],
        true
    );
    // The results-signing key and the award's pseudonym key were re-sealed with the rest: the
    // same key signs the next receipt, under the same pseudonyms.
    let (_, after) = server.call("GET", "/v1/keys/results", None, None);
    assert_eq!(after, signing_keys);
    let (status, second) = server.post(
        &format!("/v1/awards/{SEOUL}/applications"),
        &applicant,
        &seoul_apps()[1],
    );
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["receipt"]["key"], first["receipt"]["key"]);
    let (status, again) = server.get(
        &format!("/v1/awards/{SEOUL}/applications/{id}/receipt"),
        server.admin(),
    );
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, first["receipt"]);
}

#[test]
fn conflicts_of_interest_hold_on_every_route() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    open(&server, SEOUL);
    let applicant = server.key("integrator", None);
    submit(&server, &applicant, &seoul_apps()[..10]);
    let judges: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/seoul-smart-city-prize-2023/judges.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        server
            .post(&format!("/v1/awards/{SEOUL}/close"), &admin, &json!({}))
            .0,
        200
    );
    for j in judges.as_array().unwrap() {
        let id = j["id"].as_str().unwrap();
        let path = format!("/v1/awards/{SEOUL}/judges/{id}");
        assert_eq!(server.put(&path, &admin, j).0, 200);
    }
    let kim = judges
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == "judge-kim")
        .unwrap()
        .clone();
    let conflicted = kim["declared_conflicts"][0]["application"]
        .as_str()
        .unwrap()
        .to_owned();
    let round = |r: &str, what: &str| {
        let body = if what == "open" {
            json!({ "seed": 11 })
        } else {
            json!({})
        };
        let (status, v) = server.post(
            &format!("/v1/awards/{SEOUL}/rounds/{r}/{what}"),
            &admin,
            &body,
        );
        assert_eq!(status, 200, "{r} {what}: {v}");
        v
    };
    round("screening", "open");
    round("screening", "close");
    round("screening", "advance");
    let expert = round("expert", "open");
    // The draw never gives judge-kim the application they declared a conflict with.
    assert!(
        !expert["assignments"]["judge-kim"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == &json!(conflicted))
    );
    // Nor can an administrator, by hand.
    let (status, v) = server.put(
        &format!("/v1/awards/{SEOUL}/rounds/expert/assignments/judge-kim"),
        &admin,
        &json!({ "applications": [conflicted], "reason": "by hand" }),
    );
    assert_eq!(status, 422, "{v}");
    assert!(v.to_string().contains("may not judge"), "{v}");
    // Nor do locked marks take a conflicted judge's correction.
    round("expert", "close");
    let (status, v) = server.put(
        &format!("/v1/awards/{SEOUL}/rounds/expert/marks/{conflicted}/judge-kim"),
        &admin,
        &json!({ "marks": {}, "reason": "a correction" }),
    );
    assert_eq!(status, 403, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("conflict"), "{v}");
}

/// Opens `n` connections that send half a request and never finish it.
fn half_open(url: &str, n: usize) -> Vec<std::net::TcpStream> {
    let addr = url.trim_start_matches("http://");
    (0..n)
        .filter_map(|_| {
            let mut s = std::net::TcpStream::connect(addr).ok()?;
            s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
                .ok()?;
            Some(s)
        })
        .collect()
}

#[test]
fn the_small_holes_are_closed() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    // The last administrator cannot be revoked.
    let (_, keys) = server.get("/v1/keys", &admin);
    let admin_id = keys.as_array().unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, v) = server.post(&format!("/v1/keys/{admin_id}/revoke"), &admin, &json!({}));
    assert_eq!(status, 409, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("last administrator"));
    // The auth scheme is case-insensitive.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent
        .get(&format!("{}/v1/keys", server.url))
        .header("Authorization", &format!("bearer {admin}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Every error status is problem+json: a long address, large headers, a bad path segment.
    let long = format!("{}/v1/awards/{}", server.url, "a".repeat(10_000));
    let r = agent.get(&long).call().unwrap();
    assert_eq!(r.status().as_u16(), 414);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = agent
        .get(&format!("{}/v1/health", server.url))
        .header("X-Big", &"b".repeat(20_000))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 431);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = agent
        .get(&format!("{}/v1/awards/{SEOUL}%00x", server.url))
        .header("Authorization", &format!("Bearer {admin}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Ids are restricted everywhere, bodies included.
    let (status, v) = server.put(
        &format!("/v1/awards/{SEOUL}/judges/judge-x"),
        &admin,
        &json!({"id": "judge\u{0}x", "name": "X"}),
    );
    assert!(status == 400 || status == 422, "{status} {v}");
    // Slow clients: half-sent headers are dropped within the header timeout.
    let mut streams = half_open(&server.url, 300);
    assert!(streams.len() > 250);
    std::thread::sleep(Duration::from_secs(12));
    let mut closed = 0;
    for s in &mut streams {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(_) => closed += 1,
            Err(e)
                if e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut =>
            {
                closed += 1
            }
            Err(_) => {}
        }
    }
    assert_eq!(
        closed,
        streams.len(),
        "{closed} of {} closed",
        streams.len()
    );
    assert_eq!(server.call("GET", "/v1/health", None, None).0, 200);
    let _ = BTreeMap::<u8, u8>::new();
}

/// Copies the contents of folder `from` over an emptied `to`.
fn replace_folder(from: &std::path::Path, to: &std::path::Path) {
    std::fs::remove_dir_all(to).unwrap();
    std::fs::create_dir_all(to).unwrap();
    let status = Command::new("cp")
        .args(["-a", &format!("{}/.", from.display()), to.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_rollback_or_a_cut_chain_is_found_by_the_witness_beside_the_key_without_a_head() {
    // As in production: the data key, and the witness beside it, outside the data folder.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("laurel-data");
    let key_file = dir.path().join("laurel-data.key");
    let witness = dir.path().join("laurel-data.witness");
    let start = || {
        Server::start_full(
            &data,
            &root().join("rubrics"),
            &[],
            &["--key-file", key_file.to_str().unwrap()],
        )
    };
    let server = start();
    let admin = server.admin().to_owned();
    open(&server, SEOUL);
    let applicant = server.key("integrator", None);
    submit(&server, &applicant, &seoul_apps()[..3]);
    server.stop();
    let older = dir.path().join("older");
    std::fs::create_dir_all(&older).unwrap();
    replace_folder(&data, &older);
    let server = start();
    submit(&server, &applicant, &seoul_apps()[3..5]);
    let (_, health) = server.get("/v1/audit/verify", &admin);
    let newest = health["head"]["seq"].as_u64().unwrap();
    server.stop();
    let seen: Value = serde_json::from_slice(&std::fs::read(&witness).unwrap()).unwrap();
    // The newest head (the scheduler may have written after the request).
    assert!(seen["seq"].as_u64().unwrap() >= newest, "{seen}");
    let newest = seen["seq"].as_u64().unwrap();
    let (code, out) = laurel(&["audit", "verify", data.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("witnessed: the chain holds record"), "{out}");
    let whole = dir.path().join("whole");
    std::fs::create_dir_all(&whole).unwrap();
    replace_folder(&data, &whole);

    // The whole folder rolled back to the older copy: a valid, shorter chain.
    replace_folder(&older, &data);
    let (code, out) = laurel(&["audit", "verify", data.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "the witness file `{}` saw record {newest}",
            witness.display()
        )),
        "{out}"
    );
    assert!(out.contains("rolled back"), "{out}");
    // A server refuses it rather than serve (and lengthen) a chain without what it answered.
    let serve_args = [
        "--data",
        data.to_str().unwrap(),
        "--key-file",
        key_file.to_str().unwrap(),
        "--rubrics",
        root().join("rubrics").to_str().unwrap(),
    ]
    .map(str::to_owned);
    let serve_args: Vec<&str> = serve_args.iter().map(String::as_str).collect();
    let (code, err) = support::serve_refused(&serve_args);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("does not hold record {newest}")),
        "{err}"
    );
    assert!(err.contains(&witness.display().to_string()), "{err}");
    let (code, out) = laurel(&["audit", "verify", data.to_str().unwrap()]);
    assert_eq!(code, Some(1), "nothing was written: {out}");

    // The newest record cut off (a torn last write): the chain is one record shorter.
    replace_folder(&whole, &data);
    let db = sled::open(data.join("db")).unwrap();
    let audit = db.open_tree("audit").unwrap();
    let (k, _) = audit.last().unwrap().unwrap();
    audit.remove(k).unwrap();
    db.flush().unwrap();
    // The tree too holds the database (and its lock).
    drop(audit);
    drop(db);
    let (code, out) = laurel(&["audit", "verify", data.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("saw record {newest}")), "{out}");
    let (code, err) = support::serve_refused(&serve_args);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("does not hold record {newest}")),
        "{err}"
    );

    // The data folder emptied (a new one in its place, or a disk that lost the chain's first
    // record) beside the key and the witness of the data it held: refused too, not served as a
    // new installation.
    let cut = dir.path().join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    replace_folder(&data, &cut);
    std::fs::remove_dir_all(&data).unwrap();
    let (code, err) = support::serve_refused(&serve_args);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "holds no audit record, but the witness file `{}` saw record {newest}",
            witness.display()
        )),
        "{err}"
    );
    let (code, out) = laurel(&["audit", "verify", data.to_str().unwrap()]);
    assert_eq!(code, Some(1), "nothing was written: {out}");
    assert!(out.contains("0 audit records"), "{out}");
    replace_folder(&cut, &data);

    // The witness removed, as the refusal says, to serve the data as it is: the server starts,
    // and its next commit is witnessed.
    std::fs::remove_file(&witness).unwrap();
    let server = start();
    submit(&server, &applicant, &seoul_apps()[5..6]);
    server.stop();
    let (_, out) = laurel(&["audit", "verify", data.to_str().unwrap()]);
    assert!(out.contains("witnessed: the chain holds record"), "{out}");
}
