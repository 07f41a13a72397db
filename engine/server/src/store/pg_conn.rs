//! One PostgreSQL connection, used from the blocking threads the [`Store`](super::Store)
//! contract runs on: tokio-postgres's client, whose requests are pipelined (several statements
//! sent before the first answer comes back), with its socket driven on the caller's thread
//! while a call waits ([`pg_wire`](super::pg_wire): no runtime, no hop to another thread and
//! back for each statement).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, Config, Error, Statement};

use super::StoreError;
use super::pg_wire::{self, Waiting, Wire};

/// The connection's side: its socket, polled while a call waits.
type Driving = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// Runs requests to their ends, each sent as soon as the one before it (pipelined: they do not
/// wait for each other's answers): their results in order, or the first failure.
pub(super) async fn in_order<F, T>(mut requests: Vec<F>) -> Result<Vec<T>, Error>
where
    F: Future<Output = Result<T, Error>> + Unpin,
{
    let mut done: Vec<Option<T>> = requests.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut waiting = false;
        for (request, out) in requests.iter_mut().zip(done.iter_mut()) {
            if out.is_some() {
                continue;
            }
            match Pin::new(request).poll(cx) {
                Poll::Ready(Ok(v)) => *out = Some(v),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => waiting = true,
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(Ok(done.iter_mut().filter_map(Option::take).collect()))
        }
    })
    .await
}

/// Drives a connection while a call waits for its answers.
pub(super) struct Driver {
    waiting: Waiting,
    /// `None` once the connection has ended (the client's requests then fail as closed).
    connection: Option<Driving>,
}

impl Driver {
    /// Runs `future` (requests on this connection's client) to its end, reading and writing
    /// the socket meanwhile, on this thread.
    pub(super) fn run<F: Future>(&mut self, future: F) -> F::Output {
        pg_wire::drive(future, &mut self.connection, &self.waiting)
    }
}

/// Why a connection could not be made.
#[derive(Debug)]
pub(super) enum Connecting {
    /// No host could be reached (refused, unreachable, timed out).
    Socket(std::io::Error),
    /// The database refused, or the session is not of the kind `target_session_attrs` asks.
    Database(Error),
}

impl std::fmt::Display for Connecting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Connecting::Socket(e) => e.fmt(f),
            Connecting::Database(e) => e.fmt(f),
        }
    }
}

/// A pooled connection, with the statements commits and reads use prepared once on it.
pub(super) struct Conn {
    pub(super) driver: Driver,
    pub(super) client: Client,
    pub(super) statements: Option<Statements>,
}

/// The statements prepared on a connection the first time it is used.
#[derive(Clone)]
pub(super) struct Statements {
    pub(super) lock_keys: Statement,
    pub(super) expects: Statement,
    pub(super) upsert_many: Statement,
    pub(super) delete_one: Statement,
    pub(super) lock_one: Statement,
    pub(super) last_audit: Statement,
    pub(super) get: Statement,
    pub(super) last: Statement,
    pub(super) scan_from: Statement,
    pub(super) scan_after: Statement,
    pub(super) scan_from_open: Statement,
    pub(super) scan_after_open: Statement,
    pub(super) scan_all: Statement,
    pub(super) insert_pending: Statement,
    pub(super) take_sealed: Statement,
    pub(super) unsealed: Statement,
    pub(super) mark_sealed: Statement,
    pub(super) delete_pending: Statement,
    pub(super) try_lock: Statement,
}

impl Conn {
    /// Connects with `config` over `tls`: to its first host that answers and, when
    /// `target_session_attrs` asks for one, gives a session of that kind.
    pub(super) fn connect<T>(config: &Config, mut tls: T) -> Result<Conn, Connecting>
    where
        T: MakeTlsConnect<Wire> + Send + 'static,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<Wire>>::Future: Send,
    {
        pg_wire::connect_socket(
            config,
            |wire, host| {
                let waiting = wire.waiting().map_err(Connecting::Socket)?;
                let connect = tls
                    .make_tls_connect(host.unwrap_or(""))
                    .map_err(|e| Connecting::Socket(std::io::Error::other(e)))?;
                let (client, established) =
                    pg_wire::drive_alone(config.connect_raw(wire, connect), &waiting)
                        .map_err(Connecting::Database)?;
                let mut conn = Conn {
                    driver: Driver {
                        waiting,
                        connection: Some(Box::pin(established)),
                    },
                    client,
                    statements: None,
                };
                if config.get_target_session_attrs()
                    != tokio_postgres::config::TargetSessionAttrs::Any
                {
                    let rows = conn
                        .driver
                        .run(conn.client.simple_query("SHOW transaction_read_only"))
                        .map_err(Connecting::Database)?;
                    if !pg_wire::session_fits(config, &rows) {
                        return Err(Connecting::Socket(std::io::Error::new(
                            std::io::ErrorKind::PermissionDenied,
                            "the session is not of the kind `target_session_attrs` asks for",
                        )));
                    }
                }
                Ok(conn)
            },
            Connecting::Socket,
        )
    }

    /// Whether the connection has ended (the database went away, or it broke).
    pub(super) fn is_closed(&self) -> bool {
        self.driver.connection.is_none() || self.client.is_closed()
    }

    /// Closes the connection (it is then not pooled again).
    pub(super) fn close(&mut self) {
        self.driver.connection = None;
    }

    /// The prepared statements, prepared now (in one pipeline) the first time.
    pub(super) fn statements(&mut self, sql: &StatementsSql) -> Result<Statements, Error> {
        if let Some(s) = &self.statements {
            return Ok(s.clone());
        }
        let c = &self.client;
        let prepared = self.driver.run(async {
            tokio::try_join!(
                biased;
                c.prepare(sql.lock_keys),
                c.prepare(sql.expects),
                c.prepare(sql.upsert_many),
                c.prepare(sql.delete_one),
                c.prepare(sql.lock_one),
                c.prepare(sql.last_audit),
                c.prepare(sql.get),
                c.prepare(sql.last),
                c.prepare(&sql.scan_from),
                c.prepare(&sql.scan_after),
                c.prepare(&sql.scan_from_open),
                c.prepare(&sql.scan_after_open),
                c.prepare(sql.scan_all),
                c.prepare(sql.insert_pending),
                c.prepare(sql.take_sealed),
                c.prepare(sql.unsealed),
                c.prepare(sql.mark_sealed),
                c.prepare(sql.delete_pending),
                c.prepare(sql.try_lock),
            )
        })?;
        let s = Statements {
            lock_keys: prepared.0,
            expects: prepared.1,
            upsert_many: prepared.2,
            delete_one: prepared.3,
            lock_one: prepared.4,
            last_audit: prepared.5,
            get: prepared.6,
            last: prepared.7,
            scan_from: prepared.8,
            scan_after: prepared.9,
            scan_from_open: prepared.10,
            scan_after_open: prepared.11,
            scan_all: prepared.12,
            insert_pending: prepared.13,
            take_sealed: prepared.14,
            unsealed: prepared.15,
            mark_sealed: prepared.16,
            delete_pending: prepared.17,
            try_lock: prepared.18,
        };
        self.statements = Some(s.clone());
        Ok(s)
    }
}

/// The text of the statements a connection prepares.
pub(super) struct StatementsSql {
    pub(super) lock_keys: &'static str,
    pub(super) expects: &'static str,
    pub(super) upsert_many: &'static str,
    pub(super) delete_one: &'static str,
    pub(super) lock_one: &'static str,
    pub(super) last_audit: &'static str,
    pub(super) get: &'static str,
    pub(super) last: &'static str,
    pub(super) scan_from: String,
    pub(super) scan_after: String,
    pub(super) scan_from_open: String,
    pub(super) scan_after_open: String,
    pub(super) scan_all: &'static str,
    pub(super) insert_pending: &'static str,
    pub(super) take_sealed: &'static str,
    pub(super) unsealed: &'static str,
    pub(super) mark_sealed: &'static str,
    pub(super) delete_pending: &'static str,
    pub(super) try_lock: &'static str,
}

/// A database error: the database going away (its connection closed, an administrator's
/// shutdown, a connection failure, a statement timeout) or short of resources (its disk full,
/// out of memory, out of connections) is `Unavailable`, to retry: the transaction rolled back,
/// nothing was written. Anything else is a backend failure.
pub(super) fn pg(e: tokio_postgres::Error) -> StoreError {
    let gone = e.is_closed() || e.code().is_some_and(|c| passing(c.code()));
    // The database's own words (`db error` alone says nothing), never a value: PostgreSQL's
    // messages name objects and SQLSTATE, not the data.
    let text = match e.as_db_error() {
        Some(d) => format!("{} (SQLSTATE {})", d.message(), d.code().code()),
        None => e.to_string(),
    };
    if gone {
        StoreError::Unavailable(text)
    } else {
        StoreError::Backend(text)
    }
}

/// Whether a SQLSTATE says the failure may pass: classes 08 (connection exception), 53
/// (insufficient resources: disk full, out of memory, too many connections) and 57 (operator
/// intervention: shutdown, cancelled by a timeout).
pub(super) fn passing(sqlstate: &str) -> bool {
    ["08", "53", "57"]
        .iter()
        .any(|class| sqlstate.starts_with(class))
}

/// Columns of rows, for statements that take arrays.
#[derive(Default)]
pub(super) struct Columns<'a> {
    pub(super) trees: Vec<&'a str>,
    pub(super) keys: Vec<&'a [u8]>,
    pub(super) values: Vec<&'a [u8]>,
}

impl<'a> Columns<'a> {
    pub(super) fn push(&mut self, tree: &'a str, key: &'a [u8], value: Option<&'a [u8]>) {
        self.trees.push(tree);
        self.keys.push(key);
        if let Some(v) = value {
            self.values.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_or_a_lost_connection_may_pass_and_a_bad_statement_does_not() {
        use tokio_postgres::error::SqlState;
        for passes in [
            SqlState::DISK_FULL,
            SqlState::OUT_OF_MEMORY,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::CONNECTION_FAILURE,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::QUERY_CANCELED,
        ] {
            assert!(passing(passes.code()), "{}", passes.code());
        }
        for stays in [
            SqlState::UNDEFINED_TABLE,
            SqlState::UNIQUE_VIOLATION,
            SqlState::SYNTAX_ERROR,
            SqlState::DATA_CORRUPTED,
        ] {
            assert!(!passing(stays.code()), "{}", stays.code());
        }
    }
}
