//! Personal data at rest: form fields marked `personal` are sealed with XChaCha20-Poly1305,
//! bound to the award, the application and the field's path, before they reach storage.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use laurel::{Award, Field, FieldKind};
use serde_json::{Map, Value};

/// The environment variable that may hold the key (32 bytes, base64).
pub const KEY_VARIABLE: &str = "LAUREL_DATA_KEY";
/// The marker of a sealed value: `{"$sealed": "<base64 nonce and ciphertext>"}`.
const SEALED: &str = "$sealed";

/// Seals and opens personal data.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    /// The key from `LAUREL_DATA_KEY`, or from `key_file`, which is created (mode 0600) with a
    /// fresh random key on first start.
    pub fn load(key_file: &Path) -> anyhow::Result<Self> {
        let encoded = match std::env::var(KEY_VARIABLE) {
            Ok(v) => v,
            Err(_) if key_file.exists() => std::fs::read_to_string(key_file)?,
            Err(_) => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
                let encoded = STANDARD.encode(key);
                write_private(key_file, &encoded)?;
                encoded
            }
        };
        let key = STANDARD
            .decode(encoded.trim())
            .map_err(|e| anyhow::anyhow!("the data key is not base64: {e}"))?;
        let cipher = XChaCha20Poly1305::new_from_slice(&key)
            .map_err(|_| anyhow::anyhow!("the data key must be 32 bytes"))?;
        Ok(Self { cipher })
    }

    #[cfg(test)]
    pub fn for_tests() -> Self {
        Self {
            cipher: XChaCha20Poly1305::new_from_slice(&[7u8; 32])
                .unwrap_or_else(|_| unreachable!()),
        }
    }

    fn seal(&self, aad: &str, value: &Value) -> Value {
        let mut nonce = [0u8; 24];
        if getrandom::fill(&mut nonce).is_err() {
            return Value::Null;
        }
        let plain = value.to_string();
        let Ok(n) = XNonce::try_from(&nonce[..]) else {
            return Value::Null;
        };
        match self.cipher.encrypt(
            &n,
            Payload {
                msg: plain.as_bytes(),
                aad: aad.as_bytes(),
            },
        ) {
            Ok(ct) => {
                let mut sealed = nonce.to_vec();
                sealed.extend(ct);
                serde_json::json!({ SEALED: STANDARD.encode(sealed) })
            }
            Err(_) => Value::Null,
        }
    }

    fn open(&self, aad: &str, sealed: &str) -> Option<Value> {
        let bytes = STANDARD.decode(sealed).ok()?;
        let (nonce, ct) = bytes.split_at_checked(24)?;
        let n = XNonce::try_from(nonce).ok()?;
        let plain = self
            .cipher
            .decrypt(
                &n,
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// The fields of an application's category, award-wide first.
fn fields<'a>(award: &'a Award, category: &str) -> impl Iterator<Item = &'a Field> {
    let own = award
        .category(category)
        .map(|c| c.fields.as_slice())
        .unwrap_or_default();
    award.fields.iter().chain(own)
}

/// What to do with a field's value.
enum Action<'s> {
    Seal(&'s Sealer),
    Open(&'s Sealer),
    /// Remove personal fields, and with `true` also those hidden from judges.
    Redact(bool),
}

fn walk(field: &Field, map: &mut Map<String, Value>, aad: &str, action: &Action<'_>) {
    let id = field.id.as_str();
    let path = format!("{aad}.{id}");
    let remove = match action {
        Action::Redact(judge) => field.personal || (*judge && field.hidden_from_judges),
        _ => false,
    };
    if remove {
        map.remove(id);
        return;
    }
    let Some(value) = map.get_mut(id) else { return };
    match (action, &field.kind) {
        (Action::Seal(s), _) if field.personal => *value = s.seal(&path, value),
        (Action::Open(s), _) if field.personal => {
            if let Some(sealed) = value.get(SEALED).and_then(Value::as_str)
                && let Some(plain) = s.open(&path, sealed)
            {
                *value = plain;
            }
        }
        (_, FieldKind::Group { fields }) => {
            if let Value::Object(inner) = value {
                for f in fields {
                    walk(f, inner, &path, action);
                }
                // A group left empty by redaction says nothing: drop it.
                if inner.is_empty() && matches!(action, Action::Redact(_)) {
                    map.remove(id);
                }
            }
        }
        (_, FieldKind::List { item, .. }) => {
            if let Value::Array(items) = value {
                for (i, v) in items.iter_mut().enumerate() {
                    let mut wrapper = Map::new();
                    wrapper.insert(item.id.as_str().to_owned(), std::mem::take(v));
                    walk(item, &mut wrapper, &format!("{path}.{i}"), action);
                    *v = wrapper.remove(item.id.as_str()).unwrap_or(Value::Null);
                }
            }
        }
        _ => {}
    }
}

fn apply(award: &Award, application: &mut Value, action: &Action<'_>) {
    let category = application
        .get("category")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let id = application
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let aad = format!("{}/{id}", award.id);
    if let Some(Value::Object(map)) = application.get_mut("fields") {
        for f in fields(award, &category) {
            walk(f, map, &aad, action);
        }
    }
}

/// Seals every personal field of an application (as JSON) before it is stored.
pub fn seal(award: &Award, sealer: &Sealer, application: &mut Value) {
    apply(award, application, &Action::Seal(sealer));
}

/// Opens every sealed field of a stored application.
pub fn open(award: &Award, sealer: &Sealer, application: &mut Value) {
    apply(award, application, &Action::Open(sealer));
}

/// Removes personal fields, and for judges also the fields hidden from them.
pub fn redact(award: &Award, application: &mut Value, for_judge: bool) {
    apply(award, application, &Action::Redact(for_judge));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn award() -> Award {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../rubrics/seoul-smart-city-prize-2023");
        let source = std::fs::read_to_string(folder.join("award.json")).unwrap_or_default();
        laurel::check_definition(&source, &|p: &str| std::fs::read(folder.join(p)))
            .award
            .unwrap_or_else(|| unreachable!())
    }

    fn app() -> Value {
        serde_json::json!({ "id": "a-1", "category": "leadership", "applicant_type": "individual", "fields": {
            "applicant_name": "Ada", "contact": { "name": "Ada L.", "email": "ada@example.org" },
            "nominator": { "name": "Nom", "organisation": "City", "email": "nom@example.org" } } })
    }

    #[test]
    fn personal_fields_are_sealed_bound_to_their_place_and_opened() {
        let (award, sealer) = (award(), Sealer::for_tests());
        let mut v = app();
        seal(&award, &sealer, &mut v);
        let text = v.to_string();
        assert!(
            !text.contains("ada@example.org")
                && !text.contains("Ada L.")
                && !text.contains("nom@example.org"),
            "{text}"
        );
        assert_eq!(v["fields"]["applicant_name"], "Ada");
        assert_eq!(v["fields"]["nominator"]["organisation"], "City");
        // A sealed value moved to another application does not open.
        let mut moved = v.clone();
        moved["id"] = serde_json::json!("a-2");
        open(&award, &sealer, &mut moved);
        assert!(moved["fields"]["contact"]["email"].get(SEALED).is_some());
        open(&award, &sealer, &mut v);
        assert_eq!(v, app());
    }

    #[test]
    fn judges_see_neither_personal_nor_hidden_fields() {
        let award = award();
        let mut v = app();
        redact(&award, &mut v, true);
        assert_eq!(v["fields"], serde_json::json!({}));
        let mut v = app();
        redact(&award, &mut v, false);
        assert_eq!(v["fields"]["applicant_name"], "Ada");
        assert_eq!(
            v["fields"]["nominator"],
            serde_json::json!({ "organisation": "City" })
        );
    }
}
