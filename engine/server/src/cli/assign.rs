//! `laurel assign`: judges for each application of a round, with a coverage report.

use std::path::Path;
use std::process::ExitCode;

use super::load::{self, render_all};
use super::{EXIT_INVALID, EXIT_OK};

pub fn run(
    rubric: &Path,
    round: &str,
    applications: &Path,
    judges: &Path,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    let Some(award) = load::award(rubric)? else {
        return Ok(ExitCode::from(EXIT_INVALID));
    };
    let Some(spec) = award.rounds.iter().find(|r| r.id == round) else {
        let known: Vec<&str> = award.rounds.iter().map(|r| r.id.as_str()).collect();
        anyhow::bail!(
            "the award has no round `{round}`; its rounds: {}",
            known.join(", ")
        );
    };
    let (apps_text, apps_value) = load::json(applications)?;
    let (diagnostics, apps) =
        laurel::check_applications(&award, &apps_value, &laurel::PluginSet::none());
    let Some(apps) = apps else {
        err!(
            "{}",
            render_all(
                &applications.display().to_string(),
                &apps_text,
                &diagnostics
            )
        );
        return Ok(ExitCode::from(EXIT_INVALID));
    };
    let (judges_text, judges_value) = load::json(judges)?;
    let judges: Vec<laurel::Judge> = match laurel::from_value_located(&judges_value) {
        Ok(j) => j,
        Err(d) => {
            let d = laurel::Diagnostics::from_iter([d]);
            err!(
                "{}",
                render_all(&judges.display().to_string(), &judges_text, &d)
            );
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    match laurel::assign(&award, spec, &apps, &judges, seed) {
        Ok(plan) => {
            outln!("{}", serde_json::to_string_pretty(&plan)?);
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(e) => {
            for (app, why) in &e.problems {
                errln!("error: application `{app}`: {why}");
            }
            errln!("no valid assignment: {e}");
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}
