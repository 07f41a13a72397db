//! Long computations run as jobs: started by one request (`202 Accepted` and where to look),
//! followed by others (how far it has come). A job's state and answer are records in the store
//! (`domain::jobs`), so any process answers for it; its progress is counted here, in the
//! process that runs it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// The most jobs one process runs at once.
const MOST_RUNNING: usize = 8;

/// Where a job stands, as `GET …/jobs/{job}` answers.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JobStatus {
    /// The job.
    pub id: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// Steps done (for a diagnosis: scenarios scored); counted by the process that runs it
    /// (another process answers 0 until the job is done).
    pub done: u32,
    /// Steps in all (0 until counted).
    pub total: u32,
    /// Its answer, once done (a diagnosis job's: the diagnosis).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<laurel::Diagnosis>")]
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

    /// (done, total).
    pub fn get(&self) -> (u32, u32) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// The jobs running in this process, with their progress (their state and answers are in the
/// store, for every process to read).
#[derive(Debug, Default)]
pub struct Jobs {
    running: Mutex<HashMap<String, Arc<Progress>>>,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Progress>>> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers job `id` as running here; `None` when too many already are.
    pub fn start(&self, id: &str) -> Option<Arc<Progress>> {
        let mut running = self.lock();
        if running.len() >= MOST_RUNNING {
            return None;
        }
        let progress = Arc::new(Progress::default());
        running.insert(id.to_owned(), progress.clone());
        Some(progress)
    }

    /// Job `id`'s progress, when it runs here.
    pub fn progress(&self, id: &str) -> Option<(u32, u32)> {
        self.lock().get(id).map(|p| p.get())
    }

    /// Job `id` no longer runs here.
    pub fn end(&self, id: &str) {
        self.lock().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_counts_while_it_runs_here() {
        let jobs = Jobs::default();
        let p = jobs.start("j1").unwrap();
        p.set(3, 10);
        assert_eq!(jobs.progress("j1"), Some((3, 10)));
        jobs.end("j1");
        assert_eq!(jobs.progress("j1"), None);
    }
}
