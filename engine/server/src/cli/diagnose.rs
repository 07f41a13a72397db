//! `laurel diagnose`: can the jury be trusted, and would the winners change?

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use laurel::{DiagnoseOptions, Diagnosis, RobustnessOptions};

use super::render::terminal_safe;
use super::score::Inputs;
use super::{EXIT_INVALID, EXIT_OK};

/// Output formats of `diagnose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagnoseFormat {
    /// Sections to read.
    Table,
    /// Every number.
    Json,
    /// One row per measure: category, kind, subject, measure, value, low, high, note.
    Csv,
}

/// `laurel diagnose`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct DiagnoseArgs {
    /// The rubric: a folder with award.json, or the file.
    rubric: std::path::PathBuf,
    /// A JSON array of applications.
    #[arg(long)]
    applications: std::path::PathBuf,
    /// A JSON marks document.
    #[arg(long)]
    marks: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiagnoseFormat::Table)]
    format: DiagnoseFormat,
    /// The seed of the bootstraps and the simulation (same seed, same numbers). Each of these
    /// options overrides the rubric's `scoring.diagnostics` (2023 by default).
    #[arg(long)]
    seed: Option<u64>,
    /// Draws of the ranking's simulation; 0 to skip it (1,000 by default).
    #[arg(long)]
    draws: Option<u32>,
    /// Draws per confidence interval; 0 for none (1,000 by default).
    #[arg(long)]
    bootstrap: Option<u32>,
    /// Each criterion's weight is drawn within ± this share of it (0.2 by default).
    #[arg(long)]
    weight_range: Option<f64>,
}

/// The rubric's settings, with the command line's over them.
fn options(args: &DiagnoseArgs, award: &laurel::Award) -> DiagnoseOptions {
    let mut o = DiagnoseOptions::for_award(award);
    if let Some(seed) = args.seed {
        o.seed = seed;
    }
    if let Some(b) = args.bootstrap {
        o.bootstrap = b;
    }
    match args.draws {
        Some(0) => o.robustness = None,
        Some(draws) => {
            let r = o.robustness.get_or_insert_with(RobustnessOptions::default);
            r.draws = draws;
        }
        None => {}
    }
    if let (Some(w), Some(r)) = (args.weight_range, o.robustness.as_mut()) {
        r.weight_range = w;
    }
    o
}

pub fn run(args: &DiagnoseArgs) -> anyhow::Result<ExitCode> {
    if args.weight_range.is_some_and(|w| !(0.0..1.0).contains(&w)) {
        anyhow::bail!("`--weight-range` is a share of the weight, from 0 to below 1");
    }
    let args = args.clone();
    laurel::run_sandboxed(None, move || {
        let (applications, marks, format) = (&args.applications, &args.marks, args.format);
        let Some(inputs) = Inputs::read(&args.rubric, applications, marks)? else {
            return Ok(ExitCode::from(EXIT_INVALID));
        };
        let options = options(&args, &inputs.award);
        inputs.progress.set_message("diagnosing");
        let diagnosis = match laurel::diagnose(
            &inputs.award,
            &inputs.apps,
            &inputs.marks,
            &inputs.plugins,
            &options,
        ) {
            Ok(d) => d,
            Err(errors) => {
                inputs.report(&errors);
                return Ok(ExitCode::from(EXIT_INVALID));
            }
        };
        inputs.progress.finish_and_clear();
        let out = match format {
            DiagnoseFormat::Json => {
                serde_json::to_string_pretty(&diagnosis).context("cannot write the diagnosis")?
                    + "\n"
            }
            DiagnoseFormat::Csv => csv_rows(&diagnosis)?,
            DiagnoseFormat::Table => table(&diagnosis),
        };
        out!("{}", terminal_safe(&out));
        Ok(ExitCode::from(EXIT_OK))
    })?
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"))
}

fn interval(i: Option<[f64; 2]>) -> String {
    i.map_or_else(String::new, |[lo, hi]| format!(" [{lo:.3}, {hi:.3}]"))
}

fn table(d: &Diagnosis) -> String {
    let mut out = String::new();
    for c in &d.categories {
        if c.evaluations == 0 {
            let _ = writeln!(out, "== {}: judged by rankings (no marks)", c.category);
        } else {
            let _ = writeln!(
                out,
                "== {}: {} judges, {} applications, {} evaluations ({} design)",
                c.category,
                c.judges,
                c.applications,
                c.evaluations,
                if c.complete { "complete" } else { "incomplete" }
            );
        }
        if c.evaluations > 0 {
            let _ = writeln!(
                out,
                "agreement (Krippendorff's alpha, interval; 95% interval, judges and applications sampled):"
            );
            let _ = writeln!(
                out,
                "  {:<32} {:>7}{:<18}  {}",
                "overall mark",
                num(c.overall.alpha),
                interval(c.overall.interval),
                c.overall.reading
            );
            if let Some(r) = &c.ranked_by {
                let _ = writeln!(
                    out,
                    "  {:<32} {:>7}{:<18}  {}",
                    "normalised totals (ranked by)",
                    num(r.alpha),
                    interval(r.interval),
                    r.reading
                );
            }
            for k in &c.criteria {
                let _ = writeln!(
                    out,
                    "  {:<32} {:>7}{:<18}  {}",
                    k.criterion,
                    num(k.agreement.alpha),
                    interval(k.agreement.interval),
                    k.agreement.reading
                );
            }
            for k in &c.indicators {
                let _ = writeln!(
                    out,
                    "  {:<32} {:>7}{:<18}  ordinal {}",
                    format!("· {}", k.indicator),
                    num(k.agreement.alpha),
                    interval(k.agreement.interval),
                    num(k.ordinal_alpha),
                );
            }
            match &c.icc {
                Some(i) => {
                    let _ = writeln!(
                        out,
                        "ICC ({}, the panel's mean): {:.3}{}  {}",
                        i.model,
                        i.panel,
                        interval(i.interval),
                        i.reading
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "ICC: not applicable (judges and their numbers differ between applications; alpha applies)"
                    );
                }
            }
            if let Some(i) = &c.ranked_by_icc {
                let _ = writeln!(
                    out,
                    "ICC on the normalised totals (ranked by; {}, the panel's mean): {:.3}{}  {}",
                    i.model,
                    i.panel,
                    interval(i.interval),
                    i.reading
                );
            }
            let _ = writeln!(
                out,
                "judges (severity: effect in marks against the average judge, allowing for the applications marked, ± its standard error; consistency: correlation with co-judges):"
            );
            let _ = writeln!(
                out,
                "  {:<24} {:>5} {:>15} {:>11} {:>5} {:>8}  flags",
                "judge", "apps", "severity", "consistency", "halo", "outlying"
            );
            for j in &c.judge_reports {
                let _ = writeln!(
                    out,
                    "  {:<24} {:>5} {:>15} {:>11} {:>5} {:>8}  {}",
                    j.judge,
                    j.applications,
                    match (j.severity, j.severity_se) {
                        (Some(s), Some(se)) => format!("{s:.3} ± {se:.3}"),
                        _ => "-".to_owned(),
                    },
                    num(j.consistency),
                    j.halo,
                    j.outlying_marks,
                    j.flags.join("; ")
                );
            }
        }
        if let Some(r) = &c.robustness {
            let verdict = |robust: bool| if robust { "robust" } else { "NOT robust" };
            if r.draws > 0 {
                let _ = writeln!(
                    out,
                    "with another jury from the same judges ({}, {} draws; winners {}):",
                    r.sampling,
                    r.draws,
                    verdict(r.winners_robust)
                );
                rank_table(&mut out, &r.applications, r.top_k);
            }
            if let Some(m) = &r.methods {
                let _ = writeln!(
                    out,
                    "under the choices the rubric allows, the same jury ({}; {} draws; winners {}):",
                    m.varied.join("; "),
                    m.draws,
                    verdict(m.winners_robust)
                );
                rank_table(&mut out, &m.applications, r.top_k);
            }
            let _ = writeln!(out, "what moves the ranking most (one choice at a time):");
            for s in r.sensitivity.iter().take(5) {
                let _ = writeln!(
                    out,
                    "  {:<44} mean rank shift {:.2}, winners lost {}",
                    s.factor, s.mean_rank_shift, s.winners_lost
                );
            }
        }
        out.push('\n');
    }
    if d.warnings.is_empty() {
        out.push_str("no warnings\n");
    } else {
        out.push_str("warnings:\n");
        for w in &d.warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
    out
}

/// Ranks with their 5th-95th percentiles and chances, the first 20.
fn rank_table(out: &mut String, applications: &[laurel::RankInterval], top_k: u32) {
    let _ = writeln!(
        out,
        "  {:>4}  {:<28} {:>13} {:>8} {:>8}",
        "rank",
        "application",
        "5th-95th",
        "P(win)",
        format!("P(top {top_k})")
    );
    for a in applications.iter().take(20) {
        let span = match (a.rank_p05, a.rank_p95) {
            (Some(lo), Some(hi)) => format!("{lo:>6.0}-{hi:<6.0}"),
            _ => format!("{:^13}", "never scored"),
        };
        let _ = writeln!(
            out,
            "  {:>4}  {:<28} {span} {:>8.3} {:>8.3}",
            a.rank, a.application, a.p_winner, a.p_top_k
        );
    }
    if applications.len() > 20 {
        let _ = writeln!(
            out,
            "  ... {} more (--format json)",
            applications.len() - 20
        );
    }
}

fn csv_rows(d: &Diagnosis) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "category", "kind", "subject", "measure", "value", "low", "high", "note",
    ])?;
    let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for c in &d.categories {
        let cat = c.category.as_str();
        let mut row = |kind: &str,
                       subject: &str,
                       measure: &str,
                       v: Option<f64>,
                       i: Option<[f64; 2]>,
                       note: &str| {
            w.write_record([
                cat,
                kind,
                subject,
                measure,
                &f(v),
                &f(i.map(|x| x[0])),
                &f(i.map(|x| x[1])),
                note,
            ])
        };
        row(
            "agreement",
            "overall",
            "alpha",
            c.overall.alpha,
            c.overall.interval,
            &c.overall.reading,
        )?;
        for k in &c.criteria {
            row(
                "agreement",
                &k.criterion,
                "alpha",
                k.agreement.alpha,
                k.agreement.interval,
                &k.agreement.reading,
            )?;
        }
        for k in &c.indicators {
            row(
                "agreement",
                &k.indicator,
                "alpha",
                k.agreement.alpha,
                k.agreement.interval,
                &k.agreement.reading,
            )?;
            row(
                "agreement",
                &k.indicator,
                "ordinal_alpha",
                k.ordinal_alpha,
                None,
                "",
            )?;
        }
        for (kind, icc) in [("icc", &c.icc), ("icc_ranked_by", &c.ranked_by_icc)] {
            if let Some(i) = icc {
                row(
                    kind,
                    &i.model,
                    "panel",
                    Some(i.panel),
                    i.interval,
                    &i.reading,
                )?;
            }
        }
        for j in &c.judge_reports {
            let flags = j.flags.join("; ");
            row(
                "judge",
                &j.judge,
                "severity",
                j.severity,
                j.severity_interval,
                &flags,
            )?;
            row("judge", &j.judge, "consistency", j.consistency, None, "")?;
            row("judge", &j.judge, "halo", Some(j.halo as f64), None, "")?;
            row(
                "judge",
                &j.judge,
                "outlying_marks",
                Some(j.outlying_marks as f64),
                None,
                "",
            )?;
        }
        if let Some(r) = &c.robustness {
            let parts = [("rank", &r.applications)]
                .into_iter()
                .chain(r.methods.iter().map(|m| ("rank_method", &m.applications)));
            for (kind, applications) in parts {
                for a in applications {
                    row(
                        kind,
                        &a.application,
                        "rank",
                        Some(f64::from(a.rank)),
                        a.rank_p05.zip(a.rank_p95).map(|(lo, hi)| [lo, hi]),
                        "",
                    )?;
                    row(kind, &a.application, "p_winner", Some(a.p_winner), None, "")?;
                    row(
                        kind,
                        &a.application,
                        "p_top_k",
                        Some(a.p_top_k),
                        None,
                        &format!("k = {}", r.top_k),
                    )?;
                }
            }
            for s in &r.sensitivity {
                row(
                    "sensitivity",
                    &s.factor,
                    "mean_rank_shift",
                    Some(s.mean_rank_shift),
                    None,
                    &format!("winners lost: {}", s.winners_lost),
                )?;
            }
        }
    }
    for warning in &d.warnings {
        w.write_record(["", "warning", "", "", "", "", "", warning.as_str()])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
