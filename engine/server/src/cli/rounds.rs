//! `laurel rounds ...`: drives a server's judging rounds over its HTTP API (a thin client).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{EXIT_INVALID, EXIT_OK};

/// Where the server is and which key to use.
#[derive(Debug, Args)]
pub struct Connection {
    /// The server's URL.
    #[arg(long, env = "LAUREL_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// An API key (admin for most commands; a judge's to recuse itself).
    #[arg(long, env = "LAUREL_KEY", hide_env_values = true)]
    key: String,
    /// The award.
    #[arg(long)]
    award: String,
}

/// Round operations.
#[derive(Debug, Subcommand)]
pub enum RoundCommand {
    /// Register judges from a JSON array (see schemas/judges.schema.json).
    Judges {
        #[command(flatten)]
        to: Connection,
        /// The judges' file.
        file: PathBuf,
    },
    /// Open a round: entrants from the previous round, judges drawn from the seed.
    Open {
        #[command(flatten)]
        to: Connection,
        /// The round.
        round: String,
        /// The seed of the draw.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Show a round: entrants, assignments, coverage, recusals, who goes on.
    Show {
        #[command(flatten)]
        to: Connection,
        /// The round.
        round: String,
    },
    /// Record a judge's recusal from an application.
    Recuse {
        #[command(flatten)]
        to: Connection,
        /// The round.
        round: String,
        /// The application.
        #[arg(long)]
        application: String,
        /// The judge (omit with a judge's own key).
        #[arg(long)]
        judge: Option<String>,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Change a judge's applications by hand (audited with the reason).
    Assign {
        #[command(flatten)]
        to: Connection,
        /// The round.
        round: String,
        /// The judge.
        #[arg(long)]
        judge: String,
        /// The applications, comma-separated.
        #[arg(long, value_delimiter = ',')]
        applications: Vec<String>,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Close a round: its marks are locked.
    Close {
        #[command(flatten)]
        to: Connection,
        /// The round.
        round: String,
    },
    /// Correct a judge's locked marks (a JSON file `{"marks": {...}}`), with a reason.
    Correct {
        #[command(flatten)]
        to: Connection,
        /// The round.
        round: String,
        /// The application.
        #[arg(long)]
        application: String,
        /// The judge.
        #[arg(long)]
        judge: String,
        /// The corrected marks.
        #[arg(long)]
        marks: PathBuf,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Decide who goes on: by the round's rule, or from a JSON file of decisions with reasons.
    Advance {
        #[command(flatten)]
        to: Connection,
        /// The round.
        round: String,
        /// `[{"application": ..., "reason": ...}]` (or the API's body, `{"decisions": [...]}`)
        /// for rounds decided by an administrator.
        #[arg(long)]
        decisions: Option<PathBuf>,
        /// Why the decisions stand although they break a check (more winners than declared).
        #[arg(long)]
        override_reason: Option<String>,
    },
    /// Remove a judge from a round: each of their applications gets a replacement drawn.
    Remove {
        #[command(flatten)]
        to: Connection,
        /// The round.
        round: String,
        /// The judge.
        judge: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Results: a round's (recomputed from its stored marks), or, without a round, the
    /// award's final results (`--compute` computes them first).
    Results {
        #[command(flatten)]
        to: Connection,
        /// The round; the award's final results when absent.
        round: Option<String>,
        /// Compute the final results now.
        #[arg(long)]
        compute: bool,
        /// JSON or CSV.
        #[arg(long, value_enum, default_value_t = ResultsFormat::Json)]
        format: ResultsFormat,
    },
    /// Publish the award's latest results: applicants see their outcome.
    Publish {
        #[command(flatten)]
        to: Connection,
    },
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResultsFormat {
    /// The full document.
    Json,
    /// One row per application.
    Csv,
}

/// The body of `POST .../advance`: the decisions file is the API's body (`{"decisions":
/// [...]}`, with its `override_reason` if it likes) or its list of decisions alone.
fn advance_body(
    decisions: Option<Value>,
    override_reason: Option<String>,
) -> anyhow::Result<Value> {
    let mut body = match decisions {
        Some(list @ Value::Array(_)) => json!({ "decisions": list }),
        Some(whole @ Value::Object(_)) if whole.get("decisions").is_some() => whole,
        Some(_) => anyhow::bail!(
            "--decisions: write `[{{\"application\": ..., \"reason\": ...}}]` or `{{\"decisions\": [...]}}`"
        ),
        None => json!({}),
    };
    if let Some(r) = override_reason {
        body["override_reason"] = json!(r);
    }
    Ok(body)
}

fn call(
    to: &Connection,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<(u16, Value)> {
    crate::server::outbound::tls().map_err(anyhow::Error::msg)?;
    let agent = crate::server::outbound::plain_agent(None);
    let url = format!(
        "{}/v1/awards/{}{path}",
        to.server.trim_end_matches('/'),
        to.award
    );
    let auth = format!("Bearer {}", to.key);
    let response = match method {
        "GET" => agent.get(&url).header("Authorization", &auth).call(),
        "PUT" => agent
            .put(&url)
            .header("Authorization", &auth)
            .send(body.unwrap_or(&json!({})).to_string().as_bytes()),
        _ => agent
            .post(&url)
            .header("Authorization", &auth)
            .send(body.unwrap_or(&json!({})).to_string().as_bytes()),
    };
    let mut response = response.with_context(|| format!("cannot reach {url}"))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_string()?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

fn read(path: &PathBuf) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("`{}` is not valid JSON", path.display()))
}

fn print(status: u16, value: &Value) -> anyhow::Result<ExitCode> {
    if (200..300).contains(&status) {
        outln!("{}", serde_json::to_string_pretty(value)?);
        return Ok(ExitCode::from(EXIT_OK));
    }
    errln!(
        "error: {} ({status}): {}",
        value["title"].as_str().unwrap_or("request failed"),
        value["detail"].as_str().unwrap_or("")
    );
    for e in value["errors"].as_array().into_iter().flatten() {
        errln!(
            "  {} {}",
            e["pointer"].as_str().unwrap_or(""),
            e["message"].as_str().unwrap_or("")
        );
    }
    Ok(ExitCode::from(EXIT_INVALID))
}

pub fn run(command: RoundCommand) -> anyhow::Result<ExitCode> {
    match command {
        RoundCommand::Judges { to, file } => {
            let judges = read(&file)?;
            let list = judges
                .as_array()
                .context("the judges' file holds a JSON array")?;
            for j in list {
                let id = j["id"].as_str().context("a judge without an id")?;
                let (status, v) = call(&to, "PUT", &format!("/judges/{id}"), Some(j))?;
                if !(200..300).contains(&status) {
                    return print(status, &v);
                }
            }
            outln!("{} judges registered", list.len());
            Ok(ExitCode::from(EXIT_OK))
        }
        RoundCommand::Open { to, round, seed } => {
            let (s, v) = call(
                &to,
                "POST",
                &format!("/rounds/{round}/open"),
                Some(&json!({ "seed": seed })),
            )?;
            print(s, &v)
        }
        RoundCommand::Show { to, round } => {
            let (s, v) = call(&to, "GET", &format!("/rounds/{round}"), None)?;
            print(s, &v)
        }
        RoundCommand::Recuse {
            to,
            round,
            application,
            judge,
            reason,
        } => {
            let (s, v) = call(
                &to,
                "POST",
                &format!("/rounds/{round}/recusals"),
                Some(&json!({ "application": application, "judge": judge, "reason": reason })),
            )?;
            print(s, &v)
        }
        RoundCommand::Assign {
            to,
            round,
            judge,
            applications,
            reason,
        } => {
            let (s, v) = call(
                &to,
                "PUT",
                &format!("/rounds/{round}/assignments/{judge}"),
                Some(&json!({ "applications": applications, "reason": reason })),
            )?;
            print(s, &v)
        }
        RoundCommand::Close { to, round } => {
            let (s, v) = call(&to, "POST", &format!("/rounds/{round}/close"), None)?;
            print(s, &v)
        }
        RoundCommand::Correct {
            to,
            round,
            application,
            judge,
            marks,
            reason,
        } => {
            let mut body = read(&marks)?;
            body["reason"] = json!(reason);
            let (s, v) = call(
                &to,
                "PUT",
                &format!("/rounds/{round}/marks/{application}/{judge}"),
                Some(&body),
            )?;
            print(s, &v)
        }
        RoundCommand::Advance {
            to,
            round,
            decisions,
            override_reason,
        } => {
            let body = advance_body(decisions.map(|p| read(&p)).transpose()?, override_reason)?;
            let (s, v) = call(
                &to,
                "POST",
                &format!("/rounds/{round}/advance"),
                Some(&body),
            )?;
            print(s, &v)
        }
        RoundCommand::Remove {
            to,
            round,
            judge,
            reason,
        } => {
            let (s, v) = call(
                &to,
                "POST",
                &format!("/rounds/{round}/judges/{judge}/remove"),
                Some(&json!({ "reason": reason })),
            )?;
            print(s, &v)
        }
        RoundCommand::Results {
            to,
            round,
            compute,
            format,
        } => {
            if compute {
                let (s, v) = call(&to, "POST", "/results", None)?;
                if !(200..300).contains(&s) {
                    return print(s, &v);
                }
            }
            let base = match &round {
                Some(r) => format!("/rounds/{r}/results"),
                None => "/results".to_owned(),
            };
            let path = match format {
                ResultsFormat::Json => base,
                ResultsFormat::Csv => format!("{base}.csv"),
            };
            let (s, v) = call(&to, "GET", &path, None)?;
            match (&v, format) {
                (Value::String(csv), ResultsFormat::Csv) if (200..300).contains(&s) => {
                    out!("{}", super::render::terminal_safe(csv));
                    Ok(ExitCode::from(EXIT_OK))
                }
                _ => print(s, &v),
            }
        }
        RoundCommand::Publish { to } => {
            let (s, v) = call(&to, "POST", "/results/publish", None)?;
            print(s, &v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_read_as_a_list_or_as_the_apis_body() {
        let list = json!([{"application": "app-1", "reason": "the best"}]);
        let want = json!({"decisions": list.clone()});
        assert_eq!(advance_body(Some(list.clone()), None).unwrap(), want);
        assert_eq!(advance_body(Some(want.clone()), None).unwrap(), want);
        let with = advance_body(Some(want.clone()), Some("tied".to_owned())).unwrap();
        assert_eq!(with["override_reason"], "tied");
        assert_eq!(with["decisions"], list);
        assert!(advance_body(Some(json!({"winners": []})), None).is_err());
        assert_eq!(advance_body(None, None).unwrap(), json!({}));
    }
}
