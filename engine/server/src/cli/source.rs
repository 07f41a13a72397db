//! Reading what a data folder or a database holds, without changing it: a folder through a
//! copy (sled rewrites a log it cannot read when it opens it), a database as of one instant.

use std::path::Path;

use super::store_args::{is_url, open_pg};
use crate::store::{PgOptions, SledStore, Store, Tree, TreeEntries};

/// Opens a copy of a database folder, never the folder itself: sled rewrites a log it cannot
/// read when it opens it, so a damaged folder must not be opened in place by a tool that only
/// reads. Returns the copy's folder (removed when dropped) and the store.
pub fn open_copy(db: &Path) -> anyhow::Result<(tempfile::TempDir, SledStore)> {
    fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                copy(&entry.path(), &target)?;
            } else {
                std::fs::copy(entry.path(), target)?;
            }
        }
        Ok(())
    }
    let dir = tempfile::tempdir()?;
    copy(db, &dir.path().join("db"))?;
    let store = SledStore::open(&dir.path().join("db")).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((dir, store))
}

/// The database folder of a data folder.
pub fn db_path(data: &Path) -> std::path::PathBuf {
    if data.join("db").is_dir() {
        data.join("db")
    } else {
        data.to_path_buf()
    }
}

/// Every entry of a store, read as of one instant.
pub fn entries(source: &str) -> anyhow::Result<TreeEntries> {
    if is_url(source) {
        let store = open_pg(PgOptions::new(source), false)?;
        return store.snapshot().map_err(|e| anyhow::anyhow!("{e}"));
    }
    let db = db_path(Path::new(source));
    anyhow::ensure!(db.is_dir(), "no data folder at `{source}`");
    let (_copy, store) = open_copy(&db)?;
    let mut out = Vec::new();
    for tree in Tree::ALL {
        for (k, v) in store.scan(tree, b"").map_err(|e| anyhow::anyhow!("{e}"))? {
            out.push((tree, k, v));
        }
    }
    Ok(out)
}
