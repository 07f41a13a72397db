//! The Laurel service: a thin axum adapter over the engine and a `Store`.
//!
//! `router(state)` is the whole HTTP surface; `main` serves it and the tests call it through
//! the real binary. Every write goes through `Store::commit`, which applies it atomically with
//! its audit record and makes it durable before the response.

mod answers;
mod auth;
mod body;
mod budgets;
mod caller;
pub mod crypto;
mod domain;
mod error;
mod guard;
mod idempotency;
pub mod jobs;
pub mod listen;
pub mod log_lines;
pub mod mail;
pub mod metrics;
mod metrics_http;
mod notices;
pub mod oidc;
mod openapi;
pub mod outbound;
pub mod outbox;
mod pages;
pub(crate) mod paging;
pub mod passkeys;
mod people;
pub mod ratelimit;
pub mod records;
mod routes;
pub mod scheduler;
mod session;
pub mod signing;
mod throttle;
mod timed_store;
mod webhooks;
pub mod witness;
pub mod words;
pub use routes::backup_types as routes_backup;
pub(crate) use routes::invite_administrator;
pub use throttle::Throttle;
pub mod state;
pub mod templates;
pub mod tx;
pub use state::{
    AppState, BODY_LIMIT, DEFAULT_ANONYMOUS_RATE_LIMIT, DEFAULT_RATE_LIMIT, Quotas,
    REQUEST_TIMEOUT, version_key,
};

use std::collections::BTreeMap;
use std::path::Path;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tower_http::timeout::TimeoutLayer;

pub use openapi::document as openapi_document;
pub use records::Role;

use crate::store::{AuditEntry, Batch, Store, Tree, json, now};
use records::{AwardRecord, AwardState, KeyRecord, VersionRecord, VersionSummary};

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    // Innermost first: every status any layer answers with (408 included) is then rewritten
    // as problem+json, and the guard sees and logs every request.
    let api = pages::Api(routes::routes().with_state(state.clone()));
    let cors = cors(&state.cors_origins);
    // The document describing the routes is served beside them, not by them.
    routes::routes()
        .route("/v1/openapi.json", axum::routing::get(openapi::serve))
        // Prometheus reads it where it looks by default, beside the API.
        .route("/metrics", axum::routing::get(metrics_http::serve))
        .layer(cors)
        .merge(pages::routes().layer(axum::Extension(api)))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics_http::layer,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::map_response(
            error::problem_for_bare_errors,
        ))
        .layer(axum::middleware::from_fn(guard::guard))
}

/// CORS for the API: the origins configured (`serve --cors-origin`), none by default. Keys
/// travel in `Authorization`, never in cookies, so credentials are not allowed across origins.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::RETRY_AFTER,
            // The next page of a list, and the caller's rate budget.
            header::LINK,
            HeaderName::from_static("ratelimit"),
            HeaderName::from_static("ratelimit-policy"),
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// On first start (no key at all), makes an admin key and returns its secret, to print once.
pub fn bootstrap_admin(store: &dyn Store) -> anyhow::Result<Option<String>> {
    if !store.scan(Tree::Keys, b"")?.is_empty() {
        return Ok(None);
    }
    let (secret, id) = auth::generate().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let record = KeyRecord {
        id: id.clone(),
        role: Role::Admin,
        subject: None,
        award: None,
        label: "bootstrap admin".into(),
        created_at: now(),
        revoked: false,
        owner: Some(records::KeyOwner {
            kind: records::OwnerKind::Service,
            id: "bootstrap".into(),
        }),
    };
    let mut batch = Batch::new();
    // Once per store: of several processes starting on one database, one makes the key.
    batch
        .expect(Tree::Meta, b"bootstrap-admin".to_vec(), None)
        .put(Tree::Meta, b"bootstrap-admin".to_vec(), json(&id))
        .put(Tree::Keys, auth::digest(&secret), json(&record));
    match store.commit(
        batch,
        AuditEntry {
            actor: "system".into(),
            action: "key.bootstrap".into(),
            target: id,
            detail: serde_json::json!({ "role": "admin" }),
        },
    ) {
        Ok(_) => Ok(Some(secret)),
        Err(crate::store::StoreError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Publishes each shipped rubric found under `dir` (folders with an `award.json`) that the
/// store does not have yet, as version 1 of a draft award.
pub fn install_rubrics(store: &dyn Store, dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut installed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(installed);
    };
    let mut folders: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("award.json").is_file())
        .collect();
    folders.sort();
    for folder in folders {
        let definition = std::fs::read_to_string(folder.join("award.json"))?;
        let read = |p: &str| std::fs::read(folder.join(p));
        let report = laurel::check_definition(&definition, &read);
        let Some(award) = report.award else {
            tracing::warn!("skipping invalid rubric {}", folder.display());
            continue;
        };
        if store
            .get(Tree::Awards, award.id.as_str().as_bytes())?
            .is_some()
        {
            continue;
        }
        let mut files = BTreeMap::new();
        let mut batch = Batch::new();
        for p in &award.plugins {
            let bytes = std::fs::read(folder.join(&p.path))?;
            files.insert(p.path.clone(), STANDARD.encode(&bytes));
            // Content-addressed too, so a later draft pinning the same file needs no upload.
            batch.put(Tree::Files, p.sha256.as_bytes().to_vec(), bytes);
        }
        let at = now();
        let version = VersionRecord {
            award: award.id.to_string(),
            version: 1,
            definition,
            sha256: award.sha256.clone(),
            files,
            published_at: at.clone(),
        };
        let record = AwardRecord {
            id: award.id.to_string(),
            state: AwardState::Draft,
            draft: None,
            draft_sha256: None,
            versions: vec![VersionSummary {
                version: 1,
                sha256: award.sha256.clone(),
                published_at: at.clone(),
            }],
            special_mentions: Vec::new(),
            published: None,
            schedule: None,
            notifications: Default::default(),
            registration_closed: false,
            templates: Default::default(),
            created_at: at,
        };
        batch.put(
            Tree::Awards,
            award.id.as_str().as_bytes().to_vec(),
            json(&record),
        );
        batch.put(
            Tree::Versions,
            version_key(award.id.as_str(), 1),
            json(&version),
        );
        // Another process starting on the same database may install it first.
        batch.expect(Tree::Awards, award.id.as_str().as_bytes().to_vec(), None);
        match store.commit(batch, AuditEntry {
            actor: "system".into(),
            action: "award.install".into(),
            target: award.id.to_string(),
            detail: serde_json::json!({ "version": 1, "sha256": award.sha256, "from": folder.display().to_string() }),
        }) {
            Ok(_) => installed.push(award.id.to_string()),
            Err(crate::store::StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(installed)
}
