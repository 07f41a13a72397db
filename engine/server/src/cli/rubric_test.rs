//! `laurel test`: a rubric's own cases, like `opa test`. Each folder under `<rubric>/tests/`
//! holds a `case.json`: the applications and marks (paths relative to the case), optionally a
//! round, and what to expect: each application's eligibility, places and scores per category,
//! the winners, the applications left unscored. Every difference is reported, case by case.
//! Scores are compared as numbers (`83.6` is `83.60`). Given a folder of rubrics (or several
//! paths), every rubric's cases run, rubric by rubric.

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
    /// The score is a number or a string of one, compared as a number.
    #[serde(default)]
    ranking: BTreeMap<String, Vec<(String, u32, Value)>>,
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
        let have: Vec<(String, u32, rust_decimal::Decimal)> = c
            .ranking
            .iter()
            .map(|p| (p.application.to_string(), p.rank, p.score))
            .collect();
        for (i, (app, rank, score)) in want.iter().enumerate() {
            let shown = match score {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let Ok(expected) = shown.parse::<rust_decimal::Decimal>() else {
                out.push(format!(
                    "`{category}` place {}: the expected score `{shown}` is not a number",
                    i + 1
                ));
                continue;
            };
            match have.get(i) {
                // Numbers, not their spelling: 83.6 is 83.60.
                Some(h) if h.0 == *app && h.1 == *rank && h.2 == expected => {}
                Some(h) => out.push(format!(
                    "`{category}` place {}: {} rank {} score {}, expected {app} rank {rank} score {shown}",
                    i + 1,
                    h.0,
                    h.1,
                    h.2,
                )),
                None => out.push(format!(
                    "`{category}` place {}: nobody, expected {app}",
                    i + 1,
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

/// The rubrics `paths` name: a rubric (its folder or its `award.json`) is itself; a folder
/// without an `award.json` stands for the rubrics in it, in name order.
fn rubrics(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_file() || path.join("award.json").is_file() || !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.join("award.json").is_file())
                    .collect()
            })
            .unwrap_or_default();
        inside.sort();
        if inside.is_empty() {
            out.push(path.clone());
        }
        out.extend(inside);
    }
    out
}

/// The case folders of a rubric, in name order.
fn cases_of(rubric: &Path) -> (PathBuf, Vec<PathBuf>) {
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
    (folder, cases)
}

pub fn run(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let rubrics = rubrics(paths);
    let several = rubrics.len() > 1;
    let mut plan = Vec::new();
    for rubric in rubrics {
        let (folder, cases) = cases_of(&rubric);
        if cases.is_empty() {
            if !several {
                errln!(
                    "no cases: add folders under `{}` each with a case.json",
                    folder.join("tests").display()
                );
                return Ok(ExitCode::from(EXIT_USAGE));
            }
            outln!("rubric {}: no cases", folder.display());
            continue;
        }
        plan.push((rubric, folder, cases));
    }
    if plan.is_empty() {
        errln!("no cases in any of the rubrics given");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    laurel::run_sandboxed(None, move || -> anyhow::Result<ExitCode> {
        let (mut total, mut failed) = (0, 0);
        for (rubric, folder, cases) in &plan {
            if several {
                outln!("rubric {}:", folder.display());
            }
            for dir in cases {
                total += 1;
                let name = dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let (problems, description) = run_case(rubric, dir)?;
                if problems.is_empty() {
                    outln!("case {name}: ok ({} checks)", checks(dir));
                } else {
                    failed += 1;
                    outln!("case {name}: FAILED");
                    if let Some(d) = &description {
                        outln!("  ({})", super::render::terminal_safe(d));
                    }
                    for p in &problems {
                        outln!("  - {}", super::render::terminal_safe(p));
                    }
                }
            }
        }
        let counted = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let across = if several {
            format!(" in {}", counted(plan.len(), "rubric"))
        } else {
            String::new()
        };
        outln!(
            "{}{across}, {} passed, {failed} failed",
            counted(total, "case"),
            total - failed
        );
        Ok(ExitCode::from(if failed == 0 {
            EXIT_OK
        } else {
            EXIT_INVALID
        }))
    })?
}
