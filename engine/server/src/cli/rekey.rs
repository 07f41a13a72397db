//! `laurel rekey DIR --new-key-file NEW`: re-seals every sealed value under a new data key, in
//! one atomic, audited commit, and records the new key's fingerprint; the old key opens
//! nothing afterwards. Run with the server stopped.

use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

use super::EXIT_OK;
use super::data_key::{self, KeyArgs};
use super::source::db_path;
use crate::server::crypto::{self, Sealer};
use crate::store::{AuditEntry, Batch, SledStore, Store, Tree, escape_key};

pub fn run(data: &Path, key: &KeyArgs, new_key_file: &Path) -> anyhow::Result<ExitCode> {
    let db = db_path(data);
    anyhow::ensure!(db.is_dir(), "no data folder at `{}`", data.display());
    let store = SledStore::open(&db)
        .map_err(|e| anyhow::anyhow!("{e} (is the server still running on it?)"))?;
    let old = data_key::open(data, key, &store, false)?;
    anyhow::ensure!(
        !new_key_file.exists(),
        "`{}` exists: the new key is written to a new file",
        new_key_file.display()
    );
    let probe_dir = new_key_file.parent().unwrap_or(Path::new("."));
    anyhow::ensure!(
        !probe_dir
            .canonicalize()
            .ok()
            .zip(data.canonicalize().ok())
            .is_some_and(|(p, d)| p.starts_with(d)),
        "the new key must not be inside the data folder"
    );
    // Everything is re-sealed in memory first: nothing is written if one value fails to open.
    let mut batch = Batch::new();
    let new = Sealer::create(new_key_file)?;
    let mut values = 0;
    let mut records = 0;
    let result = (|| -> anyhow::Result<()> {
        for tree in Tree::ALL {
            if matches!(tree, Tree::Audit | Tree::History | Tree::Files) {
                continue;
            }
            for (k, v) in store.scan(tree, b"").map_err(|e| anyhow::anyhow!("{e}"))? {
                let Ok(mut value) = serde_json::from_slice::<Value>(&v) else {
                    continue;
                };
                let n = crypto::reseal(&old, &new, &mut value).map_err(|failed| {
                    anyhow::anyhow!(
                        "{failed} sealed values in {} `{}` do not open with the current key",
                        tree.name(),
                        escape_key(&k)
                    )
                })?;
                if n > 0 {
                    values += n;
                    records += 1;
                    batch.expect(tree, k.clone(), Some(v));
                    batch.put(tree, k, serde_json::to_vec(&value)?);
                }
            }
        }
        batch.expect(
            Tree::Meta,
            b"key_fingerprint".to_vec(),
            Some(old.fingerprint().into_bytes()),
        );
        batch.put(
            Tree::Meta,
            b"key_fingerprint".to_vec(),
            new.fingerprint().into_bytes(),
        );
        store
            .commit(
                std::mem::take(&mut batch),
                AuditEntry {
                    actor: "system".into(),
                    action: "store.rekey".into(),
                    target: "store".into(),
                    detail: serde_json::json!({
                        "old_fingerprint": old.fingerprint(),
                        "new_fingerprint": new.fingerprint(),
                        "values": values, "records": records,
                    }),
                },
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(new_key_file);
        return Err(e);
    }
    outln!(
        "re-sealed {values} values in {records} records under the key in {} (fingerprint {}); \
         start the server with --key-file {}, and destroy the old key once the data is backed up",
        new_key_file.display(),
        new.fingerprint(),
        new_key_file.display()
    );
    Ok(ExitCode::from(EXIT_OK))
}
