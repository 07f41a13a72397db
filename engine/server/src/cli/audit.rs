//! `laurel audit verify DIR`: checks the audit chain of a data folder (every record's hash and
//! link), that every stored value is what the chain last wrote for its key, and, with
//! `--head`, that the chain still holds a head noted earlier (so that a rollback of the whole
//! folder to an older copy is found).

use std::path::Path;
use std::process::ExitCode;

use super::source::{db_path, open_copy};
use super::{EXIT_INVALID, EXIT_OK};
use crate::store::{Store, Tree, verify_store};

/// The newest audit head named by a results certificate in `store`, and which certificate.
fn certified_head(store: &dyn Store) -> Option<(u64, String, String)> {
    let all = store.scan(Tree::Certificates, b"").ok()?;
    all.iter()
        .filter_map(|(_, v)| {
            let c: crate::server::records::CertificateRecord = serde_json::from_slice(v).ok()?;
            let s: serde_json::Value = serde_json::from_str(&c.certificate.statement).ok()?;
            let h = s.get("audit_head")?;
            Some((
                h.get("seq")?.as_u64()?,
                h.get("hash")?.as_str()?.to_owned(),
                format!("certificate {} of `{}`", c.number, c.award),
            ))
        })
        .max_by_key(|w| w.0)
}

pub fn verify(data: &Path, head: Option<&str>, witness: Option<&Path>) -> anyhow::Result<ExitCode> {
    let is_url = data.to_str().is_some_and(super::store_args::is_url);
    let (records, mut problems, newest_certified) =
        match data.to_str().filter(|d| super::store_args::is_url(d)) {
            // A database is read as of one instant, while its servers go on writing.
            Some(url) => {
                let memory = crate::store::MemoryStore::default();
                let entries = super::source::entries(url)?;
                crate::store::Store::restore(&memory, entries)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let (records, problems) =
                    verify_store(&memory, head).map_err(|e| anyhow::anyhow!("{e}"))?;
                (records, problems, certified_head(&memory))
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
                let (records, problems) =
                    verify_store(&store, head).map_err(|e| anyhow::anyhow!("{e}"))?;
                (records, problems, certified_head(&store))
            }
        };
    // The newest witness of the head found outside the chain: the file beside the data key,
    // and the head each results certificate names.
    let file = witness.map(Path::to_path_buf).or_else(|| {
        (!is_url).then(|| {
            crate::server::witness::path_beside(&super::data_key::key_path(
                data,
                &super::data_key::KeyArgs {
                    key_file: None,
                    key_in_data_for_tests: false,
                },
            ))
        })
    });
    let mut witnesses: Vec<(u64, String, String)> = Vec::new();
    if let Some(f) = &file {
        match crate::server::witness::read(f) {
            Some(seen) => witnesses.push((
                seen.seq,
                seen.hash,
                format!("the witness file `{}`", f.display()),
            )),
            None if witness.is_some() => {
                anyhow::bail!("cannot read the witness file `{}`", f.display())
            }
            None => {}
        }
    }
    witnesses.extend(newest_certified);
    match witnesses.iter().max_by_key(|w| w.0) {
        Some((seq, hash, which)) => {
            let held = records.iter().any(|r| r.seq == *seq && &r.hash == hash);
            if held {
                outln!("witnessed: the chain holds record {seq} as {which} saw it");
            } else {
                let end = records
                    .last()
                    .map_or_else(|| "no record".to_owned(), |r| format!("record {}", r.seq));
                problems.push(format!(
                    "{which} saw record {seq} with hash {hash}, which the chain (ending at {end}) does not hold: records were removed or changed, or the data rolled back to an older copy"
                ));
            }
        }
        None => outln!(
            "no witness of the head found (looked for {}and results certificates): a rollback to a shorter chain would not show; give --head or --witness",
            file.as_ref()
                .map_or_else(String::new, |f| format!("`{}` ", f.display()))
        ),
    }
    if problems.is_empty() {
        let last = records
            .last()
            .map_or_else(|| "none".to_owned(), |r| r.hash.clone());
        outln!(
            "{} audit records, chain intact, every record as the chain last wrote it; last hash {last}",
            records.len()
        );
        Ok(ExitCode::from(EXIT_OK))
    } else {
        for p in &problems {
            outln!("broken: {p}");
        }
        outln!(
            "{} audit records, {} problems",
            records.len(),
            problems.len()
        );
        Ok(ExitCode::from(EXIT_INVALID))
    }
}
