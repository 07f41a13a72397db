//! The server's state: the store, the sealer, caches of loaded award versions, the plugin
//! lanes, budgets and settings that every handler, page, worker and the CLI share; and the
//! settings' defaults. Nothing here knows a route or a page.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use laurel::{Award, PluginSet};

use super::error::ApiError;

use super::records::VersionRecord;
use crate::store::{Store, Tree, get_json};

/// Requests a credential may make a minute unless `serve --rate-limit` says otherwise: high
/// enough for a portal's bursts and the scoring API's batch work, low enough to stop a runaway
/// client.
pub const DEFAULT_RATE_LIMIT: u64 = 600_000;
/// Requests a client address may make a minute to `/v1/validate` and the playground, by
/// default.
pub const DEFAULT_ANONYMOUS_RATE_LIMIT: u64 = 120;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 8 << 20;

/// The largest file one upload may send (a field's `max_bytes` bounds it further while it
/// streams).
pub const UPLOAD_LIMIT: usize = 64 << 20;

/// The largest application form posted from the pages with its files.
pub const FORM_WITH_FILES_LIMIT: usize = 160 << 20;
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

/// The largest input of plugin-free engine work run without a hop to another thread
/// ([`AppState::engine_sized`]).
pub const INLINE_BYTES: usize = 16 << 10;

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

/// What every route shares: one pointer, so that each layer's and each route's copy of the
/// state (axum clones it for every request, several times) is one count, not twenty.
/// Changing a field of a copy changes that copy alone, as it did when the state was a plain
/// struct (copy on write).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    /// The storage.
    pub store: Arc<dyn Store>,
    /// Seals personal data.
    pub sealer: Arc<super::crypto::Sealer>,
    cache: Arc<VersionCache>,
    /// The longest the plugin work of one request may take.
    pub plugin_deadline: Duration,
    /// A fixed time the server takes as now for the award timeline (tests and rehearsals);
    /// the system clock when `None`.
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
    /// Failed authentications by client.
    pub throttle: Arc<super::throttle::Throttle>,
    /// Requests for sign-in links by client address (a shared office address makes many).
    pub link_throttle: Arc<super::throttle::Throttle>,
    /// Sign-in links mailed to each address (at most 10 an hour, silently).
    pub mailbox_throttle: Arc<super::throttle::Throttle>,
    /// Each credential's budget of requests per minute.
    pub budgets: Arc<super::budgets::Budgets>,
    /// Each address's budget for anonymous work (validation, the playground) a minute.
    pub anonymous_budgets: Arc<super::budgets::Budgets>,
    /// Quotas of uploads, invitations and webhooks.
    pub quotas: Quotas,
    /// The installation's OpenID Connect provider, if sign-in through one is configured.
    pub oidc: Option<Arc<super::oidc::Oidc>>,
    /// Whether administrators must use a passkey as a second factor in the pages.
    pub admin_passkeys: bool,
    /// Each award's pseudonym key, once read: made once per award and never changed, so it is
    /// read from the store once per process.
    pub pseudonym_keys: Arc<Mutex<std::collections::HashMap<String, [u8; 32]>>>,
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
    /// Woken by every commit that queues a message: the outbox worker delivers at once rather
    /// than at its next look (which stays, for retries and for other processes' messages).
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Wakes the clock's work: a commit changed awards, versions, rounds or people.
    pub schedule_wake: Arc<tokio::sync::Notify>,
    /// The audit head's witness beside the data key, when the server has one.
    pub witness: Option<Arc<super::witness::Witness>>,
    /// What the process counts for `/metrics`.
    pub metrics: Arc<super::metrics::Metrics>,
    /// Long computations started by a request and followed by others.
    pub jobs: Arc<super::jobs::Jobs>,
    /// Whether requests and commits are traced (spans for an OpenTelemetry collector, when
    /// `laurel serve` has one to send them to).
    pub traces: bool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// State over a store and a sealer.
    pub fn new(store: Arc<dyn Store>, sealer: super::crypto::Sealer) -> Self {
        let metrics = Arc::new(super::metrics::Metrics::default());
        Self(Arc::new(Shared {
            store: Arc::new(super::timed_store::TimedStore::new(store, metrics.clone())),
            sealer: Arc::new(sealer),
            cache: Arc::default(),
            plugin_deadline: PLUGIN_DEADLINE,
            clock: None,
            throttle: Arc::default(),
            link_throttle: Arc::new(super::throttle::Throttle::new(50)),
            mailbox_throttle: Arc::new(super::throttle::Throttle::new(10)),
            in_flight: Arc::default(),
            pseudonym_keys: Arc::default(),
            budgets: Arc::new(super::budgets::Budgets::new(DEFAULT_RATE_LIMIT)),
            anonymous_budgets: Arc::new(super::budgets::Budgets::new(DEFAULT_ANONYMOUS_RATE_LIMIT)),
            quotas: Quotas::default(),
            oidc: None,
            admin_passkeys: true,
            webhooks_to_private: false,
            public_url: "http://127.0.0.1:8080".to_owned(),
            secure_cookies: false,
            cors_origins: Vec::new(),
            outbox_wake: Arc::default(),
            schedule_wake: Arc::default(),
            witness: None,
            metrics,
            jobs: Arc::default(),
            traces: false,
        }))
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
        self.engine_within(work, self.plugin_deadline, job).await
    }

    /// [`AppState::engine`], run where the request is when it is plugin-free and small (its
    /// input at most [`INLINE_BYTES`]): scoring a few applications without plugins takes well
    /// under a millisecond, less than the hop to another thread and back.
    pub async fn engine_sized<R, F>(&self, work: Work, size: usize, job: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        if size <= INLINE_BYTES && matches!(work, Work::Award { plugins: false, .. }) {
            return std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
                .map_err(|_| ApiError::Internal("an engine job failed".to_owned()));
        }
        self.engine(work, job).await
    }

    /// [`AppState::engine`] with its own plugin deadline (a job that runs on its own, not
    /// within one request's time).
    pub async fn engine_within<R, F>(
        &self,
        work: Work,
        plugin_deadline: Duration,
        job: F,
    ) -> Result<R, ApiError>
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
        let deadline = std::time::Instant::now() + plugin_deadline;
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
