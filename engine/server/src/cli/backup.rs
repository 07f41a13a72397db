//! `laurel backup` and `laurel restore`: a whole server, online, to one signed file, and back
//! into a new data folder for disaster recovery, where the audit chain continues where it was.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::data_key::{self, KeyArgs};
use super::{EXIT_INVALID, EXIT_OK};
use crate::server::routes_backup::{BACKUP_FORMAT, Backup};
use crate::store::{AuditRecord, SledStore, Store, Tree, last_writes, value_digest, verify_store};

/// Fetches a running server's backup (`GET /v1/backup`) into `out`.
pub fn backup(server: &str, key: &str, out: &Path) -> anyhow::Result<ExitCode> {
    let url = format!("{}/v1/backup", server.trim_end_matches('/'));
    crate::server::outbound::tls().map_err(anyhow::Error::msg)?;
    let agent = crate::server::outbound::plain_agent(None);
    let mut response = agent
        .get(&url)
        .header("Authorization", &format!("Bearer {key}"))
        .call()
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(16 << 30)
        .read_to_string()?;
    anyhow::ensure!(status == 200, "{url} answered {status}: {body}");
    let backup: Backup = serde_json::from_str(&body).context("the answer is not a backup")?;
    let tmp = out.with_extension("partial");
    std::fs::write(&tmp, &body).with_context(|| format!("cannot write `{}`", tmp.display()))?;
    std::fs::rename(&tmp, out)?;
    outln!(
        "backed up {} records (audit head {}) into {}",
        backup.entries.len(),
        backup
            .head
            .map_or_else(|| "none".to_owned(), |h| format!("{}:{}", h.seq, h.hash)),
        out.display()
    );
    Ok(ExitCode::from(EXIT_OK))
}

/// Restores a backup into a new data folder: the MAC checked with the data key, then exactly
/// the state the backup's audit head vouches for, every record checked against the chain.
pub fn restore(
    file: &Path,
    data: &Path,
    key: &KeyArgs,
    target: &super::store_args::StoreArgs,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read `{}`", file.display()))?;
    let b: Backup = serde_json::from_str(&text).context("not a Laurel backup")?;
    anyhow::ensure!(
        b.format == BACKUP_FORMAT,
        "unknown backup format `{}`",
        b.format
    );
    let db = data.join("db");
    anyhow::ensure!(
        target.url.is_some() || !db.exists(),
        "`{}` already holds a database: restore into a new folder",
        data.display()
    );
    crate::store::folders::create(data)?;
    let sealer = crate::server::crypto::Sealer::load(&data_key::key_path(data, key))?
        .context("give the data key the backup was made with (--key-file or LAUREL_DATA_KEY)")?;
    anyhow::ensure!(
        sealer.mac(&b.body_bytes()) == b.mac,
        "the backup's MAC does not match: it was altered, or made with another data key"
    );
    let mut entries = Vec::new();
    let mut chain: Vec<AuditRecord> = Vec::new();
    for e in &b.entries {
        let (tree, k, v) = e
            .decode()
            .with_context(|| format!("entry `{}` in `{}` cannot be read", e.key, e.tree))?;
        if tree == Tree::Audit {
            chain.push(serde_json::from_slice(&v)?);
        }
        entries.push((tree, k, v));
    }
    // Exactly the state at the head: audit records after it, and values no record before it
    // wrote, were written while the backup was being read.
    let head = b.head.as_ref().map_or(0, |h| h.seq);
    chain.retain(|r| r.seq <= head);
    let last = last_writes(&chain);
    let mut kept = Vec::new();
    let mut skipped = 0;
    for (tree, k, v) in entries {
        if tree == Tree::Audit {
            let seq = u64::from_be_bytes(k.as_slice().try_into().unwrap_or_default());
            if seq <= head {
                kept.push((tree, k, v));
            }
            continue;
        }
        let id = (tree.name().to_owned(), crate::store::escape_key(&k));
        match last.get(&id) {
            Some((Some(hash), _)) if *hash == value_digest(&v) => kept.push((tree, k, v)),
            _ => skipped += 1,
        }
    }
    let store: Box<dyn crate::store::Store> = match target.pg_options() {
        Some(options) => {
            let pg = super::store_args::open_pg(options, true)?;
            for tree in Tree::ALL {
                anyhow::ensure!(
                    pg.scan(tree, b"")
                        .map_err(|e| anyhow::anyhow!("{e}"))?
                        .is_empty(),
                    "the database is not empty (`{}` has records): restore into an empty one",
                    tree.name()
                );
            }
            Box::new(pg)
        }
        None => Box::new(SledStore::open(&db).map_err(|e| anyhow::anyhow!("{e}"))?),
    };
    store.restore(kept).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (records, problems) =
        verify_store(store.as_ref(), None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for tree in Tree::ALL {
        counts.insert(tree.name(), store.scan(tree, b"")?.len());
    }
    outln!(
        "restored {} audit records and {:?} into {} ({skipped} entries written after the head left out)",
        records.len(),
        counts,
        target
            .url
            .as_deref()
            .map_or_else(|| data.display().to_string(), crate::store::redact)
    );
    if problems.is_empty() {
        outln!("the audit chain and every record verify");
        // A restore rolls back on purpose: the witness beside the data key names the restored
        // head, or a server would refuse data older than what the witness saw.
        if let Some(last) = records.last() {
            let witness = crate::server::witness::path_beside(&data_key::key_path(data, key));
            crate::server::witness::replace(&witness, &last.head()).with_context(|| {
                format!("cannot write the witness file `{}`", witness.display())
            })?;
            outln!(
                "the witness file `{}` now names record {}, the restored chain's head",
                witness.display(),
                last.seq
            );
        }
        Ok(ExitCode::from(EXIT_OK))
    } else {
        for p in &problems {
            outln!("broken: {p}");
        }
        Ok(ExitCode::from(EXIT_INVALID))
    }
}
