//! The chain's transactions on PostgreSQL (see `pg_seal`): beginning a seal under the chain's
//! lock, sealing what waits (a commit's own entry with the others, or a process's group), and
//! reading the records of entries another process sealed.

use std::collections::BTreeMap;

use super::pg_conn::{Columns, Conn, Statements, in_order, pg};
use super::pg_seal::{COMMIT_LOCK, MOST_AT_ONCE, Pending, Sealed, seal};
use super::{AuditRecord, StoreError};

/// The id a commit's own entry has while it seals it in its own transaction (no row's).
pub(super) const MINE: i64 = -1;

/// Entries waiting, as [`begin_sealing`] (or a snapshot) read them: id and entry.
pub(super) fn pending_rows(
    rows: &[tokio_postgres::Row],
) -> Result<Vec<(i64, Pending)>, StoreError> {
    rows.iter()
        .map(|r| {
            let id: i64 = r.get(0);
            serde_json::from_slice(r.get(1))
                .map(|entry| (id, entry))
                .map_err(|e| StoreError::Corrupt("audit", format!("pending entry {id}: {e}")))
        })
        .collect()
}

/// Begins a sealing transaction (its commit need not be flushed unless it seals: the rows it
/// removes only say that entries were answered): the chain's lock, then the entries of `ids`
/// that another sealed (taken: id, number, record), the chain's last record and the entries
/// waiting.
pub(super) async fn begin_sealing(
    cl: &tokio_postgres::Client,
    s: &Statements,
    ids: &[i64],
) -> Result<
    (
        Vec<tokio_postgres::Row>,
        tokio_postgres::Row,
        Vec<tokio_postgres::Row>,
    ),
    tokio_postgres::Error,
> {
    let taken: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&ids];
    let (_, _, taken, last, waiting) = tokio::try_join!(
        biased;
        cl.batch_execute("BEGIN; SET LOCAL synchronous_commit TO off"),
        cl.execute(&s.lock_one, &[&COMMIT_LOCK]),
        cl.query(&s.take_sealed, &taken),
        cl.query_one(&s.last_audit, &[&super::audit_index::FROM]),
        cl.query(&s.unsealed, &[&MOST_AT_ONCE]),
    )?;
    Ok((taken, last, waiting))
}

/// Has the entries `ids` (committed, waiting) sealed, on `c`: those another process sealed
/// meanwhile are read, and every entry waiting is sealed, in one transaction (more, in the rare
/// case that more wait than one seals). Returns each entry's record.
pub(super) fn seal_group(
    c: &mut Conn,
    s: &Statements,
    ids: &[i64],
) -> Result<BTreeMap<i64, AuditRecord>, StoreError> {
    let mut out = BTreeMap::new();
    let mut left: Vec<i64> = ids.to_vec();
    while !left.is_empty() {
        let (taken, last, waiting) = c
            .driver
            .run(begin_sealing(&c.client, s, &left))
            .map_err(pg)?;
        for row in taken {
            let (id, value): (i64, Option<Vec<u8>>) = (row.get(0), row.get(2));
            let record = value
                .ok_or_else(|| {
                    StoreError::Corrupt("audit", format!("entry {id} sealed but not written"))
                })
                .and_then(|v| {
                    serde_json::from_slice(&v)
                        .map_err(|e| StoreError::Corrupt("audit", e.to_string()))
                })?;
            out.insert(id, record);
        }
        if waiting.is_empty() {
            c.driver.run(c.client.batch_execute("COMMIT")).map_err(pg)?;
        } else {
            let own: Vec<i64> = left
                .iter()
                .copied()
                .filter(|i| !out.contains_key(i))
                .collect();
            for (id, record) in seal_waiting(c, s, &own, &last, &pending_rows(&waiting)?)? {
                if own.contains(&id) {
                    out.insert(id, record);
                }
            }
        }
        let before = left.len();
        left.retain(|i| !out.contains_key(i));
        if left.len() == before && waiting.is_empty() {
            return Err(StoreError::Corrupt(
                "audit",
                format!("entries {left:?} are neither waiting nor sealed"),
            ));
        }
    }
    Ok(out)
}

/// Seals the entries `waiting` after the chain's `last` record (as [`begin_sealing`] read them,
/// the chain's lock held), removes the rows of `own` (the sealer's, answered by it) and marks
/// the others' for their commits, and commits durably. Returns the records made.
pub(super) fn seal_waiting(
    c: &mut Conn,
    s: &Statements,
    own: &[i64],
    last: &tokio_postgres::Row,
    pending: &[(i64, Pending)],
) -> Result<Vec<(i64, AuditRecord)>, StoreError> {
    let chain_last: Option<(Vec<u8>, Vec<u8>)> = last
        .get::<_, Option<Vec<u8>>>(0)
        .zip(last.get::<_, Option<Vec<u8>>>(1));
    let Sealed { records, writes } = seal(
        chain_last
            .as_ref()
            .map(|(k, v)| (k.as_slice(), v.as_slice())),
        last.get(2),
        pending,
    )?;
    let mut cols = Columns::default();
    for (tree, key, value) in &writes {
        cols.push(tree.name(), key, Some(value));
    }
    let seqs: Vec<(i64, i64)> = records
        .iter()
        .map(|(i, r)| (*i, r.seq as i64))
        .filter(|(i, _)| *i != MINE && !own.contains(i))
        .collect();
    let marks: Vec<[&(dyn tokio_postgres::types::ToSql + Sync); 2]> =
        seqs.iter().map(|(i, seq)| [i as _, seq as _]).collect();
    let values: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
        [&cols.trees, &cols.keys, &cols.values];
    let mine: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&own];
    let (d, cl) = (&mut c.driver, &c.client);
    d.run(async {
        tokio::try_join!(
        biased;
        cl.batch_execute("SET LOCAL synchronous_commit TO on"),
        cl.execute(&s.upsert_many, &values),
        in_order(
            marks
            .iter()
            .map(|params| Box::pin(cl.execute(&s.mark_sealed, params)))
            .collect()
        ),
        async {
            if own.is_empty() {
                Ok(0)
            } else {
                cl.execute(&s.delete_pending, &mine).await
            }
        },
        cl.batch_execute("COMMIT"),
        )
    })
    .map_err(pg)?;
    Ok(records)
}
