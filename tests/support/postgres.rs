//! A throwaway PostgreSQL cluster for tests: initialised in a temporary folder, listening on a
//! free port on 127.0.0.1 only, stopped and removed when dropped. Uses the machine's
//! PostgreSQL binaries (`.ci/run` installs them on a fresh machine); as root, it runs them as
//! the `postgres` user, as PostgreSQL requires.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    databases: AtomicUsize,
    options: String,
}

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("LAUREL_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .filter(|p| p.join("initdb").is_file())
        .expect("PostgreSQL's binaries (apt-get install postgresql-15), or LAUREL_PG_BIN")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL program, as `postgres` when we are root.
fn run(bin: &Path, program: &str, args: &[&str]) {
    let exe = bin.join(program);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Cluster {
    /// A cluster for tests: `fsync` off (tests kill `laurel`, not the database).
    pub fn start() -> Cluster {
        Self::start_with(false)
    }

    /// A cluster with `fsync` on or off (on for benchmarks of durable writes).
    pub fn start_with(fsync: bool) -> Cluster {
        Self::start_full(fsync, false)
    }

    /// A cluster that offers TLS with a certificate for 127.0.0.1 signed by a throwaway CA,
    /// whose certificate is [`Cluster::ca_file`].
    pub fn start_tls() -> Cluster {
        Self::start_full(false, true)
    }

    /// The throwaway CA's certificate (PEM), with [`Cluster::start_tls`].
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn start_full(fsync: bool, tls: bool) -> Cluster {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("pg");
        std::fs::create_dir_all(&data).unwrap();
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let data_s = data.to_str().unwrap();
        run(
            &bin,
            "initdb",
            &[
                "-D",
                data_s,
                "-A",
                "trust",
                "-U",
                "laurel",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let mut ssl = String::new();
        if tls {
            let d = dir.path();
            let openssl = |args: &[&str]| {
                let out = Command::new("openssl")
                    .args(args)
                    .current_dir(d)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "openssl {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=laurel test CA",
            ]);
            openssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ]);
            std::fs::write(d.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
            openssl(&[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "san.ext",
            ]);
            for f in ["server.key", "server.pem"] {
                std::fs::copy(d.join(f), data.join(f)).unwrap();
            }
            if is_root() {
                let status = Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(data.join("server.key"))
                    .arg(data.join("server.pem"))
                    .status()
                    .unwrap();
                assert!(status.success());
            }
            let status = Command::new("chmod")
                .args(["600"])
                .arg(data.join("server.key"))
                .status()
                .unwrap();
            assert!(status.success());
            ssl = " -c ssl=on -c ssl_cert_file=server.pem -c ssl_key_file=server.key".to_owned();
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200 -c fsync={}",
            dir.path().display(),
            if fsync { "on" } else { "off" }
        ) + ssl.as_str();
        run(
            &bin,
            "pg_ctl",
            &[
                "-D",
                data_s,
                "-o",
                &options,
                "-l",
                &format!("{data_s}/log"),
                "-w",
                "start",
            ],
        );
        Cluster {
            dir,
            bin,
            port,
            databases: AtomicUsize::new(0),
            options,
        }
    }

    /// Stops the database server (fast: connections are cut), keeping its data.
    pub fn stop(&self) {
        let data = self.dir.path().join("pg");
        run(
            &self.bin,
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    /// Starts it again after [`Cluster::stop`].
    pub fn resume(&self) {
        let data = self.dir.path().join("pg");
        let data_s = data.to_str().unwrap();
        let log = format!("{data_s}/log");
        run(
            &self.bin,
            "pg_ctl",
            &["-D", data_s, "-o", &self.options, "-l", &log, "-w", "start"],
        );
    }

    /// A new, empty database's URL.
    pub fn database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::SeqCst);
        let name = format!("laurel_{n}");
        let admin = format!("postgres://laurel@127.0.0.1:{}/postgres", self.port);
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        format!("postgres://laurel@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("pg");
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let _ = cmd
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}
