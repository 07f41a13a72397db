//! Where the data key lives: never in the data folder, so that no copy or backup of the
//! folder can be read without it; checked against the fingerprint the store keeps, so that a
//! wrong key is refused before anything is written with it.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::server::crypto::{KEY_VARIABLE, Sealer};
use crate::store::{AuditEntry, Batch, Store, Tree};

/// The key's options, shared by the commands that read sealed data.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// The data key file (32 bytes, base64). Default: `<data folder>.key` beside the data
    /// folder, created with mode 0600 on first start. `LAUREL_DATA_KEY` takes precedence.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Allow a key file inside the data folder: for tests only, since any copy of the folder
    /// then carries the key that opens it.
    #[arg(long, hide = true)]
    pub key_in_data_for_tests: bool,
}

/// The key file's path for a data folder.
pub fn key_path(data: &Path, args: &KeyArgs) -> PathBuf {
    args.key_file.clone().unwrap_or_else(|| {
        let name = data.file_name().map_or_else(
            || "laurel-data".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        data.with_file_name(format!("{name}.key"))
    })
}

fn inside(data: &Path, file: &Path) -> bool {
    let Ok(data) = data.canonicalize() else {
        return false;
    };
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent.canonicalize().is_ok_and(|p| p.starts_with(&data))
}

/// The fingerprint of the key the store's data is sealed with, if recorded.
pub fn recorded_fingerprint(store: &dyn Store) -> anyhow::Result<Option<String>> {
    Ok(store
        .get(Tree::Meta, b"key_fingerprint")?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// The data key for `data`'s store: from `LAUREL_DATA_KEY` or the key file; created when the
/// store has none yet (`create`), refused when it is not the key the store was sealed with.
/// Prints where a new key was written.
pub fn open(
    data: &Path,
    args: &KeyArgs,
    store: &dyn Store,
    create: bool,
) -> anyhow::Result<Sealer> {
    let path = key_path(data, args);
    if inside(data, &path) && !args.key_in_data_for_tests {
        anyhow::bail!(
            "the data key `{}` is inside the data folder `{}`: any copy of the folder would carry \
             the key that opens it. Move it out (for example `mv {} {}`) and give it with \
             --key-file",
            path.display(),
            data.display(),
            path.display(),
            key_path(
                data,
                &KeyArgs {
                    key_file: None,
                    key_in_data_for_tests: false
                }
            )
            .display()
        );
    }
    let recorded = recorded_fingerprint(store)?;
    let sealer = match Sealer::load(&path)? {
        Some(s) => s,
        None if create && recorded.is_none() => {
            let legacy = data.join("laurel.key");
            anyhow::ensure!(
                !legacy.exists() || args.key_in_data_for_tests,
                "`{}` holds the data key inside the data folder; move it out (`mv {} {}`) and \
                 start again",
                legacy.display(),
                legacy.display(),
                path.display()
            );
            let s = Sealer::create(&path).context("cannot create the data key")?;
            outln!(
                "laurel: created the data key {} (mode 0600): keep it safe, and apart from any \
                 backup of {}",
                path.display(),
                data.display()
            );
            s
        }
        None => anyhow::bail!(
            "no data key: give it with --key-file (looked for `{}`) or {KEY_VARIABLE}",
            path.display()
        ),
    };
    match recorded {
        Some(fp) if fp != sealer.fingerprint() => anyhow::bail!(
            "the data in `{}` is sealed with the key whose fingerprint is {fp}; the key given \
             (`{}` or {KEY_VARIABLE}) has fingerprint {}",
            data.display(),
            path.display(),
            sealer.fingerprint()
        ),
        Some(_) => {}
        None => {
            let mut batch = Batch::new();
            batch.expect(Tree::Meta, b"key_fingerprint".to_vec(), None);
            batch.put(
                Tree::Meta,
                b"key_fingerprint".to_vec(),
                sealer.fingerprint().into_bytes(),
            );
            store.commit(
                batch,
                AuditEntry {
                    actor: "system".into(),
                    action: "store.key".into(),
                    target: "store".into(),
                    detail: serde_json::json!({ "fingerprint": sealer.fingerprint() }),
                },
            )?;
        }
    }
    Ok(sealer)
}
