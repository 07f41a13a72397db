//! `laurel test`: a rubric's own cases, like `opa test`. Each folder under `<rubric>/tests/`
//! holds a `case.json`: the applications and marks (paths relative to the case), optionally a
//! round, and what to expect: each application's eligibility, places and scores per category,
//! the winners, the applications left unscored. Every difference is reported, case by case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Deserialize;
use serde_json::Value;

use super::score::Inputs;
use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};

/// A case, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[serde(default)]
    description: Option<String>,
    /// The applications, relative to the case's folder.
    applications: PathBuf,
    /// The marks, relative to the case's folder.
    marks: PathBuf,
    /// Score as this round does.
    #[serde(default)]
    round: Option<String>,
    expect: Expect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// Application id to `eligible`, `ineligible` or `needs_review`.
    #[serde(default)]
    eligibility: BTreeMap<String, String>,
    /// Category to `[application, rank, score]`, in order; the ranking must be exactly this.
    #[serde(default)]
    ranking: BTreeMap<String, Vec<(String, u32, String)>>,
    /// Category to its winners.
    #[serde(default)]
    winners: BTreeMap<String, Vec<String>>,
    /// Admitted applications left unscored.
    #[serde(default)]
    unscored: Option<Vec<String>>,
}

/// Runs one case; its differences from what it expects, and its description (said when it
/// fails, so that the reader sees what the case meant).
fn run_case(rubric: &Path, dir: &Path) -> anyhow::Result<(Vec<String>, Option<String>)> {
    let file = dir.join("case.json");
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read `{}`", file.display()))?;
    let case: Case = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not a case", file.display()))?;
    let problems = compare(rubric, dir, &case)?;
    Ok((problems, case.description))
}

/// What differs between the case's results and what it expects.
fn compare(rubric: &Path, dir: &Path, case: &Case) -> anyhow::Result<Vec<String>> {
    let Some(mut inputs) = Inputs::read(
        rubric,
        &dir.join(&case.applications),
        &dir.join(&case.marks),
    )?
    else {
        return Ok(vec![
            "its applications or marks are invalid (see above)".to_owned(),
        ]);
    };
    if let Some(round) = &case.round {
        inputs.award = super::score::as_round(&inputs.award, round)?;
    }
    let results =
        match laurel::evaluate(&inputs.award, &inputs.apps, &inputs.marks, &inputs.plugins) {
            Ok(r) => r,
            Err(e) => return Ok(vec![format!("nothing could be scored: {e}")]),
        };
    let got = serde_json::to_value(&results)?;
    let mut out = Vec::new();
    for entry in got["eligibility"].as_array().into_iter().flatten() {
        let id = entry["application"].as_str().unwrap_or_default();
        if let Some(want) = case.expect.eligibility.get(id) {
            let status = entry["status"].as_str().unwrap_or_default();
            if status != want {
                out.push(format!("{id}: {status}, expected {want}"));
            }
        }
    }
    for id in case.expect.eligibility.keys() {
        if !results
            .eligibility
            .iter()
            .any(|e| e.decision.application.as_str() == id)
        {
            out.push(format!("{id}: no such application"));
        }
    }
    for (category, want) in &case.expect.ranking {
        let Some(c) = results
            .categories
            .iter()
            .find(|c| c.category.as_str() == category)
        else {
            out.push(format!("category `{category}`: not in the results"));
            continue;
        };
        let have: Vec<(String, u32, String)> = c
            .ranking
            .iter()
            .map(|p| (p.application.to_string(), p.rank, p.score.to_string()))
            .collect();
        for (i, w) in want.iter().enumerate() {
            match have.get(i) {
                Some(h) if h == w => {}
                Some(h) => out.push(format!(
                    "`{category}` place {}: {} rank {} score {}, expected {} rank {} score {}",
                    i + 1,
                    h.0,
                    h.1,
                    h.2,
                    w.0,
                    w.1,
                    w.2
                )),
                None => out.push(format!(
                    "`{category}` place {}: nobody, expected {}",
                    i + 1,
                    w.0
                )),
            }
        }
        if have.len() > want.len() {
            out.push(format!(
                "`{category}`: {} more ranked than expected ({})",
                have.len() - want.len(),
                have[want.len()..]
                    .iter()
                    .map(|h| h.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    for (category, want) in &case.expect.winners {
        let have = results
            .categories
            .iter()
            .filter(|c| c.category.as_str() == category)
            .flat_map(|c| c.ranking.iter().filter(|p| p.winner))
            .map(|p| p.application.to_string());
        differ(&mut out, &format!("`{category}` winners"), have, want);
    }
    if let Some(want) = &case.expect.unscored {
        let have = results
            .categories
            .iter()
            .flat_map(|c| c.unscored.iter())
            .map(|u| u.application.to_string());
        differ(&mut out, "unscored", have, want);
    }
    Ok(out)
}

/// Says how two sets of ids differ, if they do.
fn differ(out: &mut Vec<String>, what: &str, have: impl Iterator<Item = String>, want: &[String]) {
    let mut have: Vec<String> = have.collect();
    let mut want = want.to_vec();
    have.sort();
    want.sort();
    if have != want {
        out.push(format!(
            "{what}: {}, expected {}",
            have.join(", "),
            want.join(", ")
        ));
    }
}

fn checks(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("case.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .map_or(0, |v| {
            let e = &v["expect"];
            let n = |k: &str| {
                e[k].as_object().map_or(0, |o| {
                    o.values().map(|x| x.as_array().map_or(1, Vec::len)).sum()
                })
            };
            n("eligibility")
                + n("ranking")
                + n("winners")
                + e["unscored"].as_array().map_or(0, |a| a.len().max(1))
        })
}

pub fn run(rubric: &Path) -> anyhow::Result<ExitCode> {
    let folder = if rubric.is_dir() {
        rubric.to_path_buf()
    } else {
        rubric.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(folder.join("tests"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.join("case.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    if cases.is_empty() {
        eprintln!(
            "no cases: add folders under `{}` each with a case.json",
            folder.join("tests").display()
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let rubric = rubric.to_path_buf();
    laurel::run_sandboxed(None, move || -> anyhow::Result<ExitCode> {
        let mut failed = 0;
        for dir in &cases {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (problems, description) = run_case(&rubric, dir)?;
            if problems.is_empty() {
                println!("case {name}: ok ({} checks)", checks(dir));
            } else {
                failed += 1;
                println!("case {name}: FAILED");
                if let Some(d) = &description {
                    println!("  ({})", super::render::terminal_safe(d));
                }
                for p in &problems {
                    println!("  - {}", super::render::terminal_safe(p));
                }
            }
        }
        println!(
            "{} cases, {} passed, {failed} failed",
            cases.len(),
            cases.len() - failed
        );
        Ok(ExitCode::from(if failed == 0 {
            EXIT_OK
        } else {
            EXIT_INVALID
        }))
    })?
}
