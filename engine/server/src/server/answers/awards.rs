//! Answers about awards: their published versions, forms, settings and plugin files.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// A plugin file stored under its SHA-256.
#[derive(Serialize, JsonSchema)]
pub struct FileStored {
    pub sha256: String,
    pub bytes: usize,
}

/// One published version of an award.
#[derive(Serialize, JsonSchema)]
pub struct AwardVersion {
    pub award: String,
    pub version: u32,
    /// The SHA-256 of the definition's text.
    pub sha256: String,
    pub published_at: String,
    /// Its plugin files' paths.
    pub files: Vec<String>,
    /// The award definition as published.
    pub definition: Value,
}

/// A JSON Schema (2020-12) of an award's application form.
#[derive(Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(transparent)]
pub struct ApplicationSchema(
    /// A JSON Schema (2020-12) of the award's application form.
    pub serde_json::Map<String, Value>,
);

/// The notifications an award sends, each on or off.
#[derive(Serialize, JsonSchema)]
pub struct Notifications {
    pub award: String,
    /// By name: `application_received`, `assignment`, `reminder`, `outcome`, …
    pub notifications: BTreeMap<String, bool>,
}

/// Whether applicants may register themselves.
#[derive(Serialize, JsonSchema)]
pub struct RegistrationNow {
    pub award: String,
    pub registration_open: bool,
}

/// A rubric checked: every problem found, located.
#[derive(Serialize, JsonSchema)]
pub struct Checked {
    /// Whether it has no error (warnings and notes may remain).
    pub valid: bool,
    pub errors: usize,
    /// Warnings and notes.
    pub warnings: usize,
    /// Every problem, in document order.
    pub diagnostics: laurel::Diagnostics,
}

/// A file uploaded for an application's file field.
#[derive(Serialize, JsonSchema)]
pub struct Uploaded {
    /// Its name, made safe.
    pub name: String,
    /// Its type, from its content (whatever its name says).
    pub media_type: String,
    /// Give it as the file field's value.
    pub sha256: String,
    pub size: u64,
}

/// An exported award restored.
#[derive(Serialize, JsonSchema)]
pub struct Imported {
    pub award: String,
    /// Records imported, per kind.
    pub imported: BTreeMap<&'static str, usize>,
    /// Sealed values sealed again with this server's key.
    pub resealed: usize,
    /// The exporting server's audit head.
    pub source_head: Option<crate::store::Head>,
}

/// The audit chain checked.
#[derive(Serialize, JsonSchema)]
pub struct ChainChecked {
    /// Whether the chain and every stored value agree.
    pub intact: bool,
    /// How many audit records the chain holds.
    pub records: usize,
    /// Its head.
    pub head: Option<crate::store::Head>,
    /// Every problem found.
    pub problems: Vec<String>,
}
