//! The audit chain's head, witnessed outside the data: a small file beside the data key
//! (`<data folder>.witness`), rewritten in place after every commit this process makes, so that a copy of
//! the data folder rolled back or cut short (its newest records removed: a shorter chain that
//! is still valid) no longer holds the head the witness saw. `laurel audit verify` checks the
//! chain against the newest witness it finds: this file, and the head each results certificate
//! names.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::store::Head;

/// What a witness file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The newest record seen.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
    /// When.
    pub at: String,
}

/// The witness file of one process, kept open, with the newest head it wrote.
#[derive(Debug)]
pub struct Witness {
    path: PathBuf,
    state: Mutex<(u64, Option<std::fs::File>)>,
}

/// The witness is one record of this many bytes, rewritten in place by one positioned write (a
/// write within one disk sector is not torn), JSON padded with spaces.
const RECORD: usize = 256;

impl Witness {
    /// The witness at `path` of a chain whose head is record `head` (0: none yet), written on
    /// the next commit.
    pub fn new(path: PathBuf, head: u64) -> Self {
        let newest = head;
        Self {
            path,
            state: Mutex::new((newest, None)),
        }
    }

    /// Notes `head` if it is newer than what the file holds, in place: a few microseconds, so
    /// every commit is witnessed. A failure to write is logged, never fails the commit that
    /// was made.
    pub fn note(&self, head: &Head) {
        use std::os::unix::fs::FileExt;
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if head.seq <= state.0 {
            return;
        }
        let seen = Seen {
            seq: head.seq,
            hash: head.hash.clone(),
            at: crate::store::now(),
        };
        let mut bytes = crate::store::json(&seen);
        if bytes.len() > RECORD {
            return;
        }
        bytes.resize(RECORD, b' ');
        if state.1.is_none() {
            state.1 = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&self.path)
                .map_err(|e| {
                    tracing::warn!(
                        "cannot open the audit witness `{}`: {e}",
                        self.path.display()
                    );
                })
                .ok();
        }
        let Some(file) = &state.1 else {
            return;
        };
        match file.write_all_at(&bytes, 0) {
            Ok(()) => state.0 = head.seq,
            Err(e) => tracing::warn!(
                "cannot write the audit witness `{}`: {e}",
                self.path.display()
            ),
        }
    }
}

/// Writes `head` to the witness file at `path` now, replacing what it held, and syncs it: for a
/// chain restored on purpose, older than what the witness saw.
pub fn replace(path: &Path, head: &Head) -> std::io::Result<()> {
    let seen = Seen {
        seq: head.seq,
        hash: head.hash.clone(),
        at: crate::store::now(),
    };
    let mut bytes = crate::store::json(&seen);
    bytes.resize(bytes.len().max(RECORD), b' ');
    std::fs::write(path, &bytes)?;
    std::fs::File::open(path)?.sync_all()?;
    crate::store::folders::sync_parent(path)
}

/// Why a server must not serve `store`: the witness file at `path` saw a record the audit
/// chain does not hold (with the hash it saw), so records the server acknowledged are gone (a
/// damaged disk that cut the database short, or the data replaced by an older copy). An empty
/// chain beside a witness that saw a record is refused too: the database lost everything (a
/// damaged first record, a folder emptied or replaced), and serving it would start a new
/// installation over the key and witness of the old one. `None` when there is no witness or
/// when the chain holds what it saw.
pub fn contradicted(
    path: &Path,
    store: &dyn crate::store::Store,
) -> Result<Option<String>, String> {
    let Some(seen) = read(path) else {
        return Ok(None);
    };
    let head = crate::store::head(store).map_err(|e| e.to_string())?;
    let Some(head) = head else {
        return Ok(Some(format!(
            "the database holds no audit record, but the witness file `{}` saw record {} at {}: \
             every record this server acknowledged is gone, because the data folder (or \
             database) was emptied or replaced, or the disk lost its first record. Nothing was \
             written. Restore the newest backup, or point `--data`/`--store` at the data the \
             witness saw; to start a new database on purpose, remove the witness file (or use a \
             key file of its own)",
            path.display(),
            seen.seq,
            seen.at
        )));
    };
    let held: Option<crate::store::AuditRecord> =
        crate::store::get_json(store, crate::store::Tree::Audit, &seen.seq.to_be_bytes())
            .map_err(|e| e.to_string())?;
    if held.is_some_and(|r| r.hash == seen.hash) {
        return Ok(None);
    }
    Ok(Some(format!(
        "the audit chain (ending at record {}) does not hold record {} as the witness file `{}` \
         saw it at {}: records this server acknowledged are gone, because the disk cut the \
         database short or the data was replaced by an older copy. Nothing was written. \
         `laurel audit verify` says what the chain holds and `laurel salvage` recovers what it \
         vouches for; restore the newest backup, or, to serve the data as it is, remove the \
         witness file",
        head.seq,
        seen.seq,
        path.display(),
        seen.at
    )))
}

/// The witness file at `path`, if there is a readable one.
pub fn read(path: &Path) -> Option<Seen> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(text.trim_end()).ok()
}

/// The witness file's path beside a data key file (`laurel-data.key` -> `laurel-data.witness`).
pub fn path_beside(key_file: &Path) -> PathBuf {
    key_file.with_extension("witness")
}
