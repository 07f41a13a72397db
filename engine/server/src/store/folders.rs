//! Folders whose entries are on the device: a folder made, or a file created in one, survives a
//! power cut only once the folder holding its name was synced (`fsync` of the folder), which
//! the file's own `fsync` does not do. `tests/durability.rs` rebuilds the data folder as a disk
//! that keeps only what was synced would hold it, and starts a server on it.

use std::io;
use std::path::Path;

/// Makes `dir` and any missing folder above it, each synced into the folder holding it.
pub(crate) fn create(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(folder) = at.filter(|f| !f.as_os_str().is_empty() && !f.exists()) {
        missing.push(folder);
        at = folder.parent();
    }
    std::fs::create_dir_all(dir)?;
    for folder in missing.iter().rev() {
        sync_parent(folder)?;
    }
    Ok(())
}

/// Syncs the folder holding `path`'s name (the current folder for a bare name).
pub(crate) fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => sync(parent),
        None => sync(Path::new(".")),
    }
}

/// `fsync` of a folder: the names made, moved or removed in it are on the device.
pub(crate) fn sync(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_folder_is_made() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let deep = root.path().join("a/b/c");
        create(&deep).unwrap_or_else(|e| panic!("{e}"));
        assert!(deep.is_dir());
        // Again, with everything there: nothing to make, no error.
        create(&deep).unwrap_or_else(|e| panic!("{e}"));
        create(Path::new("relative-folder-made-by-a-test")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_dir("relative-folder-made-by-a-test").unwrap_or_else(|e| panic!("{e}"));
    }
}
