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
