//! Plugin declarations: files, hashes and hooks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path};

use sha2::{Digest, Sha256};

use super::{Checker, backticked};
use crate::definition::model::PluginDecl;
use crate::definition::wire::Hook;
use crate::diagnostics::{Code, Diagnostic};

/// Where the checks read plugin files from: the adapter decides (a folder, an upload, memory).
pub trait PluginFiles {
    /// The bytes of the file at `path`, relative to the definition's folder.
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>>;
}

/// A closure from a relative path to the file's bytes.
impl<F: Fn(&str) -> std::io::Result<Vec<u8>>> PluginFiles for F {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        self(path)
    }
}

impl PluginFiles for BTreeMap<String, Vec<u8>> {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        self.get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    }
}

impl Checker<'_> {
    pub(super) fn plugins(&mut self) -> Vec<PluginDecl> {
        let def = self.def;
        self.unique(
            def.plugins.iter().map(|p| p.id.as_str()).enumerate(),
            |i| format!("/plugins/{i}/id"),
            "plugin",
        );
        let mut out = Vec::new();
        for (i, p) in def.plugins.iter().enumerate() {
            let pointer = format!("/plugins/{i}");
            self.opt_text(p.description.as_ref(), &format!("{pointer}/description"));
            if p.hooks.is_empty() {
                self.error(
                    Code::Plugin,
                    format!("{pointer}/hooks"),
                    format!("plugin `{}` declares no hook", p.id),
                );
            }
            let hooks: BTreeSet<Hook> = p.hooks.iter().copied().collect();
            if hooks.len() != p.hooks.len() {
                self.error(
                    Code::Plugin,
                    format!("{pointer}/hooks"),
                    "a hook is listed twice",
                );
            }
            if let Some(bytes) = self.plugin_file(&p.path, &p.sha256, &pointer) {
                let hooks: Vec<Hook> = hooks.iter().copied().collect();
                self.compiles(p, &bytes, &hooks, &pointer);
            }
            out.push(PluginDecl {
                id: p.id.clone(),
                kind: p.kind,
                path: p.path.clone(),
                sha256: p.sha256.clone(),
                hooks,
                limits: p.limits.clone(),
            });
        }
        out
    }

    /// Loads a plugin as the engine will run it, so that one that does not compile (or breaks
    /// the ABI, or declares more than its limits) is refused now, located in its file.
    fn compiles(
        &mut self,
        p: &crate::definition::wire::PluginSpec,
        bytes: &[u8],
        hooks: &[Hook],
        pointer: &str,
    ) {
        let limits = crate::plugin::Limits::resolve(&p.limits);
        let loaded = match p.kind {
            crate::definition::wire::PluginKind::Rhai => match std::str::from_utf8(bytes) {
                Ok(source) => {
                    crate::plugin::RhaiPlugin::load(p.id.as_str(), source, hooks, limits).map(drop)
                }
                Err(e) => {
                    self.push(
                        Diagnostic::error(
                            Code::Plugin,
                            format!("{pointer}/path"),
                            format!("plugin file `{}` is not UTF-8 text", p.path),
                        )
                        .in_file(&p.path, None, None)
                        .with_hint(format!(
                            "the first bad byte is at offset {}",
                            e.valid_up_to()
                        )),
                    );
                    return;
                }
            },
            crate::definition::wire::PluginKind::Wasm => {
                crate::plugin::WasmPlugin::load(p.id.as_str(), bytes, limits).map(drop)
            }
        };
        if let Err(e) = loaded {
            let (line, column) = match &e {
                crate::plugin::PluginError::Invalid { line, column, .. } => (*line, *column),
                _ => (None, None),
            };
            self.push(
                Diagnostic::error(Code::Plugin, format!("{pointer}/path"), e.to_string())
                    .in_file(&p.path, line, column),
            );
        }
    }

    fn plugin_file(&mut self, path: &str, sha256: &str, pointer: &str) -> Option<Vec<u8>> {
        let inside = !path.is_empty()
            && Path::new(path)
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !inside {
            self.push(
                Diagnostic::error(
                    Code::Plugin,
                    format!("{pointer}/path"),
                    format!("plugin path `{path}` leaves the definition's folder"),
                )
                .with_hint("give a relative path below the folder of the definition, such as `plugins/rules.rhai`"),
            );
            return None;
        }
        match self.files.read(path) {
            Ok(bytes) => {
                let actual = hex::encode(Sha256::digest(&bytes));
                if actual != sha256 {
                    self.push(
                        Diagnostic::error(
                            Code::Plugin,
                            format!("{pointer}/sha256"),
                            format!(
                                "plugin file `{path}` has SHA-256 `{actual}`, not the declared one"
                            ),
                        )
                        .with_hint(
                            "if the change is intended, update `sha256`: `sha256sum` prints it",
                        ),
                    );
                    return None;
                }
                Some(bytes)
            }
            Err(e) => {
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    "does not exist".to_owned()
                } else {
                    format!("cannot be read: {e}")
                };
                self.push(
                    Diagnostic::error(
                        Code::Plugin,
                        format!("{pointer}/path"),
                        format!("plugin file `{path}` {why}"),
                    )
                    .with_hint("paths are relative to the folder of the definition"),
                );
                None
            }
        }
    }

    /// Checks that `id` is a plugin implementing `hook`, and records that it is used.
    pub(super) fn plugin_hook(&mut self, id: &str, hook: Hook, pointer: &str) {
        let def = self.def;
        if !self.reference(
            def.plugins.iter().map(|p| p.id.as_str()),
            id,
            pointer,
            "plugin",
        ) {
            return;
        }
        self.used_plugins.insert(id.to_owned());
        if let Some(p) = def.plugins.iter().find(|p| p.id.as_str() == id)
            && !p.hooks.contains(&hook)
        {
            let declared: Vec<&str> = p.hooks.iter().map(|h| h.as_str()).collect();
            self.push(
                Diagnostic::error(
                    Code::Plugin,
                    pointer,
                    format!(
                        "plugin `{id}` is called at hook `{}`, which it does not declare",
                        hook.as_str()
                    ),
                )
                .with_hint(format!(
                    "it declares {}",
                    if declared.is_empty() {
                        "none".to_owned()
                    } else {
                        backticked(&declared)
                    }
                )),
            );
        }
    }

    pub(super) fn unused_plugins(&mut self) {
        let def = self.def;
        for (i, p) in def.plugins.iter().enumerate() {
            let used = self.used_plugins.contains(p.id.as_str())
                || p.hooks
                    .iter()
                    .any(|h| matches!(h, Hook::Indicator | Hook::Validate));
            if !used {
                self.push(Diagnostic::warning(
                    Code::Plugin,
                    format!("/plugins/{i}/id"),
                    format!(
                        "plugin `{}` is declared but no rule or scoring setting calls it",
                        p.id
                    ),
                ));
            }
        }
    }
}
