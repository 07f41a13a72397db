//! The PostgreSQL store: the same contract as sled's, for several `laurel` processes on one
//! database.
//!
//! One table holds every tree (`laurel_kv`: tree, key, value; keys compare as bytes, as in
//! sled). A commit is one transaction that first takes a transaction-scoped advisory lock for
//! every key it reads or writes (in ascending order, in one statement; shared for a key it only
//! reads), so that commits sharing a key one of them writes take turns while others run side by
//! side; it checks the batch's expectations and applies its writes. Its audit record is then
//! chained as `pg_seal` says: when nobody holds the chain's lock, the commit takes it and
//! seals, in its own transaction, the entries waiting and its own (one flush for both);
//! otherwise it commits its data with its entry waiting, durable before it answers
//! (`synchronous_commit` on) and without waiting for the chain, and one of the process's
//! commits waiting then takes the chain's lock and seals every entry waiting, for all of them:
//! commits of different awards never wait for each other's flush, and each key's writes still
//! follow the chain's order. Every commit holds a gate lock
//! shared; a commit of more keys than it is sensible to lock one by one (the database's lock
//! table holds a few thousand: an award imported whole) takes the gate alone instead. A process killed mid-commit leaves
//! nothing behind: the transaction rolls back and the locks go with it; one killed between
//! its data's commit and its seal leaves its entry waiting, for the next commit (or the next
//! process to start) to seal.
//!
//! A commit the chain does not hold back takes three round trips to the database, its
//! statements pipelined: `BEGIN`, the keys' locks, the expected values and the values the
//! derived indexes will read; then the writes, the chain's lock if it is free, its last record
//! and the entries waiting; then the records and `COMMIT`. One held back sends, in its third
//! round trip, its entry and `COMMIT`.
//!
//! Connections come from a small pool; each sets a statement timeout, prepares its statements
//! once, and a connection that broke is dropped and replaced on the next call (a restarted
//! database is reconnected to). Calls block the thread they run on (the store's contract is
//! synchronous): made on a tokio worker, they are moved off it.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio_postgres::NoTls;

use super::pg_chain::{MINE, begin_sealing, pending_rows, seal_group, seal_waiting};
use super::pg_conn::{Columns, Conn, Connecting, Statements, StatementsSql, in_order, pg};
use super::pg_seal::{
    COMMIT_LOCK, DELETE_PENDING, Group, INSERT_PENDING, MARK_SEALED, MOST_AT_ONCE, PENDING_TABLE,
    Pending, SWEEP, TAKE_SEALED, UNSEALED, seal,
};
use super::pg_tls::{tls, untrusted_certificate, unverified_tls, verify_mode};
use super::{
    AuditEntry, AuditRecord, Batch, Entries, Store, StoreError, Tree, TreeEntries, escape_key, json,
};

/// Writes a value, over any there was.
const UPSERT: &str = "INSERT INTO laurel_kv (tree, key, value) VALUES ($1, $2, $3)
     ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value";

/// The lock every commit holds shared, and a commit of very many keys alone: the database's
/// lock table holds a few thousand locks, so such a commit runs by itself instead of locking
/// each key. The least `bigint`, so that it sorts (and is taken) before any key's.
const GATE_LOCK: i64 = i64::MIN;

/// The most keys a commit locks one by one; a commit of more takes [`GATE_LOCK`] alone.
const MOST_KEY_LOCKS: usize = 512;

/// Takes the advisory locks of a commit's keys in ascending order (the gate, the least,
/// first): exclusive for a key the commit writes, shared for one it only reads (`$2`), so that
/// commits that read the same record (a round, an award) without writing it run side by side
/// and still wait for one that writes it.
const LOCK_KEYS: &str = "SELECT count(CASE WHEN x
         THEN pg_advisory_xact_lock(k) ELSE pg_advisory_xact_lock_shared(k) END)
     FROM (SELECT k, bool_or(x) AS x FROM unnest($1::int8[], $2::bool[]) AS u(k, x)
           GROUP BY k ORDER BY k) AS l";

/// The values of keys, in the order asked (`NULL`: absent). Each is looked up through the
/// primary key whatever the table's statistics: a join here is planned once per connection,
/// on a table that may then be nearly empty, as a hash join over a scan of the whole table,
/// and kept so as it grows (each commit reading every row).
const EXPECTS: &str =
    "SELECT (SELECT v.value FROM laurel_kv v WHERE v.tree = e.tree AND v.key = e.key)
     FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS e(tree, key, i) ORDER BY e.i";

/// Writes values, over any there were (each key once).
const UPSERT_MANY: &str = "INSERT INTO laurel_kv (tree, key, value)
     SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[])
     ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value";

/// Removes a key (a commit's removals are pipelined, one statement each: a statement over an
/// array of keys is planned as a scan of the whole table, as [`EXPECTS`] says).
const DELETE_ONE: &str = "DELETE FROM laurel_kv WHERE tree = $1 AND key = $2";

/// The audit chain's last record (`NULL`s when there is none) and the audit index's start
/// (`$1`, see `audit_index`), in one read.
const LAST_AUDIT: &str = "SELECT a.key, a.value,
         (SELECT value FROM laurel_kv WHERE tree = 'meta' AND key = $1)
     FROM (SELECT 1) AS one LEFT JOIN LATERAL
         (SELECT key, value FROM laurel_kv WHERE tree = 'audit' ORDER BY key DESC LIMIT 1) AS a
     ON true";

/// A page of a tree from a key (`>=`) or after one (`>`), below an end or to the tree's end.
fn scan_sql(from: &str, bounded: bool) -> String {
    let (end, limit) = if bounded {
        (" AND key < $3", "$4")
    } else {
        ("", "$3")
    };
    format!(
        "SELECT key, value FROM laurel_kv WHERE tree = $1 AND key {from} $2{end} ORDER BY key LIMIT {limit}"
    )
}

/// One value.
const GET: &str = "SELECT value FROM laurel_kv WHERE tree = $1 AND key = $2";

/// The schema's migrations, in order; each is applied once, in a transaction, and recorded.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "one table for every tree, keys compared as bytes",
        "CREATE TABLE IF NOT EXISTS laurel_kv (
         tree text NOT NULL,
         key bytea NOT NULL,
         value bytea NOT NULL,
         PRIMARY KEY (tree, key)
     )",
    ),
    (
        2,
        "audit entries committed with their data, chained in groups",
        PENDING_TABLE,
    ),
];

/// Requests per credential and minute, counted by every process (rate limits): not data, so
/// not a migration; unlogged (a crash of the database forgets a minute's counts), and made
/// when a process first counts.
const BUDGETS_TABLE: &str = "CREATE UNLOGGED TABLE IF NOT EXISTS laurel_budgets (
     who bytea NOT NULL,
     time_window bigint NOT NULL,
     used bigint NOT NULL,
     PRIMARY KEY (who, time_window)
 )";

/// Failed attempts (at signing in, at guessing keys or links) per client, shared by the
/// processes: lost in a crash, like the counts above, which only costs an attacker's
/// counts.
const FAILURES_TABLE: &str = "CREATE UNLOGGED TABLE IF NOT EXISTS laurel_failures (
     who text PRIMARY KEY,
     failures integer NOT NULL,
     last_ms bigint NOT NULL,
     blocked_until_ms bigint NOT NULL
 )";

/// Counts a failure, forgetting the count first when its last failure is `$3` old: the count
/// after and the block so far.
const ADD_FAILURE: &str =
    "INSERT INTO laurel_failures AS f (who, failures, last_ms, blocked_until_ms)
     VALUES ($1, 1, $2, 0)
     ON CONFLICT (who) DO UPDATE SET
         failures = CASE WHEN $2 - f.last_ms >= $3 THEN 1 ELSE f.failures + 1 END,
         blocked_until_ms = CASE WHEN $2 - f.last_ms >= $3 THEN 0 ELSE f.blocked_until_ms END,
         last_ms = GREATEST(f.last_ms, $2)
     RETURNING failures, blocked_until_ms";

/// Adds requests to the shared counts and reads the totals back, in the order given.
const ADD_REQUESTS: &str = "INSERT INTO laurel_budgets AS b (who, time_window, used)
     SELECT who, $1, used FROM unnest($2::bytea[], $3::int8[]) AS u(who, used)
     ON CONFLICT (who, time_window) DO UPDATE SET used = b.used + EXCLUDED.used
     RETURNING who, used";

/// How a PostgreSQL store connects.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// The connection URL, `postgres://user:password@host:port/database`.
    pub url: String,
    /// The most connections this process keeps open.
    pub pool_size: usize,
    /// The longest one statement may run.
    pub statement_timeout: Duration,
    /// The longest a call waits for a free connection.
    pub acquire_timeout: Duration,
    /// A PEM file of certificate authorities trusted for the database's TLS certificate, besides
    /// the public ones (a private CA, as managed databases and self-hosted ones use).
    pub ca_file: Option<std::path::PathBuf>,
}

impl PgOptions {
    /// The defaults for `url`: 8 connections, 10 s per statement, 10 s to get a connection,
    /// the CA file named by `LAUREL_STORE_CA_FILE` if any.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            pool_size: 8,
            statement_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(10),
            ca_file: std::env::var_os("LAUREL_STORE_CA_FILE").map(std::path::PathBuf::from),
        }
    }
}

/// A PostgreSQL database holding Laurel's trees.
pub struct PgStore {
    options: PgOptions,
    config: tokio_postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    /// `sslmode=prefer` as libpq means it: TLS that does not authenticate the server, used
    /// only when the database's certificate is not trusted (a stock self-signed one).
    unverified: tokio_postgres_rustls::MakeRustlsConnect,
    /// Whether the log has said once that the connection is encrypted but unauthenticated.
    warned: std::sync::atomic::AtomicBool,
    /// Whether the rate limits' table is known to exist.
    budgets_table: std::sync::atomic::AtomicBool,
    /// Whether the shared failure counts' table is known to exist.
    failures_table: std::sync::atomic::AtomicBool,
    idle: Mutex<Pool>,
    freed: Condvar,
    /// This process's commits whose entries wait for the chain.
    waiting: Group,
}

#[derive(Default)]
struct Pool {
    clients: Vec<Conn>,
    open: usize,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

thread_local! {
    /// Set on the threads whose work is to wait for commits ([`may_block_here`]).
    static MAY_BLOCK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks this thread as one that may wait for the database in place: a writes' thread of the
/// server, whose requests wait for their commits anyway. A database call there runs on it
/// directly; elsewhere on an async runtime's worker, the worker's other tasks are first handed
/// to another thread (`block_in_place`), which costs several thread switches a call.
pub fn may_block_here() {
    MAY_BLOCK.with(|b| b.set(true));
}

/// Runs `f` where the sync client may block: off an async runtime's worker that answers
/// other requests, if called on one.
fn blocking<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if MAY_BLOCK.with(std::cell::Cell::get) {
        return f();
    }
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        // A runtime of one thread (a test's) waits for the call either way.
        _ => f(),
    }
}

/// The least key above every key that starts with `prefix` (`None`: no bound).
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The statements every connection prepares.
fn statements_sql() -> StatementsSql {
    StatementsSql {
        lock_keys: LOCK_KEYS,
        expects: EXPECTS,
        upsert_many: UPSERT_MANY,
        delete_one: DELETE_ONE,
        lock_one: "SELECT pg_advisory_xact_lock($1)",
        last_audit: LAST_AUDIT,
        get: GET,
        last: "SELECT key, value FROM laurel_kv WHERE tree = $1 ORDER BY key DESC LIMIT 1",
        scan_from: scan_sql(">=", true),
        scan_after: scan_sql(">", true),
        scan_from_open: scan_sql(">=", false),
        scan_after_open: scan_sql(">", false),
        scan_all: "SELECT key, value FROM laurel_kv WHERE tree = $1 AND key >= $2
             AND ($3::bytea IS NULL OR key < $3) ORDER BY key",
        insert_pending: INSERT_PENDING,
        try_lock: "SELECT pg_try_advisory_xact_lock($1)",
        take_sealed: TAKE_SEALED,
        unsealed: UNSEALED,
        mark_sealed: MARK_SEALED,
        delete_pending: DELETE_PENDING,
    }
}

/// The connection's prepared statements (prepared on its first use).
fn statements(c: &mut Conn) -> Result<Statements, StoreError> {
    // Their text, made once per process (every store call asks for the statements).
    static SQL: std::sync::LazyLock<StatementsSql> = std::sync::LazyLock::new(statements_sql);
    c.statements(&SQL).map_err(pg)
}

/// Runs `body` in a transaction begun with `begin` (`BEGIN` and its options): committed when
/// it succeeds, rolled back when it fails.
fn transaction<R>(
    c: &mut Conn,
    begin: &str,
    body: impl FnOnce(&mut Conn) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    c.driver.run(c.client.batch_execute(begin)).map_err(pg)?;
    match body(c) {
        Ok(out) => {
            c.driver.run(c.client.batch_execute("COMMIT")).map_err(pg)?;
            Ok(out)
        }
        Err(e) => {
            rollback(c);
            Err(e)
        }
    }
}

/// Ends a failed transaction; a connection that cannot is closed (never pooled mid-way).
fn rollback(c: &mut Conn) {
    if c.driver.run(c.client.batch_execute("ROLLBACK")).is_err() {
        c.close();
    }
}

/// The advisory lock of one key: the first 8 bytes of the SHA-256 of its tree and key, kept
/// apart from the chain's lock. Two keys that share one only take turns.
fn lock_of(tree: Tree, key: &[u8]) -> i64 {
    let digest = Sha256::new()
        .chain_update(tree.name().as_bytes())
        .chain_update([0u8])
        .chain_update(key)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let lock = i64::from_be_bytes(first);
    if lock == COMMIT_LOCK || lock == GATE_LOCK {
        lock ^ 1
    } else {
        lock
    }
}

impl PgStore {
    /// Connects to the database; with `migrate`, brings its schema up to date first. Fails,
    /// saying what to run, when the schema is not up to date.
    pub fn open(options: PgOptions, migrate: bool) -> Result<Self, StoreError> {
        // `verify-ca` and `verify-full`, libpq's, are TLS that checks the certificate (the
        // client library knows only `require`): the chain alone, or the chain and the host.
        let (url, check) = verify_mode(&options.url);
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Backend(format!(
                "`{}` is not a PostgreSQL URL: {e}",
                redact(&options.url)
            ))
        })?;
        let tls = tls(options.ca_file.as_deref(), check)?;
        let store = Self {
            options,
            config,
            tls,
            unverified: unverified_tls()?,
            warned: std::sync::atomic::AtomicBool::new(false),
            budgets_table: std::sync::atomic::AtomicBool::new(false),
            failures_table: std::sync::atomic::AtomicBool::new(false),
            idle: Mutex::new(Pool::default()),
            freed: Condvar::new(),
            waiting: Group::default(),
        };
        if migrate {
            store.migrate()?;
        }
        let (current, latest) = store.schema_version()?;
        if current < latest {
            return Err(StoreError::Backend(format!(
                "the database's schema is at version {current}, this laurel needs {latest}: run `laurel migrate --store <url>` (or serve with `--migrate`)"
            )));
        }
        // Entries a stopped process left waiting (a reader without the right to write leaves
        // them to the next commit: its snapshots seal them in the copy).
        if let Err(e) = store.seal_all() {
            tracing::warn!("audit entries left waiting were not sealed now: {e}");
        }
        Ok(store)
    }

    /// Applies the migrations the database lacks, each once (several processes may race: the
    /// advisory lock makes them take turns). Returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<i32>, StoreError> {
        self.with(|c| {
            transaction(c, "BEGIN", |c| {
                let (d, cl) = (&mut c.driver, &c.client);
                d.run(cl.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK]))
                    .map_err(pg)?;
                d.run(cl.batch_execute(
                    "CREATE TABLE IF NOT EXISTS laurel_migrations (
                         version integer PRIMARY KEY,
                         description text NOT NULL,
                         applied_at timestamptz NOT NULL DEFAULT now()
                     )",
                ))
                .map_err(pg)?;
                let mut applied = Vec::new();
                for (version, description, sql) in MIGRATIONS {
                    let done = d
                        .run(cl.query_opt(
                            "SELECT 1 FROM laurel_migrations WHERE version = $1",
                            &[version],
                        ))
                        .map_err(pg)?
                        .is_some();
                    if done {
                        continue;
                    }
                    d.run(cl.batch_execute(sql)).map_err(pg)?;
                    d.run(cl.execute(
                        "INSERT INTO laurel_migrations (version, description) VALUES ($1, $2)",
                        &[version, description],
                    ))
                    .map_err(pg)?;
                    applied.push(*version);
                }
                Ok(applied)
            })
        })
    }

    /// The schema's version in the database, and the latest this build knows.
    pub fn schema_version(&self) -> Result<(i32, i32), StoreError> {
        let latest = MIGRATIONS.last().map_or(0, |m| m.0);
        let current = self.with(|c| {
            let (d, cl) = (&mut c.driver, &c.client);
            let exists: bool = d
                .run(cl.query_one("SELECT to_regclass('laurel_migrations') IS NOT NULL", &[]))
                .map_err(pg)?
                .get(0);
            if !exists {
                return Ok(0);
            }
            let v: Option<i32> = d
                .run(cl.query_one("SELECT max(version) FROM laurel_migrations", &[]))
                .map_err(pg)?
                .get(0);
            Ok(v.unwrap_or(0))
        })?;
        Ok((current, latest))
    }

    /// Seals every audit entry waiting (one left by a process that stopped between its
    /// commit and its seal), and removes sealed entries nobody came back for.
    pub fn seal_all(&self) -> Result<(), StoreError> {
        self.with(|c| {
            let s = statements(c)?;
            let mut sealed = || loop {
                let (_, last, waiting) = c
                    .driver
                    .run(begin_sealing(&c.client, &s, &[]))
                    .map_err(pg)?;
                if waiting.is_empty() {
                    c.driver
                        .run(c.client.batch_execute(&format!("{SWEEP}; COMMIT")))
                        .map_err(pg)?;
                    return Ok(());
                }
                seal_waiting(c, &s, &[], &last, &pending_rows(&waiting)?)?;
            };
            let done = sealed();
            if done.is_err() {
                rollback(c);
            }
            done
        })
    }

    /// Every entry of every tree, read in one snapshot (`REPEATABLE READ`): the audit chain and
    /// the data it covers as of one instant, while servers keep writing. Entries committed but
    /// not yet sealed in that instant are sealed in the snapshot as the next seal would.
    pub fn snapshot(&self) -> Result<TreeEntries, StoreError> {
        // Sealed in the database first when it can be (else in the copy only: a reader).
        let _ = self.seal_all();
        self.read_snapshot()
    }

    /// [`PgStore::snapshot`]'s read, entries waiting sealed in it but not in the database.
    fn read_snapshot(&self) -> Result<TreeEntries, StoreError> {
        self.with(|c| {
            let (rows, waiting) =
                transaction(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", |c| {
                    let (d, cl) = (&mut c.driver, &c.client);
                    d.run(async {
                        tokio::try_join!(
                            cl.query(
                                "SELECT tree, key, value FROM laurel_kv ORDER BY tree, key",
                                &[],
                            ),
                            cl.query(
                                "SELECT id, entry FROM laurel_audit_pending
                                 WHERE seq IS NULL ORDER BY id",
                                &[],
                            ),
                        )
                    })
                    .map_err(pg)
                })?;
            let mut entries: TreeEntries = rows
                .into_iter()
                .map(|r| {
                    let name: String = r.get(0);
                    let tree = Tree::named(&name).ok_or_else(|| {
                        StoreError::Corrupt("laurel_kv", format!("unknown tree `{name}`"))
                    })?;
                    Ok((tree, r.get(1), r.get(2)))
                })
                .collect::<Result<_, StoreError>>()?;
            if !waiting.is_empty() {
                let last = entries
                    .iter()
                    .rfind(|(t, _, _)| *t == Tree::Audit)
                    .map(|(_, k, v)| (k.clone(), v.clone()));
                let from = entries
                    .iter()
                    .find(|(t, k, _)| *t == Tree::Meta && k == super::audit_index::FROM)
                    .map(|(_, _, v)| v.clone());
                let waiting = pending_rows(&waiting)?;
                let sealed = seal(
                    last.as_ref().map(|(k, v)| (k.as_slice(), v.as_slice())),
                    from,
                    &waiting,
                )?;
                // Over any value of the same key (the index's start, set by the first seal).
                let mut all: BTreeMap<(Tree, Vec<u8>), Vec<u8>> =
                    entries.into_iter().map(|(t, k, v)| ((t, k), v)).collect();
                for (t, k, v) in sealed.writes {
                    all.insert((t, k), v);
                }
                entries = all.into_iter().map(|((t, k), v)| (t, k, v)).collect();
            }
            Ok(entries)
        })
    }

    /// Whether the database answers, and how long it took.
    pub fn ping(&self) -> Result<Duration, StoreError> {
        let started = std::time::Instant::now();
        self.with(|c| {
            c.driver
                .run(c.client.simple_query("SELECT 1"))
                .map(|_| ())
                .map_err(pg)
        })?;
        Ok(started.elapsed())
    }

    fn connect(&self) -> Result<Conn, StoreError> {
        // `sslmode` in the URL decides: `disable` (plain), `prefer` (the default: TLS when the
        // server offers it) or `require` (TLS or nothing). The certificate is verified against
        // the public roots and `ca_file`, and the host name of the URL.
        use tokio_postgres::config::SslMode;
        let connected = match self.config.get_ssl_mode() {
            SslMode::Disable => Conn::connect(&self.config, NoTls),
            SslMode::Prefer => {
                // The default: a trusted certificate is checked; an untrusted one (a stock
                // Debian cluster's self-signed certificate) still gives an encrypted, if
                // unauthenticated, connection, as libpq's `prefer` does, and the log says so.
                Conn::connect(&self.config, self.tls.clone()).or_else(|e| {
                    if !matches!(&e, Connecting::Database(e) if untrusted_certificate(e)) {
                        return Err(e);
                    }
                    let c = Conn::connect(&self.config, self.unverified.clone())?;
                    if !self.warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        tracing::warn!(
                            "the database's certificate is not trusted: connections are encrypted but do not authenticate it (sslmode=prefer); give its CA with --store-ca-file and sslmode=require to check it"
                        );
                    }
                    Ok(c)
                })
            }
            _ => Conn::connect(&self.config, self.tls.clone()),
        };
        let mut c = connected.map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot connect to {}: {e}",
                redact(&self.options.url)
            ))
        })?;
        c.driver
            .run(c.client.batch_execute(&format!(
                "SET statement_timeout = {}; SET synchronous_commit = on",
                self.options.statement_timeout.as_millis()
            )))
            .map_err(pg)?;
        Ok(c)
    }

    /// Makes the shared failure counts' table on first use (not a migration: nothing in it
    /// outlives a crash, and a database made before it needs no upgrade).
    fn failures_table(&self, c: &mut Conn) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::Relaxed;
        if !self.failures_table.load(Relaxed) {
            match c.driver.run(c.client.batch_execute(FAILURES_TABLE)) {
                Ok(()) => {}
                // Another process made it at the same moment.
                Err(e)
                    if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
                        || e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_TABLE) => {}
                Err(e) => return Err(pg(e)),
            }
            self.failures_table.store(true, Relaxed);
        }
        Ok(())
    }

    /// Runs `f` with a pooled connection: an idle one, a new one while the pool has room, or
    /// the next one freed. A connection that broke is not returned to the pool.
    fn with<R: Send>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<R, StoreError> + Send,
    ) -> Result<R, StoreError> {
        blocking(|| self.on_conn(f))
    }

    /// [`PgStore::with`] on the calling thread, already off the async runtime's workers.
    fn on_conn<R>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut client = self.acquire()?;
        let out = f(&mut client);
        // A connection lost mid-call: the database went away, not the request's fault.
        let out = match out {
            Err(StoreError::Backend(why)) if client.is_closed() => {
                Err(StoreError::Unavailable(why))
            }
            other => other,
        };
        self.release(client);
        out
    }

    fn acquire(&self) -> Result<Conn, StoreError> {
        let deadline = std::time::Instant::now() + self.options.acquire_timeout;
        let mut pool = self.idle.lock().map_err(backend)?;
        loop {
            if let Some(c) = pool.clients.pop() {
                if !c.is_closed() {
                    return Ok(c);
                }
                pool.open -= 1;
                continue;
            }
            if pool.open < self.options.pool_size.max(1) {
                pool.open += 1;
                drop(pool);
                return self.connect().inspect_err(|_| {
                    if let Ok(mut p) = self.idle.lock() {
                        p.open -= 1;
                    }
                });
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(StoreError::Unavailable(format!(
                    "no database connection free within {:?} (all {} in use)",
                    self.options.acquire_timeout, self.options.pool_size
                )));
            }
            pool = self.freed.wait_timeout(pool, left).map_err(backend)?.0;
        }
    }

    fn release(&self, client: Conn) {
        if let Ok(mut pool) = self.idle.lock() {
            if client.is_closed() {
                pool.open -= 1;
            } else {
                pool.clients.push(client);
            }
        }
        self.freed.notify_one();
    }
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{user}@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

impl Store for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn status(&self) -> Result<super::StoreStatus, StoreError> {
        let latency = self.ping()?;
        let (schema, latest) = self.schema_version()?;
        Ok(super::StoreStatus {
            store: "postgres",
            database: Some(redact(&self.options.url)),
            latency_ms: Some(latency.as_secs_f64() * 1000.0),
            schema_version: Some(schema),
            schema_latest: Some(latest),
        })
    }

    fn shares_budgets(&self) -> bool {
        true
    }

    fn add_failure(
        &self,
        who: &str,
        now_ms: i64,
        forget_ms: i64,
        delay: &(dyn Fn(u32) -> Option<i64> + Sync),
    ) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            self.failures_table(c)?;
            transaction(c, "BEGIN", |c| {
                let (d, cl) = (&mut c.driver, &c.client);
                let row = d
                    .run(cl.query_one(ADD_FAILURE, &[&who, &now_ms, &forget_ms]))
                    .map_err(pg)?;
                let failures = u32::try_from(row.get::<_, i32>(0)).unwrap_or(0);
                let mut until: i64 = row.get(1);
                if let Some(delay) = delay(failures) {
                    let earned = now_ms.saturating_add(delay);
                    if earned > until {
                        d.run(cl.execute(
                            "UPDATE laurel_failures SET blocked_until_ms = $2 WHERE who = $1",
                            &[&who, &earned],
                        ))
                        .map_err(pg)?;
                        until = earned;
                    }
                }
                // Counts nobody added to for a while are forgotten now and then.
                if now_ms % 32 == 0 {
                    d.run(cl.execute(
                        "DELETE FROM laurel_failures WHERE last_ms < $1 AND blocked_until_ms < $2",
                        &[&now_ms.saturating_sub(forget_ms), &now_ms],
                    ))
                    .map_err(pg)?;
                }
                Ok(Some(until))
            })
        })
    }

    fn failure_block(&self, who: &str) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            self.failures_table(c)?;
            let row = c
                .driver
                .run(c.client.query_opt(
                    "SELECT blocked_until_ms FROM laurel_failures WHERE who = $1",
                    &[&who],
                ))
                .map_err(pg)?;
            Ok(Some(row.map_or(0, |r| r.get(0))))
        })
    }

    fn add_requests(
        &self,
        window: u64,
        counts: &[(Vec<u8>, u64)],
    ) -> Result<Option<Vec<u64>>, StoreError> {
        let window = i64::try_from(window).map_err(backend)?;
        let who: Vec<&[u8]> = counts.iter().map(|(w, _)| w.as_slice()).collect();
        let used: Vec<i64> = counts
            .iter()
            .map(|(_, n)| i64::try_from(*n).unwrap_or(i64::MAX))
            .collect();
        self.with(|c| {
            if !self
                .budgets_table
                .load(std::sync::atomic::Ordering::Relaxed)
            {
                c.driver
                    .run(c.client.batch_execute(BUDGETS_TABLE))
                    .map_err(pg)?;
                self.budgets_table
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
            let rows = transaction(c, "BEGIN", |c| {
                let (d, cl) = (&mut c.driver, &c.client);
                let rows = d
                    .run(cl.query(ADD_REQUESTS, &[&window, &who, &used]))
                    .map_err(pg)?;
                // Windows that have turned are forgotten now and then.
                if window % 4 == 0 {
                    d.run(cl.execute(
                        "DELETE FROM laurel_budgets WHERE time_window < $1",
                        &[&(window - 1)],
                    ))
                    .map_err(pg)?;
                }
                Ok(rows)
            })?;
            let totals: std::collections::HashMap<Vec<u8>, i64> =
                rows.into_iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok(Some(
                counts
                    .iter()
                    .map(|(w, _)| totals.get(w).map_or(0, |t| u64::try_from(*t).unwrap_or(0)))
                    .collect(),
            ))
        })
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|c| {
            let s = statements(c)?;
            Ok(c.driver
                .run(c.client.query_opt(&s.get, &[&tree.name(), &key]))
                .map_err(pg)?
                .map(|r| r.get(0)))
        })
    }

    fn scan_from(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        let end = successor(prefix);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Every bound is an index condition (a prepared statement's generic plan cannot drop
        // a bound that is `NULL`): one statement per shape.
        let (from, inclusive) = match after {
            Some(a) if a >= prefix => (a, false),
            _ => (prefix, true),
        };
        self.with(|c| {
            let s = statements(c)?;
            let (d, cl) = (&mut c.driver, &c.client);
            let name = tree.name();
            let rows = match (inclusive, &end) {
                (true, Some(end)) => d.run(cl.query(&s.scan_from, &[&name, &from, end, &limit])),
                (false, Some(end)) => d.run(cl.query(&s.scan_after, &[&name, &from, end, &limit])),
                (true, None) => d.run(cl.query(&s.scan_from_open, &[&name, &from, &limit])),
                (false, None) => d.run(cl.query(&s.scan_after_open, &[&name, &from, &limit])),
            }
            .map_err(pg)?;
            Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn keys(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        let end = successor(prefix);
        self.with(|c| {
            let (d, cl) = (&mut c.driver, &c.client);
            let rows = match &end {
                Some(end) => d.run(cl.query(
                    "SELECT key FROM laurel_kv WHERE tree = $1 AND key >= $2 AND key < $3 ORDER BY key",
                    &[&tree.name(), &prefix, end],
                )),
                None => d.run(cl.query(
                    "SELECT key FROM laurel_kv WHERE tree = $1 AND key >= $2 ORDER BY key",
                    &[&tree.name(), &prefix],
                )),
            }
            .map_err(pg)?;
            Ok(rows.into_iter().map(|r| r.get(0)).collect())
        })
    }

    fn last(&self, tree: Tree) -> Result<Option<super::Entry>, StoreError> {
        self.with(|c| {
            let s = statements(c)?;
            Ok(c.driver
                .run(c.client.query_opt(&s.last, &[&tree.name()]))
                .map_err(pg)?
                .map(|r| (r.get(0), r.get(1))))
        })
    }

    fn commit(&self, batch: Batch, audit: AuditEntry) -> Result<AuditRecord, StoreError> {
        // Every key the batch reads or writes, and the counts of every award whose
        // applications it writes, locked in one order: commits that share no key run side by
        // side; commits that share one they write take turns, so each key's writes follow the
        // chain. A key only read is locked shared (true: exclusive).
        let guards = super::tally::guards(&batch);
        let written = batch
            .writes
            .iter()
            .map(|(tree, key, _)| (lock_of(*tree, key), true))
            .chain(guards.iter().map(|(tree, key)| (lock_of(*tree, key), true)));
        let read = batch
            .expects
            .iter()
            .map(|(tree, key, _)| (lock_of(*tree, key), false));
        let mut by_key: BTreeMap<i64, bool> = BTreeMap::new();
        for (lock, exclusive) in written.chain(read) {
            *by_key.entry(lock).or_default() |= exclusive;
        }
        let alone = by_key.len() > MOST_KEY_LOCKS;
        let locks: (Vec<i64>, Vec<bool>) =
            std::iter::once((GATE_LOCK, false)).chain(by_key).unzip();
        blocking(|| {
            let committed = self.on_conn(|c| {
                let s = statements(c)?;
                let committed = commit_on(c, &s, batch, audit, &locks, alone);
                if committed.is_err() {
                    rollback(c);
                }
                committed
            })?;
            let (id, pending) = match committed {
                Committed::Sealed(record) => return Ok(record),
                Committed::Waiting(id, pending) => (id, pending),
            };
            // Durable from here. This process's commits waiting for the chain are sealed by
            // one of them, for all, in one transaction on a connection of the pool (the others
            // wait without one); a failure leaves the entry for the next commit to seal.
            let sealed = self.waiting.follow(id, |ids| {
                self.on_conn(|c| {
                    let s = statements(c)?;
                    let sealed = seal_group(c, &s, ids);
                    if sealed.is_err() {
                        rollback(c);
                    }
                    sealed
                })
            });
            Ok(sealed.unwrap_or_else(|e| {
                tracing::warn!(
                    "a commit was stored but its audit entry not yet chained ({e}): the next commit chains it"
                );
                pending.record(0, String::new(), pending.writes.clone())
            }))
        })
    }

    fn restore(&self, entries: TreeEntries) -> Result<(), StoreError> {
        self.with(|c| {
            transaction(c, "BEGIN", |c| {
                let (d, cl) = (&mut c.driver, &c.client);
                d.run(cl.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK]))
                    .map_err(pg)?;
                let upsert = d.run(cl.prepare(UPSERT)).map_err(pg)?;
                for (tree, key, value) in &entries {
                    d.run(cl.execute(&upsert, &[&tree.name(), key, value]))
                        .map_err(pg)?;
                }
                Ok(())
            })
        })
    }
}

/// A commit on connection `c`, in three pipelined round trips (see the module's comment);
/// the caller rolls back when it fails.
fn commit_on(
    c: &mut Conn,
    s: &Statements,
    mut batch: Batch,
    audit: AuditEntry,
    locks: &(Vec<i64>, Vec<bool>),
    alone: bool,
) -> Result<Committed, StoreError> {
    // Read under the locks in the first round trip: the values the batch expects, then those
    // the derived indexes will ask for (each once).
    let ahead = super::indexes::reads_all(&batch);
    let expected = batch.expects.len();
    let mut trees: Vec<&str> = batch.expects.iter().map(|(t, _, _)| t.name()).collect();
    let mut keys: Vec<&[u8]> = batch.expects.iter().map(|(_, k, _)| k.as_slice()).collect();
    trees.extend(ahead.iter().map(|(t, _)| t.name()));
    keys.extend(ahead.iter().map(|(_, k)| k.as_slice()));
    let (d, cl) = (&mut c.driver, &c.client);
    let (_, _, rows) = d
        .run(async {
            tokio::try_join!(
                biased;
                cl.batch_execute("BEGIN"),
                async {
                    if alone {
                        // Every other commit waits at the gate meanwhile.
                        cl.execute(&s.lock_one, &[&GATE_LOCK]).await
                    } else {
                        cl.execute(&s.lock_keys, &[&locks.0, &locks.1]).await
                    }
                },
                async {
                    if trees.is_empty() {
                        Ok(Vec::new())
                    } else {
                        cl.query(&s.expects, &[&trees, &keys]).await
                    }
                },
            )
        })
        .map_err(pg)?;
    let mut values = rows.iter().map(|r| r.get::<_, Option<Vec<u8>>>(0));
    for (tree, key, value) in &batch.expects {
        let now = values.next().flatten();
        if now.as_deref() != value.as_deref() {
            return Err(StoreError::Conflict {
                tree: tree.name(),
                key: escape_key(key),
            });
        }
    }
    debug_assert_eq!(rows.len(), expected + ahead.len());
    let read: BTreeMap<(Tree, Vec<u8>), Option<Vec<u8>>> = ahead.into_iter().zip(values).collect();
    let mut reads = InTransaction { c, s, read };
    super::indexes::keep_all(&mut batch, &mut reads)?;
    // Each key's last word in the batch (one upsert, one removal a key), the pending audit
    // entry and the commit, durable before it answers; then, in the same round trip, the
    // chain's lock, this entry's number if another commit sealed it meanwhile, and what a
    // sealer needs: the chain's last record and the entries waiting (see `pg_seal`).
    let mut last: BTreeMap<(&str, &[u8]), Option<&[u8]>> = BTreeMap::new();
    for (tree, key, value) in &batch.writes {
        last.insert((tree.name(), key.as_slice()), value.as_deref());
    }
    let (mut put, mut gone) = (Columns::default(), Columns::default());
    for ((tree, key), value) in last {
        match value {
            Some(v) => put.push(tree, key, Some(v)),
            None => gone.push(tree, key, None),
        }
    }
    let pending = Pending::new(audit, super::writes_of(&batch), super::now());
    let (d, cl) = (&mut c.driver, &c.client);
    let removals: Vec<[&(dyn tokio_postgres::types::ToSql + Sync); 2]> = gone
        .trees
        .iter()
        .zip(&gone.keys)
        .map(|(tree, key)| [tree as _, key as _])
        .collect();
    // The writes, and the chain's lock if nobody holds it or waits for it, with what sealing
    // needs: the chain's last record and the entries waiting.
    let (_, _, free, last, waiting) = d
        .run(async {
            tokio::try_join!(
                biased;
                async {
                    if put.trees.is_empty() {
                        Ok(0)
                    } else {
                        cl.execute(&s.upsert_many, &[&put.trees, &put.keys, &put.values])
                            .await
                    }
                },
                in_order(
                    removals
                        .iter()
                        .map(|params| Box::pin(cl.execute(&s.delete_one, params)))
                        .collect()
                ),
                cl.query_one(&s.try_lock, &[&COMMIT_LOCK]),
                cl.query_one(&s.last_audit, &[&super::audit_index::FROM]),
                cl.query(&s.unsealed, &[&MOST_AT_ONCE]),
            )
        })
        .map_err(pg)?;
    if free.get::<_, bool>(0) && waiting.len() < MOST_AT_ONCE as usize {
        // Uncontended: this commit seals the entries waiting and its own, in its own
        // transaction (one flush for the data and the chain).
        let mut entries = pending_rows(&waiting)?;
        entries.push((MINE, pending));
        let records = seal_waiting(c, s, &[], &last, &entries)?;
        return records
            .into_iter()
            .find(|(i, _)| *i == MINE)
            .map(|(_, r)| Committed::Sealed(r))
            .ok_or_else(|| StoreError::Corrupt("audit", "the commit's record not sealed".into()));
    }
    // Another commit holds the chain: this one commits its data with its entry waiting, durable
    // and without waiting for the chain; the caller then has it sealed.
    let entry = json(&pending);
    let entry_param: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&entry];
    let (d, cl) = (&mut c.driver, &c.client);
    let (row, ()) = d
        .run(async {
            tokio::try_join!(
                biased;
                cl.query_one(&s.insert_pending, &entry_param),
                cl.batch_execute("COMMIT"),
            )
        })
        .map_err(pg)?;
    Ok(Committed::Waiting(row.get(0), pending))
}

/// A commit's data committed: with its record, or with its entry waiting (its id) to be
/// sealed.
enum Committed {
    Sealed(AuditRecord),
    Waiting(i64, Pending),
}

/// Reads inside a commit's transaction, under its keys' locks: those read ahead, then any
/// other from the database.
struct InTransaction<'a> {
    c: &'a mut Conn,
    s: &'a Statements,
    read: BTreeMap<(Tree, Vec<u8>), Option<Vec<u8>>>,
}

impl super::tally::Reads for InTransaction<'_> {
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(v) = self.read.get(&(tree, key.to_vec())) {
            return Ok(v.clone());
        }
        Ok(self
            .c
            .driver
            .run(self.c.client.query_opt(&self.s.get, &[&tree.name(), &key]))
            .map_err(pg)?
            .map(|r| r.get(0)))
    }
    fn scan(&mut self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        let end = successor(prefix);
        let rows = self
            .c
            .driver
            .run(
                self.c
                    .client
                    .query(&self.s.scan_all, &[&tree.name(), &prefix, &end]),
            )
            .map_err(pg)?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

#[cfg(test)]
#[path = "pg_store_tests.rs"]
mod tests;
