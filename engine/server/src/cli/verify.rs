//! `laurel verify FILE [--key PUBKEY | --server URL] [--receipt RECEIPT]`: checks a published
//! result from its verification file alone, offline: the certificate's signature, that the
//! bundle is the one certified, then every score, rank, advancement and winner recomputed from
//! the bundle. With `--server`, the key is fetched from the server's list and the certificate
//! checked to be the one in force; with `--receipt`, an applicant's own application is found
//! in the bundle. Exit 0 when everything matches, 1 naming each mismatch, 2 on unusable input.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{EXIT_INVALID, EXIT_OK};
use crate::server::signing::{
    self, CERTIFICATE_TYPE, FILE_FORMAT, PublicKey, RECEIPT_TYPE, Signed,
};

/// Where the public key comes from.
pub enum KeySource<'a> {
    /// Given: the key's 32 bytes in base64, or a file holding them or the server's key list.
    Given(&'a str),
    /// A Laurel server's `GET /v1/keys/results`, and its list of the award's certificates.
    Server(&'a str),
}

/// What was checked, line by line, and what failed.
#[derive(Default)]
struct Report {
    ok: Vec<String>,
    failed: Vec<String>,
}

impl Report {
    fn check(&mut self, holds: bool, ok: impl Into<String>, failed: impl Into<String>) {
        if holds {
            self.ok.push(ok.into());
        } else {
            self.failed.push(failed.into());
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn fetch(server: &str, path: &str) -> anyhow::Result<Value> {
    crate::server::outbound::tls().map_err(anyhow::Error::msg)?;
    let url = format!("{}{path}", server.trim_end_matches('/'));
    let mut response =
        crate::server::outbound::plain_agent(Some(std::time::Duration::from_secs(30)))
            .get(&url)
            .call()
            .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string()?;
    anyhow::ensure!(status == 200, "{url} answered {status}: {body}");
    serde_json::from_str(&body).with_context(|| format!("{url} did not answer JSON"))
}

/// The public keys a source offers.
fn keys(source: &KeySource<'_>) -> anyhow::Result<Vec<PublicKey>> {
    match source {
        KeySource::Server(url) => {
            let list = fetch(url, "/v1/keys/results")?;
            serde_json::from_value(list["keys"].clone()).context("the server's key list")
        }
        KeySource::Given(text) => {
            let text = if Path::new(text).is_file() {
                std::fs::read_to_string(text).with_context(|| format!("cannot read `{text}`"))?
            } else {
                (*text).to_owned()
            };
            if let Ok(list) = serde_json::from_str::<Value>(&text)
                && list.get("keys").is_some()
            {
                return serde_json::from_value(list["keys"].clone()).context("the key list");
            }
            let public = text.trim().to_owned();
            let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &public)
                .context("--key is neither a file, a key list, nor a base64 public key")?;
            Ok(vec![PublicKey {
                id: signing::key_id(&bytes),
                algorithm: "Ed25519".to_owned(),
                public_key: public,
                valid_from: String::new(),
                valid_until: None,
            }])
        }
    }
}

/// Checks `signed` against the key it names among `keys`, valid at `at` when the list says
/// when keys were valid.
fn check_signature(r: &mut Report, what: &str, signed: &Signed, keys: &[PublicKey], at: &str) {
    let Some(key) = keys.iter().find(|k| k.id == signed.key) else {
        r.failed.push(format!(
            "{what}: signed by key {}, which is not among the keys given ({})",
            signed.key,
            keys.iter()
                .map(|k| k.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return;
    };
    match signing::verify(signed, &key.public_key) {
        Ok(()) => {
            r.ok.push(format!("{what}: signature valid (key {})", key.id))
        }
        Err(e) => r.failed.push(format!("{what}: {e}")),
    }
    if !key.valid_from.is_empty()
        && (at < key.valid_from.as_str() || key.valid_until.as_deref().is_some_and(|u| at > u))
    {
        r.failed.push(format!(
            "{what}: made at {at}, outside key {}'s validity ({} to {})",
            key.id,
            key.valid_from,
            key.valid_until.as_deref().unwrap_or("now")
        ));
    }
}

pub fn run(
    file: &Path,
    source: &KeySource<'_>,
    receipt: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read `{}`", file.display()))?;
    let envelope: Value =
        serde_json::from_str(&text).with_context(|| format!("`{}` is not JSON", file.display()))?;
    anyhow::ensure!(
        envelope["format"] == FILE_FORMAT,
        "`{}` is not a Laurel verification file (format `{FILE_FORMAT}`)",
        file.display()
    );
    let certificate: Signed = serde_json::from_value(envelope["certificate"].clone())
        .context("the file's `certificate`")?;
    let bundle_text = envelope["bundle"]
        .as_str()
        .context("the file's `bundle` is not a JSON text")?;
    let statement: Value =
        serde_json::from_str(&certificate.statement).context("the certificate's statement")?;
    let mut r = Report::default();
    r.check(
        statement["type"] == CERTIFICATE_TYPE,
        format!(
            "certificate {} of `{}`",
            statement["certificate"],
            statement["award"].as_str().unwrap_or_default()
        ),
        format!(
            "the statement's type is {}, not `{CERTIFICATE_TYPE}`",
            statement["type"]
        ),
    );
    let published_at = statement["published_at"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let keys = keys(source)?;
    check_signature(
        &mut r,
        "the certificate",
        &certificate,
        &keys,
        &published_at,
    );
    let bundle_sha = sha256(bundle_text.as_bytes());
    r.check(
        statement["bundle_sha256"] == bundle_sha.as_str(),
        format!("the bundle is the one certified (SHA-256 {bundle_sha})"),
        format!(
            "the bundle is not the one certified: its SHA-256 is {bundle_sha}, the certificate names {}",
            statement["bundle_sha256"]
        ),
    );
    let award = statement["award"].as_str().unwrap_or_default().to_owned();
    if let KeySource::Server(url) = source {
        let listed = fetch(url, &format!("/v1/awards/{award}/certificates"))?;
        let all = listed["certificates"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let same = all
            .iter()
            .find(|c| c["number"] == statement["certificate"])
            .is_some_and(|c| c["certificate"]["statement"] == certificate.statement.as_str());
        r.check(
            same,
            format!(
                "the server lists this certificate as number {}",
                statement["certificate"]
            ),
            format!(
                "the server lists no such certificate {} for `{award}`",
                statement["certificate"]
            ),
        );
        if let Some(newest) = all.last()
            && newest["number"] != statement["certificate"]
        {
            r.failed.push(format!(
                "certificate {} was replaced: certificate {} (published at {}) is in force",
                statement["certificate"],
                newest["number"],
                newest["statement"]["published_at"]
                    .as_str()
                    .unwrap_or_default()
            ));
        }
    }
    let bundle: laurel::Bundle = match serde_json::from_str(bundle_text) {
        Ok(b) => b,
        Err(e) => {
            r.failed.push(format!("the bundle does not read: {e}"));
            return finish(&r, json);
        }
    };
    r.check(
        bundle.award == award,
        format!("the bundle is of `{award}`"),
        format!(
            "the bundle is of `{}`, the certificate of `{award}`",
            bundle.award
        ),
    );
    let definition_sha = sha256(bundle.definition.as_bytes());
    r.check(
        statement["definition_sha256"] == definition_sha.as_str(),
        format!("the definition is the one certified (SHA-256 {definition_sha})"),
        format!(
            "the definition's SHA-256 is {definition_sha}, the certificate names {}",
            statement["definition_sha256"]
        ),
    );
    let v = laurel::verify_bundle(&bundle);
    for m in &v.mismatches {
        r.failed.push(format!(
            "{}: the bundle says {}, recomputed {}",
            m.what, m.bundle, m.recomputed
        ));
    }
    if v.mismatches.is_empty() {
        r.ok.push(format!(
            "recomputed from the bundle: {} applications, {} rounds scored from {} evaluations; every score, rank, advancement and winner matches",
            v.applications, v.rounds_scored, v.evaluations
        ));
    }
    if let Some(path) = receipt {
        check_receipt(&mut r, path, &bundle, &keys)?;
    }
    finish(&r, json)
}

fn check_receipt(
    r: &mut Report,
    path: &Path,
    bundle: &laurel::Bundle,
    keys: &[PublicKey],
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let receipt: Signed = serde_json::from_str(&text).context("the receipt")?;
    let statement: Value =
        serde_json::from_str(&receipt.statement).context("the receipt's statement")?;
    let at = statement["received_at"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    r.check(
        statement["type"] == RECEIPT_TYPE,
        "the receipt is a Laurel receipt",
        format!(
            "the receipt's type is {}, not `{RECEIPT_TYPE}`",
            statement["type"]
        ),
    );
    check_signature(r, "the receipt", &receipt, keys, &at);
    let pseudonym = statement["pseudonym"].as_str().unwrap_or_default();
    let wanted = sha256(receipt.statement.as_bytes());
    match bundle.applications.iter().find(|a| a.id == pseudonym) {
        Some(a) if a.receipt_sha256.as_deref() == Some(wanted.as_str()) => {
            let outcome = bundle
                .results
                .applications
                .iter()
                .find(|o| o.application == pseudonym)
                .map_or_else(|| "not in the results".to_owned(), |o| {
                    serde_json::to_value(o.outcome)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                        .replace('_', " ")
                });
            r.ok.push(format!(
                "your application {} is counted as {pseudonym}, as received at {at}: {outcome}",
                statement["application"].as_str().unwrap_or_default()
            ));
        }
        Some(_) => r.failed.push(format!(
            "your application is in the bundle as {pseudonym}, but not as your receipt describes it (it was changed after this receipt, or the bundle was)"
        )),
        None => r.failed.push(format!(
            "your application ({pseudonym}) is not in the bundle"
        )),
    }
    Ok(())
}

fn finish(r: &Report, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "verified": r.failed.is_empty(), "matches": r.ok, "mismatches": r.failed,
            }))?
        );
    } else {
        for line in &r.ok {
            outln!("ok: {line}");
        }
        for line in &r.failed {
            outln!("MISMATCH: {line}");
        }
        if r.failed.is_empty() {
            outln!("verified: every check holds");
        } else {
            outln!("NOT verified: {} mismatches", r.failed.len());
        }
    }
    Ok(ExitCode::from(if r.failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_INVALID
    }))
}
