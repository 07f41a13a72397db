//! The PostgreSQL store's tests, each on a throwaway cluster.

use super::*;

#[test]
fn a_prefix_has_a_successor_unless_it_is_all_ff() {
    assert_eq!(successor(b"a\0"), Some(b"a\x01".to_vec()));
    assert_eq!(successor(b"a\xff"), Some(b"b".to_vec()));
    assert_eq!(successor(b"\xff\xff"), None);
    assert_eq!(successor(b""), None);
}

/// A proxy between a client and the database that counts round trips: the times the
/// client speaks again after the database has answered.
fn counting_proxy(port: u16) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let local = listener.local_addr().unwrap().port();
    let turns = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = turns.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let client = client.unwrap();
            let server = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            // Whether the database spoke last.
            let answered = std::sync::Arc::new(AtomicBool::new(true));
            let pipe =
                |mut from: std::net::TcpStream, mut to: std::net::TcpStream, asking: bool| {
                    let (answered, turns) = (answered.clone(), counted.clone());
                    std::thread::spawn(move || {
                        let mut buf = vec![0u8; 1 << 16];
                        while let Ok(n @ 1..) = from.read(&mut buf) {
                            if asking {
                                if answered.swap(false, Ordering::SeqCst) {
                                    turns.fetch_add(1, Ordering::SeqCst);
                                }
                            } else {
                                answered.store(true, Ordering::SeqCst);
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                };
            pipe(
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                true,
            );
            pipe(server, client, false);
        }
    });
    (local, turns)
}

/// A commit is three round trips however many statements it runs: the keys' locks, the
/// expected values and what the counts read; the writes, the chain's lock and its last
/// record; the record and the commit. Counted on the wire, by a proxy.
#[test]
fn a_commit_takes_three_round_trips() {
    use std::sync::atomic::Ordering;
    let pg = super::super::pg_cluster::Cluster::start();
    let url = pg.database();
    PgStore::open(PgOptions::new(&url), true).unwrap();
    let (port, turns) = counting_proxy(pg.port);
    let proxied = url.replace(&format!(":{}/", pg.port), &format!(":{port}/"));
    let mut options = PgOptions::new(&format!("{proxied}?sslmode=disable"));
    options.pool_size = 1;
    let store = PgStore::open(options, false).unwrap();
    let submit = |store: &PgStore, app: &str| {
        let mut batch = Batch::new();
        let k = super::super::key(&[b"award", app.as_bytes()]);
        let status = br#"{"status":"submitted","eligibility":{"status":"eligible"}}"#;
        batch
            .expect(Tree::Applications, k.clone(), None)
            .expect(Tree::Awards, b"award".to_vec(), Some(b"{}".to_vec()))
            .put(Tree::Applications, k, status.to_vec())
            .put(Tree::Drafts, b"award\0someone".to_vec(), b"{}".to_vec());
        store.commit(
            batch,
            AuditEntry {
                actor: "test".into(),
                action: "application.submit".into(),
                target: app.into(),
                detail: serde_json::json!({}),
            },
        )
    };
    let mut award = Batch::new();
    award.put(Tree::Awards, b"award".to_vec(), b"{}".to_vec());
    store
        .commit(
            award,
            AuditEntry {
                actor: "test".into(),
                action: "award.create".into(),
                target: "award".into(),
                detail: serde_json::json!({}),
            },
        )
        .unwrap();
    submit(&store, "first").unwrap();
    for app in ["second", "third"] {
        let before = turns.load(Ordering::SeqCst);
        let record = submit(&store, app).unwrap();
        assert_eq!(turns.load(Ordering::SeqCst) - before, 3, "{app}");
        assert!(record.seq > 1);
    }
    // A conflict costs one round trip and the rollback, and writes nothing.
    let before = turns.load(Ordering::SeqCst);
    assert!(matches!(
        submit(&store, "third"),
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(turns.load(Ordering::SeqCst) - before, 2);
    let counts = store
        .get(Tree::Meta, &super::super::tally::counts_key("award"))
        .unwrap()
        .unwrap();
    assert_eq!(counts, br#"{"eligible":3}"#.to_vec());
    let (records, problems) = super::super::verify_store(&store, None).unwrap();
    assert_eq!((records.len(), problems), (4, Vec::<String>::new()));
}

fn entry(action: &str) -> AuditEntry {
    AuditEntry {
        actor: "test".into(),
        action: action.into(),
        target: "t".into(),
        detail: serde_json::json!({}),
    }
}

/// The actions of a store's audit records, which verify against its data.
fn verified_actions(store: &dyn Store) -> Vec<String> {
    let (records, problems) = super::super::verify_store(store, None).unwrap();
    assert_eq!(problems, Vec::<String>::new());
    records.into_iter().map(|r| r.action).collect()
}

/// Commits `key` of `keys` set to `value`, audited as `key`.
fn put(store: &PgStore, key: &str, value: &str) -> AuditRecord {
    let mut batch = Batch::new();
    batch.put(
        Tree::Keys,
        key.as_bytes().to_vec(),
        value.as_bytes().to_vec(),
    );
    store.commit(batch, entry(key)).unwrap()
}

/// Commits from two stores on one database (two processes), eight threads at once, each
/// writing keys of its own and keys all of them write: one chain, numbered without gaps,
/// each commit's record in it once, every value the one its key's last record wrote, and
/// no entry left waiting.
#[test]
fn commits_from_two_processes_seal_one_chain_in_every_key_order() {
    let pg = super::super::pg_cluster::Cluster::start();
    let url = pg.database();
    let a = PgStore::open(PgOptions::new(&url), true).unwrap();
    let b = PgStore::open(PgOptions::new(&url), false).unwrap();
    let answered: Vec<AuditRecord> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = if t % 2 == 0 { &a } else { &b };
                s.spawn(move || {
                    (0..40)
                        .map(|i| {
                            let mut batch = Batch::new();
                            let own = format!("app-{t}-{i}");
                            batch.put(
                                Tree::Applications,
                                super::super::key(&[b"award", own.as_bytes()]),
                                own.clone().into_bytes(),
                            );
                            batch.put(
                                Tree::Keys,
                                format!("shared-{}", i % 3).into_bytes(),
                                format!("{t}-{i}").into_bytes(),
                            );
                            store.commit(batch, entry(&own)).unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut seqs: Vec<u64> = answered.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=320).collect::<Vec<u64>>());
    let memory = super::super::MemoryStore::default();
    memory.restore(a.snapshot().unwrap()).unwrap();
    let (records, problems) = super::super::verify_store(&memory, None).unwrap();
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(records, {
        let mut r = answered.clone();
        r.sort_by_key(|r| r.seq);
        r
    });
    let waiting: i64 = a
        .with(|c| {
            c.driver
                .run(
                    c.client
                        .query_one("SELECT count(*) FROM laurel_audit_pending", &[]),
                )
                .map_err(super::pg)
        })
        .unwrap()
        .get(0);
    assert_eq!(waiting, 0);
}

/// While another holds the chain (a sealer, another process), commits store their data
/// without waiting for it, then wait to be sealed: the first to get the chain seals every
/// entry waiting, and the other finds its own sealed and answers with its record.
#[test]
fn commits_store_their_data_while_the_chain_is_held_and_one_seals_for_both() {
    let pg = super::super::pg_cluster::Cluster::start();
    let url = pg.database();
    let store = PgStore::open(PgOptions::new(&url), true).unwrap();
    let mut holder = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    holder.batch_execute("BEGIN").unwrap();
    holder
        .execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK])
        .unwrap();
    let records: Vec<AuditRecord> = std::thread::scope(|s| {
        let commits: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|k| {
                let store = &store;
                s.spawn(move || put(store, k, "v"))
            })
            .collect();
        // Both commits' data is stored (read from another connection) while neither has
        // answered: the chain's lock is still held.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while ["a", "b"]
            .iter()
            .any(|k| store.get(Tree::Keys, k.as_bytes()).unwrap().is_none())
        {
            assert!(std::time::Instant::now() < deadline, "the data waited");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(commits.iter().all(|h| !h.is_finished()));
        assert_eq!(super::super::head(&store).unwrap(), None);
        holder.batch_execute("COMMIT").unwrap();
        commits.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, [1, 2]);
    let (chain, problems) = super::super::verify_store(&store, None).unwrap();
    assert_eq!(problems, Vec::<String>::new());
    for r in &records {
        assert_eq!(&chain[r.seq as usize - 1], r);
    }
    // Both went through the waiting table, and nothing is left in it.
    let mut check = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let row = check
        .query_one(
            "SELECT (SELECT count(*) FROM laurel_audit_pending),
                    (SELECT last_value FROM laurel_audit_pending_id_seq)",
            &[],
        )
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (0, 2));
}

/// A database made before entries could wait (schema 1) is refused until migrated, and
/// its chain goes on after the migration.
#[test]
fn a_database_at_schema_1_is_migrated_and_its_chain_goes_on() {
    let pg = super::super::pg_cluster::Cluster::start();
    let url = pg.database();
    let store = PgStore::open(PgOptions::new(&url), true).unwrap();
    put(&store, "first", "1");
    drop(store);
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    raw.batch_execute(
        "DROP TABLE laurel_audit_pending; DELETE FROM laurel_migrations WHERE version = 2",
    )
    .unwrap();
    let refused = PgStore::open(PgOptions::new(&url), false).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("version 1, this laurel needs 2"),
        "{refused}"
    );
    let store = PgStore::open(PgOptions::new(&url), true).unwrap();
    assert_eq!(store.schema_version().unwrap(), (2, 2));
    assert_eq!(put(&store, "next", "2").seq, 2);
    let (records, problems) = super::super::verify_store(&store, None).unwrap();
    assert_eq!((records.len(), problems), (2, Vec::<String>::new()));
}

/// A process that stopped between its commit and its seal leaves its entry waiting: a
/// snapshot seals it in the copy (the data it wrote is covered), and the next commit from
/// any process seals it in the database, before its own.
#[test]
fn an_entry_left_waiting_is_sealed_by_the_next_commit() {
    let pg = super::super::pg_cluster::Cluster::start();
    let url = pg.database();
    let store = PgStore::open(PgOptions::new(&url), true).unwrap();
    put(&store, "first", "1");
    // The stopped process's commit: its data and its entry, nothing sealed.
    let mut orphan = Batch::new();
    orphan.put(Tree::Keys, b"orphan".to_vec(), b"2".to_vec());
    let pending = Pending::new(
        entry("orphan"),
        super::super::writes_of(&orphan),
        super::super::now(),
    );
    store
        .with(|c| {
            let (d, cl) = (&mut c.driver, &c.client);
            d.run(cl.execute(
                "INSERT INTO laurel_kv VALUES ('keys', 'orphan'::bytea, '2'::bytea)",
                &[],
            ))
            .map_err(super::pg)?;
            d.run(cl.execute(INSERT_PENDING, &[&json(&pending)]))
                .map_err(super::pg)
        })
        .unwrap();
    let copy = super::super::MemoryStore::default();
    copy.restore(store.read_snapshot().unwrap()).unwrap();
    assert_eq!(verified_actions(&copy), ["first", "orphan"]);
    assert_eq!(super::super::head(&store).unwrap().unwrap().seq, 1);
    let record = put(&store, "next", "3");
    assert_eq!(record.seq, 3);
    assert_eq!(verified_actions(&store), ["first", "orphan", "next"]);
    let records: Vec<AuditRecord> = super::super::scan_json(&store, Tree::Audit, b"").unwrap();
    // The copy sealed it as the database did.
    assert_eq!(
        records[1],
        super::super::scan_json::<AuditRecord>(&copy, Tree::Audit, b"").unwrap()[1]
    );
}

/// A key a commit only reads is locked shared: commits that read the same round run side by
/// side while another transaction holds its lock shared, and a commit that writes it waits
/// for that transaction; a key held exclusively holds back a commit that only reads it.
#[test]
fn a_key_only_read_is_locked_shared_and_a_key_written_exclusively() {
    use std::sync::mpsc;
    let pg = super::super::pg_cluster::Cluster::start();
    let url = pg.database();
    let store = std::sync::Arc::new(PgStore::open(PgOptions::new(&url), true).unwrap());
    let audit = || AuditEntry {
        actor: "test".into(),
        action: "t".into(),
        target: "t".into(),
        detail: serde_json::json!({}),
    };
    let mut setup = Batch::new();
    setup.put(Tree::Rounds, b"r".to_vec(), b"{}".to_vec());
    store.commit(setup, audit()).unwrap();
    let round = lock_of(Tree::Rounds, b"r");
    // A commit in a thread: whether it is done within `wait`.
    let commit_within = |batch: Batch, wait: Duration| {
        let (tx, rx) = mpsc::channel();
        let store = store.clone();
        let done = std::thread::spawn(move || {
            let _ = tx.send(store.commit(batch, audit()).map(|r| r.seq));
        });
        (rx.recv_timeout(wait).ok(), rx, done)
    };
    let reads_round = |mark: &[u8]| {
        let mut b = Batch::new();
        b.expect(Tree::Rounds, b"r".to_vec(), Some(b"{}".to_vec()))
            .put(Tree::RoundMarks, mark.to_vec(), b"{}".to_vec());
        b
    };
    let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut holder = other.transaction().unwrap();
    holder
        .execute("SELECT pg_advisory_xact_lock_shared($1)", &[&round])
        .unwrap();
    // Reading the round: not held back by a shared holder.
    let (done, _, t) = commit_within(reads_round(b"m1"), Duration::from_secs(10));
    assert!(matches!(done, Some(Ok(_))), "{done:?}");
    t.join().unwrap();
    // Writing it: waits for the holder, then commits.
    let mut write = Batch::new();
    write.put(Tree::Rounds, b"r".to_vec(), b"{}".to_vec());
    let (done, rx, t) = commit_within(write, Duration::from_millis(700));
    assert!(
        done.is_none(),
        "a write of a key held shared must wait: {done:?}"
    );
    holder.commit().unwrap();
    assert!(matches!(
        rx.recv_timeout(Duration::from_secs(10)),
        Ok(Ok(_))
    ));
    t.join().unwrap();
    // Held exclusively, the round holds back a commit that only reads it.
    let mut holder = other.transaction().unwrap();
    holder
        .execute("SELECT pg_advisory_xact_lock($1)", &[&round])
        .unwrap();
    let (done, rx, t) = commit_within(reads_round(b"m2"), Duration::from_millis(700));
    assert!(
        done.is_none(),
        "a read of a key held exclusively must wait: {done:?}"
    );
    holder.commit().unwrap();
    assert!(matches!(
        rx.recv_timeout(Duration::from_secs(10)),
        Ok(Ok(_))
    ));
    t.join().unwrap();
    let (records, problems) = super::super::verify_store(store.as_ref(), None).unwrap();
    assert_eq!((records.len(), problems), (4, Vec::<String>::new()));
}

/// Every statement a commit or a read runs goes through the primary key, even planned as
/// a generic plan on a nearly empty table and then run on a large one (as a connection
/// that prepared its statements when the database was new runs them a million rows later).
#[test]
fn statements_use_the_primary_key_however_small_the_table_was_when_planned() {
    let pg = super::super::pg_cluster::Cluster::start();
    let url = pg.database();
    PgStore::open(PgOptions::new(&url), true).unwrap();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(
        "INSERT INTO laurel_kv VALUES ('meta', 'a', 'x'), ('audit', 'b', 'y');
         SET plan_cache_mode = force_generic_plan",
    )
    .unwrap();
    let sql = statements_sql();
    let statements: [(&str, &str, &str); 11] = [
        (
            sql.expects,
            "text[], bytea[]",
            r#"'{meta,audit}', '{"\\x61","\\x62"}'"#,
        ),
        (sql.delete_one, "text, bytea", r"'meta', '\x61'"),
        (sql.get, "text, bytea", r"'meta', '\x61'"),
        (sql.last, "text", "'audit'"),
        (
            &sql.scan_from,
            "text, bytea, bytea, int8",
            r"'meta', '\x61', '\x62', 50",
        ),
        (
            &sql.scan_after,
            "text, bytea, bytea, int8",
            r"'meta', '\x61', '\x62', 50",
        ),
        (
            &sql.scan_from_open,
            "text, bytea, int8",
            r"'meta', '\x61', 50",
        ),
        (
            &sql.scan_after_open,
            "text, bytea, int8",
            r"'meta', '\x61', 50",
        ),
        (
            sql.scan_all,
            "text, bytea, bytea",
            r"'meta', '\x61', '\x62'",
        ),
        (sql.last_audit, "bytea", r"'\x61'"),
        (
            sql.upsert_many,
            "text[], bytea[], bytea[]",
            r#"'{meta}', '{"\\x61"}', '{"\\x7a"}'"#,
        ),
    ];
    // Prepared and planned (a generic plan, kept) while the table holds two rows.
    for (i, (text, types, args)) in statements.iter().enumerate() {
        c.batch_execute(&format!(
            "PREPARE probe_{i}({types}) AS {text}; EXPLAIN EXECUTE probe_{i}({args})"
        ))
        .unwrap();
    }
    // The table grows after the plans were made (and is never analysed meanwhile).
    c.batch_execute(
        "INSERT INTO laurel_kv SELECT 'history', int8send(i), 'v'
         FROM generate_series(1, 50000) AS i",
    )
    .unwrap();
    for (i, (text, _, args)) in statements.iter().enumerate() {
        let plan: Vec<String> = c
            .query(&format!("EXPLAIN EXECUTE probe_{i}({args})"), &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let plan = plan.join("\n");
        assert!(!plan.contains("Seq Scan on laurel_kv"), "{text}\n{plan}");
    }
}

#[test]
fn urls_lose_their_password_in_messages() {
    assert_eq!(
        redact("postgres://laurel:s3cret@127.0.0.1:5432/laurel"),
        "postgres://laurel@127.0.0.1:5432/laurel"
    );
    assert_eq!(redact("postgres://127.0.0.1/x"), "postgres://127.0.0.1/x");
}

/// A database call on a thread that may wait in place (a writes' thread, an async runtime's
/// worker) runs there: the connection is driven by the calling thread without a runtime of
/// its own (entering one from a worker panics). A value larger than the socket's buffers,
/// which the driver writes in several turns of waiting until the socket can take more and
/// reads in several turns of waiting until it has more, comes back whole, over TLS too.
#[test]
fn a_worker_that_may_block_calls_the_database_in_place_and_large_values_cross_whole() {
    let pg = super::super::pg_cluster::Cluster::start_tls();
    let url = pg.database();
    PgStore::open(PgOptions::new(&url), true).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("may-block")
        .on_thread_start(may_block_here)
        .build()
        .unwrap();
    for mode in ["disable", "require"] {
        let mut options = PgOptions::new(&format!("{url}?sslmode={mode}"));
        options.ca_file = Some(pg.ca_file());
        let store = std::sync::Arc::new(PgStore::open(options, false).unwrap());
        // 12 MiB, no byte pattern repeating at a power of two.
        let value: Vec<u8> = (0..12u32 << 20).map(|i| (i % 251) as u8).collect();
        let key = format!("large-{mode}");
        let (back, thread) = runtime
            .block_on(runtime.spawn({
                let (store, value, key) = (store.clone(), value.clone(), key.clone());
                async move {
                    let mut batch = Batch::new();
                    batch.put(Tree::Keys, key.as_bytes().to_vec(), value);
                    store.commit(batch, entry(&key)).unwrap();
                    let back = store.get(Tree::Keys, key.as_bytes()).unwrap();
                    (back, std::thread::current().name().map(str::to_owned))
                }
            }))
            .unwrap();
        assert_eq!(thread.as_deref(), Some("may-block"), "{mode}");
        assert!(
            back.as_deref() == Some(value.as_slice()),
            "{mode}: not the value written"
        );
    }
}
