//! The `laurel` command: validate award definitions, print schemas, score and serve.
//!
//! Exit codes: 0 success (every definition valid), 1 invalid input (diagnostics were printed),
//! 2 usage or I/O error.

// The binary is the edge where output is printed; the library never prints. Standard error
// goes through `err!`/`errln!` (`cli/stdout.rs`), which a reader that has gone does not panic.
#![allow(clippy::print_stdout)]
#![deny(clippy::print_stderr)]

mod cli;
mod server;
mod store;

use std::process::ExitCode;

/// mimalloc, chosen on measurement (the README's performance section); the system's allocator
/// without the `mimalloc` feature.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> ExitCode {
    // Transparent huge pages off for this process (its children too), before any thread or
    // large allocation: the allocator's fresh huge pages were zeroed at every growth, half of
    // a 100,000-application scoring run (issue #34). `LAUREL_ALLOW_THP=1` keeps them.
    if std::env::var_os("LAUREL_ALLOW_THP").is_none_or(|v| v != "1") {
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
    let args = cli::Cli::parse();
    match cli::run(args) {
        // Output that could not be written (not a reader that went away) is an I/O error.
        Ok(_) if cli::output_failed() => ExitCode::from(cli::EXIT_USAGE),
        Ok(code) => code,
        Err(e) => {
            cli::print_error(&e);
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}
