//! Command-line adapter: all file access happens here, never in the library.

mod files;
mod render;
mod schema;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Every definition valid; the command did what was asked.
pub const EXIT_OK: u8 = 0;
/// Some input is invalid; its diagnostics were printed.
pub const EXIT_INVALID: u8 = 1;
/// Usage or I/O error.
pub const EXIT_USAGE: u8 = 2;

/// Laurel: a rules engine for configurable awards.
#[derive(Debug, Parser)]
#[command(
    name = "laurel",
    version,
    about,
    after_help = "Exit codes: 0 success, 1 invalid input (diagnostics printed), 2 usage or I/O error."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check award definitions: JSON Schema, then ids, references, weights, scales,
    /// conditions, plugin files and dates. Reports every problem with its location.
    Validate {
        /// Definition files, or folders searched for `award.json` and `*.award.json`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print or write the JSON Schemas of Laurel's documents.
    Schema {
        /// Write every schema into this folder instead of printing the award schema.
        #[arg(long)]
        out: Option<PathBuf>,
        /// With `--out`: write nothing, exit 1 if a file there differs from what would be written.
        #[arg(long, requires = "out")]
        check: bool,
    },
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: each problem with the source lines around it.
    Text,
    /// For machines: one JSON document.
    Json,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate { paths, format } => validate::run(&paths, format),
        Command::Schema { out, check } => schema::run(out.as_deref(), check),
    }
}
