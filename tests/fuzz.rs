//! Schemathesis (from PyPI, `support/python.rs`) fuzzes the spawned server from its OpenAPI
//! document with an administrator's key: every check, stateful links between operations, a
//! bounded number of examples and a fixed seed (so that a failure in CI replays). It must
//! find nothing: no 5xx, every answer as the document declares it (status, content type,
//! schema, headers), nothing the schema forbids accepted, nothing it allows refused except as
//! `tests/schemathesis.toml` says why.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::python::venv;
use support::{Server, root};

#[test]
fn schemathesis_finds_nothing() {
    let venv = venv();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_full(
        data.path(),
        &root().join("rubrics"),
        &[],
        &["--auth-failures-allowed", "1000000"],
    );
    // Something to find: the Seoul prize open, with applications in it.
    let award = "/v1/awards/seoul-smart-city-prize-2023";
    let admin = server.admin().to_owned();
    assert_eq!(
        server.post(&format!("{award}/open"), &admin, &json!({})).0,
        200
    );
    let applications: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let applicant = server.key("applicant", None);
    for mut a in applications.into_iter().take(3) {
        a.as_object_mut().unwrap().remove("id");
        let (status, v) = server.post(&format!("{award}/applications"), &applicant, &a);
        assert_eq!(status, 201, "{v}");
    }
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(venv.join("bin/st"))
        .arg("--config-file")
        .arg(root().join("tests/schemathesis.toml"))
        .args(["run", &format!("{}/v1/openapi.json", server.url)])
        .args(["--url", &server.url])
        .args(["-H", &format!("Authorization: Bearer {admin}")])
        .args([
            "--checks",
            "all",
            "--max-examples",
            "10",
            "--seed",
            "20261130",
        ])
        .arg("--no-color")
        .current_dir(work.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Stateful"), "the stateful phase ran:\n{text}");
}
