//! An award costs what it costs alone, whatever else the installation holds: a probe award of
//! 1,000 applications is measured on a new server holding only it (and 49 empty awards, so
//! that a first page of awards is full), then again after
//! `LAUREL_INSTALLATION_AWARDS` other awards (999 by default) of
//! `LAUREL_INSTALLATION_APPLICATIONS` applications each (1,000: a million in all) were added
//! through the API. Measured each time: the probe's first page and a middle page of
//! applications, its counts, the first page of the awards list, computing its results, its
//! export (the award's backup); then the installation's backup, which holds everything by
//! nature. The figures are the ratios after/before, in one run.
//!
//! `cargo bench --bench installation` (about 12 minutes on two cores;
//! `LAUREL_INSTALLATION_AWARDS=99` for a shorter run)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{agent, award, call};
use std::time::Instant;

use serde_json::json;

/// `n` applications to each of `awards`, from 16 clients at once.
fn fill(base: &str, admin: &str, awards: &[String], n: usize) {
    let work: Vec<(usize, usize)> = (0..awards.len())
        .flat_map(|a| (0..n).map(move |i| (a, i)))
        .collect();
    std::thread::scope(|s| {
        for t in 0..16 {
            let work = &work;
            s.spawn(move || {
                let a = agent();
                for (award, i) in work.iter().skip(t).step_by(16) {
                    let app = json!({"id": format!("app-{i:07}"), "category": "main", "applicant_type": "team", "fields": {"title": format!("Entry {i}")}});
                    let (status, v) = call(&a, "POST", &format!("{base}/v1/awards/{}/applications", awards[*award]), admin, Some(&app));
                    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&v));
                }
            });
        }
    });
}

/// The median of `rounds` calls of `method path`, in milliseconds, and the last answer's size.
fn timed(
    base: &str,
    admin: &str,
    method: &str,
    path: &str,
    rounds: usize,
    status: u16,
) -> (f64, usize) {
    let a = agent();
    let mut size = 0;
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            let body = (method == "POST").then(|| json!({}));
            let (s, bytes) = call(&a, method, &format!("{base}{path}"), admin, body.as_ref());
            assert_eq!(
                s,
                status,
                "{method} {path}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
            );
            size = bytes.len();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], size)
}

/// What is measured, each time: (name, method, path, rounds, status).
const PROBES: &[(&str, &str, &str, usize, u16)] = &[
    (
        "first page of 50 applications",
        "GET",
        "/v1/awards/probe/applications?limit=50",
        100,
        200,
    ),
    (
        "a page of 50 from the middle",
        "GET",
        "/v1/awards/probe/applications?limit=50&after=app-0000500",
        100,
        200,
    ),
    (
        "the award's counts",
        "GET",
        "/v1/awards/probe/counts",
        100,
        200,
    ),
    (
        "first page of 50 awards",
        "GET",
        "/v1/awards?limit=50",
        100,
        200,
    ),
    ("the award", "GET", "/v1/awards/probe", 100, 200),
    (
        "computing its results",
        "POST",
        "/v1/awards/probe/results",
        10,
        201,
    ),
    (
        "its export (the award's backup)",
        "GET",
        "/v1/awards/probe/export",
        10,
        200,
    ),
];

fn measure(base: &str, admin: &str) -> Vec<(f64, usize)> {
    PROBES
        .iter()
        .map(|(_, method, path, rounds, status)| timed(base, admin, method, path, *rounds, *status))
        .collect()
}

fn main() {
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let others = number("LAUREL_INSTALLATION_AWARDS", 999);
    let each = number("LAUREL_INSTALLATION_APPLICATIONS", 1_000);
    let data = tempfile::tempdir().unwrap();
    let (_server, base, admin) = common::serve(data.path());
    // A first page of awards is fifty long in both measurements: 49 empty awards beside the
    // probe.
    for i in 0..49 {
        award(&base, &admin, &format!("early-{i:02}"));
    }
    award(&base, &admin, "probe");
    fill(&base, &admin, &["probe".to_owned()], 1_000);
    let before = measure(&base, &admin);
    let backup_before = timed(&base, &admin, "GET", "/v1/backup", 3, 200);
    let ids: Vec<String> = (0..others).map(|i| format!("award-{i:04}")).collect();
    let t = Instant::now();
    for id in &ids {
        award(&base, &admin, id);
    }
    fill(&base, &admin, &ids, each);
    let took = t.elapsed().as_secs_f64();
    let total = others * each + 1_000;
    println!(
        "an installation of {} awards and {total} applications, filled through the API in {took:.0} s ({:.0} writes a second):",
        others + 50,
        (others * each) as f64 / took
    );
    let after = measure(&base, &admin);
    for (((name, ..), b), a) in PROBES.iter().zip(&before).zip(&after) {
        println!(
            "  {name:<34} alone {:>8.2} ms   in the installation {:>8.2} ms   ratio {:.2}",
            b.0,
            a.0,
            a.0 / b.0
        );
    }
    let backup_after = timed(&base, &admin, "GET", "/v1/backup", 1, 200);
    println!(
        "  the installation's backup: {:.0} ms for {:.1} MB alone, {:.0} ms for {:.1} MB after ({:.1} MB a second)",
        backup_before.0,
        backup_before.1 as f64 / 1e6,
        backup_after.0,
        backup_after.1 as f64 / 1e6,
        backup_after.1 as f64 / 1e3 / backup_after.0
    );
}
