//! Where compiled artefacts of Laurel's own modules (the rhai interpreter) are kept between
//! runs: `$LAUREL_CACHE_DIR`, else `$XDG_CACHE_HOME/laurel`, else `~/.cache/laurel`. What is
//! read back is loaded as native code, so the folder is used only when it belongs to this
//! user and nobody else can write to it (created with mode 0700), and files are written whole
//! (a temporary file renamed) with mode 0600.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

/// A folder of compiled artefacts.
#[derive(Debug)]
pub struct Folder {
    path: PathBuf,
}

impl Folder {
    /// The user's artefact folder, created if needed; `None` when there is none that only
    /// this user can write to.
    pub fn open() -> Option<Self> {
        let path = std::env::var_os("LAUREL_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("laurel")))
            .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/laurel")))?;
        let _ = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&path);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        let mine = meta.uid() == rustix::process::geteuid().as_raw();
        let private = meta.permissions().mode() & 0o022 == 0;
        (meta.is_dir() && mine && private).then_some(Self { path })
    }

    fn file(&self, key: &str) -> Option<PathBuf> {
        key.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
            .then(|| self.path.join(format!("{key}.cwasm")))
    }
}

impl laurel::ArtefactCache for Folder {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        let file = self.file(key)?;
        let meta = std::fs::symlink_metadata(&file).ok()?;
        let mine = meta.uid() == rustix::process::geteuid().as_raw();
        let private = meta.permissions().mode() & 0o022 == 0;
        if !(meta.is_file() && mine && private) {
            return None;
        }
        std::fs::read(file).ok()
    }

    fn put(&self, key: &str, artefact: &[u8]) {
        let Some(file) = self.file(key) else {
            return;
        };
        let temporary = self.path.join(format!(".{key}.{}.tmp", std::process::id()));
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut f| f.write_all(artefact).and_then(|()| f.sync_all()));
        if written.is_ok() {
            let _ = std::fs::rename(&temporary, file);
        } else {
            let _ = std::fs::remove_file(&temporary);
        }
    }
}
