//! Standard output for every command: [`out!`] and [`outln!`] in place of `print!` and
//! `println!`, which panic when the reader has gone (`laurel … | head`). A reader that has gone
//! stops nothing: what it would have read is dropped and the command's work goes on. Any other
//! failure to write (a full disk) is said on standard error, and the command then exits 2 (an
//! I/O error) rather than 0.
//!
//! Standard error likewise: [`err!`] and [`errln!`] in place of `eprint!` and `eprintln!`
//! (`laurel score … 2>&1 | head`: the reader gone, a warning must not turn the command's
//! documented exit code into a panic's). What cannot be written there is dropped. The binary
//! denies `clippy::print_stderr` (`main.rs`).

use std::sync::atomic::{AtomicBool, Ordering};

static FAILED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output; see the module's documentation.
pub(crate) fn write(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            if !FAILED.swap(true, Ordering::Relaxed) {
                write_err(format_args!(
                    "laurel: cannot write to standard output: {e}\n"
                ));
            }
        }
        Ok(()) => {}
    }
}

/// Writes to standard error; what cannot be written is dropped.
pub(crate) fn write_err(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Whether some output could not be written (other than to a reader that had gone).
pub(crate) fn failed() -> bool {
    FAILED.load(Ordering::Relaxed)
}

/// `print!` to standard output; a reader that has gone stops nothing.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::stdout::write(format_args!($($arg)*)) };
}

/// `println!` to standard output; a reader that has gone stops nothing.
macro_rules! outln {
    () => { $crate::cli::stdout::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::stdout::write(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!`; a reader that has gone stops nothing.
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::stdout::write_err(format_args!($($arg)*)) };
}

/// `eprintln!`; a reader that has gone stops nothing.
macro_rules! errln {
    () => { $crate::cli::stdout::write_err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::stdout::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}
