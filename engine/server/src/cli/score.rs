//! `laurel score`: results of a rubric from applications and marks files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use laurel::{Award, Marks, Results, Status};

use super::load::{self, render_all};
use super::render::terminal_safe;
use super::{EXIT_INVALID, EXIT_OK};

/// Output formats of `score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScoreFormat {
    /// A ranked table per category.
    Table,
    /// Full results with traces.
    Json,
    /// One row per application.
    Csv,
}

/// `laurel score`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct ScoreArgs {
    /// The rubric: a folder with award.json, or the file.
    rubric: std::path::PathBuf,
    /// A JSON array of applications.
    #[arg(long)]
    applications: std::path::PathBuf,
    /// A JSON marks document (evaluations, rankings, review decisions, special mentions).
    #[arg(long)]
    marks: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScoreFormat::Table)]
    format: ScoreFormat,
    /// Score as this round of the award does on the server: its criteria, its aggregation
    /// and normalisation (give its entrants and its marks).
    #[arg(long)]
    round: Option<String>,
    /// Exit 0 even when an admitted application is left unscored (it exits 3 otherwise).
    #[arg(long)]
    allow_unscored: bool,
}

pub fn run(args: &ScoreArgs) -> anyhow::Result<ExitCode> {
    // The whole batch runs on a plugin thread, so that its plugin calls run in place.
    let args = args.clone();
    laurel::run_sandboxed(None, move || run_here(&args))?
}

/// The award as `round` judges it, or an error naming the award's rounds.
pub(super) fn as_round(award: &Award, round: &str) -> anyhow::Result<Award> {
    award.for_round_id(round).map_err(anyhow::Error::msg)
}

/// Names the admitted applications left unscored, on stderr; whether there was any.
fn report_unscored(results: &Results<'_>) -> bool {
    let unscored: Vec<String> = results
        .categories
        .iter()
        .flat_map(|c| c.unscored.iter())
        .map(|u| format!("{} ({})", u.application, u.reason))
        .collect();
    if unscored.is_empty() {
        return false;
    }
    errln!(
        "{} admitted application{} left unscored: {}{}",
        unscored.len(),
        if unscored.len() == 1 { " is" } else { "s are" },
        terminal_safe(
            &unscored
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ),
        if unscored.len() > 10 { "; ..." } else { "" }
    );
    errln!("exit code 3; pass --allow-unscored to accept them");
    true
}

/// A rubric's award and plugins, and applications and marks read and checked against it.
pub(super) struct Inputs {
    pub award: Award,
    pub plugins: laurel::PluginSet,
    pub apps: Vec<laurel::Application>,
    pub marks: Marks,
    /// SHA-256 of the applications' text followed by the marks' text.
    pub inputs_sha256: String,
    /// The two files as they were read: their texts are not held while scoring (the marks'
    /// alone can be hundreds of megabytes), and problems found later are shown against them
    /// read again.
    read: [Source; 2],
    pub progress: ProgressBar,
}

impl Inputs {
    /// Reads and checks them; `None` when something is invalid (its diagnostics printed).
    pub(super) fn read(
        rubric: &Path,
        applications: &Path,
        marks: &Path,
    ) -> anyhow::Result<Option<Inputs>> {
        let Some(award) = load::award(rubric)? else {
            return Ok(None);
        };
        let Some(plugins) = load::plugins(rubric, &award)? else {
            return Ok(None);
        };
        // Each file as it is before it is read: a change after that is seen when its problems
        // are shown.
        let apps_source = Source::of(applications);
        let (apps_text, apps_value) = load::json(applications)?;
        let count = apps_value.as_array().map_or(0, Vec::len);
        let progress = if count >= 2_000 {
            let bar = ProgressBar::new(3);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{bar:20}] {pos}/{len}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        progress.set_message(format!("checking {count} applications"));
        let (diagnostics, apps) = laurel::check_applications(&award, &apps_value, &plugins);
        let Some(apps) = apps else {
            err!(
                "{}",
                render_all(
                    &applications.display().to_string(),
                    &apps_text,
                    &diagnostics
                )
            );
            let invalid: std::collections::BTreeSet<&str> = diagnostics
                .iter()
                .filter(|d| d.is_error())
                .filter_map(|d| d.pointer.split('/').nth(1))
                .collect();
            errln!(
                "{}: {} problems in {} applications; nothing was scored",
                applications.display(),
                diagnostics.error_count(),
                invalid.len()
            );
            return Ok(None);
        };
        // The applications' tree and text go before the marks are read: the peak is the larger.
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        hasher.update(apps_text.as_bytes());
        drop((apps_text, apps_value));
        progress.inc(1);
        progress.set_message("reading marks");
        // Read straight into their types: a tree of the marks held several times their text.
        let marks_source = Source::of(marks);
        let marks_text = load::checked_text(marks)?;
        let marks_doc: Marks = match laurel::from_str_located(&marks_text) {
            Ok(m) => m,
            Err(d) => {
                let d = laurel::Diagnostics::from_iter([d]);
                err!(
                    "{}",
                    render_all(&marks.display().to_string(), &marks_text, &d)
                );
                return Ok(None);
            }
        };
        hasher.update(marks_text.as_bytes());
        let inputs_sha256 = hex::encode(hasher.finalize());
        Ok(Some(Inputs {
            award,
            plugins,
            apps,
            marks: marks_doc,
            inputs_sha256,
            read: [apps_source, marks_source],
            progress,
        }))
    }

    /// Prints why the inputs could not be scored.
    pub(super) fn report(&self, errors: &laurel::InputErrors) {
        for (source, diagnostics) in self.read.iter().zip([&errors.applications, &errors.marks]) {
            if !diagnostics.is_empty() {
                err!("{}", source.render(diagnostics));
            }
        }
        errln!("nothing was scored: {errors}");
    }
}

/// Writes to standard output, buffered. A reader that has gone (`laurel score … | head`) ends
/// the output quietly, as it ends other tools'; any other failure is an error.
fn to_stdout(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written.context("cannot write the results"),
    }
}

/// A file read, as it was: its length and modification time.
struct Source {
    path: PathBuf,
    seen: Option<(u64, std::time::SystemTime)>,
}

impl Source {
    fn of(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            seen: Self::stat(path),
        }
    }

    fn stat(path: &Path) -> Option<(u64, std::time::SystemTime)> {
        let m = std::fs::metadata(path).ok()?;
        Some((m.len(), m.modified().ok()?))
    }

    /// Its diagnostics against its text read again; by their pointers only when the file has
    /// changed since (a line and column would point into other text).
    fn render(&self, diagnostics: &laurel::Diagnostics) -> String {
        let name = self.path.display().to_string();
        let same = self.seen.is_some() && Self::stat(&self.path) == self.seen;
        match std::fs::read_to_string(&self.path) {
            Ok(text) if same => render_all(&name, &text, diagnostics),
            _ => {
                let mut out = format!(
                    "{name} changed after it was read: its problems are given by their place in the document only\n"
                );
                for d in diagnostics.iter() {
                    let at = if d.pointer.is_empty() {
                        "/"
                    } else {
                        &d.pointer
                    };
                    let placed = laurel::Diagnostic {
                        message: format!("at {at}: {}", d.message),
                        line: None,
                        column: None,
                        ..d.clone()
                    };
                    out.push_str(&super::render::render_text(&name, "", &placed));
                }
                out
            }
        }
    }
}

fn run_here(args: &ScoreArgs) -> anyhow::Result<ExitCode> {
    let (applications, marks, format) = (&args.applications, &args.marks, args.format);
    let Some(mut inputs) = Inputs::read(&args.rubric, applications, marks)? else {
        return Ok(ExitCode::from(EXIT_INVALID));
    };
    if let Some(round) = &args.round {
        inputs.award = as_round(&inputs.award, round)?;
    }
    let Inputs {
        award,
        plugins,
        apps,
        marks: marks_doc,
        inputs_sha256,
        progress,
        ..
    } = &inputs;
    progress.inc(1);
    progress.set_message("scoring");
    // The table and the CSV show the panel's numbers: the judges' breakdowns are built for
    // the JSON only.
    let options = laurel::EvaluateOptions {
        traces: format == ScoreFormat::Json,
    };
    let mut results = match laurel::evaluate_with(award, apps, marks_doc, plugins, options) {
        Ok(r) => r,
        Err(errors) => {
            inputs.report(&errors);
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    results.inputs_sha256 = Some(inputs_sha256.clone());
    progress.inc(1);
    progress.finish_and_clear();
    let text = match format {
        // Written as it is serialised: the results of 100,000 applications with every trace
        // are 3.5 GB of JSON, which a string would hold on top of the results themselves.
        ScoreFormat::Json => {
            to_stdout(|out| {
                serde_json::to_writer_pretty(&mut *out, &results)?;
                out.write_all(b"\n")
            })?;
            None
        }
        ScoreFormat::Csv if std::io::IsTerminal::is_terminal(&std::io::stdout()) => {
            Some(terminal_safe(&csv_rows(award, &results)?))
        }
        ScoreFormat::Csv => Some(csv_rows(award, &results)?),
        ScoreFormat::Table => Some(terminal_safe(&table(award, &results))),
    };
    if let Some(text) = text {
        to_stdout(|out| out.write_all(text.as_bytes()))?;
    }
    if report_unscored(&results) && !args.allow_unscored {
        return Ok(ExitCode::from(super::EXIT_UNSCORED));
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn lang(award: &Award, text: &laurel::Text) -> String {
    text.get(&award.default_language, &award.default_language)
        .to_owned()
}

fn table(award: &Award, results: &Results<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — definition sha256 {}",
        lang(award, &award.name),
        results.definition_sha256
    );
    for c in &results.categories {
        let name = award
            .category(c.category.as_str())
            .map_or_else(|| c.category.to_string(), |x| lang(award, &x.name));
        let _ = writeln!(out, "\n{name} ({}), {} winners", c.category, c.winners);
        let _ = writeln!(
            out,
            "{:>5}  {:<24} {:>10}  {:>6}  note",
            "rank", "application", "score", "judges"
        );
        for p in &c.ranking {
            let rank = if p.tied {
                format!("{}=", p.rank)
            } else {
                p.rank.to_string()
            };
            let mut note = Vec::new();
            if p.winner {
                note.push("winner".to_owned());
            }
            if let Some(prize) = &p.prize {
                let money = match (&prize.amount, &prize.currency) {
                    (Some(a), Some(c)) => format!(" ({} {c})", a.normalize()),
                    (Some(a), None) => format!(" ({})", a.normalize()),
                    _ => String::new(),
                };
                note.push(format!("{}{money}", lang(award, &prize.name)));
                if let Some(why) = &prize.withheld {
                    note.push(format!("prize money withheld: {why}"));
                }
            }
            if let Some(by) = &p.tie_broken_by {
                note.push(format!("tie broken by {by}"));
            }
            note.extend(
                p.below_pass_marks
                    .iter()
                    .map(laurel::PassMarkFailure::reason),
            );
            let _ = writeln!(
                out,
                "{rank:>5}  {:<24} {:>10}  {:>6}  {}",
                p.application.as_str(),
                p.score.to_string(),
                p.judges,
                note.join(", ")
            );
        }
        for u in &c.unscored {
            let _ = writeln!(
                out,
                "{:>5}  {:<24} {:>10}  {:>6}  not scored: {}",
                "-",
                u.application.as_str(),
                "",
                "",
                u.reason
            );
        }
    }
    let excluded: Vec<_> = results.eligibility.iter().filter(|e| !e.admitted).collect();
    if !excluded.is_empty() {
        let _ = writeln!(out, "\nNot admitted");
        for e in excluded {
            let status = match e.decision.status {
                Status::Ineligible => "ineligible",
                Status::NeedsReview => "needs review",
                Status::Eligible => "eligible",
            };
            let reasons: Vec<String> = e
                .decision
                .failures
                .iter()
                .map(|f| format!("{} ({})", lang(award, &f.message), f.rule))
                .collect();
            let _ = writeln!(
                out,
                "  {:<24} {status}: {}",
                e.decision.application,
                reasons.join("; ")
            );
        }
    }
    if !results.special_mentions.is_empty() {
        let _ = writeln!(out, "\nSpecial mentions");
        for m in &results.special_mentions {
            let _ = writeln!(out, "  {:<24} {}", m.application.as_str(), m.reason);
        }
    }
    for w in &results.warnings {
        let _ = writeln!(out, "\nwarning: {w}");
    }
    out
}

fn csv_rows(award: &Award, results: &Results<'_>) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "category",
        "rank",
        "application",
        "score",
        "winner",
        "tied",
        "tie_broken_by",
        "judges",
        "criteria",
        "status",
        "detail",
    ])?;
    for c in &results.categories {
        for p in &c.ranking {
            let criteria: Vec<String> = p
                .trace
                .criteria
                .iter()
                .map(|x| format!("{}={}", x.criterion, x.score))
                .collect();
            w.write_record([
                c.category.as_str(),
                &p.rank.to_string(),
                p.application.as_str(),
                &p.score.to_string(),
                &p.winner.to_string(),
                &p.tied.to_string(),
                p.tie_broken_by.as_deref().unwrap_or(""),
                &p.judges.to_string(),
                &criteria.join(";"),
                "scored",
                "",
            ])?;
        }
        for u in &c.unscored {
            w.write_record([
                c.category.as_str(),
                "",
                u.application.as_str(),
                "",
                "false",
                "false",
                "",
                "",
                "",
                "unscored",
                &u.reason,
            ])?;
        }
    }
    for e in results.eligibility.iter().filter(|e| !e.admitted) {
        let status = match e.decision.status {
            Status::Ineligible => "ineligible",
            Status::NeedsReview => "needs_review",
            Status::Eligible => "eligible",
        };
        let reasons: Vec<String> = e
            .decision
            .failures
            .iter()
            .map(|f| format!("{}: {}", f.rule, lang(award, &f.message)))
            .collect();
        w.write_record([
            "",
            "",
            &e.decision.application,
            "",
            "false",
            "false",
            "",
            "",
            "",
            status,
            &reasons.join("; "),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem() -> laurel::Diagnostics {
        [laurel::Diagnostic::error(
            laurel::Code::Scoring,
            "/evaluations/1/marks/x",
            "mark `12` is off the scale 0..10",
        )]
        .into_iter()
        .collect()
    }

    #[test]
    fn problems_are_shown_against_the_file_read_again_unless_it_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("marks.json");
        let text = "{\"evaluations\": [\n  {},\n  {\"marks\": {\"x\": 12}}\n]}\n";
        std::fs::write(&path, text).unwrap();
        let source = Source::of(&path);
        let shown = source.render(&problem());
        assert!(shown.contains("marks.json:3:"), "{shown}");
        assert!(!shown.contains("changed after it was read"), "{shown}");
        // Rewritten since (another length): a line and column would point into other text.
        std::fs::write(&path, format!("\n\n{text}")).unwrap();
        let shown = source.render(&problem());
        assert!(shown.contains("changed after it was read"), "{shown}");
        assert!(shown.contains("/evaluations/1/marks/x"), "{shown}");
        assert!(!shown.contains("marks.json:5:"), "{shown}");
        assert!(shown.contains("off the scale"), "{shown}");
    }
}
