//! The `laurel` command: validate award definitions, print schemas, score and serve.
//!
//! Exit codes: 0 success (every definition valid), 1 invalid input (diagnostics were printed),
//! 2 usage or I/O error.

// The binary is the edge where output is printed; the library never prints.
#![allow(clippy::print_stdout)]

mod cli;
mod server;
mod store;

use std::process::ExitCode;

/// Counts what each thread allocates, so that plugin calls have a memory limit (rhai has none
/// of its own); over mimalloc, chosen on measurement (the README's performance section), or
/// the system's allocator without the `mimalloc` feature.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: laurel::CountingAllocator<mimalloc::MiMalloc> =
    laurel::CountingAllocator::new(mimalloc::MiMalloc);
#[cfg(not(feature = "mimalloc"))]
#[global_allocator]
static ALLOCATOR: laurel::CountingAllocator = laurel::CountingAllocator::system();

#[allow(unsafe_code)]
mod trim {
    unsafe extern "C" {
        /// glibc: gives free memory at the top of the heap and in every arena back to the
        /// system.
        fn malloc_trim(pad: usize) -> i32;
    }

    /// After a plugin job that held much memory, gives what it freed back to the system.
    pub fn release() {
        // SAFETY: `malloc_trim` only inspects and shrinks glibc's own free lists; it takes a
        // padding size and touches no memory of ours.
        unsafe {
            malloc_trim(0);
        }
    }
}

use clap::Parser;

fn main() -> ExitCode {
    laurel::set_memory_release(trim::release);
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}
