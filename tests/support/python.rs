//! One Python virtual environment under `target/` with the tools the tests run, pinned in
//! `tests/python-tools.txt` and installed from PyPI on first use (`.ci/run` installs them first).

use std::path::PathBuf;
use std::process::Command;

/// The commands the tests run, from the packages pinned in `tests/python-tools.txt`.
const TOOLS: &[&str] = &["openapi-python-client", "st"];
/// The modules the tests import.
const MODULES: &str = "import krippendorff, pingouin, statsmodels";

/// Runs `cmd`; panics with its output when it fails; its output otherwise.
pub fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what}:\n{text}");
    text
}

/// The environment, made (or completed) once; tests running at once wait for each other.
pub fn venv() -> PathBuf {
    let venv = super::root().join("target/python-tools");
    let lock = super::root().join("target/python-tools.lock");
    let _ = std::fs::create_dir_all(super::root().join("target"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .unwrap();
    file.lock().unwrap();
    if !venv.join("bin/python").exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
    }
    let modules = || {
        Command::new(venv.join("bin/python"))
            .args(["-c", MODULES])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if TOOLS.iter().any(|bin| !venv.join("bin").join(bin).exists()) || !modules() {
        run(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "-r"])
                .arg(super::root().join("tests/python-tools.txt")),
            "pip install -r tests/python-tools.txt",
        );
    }
    file.unlock().unwrap();
    venv
}
