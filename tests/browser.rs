//! The portal in a real browser: `tests/browser/cycle.mjs` drives the system's Chromium
//! (playwright-core) through the Seoul prize's whole cycle on pages against the spawned
//! `laurel serve`, runs axe-core on every page and photographs each into
//! `target/browser/`. `.ci/run` installs Chromium; this test installs the script's locked
//! npm packages when they are missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::process::Command;

use support::{Server, root};

#[test]
fn the_seoul_prize_runs_through_the_pages_in_chromium() {
    let dir = root().join("tests/browser");
    if !dir.join("node_modules/playwright-core").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm ci in tests/browser");
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "Chromium is needed at {chromium} (apt-get install -y chromium; .ci/run does)"
    );
    let data = tempfile::tempdir().unwrap();
    let mail = data.path().join("mail");
    let admin_email = "office@wego.example";
    // Pages are visited at `localhost` (which Chromium resolves to 127.0.0.1): a passkey's
    // relying party is a domain, never an IP address.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let public = format!("http://localhost:{port}");
    let server = Server::start_full(
        &data.path().join("data"),
        &root().join("rubrics"),
        &[],
        &[
            "--listen",
            &listen,
            "--public-url",
            &public,
            "--mail-dir",
            mail.to_str().unwrap(),
            "--admin-email",
            admin_email,
        ],
    );
    let shots = root().join("target/browser");
    let out = Command::new("node")
        .arg(dir.join("cycle.mjs"))
        .env("LAUREL_URL", &public)
        .env("MAIL_DIR", &mail)
        .env("SHOTS", &shots)
        .env("ADMIN_KEY", server.admin())
        .env("ADMIN_EMAIL", admin_email)
        .env(
            "EXAMPLES",
            root().join("examples/seoul-smart-city-prize-2023"),
        )
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("browser cycle: ok"), "{stdout}");
}
