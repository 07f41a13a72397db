//! The portal's pages over plain HTTP: the same role rules as the API, a CSRF token on every
//! form that changes something, escaped output, the headers every page carries, and the
//! visitor's language.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::time::Duration;

use serde_json::json;
use support::Server;
use support::session::{Browser, agent, link_in, link_mailed_to, parsed};

const AWARD: &str = "seoul-smart-city-prize-2023";

fn page(
    url: &str,
    cookie: Option<&str>,
    lang: Option<&str>,
) -> (u16, String, Vec<(String, String)>) {
    let mut r = agent().get(url);
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    if let Some(l) = lang {
        r = r.header("accept-language", l);
    }
    let mut response = r.call().unwrap();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
        headers,
    )
}

fn form(url: &str, cookie: &str, body: &str) -> (u16, String) {
    let mut response = agent()
        .post(url)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .send(body.to_owned())
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> &'h str {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn pages_keep_the_apis_rules_their_tokens_and_their_headers() {
    let data = tempfile::tempdir().unwrap();
    let (server, sink) = Server::start_with_mail(data.path());
    let admin = server.admin().to_owned();
    let base = server.url.clone();
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        200
    );

    // Anyone sees the awards, in the browser's language, under a CSP without inline script.
    let (status, html, headers) = page(&format!("{base}/"), None, Some("ko-KR,ko;q=0.9"));
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"ko\">"), "{html}");
    let csp = header(&headers, "content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(!html.contains("<script>"), "no inline script");
    // A page that needs a person sends others to sign in.
    let (status, _, headers) = page(&format!("{base}/awards/{AWARD}/admin"), None, None);
    assert_eq!((status, header(&headers, "location")), (303, "/sign-in"));

    // A judge signed in: the judge's pages work, the administrators' do not.
    let (status, _) = server.put(
        &format!("/v1/awards/{AWARD}/judges/judge-kim"),
        &admin,
        &json!({ "id": "judge-kim", "name": "Kim" }),
    );
    assert_eq!(status, 200);
    let (status, v) = server.post(
        &format!("/v1/awards/{AWARD}/invitations"),
        &admin,
        &json!({ "email": "kim@example.org", "name": "<b>Kim</b>", "role": "judge", "judge": "judge-kim", "language": "ko" }),
    );
    assert_eq!(status, 201, "{v}");
    let mails = sink.wait_for(1, Duration::from_secs(20));
    let (_, text) = parsed(&mails[0]);
    let kim = Browser::follow(&base, &link_in(&text));
    let (status, html, _) = page(&format!("{base}/me"), Some(&kim.cookie), None);
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"ko\">"), "the person's language");
    assert!(
        html.contains("&lt;b&gt;Kim&lt;/b&gt;") && !html.contains("<b>Kim</b>"),
        "what people typed is escaped"
    );
    let (status, _, _) = page(&format!("{base}/work"), Some(&kim.cookie), None);
    assert_eq!(status, 200);
    let (status, html, _) = page(
        &format!("{base}/awards/{AWARD}/admin"),
        Some(&kim.cookie),
        None,
    );
    assert_eq!(status, 403, "{html}");
    // A form without the session's token changes nothing; with it, the API's rules decide.
    let close = format!("{base}/awards/{AWARD}/admin/do");
    let (status, _) = form(&close, &kim.cookie, "do=close");
    assert_eq!(status, 403);
    let (status, _) = form(&close, &kim.cookie, &format!("do=close&csrf={}", kim.csrf));
    assert_eq!(status, 403, "a judge may not close the call");
    let (_, award) = server.get(&format!("/v1/awards/{AWARD}"), &admin);
    assert_eq!(award["state"], "open", "nothing changed");

    // An administrator signed in closes the call from the dashboard, token and all.
    let (status, v) = server.post(
        &format!("/v1/awards/{AWARD}/invitations"),
        &admin,
        &json!({ "email": "office@wego.example", "name": "Office", "role": "admin" }),
    );
    assert_eq!(status, 201, "{v}");
    let office = Browser::follow(&base, &link_mailed_to(&sink, "office@wego.example"));
    let (status, _) = form(&close, &office.cookie, "do=close&csrf=forged");
    assert_eq!(status, 403, "a forged token");
    let (status, _) = form(
        &close,
        &office.cookie,
        &format!("do=close&csrf={}", office.csrf),
    );
    assert_eq!(status, 303);
    let (_, award) = server.get(&format!("/v1/awards/{AWARD}"), &admin);
    assert_eq!(award["state"], "closed");
    let (_, audit) = server.get("/v1/audit", &admin);
    let closed = audit
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|r| r["action"] == "award.close")
        .unwrap();
    let person = {
        let (_, me) = office.call("GET", "/v1/me", None, false);
        me["person"].as_str().unwrap().to_owned()
    };
    assert!(
        closed["actor"].as_str().unwrap().starts_with(&person),
        "the page's act is audited as the person's: {closed}"
    );
}

/// A `multipart/form-data` body of text fields: (content type, body).
fn multipart(fields: &[(&str, &str)]) -> (String, String) {
    let boundary = "laurel-test-boundary-7d3f";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn post_multipart(url: &str, cookie: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let (content_type, body) = multipart(fields);
    post_body(url, cookie, &content_type, body.into_bytes())
}

/// Posts `body` as it is: (status, page).
fn post_body(url: &str, cookie: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let mut response = agent()
        .post(url)
        .header("cookie", cookie)
        .header("content-type", content_type)
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// A programme manager runs the call's dates and the jury in the pages: a call opened after
/// its closing date says so and its dates move there; judges come from a typed form and a CSV
/// file, a file with any problem adds nobody; entries are named by their title.
#[test]
fn the_dates_and_the_jury_are_run_in_the_pages() {
    let data = tempfile::tempdir().unwrap();
    let sink = support::smtp::Sink::start();
    // After the Seoul call's closing date (2023-05-31 18:00 in Seoul).
    let server = Server::start_full(
        data.path(),
        &support::root().join("rubrics"),
        &[],
        &["--smtp", &sink.url, "--now", "2023-07-01T12:00:00+09:00"],
    );
    let admin = server.admin().to_owned();
    let base = server.url.clone();
    let (status, v) = server.post(
        &format!("/v1/awards/{AWARD}/invitations"),
        &admin,
        &json!({ "email": "office@wego.example", "name": "Office", "role": "admin" }),
    );
    assert_eq!(status, 201, "{v}");
    let office = Browser::follow(&base, &link_mailed_to(&sink, "office@wego.example"));
    let dashboard = format!("{base}/awards/{AWARD}/admin");
    let act = format!("{dashboard}/do");
    assert_eq!(
        form(
            &act,
            &office.cookie,
            &format!("do=open&csrf={}", office.csrf)
        )
        .0,
        303
    );

    // Open, but past its closing date: the dashboard says so and offers to move the dates.
    let (_, html, _) = page(&dashboard, Some(&office.cookie), Some("en"));
    assert!(
        html.contains("The closing date has passed (2023-05-31 18:00 (Asia/Seoul))"),
        "{html}"
    );
    let (status, _) = form(
        &format!("{dashboard}/timeline"),
        &office.cookie,
        &format!(
            "opens=2023-06-30T09%3A00&closes=2023-07-31T18%3A00&reason=Extended&csrf={}",
            office.csrf
        ),
    );
    assert_eq!(status, 303);
    let (_, record) = server.get(&format!("/v1/awards/{AWARD}"), &admin);
    assert_eq!(
        record["schedule"]["closes"], "2023-07-31T09:00:00+00:00",
        "{record}"
    );
    let (_, html, _) = page(&dashboard, Some(&office.cookie), Some("en"));
    assert!(!html.contains("The closing date has passed"), "{html}");
    assert!(html.contains("2023-07-31 18:00 (Asia/Seoul)"));

    // A jury file whose form cannot be read (cut off before its end) says so, and adds nobody.
    let jury = format!("{dashboard}/jury");
    let cut = format!(
        "--laurel-test-boundary-7d3f\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--laurel-test-boundary-7d3f\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nname\r\nKim",
        office.csrf
    );
    let mut response = agent()
        .post(&format!("{jury}/import"))
        .header("cookie", &office.cookie)
        .header(
            "content-type",
            "multipart/form-data; boundary=laurel-test-boundary-7d3f",
        )
        .send(cut)
        .unwrap();
    let html = response.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(response.status().as_u16(), 400, "{html}");
    assert!(!html.contains("out of date"), "{html}");
    // A file a spreadsheet saved in another encoding (Windows-1252: "García") is refused by its
    // name, with how to save it, never read with its letters replaced.
    let boundary = "laurel-test-boundary-7d3f";
    let file_form = |bytes: &[u8]| {
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"jury.csv\"\r\nContent-Type: text/csv\r\n\r\n",
            office.csrf
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        post_body(
            &format!("{jury}/import"),
            &office.cookie,
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
    };
    let header = "name,email,organisation,city,country,expertise";
    let mut latin = format!("{header}\n").into_bytes();
    latin.extend_from_slice(b"Luc\xEDa Garc\xEDa,,Uniandes,Bogot\xE1,CO,welfare\n");
    let (status, html) = file_form(&latin);
    assert_eq!(status, 400, "{html}");
    assert!(
        html.contains("jury.csv") && html.contains("UTF-8"),
        "{html}"
    );
    // A jury file with two problems adds nobody and names both, by line; saved as "CSV UTF-8",
    // its byte order mark is not part of its first column's name.
    let bad = format!(
        "{header}\nKim Ji-won,kim@jury.example,KRIHS,Sejong,Koera,governance\n,x@jury.example,,,,\n"
    );
    let (status, html) = file_form(format!("\u{feff}{bad}").as_bytes());
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("Line 2: “Koera” names no country: did you mean South Korea (KR)?")
            && html.contains("Line 3: give the judge’s name"),
        "{html}"
    );
    let (_, judges) = server.get(&format!("/v1/awards/{AWARD}/judges"), &admin);
    assert_eq!(judges.as_array().unwrap().len(), 0, "nothing half-applied");
    // Fixed, both are added; the one with an address is invited.
    let good = format!(
        "{header}\nKim Ji-won,kim@jury.example,KRIHS,Sejong,South Korea,governance;mobility\nLucía García,,Uniandes,Bogotá,CO,welfare\n"
    );
    let (status, html) = post_multipart(
        &format!("{jury}/import"),
        &office.cookie,
        &[("csrf", &office.csrf), ("text", &good)],
    );
    assert_eq!(status, 303, "{html}");
    let (_, judges) = server.get(&format!("/v1/awards/{AWARD}/judges"), &admin);
    let judges = judges.as_array().unwrap().clone();
    assert_eq!(judges.len(), 2, "{judges:?}");
    let kim = judges.iter().find(|j| j["name"] == "Kim Ji-won").unwrap();
    assert_eq!(
        (kim["country"].as_str(), kim["expertise"].clone()),
        (Some("KR"), json!(["governance", "mobility"]))
    );
    let _ = link_mailed_to(&sink, "kim@jury.example");
    // Invited by mistake: taken back in the pages, the link no longer makes her a judge.
    let (_, people) = server.get("/v1/people", &admin);
    let kim_person = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "kim@jury.example")
        .unwrap()["person"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = form(
        &format!("{jury}/revoke"),
        &office.cookie,
        &format!("person={kim_person}&csrf={}", office.csrf),
    );
    assert_eq!(status, 303);
    let (_, people) = server.get("/v1/people", &admin);
    let kim_grants = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["person"] == kim_person.as_str())
        .unwrap()["grants"]
        .clone();
    assert_eq!(kim_grants, json!([]), "no role left on the award");
    let (_, html, _) = page(&jury, Some(&office.cookie), Some("en"));
    let kim_row = html.split("Kim Ji-won").nth(1).unwrap_or_default();
    assert!(
        kim_row
            .split("</tr>")
            .next()
            .unwrap_or_default()
            .contains("Not invited"),
        "{html}"
    );
    // A judge typed in with two declared conflicts (the field repeats).
    let (status, _) = form(
        &jury,
        &office.cookie,
        &format!(
            "name=Ingrid+Larsen&country=DK&conflicts=app-001&conflicts=app-002&conflict_reason=Advised+both&csrf={}",
            office.csrf
        ),
    );
    assert_eq!(status, 303);
    let (_, judges) = server.get(&format!("/v1/awards/{AWARD}/judges"), &admin);
    let ingrid = judges
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "Ingrid Larsen")
        .unwrap()
        .clone();
    assert_eq!(ingrid["id"], "judge-ingrid-larsen");
    assert_eq!(
        ingrid["declared_conflicts"],
        json!([{ "application": "app-001", "reason": "Advised both" }, { "application": "app-002", "reason": "Advised both" }])
    );
    // An entry is named by its title, as the application gave it.
    let examples: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            support::root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let app = examples
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "app-001")
        .unwrap();
    let (status, v) = server.call(
        "POST",
        &format!("/v1/awards/{AWARD}/applications"),
        Some(&admin),
        Some(app.to_string().as_bytes()),
    );
    assert_eq!(status, 201, "{v}");
    let (_, listed) = server.get(&format!("/v1/awards/{AWARD}/applications"), &admin);
    assert_eq!(
        listed[0]["title"], app["fields"]["project_title"],
        "{listed}"
    );
    let (_, html, _) = page(
        &format!("{base}/awards/{AWARD}/admin/entries?q=bogot"),
        Some(&office.cookie),
        Some("en"),
    );
    assert!(
        html.contains("Project 1: Green Data for Bogotá") && html.contains("1 of 1 entries shown"),
        "{html}"
    );
    // The jury page names every judge, their country by name.
    let (_, html, _) = page(&jury, Some(&office.cookie), Some("en"));
    assert!(
        html.contains("Lucía García") && html.contains("Colombia"),
        "{html}"
    );
}

/// A file as large as its field allows is taken, by the API and by the application form,
/// whatever the limit of other bodies; one byte more than the field allows is refused, by
/// the field's own limit.
#[test]
fn a_file_as_large_as_its_field_allows_is_taken() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &support::root().join("rubrics"));
    let admin = server.admin().to_owned();
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        200
    );
    let field_limit = 10 << 20; // the Seoul letter's limit: Laurel's default
    let pdf = |size: usize| {
        let mut b = b"%PDF-1.4\n".to_vec();
        b.resize(size, b' ');
        b
    };
    let upload = |bytes: Vec<u8>| {
        let mut r = agent()
            .post(&format!(
                "{}/v1/awards/{AWARD}/uploads?field=recommendation_letter&name=letter.pdf",
                server.url
            ))
            .header("authorization", &format!("Bearer {admin}"))
            .send(bytes)
            .unwrap();
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    let (status, body) = upload(pdf(field_limit - 1024));
    assert_eq!(status, 201, "{body}");
    let (status, body) = upload(pdf(field_limit + 1));
    assert_eq!(status, 413, "{body}");
    assert!(
        body.contains("recommendation_letter"),
        "the field's limit is named: {body}"
    );
}

/// A server with the Seoul call open and Amina registered and signed in from her mailed link.
fn open_with_applicant_signed_in(data: &std::path::Path) -> (Server, support::smtp::Sink, Browser) {
    let (server, sink) = Server::start_with_mail(data);
    let admin = server.admin().to_owned();
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        200
    );
    let (status, _) = server.call(
        "POST",
        &format!("/v1/awards/{AWARD}/register"),
        None,
        Some(
            json!({ "email": "amina@example.org", "name": "Amina", "language": "en" })
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(status, 202);
    let amina = Browser::follow(&server.url, &link_mailed_to(&sink, "amina@example.org"));
    (server, sink, amina)
}

/// An applicant in the pages: a refused file does not hide the form's other problems (all
/// are listed at once, each linked to its field); a submitted application shows what was sent,
/// can be changed while the call is open, and withdrawn with a reason once confirmed.
#[test]
fn an_applicant_sees_every_problem_at_once_and_changes_or_withdraws_in_the_pages() {
    let data = tempfile::tempdir().unwrap();
    let (server, _sink, amina) = open_with_applicant_signed_in(data.path());
    let admin = server.admin().to_owned();
    let base = server.url.clone();

    // A text file where a PDF is asked for, and the city left out: both said at once.
    let boundary = "b-7d3f";
    let mut body = String::new();
    for (name, value) in [
        ("csrf", amina.csrf.as_str()),
        ("category", "leadership"),
        ("applicant_type", "individual"),
        ("action", "submit"),
        ("f.country", "KE"),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file.recommendation_letter\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\njust some words\r\n--{boundary}--\r\n"
    ));
    let (status, html) = post_body(
        &format!("{base}/awards/{AWARD}/apply"),
        &amina.cookie,
        &format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    );
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("id=\"problems\"") && html.contains("data-focus-on-load"),
        "{html}"
    );
    assert!(
        html.contains("href=\"#f-recommendation_letter\""),
        "the file's problem: {html}"
    );
    assert!(
        html.contains("href=\"#f-city\""),
        "and the missing city, at once: {html}"
    );

    // Submitted (through the API, as the form would), it shows what was sent.
    let examples: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            support::root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut app = examples
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "app-002")
        .unwrap()
        .clone();
    app.as_object_mut().unwrap().remove("id");
    let (status, v) = amina.call(
        "POST",
        &format!("/v1/awards/{AWARD}/applications"),
        Some(&app),
        true,
    );
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let status_page = format!("{base}/awards/{AWARD}/applications/{id}");
    let (_, html, _) = page(&status_page, Some(&amina.cookie), Some("en"));
    let title = app["fields"]["project_title"].as_str().unwrap();
    assert!(
        html.contains("What you sent") && html.contains(title),
        "{html}"
    );
    assert!(
        html.contains(&format!("/apply?edit={id}")),
        "it can be changed while the call is open"
    );
    let (status, html, _) = page(
        &format!("{base}/awards/{AWARD}/apply?edit={id}"),
        Some(&amina.cookie),
        Some("en"),
    );
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("value=\"{title}\"")) && html.contains("Save my changes"),
        "{html}"
    );

    // Withdrawn only once confirmed, with the reason kept in the audit log.
    let withdraw = format!("{status_page}/withdraw");
    let (status, _) = form(
        &withdraw,
        &amina.cookie,
        &format!("reason=Moved+on&csrf={}", amina.csrf),
    );
    assert_eq!(status, 400, "not confirmed: nothing happens");
    let (_, v) = amina.call(
        "GET",
        &format!("/v1/awards/{AWARD}/applications/{id}"),
        None,
        false,
    );
    assert_eq!(v["status"], "submitted");
    let (status, _) = form(
        &withdraw,
        &amina.cookie,
        &format!("reason=Moved+on&confirm=1&csrf={}", amina.csrf),
    );
    assert_eq!(status, 303);
    let (_, v) = amina.call(
        "GET",
        &format!("/v1/awards/{AWARD}/applications/{id}"),
        None,
        false,
    );
    assert_eq!(v["status"], "withdrawn");
    let (_, audit) = server.get("/v1/audit", &admin);
    let last = audit
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|r| r["action"] == "application.withdraw")
        .unwrap();
    assert_eq!(last["detail"]["reason"], "Moved on", "{last}");
}

/// A form that cannot be read whole (cut off before its end, or a part that is not text) is
/// refused with why, on every page that takes files, and nothing of it is acted on.
#[test]
fn a_form_that_cannot_be_read_is_refused_with_why_and_nothing_is_done() {
    let data = tempfile::tempdir().unwrap();
    let (server, _sink, amina) = open_with_applicant_signed_in(data.path());
    let admin = server.admin().to_owned();
    let base = server.url.clone();
    let boundary = "b-4c2e";
    let part = |name: &str, value: &[u8]| {
        let mut p =
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .into_bytes();
        p.extend_from_slice(value);
        p.extend_from_slice(b"\r\n");
        p
    };
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let send = |path: &str, body: Vec<u8>| {
        post_body(&format!("{base}{path}"), &amina.cookie, &content_type, body)
    };
    let mut application = Vec::new();
    for (name, value) in [
        ("csrf", amina.csrf.as_str()),
        ("category", "leadership"),
        ("applicant_type", "individual"),
        ("action", "submit"),
        ("f.country", "KE"),
    ] {
        application.extend(part(name, value.as_bytes()));
    }
    // A city's name that is not UTF-8: refused, naming the part, not sent half-read.
    let mut not_text = application.clone();
    not_text.extend(part("f.city", b"Nair\xff\xfebi"));
    not_text.extend(format!("--{boundary}--\r\n").into_bytes());
    let (status, html) = send(&format!("/awards/{AWARD}/apply"), not_text);
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("f.city") && html.contains("UTF-8"), "{html}");
    // Cut off before its end: refused, not taken as a form without its last fields.
    let (status, html) = send(&format!("/awards/{AWARD}/apply"), application.clone());
    assert_eq!(status, 400, "{html}");
    let (_, listed) = server.get(&format!("/v1/awards/{AWARD}/applications"), &admin);
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    // The rubric playground, checking and turning a rubric into a call alike.
    for path in ["/playground", "/playground/call"] {
        let mut cut = part("csrf", amina.csrf.as_bytes());
        cut.extend(part("source", b"{\"id\": \"x\""));
        cut.truncate(cut.len() - 2);
        let (status, html) = send(path, cut);
        assert_eq!(status, 400, "{path}: {html}");
    }
    let (_, awards) = server.get("/v1/awards", &admin);
    assert!(!awards.to_string().contains("\"x\""), "{awards}");
    // A rubric saved with a byte order mark (as some editors write UTF-8) is read as the same
    // rubric; one saved in another encoding is refused by its file's name.
    let rubric =
        std::fs::read(support::root().join("rubrics/civic-tech-fellowship-2025/award.json"))
            .unwrap();
    let upload = |bytes: &[u8]| {
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"award.json\"\r\nContent-Type: application/json\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        send("/playground", body)
    };
    let (plain, plain_html) = upload(&rubric);
    assert_eq!(plain, 200, "{plain_html}");
    let mut marked = b"\xEF\xBB\xBF".to_vec();
    marked.extend_from_slice(&rubric);
    let (status, html) = upload(&marked);
    assert_eq!(status, 200, "{html}");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in String::from_utf8(rubric).unwrap().encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let (status, html) = upload(&utf16);
    assert_eq!(status, 400, "{html}");
    assert!(
        html.contains("award.json") && html.contains("UTF-8"),
        "{html}"
    );
}

/// A kept file is removed by its box and replaced by choosing another; a question not asked
/// (its condition does not hold) keeps nothing, whatever the form posted.
#[test]
fn a_kept_file_is_removed_or_replaced_and_an_unasked_answer_is_dropped() {
    let data = tempfile::tempdir().unwrap();
    let (server, _sink, amina) = open_with_applicant_signed_in(data.path());
    let base = server.url.clone();
    // Saves a draft with `fields` and, when given, a PDF as the letter.
    let save = |fields: &[(&str, &str)], pdf: Option<&str>| {
        let boundary = "b-9e1a";
        let mut body = String::new();
        let common = [
            ("csrf", amina.csrf.as_str()),
            ("category", "leadership"),
            ("applicant_type", "individual"),
            ("action", "draft"),
        ];
        for (name, value) in common.iter().chain(fields) {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        if let Some(name) = pdf {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file.recommendation_letter\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 {name}\n%%EOF\n\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let mut r = agent()
            .post(&format!("{base}/awards/{AWARD}/apply"))
            .header("cookie", &amina.cookie)
            .header(
                "content-type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send(body)
            .unwrap();
        let html = r.body_mut().read_to_string().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{html}");
        let (status, draft) = amina.call(
            "GET",
            &format!("/v1/awards/{AWARD}/drafts/mine"),
            None,
            false,
        );
        assert_eq!(status, 200, "{draft}");
        draft
    };
    let letter = |draft: &serde_json::Value| draft["fields"]["recommendation_letter"].clone();
    let draft = save(&[("f.nomination_type", "self")], Some("first.pdf"));
    let kept = letter(&draft);
    assert_eq!(kept["name"], "first.pdf", "{draft}");
    let sha = kept["sha256"].as_str().unwrap().to_owned();
    let refs = [
        ("f.nomination_type", "self"),
        ("f.recommendation_letter.name", "first.pdf"),
        ("f.recommendation_letter.media_type", "application/pdf"),
        ("f.recommendation_letter.sha256", sha.as_str()),
    ];
    // Kept as it was when nothing changes.
    assert_eq!(letter(&save(&refs, None))["sha256"], sha.as_str());
    // Replaced by another file, even with the box ticked.
    let mut ticked = refs.to_vec();
    ticked.push(("f.recommendation_letter.remove", "1"));
    let replaced = letter(&save(&ticked, Some("second.pdf")));
    assert_eq!(replaced["name"], "second.pdf");
    assert_ne!(replaced["sha256"], sha.as_str());
    // Removed by the box.
    assert!(letter(&save(&ticked, None)).is_null());
    // A nomination is not asked for a letter: what the form posted for it is dropped.
    let mut nominated = refs.to_vec();
    nominated[0] = ("f.nomination_type", "nominated");
    let draft = save(&nominated, None);
    assert!(letter(&draft).is_null(), "{draft}");
    assert_eq!(draft["fields"]["nomination_type"], "nominated");
}

/// The dashboard of an award larger than it lists: its counts are every application's, by
/// standing (counted here from what was sent), its review queue and its table show one page
/// and say how many there are, and a review or a withdrawal moves the counts at once; the API
/// answers the same counts and lists those that stand one way, page by page.
#[test]
fn the_dashboard_counts_every_application_and_lists_one_page() {
    let data = tempfile::tempdir().unwrap();
    let sink = support::smtp::Sink::start();
    let server = Server::start_full(
        data.path(),
        &support::root().join("none"),
        &[],
        &["--smtp", &sink.url],
    );
    let admin = server.admin().to_owned();
    let definition = json!({
        "format_version": "1.1", "id": "big", "name": "Big award", "edition": "1",
        "languages": {"default": "en", "available": ["en"]},
        "timeline": {"time_zone": "UTC", "opens": "2020-01-01T00:00", "closes": "2099-01-01T00:00", "results": "2099-02-01T00:00"},
        "applicant_types": [{"id": "team", "name": "Team"}],
        "form": {"fields": [
            {"id": "title", "type": "short_text", "label": "Title", "tags": ["title"]},
            {"id": "local", "type": "boolean", "label": "Local"},
            {"id": "budget", "type": "number", "label": "Budget"}
        ]},
        "eligibility": [
            {"id": "local", "require": {"equals": {"field": "local", "value": true}}, "outcome": "review", "message": {"en": "Not local: the office decides."}},
            {"id": "budget", "require": {"compare": {"field": "budget", "op": "<=", "value": 100}}, "message": {"en": "Over budget."}}
        ],
        "scales": [{"id": "ten", "min": 0, "max": 10}],
        "categories": [{"id": "main", "name": "Main", "applicant_types": ["team"], "winners": 1,
            "criteria": [{"id": "k", "name": "K", "weight": 1}]}],
        "scoring": {"scale": "ten"}
    });
    let (status, v) = server.post("/v1/awards", &admin, &definition);
    assert_eq!(status, 201, "{v}");
    for step in ["publish", "open"] {
        let (status, v) = server.post(&format!("/v1/awards/big/{step}"), &admin, &json!({}));
        assert!(status == 200 || status == 201, "{step}: {v}");
    }
    // 140 applications: every second not local (to review), every fifth over budget.
    let mut expected: std::collections::BTreeMap<&str, u64> = Default::default();
    for i in 0..140 {
        let (local, budget) = (i % 2 != 0, if i % 5 == 0 { 500 } else { 50 });
        let app = json!({"id": format!("app-{i:03}"), "category": "main", "applicant_type": "team",
            "fields": {"title": format!("Project {i}"), "local": local, "budget": budget}});
        let (status, v) = server.post("/v1/awards/big/applications", &admin, &app);
        assert_eq!(status, 201, "{v}");
        let standing = if budget > 100 {
            "ineligible"
        } else if !local {
            "needs_review"
        } else {
            "eligible"
        };
        assert_eq!(v["eligibility"]["status"], standing, "{v}");
        *expected.entry(standing).or_default() += 1;
    }
    // One admitted, one refused, one withdrawn.
    for (id, ok) in [("app-002", true), ("app-004", false)] {
        let (status, v) = server.post(
            &format!("/v1/awards/big/applications/{id}/review"),
            &admin,
            &json!({ "eligible": ok, "reason": "Checked by the office." }),
        );
        assert_eq!(status, 200, "{v}");
    }
    let (status, v) = server.post(
        "/v1/awards/big/applications/app-001/withdraw",
        &admin,
        &json!({}),
    );
    assert_eq!(status, 200, "{v}");
    *expected.get_mut("needs_review").unwrap() -= 2;
    *expected.entry("admitted").or_default() += 1;
    *expected.entry("not_admitted").or_default() += 1;
    *expected.get_mut("eligible").unwrap() -= 1;
    *expected.entry("withdrawn").or_default() += 1;
    let (status, counts) = server.get("/v1/awards/big/counts", &admin);
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts["total"], 140);
    assert_eq!(counts["withdrawn"], 1);
    assert_eq!(
        serde_json::from_value::<std::collections::BTreeMap<String, u64>>(
            counts["standing"].clone()
        )
        .unwrap(),
        expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
    );
    // Those waiting for a review, page by page from the index, are exactly those counted.
    let waiting = expected["needs_review"];
    let mut seen = Vec::new();
    let mut next = Some("/v1/awards/big/applications?standing=needs_review&limit=7".to_owned());
    while let Some(path) = next {
        let (status, link, items) = server.get_linked(&path, &admin);
        assert_eq!(status, 200, "{items}");
        assert!(items.as_array().unwrap().len() <= 7);
        for x in items.as_array().unwrap() {
            assert_eq!(x["standing"], "needs_review", "{x}");
            seen.push(x["id"].as_str().unwrap().to_owned());
        }
        next = link.as_deref().map(support::next_path);
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len() as u64, sorted), (waiting, seen.clone()));
    assert!(!seen.contains(&"app-002".to_owned()) && !seen.contains(&"app-004".to_owned()));

    // The dashboard, as the office reads it.
    let (status, v) = server.post(
        "/v1/awards/big/invitations",
        &admin,
        &json!({ "email": "office@big.example", "name": "Office", "role": "admin" }),
    );
    assert_eq!(status, 201, "{v}");
    let office = Browser::follow(&server.url, &link_mailed_to(&sink, "office@big.example"));
    let (status, html, _) = page(
        &format!("{}/awards/big/admin", server.url),
        Some(&office.cookie),
        Some("en"),
    );
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Applications (140)"), "{html}");
    for (label, n) in [
        ("Eligible", expected["eligible"]),
        ("Needs an administrator's review", waiting),
        ("Admitted after an administrator's review", 1),
        ("Not admitted", 1),
        ("Not eligible", expected["ineligible"]),
        ("Withdrawn", 1),
    ] {
        assert!(
            html.contains(&format!("<li>{label}: {n}</li>")),
            "{label}: {n} in {html}"
        );
    }
    assert!(waiting > 50, "the queue is longer than the dashboard lists");
    assert!(html.contains(&format!("To review ({waiting})")), "{html}");
    assert!(html.contains("the first 50 of 140"), "{html}");
    assert!(html.contains("All 140 in the entries list"), "{html}");
    // One page of the queue, by name, and the way to the rest.
    assert!(html.contains("Project 6"), "{html}");
    assert!(
        html.contains(&format!("All {waiting} waiting for a review")),
        "{html}"
    );
    assert!(
        html.contains("/awards/big/admin/entries?eligibility=needs_review"),
        "{html}"
    );

    // The entries list in id order, a page at a time, every entry once; by standing from the
    // index; searched, over every entry.
    let entries = format!("{}/awards/big/admin/entries", server.url);
    let picks = |html: &str| -> Vec<String> {
        html.split("name=\"pick\" value=\"")
            .skip(1)
            .map(|x| x.split('"').next().unwrap().to_owned())
            .collect()
    };
    let (status, html, _) = page(&entries, Some(&office.cookie), Some("en"));
    assert_eq!(status, 200, "{html}");
    let first = picks(&html);
    assert_eq!(first.len(), 100);
    assert!(html.contains("100 of 140 entries shown."), "{html}");
    let next = html
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let (_, html, _) = page(
        &format!("{}{next}", server.url),
        Some(&office.cookie),
        Some("en"),
    );
    let second = picks(&html);
    assert_eq!(second.len(), 40, "{html}");
    assert!(
        !html.contains("rel=\"next\""),
        "the last page links no further"
    );
    let all: Vec<String> = first.into_iter().chain(second).collect();
    assert_eq!(
        all,
        (0..140).map(|i| format!("app-{i:03}")).collect::<Vec<_>>()
    );
    let (_, html, _) = page(
        &format!("{entries}?eligibility=needs_review"),
        Some(&office.cookie),
        Some("en"),
    );
    assert_eq!(picks(&html), seen);
    assert!(
        html.contains(&format!("{waiting} of {waiting} entries shown.")),
        "{html}"
    );
    let (_, html, _) = page(
        &format!("{entries}?q=project+13"),
        Some(&office.cookie),
        Some("en"),
    );
    assert_eq!(
        picks(&html),
        [
            "app-013", "app-130", "app-131", "app-132", "app-133", "app-134", "app-135", "app-136",
            "app-137", "app-138", "app-139"
        ]
    );
}

/// The application form in the rubric's sections: a list of the parts first, each part titled
/// with its fields in the rubric's order, a category's fields in the part that names them and
/// only for that category (read here from the rubric itself).
#[test]
fn the_form_comes_in_the_rubrics_sections() {
    let data = tempfile::tempdir().unwrap();
    let (server, _sink, amina) = open_with_applicant_signed_in(data.path());
    let rubric: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(support::root().join(format!("rubrics/{AWARD}/award.json")))
            .unwrap(),
    )
    .unwrap();
    let sections = rubric["form"]["sections"].as_array().unwrap();
    assert!(sections.len() >= 3);
    for (category, applicant_type) in [("leadership", "individual"), ("tech-innovacity", "city")] {
        let (status, html, _) = page(
            &format!(
                "{}/awards/{AWARD}/apply?category={category}&applicant_type={applicant_type}",
                server.url
            ),
            Some(&amina.cookie),
            Some("en"),
        );
        assert_eq!(status, 200, "{html}");
        let fields_of_category: Vec<&str> = rubric["categories"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| {
                c["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |f| (c["id"].as_str().unwrap(), f["id"].as_str().unwrap()))
            })
            .filter(|(c, _)| *c != category)
            .map(|(_, f)| f)
            .collect();
        // The parts listed in order, then each part after the one before.
        let mut at = html
            .find("id=\"h-sections\"")
            .expect("a list of the form's parts");
        let (mut shown, mut placed) = (0, 0);
        for s in sections {
            let id = s["id"].as_str().unwrap();
            let own: Vec<&str> = s["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .filter(|f| !fields_of_category.contains(f))
                .collect();
            let start = html.find(&format!("id=\"section-{id}\""));
            let Some(start) = start else {
                // A part with nothing for this applicant is left out.
                assert!(
                    own.iter()
                        .all(|f| !html.contains(&format!("name=\"f.{f}\""))),
                    "{id} for {category}"
                );
                continue;
            };
            shown += 1;
            assert!(start > at, "part {id} comes after the one before it");
            assert!(
                html.contains(&format!("href=\"#section-{id}\"")),
                "part {id} is in the list"
            );
            assert!(html[start..].contains(s["title"]["en"].as_str().unwrap()));
            let end = html[start..]
                .find("</section>")
                .map_or(html.len(), |e| start + e);
            for f in s["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
            {
                let inside = html[start..end].contains(&format!("id=\"f-{f}\""))
                    || html[start..end].contains(&format!("id=\"f-{f}-"));
                if fields_of_category.contains(&f) {
                    assert!(
                        !html.contains(&format!("id=\"f-{f}\"")),
                        "{f} is not asked of {category}"
                    );
                } else if html.contains(&format!("id=\"f-{f}\"")) {
                    assert!(inside, "{f} is in part {id}");
                    placed += 1;
                }
            }
            at = start;
        }
        assert!(shown >= 3, "{category}: {shown} parts");
        assert!(
            placed >= 5,
            "{category}: {placed} fields found in their parts"
        );
        assert!(html.contains(&format!("Part 1 of {shown}:")), "{category}");
    }
}

/// The home page shows the published awards fifty at a time, by name, with a link to the next
/// fifty: an installation of many awards is read a page at a time. Unpublished awards are
/// not shown, and following the links shows each published award once.
#[test]
fn the_home_page_lists_awards_a_page_at_a_time() {
    let data = tempfile::tempdir().unwrap();
    let rubrics = data.path().join("none");
    std::fs::create_dir_all(&rubrics).unwrap();
    let server = Server::start(&data.path().join("d"), &rubrics);
    let admin = server.admin().to_owned();
    let mut published = Vec::new();
    for i in 0..64 {
        let id = format!("award-{i:03}");
        let definition = support::small_award(&id, &format!("Prize number {i}"));
        let (status, v) = server.post("/v1/awards", &admin, &definition);
        assert_eq!(status, 201, "{v}");
        // Every seventh stays a draft, never shown.
        if i % 7 != 3 {
            let (status, v) = server.post(&format!("/v1/awards/{id}/publish"), &admin, &json!({}));
            assert!(status == 200 || status == 201, "{v}");
            published.push(format!("Prize number {i}<"));
        }
    }
    let mut shown = Vec::new();
    let mut next = Some(format!("{}/", server.url));
    let mut pages = 0;
    while let Some(url) = next {
        let (status, html, _) = page(&url, None, Some("en"));
        assert_eq!(status, 200, "{html}");
        shown.extend(
            published
                .iter()
                .filter(|name| html.contains(name.as_str()))
                .cloned(),
        );
        let count = html.matches("Prize number ").count();
        next = html.find("rel=\"next\" href=\"").map(|at| {
            let rest = &html[at + "rel=\"next\" href=\"".len()..];
            format!("{}{}", server.url, &rest[..rest.find('"').unwrap()])
        });
        assert!(count <= 50, "{count} on one page");
        assert_eq!(next.is_some(), count == 50, "a next link while more remain");
        pages += 1;
    }
    assert_eq!(pages, 2);
    assert_eq!(shown, published, "each published award once, in order");
}

/// An administrator of every award sees every award's dashboard on their own page, by name,
/// fifty at a time with a link to the next fifty, not the whole installation at once.
#[test]
fn an_administrator_of_every_award_sees_the_dashboards_a_page_at_a_time() {
    let data = tempfile::tempdir().unwrap();
    let (server, sink) = Server::start_with_mail(data.path());
    let admin = server.admin().to_owned();
    let base = server.url.clone();
    let mut names = Vec::new();
    for i in 0..57 {
        let id = format!("prize-{i:03}");
        let definition = support::small_award(&id, &format!("Prize number {i}"));
        let (status, v) = server.post("/v1/awards", &admin, &definition);
        assert_eq!(status, 201, "{v}");
        let (status, v) = server.post(&format!("/v1/awards/{id}/publish"), &admin, &json!({}));
        assert!(status == 200 || status == 201, "{v}");
        names.push(format!(">Prize number {i}<"));
    }
    let (status, v) = server.post(
        "/v1/awards/prize-000/invitations",
        &admin,
        &json!({ "email": "lee@example.org", "name": "Lee", "role": "admin", "language": "en" }),
    );
    assert_eq!(status, 201, "{v}");
    let mails = sink.wait_for(1, Duration::from_secs(20));
    let (_, text) = parsed(&mails[0]);
    let lee = Browser::follow(&base, &link_in(&text));
    let mut shown = Vec::new();
    let mut next = Some(format!("{base}/me"));
    let mut pages = 0;
    while let Some(url) = next {
        let (status, html, _) = page(&url, Some(&lee.cookie), Some("en"));
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("every award"), "the grant, in words: {html}");
        let here: Vec<String> = names
            .iter()
            .filter(|name| html.contains(name.as_str()))
            .cloned()
            .collect();
        assert!(here.len() <= 50, "{} on one page", here.len());
        shown.extend(here);
        next = html.find("rel=\"next\" href=\"").map(|at| {
            let rest = &html[at + "rel=\"next\" href=\"".len()..];
            format!("{base}{}", &rest[..rest.find('"').unwrap()])
        });
        pages += 1;
        assert!(pages <= 3, "the pages end");
    }
    assert_eq!(pages, 2);
    assert_eq!(shown, names, "each award's dashboard once, in order");
}
