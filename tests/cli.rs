//! The `laurel` binary as a user runs it: exit codes, located text output, JSON output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
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

/// A rubric of an older format version keeps the defaults it was written under, and
/// `validate` notes (without failing) each one that differs in the newest version, with what to
/// write to keep the results.
#[test]
fn validate_notes_the_defaults_an_older_format_version_keeps() {
    let old = "tests/scoring/normalisation-defaults-of-format-1.0/award.json";
    let o = laurel(&["validate", old]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("valid (0 errors, 0 warnings, 1 note)"),
        "{out}"
    );
    assert!(out.contains("normalisation.min_marks"), "{out}");
    assert!(out.contains("\"min_marks\": 1"), "{out}");
    let o = laurel(&["validate", "--format", "json", old]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["files"][0]["notes"], 1);
    assert_eq!(report["files"][0]["diagnostics"][0]["severity"], "note");
    // The same rubric in the newest version has nothing to note.
    let new = "tests/scoring/normalisation-defaults-of-format-1.1/award.json";
    let o = laurel(&["validate", "--format", "json", new]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["files"][0]["diagnostics"], serde_json::json!([]));
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
    for (name, _) in laurel::schemas::all() {
        assert!(dir.path().join(name).is_file(), "{name} was not written");
    }
    assert_eq!(
        laurel(&["schema", "--out", "schemas", "--check"])
            .status
            .code(),
        Some(0)
    );
    let printed: serde_json::Value = serde_json::from_slice(&laurel(&["schema"]).stdout).unwrap();
    assert_eq!(printed["title"], "Laurel award definition");
}

const SEOUL: &str = "rubrics/seoul-smart-city-prize-2023";
const APPS: &str = "examples/seoul-smart-city-prize-2023/applications.json";
const MARKS: &str = "examples/seoul-smart-city-prize-2023/marks.json";

#[test]
fn score_prints_a_ranked_table() {
    let o = laurel(&["score", SEOUL, "--applications", APPS, "--marks", MARKS]);
    // The example has one admitted application that nobody marked: the results are printed,
    // the application named, and the exit code says so.
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1 admitted application is left unscored: app-")
            && err.contains("(no judge has marked it)")
            && err.contains("--allow-unscored"),
        "{err}"
    );
    let out = stdout(&o);
    for needle in [
        "Tech-InnovaCity (tech-innovacity), 3 winners",
        "Human-CentriCity",
        "Leadership",
        "winner",
        "Not admitted",
        "corporation-for-profit",
        "Special mentions",
        "not scored: no judge has marked it",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    // The twin leadership candidates share first place.
    assert!(
        out.contains("1=  app-066") && out.contains("1=  app-067"),
        "{out}"
    );
}

#[test]
fn score_json_carries_traces_and_the_definition_hash() {
    let o = laurel(&[
        "score",
        SEOUL,
        "--applications",
        APPS,
        "--marks",
        MARKS,
        "--format",
        "json",
        "--allow-unscored",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let results: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    use sha2::Digest;
    let bytes = std::fs::read(root().join(SEOUL).join("award.json")).unwrap();
    assert_eq!(
        results["definition_sha256"],
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    assert_eq!(results["categories"].as_array().unwrap().len(), 3);
    let first = &results["categories"][0]["ranking"][0];
    assert_eq!(first["trace"]["judges"].as_array().unwrap().len(), 5);
    assert!(first["trace"]["judges"][0]["normalised"]["judge"]["sd"].is_string());
    assert!(first["trace"]["judges"][0]["criteria"][0]["indicators"][0]["mark"].is_string());
    assert_eq!(results["eligibility"].as_array().unwrap().len(), 72);
}

#[test]
fn score_csv_has_a_row_per_application() {
    let o = laurel(&[
        "score",
        SEOUL,
        "--applications",
        APPS,
        "--marks",
        MARKS,
        "--format",
        "csv",
        "--allow-unscored",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let mut reader = csv::Reader::from_reader(o.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 72);
    assert_eq!(rows.iter().filter(|r| &r[9] == "scored").count(), 64);
}

#[test]
fn score_locates_every_bad_application_and_scores_nothing() {
    let o = laurel(&[
        "score",
        SEOUL,
        "--applications",
        "tests/applications/bad.json",
        "--marks",
        MARKS,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8(o.stderr).unwrap();
    let expected = std::fs::read_to_string(root().join("tests/applications/bad.expected")).unwrap();
    let count = expected.lines().filter(|l| !l.starts_with('#')).count();
    assert!(
        err.contains(&format!("{count} problems in 3 applications")),
        "{err}"
    );
    assert!(err.contains("tests/applications/bad.json:"), "{err}");
    assert!(err.contains("did you mean `leadership`?"));
}

#[test]
fn score_stops_quietly_when_its_reader_goes() {
    // `laurel score … | head -c 100`: the writes after the reader has gone fail; the output
    // ends there, without a panic or an error. The example twenty times over, so that each
    // format is larger than a pipe holds (checked first).
    let dir = tempfile::tempdir().unwrap();
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root().join(p)).unwrap()).unwrap()
    };
    let (apps, marks) = (read(APPS), read(MARKS));
    let mut many_apps = Vec::new();
    let mut evaluations = Vec::new();
    for k in 0..20 {
        for a in apps.as_array().unwrap() {
            let mut a = a.clone();
            a["id"] = format!("{}-{k}", a["id"].as_str().unwrap()).into();
            many_apps.push(a);
        }
        for e in marks["evaluations"].as_array().unwrap() {
            let mut e = e.clone();
            e["application"] = format!("{}-{k}", e["application"].as_str().unwrap()).into();
            evaluations.push(e);
        }
    }
    let (apps, marks) = (dir.path().join("apps.json"), dir.path().join("marks.json"));
    std::fs::write(&apps, serde_json::Value::from(many_apps).to_string()).unwrap();
    std::fs::write(
        &marks,
        serde_json::json!({ "evaluations": evaluations }).to_string(),
    )
    .unwrap();
    let args = |format: &'static str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_laurel"));
        c.args(["score", SEOUL, "--allow-unscored", "--format", format])
            .arg("--applications")
            .arg(&apps)
            .arg("--marks")
            .arg(&marks)
            .current_dir(root());
        c
    };
    for format in ["json", "csv", "table"] {
        let whole = args(format).output().unwrap();
        assert_eq!(whole.status.code(), Some(0), "{format}");
        // A pipe holds 64 KiB.
        assert!(
            whole.stdout.len() > 96 << 10,
            "{format}: {} bytes",
            whole.stdout.len()
        );
        let mut child = args(format)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 100];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        assert_eq!(first[..], whole.stdout[..100], "{format}");
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(0), "{format}: {err}");
        assert!(!err.contains("panicked"), "{format}: {err}");
        assert!(!err.contains("error"), "{format}: {err}");
    }
}

#[test]
fn output_to_a_reader_that_has_gone_or_a_full_disk() {
    let commands: [&[&str]; 3] = [
        &["validate", "rubrics/"],
        &["schema", "--award", SEOUL],
        &[
            "score",
            SEOUL,
            "--applications",
            APPS,
            "--marks",
            MARKS,
            "--allow-unscored",
        ],
    ];
    for args in commands {
        let run = |stdout: std::process::Stdio| {
            Command::new(env!("CARGO_BIN_EXE_laurel"))
                .args(args)
                .current_dir(root())
                .stdout(stdout)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        // The reader gone before the first line is written: every write fails; the command
        // still does its work and exits as it would have.
        let mut child = run(std::process::Stdio::piped());
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        // A full disk is an I/O error, said, and the exit code says so.
        let full = std::fs::File::create("/dev/full").unwrap();
        let o = run(full.into()).wait_with_output().unwrap();
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("No space left on device"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// A command whose standard error has no reader left (`laurel … 2>&1 | head`) still exits
/// with its documented code (2 a file it cannot read, 3 applications left unscored), where
/// writing its error or warnings to the pipe panicked (exit 101).
#[test]
fn a_command_whose_errors_have_no_reader_exits_with_its_own_code() {
    let commands: [(&[&str], i32); 2] = [
        (&["validate", "tests/no-such-rubric.json"], 2),
        (
            &["score", SEOUL, "--applications", APPS, "--marks", MARKS],
            3,
        ),
    ];
    for (args, code) in commands {
        // With its reader: the code, and something said on standard error.
        let o = Command::new(env!("CARGO_BIN_EXE_laurel"))
            .args(args)
            .current_dir(root())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(code), "{args:?}");
        assert!(!o.stderr.is_empty(), "{args:?}");
        // Without: the same code.
        let mut child = Command::new(env!("CARGO_BIN_EXE_laurel"))
            .args(args)
            .current_dir(root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        assert_eq!(child.wait().unwrap().code(), Some(code), "{args:?}");
    }
}

/// `laurel score` of the Seoul example with its marks changed by `change`: its exit code, its
/// standard error, and the marks file's text as written (pretty-printed).
fn score_with_marks(change: impl FnOnce(&mut serde_json::Value)) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let marks = dir.path().join("marks.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(MARKS)).unwrap()).unwrap();
    change(&mut value);
    let text = serde_json::to_string_pretty(&value).unwrap();
    std::fs::write(&marks, &text).unwrap();
    let o = laurel(&[
        "score",
        SEOUL,
        "--applications",
        APPS,
        "--marks",
        marks.to_str().unwrap(),
    ]);
    (o.status.code(), String::from_utf8(o.stderr).unwrap(), text)
}

/// The 1-based number of the first line of `text` that holds `what`.
fn line_of(text: &str, what: &str) -> usize {
    1 + text.lines().position(|l| l.contains(what)).unwrap()
}

/// `err` places its problem in `marks.json` at the line of `text` where `needle` first is.
fn assert_located(err: &str, text: &str, needle: &str) {
    let line = line_of(text, needle);
    assert!(
        err.contains(&format!("marks.json:{line}:")),
        "line {line}: {err}"
    );
}

#[test]
fn score_locates_bad_marks() {
    let (code, err, text) = score_with_marks(|value| {
        value["evaluations"][3]["marks"]["transparency"] = serde_json::json!(12);
        value["evaluations"][5]["application"] = serde_json::json!("app-999");
    });
    assert_eq!(code, Some(1));
    assert!(err.contains("mark `12` is off the scale 0..10"), "{err}");
    assert!(err.contains("unknown application `app-999`"), "{err}");
    assert!(err.contains("nothing was scored"), "{err}");
    // Located in the file as written, though its text is not held while scoring: the line
    // of the bad mark, counted here.
    assert_located(&err, &text, "\"transparency\": 12");
}

#[test]
fn score_locates_marks_that_do_not_read() {
    let (code, err, text) = score_with_marks(|value| {
        value["evaluations"][2]["note"] = serde_json::json!("typo for comment");
    });
    assert_eq!(code, Some(1));
    assert!(err.contains("unknown field `note`"), "{err}");
    // Said once, where it is: not serde's own "at line … column …" after the message.
    assert!(!err.contains(" at line "), "{err}");
    assert_located(&err, &text, "\"note\"");
}

#[test]
fn schema_award_prints_the_application_schema() {
    let o = laurel(&["schema", "--award", SEOUL]);
    assert_eq!(o.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        schema["title"],
        "Application to Seoul Smart City Prize 2023"
    );
    assert_eq!(
        schema["properties"]["fields"]["properties"]["population"]["type"],
        "integer"
    );
    // Every shipped example application follows it.
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let apps: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(APPS)).unwrap()).unwrap();
    for a in apps.as_array().unwrap() {
        assert!(validator.is_valid(a), "{}", a["id"]);
    }
}

#[test]
fn score_round_scores_as_the_round_does_and_names_unknown_rounds() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "score",
            SEOUL,
            "--applications",
            APPS,
            "--marks",
            MARKS,
            "--format",
            "json",
            "--allow-unscored",
        ];
        args.extend_from_slice(extra);
        let o = laurel(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    // The final round does not normalise (its own setting): its results are those of the
    // award with that one setting changed, computed here through the library.
    let final_round = run(&["--round", "final"]);
    let source = std::fs::read_to_string(root().join(SEOUL).join("award.json")).unwrap();
    let files = |p: &str| std::fs::read(root().join(SEOUL).join(p));
    let mut award = laurel::check_definition(&source, &files).award.unwrap();
    award.scoring.normalisation = laurel::wire::NormalisationSpec::NONE;
    let plugins = laurel::load_plugins(&award, &files).unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(APPS)).unwrap()).unwrap();
    let apps = laurel::check_applications(&award, &doc, &plugins)
        .1
        .unwrap();
    let marks: laurel::Marks =
        serde_json::from_str(&std::fs::read_to_string(root().join(MARKS)).unwrap()).unwrap();
    let expected = laurel::run_sandboxed(None, move || {
        let r = laurel::evaluate(&award, &apps, &marks, &plugins).unwrap();
        serde_json::to_value(&r.categories).unwrap()
    })
    .unwrap();
    assert_eq!(final_round["categories"], expected);
    assert_ne!(
        final_round["categories"],
        run(&[])["categories"],
        "z-scores change the order"
    );
    // The expert round judges every criterion as the award does.
    assert_eq!(
        run(&["--round", "expert"])["categories"],
        run(&[])["categories"]
    );
    let o = laurel(&[
        "score",
        SEOUL,
        "--applications",
        APPS,
        "--marks",
        MARKS,
        "--round",
        "semi",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no round `semi` (its rounds: screening, expert, final)"),
        "{err}"
    );
    let o = laurel(&[
        "score",
        SEOUL,
        "--applications",
        APPS,
        "--marks",
        MARKS,
        "--round",
        "screening",
    ]);
    assert_eq!(o.status.code(), Some(2), "the screening takes no marks");
}

#[test]
fn validate_refuses_two_rubrics_with_one_id() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        std::fs::create_dir(dir.path().join(name)).unwrap();
        std::fs::copy(
            root().join("tests/valid/minimal.award.json"),
            dir.path().join(name).join("award.json"),
        )
        .unwrap();
    }
    let o = laurel(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let all = format!("{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert!(
        all.contains("award id `minimal-award` is also the id of")
            && all.contains("a/award.json: valid")
            && all.contains("b/award.json: invalid (1 error, 0 warnings)"),
        "{all}"
    );
}

#[test]
fn init_starts_a_rubric_that_validates_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("green-award");
    let f = folder.to_str().unwrap();
    let o = laurel(&[
        "init",
        f,
        "--name",
        "Green Award",
        "--time-zone",
        "Asia/Seoul",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for file in [
        "award.json",
        "award.schema.json",
        "README.md",
        "examples/applications.json",
        "examples/marks.json",
    ] {
        assert!(folder.join(file).exists(), "{file}");
    }
    assert_eq!(laurel(&["validate", f]).status.code(), Some(0));
    let apps = folder.join("examples/applications.json");
    let marks = folder.join("examples/marks.json");
    let o = laurel(&[
        "score",
        f,
        "--applications",
        apps.to_str().unwrap(),
        "--marks",
        marks.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // By hand, weights 40/30/30: app-1 judge-a 3.2 + 2.25 + 1.8 = 7.25, judge-b 2.8 + 2.4 + 2.1 =
    // 7.3, mean 7.275 -> 7.28; app-2 2.6 + 1.8 + 2.7 = 7.1 and 2.8 + 1.65 + 2.55 = 7.0 -> 7.05;
    // app-3 started before 2022: ineligible.
    let out = stdout(&o);
    assert!(out.contains("main,1,app-1,7.28,true"), "{out}");
    assert!(out.contains("main,2,app-2,7.05,true"), "{out}");
    assert!(out.contains("app-3") && out.contains("ineligible"), "{out}");
    // It never writes over a rubric.
    assert_eq!(laurel(&["init", f]).status.code(), Some(2));
}

#[test]
fn test_runs_a_rubrics_own_cases_and_names_each_difference() {
    for rubric in [SEOUL, "rubrics/civic-tech-fellowship-2025"] {
        let o = laurel(&["test", rubric]);
        assert_eq!(o.status.code(), Some(0), "{rubric}: {}", stdout(&o));
        assert!(stdout(&o).contains("0 failed"), "{}", stdout(&o));
    }
    // A copy whose case expects another score and another winner: both differences said.
    let dir = tempfile::tempdir().unwrap();
    let civic = root().join("rubrics/civic-tech-fellowship-2025");
    let copy = dir.path().join("civic");
    let case = copy.join("tests/open-data-tools");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::copy(civic.join("award.json"), copy.join("award.json")).unwrap();
    for f in ["applications.json", "marks.json"] {
        std::fs::copy(civic.join("tests/open-data-tools").join(f), case.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(civic.join("tests/open-data-tools/case.json"))
        .unwrap()
        .replace("\"1.725\"", "\"1.726\"")
        .replace("\"T2\"\n   ]\n  }", "\"T3\"\n   ]\n  }");
    std::fs::write(case.join("case.json"), text).unwrap();
    let o = laurel(&["test", copy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("case open-data-tools: FAILED\n  (By hand. Levels are worth 0-3")
            && out.contains("place 2: T2 rank 2 score 1.725, expected T2 rank 2 score 1.726")
            && out.contains("`open-data-tools` winners: T1, T2, expected T1, T3"),
        "{out}"
    );
    // A rubric without cases says where to put them.
    let bare = dir.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    std::fs::copy(civic.join("award.json"), bare.join("award.json")).unwrap();
    assert_eq!(
        laurel(&["test", bare.to_str().unwrap()]).status.code(),
        Some(2)
    );
    // Scores are numbers: the expected 1.725 written 1.7250, or as a JSON number, still holds.
    let text = std::fs::read_to_string(civic.join("tests/open-data-tools/case.json")).unwrap();
    assert!(text.contains("\"1.725\""), "{text}");
    for spelling in ["\"1.7250\"", "1.725"] {
        std::fs::write(case.join("case.json"), text.replace("\"1.725\"", spelling)).unwrap();
        let o = laurel(&["test", copy.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{spelling}: {}", stdout(&o));
    }
    // A folder of rubrics runs each one's cases, rubric by rubric; one without cases is named.
    let o = laurel(&["test", dir.path().to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("bare: no cases"), "{out}");
    assert!(
        out.contains("1 case in 1 rubric, 1 passed, 0 failed"),
        "{out}"
    );
    let o = laurel(&["test", "rubrics"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("2 cases in 2 rubrics, 2 passed, 0 failed"),
        "{out}"
    );
}
