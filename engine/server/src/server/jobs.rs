//! Long computations run as jobs: started by one request (`202 Accepted` and where to look),
//! followed by others (how far it has come), their answer kept for an hour. A job lives in the
//! process that started it; a server restart forgets it (its caller starts it again: the same
//! seed gives the same numbers).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// How long a finished job's answer is kept.
const KEPT: Duration = Duration::from_secs(3600);
/// The most jobs kept at once (running or finished); the oldest finished go first.
const MOST: usize = 200;

/// Where a job stands, as `GET …/jobs/{job}` answers.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JobStatus {
    /// The job.
    pub id: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// Steps done (for a diagnosis: scenarios scored).
    pub done: u32,
    /// Steps in all (0 until the work has counted them).
    pub total: u32,
    /// Its answer, once done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A job's counters, shared with the work that advances them.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU32,
    total: AtomicU32,
}

impl Progress {
    /// `done` of `total` steps.
    pub fn set(&self, done: u32, total: u32) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Job {
    /// Whose it is: the award (a caller reads only its award's jobs).
    scope: String,
    progress: Arc<Progress>,
    outcome: Option<Result<Value, String>>,
    finished: Option<Instant>,
}

/// The process's jobs.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: Mutex<HashMap<String, Job>>,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a running job under `id` for `scope`; `None` when too many are running.
    pub fn start(&self, id: &str, scope: &str) -> Option<Arc<Progress>> {
        let mut jobs = self.lock();
        let now = Instant::now();
        jobs.retain(|_, j| j.finished.is_none_or(|t| now.duration_since(t) < KEPT));
        while jobs.len() >= MOST {
            let oldest = jobs
                .iter()
                .filter_map(|(k, j)| j.finished.map(|t| (t, k.clone())))
                .min()?;
            jobs.remove(&oldest.1);
        }
        let progress = Arc::new(Progress::default());
        jobs.insert(
            id.to_owned(),
            Job {
                scope: scope.to_owned(),
                progress: progress.clone(),
                outcome: None,
                finished: None,
            },
        );
        Some(progress)
    }

    /// Records the job's answer or failure.
    pub fn finish(&self, id: &str, outcome: Result<Value, String>) {
        if let Some(job) = self.lock().get_mut(id) {
            job.outcome = Some(outcome);
            job.finished = Some(Instant::now());
        }
    }

    /// Where job `id` of `scope` stands; `None` when this process has no such job.
    pub fn status(&self, id: &str, scope: &str) -> Option<JobStatus> {
        let jobs = self.lock();
        let job = jobs.get(id).filter(|j| j.scope == scope)?;
        let (done, total) = (
            job.progress.done.load(Ordering::Relaxed),
            job.progress.total.load(Ordering::Relaxed),
        );
        Some(match &job.outcome {
            None => JobStatus {
                id: id.to_owned(),
                state: "running".to_owned(),
                done,
                total,
                result: None,
                problem: None,
            },
            Some(Ok(v)) => JobStatus {
                id: id.to_owned(),
                state: "done".to_owned(),
                done: total.max(done),
                total,
                result: Some(v.clone()),
                problem: None,
            },
            Some(Err(e)) => JobStatus {
                id: id.to_owned(),
                state: "failed".to_owned(),
                done,
                total,
                result: None,
                problem: Some(e.clone()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_runs_then_answers_only_in_its_scope() {
        let jobs = Jobs::default();
        let p = jobs.start("j1", "award-a").unwrap();
        p.set(3, 10);
        let s = jobs.status("j1", "award-a").unwrap();
        assert_eq!((s.state.as_str(), s.done, s.total), ("running", 3, 10));
        assert!(jobs.status("j1", "award-b").is_none());
        jobs.finish("j1", Ok(serde_json::json!({ "x": 1 })));
        let s = jobs.status("j1", "award-a").unwrap();
        assert_eq!(s.state, "done");
        assert_eq!(s.result, Some(serde_json::json!({ "x": 1 })));
    }
}
