//! A page of a list costs the same however much the award holds: `GET …/applications?limit=50`
//! (the first page, and a page from the middle with `after`) timed on one server holding two
//! awards, one with 1,000 applications and one with `LAUREL_PAGING_LARGE` (100,000 by
//! default), in one run; the figure is the ratio of the large award's page to the small one's.
//! The same for the counts the dashboard shows (`GET …/counts`) and a page of the
//! applications that stand one way (`?standing=`, read from the store's index).
//!
//! `cargo bench --bench paging` (`LAUREL_PAGING_LARGE=20000` for a shorter run)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{agent, award, call};
use std::time::Instant;

use serde_json::{Value, json};

/// `n` applications, from 8 clients at once.
fn fill(base: &str, admin: &str, id: &str, n: usize) {
    std::thread::scope(|s| {
        for t in 0..8 {
            s.spawn(move || {
                let a = agent();
                for i in (t..n).step_by(8) {
                    let app = json!({"id": format!("app-{i:07}"), "category": "main", "applicant_type": "team", "fields": {"title": "x"}});
                    let (status, v) = call(&a, "POST", &format!("{base}/v1/awards/{id}/applications"), admin, Some(&app));
                    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&v));
                }
            });
        }
    });
}

/// The median time of `GET path` over `rounds` calls, in milliseconds (a page of 50).
fn page(base: &str, admin: &str, path: &str, rounds: usize) -> f64 {
    timed(base, admin, path, rounds, |v| {
        assert_eq!(v.as_array().unwrap().len(), 50);
    })
}

/// The median time of `GET path` over `rounds` calls, in milliseconds, each answer checked.
fn timed(base: &str, admin: &str, path: &str, rounds: usize, check: impl Fn(&Value)) -> f64 {
    let a = agent();
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            let (status, body) = call(&a, "GET", &format!("{base}{path}"), admin, None);
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            check(&serde_json::from_slice::<Value>(&body).unwrap());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let large: usize = std::env::var("LAUREL_PAGING_LARGE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let data = tempfile::tempdir().unwrap();
    let (_server, base, admin) = common::serve(data.path());
    for (id, n) in [("small", 1_000), ("large", large)] {
        award(&base, &admin, id);
        let t = Instant::now();
        fill(&base, &admin, id, n);
        println!(
            "{id}: {n} applications stored in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let mut first = Vec::new();
    let mut middle = Vec::new();
    let mut counted = Vec::new();
    let mut standing = Vec::new();
    for (id, n) in [("small", 1_000), ("large", large)] {
        let f = page(
            &base,
            &admin,
            &format!("/v1/awards/{id}/applications?limit=50"),
            200,
        );
        let m = page(
            &base,
            &admin,
            &format!(
                "/v1/awards/{id}/applications?limit=50&after=app-{:07}",
                n / 2
            ),
            200,
        );
        println!(
            "{id} ({n} applications): first page of 50 {f:.2} ms, a page from the middle {m:.2} ms (medians of 200)"
        );
        // The counts the dashboard shows, and one page of those that stand one way (the
        // review queue's read), both from what the store keeps.
        let c = timed(
            &base,
            &admin,
            &format!("/v1/awards/{id}/counts"),
            200,
            |v| {
                assert_eq!(v["total"].as_u64(), Some(n as u64));
            },
        );
        let q = page(
            &base,
            &admin,
            &format!(
                "/v1/awards/{id}/applications?standing=eligible&limit=50&after=app-{:07}",
                n / 2
            ),
            200,
        );
        println!(
            "{id}: counts {c:.2} ms, a page of those eligible from the middle {q:.2} ms (medians of 200)"
        );
        first.push(f);
        middle.push(m);
        counted.push(c);
        standing.push(q);
    }
    println!(
        "ratio large/small: first page {:.2}x, middle page {:.2}x",
        first[1] / first[0],
        middle[1] / middle[0]
    );
    println!(
        "ratio large/small: counts {:.2}x, page by standing {:.2}x",
        counted[1] / counted[0],
        standing[1] / standing[0]
    );
}
