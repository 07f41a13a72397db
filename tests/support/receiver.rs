//! A webhook receiver on 127.0.0.1: records every request it gets (headers and body) and
//! answers 500 to the first `fail_first` of them, then 200.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
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
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = Arc::new(AtomicUsize::new(0));
        let record = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let status = if n < fail_first { 500 } else { 200 };
                if let Some(r) = serve(stream, status) {
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

fn serve(mut stream: TcpStream, status: u16) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
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
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    let reason = if status == 200 {
        "OK"
    } else {
        "Internal Server Error"
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    Some(Received {
        headers,
        body: String::from_utf8(body).ok()?,
        status,
    })
}
