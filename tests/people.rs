//! People, not keys: a judge invited by e-mail signs in with the link and marks; an applicant
//! registers, confirms the address and submits; sign-in links work once and tell nobody who
//! has an account; sessions need their CSRF token to change anything and can be revoked.
//! Mail goes through a real SMTP sink on 127.0.0.1, read back with Python's `email` parser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::session::{Browser, agent, link_in, link_mailed_to, parsed};
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

#[test]
fn a_judge_invited_by_mail_signs_in_with_the_link_and_marks() {
    let data = tempfile::tempdir().unwrap();
    let (server, sink) = Server::start_with_mail(data.path());
    let admin = server.admin().to_owned();
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let integrator = server.key("integrator", None);
    for a in applications().iter().take(12) {
        assert_eq!(server.post(&url("/applications"), &integrator, a).0, 201);
    }
    support::seoul_through_screening(&server);
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
    // A comment on a criterion the category does not have is refused, located.
    let mut with_comments = body.clone();
    with_comments["criterion_comments"] = json!({ "no-such-criterion": "?" });
    let (status, v) = kim.call("PUT", &path, Some(&with_comments), true);
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        v["errors"][0]["pointer"],
        "/criterion_comments/no-such-criterion"
    );
    let criterion = rubric["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == category)
        .unwrap()["criteria"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    with_comments["criterion_comments"] = json!({ criterion.clone(): "근거가 명확합니다" });
    let (status, v) = kim.call("PUT", &path, Some(&with_comments), true);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["judge"], "judge-kim");
    assert_eq!(v["criterion_comments"][&criterion], "근거가 명확합니다");
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
    let data = tempfile::tempdir().unwrap();
    let (server, sink) = Server::start_with_mail(data.path());
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
    // The entry is named by its title, its id beside it.
    let title = app["fields"]["project_title"].as_str().unwrap();
    assert_eq!(
        subject,
        format!("Seoul Smart City Prize 2023: application “{title}” ({id}) received")
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
    // Signed in, Lee follows a new link: the session the link starts replaces the one they had.
    let link = link_in(&parsed(&mails[2]).1);
    let token = link.rsplit('=').next().unwrap();
    let mut response = agent()
        .post(&format!("{}/v1/sign-in/redeem", server.url))
        .header("cookie", &lee.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .send(format!("token={token}"))
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.body_mut().read_to_string().unwrap_or_default()
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
fn an_applicant_uploads_a_letter_that_only_its_owner_administrators_and_assigned_judges_read() {
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

    // A judge assigned to the application reads the letter, under a name that identifies
    // nobody; a judge not assigned to it is told nothing.
    let judges = support::seoul_through_screening(&server);
    let (status, round) = server.post(&url("/rounds/expert/open"), &admin, &json!({ "seed": 5 }));
    assert_eq!(status, 200, "{round}");
    let assignments = round["assignments"].as_object().unwrap();
    let (assigned, _) = assignments
        .iter()
        .find(|(_, apps)| apps.as_array().unwrap().iter().any(|a| a == id))
        .expect("the application is assigned");
    let outsider = judges
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .find(|j| {
            !assignments
                .get(*j)
                .is_some_and(|apps| apps.as_array().unwrap().iter().any(|a| a == id))
        })
        .expect("a judge not assigned");
    let judge = server.key("judge", Some(assigned));
    // The blind view lists the file under a neutral name, with where to get it.
    let (status, view) = server.get(&url(&format!("/rounds/expert/applications/{id}")), &judge);
    assert_eq!(status, 200, "{view}");
    let listed = &view["application"]["fields"]["recommendation_letter"];
    assert_eq!(listed["name"], "recommendation_letter.pdf", "{view}");
    assert!(!view.to_string().contains("\"letter.pdf\""), "{view}");
    assert_eq!(
        format!("{}{}", server.url, listed["download"].as_str().unwrap()),
        file_url
    );
    let (status, headers, bytes) = raw("GET", &file_url, &judge, None);
    assert_eq!(status, 200);
    assert_eq!(bytes, pdf);
    assert_eq!(
        headers["content-disposition"], "inline; filename=\"recommendation_letter.pdf\"",
        "no name the applicant gave"
    );
    let stranger = server.key("judge", Some(outsider));
    assert_eq!(raw("GET", &file_url, &stranger, None).0, 404);
}

#[test]
fn keys_have_owners_and_a_persons_keys_end_with_their_sessions() {
    let data = tempfile::tempdir().unwrap();
    let (server, sink) = Server::start_with_mail(data.path());
    let admin = server.admin().to_owned();
    // A key made with the bootstrap key belongs to the bootstrap service account, unless named.
    let (status, v) = server.post("/v1/keys", &admin, &json!({ "role": "integrator" }));
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["owner"], json!({ "kind": "service", "id": "bootstrap" }));
    let (status, v) = server.post(
        "/v1/keys",
        &admin,
        &json!({ "role": "integrator", "owner": { "kind": "service", "id": "seoul-portal" } }),
    );
    assert_eq!(status, 201, "{v}");
    let portal = v["id"].as_str().unwrap().to_owned();
    for (owner, why) in [
        (json!({ "kind": "person", "id": "p-nobody" }), "no person"),
        (json!({ "kind": "service", "id": "a portal!" }), "letters"),
    ] {
        let (status, v) = server.post(
            "/v1/keys",
            &admin,
            &json!({ "role": "integrator", "owner": owner }),
        );
        assert_eq!(status, 422, "{v}");
        assert_eq!(v["errors"][0]["pointer"], "/owner/id");
        assert!(
            v["errors"][0]["message"].as_str().unwrap().contains(why),
            "{v}"
        );
    }
    // A person signed in makes a key: theirs.
    let (status, v) = server.post(
        &url("/invitations"),
        &admin,
        &json!({ "email": "park@wego.example", "name": "Park", "role": "admin" }),
    );
    assert_eq!(status, 201, "{v}");
    let park = Browser::follow(&server.url, &link_mailed_to(&sink, "park@wego.example"));
    let (_, me) = park.call("GET", "/v1/me", None, false);
    let person = me["person"].as_str().unwrap().to_owned();
    let (status, made) = park.call(
        "POST",
        "/v1/keys",
        Some(&json!({ "role": "auditor", "label": "Park's audit script" })),
        true,
    );
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["owner"], json!({ "kind": "person", "id": person }));
    let secret = made["key"].as_str().unwrap().to_owned();
    let (status, theirs) = server.get(&format!("/v1/keys?owner={person}"), &secret);
    assert_eq!(status, 200, "{theirs}");
    let ids: Vec<&str> = theirs
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [made["id"].as_str().unwrap()]);
    // Ending the person's sessions revokes their keys, and no one else's.
    let (status, v) = server.post(
        &format!("/v1/people/{person}/sessions/revoke"),
        &admin,
        &json!({}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["keys_revoked"], json!([made["id"]]));
    assert_eq!(server.get("/v1/keys", &secret).0, 401);
    assert_eq!(park.call("GET", "/v1/me", None, false).0, 401);
    let (_, all) = server.get("/v1/keys", &admin);
    let live = |id: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == id && k["revoked"] == false)
    };
    assert!(live(&portal));
    // The audit names who answers for each act.
    let (_, audit) = server.get("/v1/audit", &admin);
    let made_by_park = audit["records"]
        .as_array()
        .or(audit.as_array())
        .unwrap()
        .iter()
        .find(|r| r["action"] == "key.create" && r["target"] == made["id"])
        .cloned()
        .unwrap();
    assert!(
        made_by_park["actor"].as_str().unwrap().starts_with(&person),
        "{made_by_park}"
    );
}

/// Found by schemathesis: inviting an address that already has an account answered 500
/// (the address index was read as JSON). One person, with every grant given.
#[test]
fn a_person_invited_again_keeps_one_account_with_every_grant() {
    let data = tempfile::tempdir().unwrap();
    let (server, _sink) = Server::start_with_mail(data.path());
    let admin = server.admin().to_owned();
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let invite = |email: &str, role: &str| {
        let (status, v) = server.post(
            &url("/invitations"),
            &admin,
            &json!({ "email": email, "name": "Park", "role": role }),
        );
        assert_eq!(status, 201, "{role}: {v}");
        v
    };
    let first = invite("park@example.org", "auditor");
    let again = invite("Park@Example.org", "admin");
    assert_eq!(
        first["person"], again["person"],
        "one person: {first} {again}"
    );
    let roles: Vec<&str> = again["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"auditor") && roles.contains(&"admin"),
        "{again}"
    );
    // Registering with the same address as an applicant answers as for anyone.
    let (status, v) = server.call(
        "POST",
        &url("/register"),
        None,
        Some(
            json!({ "email": "park@example.org", "name": "Park" })
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(status, 202, "{v}");
    let (_, people) = server.get("/v1/people", &admin);
    let parks = people
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["email"] == "park@example.org")
        .count();
    assert_eq!(parks, 1, "{people}");
}
