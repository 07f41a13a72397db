//! `laurel audit verify DIR`: checks the audit chain of a data folder (every record's hash and
//! link), that every stored value is what the chain last wrote for its key, and, with
//! `--head`, that the chain still holds a head noted earlier (so that a rollback of the whole
//! folder to an older copy is found).

use std::path::Path;
use std::process::ExitCode;

use super::source::{db_path, open_copy};
use super::{EXIT_INVALID, EXIT_OK};
use crate::store::verify_store;

pub fn verify(data: &Path, head: Option<&str>) -> anyhow::Result<ExitCode> {
    let (records, problems) = match data.to_str().filter(|d| super::store_args::is_url(d)) {
        // A database is read as of one instant, while its servers go on writing.
        Some(url) => {
            let memory = crate::store::MemoryStore::default();
            let entries = super::source::entries(url)?;
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
