//! Command-line adapter: all file access happens here, never in the library.

// First: its macros (`out!`, `outln!`) serve every command's module below.
#[macro_use]
mod stdout;

mod artefacts;
mod assign;
mod audit;
mod backup;
mod compile_child;
pub mod data_key;
mod database;
mod diagnose;
mod files;
mod init;
mod load;
mod plugin_run;
mod rekey;
mod render;
mod rounds;
mod rubric_test;
mod salvage;
mod schema;
mod score;
mod serve;
mod source;
pub mod store_args;
mod telemetry;
mod validate;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Every definition valid; the command did what was asked.
pub const EXIT_OK: u8 = 0;
/// Some input is invalid; its diagnostics were printed.
pub const EXIT_INVALID: u8 = 1;
/// Usage or I/O error.
pub const EXIT_USAGE: u8 = 2;
/// `score`: results computed, but some admitted application is unscored (the results are
/// printed and each unscored application named; `--allow-unscored` makes this a success).
pub const EXIT_UNSCORED: u8 = 3;

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
    /// Run a rubric's own cases (`<rubric>/tests/*/case.json`): applications, marks and the
    /// expected eligibility, places, scores and winners. Exits 1 when a case fails.
    Test {
        /// The rubrics: each a folder with award.json, or the file; a folder of rubric
        /// folders (`rubrics/`) runs every one.
        #[arg(required = true)]
        rubric: Vec<PathBuf>,
    },
    /// Start a new rubric in a folder: an award with one-level criteria, its JSON Schema,
    /// example applications and marks, and a README.
    Init(init::InitArgs),
    /// Print or write the JSON Schemas of Laurel's documents.
    Schema {
        /// Print the schema of applications to this rubric (a folder or its award.json).
        #[arg(long, conflicts_with = "out")]
        award: Option<PathBuf>,
        /// Write every schema into this folder instead of printing the award schema.
        #[arg(long)]
        out: Option<PathBuf>,
        /// With `--out`: write nothing, exit 1 if a file there differs from what would be written.
        #[arg(long, requires = "out")]
        check: bool,
    },
    /// Check applications and marks, decide eligibility, and compute ranked results per
    /// category. Exits 3 when an admitted application is left unscored (see --allow-unscored).
    Score(score::ScoreArgs),
    /// Diagnose the jury and the ranking: agreement (Krippendorff's alpha, ICC), each judge's
    /// severity and consistency, outlying marks, halo, and how robust the winners are to the
    /// weights, the methods and each judge (a seeded simulation).
    Diagnose(diagnose::DiagnoseArgs),
    /// Assign judges to the applications of a round: conflicts respected, loads balanced to
    /// within one, expertise preferred; deterministic from the seed.
    Assign {
        /// The rubric: a folder with award.json, or the file.
        rubric: PathBuf,
        /// The round's id.
        #[arg(long)]
        round: String,
        /// A JSON array of applications.
        #[arg(long)]
        applications: PathBuf,
        /// A JSON array of judges.
        #[arg(long)]
        judges: PathBuf,
        /// The seed of the draw.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Serve the HTTP API, with embedded storage in a local folder and the shipped rubrics.
    Serve(Box<serve::ServeArgs>),
    /// Drive a server's judging rounds: judges, open, recusals, close, corrections, advancement.
    Rounds {
        #[command(subcommand)]
        command: rounds::RoundCommand,
    },
    /// Verify a published result from its verification file, offline: the certificate's
    /// signature, the bundle it certifies, and every score, rank, advancement and winner
    /// recomputed from the bundle; exit 1 naming each mismatch.
    Verify {
        /// The verification file (from the results page, or
        /// `GET /v1/awards/{award}/certificates/{n}`).
        file: PathBuf,
        /// The server's public key (base64), or a file holding it or the server's key list
        /// (`GET /v1/keys/results`).
        #[arg(long, conflicts_with = "server", required_unless_present = "server")]
        key: Option<String>,
        /// A Laurel server to take the key list from, and to check that the certificate is the
        /// one in force.
        #[arg(long)]
        server: Option<String>,
        /// Your receipt (given when you submitted): checks your application was counted.
        #[arg(long)]
        receipt: Option<PathBuf>,
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the audit chain of a data folder (with the server stopped).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Back up a running server into one file signed with its data key (admin key in
    /// `LAUREL_KEY`).
    Backup {
        /// The server's address.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// An administrator's API key.
        #[arg(long, env = "LAUREL_KEY", hide_env_values = true)]
        key: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into a new data folder (disaster recovery).
    Restore {
        /// The backup file.
        file: PathBuf,
        /// The new data folder (with `--store`, the folder whose key file is used).
        #[arg(long)]
        data: PathBuf,
        #[command(flatten)]
        key: data_key::KeyArgs,
        /// Restore into an empty PostgreSQL database instead of the data folder.
        #[command(flatten)]
        store: store_args::StoreArgs,
    },
    /// Recover what the audit chain vouches for from a damaged data folder (or a tampered
    /// `postgres://…` database) into a new folder (or an empty database).
    Salvage {
        /// The damaged data folder, or a database.
        data: PathBuf,
        /// The new data folder to write, or an empty `postgres://…` database.
        #[arg(long)]
        to: PathBuf,
    },
    /// Apply a PostgreSQL database's pending schema migrations.
    Migrate {
        #[command(flatten)]
        store: store_args::StoreArgs,
    },
    /// Copy an installation between a data folder and a PostgreSQL database (either way) into
    /// an empty target; the audit chain is verified on both sides and every record compared.
    Copy {
        /// The source: a data folder, or `postgres://…`.
        #[arg(long)]
        from: String,
        /// The target: a new data folder, or an empty `postgres://…` database.
        #[arg(long)]
        to: String,
        /// Apply the target database's schema migrations first.
        #[arg(long)]
        migrate: bool,
    },
    /// Re-seal all personal data under a new data key (with the server stopped).
    Rekey {
        /// The data folder.
        data: PathBuf,
        #[command(flatten)]
        key: data_key::KeyArgs,
        /// Where to write the new key (a new file, outside the data folder).
        #[arg(long)]
        new_key_file: PathBuf,
    },
    /// Work with a rubric's plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Compiles one plugin module read on standard input (the child process `laurel` runs
    /// to compile under limits).
    #[command(name = compile_child::SUBCOMMAND, hide = true)]
    CompileModule,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify every record's hash and link, and that every stored value is what the chain
    /// last wrote for it; exit 1 on any problem.
    Verify {
        /// The data folder (with its server stopped), or a `postgres://…` database (while its
        /// servers run: it is read as of one instant).
        data: PathBuf,
        /// A head noted earlier (printed with every result): fail if the chain no longer holds
        /// it, as after a rollback to an older copy.
        #[arg(long)]
        head: Option<String>,
        /// The witness file of the chain's head. Default: `<data folder>.witness` beside the
        /// data folder (where the server writes it, beside the data key).
        #[arg(long)]
        witness: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Run one hook of one plugin and print its output, the operations or fuel used and the time.
    Run {
        /// The rubric: a folder with award.json, or the file.
        rubric: PathBuf,
        /// The plugin's id.
        plugin: String,
        /// The hook: eligibility, indicator, score, tie_break or validate.
        hook: String,
        /// The hook's input: JSON text, a file, or @file.
        #[arg(long)]
        input: String,
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

/// Prints the error a command ended with (`error: …` and its causes) on standard error.
pub fn print_error(e: &anyhow::Error) {
    errln!("error: {e:#}");
}

/// Whether some of a command's output could not be written to standard output (a reader that
/// went away, `| head`, is not a failure).
pub fn output_failed() -> bool {
    stdout::failed()
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if !matches!(cli.command, Command::CompileModule) {
        if let Some(compiler) = compile_child::ChildCompiler::new() {
            laurel::set_module_compiler(Box::new(compiler));
        }
        if let Some(folder) = artefacts::Folder::open() {
            laurel::set_artefact_cache(Box::new(folder));
        }
    }
    match cli.command {
        Command::CompileModule => compile_child::run(),
        Command::Rounds { command } => rounds::run(command),
        Command::Assign {
            rubric,
            round,
            applications,
            judges,
            seed,
        } => assign::run(&rubric, &round, &applications, &judges, seed),
        Command::Validate { paths, format } => validate::run(&paths, format),
        Command::Init(args) => init::run(&args),
        Command::Test { rubric } => rubric_test::run(&rubric),
        Command::Schema { award, out, check } => {
            schema::run(award.as_deref(), out.as_deref(), check)
        }
        Command::Serve(args) => serve::run(&args),
        Command::Audit {
            command:
                AuditCommand::Verify {
                    data,
                    head,
                    witness,
                },
        } => audit::verify(&data, head.as_deref(), witness.as_deref()),
        Command::Verify {
            file,
            key,
            server,
            receipt,
            json,
        } => {
            let source = match (&key, &server) {
                (Some(k), _) => verify::KeySource::Given(k),
                (None, Some(s)) => verify::KeySource::Server(s),
                (None, None) => {
                    anyhow::bail!("give the server's public key (--key) or its address (--server)")
                }
            };
            verify::run(&file, &source, receipt.as_deref(), json)
        }
        Command::Salvage { data, to } => salvage::run(&data, &to),
        Command::Migrate { store } => database::migrate(&store),
        Command::Copy { from, to, migrate } => database::copy(&from, &to, migrate),
        Command::Backup { server, key, out } => backup::backup(&server, &key, &out),
        Command::Restore {
            file,
            data,
            key,
            store,
        } => backup::restore(&file, &data, &key, &store),
        Command::Rekey {
            data,
            key,
            new_key_file,
        } => rekey::run(&data, &key, &new_key_file),
        Command::Plugin {
            command:
                PluginCommand::Run {
                    rubric,
                    plugin,
                    hook,
                    input,
                },
        } => plugin_run::run(&rubric, &plugin, &hook, &input),
        Command::Score(args) => score::run(&args),
        Command::Diagnose(args) => diagnose::run(&args),
    }
}
