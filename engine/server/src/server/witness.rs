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
    /// The witness at `path` (written on the first commit).
    pub fn new(path: PathBuf) -> Self {
        let newest = read(&path).map_or(0, |s| s.seq);
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

/// The witness file at `path`, if there is a readable one.
pub fn read(path: &Path) -> Option<Seen> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(text.trim_end()).ok()
}

/// The witness file's path beside a data key file (`laurel-data.key` -> `laurel-data.witness`).
pub fn path_beside(key_file: &Path) -> PathBuf {
    key_file.with_extension("witness")
}
