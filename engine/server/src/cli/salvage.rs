//! `laurel salvage DIR --to NEW`: recovers what the audit chain vouches for from a damaged
//! data folder into a new one, and reports the rest.
//!
//! If the database still opens, every record is read and checked against the chain. If it
//! does not (a checksum broken by damage), the folder's files are read raw: every JSON value
//! in them is a candidate, the longest valid chain from the first record is rebuilt from the
//! audit records among them, and each key the chain says exists is matched, by the SHA-256 the
//! chain recorded, with a candidate. Plugin files (not JSON) are recovered from the published
//! versions that carry them. The new folder holds the recovered records and the chain
//! verbatim, so it verifies, and the server continues where the chain ends.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::ExitCode;

use base64::Engine as _;

use super::source::db_path;
use super::{EXIT_INVALID, EXIT_OK};
use crate::server::records::VersionRecord;
use crate::store::{
    AuditRecord, GENESIS, SledStore, Store, Tree, escape_key, last_writes, unescape_key,
    value_digest,
};

/// Every JSON object in `bytes`, by the SHA-256 of its exact bytes.
fn json_objects(bytes: &[u8], out: &mut HashMap<String, Vec<u8>>) {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' && bytes.get(i + 1) == Some(&b'"') {
            let mut stream = serde_json::Deserializer::from_slice(&bytes[i..])
                .into_iter::<serde::de::IgnoredAny>();
            if let Some(Ok(_)) = stream.next() {
                let end = i + stream.byte_offset();
                let span = &bytes[i..end];
                out.insert(value_digest(span), span.to_vec());
                i = end;
                continue;
            }
        }
        i += 1;
    }
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Entries by tree and key, and the chain, from a database that opens.
type Found = (BTreeMap<(Tree, Vec<u8>), Vec<u8>>, Vec<AuditRecord>);

fn read_open(store: &dyn Store) -> anyhow::Result<Found> {
    let mut entries = BTreeMap::new();
    let mut chain = Vec::new();
    for tree in Tree::ALL {
        for (k, v) in store.scan(tree, b"").map_err(|e| anyhow::anyhow!("{e}"))? {
            if tree == Tree::Audit {
                if let Ok(r) = serde_json::from_slice::<AuditRecord>(&v) {
                    chain.push(r);
                }
            } else {
                entries.insert((tree, k), v);
            }
        }
    }
    Ok((entries, chain))
}

/// The longest valid chain from the first record among `records`.
fn longest_chain(records: Vec<AuditRecord>) -> Vec<AuditRecord> {
    let mut by_seq: BTreeMap<u64, Vec<AuditRecord>> = BTreeMap::new();
    for r in records {
        if r.digest() == r.hash {
            by_seq.entry(r.seq).or_default().push(r);
        }
    }
    let mut chain: Vec<AuditRecord> = Vec::new();
    let mut prev = GENESIS.to_owned();
    let mut seq = 1;
    while let Some(next) = by_seq
        .get(&seq)
        .and_then(|rs| rs.iter().find(|r| r.prev == prev))
    {
        prev = next.hash.clone();
        chain.push(next.clone());
        seq += 1;
    }
    chain
}

pub fn run(data: &Path, to: &Path) -> anyhow::Result<ExitCode> {
    let url = |p: &Path| {
        p.to_str()
            .filter(|t| super::store_args::is_url(t))
            .map(str::to_owned)
    };
    let (source_url, target_url) = (url(data), url(to));
    if target_url.is_none() {
        anyhow::ensure!(
            !to.join("db").exists(),
            "`{}` already holds a database: salvage writes into a new folder",
            to.display()
        );
    }
    let mut candidates = HashMap::new();
    let (mut found, open_chain, opened) = if let Some(source) = &source_url {
        // A database: read as of one instant (its own storage is PostgreSQL's to repair); what
        // the chain does not vouch for is left behind, as from a folder.
        let memory = crate::store::MemoryStore::default();
        memory
            .restore(super::source::entries(source)?)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let (found, chain) = read_open(&memory)?;
        (found, chain, None)
    } else {
        let db = db_path(data);
        anyhow::ensure!(db.is_dir(), "no data folder at `{}`", data.display());
        // What the database gives when it opens (damage can make it open as if empty), and
        // what its files hold raw: the longer chain wins, and values come from either.
        let opened = super::source::open_copy(&db);
        let (found, open_chain) = match &opened {
            Ok((_, store)) => read_open(store)?,
            Err(e) => {
                outln!("the database does not open ({e})");
                (BTreeMap::new(), Vec::new())
            }
        };
        let mut files = Vec::new();
        files_under(&db, &mut files);
        for f in &files {
            if let Ok(bytes) = std::fs::read(f) {
                json_objects(&bytes, &mut candidates);
            }
        }
        (found, open_chain, Some(opened))
    };
    let raw_chain = longest_chain(
        candidates
            .values()
            .filter_map(|v| serde_json::from_slice::<AuditRecord>(v).ok())
            .collect(),
    );
    let open_chain = longest_chain(open_chain);
    let (chain, how) = if raw_chain.len() > open_chain.len() {
        (raw_chain, "a raw read of the database's files")
    } else {
        (open_chain, "the database as it opens")
    };
    for ((tree, key), (hash, _)) in last_writes(&chain) {
        if let (Some(tree), Some(key), Some(hash)) = (Tree::named(&tree), unescape_key(&key), hash)
        {
            let here = found.get(&(tree, key.clone())).map(|v| value_digest(v));
            if here.as_deref() != Some(hash.as_str())
                && let Some(v) = candidates.get(&hash)
            {
                found.insert((tree, key), v.clone());
            }
        }
    }
    drop(opened);
    let last = last_writes(&chain);
    let mut keep: BTreeMap<(Tree, Vec<u8>), Vec<u8>> = BTreeMap::new();
    let mut lost = Vec::new();
    let mut rejected = Vec::new();
    for ((tree, key), (hash, seq)) in &last {
        let (Some(t), Some(k), Some(hash)) = (Tree::named(tree), unescape_key(key), hash) else {
            continue;
        };
        match found.get(&(t, k.clone())) {
            Some(v) if value_digest(v) == *hash => {
                keep.insert((t, k), v.clone());
            }
            Some(_) => rejected.push(format!(
                "{tree} {key}: altered (record {seq} wrote another value)"
            )),
            None => lost.push((
                t,
                k,
                hash.clone(),
                format!("{tree} {key}: lost (record {seq} wrote it)"),
            )),
        }
    }
    for (t, k) in found.keys() {
        let id = (t.name().to_owned(), escape_key(k));
        if !last.contains_key(&id) {
            rejected.push(format!("{} {}: written by no audit record", id.0, id.1));
        }
    }
    // Plugin files are not JSON: the published versions carry them.
    let versions: Vec<VersionRecord> = keep
        .iter()
        .filter(|((t, _), _)| *t == Tree::Versions)
        .filter_map(|(_, v)| serde_json::from_slice(v).ok())
        .collect();
    lost.retain(|(t, k, hash, _)| {
        if *t != Tree::Files {
            return true;
        }
        for v in &versions {
            for b64 in v.files.values() {
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64)
                    && value_digest(&bytes) == *hash
                {
                    keep.insert((*t, k.clone()), bytes);
                    return false;
                }
            }
        }
        true
    });
    let target: Box<dyn Store> = match &target_url {
        Some(url) => {
            let pg = super::store_args::open_pg(crate::store::PgOptions::new(url), true)?;
            for tree in Tree::ALL {
                anyhow::ensure!(
                    pg.scan(tree, b"")
                        .map_err(|e| anyhow::anyhow!("{e}"))?
                        .is_empty(),
                    "the target database is not empty (`{}` has records): salvage into an empty one",
                    tree.name()
                );
            }
            Box::new(pg)
        }
        None => {
            crate::store::folders::create(to)?;
            Box::new(SledStore::open(&to.join("db")).map_err(|e| anyhow::anyhow!("{e}"))?)
        }
    };
    let mut entries: Vec<(Tree, Vec<u8>, Vec<u8>)> =
        keep.into_iter().map(|((t, k), v)| (t, k, v)).collect();
    let recovered = entries.len();
    for r in &chain {
        entries.push((
            Tree::Audit,
            r.seq.to_be_bytes().to_vec(),
            serde_json::to_vec(r).unwrap_or_default(),
        ));
    }
    target
        .restore(entries)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // What could not be recovered is recorded as gone, in the chain itself, so the new folder
    // verifies and says what was lost.
    let mut gone = crate::store::Batch::new();
    let mut gone_keys = Vec::new();
    for (tree, key, _) in last.iter().filter_map(|((t, k), (h, _))| {
        let (t, k) = (Tree::named(t)?, unescape_key(k)?);
        h.as_ref()?;
        Some((t, k, ()))
    }) {
        if target
            .get(tree, &key)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .is_none()
        {
            gone_keys.push(format!("{} {}", tree.name(), escape_key(&key)));
            gone.delete_if_present(tree, key);
        }
    }
    if !gone_keys.is_empty() {
        target
            .commit(
                gone,
                crate::store::AuditEntry {
                    actor: "system".into(),
                    action: "store.salvage".into(),
                    target: "store".into(),
                    detail: serde_json::json!({ "lost": gone_keys, "from": source_url.as_deref().map_or_else(|| data.display().to_string(), crate::store::redact) }),
                },
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    outln!(
        "salvaged into {} ({how}): {} audit records, {recovered} records recovered and verified",
        target_url
            .as_deref()
            .map_or_else(|| to.display().to_string(), crate::store::redact),
        chain.len()
    );
    for p in rejected.iter().chain(lost.iter().map(|l| &l.3)) {
        outln!("not recovered: {p}");
    }
    if rejected.is_empty() && lost.is_empty() {
        outln!("nothing was lost");
        Ok(ExitCode::from(EXIT_OK))
    } else {
        outln!(
            "{} records not recovered; the new folder verifies without them (the data key is unchanged: \
             start the server on it with the same key, once the witness file beside the key, \
             which saw what was lost, is removed: until then a server refuses the folder)",
            rejected.len() + lost.len()
        );
        Ok(ExitCode::from(EXIT_INVALID))
    }
}
