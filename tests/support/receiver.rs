//! A webhook receiver on 127.0.0.1: records every request it gets (headers and body) and
//! answers 500 to the first `fail_first` of them, then 200; over plain HTTP, or over TLS with a
//! certificate for 127.0.0.1 issued by a test certificate authority (made with `openssl`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// What the receiver answered.
    pub status: u16,
}

pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Listens on a free port.
    pub fn start(fail_first: usize) -> Receiver {
        Self::on(TcpListener::bind("127.0.0.1:0").unwrap(), fail_first)
    }

    /// Listens on `listener`.
    pub fn on(listener: TcpListener, fail_first: usize) -> Receiver {
        Self::serving(listener, fail_first, None)
    }

    /// Listens over TLS on a free port with a certificate for 127.0.0.1 issued by `ca`.
    #[allow(dead_code)]
    pub fn https(ca: &TestCa, fail_first: usize) -> Receiver {
        Self::serving(
            TcpListener::bind("127.0.0.1:0").unwrap(),
            fail_first,
            Some(ca.server_config()),
        )
    }

    fn serving(
        listener: TcpListener,
        fail_first: usize,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Receiver {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}/hooks", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = Arc::new(AtomicUsize::new(0));
        let record = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let status = if n < fail_first { 500 } else { 200 };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let got = match &tls {
                    None => serve(stream, status),
                    Some(config) => {
                        let Ok(connection) = rustls::ServerConnection::new(config.clone()) else {
                            continue;
                        };
                        serve(rustls::StreamOwned::new(connection, stream), status)
                    }
                };
                if let Some(r) = got {
                    record.lock().unwrap().push(r);
                }
            }
        });
        Receiver { url, got }
    }

    /// Waits until `done` holds of what was received (at most `limit`).
    pub fn wait_for(&self, limit: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.got.lock().unwrap().clone();
            if done(&got) || start.elapsed() > limit {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn serve(mut stream: impl Read + Write, status: u16) -> Option<Received> {
    let mut reader = BufReader::new(&mut stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_lowercase(), v.trim().to_owned());
    }
    // A request without a body (a GET) has none to read.
    let length: usize = match headers.get("content-length") {
        Some(l) => l.parse().ok()?,
        None => 0,
    };
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    drop(reader);
    let reason = if status == 200 {
        "OK"
    } else {
        "Internal Server Error"
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    let _ = stream.flush();
    Some(Received {
        headers,
        body: String::from_utf8(body).ok()?,
        status,
    })
}

/// A certificate authority made for a test (in `dir`), and a certificate it issued for
/// 127.0.0.1: what an organisation's own CA is to an installation.
#[allow(dead_code)]
pub struct TestCa {
    /// The authority's certificate (PEM), what `LAUREL_CA_FILE` names.
    pub ca_file: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
}

#[allow(dead_code)]
impl TestCa {
    pub fn new(dir: &Path, name: &str) -> TestCa {
        let at = |f: &str| dir.join(format!("{name}-{f}"));
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .output()
                .expect("openssl is installed");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let s = |p: &PathBuf| p.to_str().unwrap().to_owned();
        let (ca_key, ca_file) = (at("ca.key"), at("ca.pem"));
        let (key, csr, cert, ext) = (
            at("server.key"),
            at("server.csr"),
            at("server.pem"),
            at("ext"),
        );
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &s(&ca_key),
            "-out",
            &s(&ca_file),
            "-days",
            "2",
            "-subj",
            &format!("/CN=Laurel test CA {name}"),
        ]);
        run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &s(&key),
            "-out",
            &s(&csr),
            "-subj",
            "/CN=127.0.0.1",
        ]);
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            &s(&csr),
            "-CA",
            &s(&ca_file),
            "-CAkey",
            &s(&ca_key),
            "-CAcreateserial",
            "-out",
            &s(&cert),
            "-days",
            "2",
            "-extfile",
            &s(&ext),
        ]);
        TestCa {
            ca_file,
            server_cert: cert,
            server_key: key,
        }
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.server_cert)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_file(&self.server_key).unwrap();
        Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
        )
    }
}
