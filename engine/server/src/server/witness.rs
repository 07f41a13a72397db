//! The audit chain's head, witnessed outside the data: a small file beside the data key
//! (`<data folder>.witness`), rewritten after every commit this process makes, so that a copy of
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

/// The witness file of one process, with the newest head it wrote.
#[derive(Debug)]
pub struct Witness {
    path: PathBuf,
    newest: Mutex<u64>,
}

impl Witness {
    /// The witness at `path` (written on the first commit).
    pub fn new(path: PathBuf) -> Self {
        let newest = read(&path).map_or(0, |s| s.seq);
        Self {
            path,
            newest: Mutex::new(newest),
        }
    }

    /// Notes `head` if it is newer than what the file holds: written to a temporary file, then
    /// renamed over the witness, so that the file is always whole. A failure to write is
    /// logged, never fails the commit that was made.
    pub fn note(&self, head: &Head) {
        let Ok(mut newest) = self.newest.lock() else {
            return;
        };
        if head.seq <= *newest {
            return;
        }
        let seen = Seen {
            seq: head.seq,
            hash: head.hash.clone(),
            at: crate::store::now(),
        };
        let tmp = self.path.with_extension("witness.tmp");
        let written = std::fs::write(&tmp, crate::store::json(&seen))
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        match written {
            Ok(()) => *newest = head.seq,
            Err(e) => tracing::warn!(
                "cannot write the audit witness `{}`: {e}",
                self.path.display()
            ),
        }
    }
}

/// The witness file at `path`, if there is a readable one.
pub fn read(path: &Path) -> Option<Seen> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The witness file's path beside a data key file (`laurel-data.key` -> `laurel-data.witness`).
pub fn path_beside(key_file: &Path) -> PathBuf {
    key_file.with_extension("witness")
}
