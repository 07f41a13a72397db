//! Reading definitions and their plugin files from disk.

use std::path::{Path, PathBuf};

use anyhow::Context;
use laurel::PluginFiles;

/// Plugin files relative to a definition's folder.
pub struct DirFiles {
    root: PathBuf,
}

impl DirFiles {
    /// Files relative to the folder of `definition`.
    pub fn beside(definition: &Path) -> Self {
        let root = definition
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Self { root }
    }
}

impl PluginFiles for DirFiles {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.root.join(path))
    }
}

/// The definition files named by `paths`: files as given, folders searched recursively for
/// `award.json` and `*.award.json`, in a stable order.
pub fn definitions(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read `{}`", path.display()))?;
        if meta.is_dir() {
            let before = out.len();
            walk(path, &mut out)?;
            if out.len() == before {
                anyhow::bail!(
                    "no `award.json` or `*.award.json` under `{}`",
                    path.display()
                );
            }
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read folder `{}`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n == "award.json" || n.ends_with(".award.json"))
        {
            out.push(path);
        }
    }
    Ok(())
}
