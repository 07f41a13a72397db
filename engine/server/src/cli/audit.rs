//! `laurel audit verify DIR`: checks the audit chain of a data folder (every record's hash and
//! link), that every stored value is what the chain last wrote for its key, and, with
//! `--head`, that the chain still holds a head noted earlier (so that a rollback of the whole
//! folder to an older copy is found).

use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_INVALID, EXIT_OK};
use crate::store::{SledStore, verify_store};

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

pub fn verify(data: &Path, head: Option<&str>) -> anyhow::Result<ExitCode> {
    let (records, problems) = match data.to_str().filter(|d| super::store_args::is_url(d)) {
        // A database is read as of one instant, while its servers go on writing.
        Some(url) => {
            let memory = crate::store::MemoryStore::default();
            let entries = super::database::entries(url)?;
            crate::store::Store::restore(&memory, entries).map_err(|e| anyhow::anyhow!("{e}"))?;
            verify_store(&memory, head).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        None => {
            let db = db_path(data);
            anyhow::ensure!(db.is_dir(), "no data folder at `{}`", data.display());
            let (_copy, store) = open_copy(&db).map_err(|e| {
                anyhow::anyhow!(
                    "{e} (if the folder is damaged, `laurel salvage` recovers what the audit chain \
                     vouches for)"
                )
            })?;
            verify_store(&store, head).map_err(|e| anyhow::anyhow!("{e}"))?
        }
    };
    if problems.is_empty() {
        let last = records
            .last()
            .map_or_else(|| "none".to_owned(), |r| r.hash.clone());
        println!(
            "{} audit records, chain intact, every record as the chain last wrote it; last hash {last}",
            records.len()
        );
        Ok(ExitCode::from(EXIT_OK))
    } else {
        for p in &problems {
            println!("broken: {p}");
        }
        println!(
            "{} audit records, {} problems",
            records.len(),
            problems.len()
        );
        Ok(ExitCode::from(EXIT_INVALID))
    }
}
