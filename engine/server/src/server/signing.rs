//! The installation's results-signing keys (Ed25519): created on first start, the private half
//! sealed with the data key, rotatable, old public keys kept and listed so that certificates
//! signed before a rotation still verify. Statements are signed as the exact bytes of their
//! JSON text, so that anyone checks a signature without re-encoding anything.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::crypto::Sealer;
use crate::store::{AuditEntry, Batch, Store, StoreError, Tree};

/// The type of a certificate's statement.
pub const CERTIFICATE_TYPE: &str = "laurel-results-certificate/1";
/// The type of a receipt's statement.
pub const RECEIPT_TYPE: &str = "laurel-receipt/1";
/// The format of a downloadable verification file: a certificate and the bundle it certifies.
pub const FILE_FORMAT: &str = "laurel-verification/1";

/// Where the keys are kept, in the store's `meta` tree.
pub const KEYS_ENTRY: &[u8] = b"results_signing_keys";
/// Where a sealed key's associated data says it belongs.
const AAD: &str = "results-signing-key";

/// A key as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    /// Its id: the first 16 hex digits of the SHA-256 of the public key.
    pub id: String,
    /// The public key, 32 bytes, base64.
    pub public_key: String,
    /// The 32-byte secret seed, sealed with the data key.
    pub secret: Value,
    /// When it was made.
    pub created_at: String,
    /// When it was replaced by a newer key; `None` for the key in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
}

/// A public key as listed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PublicKey {
    /// Its id (the first 16 hex digits of the SHA-256 of the key's 32 bytes): certificates
    /// and receipts name the key that signed them by it.
    pub id: String,
    /// Always `Ed25519`.
    pub algorithm: String,
    /// The key's 32 bytes, base64.
    pub public_key: String,
    /// From when it signs.
    pub valid_from: String,
    /// Until when it signed; absent for the key in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

impl From<&StoredKey> for PublicKey {
    fn from(k: &StoredKey) -> Self {
        Self {
            id: k.id.clone(),
            algorithm: "Ed25519".to_owned(),
            public_key: k.public_key.clone(),
            valid_from: k.created_at.clone(),
            valid_until: k.retired_at.clone(),
        }
    }
}

/// A signature over a statement's bytes, and the key that made it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Signed {
    /// The statement: a JSON text, signed as its exact UTF-8 bytes.
    pub statement: String,
    /// The Ed25519 signature of those bytes, base64.
    pub signature: String,
    /// The id of the key that signed.
    pub key: String,
}

/// The id of a public key.
pub fn key_id(public: &[u8]) -> String {
    hex::encode(&Sha256::digest(public)[..8])
}

fn fresh(sealer: &Sealer, created_at: &str) -> Result<StoredKey, StoreError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| StoreError::Backend(format!("no randomness: {e}")))?;
    let signing = SigningKey::from_bytes(&seed);
    let public = signing.verifying_key().to_bytes();
    Ok(StoredKey {
        id: key_id(&public),
        public_key: STANDARD.encode(public),
        secret: sealer.seal_value(AAD, &json!(STANDARD.encode(seed))),
        created_at: created_at.to_owned(),
        retired_at: None,
    })
}

/// Every key, newest last.
pub fn keys(store: &dyn Store) -> Result<Vec<StoredKey>, StoreError> {
    match store.get(Tree::Meta, KEYS_ENTRY)? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Corrupt(Tree::Meta.name(), e.to_string())),
        None => Ok(Vec::new()),
    }
}

/// Makes the first key if there is none (once, whichever process of an installation starts
/// first); then, with `rotate`, retires the key in use and makes a new one.
pub fn ensure(
    store: &dyn Store,
    sealer: &Sealer,
    rotate: bool,
    now: &str,
) -> Result<Vec<StoredKey>, StoreError> {
    for _ in 0..5 {
        let before = store.get(Tree::Meta, KEYS_ENTRY)?;
        let mut all: Vec<StoredKey> = match &before {
            Some(b) => serde_json::from_slice(b)
                .map_err(|e| StoreError::Corrupt(Tree::Meta.name(), e.to_string()))?,
            None => Vec::new(),
        };
        if !all.is_empty() && !rotate {
            return Ok(all);
        }
        for k in all.iter_mut().filter(|k| k.retired_at.is_none()) {
            k.retired_at = Some(now.to_owned());
        }
        let key = fresh(sealer, now)?;
        let id = key.id.clone();
        all.push(key);
        let mut batch = Batch::new();
        batch.expect(Tree::Meta, KEYS_ENTRY.to_vec(), before).put(
            Tree::Meta,
            KEYS_ENTRY.to_vec(),
            crate::store::json(&all),
        );
        match store.commit(
            batch,
            AuditEntry {
                actor: "system".into(),
                action: if rotate {
                    "results_key.rotate"
                } else {
                    "results_key.create"
                }
                .into(),
                target: id,
                detail: json!({ "algorithm": "Ed25519" }),
            },
        ) {
            Ok(_) => return Ok(all),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Backend(
        "the signing keys kept changing meanwhile".to_owned(),
    ))
}

/// Signs `statement` (a JSON value, written as compact text) with the key in use.
pub fn sign(
    store: &dyn Store,
    sealer: &Sealer,
    statement: &Value,
    now: &str,
) -> Result<Signed, StoreError> {
    let all = ensure(store, sealer, false, now)?;
    let key = all
        .iter()
        .rev()
        .find(|k| k.retired_at.is_none())
        .ok_or_else(|| StoreError::Backend("no signing key in use".to_owned()))?;
    let signing = opened(sealer, key)?;
    let text = serde_json::to_string(statement).map_err(|e| StoreError::Backend(e.to_string()))?;
    let signature = signing.sign(text.as_bytes());
    Ok(Signed {
        statement: text,
        signature: STANDARD.encode(signature.to_bytes()),
        key: key.id.clone(),
    })
}

/// The signing key `key` holds, opened once per process (opening and expanding it costs more
/// than a signature): cached by the sealed secret's text, which is unique to the key and to the
/// data key it is sealed with.
fn opened(sealer: &Sealer, key: &StoredKey) -> Result<SigningKey, StoreError> {
    type Opened = std::sync::Mutex<std::collections::HashMap<String, SigningKey>>;
    static OPENED: std::sync::OnceLock<Opened> = std::sync::OnceLock::new();
    let cache = OPENED.get_or_init(Default::default);
    let id = key.secret.to_string();
    if let Some(k) = cache.lock().ok().and_then(|c| c.get(&id).cloned()) {
        return Ok(k);
    }
    let seed = sealer
        .open_value(&key.secret)
        .and_then(|v| v.as_str().and_then(|s| STANDARD.decode(s).ok()))
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            StoreError::Backend(
                "the results-signing key does not open with the data key".to_owned(),
            )
        })?;
    let signing = SigningKey::from_bytes(&seed);
    if let Ok(mut c) = cache.lock() {
        c.insert(id, signing.clone());
    }
    Ok(signing)
}

/// Whether `signed` carries a valid signature by `public` (32 bytes, base64).
pub fn verify(signed: &Signed, public: &str) -> Result<(), String> {
    let bytes = STANDARD
        .decode(public.trim())
        .map_err(|e| format!("the public key is not base64: {e}"))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "the public key is not 32 bytes".to_owned())?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|e| format!("not an Ed25519 key: {e}"))?;
    let sig = STANDARD
        .decode(&signed.signature)
        .map_err(|e| format!("the signature is not base64: {e}"))?;
    let sig = ed25519_dalek::Signature::from_slice(&sig)
        .map_err(|e| format!("the signature is not 64 bytes: {e}"))?;
    key.verify(signed.statement.as_bytes(), &sig)
        .map_err(|_| format!("the signature does not verify with key {}", key_id(&bytes)))
}
