//! `laurel init`: a new rubric to start from: an award with one-level criteria, its JSON Schema
//! beside it (editors complete and check as you type), example applications and marks, and a
//! README saying what to change and how to try it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use super::EXIT_OK;

/// `laurel init`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// The folder to create (or an empty one).
    folder: PathBuf,
    /// The award's id (letters, digits and hyphens): the folder's name by default.
    #[arg(long)]
    id: Option<String>,
    /// The award's name.
    #[arg(long, default_value = "My city award")]
    name: String,
    /// The award's IANA time zone: dates without an offset are read in it.
    #[arg(long, default_value = "UTC")]
    time_zone: String,
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "my-award".to_owned()
    } else {
        out
    }
}

fn award(id: &str, name: &str, time_zone: &str) -> serde_json::Value {
    json!({
        "$schema": "award.schema.json",
        "format_version": laurel::wire::FORMAT_VERSION,
        "id": id,
        "name": name,
        "edition": "2027",
        "languages": { "default": "en", "available": ["en"] },
        "timeline": {
            "time_zone": time_zone,
            "opens": "2027-01-15T09:00",
            "closes": "2027-03-31T18:00",
            "results": "2027-06-01T12:00"
        },
        "applicant_types": [
            { "id": "city", "name": "City government" },
            { "id": "organisation", "name": "Organisation" }
        ],
        "form": { "fields": [
            { "id": "title", "type": "short_text", "label": "Project title", "required": true, "max_length": 200 },
            { "id": "summary", "type": "long_text", "label": "Summary", "required": true, "max_length": 3000 },
            { "id": "population", "type": "integer", "label": "Population served", "required": true, "min": 0 },
            { "id": "started", "type": "date", "label": "Project start" }
        ] },
        "eligibility": [
            { "id": "started-recently", "require": { "after": { "field": "started", "date": "2022-01-01" } },
              "message": "The project started in 2022 or later." }
        ],
        "scales": [ { "id": "ten", "name": "0 to 10", "min": 0, "max": 10, "step": 0.5 } ],
        "categories": [ {
            "id": "main", "name": "Main category", "applicant_types": ["city", "organisation"], "winners": 3,
            "criteria": [
                { "id": "impact", "name": "Impact", "weight": 40, "guidance": "What changed, for whom, and how it was measured." },
                { "id": "innovation", "name": "Innovation", "weight": 30 },
                { "id": "sustainability", "name": "Sustainability", "weight": 30 }
            ]
        } ],
        "scoring": {
            "scale": "ten",
            "rounding": { "final": { "places": 2, "mode": "half_up" } }
        }
    })
}

fn examples() -> (serde_json::Value, serde_json::Value) {
    let apps = json!([
        { "id": "app-1", "category": "main", "applicant_type": "city",
          "fields": { "title": "Open bus data", "summary": "Real-time bus positions for everyone.", "population": 250000, "started": "2023-04-01" } },
        { "id": "app-2", "category": "main", "applicant_type": "organisation",
          "fields": { "title": "Repair cafés", "summary": "Neighbourhood repair workshops.", "population": 40000, "started": "2024-09-15" } },
        { "id": "app-3", "category": "main", "applicant_type": "city",
          "fields": { "title": "Old kiosk", "summary": "A project from before the call's window.", "population": 1000, "started": "2019-05-01" } }
    ]);
    let marks = json!({ "evaluations": [
        { "judge": "judge-a", "application": "app-1", "marks": { "impact": 8, "innovation": 7.5, "sustainability": 6 } },
        { "judge": "judge-b", "application": "app-1", "marks": { "impact": 7, "innovation": 8, "sustainability": 7 } },
        { "judge": "judge-a", "application": "app-2", "marks": { "impact": 6.5, "innovation": 6, "sustainability": 9 } },
        { "judge": "judge-b", "application": "app-2", "marks": { "impact": 7, "innovation": 5.5, "sustainability": 8.5 } }
    ] });
    (apps, marks)
}

fn readme(folder: &Path, id: &str) -> String {
    let f = folder.display();
    format!(
        "# {id}\n\nA Laurel rubric, made by `laurel init`. Edit `award.json` (your editor checks it against\n`award.schema.json` as you type), then:\n\n```sh\nlaurel validate {f}\nlaurel score {f} --applications {f}/examples/applications.json --marks {f}/examples/marks.json\nlaurel diagnose {f} --applications {f}/examples/applications.json --marks {f}/examples/marks.json\n```\n\nWhat to change first:\n- `name`, `edition`, the `timeline` (dates without an offset are read in `time_zone`);\n- `applicant_types` and the `form`'s fields;\n- `eligibility`: each rule says who may apply and the message applicants see when they may not;\n- `categories` and their `criteria`: a criterion without `indicators` is marked directly on\n  `scoring.scale`; give it `indicators` to split it into marked parts; weights are relative;\n- `scoring`: the panel's marks are averaged unless `aggregation` says otherwise; add\n  `\"normalisation\": {{\"method\": \"z_score\"}}` when judges mark different applications.\n\n`examples/` holds three applications (one started too early to be eligible) and two judges'\nmarks to try the rubric with.\n"
    )
}

pub fn run(args: &InitArgs) -> anyhow::Result<ExitCode> {
    let folder = &args.folder;
    if folder.join("award.json").exists() {
        anyhow::bail!(
            "`{}` already holds an award.json: choose another folder",
            folder.display()
        );
    }
    let id = match &args.id {
        Some(id) => id.clone(),
        None => slug(
            &folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    };
    let definition = award(&id, &args.name, &args.time_zone);
    let text = serde_json::to_string_pretty(&definition)? + "\n";
    // What is written must be valid: check it first.
    let report = laurel::check_definition(&text, &std::collections::BTreeMap::new());
    if report.award.is_none() {
        let problems: Vec<String> = report
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.pointer, d.message))
            .collect();
        anyhow::bail!("cannot start a rubric with these: {}", problems.join("; "));
    }
    std::fs::create_dir_all(folder.join("examples"))
        .with_context(|| format!("cannot create `{}`", folder.display()))?;
    let (apps, marks) = examples();
    let schema = serde_json::to_string_pretty(&laurel::schemas::award_schema())? + "\n";
    for (name, body) in [
        ("award.json", text),
        ("award.schema.json", schema),
        ("README.md", readme(folder, &id)),
        (
            "examples/applications.json",
            serde_json::to_string_pretty(&apps)? + "\n",
        ),
        (
            "examples/marks.json",
            serde_json::to_string_pretty(&marks)? + "\n",
        ),
    ] {
        let path = folder.join(name);
        std::fs::write(&path, body)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    outln!(
        "laurel: a new rubric `{id}` in {}: edit award.json, then `laurel validate {}`",
        folder.display(),
        folder.display()
    );
    Ok(ExitCode::from(EXIT_OK))
}
