//! Clients generated from `schemas/openapi.json` work: `openapi-python-client` (from PyPI, in a
//! virtual environment under `target/`) generates a Python client, and `tests/clients/seoul.py`
//! runs the Seoul prize through it against the spawned server; `openapi-typescript` (npm)
//! turns the document into types that `tsc --strict` accepts. The tools are installed on
//! first run, as `.ci/run` does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::path::Path;
use std::process::Command;

use support::{Server, root};

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what}:\n{text}");
    text
}

/// A virtual environment with openapi-python-client, made once.
fn venv() -> std::path::PathBuf {
    let venv = root().join("target/python-clients");
    let python = venv.join("bin/python");
    if !venv.join("bin/openapi-python-client").exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
        run(
            Command::new(venv.join("bin/pip")).args([
                "install",
                "--quiet",
                "openapi-python-client==0.29.1",
            ]),
            "pip install openapi-python-client",
        );
    }
    assert!(python.exists());
    venv
}

#[test]
fn a_generated_python_client_runs_the_seoul_prize() {
    let venv = venv();
    let out = root().join("target/python-clients/laurel-client");
    let _ = std::fs::remove_dir_all(&out);
    run(
        Command::new(venv.join("bin/openapi-python-client"))
            .args(["generate", "--path"])
            .arg(root().join("schemas/openapi.json"))
            .arg("--output-path")
            .arg(&out),
        "openapi-python-client generate",
    );
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--no-deps", "-e"])
            .arg(&out),
        "pip install the generated client",
    );
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    let printed = run(
        Command::new(venv.join("bin/python"))
            .arg(root().join("tests/clients/seoul.py"))
            .env("LAUREL_URL", &server.url)
            .env("LAUREL_KEY", server.admin())
            .env("LAUREL_ROOT", root()),
        "the client program",
    );
    assert!(printed.contains("client program: ok"), "{printed}");
}

#[test]
fn the_document_type_checks_as_typescript() {
    let dir = root().join("tests/browser");
    if !dir.join("node_modules/openapi-typescript").exists() {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir),
            "npm ci",
        );
    }
    let types = tempfile::tempdir().unwrap();
    let file = types.path().join("laurel.d.ts");
    run(
        Command::new(dir.join("node_modules/.bin/openapi-typescript"))
            .arg(root().join("schemas/openapi.json"))
            .arg("-o")
            .arg(&file),
        "openapi-typescript",
    );
    run(
        Command::new(dir.join("node_modules/.bin/tsc"))
            .args(["--noEmit", "--strict"])
            .arg(&file),
        "tsc --strict",
    );
    assert!(Path::new(&file).metadata().unwrap().len() > 10_000);
}
