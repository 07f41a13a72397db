//! The people's surface, attacked as the findings of issue 27 describe, against the real
//! binary: nobody reads what is not theirs, nobody unauthenticated costs the server anything,
//! outbound requests go only where they may, a key or a person acts only where it may, sign-in
//! tells nothing and cannot be forced, races lose nothing acknowledged, and secrets stay out of
//! logs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::session::agent;
use support::{Server, root};

const AWARD: &str = "seoul-smart-city-prize-2023";

fn url(p: &str) -> String {
    format!("/v1/awards/{AWARD}{p}")
}

fn applications() -> Vec<Value> {
    let all: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    all.as_array().unwrap().clone()
}

/// A leadership candidate's application, without its id (the server names it).
fn candidate() -> Value {
    let mut app = applications()
        .into_iter()
        .find(|a| a["id"] == "app-057")
        .unwrap();
    app.as_object_mut().unwrap().remove("id");
    app
}

/// Uploads `bytes` to `field` as `key`; the reference the server answers.
fn upload(server: &Server, key: &str, field: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    let mut r = agent()
        .post(&format!(
            "{}{}?field={field}&name={}",
            server.url,
            url("/uploads"),
            name
        ))
        .header("authorization", &format!("Bearer {key}"))
        .send(bytes)
        .unwrap();
    let status = r.status().as_u16();
    let v = serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default())
        .unwrap_or(Value::Null);
    (status, v)
}

fn download(server: &Server, key: &str, path: &str) -> (u16, Vec<u8>, String) {
    let mut r = agent()
        .get(&format!("{}{path}", server.url))
        .header("authorization", &format!("Bearer {key}"))
        .call()
        .unwrap();
    let disposition = r
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut bytes = Vec::new();
    r.body_mut().as_reader().read_to_end(&mut bytes).unwrap();
    (r.status().as_u16(), bytes, disposition)
}

#[test]
fn nobody_reads_a_file_that_is_not_theirs_at_any_depth_of_the_form() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--upload-files", "3"],
    );
    let admin = server.admin().to_owned();
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let victim = server.key("applicant", None);
    let attacker = server.key("applicant", None);
    let letter = b"%PDF-1.4\n% the victim's letter, personal\n".to_vec();
    let (status, reference) = upload(
        &server,
        &victim,
        "recommendation_letter",
        "letter.pdf",
        &letter,
    );
    assert_eq!(status, 201, "{reference}");
    let mut app = candidate();
    app["fields"]["recommendation_letter"] = reference.clone();
    let (status, v) = server.post(&url("/applications"), &victim, &app);
    assert_eq!(status, 201, "{v}");

    // The attacker refers to the victim's hash: at the top of the form, in a list, on submit
    // and on update; every reference is refused, located.
    let mut theirs = candidate();
    theirs["fields"]["recommendation_letter"] = reference.clone();
    let (status, v) = server.post(&url("/applications"), &attacker, &theirs);
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["errors"][0]["pointer"], "/fields/recommendation_letter");
    let mut listed = applications()[0].clone();
    listed.as_object_mut().unwrap().remove("id");
    listed["fields"]["supporting_documents"] = json!([reference.clone()]);
    let (status, v) = server.post(&url("/applications"), &attacker, &listed);
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["errors"][0]["pointer"], "/fields/supporting_documents/0");
    // Their own application, then an update that swaps in the victim's hash.
    let (status, mine) = server.post(
        &url("/applications"),
        &attacker,
        &applications_without_id(1),
    );
    assert_eq!(status, 201, "{mine}");
    let id = mine["id"].as_str().unwrap().to_owned();
    let mut update = applications_without_id(1);
    update["fields"]["supporting_documents"] = json!([reference.clone()]);
    let (status, v) = server.put(&url(&format!("/applications/{id}")), &attacker, &update);
    assert_eq!(status, 422, "{v}");
    // Even an administrator writing on the attacker's behalf cannot point at the victim's file.
    let (status, v) = server.put(&url(&format!("/applications/{id}")), &admin, &update);
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        download(
            &server,
            &attacker,
            &url(&format!("/applications/{id}/files/supporting_documents"))
        )
        .0,
        404
    );

    // The same bytes uploaded by two people are two uploads: each reads their own.
    let (status, again) = upload(
        &server,
        &attacker,
        "recommendation_letter",
        "mine.pdf",
        &letter,
    );
    assert_eq!(status, 201, "{again}");
    let mut own = candidate();
    own["fields"]["recommendation_letter"] = again;
    let (status, v) = server.post(&url("/applications"), &attacker, &own);
    assert_eq!(status, 201, "{v}");
    let file = url(&format!(
        "/applications/{}/files/recommendation_letter",
        v["id"].as_str().unwrap()
    ));
    let (status, bytes, disposition) = download(&server, &attacker, &file);
    assert_eq!((status, bytes), (200, letter.clone()));
    assert_eq!(disposition, "inline; filename=\"mine.pdf\"");

    // File names are made safe: no folders, no control characters, no direction overrides.
    let (status, named) = upload(
        &server,
        &attacker,
        "recommendation_letter",
        "..%2F..%2Fetc%2Fpasswd%E2%80%AE%0D%0A.pdf",
        b"%PDF-1.4\n% named\n",
    );
    assert_eq!(status, 201, "{named}");
    assert_eq!(named["name"], "passwd .pdf", "{named}");
    // The quota: three files per person and award (the attacker has made two), then 429.
    let (status, v) = upload(
        &server,
        &attacker,
        "recommendation_letter",
        "3.pdf",
        b"%PDF-1.4\n% 3\n",
    );
    assert_eq!(status, 201, "{v}");
    let (status, v) = upload(
        &server,
        &attacker,
        "recommendation_letter",
        "4.pdf",
        b"%PDF-1.4\n% 4\n",
    );
    assert_eq!(status, 429, "{v}");
    // The victim's own quota is theirs.
    assert_eq!(
        upload(
            &server,
            &victim,
            "recommendation_letter",
            "2.pdf",
            b"%PDF-1.4\n% 2\n"
        )
        .0,
        201
    );
    assert_eq!(v["type"], "/problems/quota");
}

fn applications_without_id(i: usize) -> Value {
    let mut a = applications()[i].clone();
    a.as_object_mut().unwrap().remove("id");
    a
}

/// Sends a chunked POST with `Idempotency-Key` and the given authorization, streaming `mib`
/// MiB of body after the headers; returns the status line the server answered with.
fn chunked_post(addr: &str, path: &str, authorization: &str, mib: usize) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {authorization}\r\n\
         Idempotency-Key: k-{mib}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..mib {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if stream.write_all(&framed).is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = [0u8; 64];
    let n = stream.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn an_unauthenticated_request_costs_the_server_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let addr = server.url.trim_start_matches("http://").to_owned();
    std::thread::sleep(Duration::from_millis(500));
    let before = server.rss_kib();
    // Four requests of 64 MiB each, an Idempotency-Key and a made-up credential: refused before
    // anything is read (it once held up to 256 MiB per request).
    let answers: Vec<String> = (0..4)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                chunked_post(&addr, "/v1/import", &format!("Bearer lk_made_up_{i}"), 64)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let after = server.rss_kib();
    for a in &answers {
        assert!(a.contains(" 401") || a.contains(" 413"), "{answers:?}");
    }
    eprintln!("resident memory: {before} KiB before, {after} KiB after");
    assert!(
        after < before + 32 * 1024,
        "{before} KiB before, {after} KiB after"
    );
}

#[test]
fn keys_and_people_act_only_where_they_may() {
    let data = tempfile::tempdir().unwrap();
    let (server, sink) = Server::start_with_mail(data.path());
    let admin = server.admin().to_owned();
    let civic = "/v1/awards/civic-tech-fellowship-2025";
    // The same judge id in two awards: a key made for one acts in that one only.
    for award in [format!("/v1/awards/{AWARD}"), civic.to_owned()] {
        let (status, v) = server.put(
            &format!("{award}/judges/judge-same"),
            &admin,
            &json!({"id": "judge-same", "name": "Same"}),
        );
        assert_eq!(status, 200, "{v}");
    }
    let (status, v) = server.post(
        "/v1/keys",
        &admin,
        &json!({"role": "judge", "subject": "judge-same"}),
    );
    assert_eq!(status, 422, "two awards: the key must name one: {v}");
    let (status, v) = server.post(
        "/v1/keys",
        &admin,
        &json!({"role": "judge", "subject": "judge-same", "award": AWARD}),
    );
    assert_eq!(status, 201, "{v}");
    let judge = v["key"].as_str().unwrap().to_owned();
    assert_eq!(v["award"], AWARD);
    let (status, v) = server.get(&format!("{civic}/rounds"), &judge);
    assert_eq!(status, 403, "{v}");
    let (status, work) = server.get("/v1/me/work", &judge);
    assert_eq!(status, 200, "{work}");
    assert!(
        work["rounds"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["award"] == AWARD),
        "{work}"
    );

    // The last administrator key cannot go through its owner's session revocation either: a
    // person's admin key becomes the only one, then ending the person's sessions is refused.
    let (status, v) = server.post(
        &url("/invitations"),
        &admin,
        &json!({"email": "boss@example.org", "name": "Boss", "role": "admin"}),
    );
    assert_eq!(status, 201, "{v}");
    let person = v["person"].as_str().unwrap().to_owned();
    let (status, v) = server.post(
        "/v1/keys",
        &admin,
        &json!({"role": "admin", "owner": {"kind": "person", "id": person}}),
    );
    assert_eq!(status, 201, "{v}");
    let persons_key = v["key"].as_str().unwrap().to_owned();
    let (_, keys) = server.get("/v1/keys", &persons_key);
    let bootstrap = keys["items"]
        .as_array()
        .or(keys.as_array())
        .unwrap()
        .iter()
        .find(|k| k["role"] == "admin" && k["owner"]["id"] != person.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, v) = server.post(
        &format!("/v1/keys/{bootstrap}/revoke"),
        &persons_key,
        &json!({}),
    );
    assert_eq!(status, 200, "{v}");
    let (status, v) = server.post(
        &format!("/v1/people/{person}/sessions/revoke"),
        &persons_key,
        &json!({}),
    );
    assert_eq!(status, 409, "{v}");
    drop(sink);
}

#[test]
fn sign_in_tells_nothing_cannot_be_forced_and_never_blocks_its_owner() {
    let data = tempfile::tempdir().unwrap();
    let sink = support::smtp::Sink::start();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--smtp", &sink.url, "--trusted-proxy", "127.0.0.1"],
    );
    let admin = server.admin().to_owned();
    let (status, v) = server.post(
        &url("/invitations"),
        &admin,
        &json!({"email": "known@example.org", "name": "Known", "role": "admin"}),
    );
    assert_eq!(status, 201, "{v}");
    let sign_in = |email: &str, from: &str| {
        let t = Instant::now();
        let r = agent()
            .post(&format!("{}/v1/sign-in", server.url))
            .header("x-forwarded-for", from)
            .send(json!({"email": email}).to_string())
            .unwrap();
        (r.status().as_u16(), t.elapsed())
    };
    // Known and unknown addresses: the same answer, in the same time.
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..4 {
        let (s, t) = sign_in("known@example.org", &format!("203.0.113.{i}"));
        assert_eq!(s, 202);
        known.push(t);
        let (s, t) = sign_in(&format!("nobody{i}@example.org"), &format!("203.0.113.{i}"));
        assert_eq!(s, 202);
        unknown.push(t);
    }
    known.sort();
    unknown.sort();
    for t in known.iter().chain(&unknown) {
        assert!(*t >= Duration::from_millis(400), "{t:?}");
    }
    let gap = known[2].abs_diff(unknown[2]);
    assert!(
        gap < Duration::from_millis(150),
        "medians {:?} and {:?}",
        known[2],
        unknown[2]
    );

    // Someone else asking for the owner's links, from elsewhere, never blocks the owner's own.
    for _ in 0..8 {
        sign_in("known@example.org", "198.51.100.66");
    }
    assert_eq!(sign_in("known@example.org", "192.0.2.10").0, 202);

    // Login CSRF: another site's form posting a token is refused.
    let link = support::session::link_mailed_to(&sink, "known@example.org");
    let token = link.rsplit("token=").next().unwrap().to_owned();
    let r = agent()
        .post(&format!("{}/v1/sign-in/redeem", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .send(format!("token={token}"))
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // The token is intact: the person's own page redeems it.
    let browser = support::session::Browser::follow(&server.url, &link);

    // A session's change needs its CSRF token, on every path but the exact exemptions.
    let (status, v) = browser.call(
        "PUT",
        &url("/applications/register"),
        Some(&json!({})),
        false,
    );
    assert_eq!(status, 403, "{v}");

    // Failed guesses from an address never block a valid key from it.
    for i in 0..12 {
        let (status, _) = server.get("/v1/awards", &format!("lk_wrong_{i}"));
        assert!(status == 401 || status == 429);
    }
    assert_eq!(server.get("/v1/awards", &admin).0, 200);

    // Idempotency keys are the caller's: the same key from two callers is two requests.
    let other = server.key("integrator", None);
    let post = |key: &str, junk: &str| {
        let r = agent()
            .post(&format!("{}/v1/keys", server.url))
            .header("authorization", &format!("Bearer {key}"))
            .header("idempotency-key", "same-key")
            .header("cookie", junk)
            .send(json!({"role": "applicant", "label": "x"}).to_string())
            .unwrap();
        (
            r.status().as_u16(),
            r.headers().get("idempotent-replayed").is_some(),
        )
    };
    assert_eq!(post(&admin, "a=1"), (201, false));
    assert_eq!(post(&admin, "b=2"), (201, true), "a cookie changes nothing");
    assert_eq!(post(&other, "a=1").0, 403, "another caller's own request");
}

/// `laurel serve` writing mail to a folder (`mail` under `data`), with a first administrator
/// invited by mail; its standard output piped, its standard error to `stderr`.
fn serve_with_mail_folder(
    data: &std::path::Path,
    stderr: std::process::Stdio,
) -> (
    std::process::Child,
    std::path::PathBuf,
    std::process::ChildStdout,
) {
    let mail = data.join("mail");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_laurel"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.join("d"))
        .arg("--key-file")
        .arg(data.join("key"))
        .arg("--mail-dir")
        .arg(&mail)
        .args(["--admin-email", "first@example.org"])
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    (child, mail, out)
}

/// What `out` says until `enough` of it has come (or 20 seconds, or its end).
fn read_until(out: &mut impl Read, enough: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !enough(&text) && started.elapsed() < Duration::from_secs(20) {
        match out.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    text
}

#[test]
fn mail_in_a_folder_is_private_and_the_log_shows_no_link() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let (mut child, mail, mut out) =
        serve_with_mail_folder(data.path(), std::process::Stdio::null());
    let text = read_until(&mut out, |t| t.contains("laurel: mail to"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains("laurel: mail to f***@example.org"), "{text}");
    assert!(!text.contains("token="), "{text}");
    assert!(!text.contains("first@example.org"), "{text}");
    let folder = std::fs::metadata(&mail).unwrap().permissions().mode() & 0o777;
    assert_eq!(folder, 0o700);
    for f in std::fs::read_dir(&mail).unwrap() {
        let mode = f.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

/// A server whose standard output has no reader any more (`laurel serve | head`) still
/// delivers mail to its folder, once each: saying where a mail went is not worth a failed
/// delivery (a panic, then the same mail written again at each retry).
#[test]
fn mail_in_a_folder_goes_out_once_when_nobody_reads_the_output() {
    let data = tempfile::tempdir().unwrap();
    let errors = data.path().join("stderr");
    let (mut child, mail, mut out) =
        serve_with_mail_folder(data.path(), std::fs::File::create(&errors).unwrap().into());
    let started = Instant::now();
    let text = read_until(&mut out, |t| {
        t.contains("laurel: mail to") && t.contains("listening on")
    });
    let base = text
        .lines()
        .find_map(|l| l.strip_prefix("laurel: listening on "))
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned();
    // Nobody reads the output from now on.
    drop(out);
    let r = agent()
        .post(&format!("{base}/v1/sign-in"))
        .header("Content-Type", "application/json")
        .send(json!({ "email": "first@example.org" }).to_string())
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let mails = || std::fs::read_dir(&mail).map_or(0, |d| d.count());
    while mails() < 2 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(mails(), 2, "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains("sender failed"), "{log}");
}

#[test]
fn concurrent_invitations_keep_every_grant_and_no_draft_outlives_its_submission() {
    let data = tempfile::tempdir().unwrap();
    let (server, _sink) = Server::start_with_mail(data.path());
    let admin = server.admin().to_owned();
    // Five invitations of one person to five roles at once: each acknowledged grant is kept.
    for round in 0..5 {
        let email = format!("busy{round}@example.org");
        let handles: Vec<_> = ["admin", "auditor"]
            .iter()
            .chain(["applicant"; 3].iter())
            .enumerate()
            .map(|(i, role)| {
                let (base, key, email) = (server.url.clone(), admin.clone(), email.clone());
                let award = if i % 2 == 0 {
                    AWARD
                } else {
                    "civic-tech-fellowship-2025"
                };
                let body = json!({"email": email, "name": "Busy", "role": role});
                std::thread::spawn(move || {
                    let r = agent()
                        .post(&format!("{base}/v1/awards/{award}/invitations"))
                        .header("authorization", &format!("Bearer {key}"))
                        .send(body.to_string())
                        .unwrap();
                    (r.status().as_u16(), role.to_string(), award.to_owned())
                })
            })
            .collect();
        let acknowledged: Vec<(String, String)> = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|(s, _, _)| *s == 201)
            .map(|(_, r, a)| (r, a))
            .collect();
        let (_, people) = server.get("/v1/people", &admin);
        let person = people["items"]
            .as_array()
            .or(people.as_array())
            .unwrap()
            .iter()
            .find(|p| p["email"] == email.as_str())
            .cloned()
            .unwrap_or(Value::Null);
        for (role, award) in acknowledged {
            let held = person["grants"].as_array().into_iter().flatten().any(|g| {
                g["role"] == role.as_str()
                    && (g["award"] == award.as_str()
                        || matches!(role.as_str(), "admin" | "auditor"))
            });
            assert!(
                held,
                "{role} on {award} was acknowledged and lost: {person}"
            );
        }
    }
    // A draft racing its submission: never both acknowledged.
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    for _ in 0..10 {
        let applicant = server.key("applicant", None);
        let app = applications_without_id(2);
        let (base, key, draft) = (
            server.url.clone(),
            applicant.clone(),
            json!({"category": app["category"], "applicant_type": app["applicant_type"], "fields": app["fields"]}),
        );
        let saver = std::thread::spawn(move || {
            agent()
                .put(&format!("{base}/v1/awards/{AWARD}/drafts/mine"))
                .header("authorization", &format!("Bearer {key}"))
                .send(draft.to_string())
                .unwrap()
                .status()
                .as_u16()
        });
        let (submitted, _) = server.post(&url("/applications"), &applicant, &app);
        let saved = saver.join().unwrap();
        let (left, _) = server.get(&url("/drafts/mine"), &applicant);
        if submitted == 201 && left == 200 {
            // Saved after the submission (not raced): allowed, a new draft.
            assert_eq!(saved, 200);
        }
        assert!(submitted == 201 || submitted == 409, "{submitted}");
    }
}

/// Redeems a mailed link as a browser's form does: the session cookie.
fn redeem(server: &Server, link: &str) -> String {
    let token = link.rsplit("token=").next().unwrap();
    let r = agent()
        .post(&format!("{}/v1/sign-in/redeem", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(format!("token={token}"))
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    r.headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn administrators_confirm_every_sign_in_with_a_passkey() {
    use support::authenticator::SoftKey;
    use support::session::Browser;
    let data = tempfile::tempdir().unwrap();
    let (server, sink) = Server::start_with_mail(data.path());
    let admin = server.admin().to_owned();
    let (status, v) = server.post(
        &url("/invitations"),
        &admin,
        &json!({"email": "chief@example.org", "name": "Chief", "role": "admin"}),
    );
    assert_eq!(status, 201, "{v}");
    let link = support::session::link_mailed_to(&sink, "chief@example.org");
    let cookie = redeem(&server, &link);
    let mut chief = Browser {
        base: server.url.clone(),
        cookie,
        csrf: String::new(),
        passkey: None,
    };
    let (status, me) = chief.call("GET", "/v1/me", None, false);
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["second_factor"], "enroll");
    chief.csrf = me["csrf"].as_str().unwrap().to_owned();
    // Until a passkey is registered, the session can do nothing else, on the API or the pages.
    let (status, v) = chief.call("GET", "/v1/awards", None, false);
    assert_eq!(status, 401, "{v}");
    let page = agent()
        .get(&format!("{}/awards/{AWARD}/admin", server.url))
        .header("cookie", &chief.cookie)
        .call()
        .unwrap();
    assert_eq!(page.status().as_u16(), 303);
    assert_eq!(page.headers().get("location").unwrap(), "/me/passkeys");
    // A registration for another site, or another challenge, is refused.
    let (_, options) = chief.call("POST", "/v1/me/passkeys/options", Some(&json!({})), true);
    let mut key = SoftKey::new();
    let elsewhere = key.register(&options, "https://evil.example");
    let (status, v) = chief.call(
        "POST",
        "/v1/me/passkeys",
        Some(&json!({ "credential": elsewhere })),
        true,
    );
    assert_eq!(status, 422, "{v}");
    chief.second_factor(Some("enroll"));
    assert_eq!(chief.call("GET", "/v1/awards", None, false).0, 200);

    // The next sign-in owes the passkey: a key that is not theirs is refused, theirs is taken.
    let r = agent()
        .post(&format!("{}/v1/sign-in", server.url))
        .send(json!({"email": "chief@example.org"}).to_string())
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let mails = sink.wait_for(2, std::time::Duration::from_secs(20));
    let link = mails
        .iter()
        .rev()
        .find_map(|m| {
            let (_, text) = support::session::parsed(m);
            text.contains("/sign-in?token=")
                .then(|| support::session::link_in(&text))
        })
        .unwrap();
    let mut again = Browser {
        base: server.url.clone(),
        cookie: redeem(&server, &link),
        csrf: String::new(),
        passkey: None,
    };
    let (_, me) = again.call("GET", "/v1/me", None, false);
    assert_eq!(me["second_factor"], "passkey", "{me}");
    again.csrf = me["csrf"].as_str().unwrap().to_owned();
    assert_eq!(again.call("GET", "/v1/awards", None, false).0, 401);
    let (_, options) = again.call(
        "POST",
        "/v1/sign-in/passkey/options",
        Some(&json!({})),
        true,
    );
    let mut stranger = SoftKey::new();
    stranger.id = chief.passkey.as_ref().unwrap().id.clone();
    let forged = stranger.assert(&options, &server.url);
    let (status, v) = again.call(
        "POST",
        "/v1/sign-in/passkey",
        Some(&json!({ "credential": forged })),
        true,
    );
    assert_eq!(status, 401, "{v}");
    again.passkey = chief.passkey.take();
    again.second_factor(Some("passkey"));
    assert_eq!(again.call("GET", "/v1/awards", None, false).0, 200);
}
