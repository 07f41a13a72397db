//! Clients generated from `schemas/openapi.json` work: `openapi-python-client` (from PyPI, in the tests'
//! virtual environment, `support/python.rs`) generates a Python client, and `tests/clients/seoul.py`
//! runs the Seoul prize through it against the spawned server; `openapi-typescript` (npm)
//! turns the document into types that `tsc --strict` accepts. The tools are installed on
//! first run, as `.ci/run` does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::path::Path;
use std::process::Command;

use support::python::{run, venv};
use support::{Server, root};

#[test]
fn a_generated_python_client_runs_the_seoul_prize() {
    let venv = venv();
    let out = root().join("target/python-tools/laurel-client");
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
    // The README's TypeScript example compiles against these types as it is written.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let example = readme
        .split("```ts\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README has a TypeScript example");
    std::fs::write(types.path().join("example.ts"), example).unwrap();
    run(
        Command::new(dir.join("node_modules/.bin/tsc"))
            .args([
                "--noEmit",
                "--strict",
                "--target",
                "es2022",
                "--module",
                "es2022",
                "--moduleResolution",
                "bundler",
                "--lib",
                "es2022,dom",
            ])
            .arg(types.path().join("example.ts")),
        "tsc --strict on the README's example",
    );
}
