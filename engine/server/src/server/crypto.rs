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
/// The marker of a sealed value: `{"$sealed": "<base64 nonce and ciphertext>", "$aad":
/// "<where it belongs>"}`.
pub const SEALED: &str = "$sealed";
/// The place a sealed value is bound to (its associated data), kept beside it so that it can
/// be re-sealed under a new key without knowing where it came from.
const AAD: &str = "$aad";
/// What people without access to personal data see in place of a sealed value.
pub const REDACTED: &str = "[personal]";

/// Seals and opens personal data.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    fingerprint: String,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    /// The key from `LAUREL_DATA_KEY`, or from `key_file`; `Ok(None)` when neither exists.
    pub fn load(key_file: &Path) -> anyhow::Result<Option<Self>> {
        if let Ok(v) = std::env::var(KEY_VARIABLE) {
            return Self::from_base64(&v).map(Some);
        }
        if key_file.exists() {
            let text = std::fs::read_to_string(key_file).map_err(|e| {
                anyhow::anyhow!("cannot read the data key `{}`: {e}", key_file.display())
            })?;
            return Self::from_base64(&text).map(Some);
        }
        Ok(None)
    }

    /// Makes a fresh random key and writes it to `key_file` (mode 0600; it must not exist).
    pub fn create(key_file: &Path) -> anyhow::Result<Self> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let encoded = STANDARD.encode(key);
        if let Some(parent) = key_file.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::store::folders::create(parent)?;
        }
        // The key, and its name in its folder, on the device before anything is sealed with it.
        write_private(key_file, &encoded)
            .and_then(|()| crate::store::folders::sync_parent(key_file))
            .map_err(|e| {
                anyhow::anyhow!("cannot write the data key `{}`: {e}", key_file.display())
            })?;
        Self::from_base64(&encoded)
    }

    #[cfg(test)]
    pub fn for_tests() -> Self {
        Self::from_base64(&STANDARD.encode([7u8; 32])).unwrap_or_else(|_| unreachable!())
    }

    /// The key's fingerprint: which key sealed a store or an export, without revealing it.
    pub fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    /// A key from its base64 text.
    pub fn from_base64(encoded: &str) -> anyhow::Result<Self> {
        let key = STANDARD
            .decode(encoded.trim())
            .map_err(|e| anyhow::anyhow!("the data key is not base64: {e}"))?;
        let cipher = XChaCha20Poly1305::new_from_slice(&key)
            .map_err(|_| anyhow::anyhow!("the data key must be 32 bytes"))?;
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut h = <sha2::Sha256 as sha2::Digest>::new();
            sha2::Digest::update(&mut h, label);
            sha2::Digest::update(&mut h, &key);
            sha2::Digest::finalize(h).into()
        };
        Ok(Self {
            cipher,
            fingerprint: hex::encode(&derive(b"laurel data key fingerprint\0")[..16]),
            mac_key: derive(b"laurel export mac key\0"),
        })
    }

    /// An HMAC-SHA256 of `bytes` under a key derived from the data key: exports and backups
    /// carry one, so that only a holder of the key can make one that imports.
    pub fn mac(&self, bytes: &[u8]) -> String {
        use hmac::Mac;
        let Ok(mut m) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.mac_key) else {
            return String::new();
        };
        m.update(bytes);
        hex::encode(m.finalize().into_bytes())
    }

    /// Opens a sealed value with the place it says it belongs to.
    pub fn open_value(&self, sealed: &Value) -> Option<Value> {
        let blob = sealed.get(SEALED)?.as_str()?;
        let aad = sealed.get(AAD)?.as_str()?;
        self.open(aad, blob)
    }

    /// Opens a sealed string (an address, a name, a secret); empty when it cannot be opened.
    pub fn open_text(&self, sealed: &Value) -> String {
        self.open_value(sealed)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Seals `value` for the place `aad` names.
    pub fn seal_value(&self, aad: &str, value: &Value) -> Value {
        self.seal(aad, value)
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
                serde_json::json!({ SEALED: STANDARD.encode(sealed), AAD: aad })
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
    let category = text_of(application, "category");
    let id = text_of(application, "id");
    let aad = format!("{}/{id}", award.id);
    if let Some(Value::Object(map)) = application.get_mut("fields") {
        for f in fields(award, &category) {
            walk(f, map, &aad, action);
        }
    }
}

/// Opens every sealed value anywhere in `value` that belongs to award `award` (its `$aad`
/// starts with `award/`); what does not open stays sealed.
pub fn open_all(sealer: &Sealer, award: &str, value: &mut Value) {
    let prefix = format!("{award}/");
    visit_sealed(value, &mut |v| {
        if v.get(AAD)
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with(&prefix))
            && let Some(plain) = sealer.open_value(v)
        {
            *v = plain;
        }
    });
}

/// What a caller may see of a document holding sealed values: those who may read them
/// (administrators) see them opened, everyone else sees [`REDACTED`] in their place.
pub fn for_caller(may_open: bool, sealer: &Sealer, award: &str, value: &mut Value) {
    if may_open {
        open_all(sealer, award, value);
    }
    redact_all(value);
}

/// Replaces every sealed value anywhere in `value` with [`REDACTED`].
pub fn redact_all(value: &mut Value) {
    visit_sealed(value, &mut |v| *v = Value::String(REDACTED.to_owned()));
}

/// Calls `f` on every sealed value in `value` (never looking inside one).
pub fn visit_sealed(value: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    match value {
        Value::Object(map) if map.contains_key(SEALED) => f(value),
        Value::Object(map) => map.values_mut().for_each(|v| visit_sealed(v, f)),
        Value::Array(items) => items.iter_mut().for_each(|v| visit_sealed(v, f)),
        _ => {}
    }
}

/// Whether the value at a dotted path (`team_members`, `contact.email`) holds personal data:
/// the field is personal, lies within one that is, or holds one that is, in any category of
/// the award.
pub fn is_personal(award: &Award, path: &str) -> bool {
    let mut parts = path.split('.');
    let Some(first) = parts.next() else {
        return false;
    };
    let all = award
        .fields
        .iter()
        .chain(award.categories.iter().flat_map(|c| c.fields.iter()));
    all.filter(|f| f.id.as_str() == first).any(|f| {
        let mut field = f;
        if field.personal {
            return true;
        }
        for part in parts.clone() {
            let next = match &field.kind {
                FieldKind::Group { fields } => fields.iter().find(|g| g.id.as_str() == part),
                FieldKind::List { item, .. } => part
                    .parse::<usize>()
                    .is_ok()
                    .then_some(item.as_ref())
                    .or_else(|| (item.id.as_str() == part).then_some(item.as_ref())),
                _ => None,
            };
            let Some(next) = next else {
                return false;
            };
            if next.personal {
                return true;
            }
            field = next;
        }
        holds_personal(std::slice::from_ref(field))
    })
}

fn holds_personal(fields: &[Field]) -> bool {
    fields.iter().any(|f| {
        f.personal
            || match &f.kind {
                FieldKind::Group { fields } => holds_personal(fields),
                FieldKind::List { item, .. } => holds_personal(std::slice::from_ref(item.as_ref())),
                _ => false,
            }
    })
}

/// Whether any field of the award is personal: then what plugins say of its applications
/// (reasons, explanations, errors) may repeat personal data, and is sealed too.
pub fn has_personal(award: &Award) -> bool {
    holds_personal(&award.fields) || award.categories.iter().any(|c| holds_personal(&c.fields))
}

/// The string at `key` of a JSON object, or "" (sealing then binds to an empty part).
fn text_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Seals what an eligibility decision (as JSON) carries that derives from personal data: the
/// values of personal fields a rule read, and what plugins said.
pub fn seal_decision(award: &Award, sealer: &Sealer, application: &str, decision: &mut Value) {
    let plugins_personal = has_personal(award);
    let base = format!("{}/{application}/eligibility", award.id);
    for failure in decision
        .get_mut("failures")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let rule = text_of(failure, "rule");
        if let Some(Value::Object(values)) = failure.get_mut("values") {
            for (path, v) in values.iter_mut() {
                if is_personal(award, path) && !v.is_null() {
                    *v = sealer.seal(&format!("{base}/{rule}/{path}"), v);
                }
            }
        }
        if plugins_personal
            && let Some(details) = failure.get_mut("details")
            && details.as_array().is_some_and(|d| !d.is_empty())
        {
            *details = sealer.seal(&format!("{base}/{rule}/details"), details);
        }
    }
}

/// Seals what results (as JSON) carry that derives from personal data: each application's
/// eligibility (as [`seal_decision`]), and, when the award has personal fields, what plugins
/// said (score explanations, plugin errors of unscored applications, and the warnings the
/// engine marks as a plugin's, `plugin_warnings`, whatever their wording) and adjustments read
/// from personal fields.
pub fn seal_results(
    award: &Award,
    sealer: &Sealer,
    results: &mut Value,
    plugin_warnings: &[usize],
) {
    let plugins_personal = has_personal(award);
    let id = award.id.to_string();
    for e in results
        .get_mut("eligibility")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let app = text_of(e, "application");
        seal_decision(award, sealer, &app, e);
    }
    for c in results
        .get_mut("categories")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        for p in c
            .get_mut("ranking")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let app = text_of(p, "application");
            let Some(trace) = p.get_mut("trace") else {
                continue;
            };
            if plugins_personal && let Some(x) = trace.pointer_mut("/plugin/explanation") {
                *x = sealer.seal(&format!("{id}/{app}/explanation"), x);
            }
            for a in trace
                .get_mut("adjustments")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let field = text_of(a, "field");
                if is_personal(award, &field)
                    && let Some(v) = a.get_mut("value")
                {
                    *v = sealer.seal(&format!("{id}/{app}/adjustment/{field}"), v);
                }
            }
        }
        if plugins_personal {
            for u in c
                .get_mut("unscored")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if u.get("plugin_error").is_none() {
                    continue;
                }
                let app = text_of(u, "application");
                for k in ["reason", "plugin_error"] {
                    if let Some(v) = u.get_mut(k) {
                        *v = sealer.seal(&format!("{id}/{app}/unscored/{k}"), v);
                    }
                }
            }
        }
    }
    if plugins_personal {
        for (i, w) in results
            .get_mut("warnings")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if plugin_warnings.contains(&i) {
                *w = sealer.seal(&format!("{id}/warning/{i}"), w);
            }
        }
    }
}

/// Seals what final results (as JSON) repeat of what plugins said (why an application was not
/// scored in a round, and the warnings the final results mark as a plugin's,
/// `plugin_warnings`, whatever their wording), when the award has personal fields.
pub fn seal_final(award: &Award, sealer: &Sealer, results: &mut Value, plugin_warnings: &[usize]) {
    if !has_personal(award) {
        return;
    }
    let id = award.id.to_string();
    for a in results
        .get_mut("applications")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let app = text_of(a, "application");
        for p in a
            .get_mut("rounds")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let round = text_of(p, "round");
            if let Some(v) = p.get_mut("unscored") {
                *v = sealer.seal(&format!("{id}/{app}/{round}/unscored"), v);
            }
        }
    }
    for (i, w) in results
        .get_mut("warnings")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if plugin_warnings.contains(&i) {
            *w = sealer.seal(&format!("{id}/final-warning/{i}"), w);
        }
    }
}

/// Re-seals every sealed value in `value` from `old` to `new`, each bound to the same place;
/// `Err` with the number of values that `old` could not open (nothing is changed then).
pub fn reseal(old: &Sealer, new: &Sealer, value: &mut Value) -> Result<usize, usize> {
    let mut opened = Vec::new();
    let mut failed = 0;
    let mut probe = value.clone();
    visit_sealed(&mut probe, &mut |v| match (
        old.open_value(v),
        v.get(AAD).and_then(Value::as_str).map(str::to_owned),
    ) {
        (Some(plain), Some(aad)) => opened.push((aad, plain)),
        _ => failed += 1,
    });
    if failed > 0 {
        return Err(failed);
    }
    let mut next = opened.into_iter();
    let mut count = 0;
    visit_sealed(value, &mut |v| {
        if let Some((aad, plain)) = next.next() {
            *v = new.seal(&aad, &plain);
            count += 1;
        }
    });
    Ok(count)
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

    /// What a plugin said is sealed because the engine marks it as a plugin's, in any wording:
    /// the warnings below quote a personal address written every way a plugin might; those
    /// marked are sealed, the engine's own are left readable.
    #[test]
    fn warnings_are_sealed_by_their_mark_not_their_wording() {
        let (award, sealer) = (award(), Sealer::for_tests());
        let wordings = [
            "tie-break plugin `t` left a tie unbroken: ada@example.org",
            "ADA@EXAMPLE.ORG could not be compared",
            "the contact (ada@example.org) breaks the tie",
            "plugin said: Ada L. <ada@example.org>",
        ];
        let engine_own =
            "judge `j1` marked 2 applications in `main`, fewer than the 5 that normalisation needs";
        let mut warnings: Vec<&str> = wordings.to_vec();
        warnings.insert(2, engine_own);
        let mut results =
            serde_json::json!({ "eligibility": [], "categories": [], "warnings": warnings });
        let marked: Vec<usize> = (0..warnings.len()).filter(|&i| i != 2).collect();
        seal_results(&award, &sealer, &mut results, &marked);
        let text = results.to_string().to_lowercase();
        assert!(
            !text.contains("ada@example.org") && !text.contains("ada l."),
            "{text}"
        );
        assert_eq!(results["warnings"][2], engine_own);
        for i in marked {
            assert!(
                results["warnings"][i].get(SEALED).is_some(),
                "{i}: {results}"
            );
        }
    }

    /// The final results repeat the rounds' warnings: those a round marked as a plugin's are
    /// sealed by that mark in any wording, the engine's own left readable.
    #[test]
    fn final_warnings_are_sealed_by_their_mark_not_their_wording() {
        let (award, sealer) = (award(), Sealer::for_tests());
        let warnings = [
            "round `expert`: ADA@EXAMPLE.ORG could not be compared",
            "round `expert`: judge `j1` marked 2 applications in `main`",
            "round `final`: the contact (ada@example.org) breaks the tie",
            "round `final`: plugin said: Ada L. <ada@example.org>",
        ];
        let mut results = serde_json::json!({ "applications": [], "warnings": warnings });
        let marked = [0, 2, 3];
        seal_final(&award, &sealer, &mut results, &marked);
        let text = results.to_string().to_lowercase();
        assert!(
            !text.contains("ada@example.org") && !text.contains("ada l."),
            "{text}"
        );
        assert_eq!(results["warnings"][1], warnings[1]);
        for i in marked {
            assert!(
                results["warnings"][i].get(SEALED).is_some(),
                "{i}: {results}"
            );
        }
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
