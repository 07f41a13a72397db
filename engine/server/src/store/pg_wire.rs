//! A PostgreSQL connection's socket, driven by the thread that waits for its answers: no async
//! runtime, so a call blocks its thread as any synchronous client does, wherever it is made
//! (a writes' thread of the server's async runtime included, which a runtime of the
//! connection's own could not be entered from), and the socket's readiness is waited for with
//! `poll(2)` on that thread: no other thread is woken to read the answer and wake the caller.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::{Host, LoadBalanceHosts, TargetSessionAttrs};
use tokio_postgres::{Config, SimpleQueryMessage};

/// A connected socket, non-blocking, read and written as tokio-postgres asks.
#[derive(Debug)]
pub(super) struct Wire {
    socket: Socket,
    /// Set when a write found the socket's buffer full: the driver then waits until it can
    /// write, too.
    blocked_write: Arc<AtomicBool>,
    /// Cleared when a read finds nothing, set again when `poll(2)` says the socket has more:
    /// a read in between answers "not yet" without asking the kernel (tokio-postgres reads
    /// each time it is polled, and is polled several times a statement).
    readable: Arc<AtomicBool>,
}

#[derive(Debug)]
enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Socket {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Socket::Tcp(s) => s.as_fd(),
            Socket::Unix(s) => s.as_fd(),
        }
    }

    fn stream(&mut self) -> &mut dyn ReadWrite {
        match self {
            Socket::Tcp(s) => s,
            Socket::Unix(s) => s,
        }
    }
}

/// Either kind of socket, read and written alike.
trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// What the driver needs of a [`Wire`] once tokio-postgres owns it: the socket to wait on
/// (a duplicate of its descriptor, closed with the connection's), and whether a write waits.
pub(super) struct Waiting {
    fd: std::os::fd::OwnedFd,
    blocked_write: Arc<AtomicBool>,
    readable: Arc<AtomicBool>,
}

impl Wire {
    /// The handle the driver waits on.
    pub(super) fn waiting(&self) -> io::Result<Waiting> {
        Ok(Waiting {
            fd: self.socket.fd().try_clone_to_owned()?,
            blocked_write: self.blocked_write.clone(),
            readable: self.readable.clone(),
        })
    }

    fn io<T>(
        &mut self,
        mut op: impl FnMut(&mut Socket) -> io::Result<T>,
        write: bool,
    ) -> Poll<io::Result<T>> {
        loop {
            match op(&mut self.socket) {
                Ok(v) => {
                    if write {
                        self.blocked_write.store(false, Ordering::Relaxed);
                    }
                    return Poll::Ready(Ok(v));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The driver polls again once the socket is ready: no waker to register.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if write {
                        self.blocked_write.store(true, Ordering::Relaxed);
                    } else {
                        self.readable.store(false, Ordering::Relaxed);
                    }
                    return Poll::Pending;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.readable.load(Ordering::Relaxed) {
            return Poll::Pending;
        }
        let n = std::task::ready!(this.io(|s| s.stream().read(buf.initialize_unfilled()), false,))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().io(|s| s.stream().write(data), true)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().io(|s| s.stream().write_vectored(data), true)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = match &self.socket {
            Socket::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Socket::Unix(s) => s.shutdown(std::net::Shutdown::Write),
        };
        Poll::Ready(r.or_else(|e| {
            if e.kind() == io::ErrorKind::NotConnected {
                Ok(())
            } else {
                Err(e)
            }
        }))
    }
}

/// Set by any waker of a call: something made progress, poll again before waiting.
#[derive(Default)]
struct Woken(AtomicBool);

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Runs `future` (requests on the connection's client, which wait only on this connection)
/// to its end on this thread, polling `connection` (the socket's side) meanwhile; between
/// polls that made no progress, waits for the socket with `poll(2)`. `connection` becomes
/// `None` once it has ended (closed or broken), which fails the client's requests.
pub(super) fn drive<F, C>(
    future: F,
    connection: &mut Option<Pin<Box<C>>>,
    waiting: &Waiting,
) -> F::Output
where
    F: Future,
    C: Future + ?Sized,
{
    run(future, Some(connection), waiting)
}

/// [`drive`] for a future that reads and writes the socket itself (the connection's start,
/// before there is a connection's side to poll).
pub(super) fn drive_alone<F: Future>(future: F, waiting: &Waiting) -> F::Output {
    run(
        future,
        None::<&mut Option<Pin<Box<std::future::Pending<()>>>>>,
        waiting,
    )
}

fn run<F, C>(
    future: F,
    mut connection: Option<&mut Option<Pin<Box<C>>>>,
    waiting: &Waiting,
) -> F::Output
where
    F: Future,
    C: Future + ?Sized,
{
    let woken = Arc::new(Woken::default());
    let waker = Waker::from(woken.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        woken.0.store(false, Ordering::Release);
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        if let Some(slot) = connection.as_deref_mut() {
            let Some(c) = slot.as_mut() else {
                // Ended: its requests fail as closed at their next poll.
                std::thread::yield_now();
                continue;
            };
            if c.as_mut().poll(&mut cx).is_ready() {
                *slot = None;
                continue;
            }
        }
        if woken.0.load(Ordering::Acquire) {
            continue;
        }
        let mut flags = rustix::event::PollFlags::IN;
        if waiting.blocked_write.load(Ordering::Relaxed) {
            flags |= rustix::event::PollFlags::OUT;
        }
        let mut fds = [rustix::event::PollFd::new(&waiting.fd, flags)];
        // Ready (readable, writable, closed or failed), or interrupted: poll again, reading
        // what may have come.
        let _ = rustix::event::poll(&mut fds, None);
        waiting.readable.store(true, Ordering::Relaxed);
    }
}

/// A connection to the first host of `config` that answers, tried in the order libpq and
/// tokio-postgres use (`host`, `hostaddr`, `port`, `connect_timeout`, `keepalives*`,
/// `tcp_user_timeout`, `load_balance_hosts`): `attempt` makes the rest of the connection on
/// each host's socket, given the host's name for its TLS (and checks `target_session_attrs`
/// with [`session_fits`]); a host it fails on is passed over. Returns the last failure when
/// none answers.
pub(super) fn connect_socket<T, E>(
    config: &Config,
    mut attempt: impl FnMut(Wire, Option<&str>) -> Result<T, E>,
    failed: impl Fn(io::Error) -> E,
) -> Result<T, E> {
    let hosts = config.get_hosts();
    let addrs = config.get_hostaddrs();
    let n = hosts.len().max(addrs.len());
    if n == 0 {
        return Err(failed(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the URL names no host",
        )));
    }
    let ports = config.get_ports();
    let mut order: Vec<usize> = (0..n).collect();
    if config.get_load_balance_hosts() == LoadBalanceHosts::Random {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as usize);
        order.rotate_left(nanos % n);
    }
    let mut last = None;
    for i in order {
        let port = ports
            .get(i)
            .or_else(|| ports.first())
            .copied()
            .unwrap_or(5432);
        let name = match hosts.get(i) {
            Some(Host::Tcp(h)) => Some(h.as_str()),
            _ => None,
        };
        let socket = match (addrs.get(i), hosts.get(i)) {
            (Some(ip), _) => tcp(config, (*ip, port)),
            (None, Some(Host::Tcp(h))) => tcp(config, (h.as_str(), port)),
            (None, Some(Host::Unix(dir))) => {
                UnixStream::connect(dir.join(format!(".s.PGSQL.{port}"))).map(Socket::Unix)
            }
            (None, None) => continue,
        };
        let wire = socket.and_then(|socket| {
            match &socket {
                Socket::Tcp(s) => s.set_nonblocking(true)?,
                Socket::Unix(s) => s.set_nonblocking(true)?,
            }
            Ok(Wire {
                socket,
                blocked_write: Arc::default(),
                readable: Arc::new(AtomicBool::new(true)),
            })
        });
        match wire {
            Ok(wire) => match attempt(wire, name) {
                Ok(done) => return Ok(done),
                Err(e) => last = Some(e),
            },
            Err(e) => last = Some(failed(e)),
        }
    }
    Err(last.unwrap_or_else(|| failed(io::Error::other("no host to connect to"))))
}

fn tcp(config: &Config, to: impl ToSocketAddrs) -> io::Result<Socket> {
    let mut last = None;
    for addr in to.to_socket_addrs()? {
        let s = match config.get_connect_timeout() {
            Some(t) => TcpStream::connect_timeout(&addr, *t),
            None => TcpStream::connect(addr),
        };
        match s {
            Ok(s) => {
                s.set_nodelay(true)?;
                tune(config, &s)?;
                return Ok(Socket::Tcp(s));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")))
}

/// `keepalives*` and `tcp_user_timeout`, as tokio-postgres sets them.
fn tune(config: &Config, s: &TcpStream) -> io::Result<()> {
    use rustix::net::sockopt;
    if let Some(t) = config.get_tcp_user_timeout() {
        sockopt::set_tcp_user_timeout(s, u32::try_from(t.as_millis()).unwrap_or(u32::MAX))?;
    }
    if config.get_keepalives() {
        sockopt::set_socket_keepalive(s, true)?;
        sockopt::set_tcp_keepidle(s, config.get_keepalives_idle().max(Duration::from_secs(1)))?;
        if let Some(i) = config.get_keepalives_interval() {
            sockopt::set_tcp_keepintvl(s, i.max(Duration::from_secs(1)))?;
        }
        if let Some(r) = config.get_keepalives_retries() {
            sockopt::set_tcp_keepcnt(s, r)?;
        }
    }
    Ok(())
}

/// Whether a session's `transaction_read_only` (from `SHOW transaction_read_only`) is what
/// `target_session_attrs` asks for.
pub(super) fn session_fits(config: &Config, rows: &[SimpleQueryMessage]) -> bool {
    let read_only = rows.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(r) => r.get(0),
        _ => None,
    });
    match config.get_target_session_attrs() {
        TargetSessionAttrs::ReadWrite => read_only != Some("on"),
        TargetSessionAttrs::ReadOnly => read_only != Some("off"),
        _ => true,
    }
}
