//! `laurel audit verify DIR`: checks the hash chain of a data folder's audit records.

use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_INVALID, EXIT_OK};
use crate::store::{AuditRecord, SledStore, Tree, scan_json, verify_chain};

pub fn verify(data: &Path) -> anyhow::Result<ExitCode> {
    let db = if data.join("db").is_dir() {
        data.join("db")
    } else {
        data.to_path_buf()
    };
    anyhow::ensure!(db.is_dir(), "no data folder at `{}`", data.display());
    let store = SledStore::open(&db)
        .map_err(|e| anyhow::anyhow!("{e} (is the server still running on it?)"))?;
    let records: Vec<AuditRecord> =
        scan_json(&store, Tree::Audit, b"").map_err(|e| anyhow::anyhow!("{e}"))?;
    let problems = verify_chain(&records);
    if problems.is_empty() {
        let last = records
            .last()
            .map_or_else(|| "none".to_owned(), |r| r.hash.clone());
        println!(
            "{} audit records, chain intact; last hash {last}",
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
