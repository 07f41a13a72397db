//! Verifiable results over HTTP: the public results-signing keys, each award's certificates
//! and their verification files (public once published), and an applicant's receipt.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::server::auth::Caller;
use crate::server::domain::certificates;
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, Role};
use crate::server::signing::{self, FILE_FORMAT, PublicKey, Signed};
use crate::server::state::AppState;
use crate::store::{Tree, get_json, key, now};

/// The installation's results-signing keys, newest last.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResultsKeys {
    /// Every key that signed or signs, with its validity.
    pub keys: Vec<PublicKey>,
}

/// One certificate as listed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CertificateView {
    /// Its number in the award (1, 2, ...): a correction's certificate names the one it
    /// replaces.
    pub number: u64,
    /// The signed statement.
    pub certificate: Signed,
    /// The statement, read.
    pub statement: Value,
    /// Whether the server's own recomputation of the bundle gave the published results.
    pub recomputes: bool,
    /// What did not recompute, if anything.
    pub mismatches: Vec<laurel::Mismatch>,
    /// Where the verification file (certificate and bundle) is.
    pub file: String,
}

/// An award's certificates, oldest first: the last is the one in force.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Certificates {
    /// The award.
    pub award: String,
    /// Its certificates.
    pub certificates: Vec<CertificateView>,
}

fn listed(state: &AppState) -> Result<ResultsKeys, ApiError> {
    Ok(ResultsKeys {
        keys: signing::keys(state.store.as_ref())?
            .iter()
            .map(PublicKey::from)
            .collect(),
    })
}

/// A verification file: a certificate and the bundle it certifies (docs/verification.md).
#[derive(Debug, Serialize, JsonSchema)]
pub struct VerificationFile {
    /// Always `laurel-verification/1`.
    pub format: String,
    /// The signed certificate.
    pub certificate: Signed,
    /// The bundle, as a JSON text: its exact bytes are what the certificate's
    /// `bundle_sha256` covers.
    pub bundle: String,
}

/// `GET /v1/keys/results`: public.
pub async fn keys(State(state): State<AppState>) -> Result<Json<ResultsKeys>, ApiError> {
    Ok(Json(listed(&state)?))
}

/// `POST /v1/keys/results/rotate`: an administrator retires the key in use and makes a new
/// one; the old public key stays listed, so that what it signed still verifies.
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ResultsKeys>, ApiError> {
    caller.require(&[Role::Admin])?;
    signing::ensure(state.store.as_ref(), &state.sealer, true, &now())?;
    Ok(Json(listed(&state)?))
}

fn view(c: &crate::server::records::CertificateRecord) -> CertificateView {
    CertificateView {
        number: c.number,
        statement: serde_json::from_str(&c.certificate.statement).unwrap_or(Value::Null),
        certificate: c.certificate.clone(),
        recomputes: c.mismatches.is_empty(),
        mismatches: c.mismatches.clone(),
        file: format!("/v1/awards/{}/certificates/{}", c.award, c.number),
    }
}

/// `GET /v1/awards/{award}/certificates`: public; empty until results are published.
pub async fn list(
    State(state): State<AppState>,
    Path(award): Path<String>,
) -> Result<Json<Certificates>, ApiError> {
    let all = certificates::certificates(&state, &award)?;
    Ok(Json(Certificates {
        certificates: all.iter().map(view).collect(),
        award,
    }))
}

/// `GET /v1/awards/{award}/certificates/{number}`: the verification file, to download.
pub async fn file(
    State(state): State<AppState>,
    Path((award, number)): Path<(String, u64)>,
) -> Result<Response, ApiError> {
    let c = certificates::certificate(&state, &award, number)?.ok_or_else(|| {
        ApiError::NotFound(format!("award `{award}` has no certificate {number}"))
    })?;
    let body = serde_json::to_vec_pretty(&VerificationFile {
        format: FILE_FORMAT.to_owned(),
        certificate: c.certificate,
        bundle: c.bundle,
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{award}-results-{number}.laurel.json\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /v1/awards/{award}/applications/{application}/receipt`: the signed receipt of what the
/// application holds now, for its owner (and administrators).
pub async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
) -> Result<Json<Signed>, ApiError> {
    caller.require(&[Role::Admin, Role::Applicant, Role::Integrator])?;
    let unknown = || ApiError::NotFound(format!("no application `{id}` in award `{award}`"));
    let record: ApplicationRecord = get_json(
        state.store.as_ref(),
        Tree::Applications,
        &key(&[award.as_bytes(), id.as_bytes()]),
    )?
    .ok_or_else(unknown)?;
    if caller.role != Role::Admin && record.owner != caller.key {
        return Err(unknown());
    }
    record.receipt.map(Json).ok_or_else(|| {
        ApiError::NotFound(format!(
            "application `{id}` was stored before receipts were given: it has none"
        ))
    })
}
