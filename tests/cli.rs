//! The `laurel` binary as a user runs it: exit codes, located text output, JSON output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn laurel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_laurel"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn validate_accepts_the_shipped_rubrics() {
    let o = laurel(&["validate", "rubrics/"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("rubrics/seoul-smart-city-prize-2023/award.json: valid"));
    assert!(out.contains("rubrics/civic-tech-fellowship-2025/award.json: valid"));
}

#[test]
fn validate_locates_every_problem_in_text() {
    let o = laurel(&[
        "validate",
        "tests/invalid/unknown-property-and-negative-weight.award.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    // Both problems, each with file:line:column and the pointer.
    let text = std::fs::read_to_string(
        root().join("tests/invalid/unknown-property-and-negative-weight.award.json"),
    )
    .unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let wieght = line_of("\"wieght\"");
    let negative = line_of("\"weight\": -1");
    assert!(
        out.contains(&format!(
            "unknown-property-and-negative-weight.award.json:{wieght}:"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "unknown-property-and-negative-weight.award.json:{negative}:"
        )),
        "{out}"
    );
    assert!(out.contains("unknown property `wieght`"));
    assert!(out.contains("did you mean `weight`?"));
    assert!(out.contains("(2 errors, 0 warnings)"));
}

#[test]
fn validate_json_is_machine_readable() {
    let o = laurel(&[
        "validate",
        "--format",
        "json",
        "tests/invalid/timeline.award.json",
        "tests/valid/minimal.award.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["files"][0]["errors"], 3);
    assert_eq!(report["files"][1]["valid"], true);
    let d = &report["files"][0]["diagnostics"][0];
    assert_eq!(d["code"], "timeline");
    assert!(d["line"].as_u64().unwrap() > 1);
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(
        laurel(&["validate", "no/such/file.json"]).status.code(),
        Some(2)
    );
    assert_eq!(laurel(&["validate", "schemas/"]).status.code(), Some(2));
    assert_eq!(laurel(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn schema_writes_and_checks_the_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    assert_eq!(
        laurel(&["schema", "--out", out, "--check"]).status.code(),
        Some(1)
    );
    assert_eq!(laurel(&["schema", "--out", out]).status.code(), Some(0));
    assert_eq!(
        laurel(&["schema", "--out", out, "--check"]).status.code(),
        Some(0)
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 4);
    assert_eq!(
        laurel(&["schema", "--out", "schemas", "--check"])
            .status
            .code(),
        Some(0)
    );
    let printed: serde_json::Value = serde_json::from_slice(&laurel(&["schema"]).stdout).unwrap();
    assert_eq!(printed["title"], "Laurel award definition");
}
