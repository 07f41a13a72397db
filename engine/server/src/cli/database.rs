//! `laurel migrate` and `laurel copy`: a PostgreSQL database's schema, and moving an
//! installation between a data folder and a database (either way), verified on both sides.

use std::path::Path;
use std::process::ExitCode;

use super::store_args::{StoreArgs, is_url, open_pg};
use super::{EXIT_INVALID, EXIT_OK};
use crate::store::{MemoryStore, PgOptions, Store, Tree, TreeEntries, redact, verify_store};

/// Applies the database's pending migrations.
pub fn migrate(args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let options = args.pg_options().ok_or_else(|| {
        anyhow::anyhow!("give the database: `--store postgres://…` or LAUREL_STORE")
    })?;
    let url = redact(&options.url);
    let store = open_pg(options, true)?;
    let (version, _) = store.schema_version().map_err(|e| anyhow::anyhow!("{e}"))?;
    outln!("{url}: schema at version {version}, up to date");
    Ok(ExitCode::from(EXIT_OK))
}

/// Checks a store's entries as `laurel audit verify` does: the chain, and every value as the
/// chain last wrote it. Returns the number of records and the last hash.
pub fn verified(entries: &TreeEntries, which: &str) -> anyhow::Result<(usize, String)> {
    let memory = MemoryStore::default();
    memory
        .restore(entries.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (records, problems) = verify_store(&memory, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        problems.is_empty(),
        "{which}: the audit chain does not verify ({}): nothing is copied; `laurel salvage` recovers what it vouches for",
        problems.join("; ")
    );
    let last = records
        .last()
        .map_or_else(|| "none".to_owned(), |r| r.hash.clone());
    Ok((records.len(), last))
}

/// Copies everything from `from` to `to` (a data folder or a database URL, either way), into
/// an empty target; verifies the chain on both sides and compares every record.
pub fn copy(from: &str, to: &str, migrate: bool) -> anyhow::Result<ExitCode> {
    let source = super::source::entries(from)?;
    let (records, last) = verified(&source, "the source")?;
    let target: Box<dyn Store> = if is_url(to) {
        Box::new(open_pg(PgOptions::new(to), migrate)?)
    } else {
        let db = Path::new(to).join("db");
        anyhow::ensure!(
            !db.exists(),
            "`{to}` already holds a data folder: copy into a new one"
        );
        crate::store::folders::create(Path::new(to))?;
        Box::new(crate::store::SledStore::open(&db).map_err(|e| anyhow::anyhow!("{e}"))?)
    };
    for tree in Tree::ALL {
        anyhow::ensure!(
            target
                .scan(tree, b"")
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .is_empty(),
            "the target is not empty (`{}` has records): copy into an empty database or a new folder",
            tree.name()
        );
    }
    target
        .restore(source.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(target);
    let copied = super::source::entries(to)?;
    let (records_after, last_after) = verified(&copied, "the copy")?;
    let mut a = source.clone();
    let mut b = copied;
    a.sort();
    b.sort();
    if a != b || (records, &last) != (records_after, &last_after) {
        outln!(
            "the copy differs from the source: {} records against {}",
            b.len(),
            a.len()
        );
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    outln!(
        "copied {} records ({records} audit records, chain intact on both sides, last hash {last}) from {} to {}",
        a.len(),
        shown(from),
        shown(to)
    );
    Ok(ExitCode::from(EXIT_OK))
}

fn shown(place: &str) -> String {
    if is_url(place) {
        redact(place)
    } else {
        place.to_owned()
    }
}
