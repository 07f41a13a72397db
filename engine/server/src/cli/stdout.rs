//! Standard output for every command: [`out!`] and [`outln!`] in place of `print!` and
//! `println!`, which panic when the reader has gone (`laurel … | head`). A reader that has gone
//! stops nothing: what it would have read is dropped and the command's work goes on. Any other
//! failure to write (a full disk) is said on standard error, and the command then exits 2 (an
//! I/O error) rather than 0.

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
                eprintln!("laurel: cannot write to standard output: {e}");
            }
        }
        Ok(()) => {}
    }
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
