//! The Laurel service: a thin axum adapter over the engine and a `Store`.
//!
//! `router(state)` is the whole HTTP surface; `main` serves it and the tests call it through
//! the real binary. Every write goes through `Store::commit`, which applies it atomically with
//! its audit record and makes it durable before the response.

mod auth;
pub use auth::ClientAddr;
mod body;
pub mod crypto;
mod error;
mod guard;
mod idempotency;
pub mod listen;
pub mod mail;
mod notices;
pub mod oidc;
mod openapi;
pub mod outbound;
pub mod outbox;
mod pages;
pub mod passkeys;
mod people;
pub mod ratelimit;
pub mod records;
mod routes;
pub mod scheduler;
mod session;
mod throttle;
mod webhooks;
pub use routes::backup_types as routes_backup;
pub(crate) use routes::invite_administrator;
pub use throttle::{Throttle, retry_after as throttle_retry_after};
pub mod tx;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use laurel::{Award, PluginSet};
use tower_http::timeout::TimeoutLayer;

pub use error::ApiError;
pub use openapi::document as openapi_document;
pub use records::Role;

use crate::store::{AuditEntry, Batch, Store, Tree, get_json, json, now};
use records::{AwardRecord, AwardState, KeyRecord, VersionRecord, VersionSummary};

/// Requests a credential may make a minute unless `serve --rate-limit` says otherwise: high
/// enough for a portal's bursts and the scoring API's batch work, low enough to stop a runaway
/// client.
pub const DEFAULT_RATE_LIMIT: u64 = 600_000;
/// Requests a client address may make a minute to `/v1/validate` and the playground, by
/// default.
pub const DEFAULT_ANONYMOUS_RATE_LIMIT: u64 = 120;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 8 << 20;
/// The longest a request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A published version, checked and with its plugins loaded.
pub struct Loaded {
    /// The checked award.
    pub award: Award,
    /// Its plugins.
    pub plugins: PluginSet,
    /// Its version number.
    pub version: u32,
    /// Its compiled application schema.
    pub checker: laurel::ApplicationChecker,
}

/// Checked versions by award and version number, the oldest loaded evicted first beyond
/// [`VERSIONS_CACHED`].
type VersionCache = Mutex<(HashMap<(String, u32), Arc<Loaded>>, VecDeque<(String, u32)>)>;

/// How many checked versions are kept loaded.
pub const VERSIONS_CACHED: usize = 64;
/// The longest the plugin work of one request may take, by default: past it, its remaining
/// plugin calls fail at once and it is answered with their errors.
pub const PLUGIN_DEADLINE: Duration = Duration::from_secs(10);

/// Whose engine work a job is: plugin work is shared fairly between awards (and anonymous
/// callers as one), and plugin-free work never queues behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Work on an award: in its lane when it has plugins, plugin-free otherwise.
    Award {
        /// The award's id.
        id: String,
        /// Whether it has plugins.
        plugins: bool,
    },
    /// A definition checked or scored for callers without an account (validation, the
    /// playground): one lane for all of them.
    Anonymous,
}

impl Work {
    /// Work on a checked award.
    pub fn of(award: &Award) -> Self {
        Work::Award {
            id: award.id.to_string(),
            plugins: !award.plugins.is_empty(),
        }
    }

    /// Work on a definition not yet checked (its text): in the lane of the award it names
    /// when it declares plugins (checking compiles them); plugin-free otherwise (unreadable
    /// text declares nothing: checking it reports the syntax error and stops).
    pub fn definition(text: &str) -> Self {
        let value = serde_json::from_str::<serde_json::Value>(text).unwrap_or_default();
        Work::Award {
            id: value
                .get("id")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect(),
            plugins: value
                .get("plugins")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|p| !p.is_empty()),
        }
    }

    fn lane(self) -> Option<laurel::Lane> {
        match self {
            Work::Award { plugins: false, .. } => None,
            Work::Award { id, .. } => Some(laurel::Lane::shared(format!("award:{id}"))),
            Work::Anonymous => Some(laurel::Lane::shared("anonymous")),
        }
    }
}

/// How much one person or award may hold: each past its bound answers 429 (`quota`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Files one person may upload to one award.
    pub upload_files: u64,
    /// Bytes one person may upload to one award.
    pub upload_bytes: u64,
    /// Invitations an award may have waiting.
    pub invitations: u64,
    /// Webhook endpoints an installation may have.
    pub webhooks: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            upload_files: 100,
            upload_bytes: 200 << 20,
            invitations: 1_000,
            webhooks: 50,
        }
    }
}

/// What every route shares.
#[derive(Clone)]
pub struct AppState {
    /// The storage.
    pub store: Arc<dyn Store>,
    /// Seals personal data.
    pub sealer: Arc<crypto::Sealer>,
    cache: Arc<VersionCache>,
    /// The longest the plugin work of one request may take.
    pub plugin_deadline: Duration,
    /// A fixed time the server takes as now for the award timeline (tests and rehearsals);
    /// the system clock when `None`.
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
    /// Failed authentications by client.
    pub throttle: Arc<throttle::Throttle>,
    /// Requests for sign-in links by client address (a shared office address makes many).
    pub link_throttle: Arc<throttle::Throttle>,
    /// Sign-in links mailed to each address (at most 10 an hour, silently).
    pub mailbox_throttle: Arc<throttle::Throttle>,
    /// Each credential's budget of requests per minute.
    pub budgets: Arc<ratelimit::Budgets>,
    /// Each address's budget for anonymous work (validation, the playground) a minute.
    pub anonymous_budgets: Arc<ratelimit::Budgets>,
    /// Quotas of uploads, invitations and webhooks.
    pub quotas: Quotas,
    /// The installation's OpenID Connect provider, if sign-in through one is configured.
    pub oidc: Option<Arc<oidc::Oidc>>,
    /// Whether administrators must use a passkey as a second factor in the pages.
    pub admin_passkeys: bool,
    /// Idempotency keys whose first request is still running (in this process).
    pub in_flight: Arc<Mutex<std::collections::HashSet<Vec<u8>>>>,
    /// Whether webhook endpoints may be on loopback or private addresses.
    pub webhooks_to_private: bool,
    /// The address people reach the server at, for the links in mails.
    pub public_url: String,
    /// Whether session cookies are marked `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// The origins whose pages may call the API from a browser (CORS); none by default.
    pub cors_origins: Vec<String>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// State over a store and a sealer.
    pub fn new(store: Arc<dyn Store>, sealer: crypto::Sealer) -> Self {
        Self {
            store,
            sealer: Arc::new(sealer),
            cache: Arc::default(),
            plugin_deadline: PLUGIN_DEADLINE,
            clock: None,
            throttle: Arc::default(),
            link_throttle: Arc::new(throttle::Throttle::new(50)),
            mailbox_throttle: Arc::new(throttle::Throttle::new(10)),
            in_flight: Arc::default(),
            budgets: Arc::new(ratelimit::Budgets::new(DEFAULT_RATE_LIMIT)),
            anonymous_budgets: Arc::new(ratelimit::Budgets::new(DEFAULT_ANONYMOUS_RATE_LIMIT)),
            quotas: Quotas::default(),
            oidc: None,
            admin_passkeys: true,
            webhooks_to_private: false,
            public_url: "http://127.0.0.1:8080".to_owned(),
            secure_cookies: false,
            cors_origins: Vec::new(),
        }
    }

    /// Now, by the server's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.unwrap_or_else(chrono::Utc::now)
    }

    /// Runs engine work without holding a runtime worker, so the other routes answer
    /// meanwhile. Work that may call or compile a plugin runs on the plugin threads, in its
    /// award's lane (a bounded share of the threads, a bounded queue), with the request's
    /// plugin deadline; plugin-free work runs on the blocking pool and never waits behind
    /// plugin jobs. A full lane answers 503 with `Retry-After` at once.
    pub async fn engine<R, F>(&self, work: Work, job: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        let Some(lane) = work.lane() else {
            return tokio::task::spawn_blocking(job)
                .await
                .map_err(|_| ApiError::Internal("an engine job failed".to_owned()));
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let deadline = std::time::Instant::now() + self.plugin_deadline;
        laurel::spawn_in_lane(lane, Some(deadline), job, move |r| {
            let _ = tx.send(r);
        })
        .map_err(|_| {
            ApiError::Unavailable(
                "too much plugin work is waiting for this award: try again shortly".to_owned(),
            )
        })?;
        rx.await
            .map_err(|_| ApiError::Internal("a job failed on its plugin thread".to_owned()))
    }

    /// A published version of an award, checked and loaded once (on a plugin thread: loading
    /// compiles its plugins).
    pub async fn loaded(&self, award: &str, version: u32) -> Result<Arc<Loaded>, ApiError> {
        let key = (award.to_owned(), version);
        if let Some(l) = self.cache.lock().ok().and_then(|c| c.0.get(&key).cloned()) {
            return Ok(l);
        }
        let record: VersionRecord = get_json(
            self.store.as_ref(),
            Tree::Versions,
            &version_key(award, version),
        )?
        .ok_or_else(|| ApiError::NotFound(format!("award `{award}` has no version {version}")))?;
        let files = decode_files(&record.files)?;
        let id = award.to_owned();
        let work = Work::Award {
            id: award.to_owned(),
            plugins: !record.files.is_empty(),
        };
        let loaded = self
            .engine(work, move || -> Result<Loaded, ApiError> {
                let report = laurel::check_definition(&record.definition, &files);
                let checked = report.award.ok_or_else(|| {
                    ApiError::Internal(format!(
                        "stored version {version} of `{id}` no longer checks"
                    ))
                })?;
                let plugins = laurel::load_plugins(&checked, &files).map_err(|d| {
                    ApiError::Internal(format!(
                        "plugins of `{id}` v{version} do not load: {} problems",
                        d.len()
                    ))
                })?;
                let checker = laurel::ApplicationChecker::new(&checked);
                Ok(Loaded {
                    award: checked,
                    plugins,
                    version,
                    checker,
                })
            })
            .await??;
        let loaded = Arc::new(loaded);
        if let Ok(mut c) = self.cache.lock() {
            let (map, order) = &mut *c;
            if map.insert(key.clone(), loaded.clone()).is_none() {
                order.push_back(key);
            }
            while order.len() > VERSIONS_CACHED {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
        Ok(loaded)
    }
}

/// `award \0 version`.
pub fn version_key(award: &str, version: u32) -> Vec<u8> {
    crate::store::key(&[award.as_bytes(), &version.to_be_bytes()])
}

/// Plugin files as bytes.
pub fn decode_files(
    files: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Vec<u8>>, ApiError> {
    files
        .iter()
        .map(|(k, v)| {
            STANDARD
                .decode(v)
                .map(|b| (k.clone(), b))
                .map_err(|e| ApiError::Internal(format!("stored file `{k}`: {e}")))
        })
        .collect()
}

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    // Innermost first: every status any layer answers with (408 included) is then rewritten
    // as problem+json, and the guard sees and logs every request.
    let api = pages::Api(routes::routes().with_state(state.clone()));
    let cors = cors(&state.cors_origins);
    routes::routes()
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
