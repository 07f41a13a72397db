//! Export and import of an award: every stored record of it, exactly as stored, with the audit
//! records that wrote them, authenticated by a MAC under the data key. Import checks the MAC,
//! each audit record's hash, each record against the audit record that last wrote it, and
//! each published definition against its SHA-256; it refuses a forged export naming the first
//! record that fails, and records itself in the importing server's audit chain.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::server::auth::Caller;
use crate::server::body;
use crate::server::crypto::{self, Sealer};
use crate::server::domain::api_keys;
use crate::server::domain::awards::load_award;
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, KeyRecord, Role, VersionRecord};
use crate::server::state::AppState;
use crate::server::tx::Tx;
use crate::store::key_index::KeysBy;
use crate::store::{
    AuditRecord, Head, Store, Tree, TreeEntries, audit_index, escape_key, last_writes, prefix,
    unescape_key, value_digest,
};

/// The export format's name.
pub const FORMAT: &str = "laurel-award-export/2";
/// The header that carries the data key an export was sealed with, when it is not this
/// server's (base64, as in a key file).
pub const EXPORT_KEY_HEADER: &str = "laurel-export-key";

/// One stored entry, exactly as stored: UTF-8 values as `text`, others as `base64`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The tree's name.
    pub tree: String,
    /// The key, escaped (`award/app-001`).
    pub key: String,
    /// The value, when it is UTF-8 (every JSON record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The value, when it is not (plugin files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

impl Entry {
    /// An entry for stored bytes.
    pub fn of(tree: Tree, key: &[u8], value: &[u8]) -> Self {
        let (text, base64) = match std::str::from_utf8(value) {
            Ok(t) => (Some(t.to_owned()), None),
            Err(_) => (None, Some(STANDARD.encode(value))),
        };
        Self {
            tree: tree.name().to_owned(),
            key: escape_key(key),
            text,
            base64,
        }
    }

    /// The tree, key and bytes it stands for.
    pub fn decode(&self) -> Option<(Tree, Vec<u8>, Vec<u8>)> {
        let tree = Tree::named(&self.tree)?;
        let key = unescape_key(&self.key)?;
        let value = match (&self.text, &self.base64) {
            (Some(t), None) => t.clone().into_bytes(),
            (None, Some(b)) => STANDARD.decode(b).ok()?,
            _ => return None,
        };
        Some((tree, key, value))
    }
}

/// Everything about one award.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// `laurel-award-export/2`.
    #[schemars(extend("const" = "laurel-award-export/2"))]
    pub format: String,
    /// The award.
    pub award: String,
    /// When it was made.
    pub exported_at: String,
    /// The fingerprint of the data key its personal data is sealed with.
    pub key_fingerprint: String,
    /// The exporting server's audit chain head.
    pub head: Option<Head>,
    /// Every stored record of the award.
    pub records: Vec<Entry>,
    /// Every audit record that wrote one of them, in order.
    pub audit: Vec<AuditRecord>,
    /// HMAC-SHA256 (under a key derived from the data key) of this document without `mac`.
    #[serde(default)]
    pub mac: String,
}

impl Export {
    fn body_bytes(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.mac = String::new();
        serde_json::to_vec(&unsigned).unwrap_or_default()
    }
}

/// The award's records in every tree: its own, those under its prefix, the plugin files its
/// versions pin, and the API keys that own its applications or name its judges.
fn award_entries(store: &dyn Store, award: &str) -> Result<TreeEntries, ApiError> {
    let mut out = Vec::new();
    if let Some(v) = store.get(Tree::Awards, award.as_bytes())? {
        out.push((Tree::Awards, award.as_bytes().to_vec(), v));
    }
    let p = prefix(&[award.as_bytes()]);
    for tree in audit_index::OWN_TREES {
        for (k, v) in store.scan(tree, &p)? {
            out.push((tree, k, v));
        }
    }
    let mut files = BTreeSet::new();
    let mut owners = BTreeSet::new();
    let mut judges = BTreeSet::new();
    for (tree, k, v) in &out {
        match tree {
            Tree::Versions => {
                if let Ok(version) = serde_json::from_slice::<VersionRecord>(v)
                    && let Ok(def) = laurel::parse_definition(&version.definition)
                {
                    files.extend(def.plugins.iter().map(|p| p.sha256.clone()));
                }
            }
            Tree::Applications => {
                if let Ok(app) = serde_json::from_slice::<ApplicationRecord>(v) {
                    owners.insert(app.owner);
                }
            }
            Tree::Judges => {
                if let Some(id) = k.rsplit(|b| *b == 0).next() {
                    judges.insert(String::from_utf8_lossy(id).into_owned());
                }
            }
            _ => {}
        }
    }
    for sha in files {
        if let Some(v) = store.get(Tree::Files, sha.as_bytes())? {
            out.push((Tree::Files, sha.into_bytes(), v));
        }
    }
    // The award's own keys only: its applicants' and its judges'. A key that acts across the
    // installation (an administrator's, an auditor's, an integrator's) never travels with an
    // award: importing it would grant its holder that power on the target.
    // Found through the keys' index: the award's judges' keys, and each owner's key by id.
    let mut keys: BTreeMap<Vec<u8>, (Vec<u8>, KeyRecord)> = BTreeMap::new();
    let mut add = |found: Vec<api_keys::Stored>| {
        keys.extend(found.into_iter().map(|(k, v, key)| (k, (v, key))));
    };
    add(api_keys::find_stored(store, KeysBy::Judge(award, None))?);
    for owner in &owners {
        add(api_keys::find_stored(store, KeysBy::Id(owner))?);
    }
    for (k, (v, key)) in keys {
        if award_scoped(&key, award)
            && (owners.contains(&key.id)
                || key.subject.as_ref().is_some_and(|s| judges.contains(s)))
        {
            out.push((Tree::Keys, k, v));
        }
    }
    Ok(out)
}

/// Whether a key belongs to `award` alone: an applicant's, or a judge's of this award.
fn award_scoped(key: &KeyRecord, award: &str) -> bool {
    match key.role {
        Role::Applicant => true,
        Role::Judge => key.award.as_deref().is_none_or(|a| a == award),
        _ => false,
    }
}

/// The export of `award` from `state`'s store, signed with its data key.
pub fn make_export(state: &AppState, award: &str) -> Result<Export, ApiError> {
    let store = state.store.as_ref();
    let entries = award_entries(store, award)?;
    let wanted: BTreeSet<(String, String)> = entries
        .iter()
        .map(|(t, k, _)| (t.name().to_owned(), escape_key(k)))
        .collect();
    let written = |r: &AuditRecord| {
        r.writes
            .iter()
            .any(|w| wanted.contains(&(w.tree.clone(), w.key.clone())))
    };
    let decode = |v: &[u8]| {
        serde_json::from_slice::<AuditRecord>(v)
            .map_err(|e| ApiError::Internal(format!("an audit record: {e}")))
    };
    let mut audit = Vec::new();
    // Records from the audit index's start on are found through it: the award's own and the
    // writers of the files and keys the export carries. Those before it (an installation
    // older than the index) are read from the chain, a chunk at a time, keeping only the
    // award's: the memory an export takes is the award's, and its time the award's plus
    // that older history's.
    let from = audit_index::indexed_from(store)?;
    let before = from.unwrap_or(u64::MAX);
    const CHUNK: usize = 1024;
    let mut after = None::<Vec<u8>>;
    'chain: loop {
        let chunk = store.scan_from(Tree::Audit, b"", after.as_deref(), CHUNK)?;
        let read = chunk.len();
        for (k, v) in chunk {
            let r = decode(&v)?;
            if r.seq >= before {
                break 'chain;
            }
            if written(&r) {
                audit.push(r);
            }
            after = Some(k);
        }
        if read < CHUNK {
            break;
        }
    }
    if from.is_some() {
        let mut seqs: BTreeSet<u64> = audit_index::of_award(store, award)?.into_iter().collect();
        for (tree, k, _) in &entries {
            seqs.extend(audit_index::writers(store, *tree, k)?);
        }
        for seq in seqs.into_iter().filter(|s| *s >= before) {
            if let Some(v) = store.get(Tree::Audit, &seq.to_be_bytes())? {
                let r = decode(&v)?;
                if written(&r) {
                    audit.push(r);
                }
            }
        }
    }
    // The chain's head now: every record kept is at or before it.
    let head = crate::store::head(store)?.map(|r| r.head());
    let mut export = Export {
        format: FORMAT.to_owned(),
        award: award.to_owned(),
        exported_at: crate::store::now(),
        key_fingerprint: state.sealer.fingerprint(),
        head,
        records: entries
            .iter()
            .map(|(t, k, v)| Entry::of(*t, k, v))
            .collect(),
        audit,
        mac: String::new(),
    };
    export.mac = state.sealer.mac(&export.body_bytes());
    Ok(export)
}

pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Export>, ApiError> {
    caller.require(&[Role::Admin])?;
    load_award(&state, &id)?;
    let export = make_export(&state, &id)?;
    let tx = Tx::new(&state);
    tx.commit(caller.audit(
        "award.export",
        id,
        json!({ "records": export.records.len(), "head": export.head }),
    ))?;
    Ok(Json(export))
}

fn forged(detail: String) -> ApiError {
    ApiError::Invalid {
        title: "The export cannot be imported".to_owned(),
        diagnostics: vec![laurel::Diagnostic::error(laurel::Code::Schema, "", detail)],
    }
}

/// Checks an export: its MAC under `sealer`, each audit record's hash, each record against
/// the audit record that last wrote it, and each published definition against its SHA-256.
/// Returns the records, decoded.
pub fn verify_export(e: &Export, sealer: &Sealer) -> Result<TreeEntries, ApiError> {
    if e.format != FORMAT {
        return Err(ApiError::BadRequest(format!(
            "unknown export format `{}`; this server reads `{FORMAT}`",
            e.format
        )));
    }
    if sealer.mac(&e.body_bytes()) != e.mac {
        return Err(forged(
            "the export's MAC does not match: it was altered, or made with another data key"
                .to_owned(),
        ));
    }
    for r in &e.audit {
        if r.digest() != r.hash {
            return Err(forged(format!("audit record {} was altered", r.seq)));
        }
    }
    if e.audit.windows(2).any(|w| w[0].seq >= w[1].seq) {
        return Err(forged("the audit records are out of order".to_owned()));
    }
    let last = last_writes(&e.audit);
    let mut decoded = Vec::with_capacity(e.records.len());
    for (i, entry) in e.records.iter().enumerate() {
        let Some((tree, key, value)) = entry.decode() else {
            return Err(forged(format!(
                "record {i} (`{}`) cannot be read",
                entry.key
            )));
        };
        let written = last.get(&(entry.tree.clone(), entry.key.clone()));
        match written {
            Some((Some(hash), _)) if *hash == value_digest(&value) => {}
            Some((_, seq)) => {
                return Err(forged(format!(
                    "record {i}, {} `{}`, is not what audit record {seq} wrote",
                    entry.tree, entry.key
                )));
            }
            None => {
                return Err(forged(format!(
                    "record {i}, {} `{}`, was written by no audit record",
                    entry.tree, entry.key
                )));
            }
        }
        let key_award = key.split(|b| *b == 0).next().unwrap_or_default();
        let own = match tree {
            Tree::Files | Tree::Keys => true,
            _ => key_award == e.award.as_bytes(),
        };
        if !own {
            return Err(forged(format!(
                "record {i}, {} `{}`, does not belong to award `{}`",
                entry.tree, entry.key, e.award
            )));
        }
        if tree == Tree::Versions {
            let v: VersionRecord = serde_json::from_slice(&value)
                .map_err(|_| forged(format!("record {i} is not a published version")))?;
            if crate::store::value_digest(v.definition.as_bytes()) != v.sha256 {
                return Err(forged(format!(
                    "record {i}: version {} of `{}` does not match its SHA-256",
                    v.version, v.award
                )));
            }
        }
        decoded.push((tree, key, value));
    }
    Ok(decoded)
}

pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, Json<crate::server::answers::Imported>), ApiError> {
    caller.require(&[Role::Admin])?;
    let e: Export = body::json(&bytes)?;
    // Sealed with another key: its holder must give it, to check the export and re-seal.
    let old = match headers.get(EXPORT_KEY_HEADER).and_then(|v| v.to_str().ok()) {
        Some(k) => Some(
            Sealer::from_base64(k)
                .map_err(|err| ApiError::BadRequest(format!("`{EXPORT_KEY_HEADER}`: {err}")))?,
        ),
        None if e.key_fingerprint != state.sealer.fingerprint() => {
            return Err(forged(format!(
                "the export was sealed with the data key whose fingerprint is {}, not this \
                 server's ({}): give that key in the `{EXPORT_KEY_HEADER}` header to import \
                 it (its personal data is re-sealed with this server's key)",
                e.key_fingerprint,
                state.sealer.fingerprint()
            )));
        }
        None => None,
    };
    let source = old.as_ref().unwrap_or(&state.sealer);
    let records = verify_export(&e, source)?;
    let mut tx = Tx::new(&state);
    if !tx.absent(Tree::Awards, e.award.as_bytes())? {
        return Err(ApiError::Conflict(format!(
            "award `{}` exists; import restores into a server without it",
            e.award
        )));
    }
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut resealed = 0;
    for (tree, key, mut value) in records {
        if tree == Tree::Keys && tx.read::<Value>(tree, &key)?.is_some() {
            // The same API key, already here: kept as it is.
            continue;
        }
        if tree == Tree::Keys {
            // Only the award's own keys come in (an export made elsewhere may carry others);
            // a judge key judges in this award only.
            let Ok(mut record) = serde_json::from_slice::<KeyRecord>(&value) else {
                continue;
            };
            if !award_scoped(&record, &e.award) {
                *counts.entry("keys_not_imported").or_default() += 1;
                continue;
            }
            if record.role == Role::Judge {
                record.award = Some(e.award.clone());
                value = serde_json::to_vec(&record).unwrap_or(value);
            }
        }
        if let Some(old) = &old
            && let Ok(mut v) = serde_json::from_slice::<Value>(&value)
        {
            let n = crypto::reseal(old, &state.sealer, &mut v).map_err(|failed| {
                forged(format!(
                    "{failed} sealed values in {} `{}` do not open with the key given",
                    tree.name(),
                    escape_key(&key)
                ))
            })?;
            if n > 0 {
                value = serde_json::to_vec(&v).unwrap_or(value);
                resealed += n;
            }
        }
        *counts.entry(tree.name()).or_default() += 1;
        tx.put_raw(tree, key, value);
    }
    // Its applications are new here: groups kept for its limits before are built again.
    for k in crate::server::domain::limit_groups::headers_of(&state, &e.award)? {
        tx.delete(Tree::Meta, k);
    }
    // The exporting server's audit records are kept with the award, as its history (under
    // the exporting chain's head, so that histories of several moves stay apart).
    let source = e
        .head
        .as_ref()
        .map_or_else(|| "none".to_owned(), |h| h.hash.chars().take(16).collect());
    for r in &e.audit {
        tx.put(
            Tree::History,
            crate::store::key(&[e.award.as_bytes(), source.as_bytes(), &r.seq.to_be_bytes()]),
            r,
        );
    }
    tx.commit(caller.audit(
        "award.import",
        e.award.clone(),
        json!({ "records": counts, "source_head": e.head, "source_key": e.key_fingerprint, "resealed": resealed }),
    ))?;
    Ok((
        StatusCode::CREATED,
        Json(crate::server::answers::Imported {
            award: e.award,
            imported: counts,
            resealed,
            source_head: e.head,
        }),
    ))
}

/// The whole-server backup format's name.
pub const BACKUP_FORMAT: &str = "laurel-backup/1";

/// Every record of a server, its audit chain included, signed with the data key.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// `laurel-backup/1`.
    #[schemars(extend("const" = "laurel-backup/1"))]
    pub format: String,
    /// When it was made.
    pub made_at: String,
    /// The fingerprint of the data key its personal data is sealed with.
    pub key_fingerprint: String,
    /// The audit chain's head when it was made.
    pub head: Option<Head>,
    /// Every entry of every tree, audit records included.
    pub entries: Vec<Entry>,
    /// HMAC-SHA256 (under a key derived from the data key) of this document without `mac`.
    #[serde(default)]
    pub mac: String,
}

impl Backup {
    /// The bytes the MAC covers.
    pub fn body_bytes(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.mac = String::new();
        serde_json::to_vec(&unsigned).unwrap_or_default()
    }
}

/// A backup of every tree of `store`, taken record by record while the server runs: the
/// entries are read after the chain's head, so that every entry the head's chain vouches for
/// is in it (later writes may be too; `restore` keeps exactly the head's state).
pub fn make_backup(store: &dyn Store, sealer: &Sealer) -> Result<Backup, ApiError> {
    let head = crate::store::head(store)?.map(|r| r.head());
    let mut entries = Vec::new();
    for tree in Tree::ALL {
        for (k, v) in store.scan(tree, b"")? {
            entries.push(Entry::of(tree, &k, &v));
        }
    }
    let mut b = Backup {
        format: BACKUP_FORMAT.to_owned(),
        made_at: crate::store::now(),
        key_fingerprint: sealer.fingerprint(),
        head,
        entries,
        mac: String::new(),
    };
    b.mac = sealer.mac(&b.body_bytes());
    Ok(b)
}

pub async fn backup(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Backup>, ApiError> {
    caller.require(&[Role::Admin])?;
    Ok(Json(make_backup(state.store.as_ref(), &state.sealer)?))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::{AuditEntry, Batch, MemoryStore, key};

    /// An export holds exactly the chain's records that wrote its award's entries, and the
    /// chain's head, from a chain several of the chunks it is read in long.
    #[test]
    fn an_export_keeps_its_awards_records_from_a_long_chain() {
        let store = Arc::new(MemoryStore::default());
        let state = AppState::new(store.clone(), crate::server::crypto::Sealer::for_tests());
        let records = 2_600u64;
        for n in 0..records {
            let award: &[u8] = if n % 5 == 0 { b"mine" } else { b"other" };
            let mut batch = Batch::new();
            batch.put(
                Tree::Applications,
                key(&[award, format!("app-{n}").as_bytes()]),
                b"{}".to_vec(),
            );
            let audit = AuditEntry {
                actor: "admin".into(),
                action: "test".into(),
                target: format!("t{n}"),
                detail: json!({}),
            };
            assert!(store.commit(batch, audit).is_ok());
        }
        let export = make_export(&state, "mine").unwrap_or_else(|e| panic!("{e:?}"));
        let seqs: Vec<u64> = export.audit.iter().map(|r| r.seq).collect();
        let expected: Vec<u64> = (0..records).filter(|n| n % 5 == 0).map(|n| n + 1).collect();
        assert_eq!(seqs, expected);
        assert_eq!(export.head.map(|h| h.seq), Some(records));
        assert_eq!(export.records.len(), expected.len());
    }

    /// A random commit: an application of one of three awards written or removed, now and then
    /// the award itself, a version, a plugin file or an API key beside it.
    fn random_commit(store: &dyn Store, rng: &mut u64, n: u64) {
        let mut next = |below: u64| {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            *rng % below
        };
        let award: &[u8] = [b"mine".as_slice(), b"other", b"third"][next(3) as usize];
        let mut batch = Batch::new();
        let app = key(&[award, format!("app-{}", next(40)).as_bytes()]);
        if next(5) == 0 {
            batch.delete_if_present(Tree::Applications, app);
        } else {
            batch.put(
                Tree::Applications,
                app,
                format!("{{\"n\":{n}}}").into_bytes(),
            );
        }
        match next(6) {
            0 => {
                batch.put(Tree::Awards, award.to_vec(), format!("{n}").into_bytes());
            }
            1 => {
                batch.put(
                    Tree::Versions,
                    key(&[award, b"1"]),
                    format!("{n}").into_bytes(),
                );
            }
            2 => {
                batch.put(
                    Tree::Files,
                    format!("sha-{}", next(4)).into_bytes(),
                    b"x".to_vec(),
                );
            }
            3 => {
                batch.put(
                    Tree::Keys,
                    format!("key-{}", next(4)).into_bytes(),
                    b"{}".to_vec(),
                );
            }
            _ => {}
        }
        let audit = AuditEntry {
            actor: "admin".into(),
            action: "test".into(),
            target: format!("t{n}"),
            detail: json!({}),
        };
        assert!(store.commit(batch, audit).is_ok());
    }

    /// The records of `award`'s export by reading the whole chain: those that wrote one of its
    /// entries as they stand.
    fn by_the_whole_chain(store: &dyn Store, award: &str) -> Vec<u64> {
        let mut wanted = BTreeSet::new();
        if store.get(Tree::Awards, award.as_bytes()).unwrap().is_some() {
            wanted.insert(("awards".to_owned(), escape_key(award.as_bytes())));
        }
        for tree in [Tree::Versions, Tree::Applications] {
            for (k, _) in store.scan(tree, &prefix(&[award.as_bytes()])).unwrap() {
                wanted.insert((tree.name().to_owned(), escape_key(&k)));
            }
        }
        crate::store::scan_json::<AuditRecord>(store, Tree::Audit, b"")
            .unwrap()
            .into_iter()
            .filter(|r| {
                r.writes
                    .iter()
                    .any(|w| wanted.contains(&(w.tree.clone(), w.key.clone())))
            })
            .map(|r| r.seq)
            .collect()
    }

    /// An export finds through the audit index exactly the records a reading of the whole
    /// chain finds, on each store, in an installation whose history began before the index
    /// (its first records copied without their index entries, as an older version left them)
    /// and in one indexed from its first record.
    #[test]
    fn an_export_finds_through_the_index_what_the_whole_chain_holds() {
        let dir = tempfile::tempdir().unwrap();
        let pg = crate::store::pg_cluster::Cluster::start();
        let stores: Vec<(&str, Arc<dyn Store>)> = vec![
            ("memory", Arc::new(MemoryStore::default())),
            (
                "sled",
                Arc::new(crate::store::SledStore::open(dir.path()).unwrap()),
            ),
            (
                "postgres",
                Arc::new(
                    crate::store::PgStore::open(crate::store::PgOptions::new(&pg.database()), true)
                        .unwrap(),
                ),
            ),
        ];
        for (name, store) in stores {
            let mut rng = 0x9e37_79b9_7f4a_7c15u64;
            // An older installation: 250 records, copied without the index.
            let older = MemoryStore::default();
            for n in 0..250 {
                random_commit(&older, &mut rng, n);
            }
            let mut entries = Vec::new();
            for tree in Tree::ALL {
                for (k, v) in older.scan(tree, b"").unwrap() {
                    let indexed = k.starts_with(b"audited") || k.starts_with(b"writers");
                    if !(tree == Tree::Meta && indexed) {
                        entries.push((tree, k, v));
                    }
                }
            }
            store.restore(entries).unwrap();
            let state = AppState::new(store.clone(), crate::server::crypto::Sealer::for_tests());
            assert_eq!(audit_index::indexed_from(store.as_ref()).unwrap(), None);
            for n in 250..500 {
                random_commit(store.as_ref(), &mut rng, n);
            }
            assert_eq!(
                audit_index::indexed_from(store.as_ref()).unwrap(),
                Some(251)
            );
            for award in ["mine", "other", "third"] {
                let export = make_export(&state, award).unwrap_or_else(|e| panic!("{e:?}"));
                let found: Vec<u64> = export.audit.iter().map(|r| r.seq).collect();
                let expected = by_the_whole_chain(store.as_ref(), award);
                assert!(expected.iter().any(|s| *s <= 250) && expected.iter().any(|s| *s > 250));
                assert_eq!(found, expected, "{name}: {award}");
                assert_eq!(export.head.map(|h| h.seq), Some(500));
            }
            // Indexed from its first record.
            let fresh = Arc::new(MemoryStore::default());
            for n in 0..300 {
                random_commit(fresh.as_ref(), &mut rng, n);
            }
            assert_eq!(audit_index::indexed_from(fresh.as_ref()).unwrap(), Some(1));
            let state = AppState::new(fresh.clone(), crate::server::crypto::Sealer::for_tests());
            let export = make_export(&state, "mine").unwrap_or_else(|e| panic!("{e:?}"));
            let found: Vec<u64> = export.audit.iter().map(|r| r.seq).collect();
            assert_eq!(
                found,
                by_the_whole_chain(fresh.as_ref(), "mine"),
                "{name}: fresh"
            );
        }
    }
}
