//! The sled store: one tree per `Tree`, multi-tree transactions, and a flush before any commit
//! returns, so that an acknowledged write survives a crash.
//!
//! Group commit: commits are applied one at a time (the audit chain is one sequence, in commit
//! order), but they do not wait for each other's flushes. A commit that finds no flush running
//! flushes for every commit applied so far (it leads); one that finds a flush running waits for
//! the next that covers it (it follows). Eight writers then share one flush where they waited
//! for eight. sled's log is written in order, so a crash keeps a prefix of the commits (never
//! one without those before it), and every acknowledged commit is in that prefix.
//!
//! Durable means on the device: sled's flush writes its log (the copy built here without
//! upstream's `sync_file_range`, which flushed neither the drive's cache nor the file's size:
//! `vendor/sled/PATCH.md`), so the leading commit's flush is followed by `fdatasync` of the
//! log: an acknowledged commit has been through `fdatasync` (`tests/durability.rs` traces the
//! system calls between each write and its answer). A page too large for the log is written
//! as a file of its own (`blobs/`), which this copy of sled syncs, with its name, before the
//! log can point to it (upstream synced neither, and Laurel's sync of new blob files after the
//! flush could see one half written and never sync it again: a power cut then lost the page,
//! and with it values acknowledged before). The folders and files sled creates are synced
//! into their folders when the store opens (`folders.rs`). `tests/durability.rs` rebuilds the
//! folder as a power cut would leave it, from a trace of the system calls.

use std::path::Path;
use std::sync::{Condvar, Mutex};

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{
    AuditEntry, AuditRecord, Batch, Entries, Store, StoreError, Tree, escape_key, json, next_record,
};

/// A sled database.
pub struct SledStore {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    /// Commits are serialised: the audit chain is one sequence, and sled's optimistic
    /// transactions would otherwise retry against each other. Holds the number of commits
    /// applied.
    commit: Mutex<u64>,
    /// How far the log is durable, and whether a flush is running.
    flushed: Mutex<Flushed>,
    /// Signalled when a flush ends.
    flush_done: Condvar,
    /// sled's files, synced after its flush.
    files: Mutex<Files>,
    /// Flushes so far (each made durable every commit applied before it).
    flush_count: std::sync::atomic::AtomicU64,
    /// Why the store stopped: the disk refused a write (a full disk, a failing device) after
    /// commits were applied in memory, failed a read, or returned damaged data. From then on
    /// every read and write is refused.
    stopped: std::sync::OnceLock<Stopped>,
}

/// sled's log, synced after its flush.
struct Files {
    /// The log (`db`).
    log: std::fs::File,
}

impl Files {
    /// `fdatasync` of the log. (sled syncs each blob file, and its name, before the log can
    /// point to it: `vendor/sled/PATCH.md`.)
    fn sync(&mut self) -> std::io::Result<()> {
        self.log.sync_data()
    }
}

#[derive(Default)]
struct Flushed {
    /// Every commit up to this number is durable.
    upto: u64,
    /// A commit is flushing now.
    running: bool,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

/// What the device said, as the system says it: "No space left on device (os error 28)" (sled
/// wraps the system's error in one of its own, whose text is the original's debug form).
fn device(e: &sled::Error) -> String {
    match e {
        sled::Error::Io(io) => match io.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
            None => io.to_string(),
        },
        other => other.to_string(),
    }
}

/// Why the store stopped: what happened, as the answers and the log say it, and what to do.
#[derive(Debug, Clone)]
struct Stopped {
    what: String,
    advice: &'static str,
}

const GIVE_ROOM: &str = "give the disk room (or mend it) and restart the server";

impl Stopped {
    /// sled's writing failed (its flush, the log's sync, a transaction's write).
    fn refused_write(e: &str) -> Self {
        Self {
            what: format!("the disk refused a write ({e})"),
            advice: GIVE_ROOM,
        }
    }

    /// What a failed read means: the device failed it, or it read damaged data.
    fn read(e: &sled::Error) -> Option<Self> {
        match e {
            sled::Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => Some(Self {
                what: format!("a file of the database is gone ({})", device(e)),
                advice: "restart the server, which looks for every file the data is read from \
                         as it opens, and refuses a folder that lost one: then restore the data \
                         folder from a backup, or put the file back",
            }),
            sled::Error::Io(_) => Some(Self {
                what: format!("the disk failed a read ({})", device(e)),
                advice: GIVE_ROOM,
            }),
            sled::Error::Corruption { at, .. } => Some(Self::damaged(*at)),
            _ => None,
        }
    }

    /// A checksum did not match: the disk returned something other than what was written. A
    /// restart checks the whole database as it opens it (and refuses one damaged on the disk).
    fn damaged(at: Option<sled::DiskPtr>) -> Self {
        Self {
            what: format!("the disk returned damaged data ({})", Self::checksum(at)),
            advice: "restart the server, which checks the database as it opens it: a database \
                     damaged on the disk is then refused, and `laurel salvage` recovers what \
                     the audit chain vouches for",
        }
    }

    /// Where a checksum did not match, when sled says.
    fn checksum(at: Option<sled::DiskPtr>) -> String {
        match at {
            Some(sled::DiskPtr::Blob(_, blob)) => {
                format!("a checksum did not match in the database's file `blobs/{blob}`")
            }
            Some(sled::DiskPtr::Inline(offset)) => {
                format!("a checksum did not match in the database's log at byte {offset}")
            }
            None => "a checksum did not match".to_owned(),
        }
    }

    /// What every read and write answers once the store has stopped.
    fn answer(&self) -> StoreError {
        StoreError::Stopped(format!(
            "{}, so this server no longer serves its data: {}. A write answered with an error \
             may or may not have been stored: read it back after the restart",
            self.what, self.advice
        ))
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SledStore {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        super::folders::create(dir).map_err(backend)?;
        let db = sled::Config::new().path(dir).open().map_err(|e| match e {
            sled::Error::Corruption { at, .. } => StoreError::Backend(format!(
                "the database is damaged ({}): it cannot be opened as it is. Restore the \
                     newest backup, or recover what the audit chain vouches for with `laurel \
                     salvage`",
                Stopped::checksum(at)
            )),
            e => backend(e),
        })?;
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        // The files sled created, and the folder's entries for them, on the device: sled
        // writes its `conf` without syncing it.
        let mut files = Files {
            log: std::fs::File::open(dir.join("db")).map_err(backend)?,
        };
        files.sync().map_err(backend)?;
        std::fs::File::open(dir.join("conf"))
            .and_then(|c| c.sync_all())
            .and_then(|()| super::folders::sync(dir))
            .map_err(backend)?;
        Ok(Self {
            db,
            trees,
            commit: Mutex::new(0),
            flushed: Mutex::new(Flushed::default()),
            flush_done: Condvar::new(),
            files: Mutex::new(files),
            flush_count: std::sync::atomic::AtomicU64::new(0),
            stopped: std::sync::OnceLock::new(),
        })
    }

    /// Returns once commit number `n` is durable: flushing for it and every commit applied
    /// before the flush starts, or waiting for a running flush and then, if that did not
    /// cover it, for the next.
    fn durable(&self, n: u64) -> Result<(), StoreError> {
        let mut state = self.flushed.lock().map_err(backend)?;
        loop {
            if state.upto >= n {
                return Ok(());
            }
            // A flush that failed stopped the store: no later one may make it durable after all.
            self.refused()?;
            if state.running {
                state = self.flush_done.wait(state).map_err(backend)?;
                continue;
            }
            state.running = true;
            drop(state);
            // Everything applied before the flush starts is in it.
            let covers = *self.commit.lock().map_err(backend)?;
            let flushed = self.db.flush().map_err(|e| device(&e)).and_then(|_| {
                let mut files = self.files.lock().map_err(|e| e.to_string())?;
                files.sync().map_err(|e| e.to_string())
            });
            state = self.flushed.lock().map_err(backend)?;
            state.running = false;
            if flushed.is_ok() {
                self.flush_count
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                state.upto = state.upto.max(covers);
            }
            self.flush_done.notify_all();
            if let Err(e) = flushed {
                return Err(self.stop(Stopped::refused_write(&e)));
            }
        }
    }

    /// Stops the store: commits it applied in memory could not be made durable, so what this
    /// process holds may be ahead of the disk (sled cannot take an applied commit back). Serving
    /// it would show writes that were answered as failed and may be gone after a restart, and
    /// chain new commits onto them: every read and write is refused from now on, and a restart
    /// reads back what the disk holds.
    fn stop(&self, why: Stopped) -> StoreError {
        if self.stopped.set(why.clone()).is_ok() {
            tracing::error!(
                "{}: the store takes no more reads or writes, and readiness answers 503; {}",
                why.what,
                why.advice
            );
        }
        // The first reason, when several threads failed at once.
        self.stopped.get().unwrap_or(&why).answer()
    }

    /// A read that failed: when the device failed it, or returned damaged data (a checksum
    /// that does not match), the store stops, as when a flush fails: what else it holds on that
    /// disk cannot be trusted, and a restart checks the whole database.
    fn read_failed(&self, e: sled::Error) -> StoreError {
        match Stopped::read(&e) {
            Some(why) => self.stop(why),
            None => backend(e),
        }
    }

    /// Refuses every read and write once the store has stopped (see [`SledStore::stop`]).
    fn refused(&self) -> Result<(), StoreError> {
        self.stopped.get().map_or(Ok(()), |why| Err(why.answer()))
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree.index()]
    }
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.refused()?;
        Ok(self
            .tree(tree)
            .get(key)
            .map_err(|e| self.read_failed(e))?
            .map(|v| v.to_vec()))
    }

    fn scan_from(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.refused()?;
        let start = match after {
            Some(a) => std::ops::Bound::Excluded(a.to_vec()),
            None => std::ops::Bound::Included(prefix.to_vec()),
        };
        self.tree(tree)
            .range::<Vec<u8>, _>((start, std::ops::Bound::Unbounded))
            .take_while(|r| r.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
            .take(limit)
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| self.read_failed(e))
            })
            .collect()
    }

    fn keys(&self, tree: Tree, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        self.refused()?;
        self.tree(tree)
            .scan_prefix(prefix)
            .keys()
            .map(|k| k.map(|k| k.to_vec()).map_err(|e| self.read_failed(e)))
            .collect()
    }

    fn last(&self, tree: Tree) -> Result<Option<super::Entry>, StoreError> {
        self.refused()?;
        Ok(self
            .tree(tree)
            .last()
            .map_err(|e| self.read_failed(e))?
            .map(|(k, v)| (k.to_vec(), v.to_vec())))
    }

    fn commit(&self, mut batch: Batch, audit: AuditEntry) -> Result<AuditRecord, StoreError> {
        let mut applied = self.commit.lock().map_err(backend)?;
        self.refused()?;
        // Every commit holds the lock: what the tally reads is what the batch changes.
        super::indexes::keep_all(&mut batch, &mut Reader(self))?;
        let last = self
            .tree(Tree::Audit)
            .last()
            .map_err(|e| self.read_failed(e))?;
        let from = self
            .tree(Tree::Meta)
            .get(super::audit_index::FROM)
            .map_err(|e| self.read_failed(e))?;
        let record = next_record(
            last.as_ref().map(|(k, v)| (k.as_ref(), v.as_ref())),
            audit,
            &mut batch,
            from.as_deref(),
        )?;
        let record_bytes = json(&record);
        let seq = record.seq;
        // The transaction spans only the trees the batch touches, and the audit: its cost
        // grows with the trees it spans, and commits are applied one at a time.
        let mut used: Vec<Tree> = batch
            .expects
            .iter()
            .map(|(t, _, _)| *t)
            .chain(batch.writes.iter().map(|(t, _, _)| *t))
            .chain([Tree::Audit])
            .collect();
        used.sort_by_key(|t| t.index());
        used.dedup();
        let at = |tree: &Tree| used.iter().position(|u| u == tree).unwrap_or(0);
        let spanned: Vec<sled::Tree> = used.iter().map(|t| self.tree(*t).clone()).collect();
        let result: Result<(), TransactionError<(Tree, Vec<u8>)>> =
            spanned.as_slice().transaction(|tx| {
                for (tree, key, value) in &batch.expects {
                    let now = tx[at(tree)].get(key.as_slice())?;
                    if now.as_deref() != value.as_deref() {
                        return Err(ConflictableTransactionError::Abort((*tree, key.clone())));
                    }
                }
                for (tree, key, value) in &batch.writes {
                    let t = &tx[at(tree)];
                    match value {
                        Some(v) => {
                            t.insert(key.as_slice(), v.as_slice())?;
                        }
                        None => {
                            t.remove(key.as_slice())?;
                        }
                    }
                }
                tx[at(&Tree::Audit)].insert(&seq.to_be_bytes()[..], record_bytes.as_slice())?;
                Ok(())
            });
        match result {
            Ok(()) => {}
            Err(TransactionError::Abort((tree, key))) => {
                return Err(StoreError::Conflict {
                    tree: tree.name(),
                    key: escape_key(&key),
                });
            }
            // sled's own writing failed: what it applied is unknown.
            Err(TransactionError::Storage(e)) => {
                return Err(self.stop(match e {
                    sled::Error::Corruption { at, .. } => Stopped::damaged(at),
                    e => Stopped::refused_write(&device(&e)),
                }));
            }
        }
        *applied += 1;
        let n = *applied;
        drop(applied);
        // Durable before it is acknowledged (sled only syncs every 500 ms on its own), in a
        // flush shared with the commits around it.
        // (Waiting here blocks the caller's thread; handing a tokio worker's tasks on with
        // `block_in_place` measured slower, 2,100-2,300 writes/s against 2,460-2,490.)
        self.durable(n)?;
        Ok(record)
    }

    fn kind(&self) -> &'static str {
        "sled"
    }

    fn flushes(&self) -> Option<(u64, u64)> {
        let commits = self.commit.lock().map_or(0, |n| *n);
        Some((
            commits,
            self.flush_count.load(std::sync::atomic::Ordering::Relaxed),
        ))
    }

    fn restore(&self, entries: super::TreeEntries) -> Result<(), StoreError> {
        let _guard = self.commit.lock().map_err(backend)?;
        self.refused()?;
        for (tree, key, value) in entries {
            self.tree(tree).insert(key, value).map_err(backend)?;
        }
        self.db.flush().map_err(backend)?;
        self.files
            .lock()
            .map_err(backend)?
            .sync()
            .map_err(backend)?;
        Ok(())
    }
}

/// The store read under its commit lock.
struct Reader<'a>(&'a SledStore);

impl super::tally::Reads for Reader<'_> {
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Store::get(self.0, tree, key)
    }
    fn scan(&mut self, tree: Tree, prefix: &[u8]) -> Result<super::Entries, StoreError> {
        Store::scan(self.0, tree, prefix)
    }
}
