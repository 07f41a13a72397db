//! Work the clock starts: reminders of unmarked assignments before a round closes, and each
//! award's daily digest for its administrators. Each task commits its mails (through the
//! outbox) with a marker in `Tree::Timers`, conditional on the marker's absence or previous
//! value, so a task runs once however many workers look, and a crash before the commit leaves
//! it to run again.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::domain::rounds::{Notify, notify_judges};
use super::error::ApiError;
use super::notices::{Digest, Notice, administrators_of, people_of, send};
use super::records::{
    ApplicationRecord, ApplicationStatus, AwardRecord, Role, RoundRecord, RoundStatus,
};
use super::tx::Tx;
use super::webhooks::{Message, MessageState};
use crate::server::state::AppState;
use crate::store::{AuditEntry, Tree, key, prefix, scan_json};

/// How the clock's work is paced.
#[derive(Debug, Clone)]
pub struct Timing {
    /// How long before a round's `closes` its judges are reminded of what is unmarked.
    pub reminder_lead: Duration,
    /// How often the clock is read.
    pub every: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            reminder_lead: Duration::from_secs(48 * 3_600),
            every: Duration::from_secs(1),
        }
    }
}

/// How often the work that does not wait on the clock's minute is done: forgetting old
/// idempotency answers, and looking again for the administrators of an award that had none.
const SELDOM: Duration = Duration::from_secs(600);

/// What the scheduler remembers between ticks, so that a tick reads little: when it last
/// forgot idempotency answers, and when it last found no administrator for an award's digest.
#[derive(Default)]
struct Memory {
    forgot: Option<std::time::Instant>,
    no_admins: BTreeMap<String, std::time::Instant>,
}

/// The longest the clock's work sleeps with nothing due and no commit waking it: what other
/// processes commit on a shared database does not wake this one, and what a pass finds
/// unchanged (a daily digest with nothing new yet) is looked at again this often.
const IDLE: Duration = Duration::from_secs(60);

/// How soon a pass that failed (the store did not answer) is tried again.
const RETRY: Duration = Duration::from_secs(5);

/// The soonest instant a pass found something due later.
struct Next {
    now: DateTime<Utc>,
    soonest: Option<DateTime<Utc>>,
}

impl Next {
    fn new(now: DateTime<Utc>) -> Self {
        Self { now, soonest: None }
    }

    /// Something becomes due at `at` (ignored if not in the future).
    fn at(&mut self, at: DateTime<Utc>) {
        if at > self.now && self.soonest.is_none_or(|s| at < s) {
            self.soonest = Some(at);
        }
    }

    /// Something becomes due `after` from now.
    fn after(&mut self, after: Duration) {
        if let Ok(d) = chrono::Duration::from_std(after) {
            self.at(self.now + d);
        }
    }

    /// How long to sleep: until the soonest, at least `every`, at most [`IDLE`].
    fn wait(&self, every: Duration) -> Duration {
        self.soonest
            .and_then(|s| (s - self.now).to_std().ok())
            .unwrap_or(IDLE)
            .clamp(every, IDLE.max(every))
    }
}

/// Runs the scheduled work until the process ends. A pass reads the awards and the rounds
/// (few) and a timer per award; what scans more (an award's applications, drafts, deliveries,
/// people) runs only when a reminder or a digest is due, once per award and day. Passes do not
/// run on a fixed tick: the next one comes when the soonest task falls due, when a commit
/// changes what tasks depend on (awards, their versions, rounds, people: `schedule_wake`), a
/// second after it so that a burst is looked at once, or after [`IDLE`] at the latest.
pub async fn run(state: AppState, timing: Timing) {
    let mut memory = Memory::default();
    let mut wait = timing.every;
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = state.schedule_wake.notified() => {
                tokio::time::sleep(timing.every).await;
                // Someone may have been given an award to administer.
                memory.no_admins.clear();
            }
        }
        state
            .metrics
            .scheduler_passes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut next = Next::new(state.now());
        let mut failed = false;
        if let Err(e) = remind_before_close(&state, timing.reminder_lead, &mut next).await {
            tracing::warn!("scheduler (reminders): {e:?}");
            failed = true;
        }
        if let Err(e) = remind_drafts_before_close(&state, timing.reminder_lead, &mut next).await {
            tracing::warn!("scheduler (draft reminders): {e:?}");
            failed = true;
        }
        if let Err(e) = digests(&state, &mut memory.no_admins, &mut next).await {
            tracing::warn!("scheduler (digests): {e:?}");
            failed = true;
        }
        if failed {
            // A store that did not answer: the pass is tried again soon, not in a minute.
            next.after(RETRY);
        }
        if memory.forgot.is_none_or(|t| t.elapsed() >= SELDOM) {
            memory.forgot = Some(std::time::Instant::now());
            if let Err(e) = forget_idempotency(&state) {
                tracing::warn!("scheduler (idempotency keys): {e:?}");
            }
        }
        if let Some(t) = memory.forgot {
            next.after(SELDOM.saturating_sub(t.elapsed()));
        }
        wait = next.wait(timing.every);
    }
}

fn system(action: &str, target: String, detail: serde_json::Value) -> AuditEntry {
    AuditEntry {
        actor: "system (scheduler)".into(),
        action: action.into(),
        target,
        detail,
    }
}

/// Whether a commit lost to another writer (who did the task, or changed what it read).
fn lost_race(e: &ApiError) -> bool {
    matches!(e, ApiError::Conflict(_))
}

/// Reminds the judges of each open round whose `closes` is within `lead` of now, once.
async fn remind_before_close(
    state: &AppState,
    lead: Duration,
    next: &mut Next,
) -> Result<(), ApiError> {
    let now: DateTime<Utc> = state.now();
    let lead = chrono::Duration::from_std(lead).unwrap_or(chrono::Duration::MAX);
    // The open rounds, through their index; every round only in an installation whose
    // index is not built yet.
    let store = state.store.as_ref();
    let rounds: Vec<RoundRecord> = match crate::store::open_rounds::keys(store)? {
        Some(keys) => {
            let mut open = Vec::with_capacity(keys.len());
            for k in keys {
                open.extend(crate::store::get_json::<RoundRecord>(
                    store,
                    Tree::Rounds,
                    &k,
                )?);
            }
            open
        }
        None => scan_json(store, Tree::Rounds, b"")?,
    };
    for r in rounds.into_iter().filter(|r| r.status == RoundStatus::Open) {
        let loaded = state.loaded(&r.award, r.version).await?;
        let Some(closes) = loaded
            .award
            .judging_rounds()
            .into_iter()
            .find(|s| s.id == r.round)
            .and_then(|s| s.closes)
        else {
            continue;
        };
        let Ok(at) = laurel::parse_instant(&closes, &loaded.award.timeline.time_zone) else {
            continue;
        };
        let at = at.to_utc();
        next.at(at - lead);
        if !(at - lead <= now && now < at) {
            continue;
        }
        let marker = key(&[
            b"reminder",
            r.award.as_bytes(),
            r.round.as_bytes(),
            at.to_rfc3339().as_bytes(),
        ]);
        if state.store.get(Tree::Timers, &marker)?.is_some() {
            continue;
        }
        let mut tx = Tx::new(state);
        tx.absent(Tree::Timers, &marker)?;
        let Some(round) = tx.read::<RoundRecord>(
            Tree::Rounds,
            &key(&[r.award.as_bytes(), r.round.as_bytes()]),
        )?
        else {
            continue;
        };
        let record: AwardRecord = match tx.read(Tree::Awards, r.award.as_bytes())? {
            Some(a) => a,
            None => continue,
        };
        let reminded = notify_judges(state, &mut tx, &record, &loaded, &round, Notify::Reminder)?;
        tx.put(
            Tree::Timers,
            marker,
            &json!({ "at": now.to_rfc3339(), "reminded": reminded }),
        );
        match tx.commit(system(
            "round.remind_before_close",
            format!("{}/{}", r.award, r.round),
            json!({ "closes": at.to_rfc3339(), "reminded": reminded }),
        )) {
            Err(e) if lost_race(&e) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Reminds each applicant whose application is still a draft, once, when an open call closes
/// within `lead` of now (switchable as `draft_reminder`, written in the award's words where
/// it wrote them).
async fn remind_drafts_before_close(
    state: &AppState,
    lead: Duration,
    next: &mut Next,
) -> Result<(), ApiError> {
    let now: DateTime<Utc> = state.now();
    let lead = chrono::Duration::from_std(lead).unwrap_or(chrono::Duration::MAX);
    let awards: Vec<AwardRecord> = scan_json(state.store.as_ref(), Tree::Awards, b"")?;
    for record in awards
        .into_iter()
        .filter(|a| a.state == crate::server::records::AwardState::Open)
    {
        let Some(version) = record.current() else {
            continue;
        };
        let loaded = state.loaded(&record.id, version).await?;
        let (_, closes) = record.window(&loaded.award);
        next.at(closes - lead);
        if !(closes - lead <= now && now < closes) {
            continue;
        }
        let marker = key(&[
            b"drafts",
            record.id.as_bytes(),
            closes.to_rfc3339().as_bytes(),
        ]);
        if state.store.get(Tree::Timers, &marker)?.is_some() {
            continue;
        }
        let submitted: std::collections::BTreeSet<String> =
            scan_json::<crate::server::records::ApplicationRecord>(
                state.store.as_ref(),
                Tree::Applications,
                &prefix(&[record.id.as_bytes()]),
            )?
            .into_iter()
            .filter(|a| a.status == crate::server::records::ApplicationStatus::Submitted)
            .map(|a| a.owner)
            .collect();
        let owners: Vec<String> = state
            .store
            .keys(Tree::Drafts, &prefix(&[record.id.as_bytes()]))?
            .into_iter()
            .filter_map(|k| {
                let owner = k.rsplit(|b| *b == 0).next()?;
                Some(String::from_utf8_lossy(owner).into_owned())
            })
            .filter(|o| !submitted.contains(o))
            .collect();
        let people =
            crate::server::notices::people_named(state, owners.iter().map(String::as_str))?;
        let shown = laurel::show_instant(closes.fixed_offset(), &loaded.award.timeline.time_zone);
        let mut tx = Tx::new(state);
        tx.absent(Tree::Timers, &marker)?;
        tx.read::<AwardRecord>(Tree::Awards, record.id.as_bytes())?;
        let mut reminded = 0;
        for person in &people {
            if crate::server::notices::send(
                state,
                &mut tx,
                &record.notifications,
                (&record.id, Some(&loaded)),
                person,
                &crate::server::notices::Notice::DraftReminder { closes: &shown },
            )? {
                reminded += 1;
            }
        }
        tx.put(
            Tree::Timers,
            marker,
            &json!({ "at": now.to_rfc3339(), "reminded": reminded }),
        );
        match tx.commit(system(
            "award.remind_drafts_before_close",
            record.id.clone(),
            json!({ "closes": closes.to_rfc3339(), "reminded": reminded }),
        )) {
            Err(e) if lost_race(&e) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Forgets first answers kept for `Idempotency-Key`s more than a day old.
fn forget_idempotency(state: &AppState) -> Result<(), ApiError> {
    let day_ago = chrono::Utc::now() - chrono::Duration::hours(24);
    let mut tx = Tx::new(state);
    let mut forgotten = 0;
    for (k, v) in state.store.scan(Tree::Idempotency, b"")? {
        let at = serde_json::from_slice::<serde_json::Value>(&v)
            .ok()
            .and_then(|v| v["at"].as_str().map(str::to_owned))
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok());
        if at.is_none_or(|at| at.to_utc() < day_ago) {
            tx.delete(Tree::Idempotency, k);
            forgotten += 1;
        }
    }
    if forgotten > 0 {
        match tx.commit(system(
            "idempotency.forget",
            String::new(),
            json!({ "forgotten": forgotten }),
        )) {
            Err(e) if lost_race(&e) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// The last digest of an award.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LastDigest {
    /// The day (UTC) it was sent.
    day: String,
    /// Applications received until then (withdrawn ones too).
    received: usize,
    /// What it told.
    digest: Digest,
}

/// Sends each award's administrators a digest, once a day, when something changed. Only the
/// awards whose digest of the day is still to send are read further (an award without
/// administrators is looked at again after [`SELDOM`]).
async fn digests(
    state: &AppState,
    no_admins: &mut BTreeMap<String, std::time::Instant>,
    next: &mut Next,
) -> Result<(), ApiError> {
    let today = state.now().date_naive().to_string();
    // Tomorrow's digests, and awards without administrators looked at again.
    if let Some(midnight) = (state.now().date_naive() + chrono::Days::new(1)).and_hms_opt(0, 0, 0) {
        next.at(midnight.and_utc());
    }
    for t in no_admins.values() {
        next.after(SELDOM.saturating_sub(t.elapsed()));
    }
    let mut due = Vec::new();
    for award in scan_json::<AwardRecord>(state.store.as_ref(), Tree::Awards, b"")? {
        if award.notifications.get("digest") == Some(&false)
            || no_admins
                .get(&award.id)
                .is_some_and(|t| t.elapsed() < SELDOM)
        {
            continue;
        }
        let marker = key(&[b"digest", award.id.as_bytes()]);
        let last: Option<LastDigest> =
            crate::store::get_json(state.store.as_ref(), Tree::Timers, &marker)?;
        if last.as_ref().is_none_or(|l| l.day != today) {
            due.push(award);
        }
    }
    if due.is_empty() {
        return Ok(());
    }
    // Messages waiting in the outbox that were given up on (they leave it when delivered).
    let mut failed_waiting: BTreeMap<String, usize> = BTreeMap::new();
    for m in scan_json::<Message>(state.store.as_ref(), Tree::Outbox, b"")?
        .into_iter()
        .filter(|m| m.state == MessageState::Failed)
    {
        *failed_waiting.entry(m.award).or_insert(0) += 1;
    }
    for award in due {
        let people = people_of(state, &award.id, &[Role::Admin])?;
        let admins = administrators_of(&people, &award.id);
        if admins.is_empty() {
            no_admins.insert(award.id.clone(), std::time::Instant::now());
            continue;
        }
        no_admins.remove(&award.id);
        let marker = key(&[b"digest", award.id.as_bytes()]);
        let mut tx = Tx::new(state);
        let last: Option<LastDigest> = tx.read(Tree::Timers, &marker)?;
        if last.as_ref().is_some_and(|l| l.day == today) {
            continue;
        }
        let failed_deliveries = failed_waiting.get(&award.id).copied().unwrap_or(0)
            + scan_json::<Message>(
                state.store.as_ref(),
                Tree::Deliveries,
                &prefix(&[award.id.as_bytes()]),
            )?
            .into_iter()
            .filter(|m| m.state == MessageState::Failed)
            .count();
        let (digest, received) = summary(state, &award.id, failed_deliveries)?;
        let digest = Digest {
            new: received.saturating_sub(last.as_ref().map_or(0, |l| l.received)),
            ..digest
        };
        if last.as_ref().is_some_and(|l| {
            Digest {
                new: 0,
                audit_head: None,
                ..l.digest.clone()
            } == Digest {
                new: 0,
                audit_head: None,
                ..digest.clone()
            }
        }) {
            continue; // nothing happened since the last digest
        }
        let loaded = current(state, &award).await;
        let mut sent = 0;
        for person in admins {
            if send(
                state,
                &mut tx,
                &award.notifications,
                (&award.id, loaded.as_deref()),
                person,
                &Notice::Digest(&digest),
            )? {
                sent += 1;
            }
        }
        tx.put(
            Tree::Timers,
            marker,
            &LastDigest {
                day: today.clone(),
                received,
                digest,
            },
        );
        match tx.commit(system(
            "award.digest",
            award.id.clone(),
            json!({ "sent": sent, "day": today }),
        )) {
            Err(e) if lost_race(&e) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// The award's current version, loaded, while it has one.
async fn current(
    state: &AppState,
    award: &AwardRecord,
) -> Option<std::sync::Arc<crate::server::state::Loaded>> {
    state.loaded(&award.id, award.current()?).await.ok()
}

/// What an award's digest tells now, and how many applications it received in all.
fn summary(
    state: &AppState,
    award: &str,
    failed_deliveries: usize,
) -> Result<(Digest, usize), ApiError> {
    let apps: Vec<ApplicationRecord> = scan_json(
        state.store.as_ref(),
        Tree::Applications,
        &prefix(&[award.as_bytes()]),
    )?;
    let mut applications = BTreeMap::new();
    let mut withdrawn = 0;
    for a in &apps {
        if a.status == ApplicationStatus::Withdrawn {
            withdrawn += 1;
            continue;
        }
        let status = a
            .eligibility
            .get("status")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        *applications.entry(status).or_insert(0) += 1;
    }
    let mut rounds = Vec::new();
    let open: Vec<RoundRecord> = scan_json(
        state.store.as_ref(),
        Tree::Rounds,
        &prefix(&[award.as_bytes()]),
    )?;
    for r in open.into_iter().filter(|r| r.status == RoundStatus::Open) {
        let assigned: usize = r.assignments.values().map(Vec::len).sum();
        let marked = state
            .store
            .scan(
                Tree::RoundMarks,
                &prefix(&[award.as_bytes(), r.round.as_bytes()]),
            )?
            .len();
        rounds.push((r.round, marked.min(assigned), assigned));
    }
    Ok((
        Digest {
            applications,
            withdrawn,
            new: 0,
            rounds,
            failed_deliveries,
            audit_head: crate::store::head(state.store.as_ref())?.map(|r| (r.seq, r.hash)),
        },
        apps.len(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_sleeps_until_the_soonest_due_time_within_bounds() {
        let every = Duration::from_secs(1);
        let now = Utc::now();
        let mut next = Next::new(now);
        assert_eq!(next.wait(every), IDLE, "nothing due: the longest sleep");
        next.at(now - chrono::Duration::seconds(5));
        assert_eq!(next.wait(every), IDLE, "a time gone by is not waited for");
        next.at(now + chrono::Duration::seconds(40));
        next.at(now + chrono::Duration::seconds(30));
        assert_eq!(next.wait(every), Duration::from_secs(30), "the soonest");
        next.at(now + chrono::Duration::hours(3));
        assert_eq!(next.wait(every), Duration::from_secs(30));
        next.after(Duration::from_millis(100));
        assert_eq!(next.wait(every), every, "never sooner than `every`");
    }
}
