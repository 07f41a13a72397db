//! The PostgreSQL store: the same contract as sled's, for several `laurel` processes on one
//! database.
//!
//! One table holds every tree (`laurel_kv`: tree, key, value; keys compare as bytes, as in
//! sled). A commit is one transaction that first takes a transaction-scoped advisory lock for
//! every key it reads or writes (in ascending order, in one statement), so that commits sharing
//! a key take turns while others run side by side; it checks the batch's expectations, applies
//! its writes, and then, under the chain's own lock held only for the append, reads the last
//! audit record, appends the next and commits (`synchronous_commit` on: durable before the
//! answer). A commit that waited for a key runs after the one holding it has committed and
//! appended, so each key's writes follow the chain's order. Every commit holds a gate lock
//! shared; a commit of more keys than it is sensible to lock one by one (the database's lock
//! table holds a few thousand: an award imported whole) takes the gate alone instead. A process killed mid-commit leaves
//! nothing behind: the transaction rolls back and the locks go with it.
//!
//! Connections come from a small pool; each sets a statement timeout, and a connection that
//! broke is dropped and replaced on the next call (a restarted database is reconnected to).
//! The sync client runs its own event loop, so calls made on a tokio worker are moved off it.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use postgres::{Client, NoTls, Statement};
use sha2::{Digest, Sha256};

use super::pg_tls::{tls, untrusted_certificate, unverified_tls, verify_mode};
use super::{
    AuditEntry, AuditRecord, Batch, Entries, Store, StoreError, Tree, TreeEntries, escape_key,
    json, next_record,
};

/// The key of the advisory lock every commit takes ("laurel" in ASCII).
const COMMIT_LOCK: i64 = 0x0000_6c61_7572_656c;

/// Writes a value, over any there was.
const UPSERT: &str = "INSERT INTO laurel_kv (tree, key, value) VALUES ($1, $2, $3)
     ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value";

/// The lock every commit holds shared, and a commit of very many keys alone: the database's
/// lock table holds a few thousand locks, so such a commit runs by itself instead of locking
/// each key. The least `bigint`, so that it sorts (and is taken) before any key's.
const GATE_LOCK: i64 = i64::MIN;

/// The most keys a commit locks one by one; a commit of more takes [`GATE_LOCK`] alone.
const MOST_KEY_LOCKS: usize = 512;

/// Takes the gate shared, then the advisory locks of a commit's keys, in ascending order (the
/// gate, the least, first).
const LOCK_KEYS: &str = "SELECT count(CASE WHEN k = -9223372036854775808
         THEN pg_advisory_xact_lock_shared(k) ELSE pg_advisory_xact_lock(k) END)
     FROM (SELECT DISTINCT k FROM unnest($1::int8[]) AS u(k) ORDER BY k) AS l";

/// The values of keys, in the order asked (`NULL`: absent).
const EXPECTS: &str =
    "SELECT v.value FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS e(tree, key, i)
     LEFT JOIN laurel_kv v ON v.tree = e.tree AND v.key = e.key ORDER BY e.i";

/// Writes values, over any there were (each key once).
const UPSERT_MANY: &str = "INSERT INTO laurel_kv (tree, key, value)
     SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[])
     ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value";

/// Removes keys.
const DELETE_MANY: &str = "DELETE FROM laurel_kv
     WHERE (tree, key) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))";

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
pub const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "one table for every tree, keys compared as bytes",
    "CREATE TABLE IF NOT EXISTS laurel_kv (
         tree text NOT NULL,
         key bytea NOT NULL,
         value bytea NOT NULL,
         PRIMARY KEY (tree, key)
     )",
)];

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
    config: postgres::Config,
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
}

#[derive(Default)]
struct Pool {
    clients: Vec<Conn>,
    open: usize,
}

impl Drop for PgStore {
    /// The synchronous client closes its connection by blocking on its own runtime, which
    /// panics (and aborts) on an async runtime's thread, where the last holder of the store
    /// may be when the server stops: the connections are closed on a thread of their own.
    fn drop(&mut self) {
        let clients = match self.idle.get_mut() {
            Ok(pool) => std::mem::take(&mut pool.clients),
            Err(poisoned) => std::mem::take(&mut poisoned.into_inner().clients),
        };
        if clients.is_empty() {
            return;
        }
        let _ = std::thread::Builder::new()
            .name("laurel-pg-close".to_owned())
            .spawn(move || drop(clients))
            .map(std::thread::JoinHandle::join);
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A database error: the database going away (its connection closed, an administrator's
/// shutdown, a connection failure: SQLSTATE classes 08 and 57) is `Unavailable`, to retry;
/// anything else a backend failure.
fn pg(e: postgres::Error) -> StoreError {
    let gone = e.is_closed()
        || e.code()
            .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57"));
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

/// Runs `f` where the sync client may block: off a tokio worker, if called on one.
fn blocking<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        Ok(_) => std::thread::scope(|s| {
            s.spawn(f)
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        }),
        Err(_) => f(),
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

/// A pooled connection, with the statements commits use prepared once on it.
struct Conn {
    client: Client,
    statements: Option<Statements>,
}

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// The statements of a commit, prepared on a connection the first time it commits.
#[derive(Clone)]
struct Statements {
    lock_keys: Statement,
    expects: Statement,
    upsert_many: Statement,
    delete_many: Statement,
    lock_one: Statement,
    last_audit: Statement,
    get: Statement,
    last: Statement,
    scan_from: Statement,
    scan_after: Statement,
    scan_from_open: Statement,
    scan_after_open: Statement,
}

impl Conn {
    fn statements(&mut self) -> Result<Statements, StoreError> {
        if let Some(s) = &self.statements {
            return Ok(s.clone());
        }
        let c = &mut self.client;
        let s = Statements {
            lock_keys: c.prepare(LOCK_KEYS).map_err(pg)?,
            expects: c.prepare(EXPECTS).map_err(pg)?,
            upsert_many: c.prepare(UPSERT_MANY).map_err(pg)?,
            delete_many: c.prepare(DELETE_MANY).map_err(pg)?,
            lock_one: c.prepare("SELECT pg_advisory_xact_lock($1)").map_err(pg)?,
            last_audit: c.prepare(LAST_AUDIT).map_err(pg)?,
            get: c.prepare(GET).map_err(pg)?,
            last: c
                .prepare(
                    "SELECT key, value FROM laurel_kv WHERE tree = $1 ORDER BY key DESC LIMIT 1",
                )
                .map_err(pg)?,
            scan_from: c.prepare(&scan_sql(">=", true)).map_err(pg)?,
            scan_after: c.prepare(&scan_sql(">", true)).map_err(pg)?,
            scan_from_open: c.prepare(&scan_sql(">=", false)).map_err(pg)?,
            scan_after_open: c.prepare(&scan_sql(">", false)).map_err(pg)?,
        };
        self.statements = Some(s.clone());
        Ok(s)
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

/// Columns of rows, for statements that take arrays.
#[derive(Default)]
struct Columns<'a> {
    trees: Vec<&'a str>,
    keys: Vec<&'a [u8]>,
    values: Vec<&'a [u8]>,
}

impl<'a> Columns<'a> {
    fn push(&mut self, tree: &'a str, key: &'a [u8], value: Option<&'a [u8]>) {
        self.trees.push(tree);
        self.keys.push(key);
        if let Some(v) = value {
            self.values.push(v);
        }
    }
}

impl PgStore {
    /// Connects to the database; with `migrate`, brings its schema up to date first. Fails,
    /// saying what to run, when the schema is not up to date.
    pub fn open(options: PgOptions, migrate: bool) -> Result<Self, StoreError> {
        // `verify-ca` and `verify-full`, libpq's, are TLS that checks the certificate (the
        // client library knows only `require`): the chain alone, or the chain and the host.
        let (url, check) = verify_mode(&options.url);
        let config: postgres::Config = url.parse().map_err(|e| {
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
        Ok(store)
    }

    /// Applies the migrations the database lacks, each once (several processes may race: the
    /// advisory lock makes them take turns). Returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<i32>, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(pg)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK])
                .map_err(pg)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS laurel_migrations (
                     version integer PRIMARY KEY,
                     description text NOT NULL,
                     applied_at timestamptz NOT NULL DEFAULT now()
                 )",
            )
            .map_err(pg)?;
            let mut applied = Vec::new();
            for (version, description, sql) in MIGRATIONS {
                let done = tx
                    .query_opt(
                        "SELECT 1 FROM laurel_migrations WHERE version = $1",
                        &[version],
                    )
                    .map_err(pg)?
                    .is_some();
                if done {
                    continue;
                }
                tx.batch_execute(sql).map_err(pg)?;
                tx.execute(
                    "INSERT INTO laurel_migrations (version, description) VALUES ($1, $2)",
                    &[version, description],
                )
                .map_err(pg)?;
                applied.push(*version);
            }
            tx.commit().map_err(pg)?;
            Ok(applied)
        })
    }

    /// The schema's version in the database, and the latest this build knows.
    pub fn schema_version(&self) -> Result<(i32, i32), StoreError> {
        let latest = MIGRATIONS.last().map_or(0, |m| m.0);
        let current = self.with(|c| {
            let exists: bool = c
                .query_one("SELECT to_regclass('laurel_migrations') IS NOT NULL", &[])
                .map_err(pg)?
                .get(0);
            if !exists {
                return Ok(0);
            }
            let v: Option<i32> = c
                .query_one("SELECT max(version) FROM laurel_migrations", &[])
                .map_err(pg)?
                .get(0);
            Ok(v.unwrap_or(0))
        })?;
        Ok((current, latest))
    }

    /// Every entry of every tree, read in one snapshot (`REPEATABLE READ`): the audit chain and
    /// the data it covers as of one instant, while servers keep writing.
    pub fn snapshot(&self) -> Result<TreeEntries, StoreError> {
        self.with(|c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(pg)?;
            let rows = tx
                .query(
                    "SELECT tree, key, value FROM laurel_kv ORDER BY tree, key",
                    &[],
                )
                .map_err(pg)?;
            tx.commit().map_err(pg)?;
            rows.into_iter()
                .map(|r| {
                    let name: String = r.get(0);
                    let tree = Tree::named(&name).ok_or_else(|| {
                        StoreError::Corrupt("laurel_kv", format!("unknown tree `{name}`"))
                    })?;
                    Ok((tree, r.get(1), r.get(2)))
                })
                .collect()
        })
    }

    /// Whether the database answers, and how long it took.
    pub fn ping(&self) -> Result<Duration, StoreError> {
        let started = std::time::Instant::now();
        self.with(|c| c.simple_query("SELECT 1").map(|_| ()).map_err(pg))?;
        Ok(started.elapsed())
    }

    fn connect(&self) -> Result<Conn, StoreError> {
        // `sslmode` in the URL decides: `disable` (plain), `prefer` (the default: TLS when the
        // server offers it) or `require` (TLS or nothing). The certificate is verified against
        // the public roots and `ca_file`, and the host name of the URL.
        let connected = match self.config.get_ssl_mode() {
            postgres::config::SslMode::Disable => self.config.connect(NoTls),
            postgres::config::SslMode::Prefer => {
                // The default: a trusted certificate is checked; an untrusted one (a stock
                // Debian cluster's self-signed certificate) still gives an encrypted, if
                // unauthenticated, connection, as libpq's `prefer` does, and the log says so.
                self.config.connect(self.tls.clone()).or_else(|e| {
                    if !untrusted_certificate(&e) {
                        return Err(e);
                    }
                    let c = self.config.connect(self.unverified.clone())?;
                    if !self.warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        tracing::warn!(
                            "the database's certificate is not trusted: connections are encrypted but do not authenticate it (sslmode=prefer); give its CA with --store-ca-file and sslmode=require to check it"
                        );
                    }
                    Ok(c)
                })
            }
            _ => self.config.connect(self.tls.clone()),
        };
        let mut client = connected.map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot connect to {}: {e}",
                redact(&self.options.url)
            ))
        })?;
        client
            .batch_execute(&format!(
                "SET statement_timeout = {}; SET synchronous_commit = on",
                self.options.statement_timeout.as_millis()
            ))
            .map_err(pg)?;
        Ok(Conn {
            client,
            statements: None,
        })
    }

    /// Makes the shared failure counts' table on first use (not a migration: nothing in it
    /// outlives a crash, and a database made before it needs no upgrade).
    fn failures_table(&self, c: &mut Conn) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::Relaxed;
        if !self.failures_table.load(Relaxed) {
            match c.batch_execute(FAILURES_TABLE) {
                Ok(()) => {}
                // Another process made it at the same moment.
                Err(e)
                    if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
                        || e.code() == Some(&postgres::error::SqlState::DUPLICATE_TABLE) => {}
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
        blocking(|| {
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
        })
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
            let mut tx = c.transaction().map_err(pg)?;
            let row = tx
                .query_one(ADD_FAILURE, &[&who, &now_ms, &forget_ms])
                .map_err(pg)?;
            let failures = u32::try_from(row.get::<_, i32>(0)).unwrap_or(0);
            let mut until: i64 = row.get(1);
            if let Some(d) = delay(failures) {
                let earned = now_ms.saturating_add(d);
                if earned > until {
                    tx.execute(
                        "UPDATE laurel_failures SET blocked_until_ms = $2 WHERE who = $1",
                        &[&who, &earned],
                    )
                    .map_err(pg)?;
                    until = earned;
                }
            }
            // Counts nobody added to for a while are forgotten now and then.
            if now_ms % 32 == 0 {
                tx.execute(
                    "DELETE FROM laurel_failures WHERE last_ms < $1 AND blocked_until_ms < $2",
                    &[&now_ms.saturating_sub(forget_ms), &now_ms],
                )
                .map_err(pg)?;
            }
            tx.commit().map_err(pg)?;
            Ok(Some(until))
        })
    }

    fn failure_block(&self, who: &str) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            self.failures_table(c)?;
            let row = c
                .query_opt(
                    "SELECT blocked_until_ms FROM laurel_failures WHERE who = $1",
                    &[&who],
                )
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
                c.batch_execute(BUDGETS_TABLE).map_err(pg)?;
                self.budgets_table
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
            let mut tx = c.transaction().map_err(pg)?;
            let rows = tx
                .query(ADD_REQUESTS, &[&window, &who, &used])
                .map_err(pg)?;
            // Windows that have turned are forgotten now and then.
            if window % 4 == 0 {
                tx.execute(
                    "DELETE FROM laurel_budgets WHERE time_window < $1",
                    &[&(window - 1)],
                )
                .map_err(pg)?;
            }
            tx.commit().map_err(pg)?;
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
            let s = c.statements()?;
            Ok(c.query_opt(&s.get, &[&tree.name(), &key])
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
            let s = c.statements()?;
            let rows = match (inclusive, &end) {
                (true, Some(end)) => c.query(&s.scan_from, &[&tree.name(), &from, end, &limit]),
                (false, Some(end)) => c.query(&s.scan_after, &[&tree.name(), &from, end, &limit]),
                (true, None) => c.query(&s.scan_from_open, &[&tree.name(), &from, &limit]),
                (false, None) => c.query(&s.scan_after_open, &[&tree.name(), &from, &limit]),
            }
            .map_err(pg)?;
            Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn keys(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        let end = successor(prefix);
        self.with(|c| {
            let rows = match &end {
                Some(end) => c.query(
                    "SELECT key FROM laurel_kv WHERE tree = $1 AND key >= $2 AND key < $3 ORDER BY key",
                    &[&tree.name(), &prefix, end],
                ),
                None => c.query(
                    "SELECT key FROM laurel_kv WHERE tree = $1 AND key >= $2 ORDER BY key",
                    &[&tree.name(), &prefix],
                ),
            }
            .map_err(pg)?;
            Ok(rows.into_iter().map(|r| r.get(0)).collect())
        })
    }

    fn last(&self, tree: Tree) -> Result<Option<super::Entry>, StoreError> {
        self.with(|c| {
            let s = c.statements()?;
            Ok(c.query_opt(&s.last, &[&tree.name()])
                .map_err(pg)?
                .map(|r| (r.get(0), r.get(1))))
        })
    }

    fn commit(&self, batch: Batch, audit: AuditEntry) -> Result<AuditRecord, StoreError> {
        let mut batch = batch;
        // Every key the batch reads or writes, and the counts of every award whose
        // applications it writes, locked in one order: commits that share no key run side by
        // side; commits that share one take turns, so each key's writes follow the chain.
        let mut locks: Vec<i64> = batch
            .expects
            .iter()
            .chain(batch.writes.iter())
            .map(|(tree, key, _)| lock_of(*tree, key))
            .chain(
                super::tally::guards(&batch)
                    .iter()
                    .map(|(tree, key)| lock_of(*tree, key)),
            )
            .collect();
        locks.sort_unstable();
        locks.dedup();
        let alone = locks.len() > MOST_KEY_LOCKS;
        locks.insert(0, GATE_LOCK);
        self.with(|c| {
            let s = c.statements()?;
            let mut tx = c.client.transaction().map_err(pg)?;
            if alone {
                // Every other commit waits at the gate meanwhile: as before keys were locked.
                tx.execute(&s.lock_one, &[&GATE_LOCK]).map_err(pg)?;
            } else {
                tx.execute(&s.lock_keys, &[&locks]).map_err(pg)?;
            }
            if !batch.expects.is_empty() {
                let trees: Vec<&str> = batch.expects.iter().map(|(t, _, _)| t.name()).collect();
                let keys: Vec<&[u8]> = batch.expects.iter().map(|(_, k, _)| k.as_slice()).collect();
                let rows = tx.query(&s.expects, &[&trees, &keys]).map_err(pg)?;
                for ((tree, key, value), row) in batch.expects.iter().zip(&rows) {
                    let now: Option<Vec<u8>> = row.get(0);
                    if now.as_deref() != value.as_deref() {
                        // Dropping the transaction rolls it back: nothing is written.
                        return Err(StoreError::Conflict {
                            tree: tree.name(),
                            key: escape_key(key),
                        });
                    }
                }
            }
            super::tally::keep(&mut batch, &mut InTransaction(&mut tx, &s))?;
            super::grantees::keep(&mut batch, &mut InTransaction(&mut tx, &s))?;
            super::open_rounds::keep(&mut batch, &mut InTransaction(&mut tx, &s))?;
            // Each key's last word in the batch, written in one statement per kind.
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
            if !put.trees.is_empty() {
                tx.execute(&s.upsert_many, &[&put.trees, &put.keys, &put.values])
                    .map_err(pg)?;
            }
            if !gone.trees.is_empty() {
                tx.execute(&s.delete_many, &[&gone.trees, &gone.keys])
                    .map_err(pg)?;
            }
            // The chain: one record at a time across every process, held only for the
            // append and the commit.
            tx.execute(&s.lock_one, &[&COMMIT_LOCK]).map_err(pg)?;
            let row = tx
                .query_one(&s.last_audit, &[&super::audit_index::FROM])
                .map_err(pg)?;
            let last: Option<(Vec<u8>, Vec<u8>)> = row
                .get::<_, Option<Vec<u8>>>(0)
                .zip(row.get::<_, Option<Vec<u8>>>(1));
            let from: Option<Vec<u8>> = row.get(2);
            let written = batch.writes.len();
            let record = next_record(
                last.as_ref().map(|(k, v)| (k.as_slice(), v.as_slice())),
                audit,
                &mut batch,
                from.as_deref(),
            )?;
            // The record and its index entries (new keys: they need no lock of their own,
            // and the chain's lock orders them), in one statement.
            let seq = record.seq.to_be_bytes();
            let body = json(&record);
            let mut tail = Columns::default();
            for (tree, key, value) in &batch.writes[written..] {
                tail.push(tree.name(), key, Some(value.as_deref().unwrap_or_default()));
            }
            tail.push(Tree::Audit.name(), &seq, Some(&body));
            tx.execute(&s.upsert_many, &[&tail.trees, &tail.keys, &tail.values])
                .map_err(pg)?;
            tx.commit().map_err(pg)?;
            Ok(record)
        })
    }

    fn restore(&self, entries: TreeEntries) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(pg)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK])
                .map_err(pg)?;
            let upsert = tx.prepare(UPSERT).map_err(pg)?;
            for (tree, key, value) in &entries {
                tx.execute(&upsert, &[&tree.name(), key, value])
                    .map_err(pg)?;
            }
            tx.commit().map_err(pg)
        })
    }
}

/// Reads inside a commit's transaction, under its keys' locks.
struct InTransaction<'a, 'b>(&'a mut postgres::Transaction<'b>, &'a Statements);

impl super::tally::Reads for InTransaction<'_, '_> {
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .0
            .query_opt(&self.1.get, &[&tree.name(), &key])
            .map_err(pg)?
            .map(|r| r.get(0)))
    }
    fn scan(&mut self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        let end = successor(prefix);
        let rows = self
            .0
            .query(
                "SELECT key, value FROM laurel_kv WHERE tree = $1 AND key >= $2
                 AND ($3::bytea IS NULL OR key < $3) ORDER BY key",
                &[&tree.name(), &prefix, &end],
            )
            .map_err(pg)?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_has_a_successor_unless_it_is_all_ff() {
        assert_eq!(successor(b"a\0"), Some(b"a\x01".to_vec()));
        assert_eq!(successor(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(successor(b"\xff\xff"), None);
        assert_eq!(successor(b""), None);
    }

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redact("postgres://laurel:s3cret@127.0.0.1:5432/laurel"),
            "postgres://laurel@127.0.0.1:5432/laurel"
        );
        assert_eq!(redact("postgres://127.0.0.1/x"), "postgres://127.0.0.1/x");
    }
}
