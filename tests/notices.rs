//! Notifications the clock and the results send: judges reminded once before a round closes
//! (and not again after a restart), administrators' daily digest, and each applicant's outcome
//! in their language when results are published. Mail goes through a real SMTP sink on
//! 127.0.0.1 and is read back with Python's `email` parser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::session::{Browser, link_in, parsed};
use support::smtp::{Mail, Sink};
use support::{Server, create_award, root};

const SEOUL: &str = "seoul-smart-city-prize-2023";

fn to(sink: &Sink, address: &str) -> Vec<Mail> {
    sink.got
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.to.iter().any(|t| t == address))
        .cloned()
        .collect()
}

/// Waits until `address` has `n` mails; all of theirs.
fn wait_to(sink: &Sink, address: &str, n: usize) -> Vec<Mail> {
    let started = Instant::now();
    loop {
        let got = to(sink, address);
        if got.len() >= n || started.elapsed() > Duration::from_secs(30) {
            assert!(got.len() >= n, "{address} got {} of {n} mails", got.len());
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The one mail of `mails` whose subject `matches`: its subject and text.
fn find(mails: &[Mail], matches: impl Fn(&str) -> bool) -> (String, String) {
    let all: Vec<(String, String)> = mails.iter().map(parsed).collect();
    let found: Vec<&(String, String)> = all.iter().filter(|(s, _)| matches(s)).collect();
    let subjects: Vec<&String> = all.iter().map(|(s, _)| s).collect();
    assert_eq!(found.len(), 1, "one such mail among {subjects:?}");
    found[0].clone()
}

fn json_file(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

/// The Seoul rubric, its expert round due at `closes`, in a rubrics folder of its own.
fn seoul_due(closes: &str) -> tempfile::TempDir {
    let rubrics = tempfile::tempdir().unwrap();
    let from = root().join("rubrics").join(SEOUL);
    let into = rubrics.path().join(SEOUL);
    std::fs::create_dir_all(into.join("plugins")).unwrap();
    let mut def = json_file(&format!("rubrics/{SEOUL}/award.json"));
    for r in def["rounds"].as_array_mut().unwrap() {
        if r["id"] == "expert" {
            r["closes"] = json!(closes);
        }
    }
    for p in def["plugins"].as_array().unwrap() {
        let path = p["path"].as_str().unwrap();
        std::fs::copy(from.join(path), into.join(path)).unwrap();
    }
    std::fs::write(into.join("award.json"), def.to_string()).unwrap();
    rubrics
}

#[test]
fn judges_are_reminded_once_before_a_round_closes_and_administrators_get_a_daily_digest() {
    let sink = Sink::start();
    let data = tempfile::tempdir().unwrap();
    // The server's clock reads 2023-04-15 12:00 in Seoul: the expert round closes 30 hours
    // later, inside the 48 hours before which judges are reminded.
    let rubrics = seoul_due("2023-04-16T18:00:00");
    let args = ["--smtp", sink.url.as_str()];
    let server = Server::start_full(data.path(), rubrics.path(), &[], &args);
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/{SEOUL}{p}");
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let integrator = server.key("integrator", None);
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for a in json_file("examples/seoul-smart-city-prize-2023/applications.json")
        .as_array()
        .unwrap()
        .iter()
        .take(12)
    {
        let (status, v) = server.post(&url("/applications"), &integrator, a);
        assert_eq!(status, 201, "{v}");
        *by_status
            .entry(v["eligibility"]["status"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let withdrawn = json_file("examples/seoul-smart-city-prize-2023/applications.json")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, v) = server.post(
        &url(&format!("/applications/{withdrawn}/withdraw")),
        &integrator,
        &json!({}),
    );
    assert_eq!(status, 200, "{v}");

    // An administrator with an account gets a digest of the award on the next tick.
    let (status, v) = server.post(
        &url("/invitations"),
        &admin,
        &json!({ "email": "office@wego.example", "name": "WeGO office", "role": "admin" }),
    );
    assert_eq!(status, 201, "{v}");
    let mails = wait_to(&sink, "office@wego.example", 2);
    let (_, text) = find(&mails, |s| {
        s == "Seoul Smart City Prize 2023: today's digest"
    });
    // The withdrawn application left the count of its eligibility.
    let (_, withdrawn_record) = server.get(&url(&format!("/applications/{withdrawn}")), &admin);
    let was = withdrawn_record["eligibility"]["status"].as_str().unwrap();
    *by_status.get_mut(was).unwrap() -= 1;
    by_status.retain(|_, n| *n > 0);
    let running: usize = by_status.values().sum();
    let listed: Vec<String> = by_status
        .iter()
        .map(|(s, n)| format!("{} {n}", s.replace('_', " ")))
        .collect();
    let expected = format!(
        "Applications in the running: {running} ({}); withdrawn: 1; new since the last digest: 12.",
        listed.join(", ")
    );
    assert!(text.contains(&expected), "{expected}\n in\n{text}");

    // Judges; the Korean judge is invited and the expert round opens.
    support::seoul_through_screening(&server);
    let (status, v) = server.post(
        &url("/invitations"),
        &admin,
        &json!({ "email": "kim@example.org", "name": "김지원", "language": "ko", "role": "judge", "judge": "judge-kim" }),
    );
    assert_eq!(status, 201, "{v}");
    let (status, expert) = server.post(&url("/rounds/expert/open"), &admin, &json!({ "seed": 3 }));
    assert_eq!(status, 200, "{expert}");
    let assigned = expert["assignments"]["judge-kim"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(assigned > 0, "{expert}");
    // Invitation, assignment, and the reminder before the round closes, nothing marked yet.
    let mails = wait_to(&sink, "kim@example.org", 3);
    find(&mails, |s| s.ends_with("초대합니다"));
    find(&mails, |s| {
        s.ends_with(&format!("expert 심사 {assigned}건 배정"))
    });
    let (_, text) = find(&mails, |s| {
        s.ends_with(&format!("expert 미완료 심사 {assigned}건"))
    });
    assert!(text.contains("김지원님"), "{text}");

    // Once: not again on later ticks, nor after a restart; the digest not twice a day.
    std::thread::sleep(Duration::from_secs(3));
    server.stop();
    let again = Server::start_full(data.path(), rubrics.path(), &[], &args);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(to(&sink, "kim@example.org").len(), 3);
    assert_eq!(to(&sink, "office@wego.example").len(), 2);
    drop(again);
    let (code, out) = support::audit_verify(data.path());
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_round_closing_later_sends_no_reminder_and_a_switched_off_digest_none() {
    let sink = Sink::start();
    let data = tempfile::tempdir().unwrap();
    let rubrics = seoul_due("2023-04-30T18:00:00");
    let server = Server::start_full(data.path(), rubrics.path(), &[], &["--smtp", &sink.url]);
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/{SEOUL}{p}");
    let (status, _) = server.put(&url("/notifications"), &admin, &json!({ "digest": false }));
    assert_eq!(status, 200);
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let integrator = server.key("integrator", None);
    for a in json_file("examples/seoul-smart-city-prize-2023/applications.json")
        .as_array()
        .unwrap()
        .iter()
        .take(12)
    {
        assert_eq!(server.post(&url("/applications"), &integrator, a).0, 201);
    }
    support::seoul_through_screening(&server);
    for (email, role, judge) in [
        ("kim@example.org", "judge", Some("judge-kim")),
        ("office@wego.example", "admin", None),
    ] {
        let (status, v) = server.post(
            &url("/invitations"),
            &admin,
            &json!({ "email": email, "name": "N", "role": role, "judge": judge }),
        );
        assert_eq!(status, 201, "{v}");
    }
    let (status, _) = server.post(&url("/rounds/expert/open"), &admin, &json!({ "seed": 3 }));
    assert_eq!(status, 200);
    wait_to(&sink, "kim@example.org", 2);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        to(&sink, "kim@example.org").len(),
        2,
        "invitation and assignment only: the round closes in 15 days"
    );
    assert_eq!(
        to(&sink, "office@wego.example").len(),
        1,
        "the invitation only: the digest is off"
    );
}

/// A small award in English and Korean whose call is open on the tests' clock.
fn small_award() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    let mut def = json_file("tests/valid/minimal.award.json");
    def["id"] = json!("small-award");
    def["name"] = json!({ "en": "Small award", "ko": "작은 상" });
    def["languages"] = json!({ "default": "en", "available": ["en", "ko"] });
    def["timeline"] = json!({
        "time_zone": "Asia/Seoul",
        "opens": "2023-04-01T09:00:00+09:00",
        "closes": "2023-05-31T18:00:00+09:00",
        "results": "2023-07-01T12:00:00+09:00"
    });
    std::fs::write(folder.path().join("award.json"), def.to_string()).unwrap();
    folder
}

#[test]
fn each_applicant_hears_their_own_outcome_in_their_language_when_results_are_published() {
    let sink = Sink::start();
    let data = tempfile::tempdir().unwrap();
    let no_rubrics = tempfile::tempdir().unwrap();
    let server = Server::start_full(data.path(), no_rubrics.path(), &[], &["--smtp", &sink.url]);
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/small-award{p}");
    create_award(&server, small_award().path());
    assert_eq!(server.post(&url("/publish"), &admin, &json!({})).0, 201);
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);

    // Two applicants register, confirm their address and apply; a portal sends a third.
    let application = |population: u64| json!({ "category": "innovation", "applicant_type": "city", "fields": { "population": population } });
    let mut ids = Vec::new();
    for (email, language) in [("seo@example.org", "ko"), ("ana@example.org", "en")] {
        let (status, v) = server.call(
            "POST",
            &url("/register"),
            None,
            Some(
                json!({ "email": email, "name": "Applicant", "language": language })
                    .to_string()
                    .as_bytes(),
            ),
        );
        assert_eq!(status, 202, "{v}");
        let mails = wait_to(&sink, email, 1);
        let (_, text) = parsed(&mails[0]);
        let person = Browser::follow(&server.url, &link_in(&text));
        let (status, v) = person.call(
            "POST",
            &url("/applications"),
            Some(&application(5_000)),
            true,
        );
        assert_eq!(status, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let portal = server.key("integrator", None);
    let mut third = application(8_000);
    third["id"] = json!("portal-1");
    assert_eq!(server.post(&url("/applications"), &portal, &third).0, 201);
    ids.push("portal-1".to_owned());
    assert_eq!(server.post(&url("/close"), &admin, &json!({})).0, 200);

    // Three judges mark every application: the first applicant's best, the portal's worst.
    let (status, v) = server.post(&url("/rounds/judging/open"), &admin, &json!({}));
    assert_eq!(status, 200, "{v}");
    let marks = [9, 6, 3];
    for judge in ["j1", "j2", "j3"] {
        assert_eq!(
            server
                .put(
                    &url(&format!("/judges/{judge}")),
                    &admin,
                    &json!({ "id": judge, "name": judge })
                )
                .0,
            200
        );
        let (status, v) = server.put(
            &url(&format!("/rounds/judging/assignments/{judge}")),
            &admin,
            &json!({ "applications": ids, "reason": "a panel of three marks everything" }),
        );
        assert_eq!(status, 200, "{v}");
        let key = server.key("judge", Some(judge));
        for (app, mark) in ids.iter().zip(marks) {
            let body = json!({ "marks": { "novelty": mark, "fit": mark, "reach": mark } });
            let (status, v) =
                server.put(&url(&format!("/rounds/judging/marks/{app}")), &key, &body);
            assert_eq!(status, 200, "{v}");
        }
    }
    for step in ["close", "advance"] {
        let (status, v) = server.post(&url(&format!("/rounds/judging/{step}")), &admin, &json!({}));
        assert_eq!(status, 200, "{step}: {v}");
    }
    let (status, v) = server.post(&url("/results"), &admin, &json!({}));
    assert_eq!(status, 201, "{v}");
    // Each had two mails so far: the address to confirm, the application received.
    wait_to(&sink, "seo@example.org", 2);
    wait_to(&sink, "ana@example.org", 2);
    let before = sink.got.lock().unwrap().len();
    let (status, v) = server.post(&url("/results/publish"), &admin, &json!({}));
    assert_eq!(status, 200, "{v}");

    let seo = wait_to(&sink, "seo@example.org", 3);
    let (_, text) = find(&seo, |s| s == "작은 상: 결과 발표");
    assert!(
        text.contains(&format!("신청서 {}: 수상.", ids[0])),
        "the winner, in Korean: {text}"
    );
    let ana = wait_to(&sink, "ana@example.org", 3);
    let (_, text) = find(&ana, |s| s == "Small award: the results are published");
    assert!(
        text.contains(&format!("Your application {}: not awarded.", ids[1])),
        "{text}"
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        sink.got.lock().unwrap().len(),
        before + 2,
        "one mail per applicant with an account; none for the portal's"
    );
}

/// Registers `email` on the small award and signs them in.
fn applicant(server: &Server, sink: &Sink, email: &str, language: &str) -> Browser {
    let (status, v) = server.call(
        "POST",
        "/v1/awards/small-award/register",
        None,
        Some(
            json!({ "email": email, "name": format!("Name of {email}"), "language": language })
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(status, 202, "{v}");
    let mails = wait_to(sink, email, 1);
    let (_, text) = parsed(&mails[0]);
    Browser::follow(&server.url, &link_in(&text))
}

#[test]
fn an_awards_own_mail_texts_and_its_messages_reach_the_people_they_name() {
    let sink = Sink::start();
    let data = tempfile::tempdir().unwrap();
    let no_rubrics = tempfile::tempdir().unwrap();
    let server = Server::start_full(data.path(), no_rubrics.path(), &[], &["--smtp", &sink.url]);
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/small-award{p}");
    create_award(&server, small_award().path());
    assert_eq!(server.post(&url("/publish"), &admin, &json!({})).0, 201);
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);

    // A text with a field the mail does not fill is refused, located, and nothing changes.
    let (status, v) = server.put(
        &url("/templates/application_received"),
        &admin,
        &json!({ "language": "en", "subject": "{award}", "body": "Dear {nme}, {round}" }),
    );
    assert_eq!(status, 422, "{v}");
    let said: Vec<(&str, &str)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap(),
                e["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(said.len(), 2, "{v}");
    assert!(
        said.iter().all(|(p, _)| *p == "/body") && said[0].1.contains("`{nme}`"),
        "{v}"
    );
    // The English text of the award; Korean stays Laurel's.
    let (status, v) = server.put(
        &url("/templates/application_received"),
        &admin,
        &json!({ "language": "en", "subject": "{award}: we have {entry}",
                 "body": "Dear {name},\n\nthank you for {entry} ({status}). The call closes on {closes}." }),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["templates"]["application_received"]["en"]["subject"],
        "{award}: we have {entry}"
    );

    let application = json!({ "category": "innovation", "applicant_type": "city", "fields": { "population": 5000 } });
    let ana = applicant(&server, &sink, "ana@example.org", "en");
    let (status, v) = ana.call("POST", &url("/applications"), Some(&application), true);
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let mails = wait_to(&sink, "ana@example.org", 2);
    let (subject, text) = find(&mails, |s| s.contains("we have"));
    assert_eq!(subject, format!("Small award: we have {id}"));
    assert!(
        text.contains("Dear Name of ana@example.org,")
            && text.contains(&format!("thank you for {id} (eligible)"))
            && text.contains("The call closes on 2023-05-31 18:00 (Asia/Seoul)."),
        "{text}"
    );
    let seo = applicant(&server, &sink, "seo@example.org", "ko");
    assert_eq!(
        seo.call("POST", &url("/applications"), Some(&application), true)
            .0,
        201
    );
    let mails = wait_to(&sink, "seo@example.org", 2);
    let (subject, _) = find(&mails, |s| s.contains("접수"));
    assert!(
        subject.starts_with("작은 상: 신청서"),
        "Laurel's Korean: {subject}"
    );

    // A third saves a draft and does not submit it: a reminder reaches them alone.
    let dee = applicant(&server, &sink, "dee@example.org", "en");
    let (status, v) = dee.call("PUT", &url("/drafts/mine"), Some(&application), true);
    assert!(status == 200 || status == 201, "{status} {v}");
    let reminder = |dry: bool| {
        json!({ "to": "drafts", "subject": "{award}: your draft", "dry_run": dry,
                "body": "Hello {name},\n\nsubmit before {closes}: {link}" })
    };
    let (status, v) = server.post(&url("/messages"), &admin, &reminder(true));
    assert_eq!(
        (status, v["recipients"].clone(), v["sent"].clone()),
        (200, json!(1), json!(false))
    );
    let before = to(&sink, "dee@example.org").len();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        to(&sink, "dee@example.org").len(),
        before,
        "a dry run sends nothing"
    );
    let (status, v) = server.post(&url("/messages"), &admin, &reminder(false));
    assert_eq!((status, v["recipients"].clone()), (200, json!(1)), "{v}");
    let mails = wait_to(&sink, "dee@example.org", before + 1);
    let (_, text) = find(&mails, |s| s == "Small award: your draft");
    assert!(
        text.contains("submit before 2023-05-31 18:00 (Asia/Seoul)"),
        "{text}"
    );
    // Applicants by eligibility: both are eligible, none is ineligible.
    for (eligibility, n) in [("eligible", 2), ("ineligible", 0)] {
        let (_, v) = server.post(
            &url("/messages"),
            &admin,
            &json!({ "to": "applicants", "eligibility": eligibility, "subject": "s", "body": "b", "dry_run": true }),
        );
        assert_eq!(v["recipients"], json!(n), "{eligibility}: {v}");
    }
    // Only administrators write.
    let judge = server.key("judge", Some("j1"));
    assert_eq!(
        server.post(&url("/messages"), &judge, &reminder(true)).0,
        403
    );
}

/// When an open call closes within two days, each applicant whose application is still a
/// draft is reminded once, in their language; one who submitted is not.
#[test]
fn applicants_with_a_draft_are_reminded_once_before_the_call_closes() {
    let sink = Sink::start();
    let data = tempfile::tempdir().unwrap();
    let no_rubrics = tempfile::tempdir().unwrap();
    // A day before the small award's call closes (2023-05-31 18:00 in Seoul).
    let server = Server::start_full(
        data.path(),
        no_rubrics.path(),
        &[],
        &["--smtp", &sink.url, "--now", "2023-05-30T18:00:00+09:00"],
    );
    let admin = server.admin().to_owned();
    let url = |p: &str| format!("/v1/awards/small-award{p}");
    create_award(&server, small_award().path());
    assert_eq!(server.post(&url("/publish"), &admin, &json!({})).0, 201);
    // The call closes later at first: nothing is due yet.
    let later = json!({ "closes": "2023-07-31T18:00:00", "reason": "extended" });
    assert_eq!(server.post(&url("/timeline"), &admin, &later).0, 200);
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let application = json!({ "category": "innovation", "applicant_type": "city", "fields": { "population": 5000 } });
    let dee = applicant(&server, &sink, "dee@example.org", "ko");
    let (status, v) = dee.call("PUT", &url("/drafts/mine"), Some(&application), true);
    assert!(status == 200 || status == 201, "{status} {v}");
    let ana = applicant(&server, &sink, "ana@example.org", "en");
    assert_eq!(
        ana.call("PUT", &url("/drafts/mine"), Some(&application), true)
            .0
            / 100,
        2
    );
    assert_eq!(
        ana.call("POST", &url("/applications"), Some(&application), true)
            .0,
        201
    );
    let ana_before = wait_to(&sink, "ana@example.org", 2).len();
    // The call is brought back to its closing date, a day away: the draft's owner is reminded.
    let back = json!({ "closes": "2023-05-31T18:00:00", "reason": "as announced" });
    assert_eq!(server.post(&url("/timeline"), &admin, &back).0, 200);
    let mails = wait_to(&sink, "dee@example.org", 2);
    let (_, text) = find(&mails, |s| s.contains("아직 제출되지 않았습니다"));
    assert!(text.contains("2023-05-31 18:00 (Asia/Seoul)"), "{text}");
    // Once: later ticks send nothing more, and the one who submitted hears nothing of it.
    std::thread::sleep(Duration::from_millis(2_500));
    assert_eq!(to(&sink, "dee@example.org").len(), 2);
    assert_eq!(to(&sink, "ana@example.org").len(), ana_before);
}

/// Passes of the clock's work and of the outbox worker so far, from `/metrics`.
fn passes(server: &Server) -> (u64, u64) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let text = agent
        .get(format!("{}/metrics", server.url))
        .header("Authorization", &format!("Bearer {}", server.admin()))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let series = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
            .parse()
            .unwrap()
    };
    (
        series("laurel_scheduler_passes_total"),
        series("laurel_outbox_passes_total"),
    )
}

/// The clock's work and the outbox worker do not run on a fixed tick: with nothing due and
/// nothing changed, an idle server looks at neither; a commit that changes what the clock's
/// work depends on (an administrator invited) wakes it, and the digest that became due goes
/// out through the outbox.
#[test]
fn the_clock_sleeps_until_a_commit_or_a_due_time_wakes_it() {
    let sink = Sink::start();
    let data = tempfile::tempdir().unwrap();
    let rubrics = seoul_due("2023-04-16T18:00:00");
    let server = Server::start_full(data.path(), rubrics.path(), &[], &["--smtp", &sink.url]);
    let admin = server.admin().to_owned();
    let started = Instant::now();
    while passes(&server).0 == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "no first pass");
        std::thread::sleep(Duration::from_millis(100));
    }
    let idle = passes(&server);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        passes(&server),
        idle,
        "a pass while nothing changed or fell due"
    );
    let url = |p: &str| format!("/v1/awards/{SEOUL}{p}");
    assert_eq!(server.post(&url("/open"), &admin, &json!({})).0, 200);
    let (status, v) = server.post(
        &url("/invitations"),
        &admin,
        &json!({ "email": "office@wego.example", "name": "WeGO office", "role": "admin" }),
    );
    assert_eq!(status, 201, "{v}");
    let mails = wait_to(&sink, "office@wego.example", 2);
    find(&mails, |s| {
        s == "Seoul Smart City Prize 2023: today's digest"
    });
    let now = passes(&server);
    assert!(now.0 > idle.0 && now.1 > idle.1, "{idle:?} then {now:?}");
}
