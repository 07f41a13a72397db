//! Verifiable results: receipts given at submission, pseudonyms, and the signed certificate and
//! public bundle made on each publication (see `docs/verification.md`).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::server::error::ApiError;
use crate::server::records::{
    AwardRecord, CertificateRecord, ResultsRecord, RoundRecord, VersionRecord,
};
use crate::server::signing::{self, CERTIFICATE_TYPE, RECEIPT_TYPE, Signed};
use crate::server::state::{AppState, Work, version_key};
use crate::server::tx::Tx;
use crate::store::{AuditEntry, Batch, StoreError, Tree, get_json, key, now, prefix, scan_json};

fn pseudonym_entry(award: &str) -> Vec<u8> {
    key(&[b"pseudonyms", award.as_bytes()])
}

/// The award's pseudonym key: 32 random bytes, sealed, made once per award (whichever request
/// needs it first), so that the same application or judge has the same pseudonym in every
/// bundle and receipt of the award and cannot be linked to anything outside it.
fn pseudonym_key(state: &AppState, award: &str) -> Result<[u8; 32], ApiError> {
    let known = state
        .pseudonym_keys
        .lock()
        .ok()
        .and_then(|k| k.get(award).copied());
    if let Some(secret) = known {
        return Ok(secret);
    }
    let secret = stored_pseudonym_key(state, award)?;
    if let Ok(mut keys) = state.pseudonym_keys.lock() {
        keys.insert(award.to_owned(), secret);
    }
    Ok(secret)
}

/// The award's pseudonym key as stored, made now if it is not.
fn stored_pseudonym_key(state: &AppState, award: &str) -> Result<[u8; 32], ApiError> {
    let entry = pseudonym_entry(award);
    let aad = format!("pseudonyms/{award}");
    for _ in 0..5 {
        if let Some(bytes) = state.store.get(Tree::Meta, &entry)? {
            let sealed: Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::Internal(format!("the pseudonym key: {e}")))?;
            return state
                .sealer
                .open_value(&sealed)
                .and_then(|v| v.as_str().and_then(|s| STANDARD.decode(s).ok()))
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| {
                    ApiError::Internal("the pseudonym key does not open with the data key".into())
                });
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
        let sealed = state
            .sealer
            .seal_value(&aad, &json!(STANDARD.encode(secret)));
        let mut batch = Batch::new();
        batch.expect(Tree::Meta, entry.clone(), None).put(
            Tree::Meta,
            entry.clone(),
            crate::store::json(&sealed),
        );
        match state.store.commit(
            batch,
            AuditEntry {
                actor: "system".into(),
                action: "pseudonyms.create".into(),
                target: award.to_owned(),
                detail: json!({}),
            },
        ) {
            Ok(_) => return Ok(secret),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict(
        "the pseudonym key kept changing meanwhile".into(),
    ))
}

/// An application's or judge's pseudonym under `secret`.
fn pseudonym(secret: &[u8; 32], party: laurel::Party, id: &str) -> String {
    let (label, prefix) = match party {
        laurel::Party::Application => ("application", "app-"),
        laurel::Party::Judge => ("judge", "judge-"),
    };
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(label.as_bytes());
    mac.update(b"\0");
    mac.update(id.as_bytes());
    format!(
        "{prefix}{}",
        &hex::encode(mac.finalize().into_bytes())[..16]
    )
}

/// The signed receipt of an application as stored now: the award, the application, its
/// pseudonym and the SHA-256 of its content.
pub(crate) fn receipt(
    state: &AppState,
    award: &str,
    version: u32,
    app: &laurel::Application,
) -> Result<Signed, ApiError> {
    let secret = pseudonym_key(state, award)?;
    let content = serde_json::to_vec(app).map_err(|e| ApiError::Internal(e.to_string()))?;
    let at = now();
    let statement = json!({
        "type": RECEIPT_TYPE,
        "award": award,
        "version": version,
        "application": app.id,
        "pseudonym": pseudonym(&secret, laurel::Party::Application, app.id.as_str()),
        "content_sha256": hex::encode(Sha256::digest(&content)),
        "received_at": at,
    });
    Ok(signing::sign(
        state.store.as_ref(),
        &state.sealer,
        &statement,
        &at,
    )?)
}

/// The SHA-256 (hex) of a signed statement's text: how a bundle names a receipt and a
/// certificate names the one it replaces.
pub fn statement_sha256(signed: &Signed) -> String {
    hex::encode(Sha256::digest(signed.statement.as_bytes()))
}

/// Every certificate of an award, oldest first.
pub(crate) fn certificates(
    state: &AppState,
    award: &str,
) -> Result<Vec<CertificateRecord>, ApiError> {
    Ok(scan_json(
        state.store.as_ref(),
        Tree::Certificates,
        &prefix(&[award.as_bytes()]),
    )?)
}

/// One certificate.
pub(crate) fn certificate(
    state: &AppState,
    award: &str,
    number: u64,
) -> Result<Option<CertificateRecord>, ApiError> {
    Ok(get_json(
        state.store.as_ref(),
        Tree::Certificates,
        &key(&[award.as_bytes(), &number.to_be_bytes()]),
    )?)
}

/// The public bundle of `results` (the award's results as published, opened) and its signed
/// certificate, put in `tx` beside the publication; the bundle is recomputed here first, and
/// what does not recompute is kept with the certificate and shown.
pub(crate) async fn certify(
    state: &AppState,
    tx: &mut Tx<'_>,
    record: &AwardRecord,
    results: &ResultsRecord,
    fin: &laurel::FinalResults,
    published_at: &str,
) -> Result<CertificateRecord, ApiError> {
    let award = record.id.clone();
    let bundle = bundle(state, record, results, fin).await?;
    let text = serde_json::to_string(&bundle).map_err(|e| ApiError::Internal(e.to_string()))?;
    let check = bundle.clone();
    let verification = state
        .engine(
            Work::Award {
                id: award.clone(),
                plugins: !bundle.plugin_files.is_empty(),
            },
            move || laurel::verify_bundle(&check),
        )
        .await?;
    let earlier = certificates(state, &award)?;
    let number = earlier.last().map_or(1, |c| c.number + 1);
    let k = key(&[award.as_bytes(), &number.to_be_bytes()]);
    tx.absent(Tree::Certificates, &k)?;
    let head = crate::store::head(state.store.as_ref())?.map(|r| r.head());
    let statement = json!({
        "type": CERTIFICATE_TYPE,
        "award": award,
        "version": results.version,
        "certificate": number,
        "results": results.seq,
        "published_at": published_at,
        "definition_sha256": results.definition_sha256,
        "results_sha256": results.results_sha256,
        "bundle_sha256": hex::encode(Sha256::digest(text.as_bytes())),
        "bundle_recomputes": verification.mismatches.is_empty(),
        "audit_head": head,
        "replaces": earlier.last().map(|c| json!({
            "certificate": c.number, "statement_sha256": statement_sha256(&c.certificate),
        })),
    });
    let certificate = signing::sign(
        state.store.as_ref(),
        &state.sealer,
        &statement,
        published_at,
    )?;
    let stored = CertificateRecord {
        award,
        number,
        certificate,
        bundle: text,
        mismatches: verification.mismatches,
    };
    tx.put(Tree::Certificates, k, &stored);
    Ok(stored)
}

/// The bundle of an award's published results from what is stored.
async fn bundle(
    state: &AppState,
    record: &AwardRecord,
    results: &ResultsRecord,
    fin: &laurel::FinalResults,
) -> Result<laurel::Bundle, ApiError> {
    let award = record.id.as_str();
    let version: VersionRecord = get_json(
        state.store.as_ref(),
        Tree::Versions,
        &version_key(award, results.version),
    )?
    .ok_or_else(|| ApiError::Internal(format!("version {} is missing", results.version)))?;
    let loaded = state.loaded(award, results.version).await?;
    let mut applications = Vec::new();
    let mut receipts = BTreeMap::new();
    for (r, app) in crate::server::domain::results::submitted(state, &loaded, award)? {
        if let Some(receipt) = &r.receipt {
            receipts.insert(app.id.to_string(), statement_sha256(receipt));
        }
        let decision = stored_decision(app.id.as_str(), &r.eligibility);
        applications.push((app, decision, r.review.map(|x| x.eligible)));
    }
    let mut rounds = Vec::new();
    for spec in loaded.award.judging_rounds() {
        let Some(r): Option<RoundRecord> = get_json(
            state.store.as_ref(),
            Tree::Rounds,
            &crate::server::domain::rounds::round_key(award, &spec.id),
        )?
        else {
            continue;
        };
        let evaluations: Vec<laurel::Evaluation> = if spec.is_marked() {
            scan_json(
                state.store.as_ref(),
                Tree::RoundMarks,
                &prefix(&[award.as_bytes(), spec.id.as_bytes()]),
            )?
        } else {
            Vec::new()
        };
        let override_reason = r.override_reason.clone();
        rounds.push(laurel::RoundInputs {
            round: spec.id.to_string(),
            entrants: r.entrants.clone(),
            assignments: r.assignments.clone(),
            seed: r.seed,
            marks: laurel::Marks {
                evaluations,
                ..laurel::Marks::default()
            },
            advanced: r.advanced.as_ref().map(|a| {
                a.iter()
                    .map(|x| {
                        (
                            x.application.clone(),
                            x.reason.clone().or_else(|| override_reason.clone()),
                        )
                    })
                    .collect()
            }),
        });
    }
    let secret = pseudonym_key(state, award)?;
    let mentions = record.special_mentions.clone();
    let definition = version.definition;
    let files = version.files;
    let fin = fin.clone();
    let l = loaded.clone();
    state
        .engine(Work::of(&loaded.award), move || {
            let inputs = laurel::BundleInputs {
                award: &l.award,
                version: l.version,
                definition: &definition,
                plugin_files: &files,
                applications,
                receipts,
                rounds,
                special_mentions: &mentions,
                results: &fin,
            };
            laurel::make_bundle(&inputs, &|party, id| pseudonym(&secret, party, id))
        })
        .await
}

/// The eligibility decided on submission, as stored, without the values the rules read.
fn stored_decision(application: &str, stored: &Value) -> laurel::Decision {
    let status = stored
        .get("status")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or(laurel::Status::Ineligible);
    let failures = stored
        .get("failures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| {
            Some(laurel::RuleFailure {
                rule: f.get("rule")?.as_str()?.to_owned(),
                outcome: serde_json::from_value(f.get("outcome")?.clone()).ok()?,
                message: serde_json::from_value(f.get("message")?.clone()).ok()?,
                values: BTreeMap::new(),
                details: Vec::new(),
            })
        })
        .collect();
    laurel::Decision {
        application: application.to_owned(),
        status,
        failures,
        rules_checked: 0,
    }
}
