//! Jobs' records in the store, so that any process of an installation answers for a job:
//! started (audited, by whom and with what), then done with its answer or failed with why
//! (audited). Records older than an hour go when the next job starts. The progress of a
//! running job is counted by the process that runs it ([`crate::server::jobs`]).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::server::error::ApiError;
use crate::server::jobs::JobStatus;
use crate::server::state::AppState;
use crate::server::tx::Tx;
use crate::store::{AuditEntry, Tree, key, prefix};

/// How long a job's record is kept after it started.
const KEPT_SECONDS: i64 = 3600;
/// A running job not finished this long after it started has lost its process.
const LOST_SECONDS: i64 = 900;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct JobRecord {
    /// The award whose job it is (a caller reads only its award's jobs).
    award: String,
    state: String,
    /// Wall-clock start (not the server's rehearsal clock: records expire in real time).
    started: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    done: u32,
    #[serde(default)]
    total: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

fn record_key(id: &str) -> Vec<u8> {
    key(&[b"job", id.as_bytes()])
}

/// Records job `id` of `award` as started, by `audit`'s actor; removes records past their
/// hour in the same commit.
pub(crate) fn started(
    state: &AppState,
    id: &str,
    award: &str,
    audit: AuditEntry,
) -> Result<(), ApiError> {
    let now = chrono::Utc::now();
    let mut tx = Tx::new(state);
    for (k, v) in state.store.scan(Tree::Meta, &prefix(&[b"job"]))? {
        let old = serde_json::from_slice::<JobRecord>(&v)
            .map(|r| (now - r.started).num_seconds() > KEPT_SECONDS)
            .unwrap_or(true);
        if old {
            tx.delete(Tree::Meta, k);
        }
    }
    tx.put(
        Tree::Meta,
        record_key(id),
        &JobRecord {
            award: award.to_owned(),
            state: "running".to_owned(),
            started: now,
            done: 0,
            total: 0,
            result: None,
            problem: None,
        },
    );
    tx.commit(audit)?;
    Ok(())
}

/// Records job `id`'s end: its answer or why it failed, with its final count.
pub(crate) fn finished(
    state: &AppState,
    id: &str,
    actor: String,
    target: String,
    outcome: Result<Value, String>,
    (done, total): (u32, u32),
) -> Result<(), ApiError> {
    let mut tx = Tx::new(state);
    let Some(mut record) = tx.read::<JobRecord>(Tree::Meta, &record_key(id))? else {
        return Ok(()); // expired meanwhile: nobody will ask
    };
    let failed = outcome.is_err();
    match outcome {
        Ok(v) => {
            record.state = "done".to_owned();
            record.result = Some(v);
            record.done = total.max(done);
        }
        Err(e) => {
            record.state = "failed".to_owned();
            record.problem = Some(e);
            record.done = done;
        }
    }
    record.total = total;
    tx.put(Tree::Meta, record_key(id), &record);
    tx.commit(AuditEntry {
        actor,
        action: "diagnosis.finish".to_owned(),
        target,
        detail: json!({ "job": id, "state": if failed { "failed" } else { "done" } }),
    })?;
    Ok(())
}

/// Where job `id` of `award` stands, from any process; `None` when there is no such job.
pub(crate) fn status(
    state: &AppState,
    id: &str,
    award: &str,
) -> Result<Option<JobStatus>, ApiError> {
    let Some(bytes) = state.store.get(Tree::Meta, &record_key(id))? else {
        return Ok(None);
    };
    let Ok(record) = serde_json::from_slice::<JobRecord>(&bytes) else {
        return Ok(None);
    };
    if record.award != award {
        return Ok(None);
    }
    let here = state.jobs.progress(id);
    let lost = record.state == "running"
        && here.is_none()
        && (chrono::Utc::now() - record.started).num_seconds() > LOST_SECONDS;
    let (done, total) = here.unwrap_or((record.done, record.total));
    Ok(Some(JobStatus {
        id: id.to_owned(),
        state: if lost {
            "failed".to_owned()
        } else {
            record.state
        },
        done,
        total,
        result: record.result,
        problem: if lost {
            Some("the server process running it stopped: start it again (the same seed gives the same numbers)".to_owned())
        } else {
            record.problem
        },
    }))
}
