//! People, not keys: a judge invited by e-mail signs in with the link and marks; an applicant
//! registers, confirms the address and submits; sign-in links work once and tell nobody who
//! has an account; sessions need their CSRF token to change anything and can be revoked.
//! Mail goes through a real SMTP sink on 127.0.0.1, read back with Python's `email` parser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use support::smtp::{Mail, Sink};
use support::{Server, root};

const AWARD: &str = "seoul-smart-city-prize-2023";

fn url(p: &str) -> String {
    format!("/v1/awards/{AWARD}{p}")
}

/// The subject and plain text of a mail, as Python's standard `email` package reads them.
fn parsed(mail: &Mail) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.eml");
    std::fs::write(&file, &mail.data).unwrap();
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import email, email.policy, json, sys\n\
             m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
             print(json.dumps({'subject': str(m['subject']), 'text': m.get_body(('plain',)).get_content(),\n\
                               'html': m.get_body(('html',)).get_content()}))",
        )
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["html"].as_str().unwrap().contains("<a href="),
        "an HTML part too"
    );
    (
        v["subject"].as_str().unwrap().to_owned(),
        v["text"].as_str().unwrap().to_owned(),
    )
}

fn link_in(text: &str) -> String {
    let start = text.find("http://").expect("a link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// A signed-in browser: its cookie and CSRF token.
struct Browser {
    base: String,
    cookie: String,
    csrf: String,
}

impl Browser {
    /// Follows a mailed link as a person would: opens the page, presses its button.
    fn follow(base: &str, link: &str) -> Browser {
        let mut page = agent().get(link).call().unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let csp = page
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        let html = page.body_mut().read_to_string().unwrap();
        let token = html
            .split("name=\"token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        assert!(link.ends_with(&token), "the page carries the link's token");
        let r = agent()
            .post(&format!("{base}/v1/sign-in/redeem"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(format!("token={token}"))
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let set = r
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        let cookie = set.split(';').next().unwrap().to_owned();
        let mut b = Browser {
            base: base.to_owned(),
            cookie,
            csrf: String::new(),
        };
        let (status, me) = b.call("GET", "/v1/me", None, true);
        assert_eq!(status, 200, "{me}");
        b.csrf = me["csrf"].as_str().unwrap().to_owned();
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>, csrf: bool) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let a = agent();
        let mut response = match method {
            "GET" => a.get(&url).header("cookie", &self.cookie).call(),
            m => {
                let mut r = match m {
                    "POST" => a.post(&url),
                    _ => a.put(&url),
                }
                .header("cookie", &self.cookie)
                .header("content-type", "application/json");
                if csrf {
                    r = r.header("x-csrf-token", &self.csrf);
                }
                r.send(body.map(Value::to_string).unwrap_or_default())
            }
        }
        .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
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

#[test]
fn a_judge_invited_by_mail_signs_in_with_the_link_and_marks() {
    let sink = Sink::start();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--smtp", &sink.url],
    );
    let admin = server.admin().to_owned();
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let integrator = server.key("integrator", None);
    for a in applications().iter().take(12) {
        assert_eq!(server.post(&url("/applications"), &integrator, a).0, 201);
    }
    assert_eq!(server.post(&url("/close"), &admin, &json!({})).0, 200);
    let judges: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/seoul-smart-city-prize-2023/judges.json"))
            .unwrap(),
    )
    .unwrap();
    for j in judges.as_array().unwrap() {
        let id = j["id"].as_str().unwrap();
        assert_eq!(server.put(&url(&format!("/judges/{id}")), &admin, j).0, 200);
    }
    for step in [
        "/rounds/screening/open",
        "/rounds/screening/close",
        "/rounds/screening/advance",
    ] {
        assert_eq!(server.post(&url(step), &admin, &json!({})).0, 200, "{step}");
    }
    let (status, expert) = server.post(&url("/rounds/expert/open"), &admin, &json!({ "seed": 3 }));
    assert_eq!(status, 200, "{expert}");

    // An invitation for a judge who is not registered is refused, located.
    let (status, v) = server.post(
        &url("/invitations"),
        &admin,
        &json!({ "email": "x@example.org", "name": "X", "role": "judge", "judge": "judge-nobody" }),
    );
    assert_eq!(
        (status, v["errors"][0]["pointer"].as_str()),
        (422, Some("/judge")),
        "{v}"
    );
    let (status, v) = server.post(
        &url("/invitations"),
        &admin,
        &json!({ "email": "Kim@Example.org", "name": "김지원", "language": "ko", "role": "judge", "judge": "judge-kim" }),
    );
    assert_eq!(status, 201, "{v}");
    let mails = sink.wait_for(1, Duration::from_secs(20));
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["kim@example.org"]);
    let (subject, text) = parsed(&mails[0]);
    assert!(subject.contains("초대합니다"), "in Korean: {subject}");
    assert!(text.contains("김지원님"), "{text}");
    let link = link_in(&text);
    assert!(link.starts_with(&server.url), "{link}");

    let kim = Browser::follow(&server.url, &link);
    // The link works once.
    let token = link.rsplit('=').next().unwrap();
    let (status, _) = server.call(
        "POST",
        "/v1/sign-in/redeem",
        None,
        Some(json!({ "token": token }).to_string().as_bytes()),
    );
    assert_eq!(status, 401, "a used link");
    let (_, me) = kim.call("GET", "/v1/me", None, false);
    assert_eq!(me["email"], "kim@example.org");
    assert_eq!(me["grants"][0]["judge"], "judge-kim");
    let (status, work) = kim.call("GET", "/v1/me/work", None, false);
    assert_eq!(status, 200, "{work}");
    let due = work["rounds"][0]["due"].as_array().unwrap().clone();
    assert!(!due.is_empty(), "{work}");
    let app = due[0].as_str().unwrap();
    let (status, view) = kim.call(
        "GET",
        &url(&format!("/rounds/expert/applications/{app}")),
        None,
        false,
    );
    assert_eq!(status, 200, "{view}");
    let category = view["application"]["category"].as_str().unwrap();
    let rubric: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("rubrics/seoul-smart-city-prize-2023/award.json"))
            .unwrap(),
    )
    .unwrap();
    let marks: serde_json::Map<String, Value> = rubric["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == category)
        .unwrap()["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["indicators"].as_array().unwrap().iter())
        .map(|i| (i["id"].as_str().unwrap().to_owned(), json!(7)))
        .collect();
    let body = json!({ "marks": marks });
    let path = url(&format!("/rounds/expert/marks/{app}"));
    let (status, v) = kim.call("PUT", &path, Some(&body), false);
    assert_eq!(status, 403, "a change without the CSRF token: {v}");
    let (status, v) = kim.call("PUT", &path, Some(&body), true);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["judge"], "judge-kim");
    // A reminder of what is still due, in Korean.
    let (status, v) = server.post(&url("/rounds/expert/remind"), &admin, &json!({}));
    assert_eq!((status, v["reminded"].as_u64()), (200, Some(1)), "{v}");
    let mails = sink.wait_for(2, Duration::from_secs(20));
    assert_eq!(mails[1].to, ["kim@example.org"]);
    let (subject, _) = parsed(&mails[1]);
    assert!(
        subject.ends_with(&format!("미완료 심사 {}건", due.len() - 1)),
        "{subject}"
    );
    // Switched off, no reminder goes.
    let (status, v) = server.put(
        &url("/notifications"),
        &admin,
        &json!({ "reminder": false }),
    );
    assert_eq!(status, 200, "{v}");
    let (_, v) = server.post(&url("/rounds/expert/remind"), &admin, &json!({}));
    assert_eq!(v["reminded"], 0);
    let (status, v) = server.put(
        &url("/notifications"),
        &admin,
        &json!({ "reminders": false }),
    );
    assert_eq!(
        (status, v["errors"][0]["pointer"].as_str()),
        (422, Some("/reminders"))
    );
    // The judge's session cannot act as an administrator.
    let (status, _) = kim.call("POST", &url("/rounds/expert/close"), Some(&json!({})), true);
    assert_eq!(status, 403);
    // An administrator ends the judge's sessions.
    let person = me["person"].as_str().unwrap();
    let (status, _) = server.post(
        &format!("/v1/people/{person}/sessions/revoke"),
        &admin,
        &json!({}),
    );
    assert_eq!(status, 200);
    let (status, v) = kim.call("GET", "/v1/me/work", None, false);
    assert_eq!(status, 401, "{v}");
}

#[test]
fn an_applicant_registers_confirms_and_submits_and_sign_in_tells_nothing() {
    let sink = Sink::start();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--smtp", &sink.url],
    );
    let admin = server.admin().to_owned();
    let register = |body: &Value| {
        server.call(
            "POST",
            &url("/register"),
            None,
            Some(body.to_string().as_bytes()),
        )
    };
    assert_eq!(
        register(&json!({ "email": "a@example.org", "name": "A" })).0,
        409,
        "not open yet"
    );
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let (status, v) = register(&json!({ "email": "not an address", "name": "A" }));
    assert_eq!(
        (status, v["errors"][0]["pointer"].as_str()),
        (422, Some("/email"))
    );
    // By invitation only: registration refused; open again: taken.
    let (status, _) = server.put(&url("/registration"), &admin, &json!({ "open": false }));
    assert_eq!(status, 200);
    let (status, v) = register(&json!({ "email": "lee@example.org", "name": "Lee Min-jun" }));
    assert_eq!(status, 409, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("by invitation only"));
    assert_eq!(sink.got.lock().unwrap().len(), 0);
    server.put(&url("/registration"), &admin, &json!({ "open": true }));
    let (status, _) = register(&json!({ "email": "lee@example.org", "name": "Lee Min-jun" }));
    assert_eq!(status, 202);
    let mails = sink.wait_for(1, Duration::from_secs(20));
    let (subject, text) = parsed(&mails[0]);
    assert!(
        subject.starts_with("Confirm your address for Seoul Smart City Prize"),
        "{subject}"
    );
    let lee = Browser::follow(&server.url, &link_in(&text));
    let (_, me) = lee.call("GET", "/v1/me", None, false);
    assert_eq!(me["verified"], true);
    let mut app = applications()[0].clone();
    app.as_object_mut().unwrap().remove("id");
    let (status, v) = lee.call("POST", &url("/applications"), Some(&app), true);
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap();
    let (status, mine) = lee.call("GET", &url(&format!("/applications/{id}")), None, false);
    assert_eq!(status, 200, "{mine}");
    // The applicant hears that it arrived, and its eligibility.
    let mails = sink.wait_for(2, Duration::from_secs(20));
    let (subject, text) = parsed(&mails[1]);
    assert_eq!(
        subject,
        format!("Seoul Smart City Prize 2023: application {id} received")
    );
    assert!(
        text.contains("Its eligibility, as the rules decide it: eligible."),
        "{text}"
    );
    // Not an administrator, not another award's applicant.
    assert_eq!(lee.call("GET", "/v1/people", None, false).0, 403);
    assert_eq!(
        lee.call(
            "POST",
            "/v1/awards/civic-tech-fellowship-2025/applications",
            Some(&app),
            true
        )
        .0,
        403
    );

    // A sign-in link for a known address arrives; for an unknown one, the same answer and no mail.
    let sign_in = |email: &str| {
        server.call(
            "POST",
            "/v1/sign-in",
            None,
            Some(json!({ "email": email }).to_string().as_bytes()),
        )
    };
    let (status, unknown) = sign_in("nobody@example.org");
    let (status2, known) = sign_in("LEE@example.org");
    assert_eq!((status, status2), (202, 202));
    assert_eq!(unknown, known, "the answer tells nothing");
    let mails = sink.wait_for(3, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        sink.got.lock().unwrap().len(),
        3,
        "no mail for the unknown address"
    );
    let (subject, _) = parsed(&mails[2]);
    assert_eq!(subject, "Your Laurel sign-in link");
    // Asking again and again for one account is slowed down.
    let statuses: Vec<u16> = (0..7).map(|_| sign_in("flood@example.org").0).collect();
    assert_eq!(
        statuses,
        [202, 202, 202, 202, 202, 429, 429],
        "five requests, then a wait"
    );
    assert_eq!(
        sign_in("other@example.org").0,
        202,
        "other accounts from the same address go on"
    );
    // Signing out ends the session.
    assert_eq!(lee.call("POST", "/v1/sign-out", None, true).0, 204);
    assert_eq!(lee.call("GET", "/v1/me", None, false).0, 401);
}

/// Sends raw bytes with an API key; the status, headers and body.
fn raw(
    method: &str,
    url: &str,
    key: &str,
    body: Option<Vec<u8>>,
) -> (u16, std::collections::BTreeMap<String, String>, Vec<u8>) {
    let a = agent();
    let mut r = match (method, body) {
        ("GET", _) => a
            .get(url)
            .header("authorization", &format!("Bearer {key}"))
            .call(),
        (_, b) => a
            .post(url)
            .header("authorization", &format!("Bearer {key}"))
            .header("content-type", "application/octet-stream")
            .send(b.unwrap_or_default()),
    }
    .unwrap();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    (
        r.status().as_u16(),
        headers,
        r.body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap(),
    )
}

#[test]
fn an_applicant_uploads_a_letter_and_only_its_owner_and_administrators_read_it() {
    use sha2::Digest;
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let admin = server.admin().to_owned();
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let applicant = server.key("applicant", None);
    let upload = |field: &str, name: &str, bytes: Vec<u8>| {
        raw(
            "POST",
            &format!(
                "{}{}?field={field}&name={name}",
                server.url,
                url("/uploads")
            ),
            &applicant,
            Some(bytes),
        )
    };
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let (status, _, body) = upload("recommendation_letter", "letter.pdf", pdf.clone());
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let reference: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(reference["sha256"], hex::encode(sha2::Sha256::digest(&pdf)));
    assert_eq!(reference["media_type"], "application/pdf");
    // A picture named .pdf is a picture: refused.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let (status, _, body) = upload("recommendation_letter", "letter.pdf", png);
    assert_eq!(status, 415, "{}", String::from_utf8_lossy(&body));
    // Past the field's 10 MiB: refused as soon as the bound is passed.
    let mut big = pdf.clone();
    big.resize((10 << 20) + 1, b' ');
    assert_eq!(upload("recommendation_letter", "big.pdf", big).0, 413);
    // Not a file field.
    assert_eq!(upload("achievements", "x.pdf", pdf.clone()).0, 404);

    let mut app = applications()
        .into_iter()
        .find(|a| a["id"] == "app-057")
        .unwrap();
    app.as_object_mut().unwrap().remove("id");
    app["fields"]["recommendation_letter"] = json!({
        "name": reference["name"], "media_type": reference["media_type"], "sha256": reference["sha256"],
    });
    // A reference to a file the applicant never uploaded is refused, located.
    let mut forged = app.clone();
    forged["fields"]["recommendation_letter"]["sha256"] = json!("0".repeat(64));
    let (status, v) = server.post(&url("/applications"), &applicant, &forged);
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["errors"][0]["pointer"], "/fields/recommendation_letter");
    let (status, v) = server.post(&url("/applications"), &applicant, &app);
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap();
    let file_url = format!(
        "{}{}",
        server.url,
        url(&format!("/applications/{id}/files/recommendation_letter"))
    );
    let (status, headers, bytes) = raw("GET", &file_url, &applicant, None);
    assert_eq!(status, 200);
    assert_eq!(bytes, pdf, "the owner gets the very bytes");
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-disposition"],
        "inline; filename=\"letter.pdf\""
    );
    assert!(headers["content-security-policy"].starts_with("sandbox"));
    assert_eq!(raw("GET", &file_url, &admin, None).0, 200);
    let other = server.key("applicant", None);
    assert_eq!(
        raw("GET", &file_url, &other, None).0,
        404,
        "as if it did not exist"
    );
    let auditor = server.key("auditor", None);
    assert_eq!(raw("GET", &file_url, &auditor, None).0, 404);
}
