//! Where the data is: sled in the data folder (the default), or a PostgreSQL database
//! (`--store postgres://…` or `LAUREL_STORE`), shared by several `laurel` processes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::store::{PgOptions, PgStore, SledStore, Store};

/// The options that choose and tune the store.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// A PostgreSQL database instead of sled in the data folder:
    /// `postgres://user:password@host:5432/database`. Several processes may share it.
    #[arg(long = "store", env = "LAUREL_STORE", hide_env_values = true)]
    pub url: Option<String>,
    /// Apply the database's pending schema migrations on start (`laurel migrate` does it
    /// alone).
    #[arg(long)]
    pub migrate: bool,
    /// The most database connections this process keeps open.
    #[arg(long, default_value_t = 8)]
    pub pool_size: usize,
    /// The longest one database statement may run, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub statement_timeout_ms: u64,
    /// Certificate authorities (PEM) trusted for the database's TLS certificate besides the
    /// public ones. TLS follows the URL's `sslmode` (`prefer` by default; `require` insists).
    #[arg(long, env = "LAUREL_STORE_CA_FILE")]
    pub store_ca_file: Option<std::path::PathBuf>,
}

impl StoreArgs {
    /// The PostgreSQL options, when the data is there.
    pub fn pg_options(&self) -> Option<PgOptions> {
        self.url.as_ref().map(|url| PgOptions {
            pool_size: self.pool_size,
            statement_timeout: Duration::from_millis(self.statement_timeout_ms),
            ca_file: self.store_ca_file.clone(),
            ..PgOptions::new(url)
        })
    }

    /// Opens the store: the database, or sled in `<data>/db`.
    pub fn open(&self, data: &Path) -> anyhow::Result<Arc<dyn Store>> {
        if let Some(options) = self.pg_options() {
            return Ok(Arc::new(open_pg(options, self.migrate)?));
        }
        let store = SledStore::open(&data.join("db")).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Arc::new(store))
    }
}

/// Opens a database, its schema migrated first when asked.
pub fn open_pg(options: PgOptions, migrate: bool) -> anyhow::Result<PgStore> {
    PgStore::open(options, migrate).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Whether `text` names a PostgreSQL database rather than a folder.
pub fn is_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}
