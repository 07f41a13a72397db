//! Plugin modules compiled in a child process of `laurel` itself, which the parent kills at the
//! compile deadline and which cannot hold more than the compile memory limit: compiling a
//! hostile module can cost neither the server's memory nor more than its time.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use laurel::{COMPILE_MEMORY_BYTES, CompileError, Limits, ModuleCompiler};

/// The hidden subcommand the child runs.
pub const SUBCOMMAND: &str = "__compile-module";

/// Compiles in a child process of this program.
#[derive(Debug)]
pub struct ChildCompiler {
    program: std::path::PathBuf,
}

impl ChildCompiler {
    /// A compiler running this program's own executable, if it can be found.
    pub fn new() -> Option<Self> {
        std::env::current_exe().ok().map(|program| Self { program })
    }
}

impl ModuleCompiler for ChildCompiler {
    fn compile(&self, wasm: &[u8], limits: &Limits) -> Result<Vec<u8>, CompileError> {
        let failed = |e: std::io::Error| CompileError::Failed(format!("cannot compile: {e}"));
        let mut child = Command::new(&self.program)
            .arg(SUBCOMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(failed)?;
        let mut stdin = child.stdin.take();
        let input = wasm.to_vec();
        let writer = std::thread::spawn(move || {
            if let Some(stdin) = stdin.as_mut() {
                let _ = stdin.write_all(&input);
            }
        });
        let mut stdout = child.stdout.take();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(stdout) = stdout.as_mut() {
                let _ = stdout.read_to_end(&mut out);
            }
            out
        });
        let mut stderr = child.stderr.take();
        let errors = std::thread::spawn(move || {
            let mut out = String::new();
            if let Some(stderr) = stderr.as_mut() {
                let _ = stderr.take(64 << 10).read_to_string(&mut out);
            }
            out
        });
        let deadline = Instant::now() + limits.compile_time;
        let status = loop {
            if let Some(status) = child.try_wait().map_err(failed)? {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let _ = writer.join();
        let artefact = reader.join().unwrap_or_default();
        let message = errors.join().unwrap_or_default();
        match status {
            None => Err(CompileError::Time(limits.compile_time.as_millis())),
            Some(s) if s.success() => Ok(artefact),
            // A child that ran out of its memory limit aborts (allocation failure).
            Some(_) if message.contains("memory allocation") || message.is_empty() => {
                Err(CompileError::Memory(COMPILE_MEMORY_BYTES))
            }
            Some(_) => Err(CompileError::Failed(message.trim().to_owned())),
        }
    }
}

/// The child: reads a module on standard input, compiles it under the memory limit, writes the
/// compiled artefact on standard output.
pub fn run() -> anyhow::Result<std::process::ExitCode> {
    limit_memory();
    let mut wasm = Vec::new();
    std::io::stdin().read_to_end(&mut wasm)?;
    match laurel::compile_module_here(&wasm) {
        Ok(artefact) => {
            std::io::stdout().write_all(&artefact)?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(message) => {
            errln!("{message}");
            Ok(std::process::ExitCode::from(1))
        }
    }
}

/// Limits this process's address space to what it has now plus the compile memory limit.
fn limit_memory() {
    let now = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmSize:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024;
    let cap = now + COMPILE_MEMORY_BYTES;
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::As,
        rustix::process::Rlimit {
            current: Some(cap),
            maximum: Some(cap),
        },
    );
}
