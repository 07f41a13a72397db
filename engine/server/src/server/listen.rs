//! Serving connections: hyper's HTTP/1.1 with a timer, so that a client that never finishes
//! its headers is dropped (the request timeout covers the body), a cap on connections, and a
//! graceful shutdown that lets requests in flight finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// How long a client has to send a request's headers (and, on a kept-alive connection, to
/// start the next request).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 4_096;

/// Addresses (single, or `address/prefix`) whose connections are proxies this server trusts
/// to say who their client is (`X-Forwarded-For`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<(std::net::IpAddr, u8)>);

impl TrustedProxies {
    /// Reads `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`.
    pub fn parse(items: &[String]) -> Result<Self, String> {
        let mut out = Vec::new();
        for item in items {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item.as_str(), None),
            };
            let ip: std::net::IpAddr = addr
                .trim()
                .parse()
                .map_err(|_| format!("`{item}` is not an address or address/prefix"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("`{item}`: the prefix is 0 to {max}"))?,
            };
            out.push((ip, bits));
        }
        Ok(Self(out))
    }

    fn trusts(&self, ip: std::net::IpAddr) -> bool {
        self.0.iter().any(|(net, bits)| match (net, ip) {
            (std::net::IpAddr::V4(n), std::net::IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                u32::from(*n) & mask == u32::from(a) & mask
            }
            (std::net::IpAddr::V6(n), std::net::IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                u128::from(*n) & mask == u128::from(a) & mask
            }
            _ => false,
        })
    }

    /// The client a request came from: the connection's peer, or, when the peer is a trusted
    /// proxy, the nearest address in `X-Forwarded-For` that is not one (a client cannot make
    /// itself look like someone else by sending the header: only what trusted proxies added
    /// is read, from the right).
    pub fn client(&self, peer: std::net::IpAddr, headers: &hyper::HeaderMap) -> std::net::IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in forwarded.iter().rev() {
            let Ok(ip) = hop.parse::<std::net::IpAddr>() else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// Whether a request may commit: a method that changes something, on a path that does more
/// than compute (scoring and validating change nothing, and run on their own threads).
pub fn may_commit(method: &hyper::Method, path: &str) -> bool {
    !matches!(
        *method,
        hyper::Method::GET | hyper::Method::HEAD | hyper::Method::OPTIONS
    ) && !matches!(path, "/v1/evaluate" | "/v1/validate" | "/playground")
}

/// A response, made wherever the request runs.
type Answer = std::pin::Pin<
    Box<dyn Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send>,
>;

/// Serves `router` on `listener` until `shutdown` resolves, then waits for the requests in
/// flight (at most 30 s). Requests that may commit run on `writes` (a runtime of their own)
/// when given: a commit waits on the calling thread until it is durable, and those waits then
/// never hold the threads that answer everything else (a health check, a page, a read).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    trusted: TrustedProxies,
    writes: Option<tokio::runtime::Handle>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let trusted = Arc::new(trusted);
    let graceful = GracefulShutdown::new();
    // Said when the server stops: a connection that has sent nothing yet is then closed, as
    // hyper closes an idle one, instead of holding the shutdown until its header timeout.
    let (stopping, stop_seen) = tokio::sync::watch::channel(false);
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // A failed accept (too many open files, a reset) does not stop the server.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            router: router.clone(),
            ip: peer.ip(),
            trusted: trusted.clone(),
            writes: writes.clone(),
            requests: tokio::runtime::Handle::current(),
        };
        let watcher = graceful.watcher();
        let mut stop_seen = stop_seen.clone();
        tokio::spawn(async move {
            // A connection whose first request may commit is served on the writes' runtime
            // (its reading, its answers and its commits on one thread, as a client submitting
            // in a loop uses it); any other on this one. Either way each request runs where
            // `may_commit` says: the other runtime's requests are handed over.
            let first = tokio::select! {
                first = first_request_commits(&stream) => first,
                _ = stop_seen.wait_for(|stopping| *stopping) => None,
            };
            let Some(commits) = first else {
                // Nothing sent within the header timeout, or before the server stopped:
                // dropped, as hyper drops a client that does not finish its headers.
                drop(permit);
                return;
            };
            match (&connection.writes, commits) {
                (Some(writes), true) => match stream.into_std() {
                    Ok(stream) => {
                        let writes = writes.clone();
                        writes.spawn(async move {
                            if let Ok(stream) = tokio::net::TcpStream::from_std(stream) {
                                connection.serve(stream, Home::Writes, watcher).await;
                            }
                            drop(permit);
                        });
                    }
                    Err(e) => tracing::debug!("a connection could not be handed over: {e}"),
                },
                _ => {
                    connection.serve(stream, Home::Requests, watcher).await;
                    drop(permit);
                }
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(30)) => {}
    }
    Ok(())
}

/// Which runtime serves a connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Home {
    /// The request runtime: its threads never wait for a flush.
    Requests,
    /// The writes' runtime.
    Writes,
}

/// What serving one connection needs.
struct Connection {
    router: Router,
    ip: std::net::IpAddr,
    trusted: Arc<TrustedProxies>,
    /// The writes' runtime, when requests that may commit run on one.
    writes: Option<tokio::runtime::Handle>,
    /// The runtime that answers the rest.
    requests: tokio::runtime::Handle,
}

impl Connection {
    /// Serves the connection's requests from `home` until it closes, or the server stops and
    /// its requests in flight are answered. A request that belongs on the other runtime
    /// (`may_commit`) runs there.
    async fn serve(
        self,
        stream: tokio::net::TcpStream,
        home: Home,
        graceful: hyper_util::server::graceful::Watcher,
    ) {
        let Self {
            router,
            ip,
            trusted,
            writes,
            requests,
        } = self;
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                let client = trusted.client(ip, req.headers());
                req.extensions_mut()
                    .insert(crate::server::auth::ClientAddr(client));
                let commits = may_commit(req.method(), req.uri().path());
                let answer = router.clone().oneshot(req);
                let elsewhere = match (&writes, home, commits) {
                    (Some(writes), Home::Requests, true) => Some(writes),
                    (Some(_), Home::Writes, false) => Some(&requests),
                    _ => None,
                };
                match elsewhere {
                    Some(runtime) => {
                        let running = runtime.spawn(answer);
                        Box::pin(async move {
                            Ok(match running.await {
                                Ok(Ok(response)) => response,
                                Ok(Err(never)) => match never {},
                                Err(e) => {
                                    tracing::error!("a request failed before its answer: {e}");
                                    crate::server::error::ApiError::Internal(
                                        "the request stopped before it was answered".to_owned(),
                                    )
                                    .into_response()
                                }
                            })
                        }) as Answer
                    }
                    None => Box::pin(answer) as Answer,
                }
            });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .keep_alive(true);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let _ = graceful.watch(connection).await;
    }
}

/// Whether the connection's first request may commit, from its request line as it arrives
/// (read without taking it from the socket); `None` when the client sends nothing within the
/// header timeout. A line not yet whole, or a failed read, counts as not: the connection is
/// then served where reads are, as every connection was before.
async fn first_request_commits(stream: &tokio::net::TcpStream) -> Option<bool> {
    let mut line = [0u8; 512];
    match tokio::time::timeout(HEADER_TIMEOUT, stream.peek(&mut line)).await {
        Err(_) => None,
        Ok(Ok(n)) => Some(request_line_commits(&line[..n])),
        Ok(Err(_)) => Some(false),
    }
}

/// Whether a request line's start (`POST /v1/... HTTP/1.1`) names a request that may commit;
/// false when the method or the path is not whole in `bytes`.
fn request_line_commits(bytes: &[u8]) -> bool {
    let mut parts = bytes.splitn(3, |b| *b == b' ');
    let (Some(method), Some(target), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(method) = hyper::Method::from_bytes(method) else {
        return false;
    };
    let path = target.split(|b| *b == b'?').next().unwrap_or_default();
    std::str::from_utf8(path).is_ok_and(|path| may_commit(&method, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `router` served on a free port of 127.0.0.1 from `requests`, with `writes` for the
    /// requests that may commit: its address, what stops it, and its task.
    fn started(
        requests: &tokio::runtime::Runtime,
        writes: &tokio::runtime::Runtime,
        router: Router,
    ) -> (
        std::net::SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        let listener = requests
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .unwrap_or_else(|e| panic!("{e}"));
        let at = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = requests.spawn(serve(
            listener,
            router,
            TrustedProxies::default(),
            Some(writes.handle().clone()),
            async move {
                let _ = stopped.await;
            },
        ));
        (at, stop, server)
    }

    /// Requests that may commit run on the writes' runtime: while every one of them waits on
    /// its thread (as a commit waits for its flush), with all the writes' threads taken, the
    /// one thread that answers the rest still answers a health check, and the writes finish
    /// once released. (Given no writes' runtime, the waiting write holds that thread and the
    /// health check is never answered.)
    #[test]
    fn waiting_commits_never_hold_the_threads_that_answer_the_rest() {
        use std::sync::{Condvar, Mutex};
        let requests = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let writes = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        // How many writes wait, and whether they may go on.
        let gate = Arc::new((Mutex::new((0usize, false)), Condvar::new()));
        let held = gate.clone();
        let router = Router::new()
            .route(
                "/w",
                axum::routing::post(move || {
                    let held = held.clone();
                    async move {
                        let (lock, wake) = &*held;
                        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
                        state.0 += 1;
                        wake.notify_all();
                        while !state.1 {
                            state = wake.wait(state).unwrap_or_else(|e| e.into_inner());
                        }
                        "written"
                    }
                }),
            )
            .route("/h", axum::routing::get(|| async { "ok" }));
        let (at, stop, server) = started(&requests, &writes, router);
        let base = format!("http://{at}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        std::thread::scope(|s| {
            let posts: Vec<_> = (0..2)
                .map(|_| {
                    let (agent, base) = (agent.clone(), base.clone());
                    s.spawn(move || {
                        let mut r = agent
                            .post(&format!("{base}/w"))
                            .send("")
                            .unwrap_or_else(|e| panic!("{e}"));
                        r.body_mut().read_to_string().unwrap_or_default()
                    })
                })
                .collect();
            // Both writes' threads are now taken by writes that wait (a thread that ran one
            // of them would not start the other).
            let (lock, wake) = &*gate;
            let state = lock.lock().unwrap_or_else(|e| e.into_inner());
            let (state, _) = wake
                .wait_timeout_while(state, Duration::from_secs(10), |s| s.0 < 2)
                .unwrap_or_else(|e| e.into_inner());
            drop(state);
            let health = agent
                .get(&format!("{base}/h"))
                .call()
                .map(|mut r| r.body_mut().read_to_string().unwrap_or_default());
            let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
            state.1 = true;
            wake.notify_all();
            drop(state);
            assert_eq!(
                health.as_deref().map_err(ToString::to_string),
                Ok("ok"),
                "the health check while writes wait"
            );
            for p in posts {
                assert_eq!(p.join().ok().as_deref(), Some("written"));
            }
        });
        let _ = stop.send(());
        assert!(requests.block_on(server).is_ok());
    }

    /// A connection is served where its first request runs, and every request on it still
    /// runs where `may_commit` says: on one kept-alive connection, a write then a read, and on
    /// another a read then a write, each answered by a thread of its own runtime.
    #[test]
    fn each_request_of_a_connection_runs_on_its_own_runtime_whichever_came_first() {
        use std::io::{Read as _, Write as _};
        let runtime = |name: &'static str| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name(name)
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let (requests, writes) = (runtime("reads"), runtime("writes"));
        let thread = || async { std::thread::current().name().unwrap_or_default().to_owned() };
        let router = Router::new()
            .route("/w", axum::routing::post(thread))
            .route("/h", axum::routing::get(thread));
        let (at, stop, server) = started(&requests, &writes, router);
        // One request on a kept-alive connection, and the body of its answer.
        let ask = |conn: &mut std::net::TcpStream, method: &str, path: &str| -> String {
            let request =
                format!("{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
            conn.write_all(request.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            loop {
                let n = conn.read(&mut buf).unwrap_or_else(|e| panic!("{e}"));
                assert!(n > 0, "the connection closed before the answer");
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_owned)
                        })
                        .and_then(|l| l.trim().parse::<usize>().ok())
                        .unwrap_or(usize::MAX);
                    if body.len() >= length {
                        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                        return body.to_owned();
                    }
                }
            }
        };
        let connect = || {
            let c = std::net::TcpStream::connect(at).unwrap_or_else(|e| panic!("{e}"));
            c.set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap_or_else(|e| panic!("{e}"));
            c
        };
        let mut write_first = connect();
        assert_eq!(ask(&mut write_first, "POST", "/w"), "writes");
        assert_eq!(ask(&mut write_first, "GET", "/h"), "reads");
        assert_eq!(ask(&mut write_first, "POST", "/w"), "writes");
        let mut read_first = connect();
        assert_eq!(ask(&mut read_first, "GET", "/h?x=1"), "reads");
        assert_eq!(ask(&mut read_first, "POST", "/w"), "writes");
        assert_eq!(ask(&mut read_first, "GET", "/h"), "reads");
        let _ = stop.send(());
        drop((write_first, read_first));
        assert!(requests.block_on(server).is_ok());
    }

    /// A connection that has sent nothing when the server stops is closed then, as hyper
    /// closes an idle one, not kept until its header timeout: the server's task ends, and the
    /// client reads the end of the connection well before that timeout.
    #[test]
    fn a_silent_connection_does_not_hold_the_shutdown() {
        use std::io::Read as _;
        let runtime = || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let (requests, writes) = (runtime(), runtime());
        let router = Router::new().route("/h", axum::routing::get(|| async { "ok" }));
        let (at, stop, server) = started(&requests, &writes, router);
        let mut silent = std::net::TcpStream::connect(at).unwrap_or_else(|e| panic!("{e}"));
        silent
            .set_read_timeout(Some(HEADER_TIMEOUT / 2))
            .unwrap_or_else(|e| panic!("{e}"));
        // The connection is accepted (its first request awaited) before the server stops.
        std::thread::sleep(Duration::from_millis(200));
        let _ = stop.send(());
        let mut buf = [0u8; 16];
        assert_eq!(
            silent.read(&mut buf).map_err(|e| e.kind()),
            Ok(0),
            "the server closes the silent connection as it stops"
        );
        assert!(requests.block_on(server).is_ok());
    }

    #[test]
    fn a_request_line_says_whether_it_may_commit_once_it_is_whole() {
        for (line, commits) in [
            (
                "POST /v1/awards/seoul/applications HTTP/1.1\r\nHost: x",
                true,
            ),
            ("DELETE /v1/keys/k1 HTTP/1.1\r\n", true),
            ("PUT /v1/awards/a?dry=1 HTTP/1.1\r\n", true),
            ("POST /v1/evaluate?trace=false HTTP/1.1\r\n", false),
            ("POST /v1/validate HTTP/1.1\r\n", false),
            ("GET /v1/health HTTP/1.1\r\n", false),
            // Not whole yet: where reads are served, as before.
            ("POST /v1/awards/seoul/appli", false),
            ("PO", false),
            ("", false),
            ("\u{1}\u{2} nonsense here", false),
        ] {
            assert_eq!(request_line_commits(line.as_bytes()), commits, "{line:?}");
        }
    }

    #[test]
    fn only_what_trusted_proxies_add_is_believed() {
        let trusted =
            TrustedProxies::parse(&["10.0.0.0/8".to_owned(), "::1".to_owned()]).unwrap_or_default();
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            hyper::header::HeaderValue::from_static("6.6.6.6, 203.0.113.7, 10.1.1.1"),
        );
        let peer: std::net::IpAddr = "10.9.9.9"
            .parse()
            .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        // The proxy at 10.1.1.1 saw 203.0.113.7; what the client itself wrote (6.6.6.6) is not read.
        assert_eq!(trusted.client(peer, &headers).to_string(), "203.0.113.7");
        // A peer that is no trusted proxy is the client, whatever it sends.
        let stranger: std::net::IpAddr = "198.51.100.1".parse().unwrap_or(peer);
        assert_eq!(trusted.client(stranger, &headers), stranger);
        assert!(TrustedProxies::parse(&["10.0.0.0/33".to_owned()]).is_err());
    }
}
